/* SPDX-License-Identifier: MIT */
/*
 * NVIDIA backend: the region is ordinary anonymous memory registered with the
 * CUDA driver (cuMemHostRegister), which pins it and maps it for the GPU;
 * io_uring gets the same pages through IORING_SETUP_NO_MMAP. libcuda is
 * loaded at run time, so the library has no link-time vendor dependency.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>

#include "internal.h"

typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
#define CU_MEMHOSTREGISTER_PORTABLE 0x01
#define CU_MEMHOSTREGISTER_DEVICEMAP 0x02

static struct {
  void *lib;
  CUresult (*init)(unsigned);
  CUresult (*device_get)(CUdevice *, int);
  CUresult (*primary_retain)(CUcontext *, CUdevice);
  CUresult (*ctx_push)(CUcontext);
  CUresult (*ctx_pop)(CUcontext *);
  CUresult (*host_register)(void *, size_t, unsigned);
  CUresult (*host_unregister)(void *);
  CUresult (*host_device_ptr)(uint64_t *, void *, unsigned);
  CUresult (*mem_alloc)(uint64_t *, size_t);
  CUresult (*mem_free)(uint64_t);
  CUresult (*memset_d8)(uint64_t, unsigned char, size_t);
} cu;

static int cuda_load(void) {
  if (cu.lib)
    return 0;
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    oiu_warn("cannot load libcuda.so.1: %s", dlerror());
    return -ENOENT;
  }
#define SYM(field, name)                                                                  \
  if (!(*(void **)&cu.field = dlsym(lib, name))) {                                        \
    oiu_warn("libcuda.so.1 lacks %s", name);                                              \
    dlclose(lib);                                                                         \
    return -ENOSYS;                                                                       \
  }
  SYM(init, "cuInit")
  SYM(device_get, "cuDeviceGet")
  SYM(primary_retain, "cuDevicePrimaryCtxRetain")
  SYM(ctx_push, "cuCtxPushCurrent_v2")
  SYM(ctx_pop, "cuCtxPopCurrent_v2")
  SYM(host_register, "cuMemHostRegister_v2")
  SYM(host_unregister, "cuMemHostUnregister")
  SYM(host_device_ptr, "cuMemHostGetDevicePointer_v2")
  SYM(mem_alloc, "cuMemAlloc_v2")
  SYM(mem_free, "cuMemFree_v2")
  SYM(memset_d8, "cuMemsetD8_v2")
#undef SYM
  cu.lib = lib;
  return 0;
}

int oiu_mem_cuda_map(struct oiu_region *r, int ordinal) {
  int err = cuda_load();
  if (err)
    return err;
  CUdevice dev;
  CUcontext ctx, popped;
  CUresult cr = cu.init(0);
  if (!cr)
    cr = cu.device_get(&dev, ordinal);
  if (!cr)
    cr = cu.primary_retain(&ctx, dev); /* the context libomptarget's CUDA plugin uses */
  if (cr) {
    oiu_warn("CUDA device %d: driver error %d", ordinal, cr);
    return -ENODEV;
  }
  cu.ctx_push(ctx);
  uint64_t dptr = 0, local = 0;
  /* Portable: every context of the process sees it; device map: GPU loads/stores reach it. */
  cr = cu.host_register(r->host, r->size, CU_MEMHOSTREGISTER_PORTABLE | CU_MEMHOSTREGISTER_DEVICEMAP);
  if (!cr)
    cr = cu.host_device_ptr(&dptr, r->host, 0);
  if (cr) {
    oiu_warn("CUDA device %d: cuMemHostRegister of %zu bytes failed (error %d)", ordinal,
             r->size, cr);
    err = -ENOMEM;
    goto out;
  }
  /* The device-local block: GPU memory, zeroed. */
  cr = cu.mem_alloc(&local, r->local_size);
  if (!cr)
    cr = cu.memset_d8(local, 0, r->local_size);
  if (cr) {
    oiu_warn("CUDA device %d: cuMemAlloc of %zu bytes failed (error %d)", ordinal,
             r->local_size, cr);
    if (local)
      cu.mem_free(local);
    cu.host_unregister(r->host);
    err = -ENOMEM;
    goto out;
  }
  r->device_addr = dptr;
  r->local_addr = local;
out:
  cu.ctx_pop(&popped);
  return err;
}

/* At exit the context may already be gone: these then fail harmlessly. */
void oiu_mem_cuda_unmap(struct oiu_region *r) {
  if (!cu.lib)
    return;
  cu.host_unregister(r->host);
  if (r->local_addr)
    cu.mem_free(r->local_addr);
}
