// SPDX-License-Identifier: MIT
// Probe behind plugin/mem_cuda.c's guard (not part of the build; run by hand on a GPU node):
//   nvcc -O2 -arch=sm_90 -o cuda_free_vs_copy bench/probes/cuda_free_vs_copy.cu -lcuda -lpthread
//   for F in none free alloc ctxsync hostreg; do for C in d2h h2d own_d2h own_h2d peer_d2h peer_h2d; do
//     ./cuda_free_vs_copy $F $C 4; done; done
// A one-thread kernel spins on a host flag; 20 ms in, another thread makes the FREER call; 100 ms
// in, this thread asks for a COPIER copy and, once it is done, releases the kernel (a watchdog does
// at 3 s). H100, driver 580 (2026-12-06): only cuMemFree held the copy (in any context, peer copies
// too) until the kernel ended; cuMemAlloc, cuCtxSynchronize and cuMemHostRegister held up nothing.
#include <cuda.h>
#include <cuda_runtime.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static double T0;
#define MS() ((now() - T0) * 1e3)
#define CK(x) do { CUresult r_ = (x); if (r_) { const char *s_; cuGetErrorName(r_, &s_); printf("  %.1f ms: %s -> %s\n", MS(), #x, s_); } } while (0)

__global__ void spin(volatile int *flag, unsigned long long *spins) {
  unsigned long long n = 0;
  while (!*flag) n++;
  *spins = n;
}

static CUcontext prim, own;
static volatile int *flag; static int *flag_dev;
static const char *freer, *copier;
static size_t bytes;
static CUdeviceptr dbuf, victim; static void *hbuf;

static void *freer_main(void *) {
  cuCtxSetCurrent(prim);
  usleep(20000);
  double a = MS();
  if (!strcmp(freer, "free")) CK(cuMemFree(victim));
  else if (!strcmp(freer, "alloc")) { CUdeviceptr p; CK(cuMemAlloc(&p, 64 << 20)); }
  else if (!strcmp(freer, "ctxsync")) CK(cuCtxSynchronize());
  else if (!strcmp(freer, "hostreg")) { void *m = aligned_alloc(4096, 64 << 20); CK(cuMemHostRegister(m, 64 << 20, 0)); }
  else return NULL;
  printf("  freer %s: %.1f -> %.1f ms\n", freer, a, MS());
  return NULL;
}

static void *watchdog(void *) {
  usleep(3000000);
  if (!*flag) { printf("  watchdog: kernel released at %.1f ms\n", MS()); *flag = 2; }
  return NULL;
}

int main(int argc, char **argv) {
  freer = argv[1]; copier = argv[2];
  bytes = (size_t)(argc > 3 ? atoi(argv[3]) : 4) << 20;
  cudaSetDevice(0); cudaFree(0);
  cuCtxGetCurrent(&prim);
  CUdevice dev; cuDeviceGet(&dev, 0);
  int own_ctx = !strncmp(copier, "own", 3) || !strncmp(copier, "peer", 4);
  if (own_ctx) { CK(cuCtxCreate(&own, NULL, 0, dev)); cuCtxSetCurrent(prim); }
  cudaHostAlloc((void **)&flag, 4096, cudaHostAllocMapped | cudaHostAllocPortable);
  cudaHostGetDevicePointer((void **)&flag_dev, (void *)flag, 0);
  *flag = 0;
  CK(cuMemAlloc(&dbuf, bytes)); CK(cuMemAlloc(&victim, 256 << 20));
  cudaHostAlloc(&hbuf, bytes, cudaHostAllocPortable | cudaHostAllocMapped);
  memset(hbuf, 7, bytes);
  unsigned long long *spins; cudaMalloc(&spins, 8);
  CUstream cs;
  if (own_ctx) { cuCtxSetCurrent(own); CK(cuStreamCreate(&cs, CU_STREAM_NON_BLOCKING)); }
  else CK(cuStreamCreate(&cs, CU_STREAM_NON_BLOCKING));
  // warm the copy path before the kernel
  int d2h = strstr(copier, "d2h") != NULL;
  CUdeviceptr hdev = (CUdeviceptr)(uintptr_t)hbuf;
  if (!strncmp(copier, "peer", 4)) {
    CK(d2h ? cuMemcpyPeerAsync(hdev, own, dbuf, prim, 64, cs) : cuMemcpyPeerAsync(dbuf, prim, hdev, own, 64, cs));
  } else if (strcmp(copier, "nocall")) {
    CK(d2h ? cuMemcpyAsync(hdev, dbuf, 64, cs) : cuMemcpyAsync(dbuf, hdev, 64, cs));
  }
  CK(cuStreamSynchronize(cs));
  cuCtxSetCurrent(prim);
  cudaStream_t ks; cudaStreamCreateWithFlags(&ks, cudaStreamNonBlocking);
  T0 = now();
  spin<<<1, 1, 0, ks>>>(flag_dev, spins);
  pthread_t f, w;
  pthread_create(&w, NULL, watchdog, NULL);
  pthread_create(&f, NULL, freer_main, NULL);
  usleep(100000);
  if (strcmp(copier, "nocall")) {
    cuCtxSetCurrent(own_ctx ? own : prim);
    double a = MS();
    if (!strncmp(copier, "peer", 4))
      CK(d2h ? cuMemcpyPeerAsync(hdev, own, dbuf, prim, bytes, cs) : cuMemcpyPeerAsync(dbuf, prim, hdev, own, bytes, cs));
    else
      CK(d2h ? cuMemcpyAsync(hdev, dbuf, bytes, cs) : cuMemcpyAsync(dbuf, hdev, bytes, cs));
    double b = MS();
    CUresult q;
    while ((q = cuStreamQuery(cs)) == CUDA_ERROR_NOT_READY) {}
    double c = MS();
    int before = *flag == 0;
    printf("  copier %s %zu MiB: call %.1f -> %.1f ms, done %.1f ms (query %d)%s, %.2f GB/s\n", copier, bytes >> 20, a, b, c, q,
           before ? " BEFORE the kernel ended" : " after the watchdog", bytes / ((c - a) * 1e6));
    if (before) *flag = 1;
  }
  cuCtxSetCurrent(prim);
  cudaStreamSynchronize(ks);
  printf("  kernel done at %.1f ms\n", MS());
  pthread_join(f, NULL);
  printf("RESULT %s %s: %s\n", freer, copier, *flag == 1 ? "copy completed while the kernel ran" : *flag == 2 ? "BLOCKED until the kernel ended" : "no copy");
  return 0;
}
