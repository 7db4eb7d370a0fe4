/* SPDX-License-Identifier: MIT */
/*
 * Loads the HSA runtime at run time, so libompiouring has no link-time AMD
 * dependency. The soname is libhsa-runtime64.so.1: when libomptarget's AMDGPU
 * plugin already opened the runtime (it asks for "libhsa-runtime64.so"), the
 * loader matches the soname and hands back that same instance, so agents and
 * pools are the very objects the plugin uses.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "hsa_api.h"
#include "internal.h"

#define HSA_LIB "libhsa-runtime64.so.1"

int oiu_hsa_load(struct oiu_hsa_api *api) {
  if (api->lib)
    return 0;
  void *lib = dlopen(HSA_LIB, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    oiu_warn("AMD GPU: cannot load the HSA runtime (%s); device I/O is off for AMD devices",
             dlerror());
    return -ENOENT;
  }
  struct oiu_hsa_api a = {.lib = lib};
#define SYM(field, name)                                                                  \
  if (!(*(void **)&a.field = dlsym(lib, name))) {                                         \
    oiu_warn("AMD GPU: " HSA_LIB " lacks %s (ROCm too old?); device I/O is off for AMD "  \
             "devices", name);                                                            \
    dlclose(lib);                                                                         \
    return -ENOSYS;                                                                       \
  }
  SYM(init, "hsa_init")
  SYM(shut_down, "hsa_shut_down")
  SYM(status_string, "hsa_status_string")
  SYM(iterate_agents, "hsa_iterate_agents")
  SYM(agent_get_info, "hsa_agent_get_info")
  SYM(iterate_pools, "hsa_amd_agent_iterate_memory_pools")
  SYM(pool_get_info, "hsa_amd_memory_pool_get_info")
  SYM(agent_pool_get_info, "hsa_amd_agent_memory_pool_get_info")
  SYM(lock_to_pool, "hsa_amd_memory_lock_to_pool")
  SYM(unlock, "hsa_amd_memory_unlock")
  SYM(pool_allocate, "hsa_amd_memory_pool_allocate")
  SYM(pool_free, "hsa_amd_memory_pool_free")
  SYM(allow_access, "hsa_amd_agents_allow_access")
  SYM(fill, "hsa_amd_memory_fill")
#undef SYM
  *api = a;
  return 0;
}

const char *oiu_hsa_strerror(const struct oiu_hsa_api *api, oiu_hsa_status s) {
  static __thread char fallback[32];
  const char *str = NULL;
  if (api->status_string && api->status_string(s, &str) == OIU_HSA_STATUS_SUCCESS && str)
    return str;
  snprintf(fallback, sizeof fallback, "HSA status 0x%x", (unsigned)s);
  return fallback;
}
