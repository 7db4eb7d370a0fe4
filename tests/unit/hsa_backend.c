/* SPDX-License-Identifier: MIT */
/*
 * The AMD memory backend (plugin/mem_hsa.c) outside any OpenMP program:
 *
 *   hsa_backend pools   pool choice (oiu_hsa_pool_score) on pool descriptions
 *   hsa_backend real    against the HSA runtime installed here. With no AMD
 *                       GPU, hsa_init fails: one clear message, no region,
 *                       no crash, again on a second try. On an AMD GPU node
 *                       the region must map instead.
 *   hsa_backend fake    against tests/unit/fake_hsa.c (LD_LIBRARY_PATH):
 *                       the pools taken on each made-up machine, and every
 *                       HSA call failing in turn: one message, a fallback or
 *                       a clean failure, nothing leaked.
 *   hsa_backend old     against the fake without hsa_amd_memory_lock_to_pool.
 * Exit 0 pass, 1 fail, 77 skipped (says why).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hsa_api.h"
#include "internal.h"

static int failures;
#define CHECK(cond, ...)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      failures++;                                                                         \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                     \
      fprintf(stderr, __VA_ARGS__);                                                       \
      fputc('\n', stderr);                                                                \
    }                                                                                     \
  } while (0)

/* ---- stderr of one call, to count and read the runtime's messages ---- */
static char said[8192];
static int saved_fd = -1;
static FILE *said_file;
static void capture(void) {
  fflush(stderr);
  said_file = tmpfile();
  saved_fd = dup(2);
  dup2(fileno(said_file), 2);
}
/* Returns how many "omp-iouring:" lines were written since capture(). */
static int release(void) {
  fflush(stderr);
  dup2(saved_fd, 2);
  close(saved_fd);
  rewind(said_file);
  size_t n = fread(said, 1, sizeof said - 1, said_file);
  said[n] = '\0';
  fclose(said_file);
  int lines = 0;
  for (const char *p = said; (p = strstr(p, "omp-iouring: ")); p++)
    lines++;
  return lines;
}

enum { SHARED = 64 << 10, LOCAL = 8 << 10 };

/* One attempt to map a region for AMD device `ordinal`; returns the error, messages in said. */
static int attempt(struct oiu_region *r, int ordinal, int *lines) {
  capture();
  int err = oiu_mem_alloc(r, SHARED, LOCAL, OIU_MEM_HSA, ordinal);
  *lines = release();
  return err;
}

/* ---- pools ---- */
static int test_pools(void) {
  struct oiu_hsa_pool_info kernarg = {0, OIU_HSA_POOL_FLAG_KERNARG_INIT | OIU_HSA_POOL_FLAG_FINE_GRAINED, true, 0};
  struct oiu_hsa_pool_info fine = {0, OIU_HSA_POOL_FLAG_FINE_GRAINED, true, 1 << 30};
  struct oiu_hsa_pool_info coarse = {0, OIU_HSA_POOL_FLAG_COARSE_GRAINED, true, 1 << 30};
  struct oiu_hsa_pool_info closed = {0, OIU_HSA_POOL_FLAG_FINE_GRAINED, false, 1 << 30};
  struct oiu_hsa_pool_info group = {3, 0, false, 64 << 10};
  struct oiu_hsa_pool_info small = {0, OIU_HSA_POOL_FLAG_FINE_GRAINED, true, 4096};
  enum oiu_hsa_use H = OIU_HSA_HOST_SHARED, D = OIU_HSA_DEVICE_LOCAL;
  CHECK(oiu_hsa_pool_score(&fine, H, SHARED) > oiu_hsa_pool_score(&kernarg, H, SHARED), "plain fine first");
  CHECK(oiu_hsa_pool_score(&kernarg, H, SHARED) > 0, "kernarg pool is fine-grained system memory");
  CHECK(oiu_hsa_pool_score(&coarse, H, SHARED) == 0, "coarse host memory needs flushes");
  CHECK(oiu_hsa_pool_score(&closed, H, SHARED) == 0, "not open to the application");
  CHECK(oiu_hsa_pool_score(&group, H, SHARED) == 0 && oiu_hsa_pool_score(&group, D, 1) == 0, "group segment");
  CHECK(oiu_hsa_pool_score(&small, H, SHARED) == 0, "too small");
  CHECK(oiu_hsa_pool_score(&coarse, D, LOCAL) > oiu_hsa_pool_score(&fine, D, LOCAL), "coarse VRAM first");
  CHECK(oiu_hsa_pool_score(&fine, D, LOCAL) > 0, "fine VRAM will do");
  return 0;
}

