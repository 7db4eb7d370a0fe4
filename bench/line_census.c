/* SPDX-License-Identifier: MIT */
/*
 * Counts what a printf_bench run delivered: reads its lines from stdin (a
 * file, or the far end of the pipe sink) and prints
 *   lines=N distinct=N duplicates=N malformed=N lost=N
 * A line counts only if it is byte-identical to the line printf_bench prints
 * for its (thread, line) pair, so torn or corrupted lines are "malformed".
 * As a pipe's reader it must not be what limits the writer: it takes all of
 * stdin into memory at read(2) speed first and checks the lines after EOF.
 *   line_census TEAMS THREADS LINES [BYTES]     (the printf_bench arguments)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE "thread %d line %d value %f\n"        /* printf_bench.c */
#define SIZED_LINE "%8d %6d %12.4f%*s\n"            /* printf_bench.c */
#define SIZED_FIXED 29

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: %s TEAMS THREADS LINES [BYTES] < output\n", argv[0]);
    return 2;
  }
  long threads = atol(argv[1]) * atol(argv[2]), per = atol(argv[3]);
  int bytes = argc == 5 ? atoi(argv[4]) : 0;
  long expect = threads * per;
  uint8_t *seen = calloc((size_t)expect / 8 + 1, 1);
  if (!seen || expect <= 0)
    return 2;
  size_t size = 0, cap = 1 << 24;
  char *all = malloc(cap), want[512];
  for (ssize_t got = 1; all && got > 0; size += (size_t)got) {
    if (cap - size < (1 << 20))
      all = realloc(all, cap *= 2);
    got = all ? read(0, all + size, cap - size) : 0;
    if (got < 0) {
      perror("line_census: read");
      return 2;
    }
  }
  if (!all)
    return 2;
  long lines = 0, distinct = 0, dups = 0, bad = 0;
  for (char *line = all, *nl; line < all + size; line = nl + 1) {
    nl = memchr(line, '\n', (size_t)(all + size - line));
    if (!nl) { /* an unterminated last line is torn */
      lines++, bad++;
      break;
    }
    long len = nl - line + 1;
    lines++;
    char *p = line, *end;
    if (!bytes) {
      if (strncmp(p, "thread ", 7)) {
        bad++;
        continue;
      }
      p += 7;
    }
    long id = strtol(p, &end, 10);
    if (!bytes && strncmp(end, " line ", 6)) {
      bad++;
      continue;
    }
    long k = strtol(end + (bytes ? 0 : 6), NULL, 10);
    if (id < 0 || id >= threads || k < 0 || k >= per) {
      bad++;
      continue;
    }
    int n = bytes ? snprintf(want, sizeof want, SIZED_LINE, (int)id, (int)k, id * 0.5 + k,
                             bytes - SIZED_FIXED, "")
                  : snprintf(want, sizeof want, LINE, (int)id, (int)k, id * 0.5 + k);
    if (n != len || memcmp(want, line, (size_t)len)) {
      bad++;
      continue;
    }
    long bit = id * per + k;
    if (seen[bit / 8] & (1u << bit % 8)) {
      dups++;
      continue;
    }
    seen[bit / 8] |= (uint8_t)(1u << bit % 8);
    distinct++;
  }
  printf("lines=%ld distinct=%ld duplicates=%ld malformed=%ld lost=%ld\n", lines, distinct, dups,
         bad, expect - distinct);
  free(all);
  free(seen);
  return 0;
}
