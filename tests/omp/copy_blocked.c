/* SPDX-License-Identifier: MIT */
/*
 * copy_blocked PATH: what the runtime says when a CUDA free outside OpenMP holds
 * up the copy engine. Another host thread allocates and frees device memory
 * with the CUDA driver itself (cuMemAlloc/cuMemFree, which libomptarget
 * never sees) while a target region moves bulk data through the copy
 * engine. cuMemFree waits for the kernel, the driver holds our next copy
 * until it returns, and the kernel waits for that copy: a deadlock the
 * runtime cannot break (plugin/mem_cuda.c), only report. tests/run.sh
 * (copy_blocked) expects the report within seconds and kills the process.
 * Exit 77 where there is no CUDA driver or device (the host target).
 */
#include <dlfcn.h>
#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct {
  int (*init)(unsigned);
  int (*device_get)(int *, int);
  int (*primary_retain)(void **, int);
  int (*set_current)(void *);
  int (*alloc)(uint64_t *, size_t);
  int (*free)(uint64_t);
} cu;
static void *ctx;
static long pairs;

static void *churn(void *arg) {
  (void)arg;
  cu.set_current(ctx);
  for (;;) {
    uint64_t p;
    if (cu.alloc(&p, 16u << 20) || cu.free(p)) {
      fprintf(stderr, "copy_blocked: cuMemAlloc/cuMemFree failed\n");
      exit(1);
    }
    __atomic_fetch_add(&pairs, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

/* The driver calls the other thread makes, and device 0's primary context; 0 or -1. */
static int cuda_open(void) {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return -1;
  *(void **)&cu.init = dlsym(lib, "cuInit");
  *(void **)&cu.device_get = dlsym(lib, "cuDeviceGet");
  *(void **)&cu.primary_retain = dlsym(lib, "cuDevicePrimaryCtxRetain");
  *(void **)&cu.set_current = dlsym(lib, "cuCtxSetCurrent");
  *(void **)&cu.alloc = dlsym(lib, "cuMemAlloc_v2");
  *(void **)&cu.free = dlsym(lib, "cuMemFree_v2");
  int cudev;
  if (!cu.init || !cu.device_get || !cu.primary_retain || !cu.set_current || !cu.alloc ||
      !cu.free || cu.init(0) || cu.device_get(&cudev, 0) || cu.primary_retain(&ctx, cudev))
    return -1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: copy_blocked PATH (a scratch file)\n");
    return 2;
  }
  char path[512];
  snprintf(path, sizeof path, "%s", argv[1]);
  int dev = omp_get_default_device();
  if (omp_get_num_devices() == 0 || cuda_open()) {
    printf("copy_blocked: no CUDA driver or no device: skipped\n");
    return 77;
  }
  uint64_t n = 16u << 20;
  unsigned char *a = omp_target_alloc(n, dev);
  if (!a) {
    fprintf(stderr, "copy_blocked: no device memory\n");
    return 1;
  }
  /* The first region starts the channel; the other thread starts after it. */
  long moved = 0;
#pragma omp target map(tofrom : moved) map(to : path) is_device_ptr(a) device(dev)
  {
    FILE *f = fopen(path, "w+b");
    moved = f ? (long)fwrite(a, 1, n, f) : -1;
    if (f)
      fclose(f);
  }
  printf("copy_blocked: warm-up fwrite of %llu bytes: %ld\n", (unsigned long long)n, moved);
  pthread_t t;
  pthread_create(&t, NULL, churn, NULL);
  fflush(stdout);
  /* Long enough (minutes) that a free starts while it runs. */
#pragma omp target map(tofrom : moved) map(to : path) is_device_ptr(a) device(dev)
  {
    FILE *f = fopen(path, "w+b");
    for (int r = 0; f && r < 20000; r++) {
      moved += (long)fwrite(a, 1, n, f);
      rewind(f);
    }
    if (f)
      fclose(f);
  }
  printf("copy_blocked: finished: %ld bytes moved, %ld alloc/free pairs meanwhile\n", moved,
         __atomic_load_n(&pairs, __ATOMIC_RELAXED));
  return 0;
}
