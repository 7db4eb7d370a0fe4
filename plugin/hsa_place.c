/* SPDX-License-Identifier: MIT */
/*
 * Where an AMD device's channel lives: which GPU agent is the device, which
 * CPU pool gives the shared region its access properties, which VRAM pool
 * holds the device-local block.
 */
#include <errno.h>
#include <string.h>

#include "hsa_api.h"
#include "internal.h"

/*
 * Shared region: a CPU agent's global pool that is fine-grained (GPU stores
 * reach the CPU and the kernel without a cache flush, system-scope atomics
 * hold) and open to the application. ROCr also marks the pool it fills kernel
 * arguments from (KERNARG_INIT); it is fine-grained system memory too, but a
 * plain fine-grained pool is taken first when there is one.
 *
 * Device-local block: the GPU's own global pool; coarse-grained first (device
 * atomics stay in the GPU's L2), a fine-grained VRAM pool otherwise.
 */
int oiu_hsa_pool_score(const struct oiu_hsa_pool_info *p, enum oiu_hsa_use use, size_t need) {
  if (p->segment != OIU_HSA_AMD_SEGMENT_GLOBAL || !p->alloc_allowed)
    return 0;
  if (p->size && p->size < need)
    return 0;
  int fine = !!(p->flags & OIU_HSA_POOL_FLAG_FINE_GRAINED);
  int coarse = !!(p->flags & OIU_HSA_POOL_FLAG_COARSE_GRAINED);
  if (use == OIU_HSA_HOST_SHARED)
    return !fine ? 0 : p->flags & OIU_HSA_POOL_FLAG_KERNARG_INIT ? 1 : 2;
  return coarse ? 2 : fine ? 1 : 0;
}

/*
 * One pass over the agents: the CPUs, and the GPUs that run kernels in the
 * runtime's order. libomptarget's AMDGPU plugin numbers its devices the same
 * way, so the k-th of them is the k-th AMD device of OpenMP.
 */
struct agents {
  const struct oiu_hsa_api *api;
  oiu_hsa_agent gpus[64];
  int ngpus;
  oiu_hsa_agent cpus[64];
  int ncpus;
};

static oiu_hsa_status on_agent(oiu_hsa_agent a, void *data) {
  struct agents *s = data;
  uint32_t type = ~0u;
  oiu_hsa_status st = s->api->agent_get_info(a, OIU_HSA_AGENT_INFO_DEVICE, &type);
  if (st != OIU_HSA_STATUS_SUCCESS)
    return st;
  uint32_t features = 0;
  if (type == OIU_HSA_DEVICE_TYPE_GPU)
    st = s->api->agent_get_info(a, OIU_HSA_AGENT_INFO_FEATURE, &features);
  if (st != OIU_HSA_STATUS_SUCCESS)
    return st;
  if (type == OIU_HSA_DEVICE_TYPE_GPU && (features & OIU_HSA_AGENT_FEATURE_KERNEL_DISPATCH) &&
      s->ngpus < 64)
    s->gpus[s->ngpus++] = a;
  else if (type == OIU_HSA_DEVICE_TYPE_CPU && s->ncpus < 64)
    s->cpus[s->ncpus++] = a;
  return OIU_HSA_STATUS_SUCCESS;
}

/* The best pool of one agent for a use. */
struct pick {
  const struct oiu_hsa_api *api;
  enum oiu_hsa_use use;
  size_t need;
  int score;
  oiu_hsa_pool pool;
  struct oiu_hsa_pool_info info;
};

static oiu_hsa_status on_pool(oiu_hsa_pool pool, void *data) {
  struct pick *s = data;
  struct oiu_hsa_pool_info in = {0};
  const struct oiu_hsa_api *api = s->api;
  oiu_hsa_status st = api->pool_get_info(pool, OIU_HSA_POOL_INFO_SEGMENT, &in.segment);
  /* The other attributes exist for global pools only. */
  if (st == OIU_HSA_STATUS_SUCCESS && in.segment == OIU_HSA_AMD_SEGMENT_GLOBAL) {
    st = api->pool_get_info(pool, OIU_HSA_POOL_INFO_GLOBAL_FLAGS, &in.flags);
    if (st == OIU_HSA_STATUS_SUCCESS)
      st = api->pool_get_info(pool, OIU_HSA_POOL_INFO_RUNTIME_ALLOC_ALLOWED, &in.alloc_allowed);
    if (st == OIU_HSA_STATUS_SUCCESS)
      st = api->pool_get_info(pool, OIU_HSA_POOL_INFO_SIZE, &in.size);
  }
  if (st != OIU_HSA_STATUS_SUCCESS)
    return st;
  int score = oiu_hsa_pool_score(&in, s->use, s->need);
  if (score > s->score) {
    s->score = score;
    s->pool = pool;
    s->info = in;
  }
  return OIU_HSA_STATUS_SUCCESS;
}

