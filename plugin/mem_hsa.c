/* SPDX-License-Identifier: MIT */
/*
 * AMD backend (HSA runtime, ROCr). The shared region is our own anonymous
 * mapping locked into a CPU agent's fine-grained pool
 * (hsa_amd_memory_lock_to_pool) for every GPU that may reach it: the GPU then
 * sees it fine-grained (coherent with the CPU, no cache flush needed) and
 * io_uring gets the very same ordinary pages through IORING_SETUP_NO_MMAP,
 * which pins them like any user memory. Fine-grained memory is registered,
 * not demand-paged: the GPU never page-faults on it, so HSA_XNACK plays no
 * part. The device-local block is allocated from the GPU's own VRAM pool.
 *
 * If locking fails, the region is allocated from the fine-grained pool
 * itself (hsa_amd_memory_pool_allocate + hsa_amd_agents_allow_access).
 * ROCr normally backs that pool with anonymous pages as well; should the
 * kernel refuse to pin them, io_uring set-up fails and the channel serves
 * the device through the emulated ring instead (channel.c).
 */
#include <errno.h>
#include <sys/mman.h>

#include "hsa_api.h"
#include "internal.h"

static struct oiu_hsa_api hsa;

/* The region: r->host locked, or replaced by pool memory (r->foreign). */
static int map_shared(struct oiu_region *r, const struct oiu_hsa_place *pl, int ordinal) {
  /* As ROCr does for its own host memory: a fork() of the program must not
   * make these pages copy-on-write under the GPU's mapping. */
  madvise(r->host, r->size, MADV_DONTFORK);
  void *agent_ptr = NULL;
  oiu_hsa_status lst = hsa.lock_to_pool(r->host, r->size, (oiu_hsa_agent *)pl->gpus, pl->ngpus,
                                        pl->host_pool, 0, &agent_ptr);
  if (lst == OIU_HSA_STATUS_SUCCESS) {
    r->device_addr = (uint64_t)(uintptr_t)agent_ptr;
    return 0;
  }
  void *p = NULL;
  oiu_hsa_status ast = hsa.pool_allocate(pl->host_pool, r->size, 0, &p);
  const char *what = "hsa_amd_memory_pool_allocate";
  if (ast == OIU_HSA_STATUS_SUCCESS) {
    ast = hsa.allow_access((uint32_t)pl->ngpus, pl->gpus, NULL, p);
    what = "hsa_amd_agents_allow_access";
    if (ast != OIU_HSA_STATUS_SUCCESS)
      hsa.pool_free(p);
  }
  if (ast != OIU_HSA_STATUS_SUCCESS) {
    oiu_warn("AMD GPU %d (%s): no shared region of %zu bytes: hsa_amd_memory_lock_to_pool "
             "failed (%s), then %s failed (%s)", ordinal, pl->gpu_name, r->size,
             oiu_hsa_strerror(&hsa, lst), what, oiu_hsa_strerror(&hsa, ast));
    return -ENOMEM;
  }
  oiu_info("AMD GPU %d (%s): hsa_amd_memory_lock_to_pool failed (%s); the shared region is "
           "allocated from the CPU's fine-grained pool instead", ordinal, pl->gpu_name,
           oiu_hsa_strerror(&hsa, lst));
  r->host = p;
  r->device_addr = (uint64_t)(uintptr_t)p;
  r->foreign = 1;
  return 0;
}

static void unmap_shared(struct oiu_region *r) {
  if (r->foreign)
    hsa.pool_free(r->host);
  else
    hsa.unlock(r->host);
}

/* The device-local block: the GPU's memory, zeroed. */
static int map_local(struct oiu_region *r, const struct oiu_hsa_place *pl, int ordinal) {
  void *p = NULL;
  const char *what = "hsa_amd_memory_pool_allocate";
  oiu_hsa_status st = hsa.pool_allocate(pl->local_pool, r->local_size, 0, &p);
  if (st == OIU_HSA_STATUS_SUCCESS) {
    what = "hsa_amd_memory_fill";
    st = hsa.fill(p, 0, r->local_size / 4); /* local_size is whole pages */
    if (st != OIU_HSA_STATUS_SUCCESS)
      hsa.pool_free(p);
  }
  if (st != OIU_HSA_STATUS_SUCCESS) {
    oiu_warn("AMD GPU %d (%s): no device-local block of %zu bytes: %s failed (%s)", ordinal,
             pl->gpu_name, r->local_size, what, oiu_hsa_strerror(&hsa, st));
    return -ENOMEM;
  }
  r->local_addr = (uint64_t)(uintptr_t)p;
  return 0;
}

int oiu_mem_hsa_map(struct oiu_region *r, int ordinal) {
  int err = oiu_hsa_load(&hsa);
  if (err)
    return err;
  /* Reference counted: the runtime stays up until our hsa_shut_down in unmap. */
  oiu_hsa_status st = hsa.init();
  if (st != OIU_HSA_STATUS_SUCCESS) {
    oiu_warn("AMD GPU %d: hsa_init failed (%s): no usable AMD GPU here; device I/O is off for it",
             ordinal, oiu_hsa_strerror(&hsa, st));
    return -ENODEV;
  }
  struct oiu_hsa_place pl;
  err = oiu_hsa_place(&hsa, ordinal, r->size, r->local_size, &pl);
  if (!err)
    err = map_shared(r, &pl, ordinal);
  if (!err && (err = map_local(r, &pl, ordinal)))
    unmap_shared(r);
  if (err) {
    hsa.shut_down();
    return err;
  }
  oiu_info("AMD GPU %d (%s): %zu KiB shared (%s, open to %d GPU(s)) at device address %#llx, "
           "%zu KiB device-local", ordinal, pl.gpu_name, r->size / 1024,
           r->foreign ? "fine-grained pool memory" : "locked fine-grained", pl.ngpus,
           (unsigned long long)r->device_addr, r->local_size / 1024);
  return 0;
}

/* At exit libomptarget's AMDGPU plugin may have shut down its reference; ours keeps the runtime up. */
void oiu_mem_hsa_unmap(struct oiu_region *r) {
  if (!hsa.lib)
    return;
  if (r->local_addr)
    hsa.pool_free((void *)(uintptr_t)r->local_addr);
  unmap_shared(r);
  hsa.shut_down();
}
