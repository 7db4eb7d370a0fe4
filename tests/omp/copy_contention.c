/* SPDX-License-Identifier: MIT */
/*
 * copy_contention SIZE ROUNDS: device fwrite and fread of SIZE bytes of GPU
 * memory, in ROUNDS target regions one after another, while another host
 * thread allocates and frees SIZE bytes of device memory in a loop.
 *
 * Why: on NVIDIA the host thread moves bulk staging bytes with the GPU's
 * copy engine (cuMemcpyAsync on its own stream; LIBOMPTARGET_IO_URING_COPY_ENGINE)
 * while the kernel that asked for them waits. cuMemFree of a large block
 * waits for this kernel, and the driver holds up every copy meanwhile:
 * without the guard in plugin/mem_cuda.c kernel and copy would wait on each
 * other forever. A hang fails the test at its timeout. Each region starts
 * while the other thread's free of the last one's end may be under way, so
 * frees begin before, during and after copies. The bytes are checked on the
 * device and in the file.
 */
#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "size_arg.h"

static int stop;
static long pairs;
static uint64_t block;

/* Allocates and frees device memory until told to stop. */
static void *churn(void *arg) {
  int dev = *(int *)arg;
  while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
    void *p = omp_target_alloc(block, dev);
    if (!p) {
      fprintf(stderr, "copy_contention: omp_target_alloc(%llu) failed\n", (unsigned long long)block);
      return NULL;
    }
    omp_target_free(p, dev);
    __atomic_fetch_add(&pairs, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

int main(int argc, char **argv) {
  uint64_t n = argc > 1 ? parse_size(argv[1]) : 64u << 20;
  int rounds = argc > 2 ? atoi(argv[2]) : 4;
  char path[4096];
  const char *dir = getenv("TMPDIR");
  snprintf(path, sizeof path, "%s/oiu_copy_contention.XXXXXX", dir ? dir : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0 || n == 0 || rounds < 1) {
    fprintf(stderr, "usage: copy_contention SIZE ROUNDS (and a writable /tmp)\n");
    return 2;
  }
  close(fd);
  int dev = omp_get_default_device();
  block = n;
  unsigned char *a = omp_target_alloc(n, dev), *b = omp_target_alloc(n, dev);
  if (!a || !b) {
    fprintf(stderr, "copy_contention: cannot allocate 2 x %llu bytes on device %d\n",
            (unsigned long long)n, dev);
    return 1;
  }
  pthread_t t;
  if (pthread_create(&t, NULL, churn, &dev)) {
    fprintf(stderr, "copy_contention: pthread_create failed\n");
    return 1;
  }
  long wrong = 0, written = 0, read = 0, during = 0;
  double t0 = omp_get_wtime();
  for (int r = 0; r < rounds && wrong >= 0; r++) {
#pragma omp target is_device_ptr(a, b) map(tofrom : wrong, written, read) firstprivate(n, r) \
    map(to : path)
    {
#pragma omp parallel for
      for (uint64_t i = 0; i < n; i++)
        a[i] = (unsigned char)(i * 131 + r);
      FILE *f = fopen(path, "w+b");
      if (!f) {
        wrong = -1;
      } else {
        written += (long)fwrite(a, 1, n, f);
        rewind(f);
        read += (long)fread(b, 1, n, f);
        fclose(f);
        long w = 0;
#pragma omp parallel for reduction(+ : w)
        for (uint64_t i = 0; i < n; i++)
          w += b[i] != (unsigned char)(i * 131 + r);
        wrong += w;
      }
    }
  }
  double secs = omp_get_wtime() - t0;
  during = __atomic_load_n(&pairs, __ATOMIC_RELAXED);
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  pthread_join(t, NULL);

  /* The file holds the last round's bytes. */
  long file_wrong = 0;
  FILE *f = fopen(path, "rb");
  uint64_t at = 0;
  static unsigned char buf[1 << 16];
  size_t got;
  while (f && (got = fread(buf, 1, sizeof buf, f)) > 0) {
    for (size_t i = 0; i < got; i++)
      file_wrong += buf[i] != (unsigned char)((at + i) * 131 + (rounds - 1));
    at += got;
  }
  if (f)
    fclose(f);
  unlink(path);
  omp_target_free(a, dev);
  omp_target_free(b, dev);
  long want = (long)n * rounds;
  int ok = wrong == 0 && written == want && read == want && at == n && file_wrong == 0;
  printf("copy_contention: %d x %llu bytes written and read back in %.2f s, %ld wrong on the "
         "device, %ld wrong in the file; %ld alloc/free pairs of %llu bytes by another host "
         "thread meanwhile: %s\n",
         rounds, (unsigned long long)n, secs, wrong, file_wrong, during, (unsigned long long)n,
         ok ? "ok" : "FAILED");
  if (!ok)
    printf("copy_contention: fwrite total %ld, fread total %ld, want %ld; file %llu bytes\n",
           written, read, want, (unsigned long long)at);
  return !ok;
}