/* ---- the installed runtime ---- */
static int test_real(void) {
  void *lib = dlopen("libhsa-runtime64.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    printf("SKIP: libhsa-runtime64.so.1 is not installed (%s)\n", dlerror());
    return 77;
  }
  dlclose(lib);
  for (int round = 0; round < 2; round++) {
    struct oiu_region r = {0};
    int lines, err = attempt(&r, 0, &lines);
    if (err == 0) { /* an AMD GPU node: the region must work from the host side */
      CHECK(r.device_addr && r.local_addr && r.host, "mapped region");
      memset(r.host, 0x5a, r.size);
      oiu_mem_free(&r);
      printf("mapped on a real AMD GPU: %s", said);
      continue;
    }
    fputs(said, stdout);
    CHECK(lines == 1, "one message, not %d: %s", lines, said);
    /* hsa_init is reached only after every symbol was found in the real library. */
    CHECK(strstr(said, "hsa_init failed (HSA_STATUS_ERROR") || strstr(said, "GPU agent(s), not this one"),
          "the runtime's own reason: %s", said);
    CHECK(err == -ENODEV, "err %d", err);
    CHECK(r.host == NULL, "no region left behind");
  }
  return 0;
}

/* ---- the fake runtime ---- */
static const char *(*state)(void);
static void (*reset)(void);

static int has(const char *s) { return strstr(state(), s) != NULL; }

static void expect_map(const char *topo, int ordinal, const char *want) {
  setenv("FAKE_HSA_TOPOLOGY", topo, 1);
  reset();
  struct oiu_region r = {0};
  int lines, err = attempt(&r, ordinal, &lines);
  CHECK(err == 0, "%s: map failed (%d): %s", topo, err, said);
  CHECK(lines == 0, "%s: a success says nothing without LIBOMPTARGET_INFO: %s", topo, said);
  CHECK(has(want), "%s: want %s, state %s", topo, want, state());
  CHECK(has("misuse=0"), "%s: %s", topo, state());
  if (err)
    return;
  CHECK(r.device_addr == (uint64_t)(uintptr_t)r.host + (1ull << 44), "%s: device address is lock_to_pool's", topo);
  for (size_t i = 0; i < LOCAL; i++)
    if (((char *)(uintptr_t)r.local_addr)[i]) {
      CHECK(0, "%s: device-local block not zeroed at %zu", topo, i);
      break;
    }
  oiu_mem_free(&r);
  CHECK(has("refs=0 locks=0 allocs=0 misuse=0"), "%s: after free: %s", topo, state());
}

static void expect_refused(const char *topo, int ordinal, const char *why) {
  setenv("FAKE_HSA_TOPOLOGY", topo, 1);
  reset();
  struct oiu_region r = {0};
  int lines, err = attempt(&r, ordinal, &lines);
  CHECK(err < 0 && r.host == NULL, "%s/%d: must fail cleanly (%d)", topo, ordinal, err);
  CHECK(lines == 1 && strstr(said, why), "%s/%d: one message naming '%s', got %d: %s", topo,
        ordinal, why, lines, said);
  CHECK(has("refs=0 locks=0 allocs=0 misuse=0"), "%s/%d: %s", topo, ordinal, state());
}

/*
 * Every call the backend makes fails in turn, then the fallback's calls with
 * the lock: a clean failure with one message naming the runtime's reason, or
 * the fallback region (lock failed, pool memory opened to both GPUs), or
 * success when the call is not on the path taken.
 */
