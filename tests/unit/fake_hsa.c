/* SPDX-License-Identifier: MIT */
/*
 * A stand-in libhsa-runtime64.so.1 for tests/unit/hsa_backend.c: the HSA
 * calls the AMD memory backend makes, over a made-up machine, with every
 * call checked the way ROCr documents it and counted, so a test can see
 * which pools were used and that nothing leaked.
 *
 *   FAKE_HSA_TOPOLOGY  mi300 (default): 1 CPU with a kernarg and a plain
 *                      fine-grained pool and a coarse one; 2 GPUs, each with
 *                      coarse and fine VRAM pools and a group pool.
 *                      rocm5: the CPU has only the kernarg fine-grained pool
 *                      and a coarse one. nofine: the CPU has only a coarse
 *                      pool. nogpu: no GPU agent. closed: GPUs can never
 *                      access the CPU's pools. novram: GPUs have no pool the
 *                      application may allocate from. nodispatch: GPU 2
 *                      cannot run kernels (not an OpenMP device).
 *   FAKE_HSA_FAIL      comma-separated names of HSA functions that fail
 *                      (HSA_STATUS_ERROR_OUT_OF_RESOURCES) whenever called.
 * Built with FAKE_HSA_OLD, it lacks hsa_amd_memory_lock_to_pool.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int status;
typedef struct { uint64_t handle; } agent_t;
typedef struct { uint64_t handle; } pool_t;
#define OK 0
#define ERR_ARG 0x1001
#define ERR_ALLOC 0x1003
#define ERR_AGENT 0x1004
#define ERR_RES 0x1008
#define ERR_INIT 0x100B
#define ERR_POOL 40

#define API __attribute__((visibility("default")))

/* ---- the machine ---- */
enum { CPU = 0, GPU = 1 };
enum { KERNARG = 1, FINE = 2, COARSE = 4 };
enum { GLOBAL = 0, GROUP = 3 };
struct pool {
  uint64_t handle, owner;
  int segment, flags;
  bool alloc;
};
/* Agents 1 (CPU), 2 and 3 (GPUs); pool handles say their owner: 1x, 2x, 3x. */
static const struct pool pools_mi300[] = {
    {11, 1, GLOBAL, KERNARG | FINE, true}, {12, 1, GLOBAL, COARSE, true},
    {13, 1, GLOBAL, FINE, true},           {21, 2, GLOBAL, COARSE, true},
    {22, 2, GLOBAL, FINE, true},           {23, 2, GROUP, 0, false},
    {31, 3, GLOBAL, COARSE, true},         {32, 3, GLOBAL, FINE, true},
    {33, 3, GROUP, 0, false}};
static const struct pool pools_rocm5[] = {
    {11, 1, GLOBAL, KERNARG | FINE, true}, {12, 1, GLOBAL, COARSE, true},
    {21, 2, GLOBAL, COARSE, true}, {31, 3, GLOBAL, COARSE, true}};
static const struct pool pools_nofine[] = {
    {12, 1, GLOBAL, COARSE, true}, {21, 2, GLOBAL, COARSE, true}, {31, 3, GLOBAL, COARSE, true}};
static const struct pool pools_novram[] = {
    {13, 1, GLOBAL, FINE, true}, {21, 2, GLOBAL, COARSE, false}, {23, 2, GROUP, 0, false},
    {31, 3, GLOBAL, COARSE, false}};

static const char *topology(void) {
  const char *t = getenv("FAKE_HSA_TOPOLOGY");
  return t && *t ? t : "mi300";
}
static const struct pool *pool_list(size_t *n) {
  const char *t = topology();
#define LIST(a) (*n = sizeof a / sizeof a[0], a)
  if (!strcmp(t, "rocm5"))
    return LIST(pools_rocm5);
  if (!strcmp(t, "nofine"))
    return LIST(pools_nofine);
  if (!strcmp(t, "novram"))
    return LIST(pools_novram);
  return LIST(pools_mi300);
#undef LIST
}
static int agent_count(void) { return strcmp(topology(), "nogpu") ? 3 : 1; }
static int agent_type(uint64_t a) { return a == 1 ? CPU : GPU; }
static bool agent_ok(uint64_t a) { return a >= 1 && a <= (uint64_t)agent_count(); }
static const struct pool *find_pool(uint64_t h) {
  size_t n;
  const struct pool *p = pool_list(&n);
  for (size_t i = 0; i < n; i++)
    if (p[i].handle == h && agent_ok(p[i].owner))
      return &p[i];
  return NULL;
}

/* ---- what the test inspects ---- */
static int refs, locks, allocs, misuse;
static uint64_t lock_pool, local_pool;
static char lock_agents[64], access_agents[64];
#define MAXA 16
static struct { void *p; size_t size; uint64_t pool; } blocks[MAXA];
static struct { void *p; size_t size; } locked[MAXA];

