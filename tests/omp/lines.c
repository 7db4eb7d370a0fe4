/* SPDX-License-Identifier: MIT */
/*
 * lines T M K [stdout|stderr]: T teams x M threads each print K lines from a
 * target region. check_lines verifies that every line arrives exactly once,
 * untorn and in per-thread order. Exit 1 if a call reported a wrong count.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "line_format.h"

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s TEAMS THREADS LINES [stdout|stderr]\n", argv[0]);
    return 2;
  }
  int T = atoi(argv[1]), M = atoi(argv[2]), K = atoi(argv[3]);
  int to_stderr = argc > 4 && !strcmp(argv[4], "stderr");
  int bad = 0;
#pragma omp target teams distribute parallel for collapse(2) num_teams(T) thread_limit(M) \
    map(tofrom : bad)
  for (int t = 0; t < T; t++)
    for (int m = 0; m < M; m++)
      for (int k = 0; k < K; k++) {
        if (print_line_checked(t, m, k, to_stderr)) {
#pragma omp atomic
          bad++;
        }
      }
  if (bad)
    fprintf(stderr, "lines: %d calls returned a wrong count\n", bad);
  return bad != 0;
}
