/* SPDX-License-Identifier: MIT */
/*
 * NVIDIA backend: the region is ordinary anonymous memory registered with the
 * CUDA driver (cuMemHostRegister), which pins it and maps it for the GPU;
 * io_uring gets the same pages through IORING_SETUP_NO_MMAP. libcuda is
 * loaded at run time, so the library has no link-time vendor dependency.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "internal.h"

typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUstream_st *CUstream;
#define CU_MEMHOSTREGISTER_PORTABLE 0x01
#define CU_MEMHOSTREGISTER_DEVICEMAP 0x02
#define CU_STREAM_NON_BLOCKING 0x1
#define CUDA_ERROR_INVALID_VALUE 1
#define CUDA_ERROR_NOT_READY 600

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
  CUresult (*stream_create)(CUstream *, unsigned);
  CUresult (*stream_sync)(CUstream);
  CUresult (*stream_query)(CUstream);
  CUresult (*stream_destroy)(CUstream);
  CUresult (*copy)(uint64_t, uint64_t, size_t, CUstream);
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
  SYM(stream_create, "cuStreamCreate")
  SYM(stream_sync, "cuStreamSynchronize")
  SYM(stream_query, "cuStreamQuery")
  SYM(stream_destroy, "cuStreamDestroy_v2")
  SYM(copy, "cuMemcpyAsync")
#undef SYM
  cu.lib = lib;
  return 0;
}

/*
 * Copies and frees. cuMemFree waits until every kernel has ended, and while
 * it waits the driver holds a lock that every cuMemcpyAsync of the process
 * waits for, in any context (H100, driver 580: a copy asked for 80 ms into
 * another thread's cuMemFree returned when the kernel ended, 3 s later;
 * cuMemAlloc, cuCtxSynchronize and cuMemHostRegister held up nothing). A
 * kernel waiting for one of our copies would then never end. libomptarget
 * frees device memory only between the OMPT data-delete callbacks (tool.c):
 * from a free's begin to its end no copy of ours starts (the device thread
 * copies that piece itself), and the begin waits for the copy that may be
 * in a driver call, which needs nothing from the free. CUDA frees outside
 * libomptarget are not seen: the copy engine is on only with the callbacks,
 * and a copy held up for seconds says why (copy_blocked).
 */
static struct {
  pthread_mutex_t lock;
  pthread_cond_t idle;
  int on;      /* the data-delete callbacks are registered */
  int frees;   /* frees between their begin and end */
  int copying; /* copies between their first driver call and their last */
  timer_t timer; /* armed while a copy is in the driver (timer_ok); copies come
                  * from the one host thread, one at a time */
  int timer_ok;
} guard = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, 0};

/* Seconds a copy may take before it is reported as held up (one 4 MiB piece takes < 1 ms). */
#define COPY_BLOCKED_S 2

/* Runs on a thread of its own when a copy has been in the driver COPY_BLOCKED_S. */
static void copy_blocked(union sigval v) {
  (void)v;
  oiu_warn("a CUDA copy for device code has waited %d s in the driver: a CUDA call of another "
           "host thread outside OpenMP (cudaFree or cuMemFree) is waiting for the running kernel, "
           "which waits for this copy, so neither can end. LIBOMPTARGET_IO_URING_COPY_ENGINE=0 "
           "makes device threads copy instead",
           COPY_BLOCKED_S);
}

/* Made with the first copy stream (copy_warm_up); without it copies go unwatched. */
static void copy_timer_create(void) {
  pthread_mutex_lock(&guard.lock);
  if (!guard.timer_ok) {
    struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = copy_blocked};
    guard.timer_ok = timer_create(CLOCK_MONOTONIC, &ev, &guard.timer) == 0;
  }
  pthread_mutex_unlock(&guard.lock);
}

static void copy_timer_set(int seconds) {
  struct itimerspec t = {.it_value = {.tv_sec = seconds}};
  if (guard.timer_ok)
    timer_settime(guard.timer, 0, &t, NULL);
}

void oiu_copy_guard_enable(void) { __atomic_store_n(&guard.on, 1, __ATOMIC_RELEASE); }
int oiu_copy_guard_enabled(void) { return __atomic_load_n(&guard.on, __ATOMIC_ACQUIRE); }

void oiu_free_begin(void) {
  pthread_mutex_lock(&guard.lock);
  guard.frees++;
  while (guard.copying)
    pthread_cond_wait(&guard.idle, &guard.lock);
  pthread_mutex_unlock(&guard.lock);
}

void oiu_free_end(void) {
  pthread_mutex_lock(&guard.lock);
  guard.frees--;
  pthread_mutex_unlock(&guard.lock);
}

/* Whether a copy may start now; a started one must be ended with copy_end. */
static int copy_begin(void) {
  pthread_mutex_lock(&guard.lock);
  int ok = guard.on && !guard.frees;
  guard.copying += ok;
  pthread_mutex_unlock(&guard.lock);
  if (ok)
    copy_timer_set(COPY_BLOCKED_S);
  return ok;
}

static void copy_end(void) {
  copy_timer_set(0);
  pthread_mutex_lock(&guard.lock);
  if (--guard.copying == 0)
    pthread_cond_broadcast(&guard.idle);
  pthread_mutex_unlock(&guard.lock);
}

/*
 * The copy engine's stream and first copies, made here, before any kernel
 * runs: the driver may set up a stream or a copy path lazily, and doing so
 * while a kernel that waits for the copy runs may never finish (a pointer
 * query blocked on a driver lock during a kernel: H200, driver 580). On
 * failure the copies stay with device threads (gpu_ctx cleared).
 */
