/* SPDX-License-Identifier: MIT */
/*
 * plugin/hsa_api.h declares the HSA ABI itself (the library is built without
 * ROCm headers). Here, where <hsa/hsa.h> is installed, every value and type it
 * declares is checked against the real headers at compile time, and so is
 * the prototype of every entry point the loader looks up. (That the runtime
 * exports them all is checked by "hsa_backend real", which loads it.)
 */
#include <hsa/hsa.h>
#include <hsa/hsa_ext_amd.h>
#include <stdio.h>

#include "hsa_api.h"

#define SAME(ours, theirs) _Static_assert((long)(ours) == (long)(theirs), #ours " == " #theirs)
SAME(OIU_HSA_STATUS_SUCCESS, HSA_STATUS_SUCCESS);
SAME(OIU_HSA_STATUS_INFO_BREAK, HSA_STATUS_INFO_BREAK);
SAME(OIU_HSA_STATUS_ERROR_OUT_OF_RESOURCES, HSA_STATUS_ERROR_OUT_OF_RESOURCES);
SAME(OIU_HSA_AGENT_INFO_NAME, HSA_AGENT_INFO_NAME);
SAME(OIU_HSA_AGENT_INFO_DEVICE, HSA_AGENT_INFO_DEVICE);
SAME(OIU_HSA_AGENT_INFO_FEATURE, HSA_AGENT_INFO_FEATURE);
SAME(OIU_HSA_AGENT_FEATURE_KERNEL_DISPATCH, HSA_AGENT_FEATURE_KERNEL_DISPATCH);
SAME(OIU_HSA_DEVICE_TYPE_CPU, HSA_DEVICE_TYPE_CPU);
SAME(OIU_HSA_DEVICE_TYPE_GPU, HSA_DEVICE_TYPE_GPU);
SAME(OIU_HSA_AMD_SEGMENT_GLOBAL, HSA_AMD_SEGMENT_GLOBAL);
SAME(OIU_HSA_POOL_INFO_SEGMENT, HSA_AMD_MEMORY_POOL_INFO_SEGMENT);
SAME(OIU_HSA_POOL_INFO_GLOBAL_FLAGS, HSA_AMD_MEMORY_POOL_INFO_GLOBAL_FLAGS);
SAME(OIU_HSA_POOL_INFO_SIZE, HSA_AMD_MEMORY_POOL_INFO_SIZE);
SAME(OIU_HSA_POOL_INFO_RUNTIME_ALLOC_ALLOWED, HSA_AMD_MEMORY_POOL_INFO_RUNTIME_ALLOC_ALLOWED);
SAME(OIU_HSA_POOL_FLAG_KERNARG_INIT, HSA_AMD_MEMORY_POOL_GLOBAL_FLAG_KERNARG_INIT);
SAME(OIU_HSA_POOL_FLAG_FINE_GRAINED, HSA_AMD_MEMORY_POOL_GLOBAL_FLAG_FINE_GRAINED);
SAME(OIU_HSA_POOL_FLAG_COARSE_GRAINED, HSA_AMD_MEMORY_POOL_GLOBAL_FLAG_COARSE_GRAINED);
SAME(OIU_HSA_AGENT_POOL_INFO_ACCESS, HSA_AMD_AGENT_MEMORY_POOL_INFO_ACCESS);
SAME(OIU_HSA_POOL_ACCESS_NEVER_ALLOWED, HSA_AMD_MEMORY_POOL_ACCESS_NEVER_ALLOWED);
SAME(sizeof(oiu_hsa_status), sizeof(hsa_status_t));
SAME(sizeof(oiu_hsa_agent), sizeof(hsa_agent_t));
SAME(sizeof(oiu_hsa_pool), sizeof(hsa_amd_memory_pool_t));
SAME(sizeof(((struct oiu_hsa_pool_info *)0)->segment), sizeof(hsa_amd_segment_t));
SAME(sizeof(((struct oiu_hsa_pool_info *)0)->alloc_allowed), sizeof(bool));

/*
 * The entry points: X(field of struct oiu_hsa_api, runtime function, return
 * type, parameters) written once with the runtime's types. Expanded first as
 * is: the runtime's declaration must have that type. Expanded again with our
 * names for the types (same layout; enums are ints): the loader's field must
 * have that type.
 */
#define ENTRY_POINTS(X)                                                                   \
  X(init, hsa_init, hsa_status_t, void)                                                   \
  X(shut_down, hsa_shut_down, hsa_status_t, void)                                         \
  X(status_string, hsa_status_string, hsa_status_t, hsa_status_t, const char **)          \
  X(iterate_agents, hsa_iterate_agents, hsa_status_t,                                     \
    hsa_status_t (*)(hsa_agent_t, void *), void *)                                        \
  X(agent_get_info, hsa_agent_get_info, hsa_status_t, hsa_agent_t, hsa_agent_info_t, void *) \
  X(iterate_pools, hsa_amd_agent_iterate_memory_pools, hsa_status_t, hsa_agent_t,         \
    hsa_status_t (*)(hsa_amd_memory_pool_t, void *), void *)                              \
  X(pool_get_info, hsa_amd_memory_pool_get_info, hsa_status_t, hsa_amd_memory_pool_t,     \
    hsa_amd_memory_pool_info_t, void *)                                                   \
  X(agent_pool_get_info, hsa_amd_agent_memory_pool_get_info, hsa_status_t, hsa_agent_t,   \
    hsa_amd_memory_pool_t, hsa_amd_agent_memory_pool_info_t, void *)                      \
  X(lock_to_pool, hsa_amd_memory_lock_to_pool, hsa_status_t, void *, size_t,              \
    hsa_agent_t *, int, hsa_amd_memory_pool_t, uint32_t, void **)                         \
  X(unlock, hsa_amd_memory_unlock, hsa_status_t, void *)                                  \
  X(pool_allocate, hsa_amd_memory_pool_allocate, hsa_status_t, hsa_amd_memory_pool_t,     \
    size_t, uint32_t, void **)                                                            \
  X(pool_free, hsa_amd_memory_pool_free, hsa_status_t, void *)                            \
  X(allow_access, hsa_amd_agents_allow_access, hsa_status_t, uint32_t,                    \
    const hsa_agent_t *, const uint32_t *, const void *)                                  \
  X(fill, hsa_amd_memory_fill, hsa_status_t, void *, uint32_t, size_t)

#define REAL(field, fn, ret, ...)                                                         \
  _Static_assert(__builtin_types_compatible_p(__typeof__(&fn), ret (*)(__VA_ARGS__)), #fn);
ENTRY_POINTS(REAL)

#define hsa_status_t oiu_hsa_status
#define hsa_agent_t oiu_hsa_agent
#define hsa_amd_memory_pool_t oiu_hsa_pool
#define hsa_agent_info_t int
#define hsa_amd_memory_pool_info_t int
#define hsa_amd_agent_memory_pool_info_t int
#define OURS(field, fn, ret, ...)                                                         \
  _Static_assert(__builtin_types_compatible_p(__typeof__(((struct oiu_hsa_api *)0)->field), \
                                              ret (*)(__VA_ARGS__)), #field);
ENTRY_POINTS(OURS)
#undef hsa_status_t
#undef hsa_agent_t
#undef hsa_amd_memory_pool_t
#undef hsa_agent_info_t
#undef hsa_amd_memory_pool_info_t
#undef hsa_amd_agent_memory_pool_info_t

int main(void) {
  puts("plugin/hsa_api.h agrees with <hsa/hsa.h> and <hsa/hsa_ext_amd.h> (checked when compiled)");
  return 0;
}
