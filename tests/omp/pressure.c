/* SPDX-License-Identifier: MIT */
/*
 * pressure T M K [stdout|stderr]: T teams of M threads, all running at once,
 * each print K lines (check_lines verifies every line once, untorn, in
 * order). Run with the smallest rings and buffers, this is backpressure:
 * thousands of writers on a 2-entry SQ, 64 staging slots and a 64 KiB
 * stream ring. Exit 1 if a call returned a wrong count or fewer than T x M
 * threads ran (on the host target: OMP_NUM_THREADS=M, OMP_THREAD_LIMIT and
 * KMP_TEAMS_THREAD_LIMIT >= T x M).
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
  int bad = 0, ran = 0;
#pragma omp target teams num_teams(T) thread_limit(M) map(tofrom : bad, ran)
#pragma omp parallel num_threads(M)
  {
    int t = omp_get_team_num(), m = omp_get_thread_num();
    if (t < T && m < M) {
#pragma omp atomic
      ran++;
      for (int k = 0; k < K; k++) {
        if (print_line_checked(t, m, k, to_stderr)) {
#pragma omp atomic
          bad++;
        }
      }
    }
  }
  /* On descriptor 3 when open (run.sh), so it never mixes with the checked lines. */
  FILE *note = fdopen(3, "w");
  fprintf(note ? note : stderr, "pressure: %d of %d threads ran, %d wrong counts\n", ran, T * M, bad);
  return bad != 0 || ran != T * M;
}