static void copy_warm_up(struct oiu_region *r, int ordinal) {
  copy_timer_create();
  CUresult cr = cu.stream_create((CUstream *)&r->gpu_stream, CU_STREAM_NON_BLOCKING);
  uint64_t host = (uint64_t)(uintptr_t)r->host;
  if (!cr) /* both directions, 64 bytes: zeros both (the block was zeroed, the region is fresh) */
    cr = cu.copy(host, r->local_addr, 64, r->gpu_stream);
  if (!cr)
    cr = cu.copy(r->local_addr, host, 64, r->gpu_stream);
  if (!cr)
    cr = cu.stream_sync(r->gpu_stream);
  if (cr) {
    oiu_warn("CUDA device %d: the copy engine failed its first copy (error %d); device threads "
             "copy instead",
             ordinal, cr);
    if (r->gpu_stream)
      cu.stream_destroy(r->gpu_stream);
    r->gpu_stream = NULL;
    r->gpu_ctx = NULL;
    return;
  }
  oiu_info("CUDA device %d: copy engine ready (stream and first copies made before any kernel)",
           ordinal);
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
  if (!cr) /* the memset may run asynchronously: done before any stream of ours or libomptarget's */
    cr = cu.stream_sync(NULL);
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
  r->gpu_ctx = ctx;
  if (oiu_cfg.copy_engine || oiu_cfg.stall_s) /* stall.c reads the block while kernels run */
    copy_warm_up(r, ordinal);
out:
  cu.ctx_pop(&popped);
  return err;
}

/*
 * Bulk staging copies for device code (OIU_HOSTCALL_COPY_*), by the host
 * thread: through the copy engine, on a non-blocking stream of our own so
 * that it runs beside the kernel that asked for it (the legacy default
 * stream would wait for that kernel: a deadlock). Unified addressing names
 * both ends, so no pointer query is needed (cuPointerGetAttribute blocked
 * while the kernel ran: H200, driver 580). An address the driver does not
 * know (a device stack address) fails: the device thread copies it itself.
 */
int oiu_mem_cuda_copy(struct oiu_region *r, int to_region, uint64_t gpu, void *host, size_t n) {
  CUcontext popped;
  int err = 0;
  if (!cu.lib || !r->gpu_ctx)
    return -ENOSYS;
  if (!copy_begin())
    return -EAGAIN; /* a free waits for the kernel: the device thread copies this piece */
  if (cu.ctx_push(r->gpu_ctx)) {
    copy_end();
    return -ENOSYS;
  }
  if (!r->gpu_stream && cu.stream_create((CUstream *)&r->gpu_stream, CU_STREAM_NON_BLOCKING)) {
    r->gpu_stream = NULL;
    err = -ENOSYS;
  } else {
    uint64_t h = (uint64_t)(uintptr_t)host;
    CUresult cr = to_region ? cu.copy(h, gpu, n, r->gpu_stream) : cu.copy(gpu, h, n, r->gpu_stream);
    if (!cr)
      cr = cu.stream_sync(r->gpu_stream);
    if (cr == CUDA_ERROR_INVALID_VALUE) { /* not an address the driver knows */
      err = -EINVAL;
    } else if (cr) {
      oiu_warn("CUDA copy of %zu bytes %s GPU memory failed (error %d); device threads copy instead",
               n, to_region ? "from" : "to", cr);
      err = -EIO;
    }
  }
  cu.ctx_pop(&popped);
  copy_end();
  return err;
}

/*
 * A snapshot of the device-local block for stall.c, taken while a kernel
 * (perhaps hung) runs: on our stream, polled, so a copy stuck behind that
 * kernel costs timeout_ms and not the host thread. A copy that timed out
 * still owns out and the stream: both are given up (the caller leaks out).
 * Not while a free is under way: the copy call would wait for the kernel.
 */
int oiu_mem_cuda_read_local(struct oiu_region *r, void *out, unsigned timeout_ms) {
  CUcontext popped;
  if (!cu.lib || !r->gpu_ctx || !r->gpu_stream)
    return -ENOSYS;
  if (!copy_begin())
    return -EAGAIN;
  if (cu.ctx_push(r->gpu_ctx)) {
    copy_end();
    return -ENOSYS;
  }
  int err = cu.copy((uint64_t)(uintptr_t)out, r->local_addr, r->local_size, r->gpu_stream) ? -EIO : 0;
  for (unsigned ms = 0; !err; ms++) {
    CUresult q = cu.stream_query(r->gpu_stream);
    if (q == 0)
      break;
    if (q != CUDA_ERROR_NOT_READY || ms == timeout_ms) {
      err = q == CUDA_ERROR_NOT_READY ? -ETIMEDOUT : -EIO;
      r->gpu_stream = NULL; /* busy for good: no copy may queue behind it */
      r->gpu_ctx = NULL;
      break;
    }
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  cu.ctx_pop(&popped);
  copy_end();
  return err;
}

/* At exit the context may already be gone: these then fail harmlessly. */
void oiu_mem_cuda_unmap(struct oiu_region *r) {
  if (!cu.lib)
    return;
  if (r->gpu_stream)
    cu.stream_destroy(r->gpu_stream);
  r->gpu_stream = NULL;
  cu.host_unregister(r->host);
  if (r->local_addr)
    cu.mem_free(r->local_addr);
}