static oiu_hsa_status pick_pool(const struct oiu_hsa_api *api, oiu_hsa_agent agent,
                                struct pick *p) {
  p->api = api;
  p->score = 0;
  return api->iterate_pools(agent, on_pool, p);
}

#define FAIL(err, ...)                                                                    \
  do {                                                                                    \
    oiu_warn(__VA_ARGS__);                                                                \
    return err;                                                                           \
  } while (0)

int oiu_hsa_place(const struct oiu_hsa_api *api, int ordinal, size_t shared, size_t local,
                  struct oiu_hsa_place *pl) {
  struct agents ag = {.api = api};
  oiu_hsa_status st = api->iterate_agents(on_agent, &ag);
  if (st != OIU_HSA_STATUS_SUCCESS)
    FAIL(-EIO, "AMD GPU %d: listing HSA agents failed: %s", ordinal, oiu_hsa_strerror(api, st));
  if (ordinal < 0 || ordinal >= ag.ngpus)
    FAIL(-ENODEV, "AMD GPU %d: the HSA runtime lists %d GPU agent(s), not this one", ordinal,
         ag.ngpus);
  memset(pl, 0, sizeof *pl);
  pl->gpu = ag.gpus[ordinal];
  if (api->agent_get_info(pl->gpu, OIU_HSA_AGENT_INFO_NAME, pl->gpu_name) != OIU_HSA_STATUS_SUCCESS)
    strcpy(pl->gpu_name, "gfx?");
  pl->gpu_name[sizeof pl->gpu_name - 1] = '\0';

  /* The first CPU agent with a usable fine-grained pool (NUMA placement of
   * locked memory is where its pages already are; the pool sets access only). */
  struct pick host = {.use = OIU_HSA_HOST_SHARED, .need = shared};
  for (int i = 0; i < ag.ncpus && !host.score; i++)
    if ((st = pick_pool(api, ag.cpus[i], &host)) != OIU_HSA_STATUS_SUCCESS)
      FAIL(-EIO, "AMD GPU %d (%s): reading the CPU's HSA memory pools failed: %s", ordinal,
           pl->gpu_name, oiu_hsa_strerror(api, st));
  if (!host.score)
    FAIL(-ENOMEM, "AMD GPU %d (%s): none of %d CPU agent(s) has a fine-grained global memory "
         "pool open to the application", ordinal, pl->gpu_name, ag.ncpus);
  /* Every GPU that may reach the pool gets the region (as libomptarget does
   * for the memory it locks); the device itself must be one of them. */
  for (int i = 0; i < ag.ngpus; i++) {
    uint32_t access = OIU_HSA_POOL_ACCESS_NEVER_ALLOWED;
    st = api->agent_pool_get_info(ag.gpus[i], host.pool, OIU_HSA_AGENT_POOL_INFO_ACCESS, &access);
    if (st == OIU_HSA_STATUS_SUCCESS && access != OIU_HSA_POOL_ACCESS_NEVER_ALLOWED)
      pl->gpus[pl->ngpus++] = ag.gpus[i];
    else if (i == ordinal)
      FAIL(-EACCES, "AMD GPU %d (%s): the CPU's fine-grained memory pool is closed to it (%s)",
           ordinal, pl->gpu_name, st ? oiu_hsa_strerror(api, st) : "access never allowed");
  }
  pl->host_pool = host.pool;
  pl->host_info = host.info;

  struct pick dev = {.use = OIU_HSA_DEVICE_LOCAL, .need = local};
  if ((st = pick_pool(api, pl->gpu, &dev)) != OIU_HSA_STATUS_SUCCESS)
    FAIL(-EIO, "AMD GPU %d (%s): reading its HSA memory pools failed: %s", ordinal, pl->gpu_name,
         oiu_hsa_strerror(api, st));
  if (!dev.score)
    FAIL(-ENOMEM, "AMD GPU %d (%s): no global memory pool of its own to allocate %zu bytes from",
         ordinal, pl->gpu_name, local);
  pl->local_pool = dev.pool;
  pl->local_info = dev.info;
  return 0;
}