API const char *fake_hsa_state(void) {
  static char s[256];
  snprintf(s, sizeof s,
           "refs=%d locks=%d allocs=%d misuse=%d lock_pool=%llu lock_agents=%s "
           "access_agents=%s local_pool=%llu",
           refs, locks, allocs, misuse, (unsigned long long)lock_pool, lock_agents,
           access_agents, (unsigned long long)local_pool);
  return s;
}
API void fake_hsa_reset(void) {
  misuse = 0;
  lock_pool = local_pool = 0;
  lock_agents[0] = access_agents[0] = '\0';
}

/* Every entry point: the injected failure, then "is the runtime up?". */
static bool failing(const char *fn) {
  const char *f = getenv("FAKE_HSA_FAIL");
  size_t n = strlen(fn);
  for (; f && *f; f += strcspn(f, ","), f += *f == ',')
    if (!strncmp(f, fn, n) && (f[n] == ',' || f[n] == '\0'))
      return true;
  return false;
}
#define ENTER(fn)                                                                         \
  do {                                                                                    \
    if (failing(fn))                                                                      \
      return ERR_RES;                                                                     \
    if (refs <= 0) {                                                                      \
      misuse++;                                                                           \
      return ERR_INIT;                                                                    \
    }                                                                                     \
  } while (0)

static status bad(status s) {
  misuse++;
  return s;
}
static void list_agents(char *dst, const agent_t *a, int n) {
  dst[0] = '\0';
  for (int i = 0; i < n; i++)
    snprintf(dst + strlen(dst), 64 - strlen(dst), "%s%llu", i ? "," : "",
             (unsigned long long)a[i].handle);
}

API status hsa_init(void) {
  if (failing("hsa_init"))
    return ERR_RES;
  refs++;
  return OK;
}
API status hsa_shut_down(void) {
  if (refs <= 0)
    return bad(ERR_INIT);
  refs--;
  return OK;
}
API status hsa_status_string(status s, const char **str) {
  *str = s == ERR_RES ? "HSA_STATUS_ERROR_OUT_OF_RESOURCES: fake" : "HSA_STATUS_OTHER: fake";
  return OK;
}
API status hsa_iterate_agents(status (*cb)(agent_t, void *), void *data) {
  ENTER("hsa_iterate_agents");
  for (int i = 1; i <= agent_count(); i++) {
    status s = cb((agent_t){(uint64_t)i}, data);
    if (s)
      return s == 1 ? OK : s;
  }
  return OK;
}
API status hsa_agent_get_info(agent_t a, int attr, void *value) {
  ENTER("hsa_agent_get_info");
  if (!agent_ok(a.handle))
    return bad(ERR_AGENT);
  if (attr == 17)
    *(uint32_t *)value = (uint32_t)agent_type(a.handle);
  else if (attr == 2) /* features: GPUs dispatch kernels */
    *(uint32_t *)value = agent_type(a.handle) == GPU &&
                         !(a.handle == 2 && !strcmp(topology(), "nodispatch"));
  else if (attr == 0)
    snprintf(value, 64, "%s", agent_type(a.handle) == CPU ? "fake-cpu" : "gfx942");
  else
    return bad(ERR_ARG);
  return OK;
}
API status hsa_amd_agent_iterate_memory_pools(agent_t a, status (*cb)(pool_t, void *), void *data) {
  ENTER("hsa_amd_agent_iterate_memory_pools");
  if (!agent_ok(a.handle))
    return bad(ERR_AGENT);
  size_t n;
  const struct pool *p = pool_list(&n);
  for (size_t i = 0; i < n; i++) {
    if (p[i].owner != a.handle)
      continue;
    status s = cb((pool_t){p[i].handle}, data);
    if (s)
      return s == 1 ? OK : s;
  }
  return OK;
}
API status hsa_amd_memory_pool_get_info(pool_t h, int attr, void *value) {
  ENTER("hsa_amd_memory_pool_get_info");
  const struct pool *p = find_pool(h.handle);
  if (!p)
    return bad(ERR_POOL);
  if (attr == 0) {
    *(uint32_t *)value = (uint32_t)p->segment;
    return OK;
  }
  if (p->segment != GLOBAL) /* ROCr: these are global-segment attributes */
    return bad(ERR_ARG);
  if (attr == 1)
    *(uint32_t *)value = (uint32_t)p->flags;
  else if (attr == 2)
    *(size_t *)value = (size_t)64 << 30;
  else if (attr == 5)
    *(bool *)value = p->alloc;
  else
    return bad(ERR_ARG);
  return OK;
}
API status hsa_amd_agent_memory_pool_get_info(agent_t a, pool_t h, int attr, void *value) {
  ENTER("hsa_amd_agent_memory_pool_get_info");
  const struct pool *p = find_pool(h.handle);
  if (!agent_ok(a.handle) || !p || attr != 0)
    return bad(ERR_ARG);
  bool cpu_pool = agent_type(p->owner) == CPU;
  uint32_t never = 0, by_default = 1, on_request = 2;
  if (p->owner == a.handle)
    *(uint32_t *)value = by_default;
  else if (cpu_pool)
    *(uint32_t *)value = strcmp(topology(), "closed") ? on_request : never;
  else
    *(uint32_t *)value = on_request;
  return OK;
}