enum outcome { REFUSED, FALLBACK, UNUSED };
static void each_call_fails(void) {
  static const struct { const char *fail; enum outcome want; } cases[] = {
      {"hsa_init", REFUSED},
      {"hsa_iterate_agents", REFUSED},
      {"hsa_agent_get_info", REFUSED},
      {"hsa_amd_agent_iterate_memory_pools", REFUSED},
      {"hsa_amd_memory_pool_get_info", REFUSED},
      {"hsa_amd_agent_memory_pool_get_info", REFUSED},
      {"hsa_amd_memory_lock_to_pool", FALLBACK},
      {"hsa_amd_memory_pool_allocate", REFUSED},
      {"hsa_amd_agents_allow_access", UNUSED},
      {"hsa_amd_memory_fill", REFUSED},
      {"hsa_amd_memory_lock_to_pool,hsa_amd_memory_pool_allocate", REFUSED},
      {"hsa_amd_memory_lock_to_pool,hsa_amd_agents_allow_access", REFUSED},
      {"hsa_amd_memory_lock_to_pool,hsa_amd_memory_fill", REFUSED},
  };
  setenv("FAKE_HSA_TOPOLOGY", "mi300", 1);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *f = cases[i].fail;
    setenv("FAKE_HSA_FAIL", f, 1);
    reset();
    struct oiu_region r = {0};
    int lines, err = attempt(&r, 0, &lines);
    switch (cases[i].want) {
    case FALLBACK:
      CHECK(err == 0 && r.foreign && r.device_addr == (uint64_t)(uintptr_t)r.host,
            "%s: falls back to pool memory (%d): %s", f, err, said);
      CHECK(lines == 0 && has("access_agents=2,3"), "%s: %s / %s", f, said, state());
      break;
    case UNUSED:
      CHECK(err == 0 && !r.foreign && lines == 0, "%s: not on the path (%d): %s", f, err, said);
      break;
    case REFUSED:
      CHECK(err < 0 && r.host == NULL, "%s: must fail cleanly (%d)", f, err);
      CHECK(lines == 1 && strstr(said, "OUT_OF_RESOURCES"),
            "%s: one message with the runtime's reason, got %d: %s", f, lines, said);
      break;
    }
    if (!err) {
      memset(r.host, 1, r.size); /* the region is ours to write */
      oiu_mem_free(&r);
    }
    CHECK(has("refs=0 locks=0 allocs=0 misuse=0"), "%s: %s", f, state());
  }
  unsetenv("FAKE_HSA_FAIL");
}

static int bind_fake(void) {
  void *fake = dlopen("libhsa-runtime64.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!fake || !(*(void **)&state = dlsym(fake, "fake_hsa_state")) ||
      !(*(void **)&reset = dlsym(fake, "fake_hsa_reset"))) {
    fprintf(stderr, "FAIL: the fake libhsa-runtime64.so.1 is not first in LD_LIBRARY_PATH\n");
    return -1;
  }
  return 0;
}

static int test_fake(void) {
  if (bind_fake())
    return 1;
  /* Plain fine-grained CPU pool 13, opened to both GPUs; GPU 3's coarse VRAM pool 31. */
  expect_map("mi300", 1, "lock_pool=13 lock_agents=2,3 access_agents= local_pool=31");
  expect_map("mi300", 0, "lock_pool=13 lock_agents=2,3 access_agents= local_pool=21");
  /* A GPU that cannot run kernels is no OpenMP device: device 0 is agent 3. */
  expect_map("nodispatch", 0, "lock_pool=13 lock_agents=3 access_agents= local_pool=31");
  expect_refused("nodispatch", 1, "lists 1 GPU agent(s), not this one");
  /* ROCm 5 lists only the kernarg fine-grained pool: it serves. */
  expect_map("rocm5", 0, "lock_pool=11 lock_agents=2,3 access_agents= local_pool=21");
  expect_refused("mi300", 2, "lists 2 GPU agent(s), not this one");
  expect_refused("nogpu", 0, "lists 0 GPU agent(s), not this one");
  expect_refused("nofine", 0, "fine-grained global memory pool");
  expect_refused("closed", 0, "closed to it");
  expect_refused("novram", 0, "no global memory pool of its own");
  each_call_fails();
  /* With LIBOMPTARGET_INFO the success says where the region went. */
  oiu_cfg.info = 1;
  setenv("FAKE_HSA_TOPOLOGY", "mi300", 1);
  struct oiu_region r = {0};
  int lines, err = attempt(&r, 1, &lines);
  CHECK(err == 0 && lines == 1 && strstr(said, "AMD GPU 1 (gfx942)") && strstr(said, "locked fine-grained"),
        "info line: %s", said);
  if (!err)
    oiu_mem_free(&r);
  oiu_cfg.info = 0;
  return 0;
}

static int test_old(void) {
  if (bind_fake())
    return 1;
  for (int round = 0; round < 2; round++) {
    struct oiu_region r = {0};
    int lines, err = attempt(&r, 0, &lines);
    CHECK(err == -ENOSYS && r.host == NULL, "old runtime refused (%d)", err);
    CHECK(lines == 1 && strstr(said, "lacks hsa_amd_memory_lock_to_pool"), "%d: %s", lines, said);
    CHECK(has("refs=0 locks=0 allocs=0"), "%s", state());
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
  int rc = !strcmp(what, "pools") ? test_pools()
         : !strcmp(what, "real")  ? test_real()
         : !strcmp(what, "fake")  ? test_fake()
         : !strcmp(what, "old")   ? test_old()
                                  : (fprintf(stderr, "usage: %s pools|real|fake|old\n", argv[0]), 2);
  if (rc)
    return rc;
  if (failures)
    return 1;
  printf("%s: all checks passed\n", what);
  return 0;
}
