/* SPDX-License-Identifier: MIT */
/*
 * check_lines T M K < output: every (team, thread, line) line of lines.c must
 * be present exactly once, byte-exact (so never torn or interleaved), and in
 * order per (team, thread). Prints a summary; exit 1 on any defect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "line_format.h"

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s TEAMS THREADS LINES < output\n", argv[0]);
    return 2;
  }
  int T = atoi(argv[1]), M = atoi(argv[2]), K = atoi(argv[3]);
  int *next = calloc((size_t)T * M, sizeof *next);
  char line[512], expect[512];
  long total = 0, defects = 0;
  while (fgets(line, sizeof line, stdin)) {
    int t, m, k;
    total++;
    if (sscanf(line, "team %d thread %d line %d", &t, &m, &k) != 3 || t < 0 || t >= T || m < 0 ||
        m >= M || k < 0 || k >= K) {
      if (defects++ < 10)
        fprintf(stderr, "check_lines: malformed or torn line %ld: %s", total, line);
      continue;
    }
    snprintf(expect, sizeof expect, LINE_FMT, LINE_ARGS(t, m, k));
    if (strcmp(line, expect) != 0) {
      if (defects++ < 10)
        fprintf(stderr, "check_lines: line %ld differs:\n  got    %s  expect %s", total, line, expect);
      continue;
    }
    int *n = &next[t * M + m];
    if (k != *n) {
      if (defects++ < 10)
        fprintf(stderr, "check_lines: team %d thread %d: line %d where %d was due (%s)\n", t, m, k,
                *n, k < *n ? "duplicate or reordered" : "missing or reordered");
      if (k > *n)
        *n = k + 1;
      continue;
    }
    (*n)++;
  }
  long missing = 0;
  for (int i = 0; i < T * M; i++)
    missing += K - next[i];
  printf("check_lines: %ld lines read, %d expected, %ld defects, %ld missing\n", total, T * M * K,
         defects, missing);
  free(next);
  return defects || missing || total != (long)T * M * K;
}