static status check_gpus(const agent_t *a, int n) {
  if (!a || n <= 0)
    return bad(ERR_ARG);
  for (int i = 0; i < n; i++)
    if (!agent_ok(a[i].handle) || agent_type(a[i].handle) != GPU)
      return bad(ERR_AGENT);
  return OK;
}

#ifndef FAKE_HSA_OLD
API status hsa_amd_memory_lock_to_pool(void *host, size_t size, agent_t *agents, int n, pool_t h,
                                       uint32_t flags, void **agent_ptr) {
  ENTER("hsa_amd_memory_lock_to_pool");
  const struct pool *p = find_pool(h.handle);
  if (!host || !size || !agent_ptr || flags)
    return bad(ERR_ARG);
  if (!p || agent_type(p->owner) != CPU || p->segment != GLOBAL)
    return bad(ERR_POOL);
  status s = check_gpus(agents, n);
  if (s)
    return s;
  for (int i = 0; i < MAXA; i++)
    if (!locked[i].p) {
      locked[i].p = host;
      locked[i].size = size;
      locks++;
      lock_pool = h.handle;
      list_agents(lock_agents, agents, n);
      /* A GPU address unlike the host's: the backend must publish this one. */
      *agent_ptr = (char *)host + ((uint64_t)1 << 44);
      return OK;
    }
  return ERR_RES;
}
#endif
API status hsa_amd_memory_unlock(void *host) {
  ENTER("hsa_amd_memory_unlock");
  for (int i = 0; i < MAXA; i++)
    if (locked[i].p == host) {
      locked[i].p = NULL;
      locks--;
      return OK;
    }
  return bad(ERR_ARG);
}
API status hsa_amd_memory_pool_allocate(pool_t h, size_t size, uint32_t flags, void **ptr) {
  ENTER("hsa_amd_memory_pool_allocate");
  const struct pool *p = find_pool(h.handle);
  if (!p || p->segment != GLOBAL)
    return bad(ERR_POOL);
  if (!p->alloc)
    return bad(ERR_ALLOC);
  if (!size || flags || !ptr)
    return bad(ERR_ARG);
  for (int i = 0; i < MAXA; i++)
    if (!blocks[i].p) {
      if (!(blocks[i].p = aligned_alloc(4096, (size + 4095) / 4096 * 4096)))
        return ERR_RES;
      memset(blocks[i].p, 0xa5, size); /* not zeroed: the backend must fill it */
      blocks[i].size = size;
      blocks[i].pool = h.handle;
      allocs++;
      if (agent_type(p->owner) == GPU)
        local_pool = h.handle;
      *ptr = blocks[i].p;
      return OK;
    }
  return ERR_RES;
}
static int block_of(const void *ptr) {
  for (int i = 0; i < MAXA; i++)
    if (ptr && blocks[i].p == ptr)
      return i;
  return -1;
}
API status hsa_amd_memory_pool_free(void *ptr) {
  ENTER("hsa_amd_memory_pool_free");
  int i = block_of(ptr);
  if (i < 0)
    return bad(ERR_ARG);
  free(blocks[i].p);
  blocks[i].p = NULL;
  allocs--;
  return OK;
}
API status hsa_amd_agents_allow_access(uint32_t n, const agent_t *agents, const uint32_t *flags,
                                       const void *ptr) {
  ENTER("hsa_amd_agents_allow_access");
  if (flags || block_of(ptr) < 0)
    return bad(ERR_ARG);
  status s = check_gpus(agents, (int)n);
  if (s)
    return s;
  list_agents(access_agents, agents, (int)n);
  return OK;
}
API status hsa_amd_memory_fill(void *ptr, uint32_t value, size_t count) {
  ENTER("hsa_amd_memory_fill");
  int i = block_of(ptr);
  if (i < 0 || count * 4 > blocks[i].size)
    return bad(ERR_ARG);
  for (size_t k = 0; k < count; k++)
    ((uint32_t *)ptr)[k] = value;
  return OK;
}
