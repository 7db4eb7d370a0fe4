/* SPDX-License-Identifier: MIT */
/*
 * Private: the slice of the HSA runtime (ROCr, libhsa-runtime64.so.1) that the
 * AMD memory backend uses, and the backend's own pieces.
 *
 * The HSA types and constants are declared here (prefixed oiu_hsa_) so the
 * host library needs neither the ROCm headers nor the library at build time;
 * the runtime is loaded with dlopen when an AMD device first needs a channel.
 * Values are the stable HSA 1.x / hsa_ext_amd.h ABI; tests/unit/hsa_abi.c
 * checks them against <hsa/hsa.h> and <hsa/hsa_ext_amd.h> where installed.
 */
#ifndef OIU_PLUGIN_HSA_API_H
#define OIU_PLUGIN_HSA_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int oiu_hsa_status; /* hsa_status_t */
typedef struct { uint64_t handle; } oiu_hsa_agent; /* hsa_agent_t */
typedef struct { uint64_t handle; } oiu_hsa_pool;  /* hsa_amd_memory_pool_t */

enum {
  OIU_HSA_STATUS_SUCCESS = 0,
  OIU_HSA_STATUS_INFO_BREAK = 1,                     /* a callback stops an iteration */
  OIU_HSA_STATUS_ERROR_OUT_OF_RESOURCES = 0x1008,
  OIU_HSA_AGENT_INFO_NAME = 0,                       /* char[64], e.g. "gfx90a" */
  OIU_HSA_AGENT_INFO_FEATURE = 2,                    /* hsa_agent_feature_t */
  OIU_HSA_AGENT_FEATURE_KERNEL_DISPATCH = 1,
  OIU_HSA_AGENT_INFO_DEVICE = 17,                    /* hsa_device_type_t */
  OIU_HSA_DEVICE_TYPE_CPU = 0,
  OIU_HSA_DEVICE_TYPE_GPU = 1,
  OIU_HSA_AMD_SEGMENT_GLOBAL = 0,
  OIU_HSA_POOL_INFO_SEGMENT = 0,                     /* hsa_amd_segment_t */
  OIU_HSA_POOL_INFO_GLOBAL_FLAGS = 1,                /* uint32_t */
  OIU_HSA_POOL_INFO_SIZE = 2,                        /* size_t */
  OIU_HSA_POOL_INFO_RUNTIME_ALLOC_ALLOWED = 5,       /* bool */
  OIU_HSA_POOL_FLAG_KERNARG_INIT = 1,
  OIU_HSA_POOL_FLAG_FINE_GRAINED = 2,
  OIU_HSA_POOL_FLAG_COARSE_GRAINED = 4,
  OIU_HSA_AGENT_POOL_INFO_ACCESS = 0,                /* hsa_amd_memory_pool_access_t */
  OIU_HSA_POOL_ACCESS_NEVER_ALLOWED = 0,
};

/* The runtime's entry points (hsa.h / hsa_ext_amd.h names in the comments). */
struct oiu_hsa_api {
  void *lib;
  oiu_hsa_status (*init)(void);                                   /* hsa_init */
  oiu_hsa_status (*shut_down)(void);                              /* hsa_shut_down */
  oiu_hsa_status (*status_string)(oiu_hsa_status, const char **); /* hsa_status_string */
  oiu_hsa_status (*iterate_agents)(oiu_hsa_status (*)(oiu_hsa_agent, void *), void *);
  oiu_hsa_status (*agent_get_info)(oiu_hsa_agent, int, void *);
  oiu_hsa_status (*iterate_pools)(oiu_hsa_agent, oiu_hsa_status (*)(oiu_hsa_pool, void *),
                                  void *);                        /* hsa_amd_agent_iterate_memory_pools */
  oiu_hsa_status (*pool_get_info)(oiu_hsa_pool, int, void *);     /* hsa_amd_memory_pool_get_info */
  oiu_hsa_status (*agent_pool_get_info)(oiu_hsa_agent, oiu_hsa_pool, int, void *);
  oiu_hsa_status (*lock_to_pool)(void *, size_t, oiu_hsa_agent *, int, oiu_hsa_pool, uint32_t,
                                 void **);                        /* hsa_amd_memory_lock_to_pool */
  oiu_hsa_status (*unlock)(void *);                               /* hsa_amd_memory_unlock */
  oiu_hsa_status (*pool_allocate)(oiu_hsa_pool, size_t, uint32_t, void **);
  oiu_hsa_status (*pool_free)(void *);                            /* hsa_amd_memory_pool_free */
  oiu_hsa_status (*allow_access)(uint32_t, const oiu_hsa_agent *, const uint32_t *,
                                 const void *);                   /* hsa_amd_agents_allow_access */
  oiu_hsa_status (*fill)(void *, uint32_t, size_t);               /* hsa_amd_memory_fill */
};

/* Loads the runtime (once) into api; 0, or -errno after one message saying what is missing. */
int oiu_hsa_load(struct oiu_hsa_api *api);
/* The runtime's name for a status ("HSA_STATUS_ERROR_...: ..."), or "HSA status 0x...". */
const char *oiu_hsa_strerror(const struct oiu_hsa_api *api, oiu_hsa_status s);

/* What pool selection looks at, read from one memory pool. */
struct oiu_hsa_pool_info {
  uint32_t segment;
  uint32_t flags;      /* OIU_HSA_POOL_FLAG_* */
  bool alloc_allowed;  /* the application may allocate from it */
  size_t size;         /* bytes; 0 when the runtime does not say */
};
enum oiu_hsa_use {
  OIU_HSA_HOST_SHARED,  /* a CPU agent's pool for the region GPU, CPU and kernel share */
  OIU_HSA_DEVICE_LOCAL, /* a GPU agent's pool for the device-local block */
};
/* How well a pool serves use for need bytes: 0 = not at all, higher is better. */
int oiu_hsa_pool_score(const struct oiu_hsa_pool_info *p, enum oiu_hsa_use use, size_t need);

/* The agents and pools one AMD device's channel uses. */
struct oiu_hsa_place {
  oiu_hsa_agent gpu;         /* the device */
  char gpu_name[64];
  oiu_hsa_agent gpus[64];    /* the GPUs the shared region is opened to (the device among them) */
  int ngpus;
  oiu_hsa_pool host_pool;    /* fine-grained global pool of a CPU agent */
  struct oiu_hsa_pool_info host_info;
  oiu_hsa_pool local_pool;   /* the device's own VRAM */
  struct oiu_hsa_pool_info local_info;
};
/* Finds the ordinal-th GPU agent and the pools for a region of shared/local bytes; 0 or -errno after one message. */
int oiu_hsa_place(const struct oiu_hsa_api *api, int ordinal, size_t shared, size_t local,
                  struct oiu_hsa_place *pl);

#endif
