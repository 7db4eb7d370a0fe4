/* SPDX-License-Identifier: MIT */
/*
 * big N T M K: one device thread printf()s a single message of N + ~9 bytes
 * ("%s|%d\n" with an N-byte string) while the other T x M - 1 threads each
 * print K ordinary lines. check_big verifies that the big message arrives
 * complete and in order, and where other lines may fall inside it (the
 * splitting rule: see README, "Guarantees"). The big call's return value
 * goes to descriptor 3.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "line_format.h"

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s BYTES TEAMS THREADS LINES\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[1]), T = atoi(argv[2]), M = atoi(argv[3]), K = atoi(argv[4]);
  char *big = malloc((size_t)n + 1);
  if (!big)
    return 2;
  for (int i = 0; i < n; i++)
    big[i] = BIG_CHAR(i);
  big[n] = '\0';
  int rbig = 0, bad = 0, ran = 0;
#pragma omp target teams num_teams(T) thread_limit(M) map(to : big[0 : n + 1]) \
    map(tofrom : rbig, bad, ran)
#pragma omp parallel num_threads(M)
  {
    int t = omp_get_team_num(), m = omp_get_thread_num();
    if (t < T && m < M) {
#pragma omp atomic
      ran++;
    }
    if (t == 0 && m == 0) {
      rbig = printf("%s|%d\n", big, n);
    } else if (t < T && m < M) {
      for (int k = 0; k < K; k++) {
        char expect[160];
        int len = snprintf(expect, sizeof expect, LINE_FMT, LINE_ARGS(t, m, k));
        if (printf(LINE_FMT, LINE_ARGS(t, m, k)) != len) {
#pragma omp atomic
          bad++;
        }
      }
    }
  }
  free(big);
  dprintf(3, "big: printf returned %d; %d of %d threads ran, %d wrong counts\n", rbig, ran, T * M,
          bad);
  return bad != 0 || ran != T * M;
}
