/* SPDX-License-Identifier: MIT */
/*
 * The main example: 256 iterations spread over device teams and threads, each
 * printing a line from inside the target region. Build and run:
 *   clang -O2 -fopenmp --offload-arch=sm_90 hello.c $(pkg-config --cflags --libs omp-iouring)
 *   LIBOMPTARGET_IO_URING=1 ./a.out
 * Every line arrives whole and exactly once, while the kernel runs.
 */
#include <omp.h>
#include <stdio.h>

int main(void) {
  const int n = 256;
#pragma omp target teams distribute parallel for num_teams(8) thread_limit(32)
  for (int i = 0; i < n; i++)
    printf("hello from iteration %3d (team %d, thread %d): 1/(%d+1) = %.6f\n", i,
           omp_get_team_num(), omp_get_thread_num(), i, 1.0 / (i + 1));
  printf("host: %d device lines printed\n", n);
  return 0;
}
