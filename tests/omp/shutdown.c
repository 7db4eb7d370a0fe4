/* SPDX-License-Identifier: MIT */
/*
 * shutdown MODE T K: in a target region, T threads each print K lines, then
 * the region's initial thread:
 *   exit   calls exit(0) inside the target region (host target; a GPU
 *          cannot, so there the host calls it right after): every byte
 *          still buffered or in flight must reach the file.
 *   abort  calls abort() (GPU: a trap)
 *   trap   executes a trap instruction
 * Lines go to stdout (exit) or stderr (abort, trap: unbuffered, so each
 * call returned after its write). Linked with release_check, which reports
 * after omp-iouring released everything at exit.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "line_format.h"

#pragma omp declare target
static void finish(int mode) {
#if defined(__NVPTX__) || defined(__AMDGPU__)
  if (mode != 0)
    __builtin_trap();
#else
  if (mode == 0)
    exit(0);
  if (mode == 1)
    abort();
  __builtin_trap();
#endif
}
#pragma omp end declare target

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s exit|abort|trap THREADS LINES\n", argv[0]);
    return 2;
  }
  int mode = !strcmp(argv[1], "exit") ? 0 : !strcmp(argv[1], "abort") ? 1 : 2;
  int T = atoi(argv[2]), K = atoi(argv[3]);
#pragma omp target
  {
#pragma omp parallel num_threads(T)
    {
      int m = omp_get_thread_num();
      for (int k = 0; k < K; k++) {
        if (mode == 0)
          printf(LINE_FMT, LINE_ARGS(0, m, k));
        else
          fprintf(stderr, LINE_FMT, LINE_ARGS(0, m, k));
      }
    }
    /* Only this thread is in the region now: LLVM 22's runtime crashes when
     * exit() runs while other threads are inside one (README, known problems). */
    finish(mode);
  }
  if (mode == 0)
    exit(0); /* GPUs: device code cannot call exit */
  return 3;  /* abort and trap never get here */
}
