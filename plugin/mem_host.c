/* SPDX-License-Identifier: MIT */
/*
 * Memory backends. The host offload target's "device" is the CPU itself:
 * plain anonymous memory serves it. GPU backends (mem_cuda.c, mem_hsa.c) take
 * the same anonymous mapping and make it reachable from the device.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

int oiu_mem_cuda_map(struct oiu_region *r, int ordinal);
void oiu_mem_cuda_unmap(struct oiu_region *r);
int oiu_mem_cuda_copy(struct oiu_region *r, int to_region, uint64_t gpu, void *host, size_t n);
int oiu_mem_cuda_read_local(struct oiu_region *r, void *out, unsigned timeout_ms);
int oiu_mem_hsa_map(struct oiu_region *r, int ordinal);
void oiu_mem_hsa_unmap(struct oiu_region *r);

int oiu_mem_alloc(struct oiu_region *r, size_t size, size_t local_size, int backend, int ordinal) {
  /* On the host target the device-local block is simply the region's tail. */
  size_t total = backend == OIU_MEM_HOST ? size + local_size : size;
  /* Populated up front: the kernel and the device must never fault on it. */
  void *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                 -1, 0);
  if (p == MAP_FAILED)
    return -errno;
  *r = (struct oiu_region){.host = p, .device_addr = (uint64_t)(uintptr_t)p, .size = total,
                           .local_addr = (uint64_t)(uintptr_t)p + size, .local_size = local_size,
                           .backend = backend};
  int err = 0;
  if (backend == OIU_MEM_CUDA)
    err = oiu_mem_cuda_map(r, ordinal);
  else if (backend == OIU_MEM_HSA)
    err = oiu_mem_hsa_map(r, ordinal); /* may put the region in memory of its own (foreign) */
  else if (backend != OIU_MEM_HOST)
    err = -ENOTSUP;
  if (err || r->foreign)
    munmap(p, total);
  if (err)
    r->host = NULL;
  return err;
}

void oiu_mem_free(struct oiu_region *r) {
  if (!r->host)
    return;
  if (r->backend == OIU_MEM_CUDA)
    oiu_mem_cuda_unmap(r);
  else if (r->backend == OIU_MEM_HSA)
    oiu_mem_hsa_unmap(r);
  if (!r->foreign)
    munmap(r->host, r->size);
  r->host = NULL;
}

/* gpu_ctx is cleared when the copy engine failed its first copy; without the
 * guard against frees it could deadlock (mem_cuda.c). */
int oiu_mem_can_copy(const struct oiu_region *r) {
  return r->host && r->backend == OIU_MEM_CUDA && r->gpu_ctx && oiu_copy_guard_enabled();
}

int oiu_mem_copy(struct oiu_region *r, int to_region, uint64_t gpu, void *host, size_t n) {
  return oiu_mem_can_copy(r) ? oiu_mem_cuda_copy(r, to_region, gpu, host, n) : -ENOSYS;
}

int oiu_mem_read_local(struct oiu_region *r, void *out, unsigned timeout_ms) {
  if (!r->host)
    return -ENOSYS;
  if (r->backend == OIU_MEM_HOST) {
    memcpy(out, (const void *)(uintptr_t)r->local_addr, r->local_size);
    return 0;
  }
  if (r->backend == OIU_MEM_CUDA)
    return oiu_mem_cuda_read_local(r, out, timeout_ms);
  return -ENOSYS; /* AMD: not written yet (no hardware to run it on) */
}
