/* SPDX-License-Identifier: MIT */
/*
 * check_big N T M K PIECE < output: the output of big.c. Ordinary lines
 * (from every (team, thread) except (0, 0), K each) are taken out wherever
 * they are, each checked byte-exact and in per-thread order; what is left
 * must be exactly the big message. An ordinary line may sit inside the big
 * message only at a multiple of PIECE bytes from its start (PIECE 0: never,
 * the message is one unit). Exit 1 on any defect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "line_format.h"

static char *slurp(size_t *len) {
  size_t cap = 1 << 20, n = 0, r;
  char *p = malloc(cap);
  while (p && (r = fread(p + n, 1, cap - n, stdin)) > 0)
    if ((n += r) == cap)
      p = realloc(p, cap *= 2);
  *len = n;
  return p;
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: %s BYTES TEAMS THREADS LINES PIECE < output\n", argv[0]);
    return 2;
  }
  long n = atol(argv[1]), piece = atol(argv[5]);
  int T = atoi(argv[2]), M = atoi(argv[3]), K = atoi(argv[4]);
  char tail[32], expect[512];
  long big_len = n + snprintf(tail, sizeof tail, "|%ld\n", n);
  long b = 0, lines = 0, inside = 0, defects = 0; /* b: bytes of the big message seen */
  int *next = calloc((size_t)T * M, sizeof *next);
  size_t len, i = 0;
  char *out = slurp(&len);
  if (!out || !next)
    return 2;
  while (i < len) {
    /* The message is letters, '|', digits and '\n': "team " starts an ordinary line. */
    if (len - i >= 5 && !memcmp(out + i, "team ", 5)) {
      char *end = memchr(out + i, '\n', len - i);
      size_t l = end ? (size_t)(end - (out + i)) + 1 : len - i;
      lines++;
      if (b > 0 && b < big_len && (inside++, piece == 0 || b % piece != 0) && defects++ < 10)
        fprintf(stderr, "check_big: a line inside the big message at byte %ld (piece %ld)\n", b,
                piece);
      int t, m, k;
      if (sscanf(out + i, "team %d thread %d line %d", &t, &m, &k) != 3 || t < 0 || t >= T ||
          m < 0 || m >= M || k < 0 || k >= K || (t == 0 && m == 0)) {
        if (defects++ < 10)
          fprintf(stderr, "check_big: malformed line at output byte %zu\n", i);
      } else if (snprintf(expect, sizeof expect, LINE_FMT, LINE_ARGS(t, m, k)) != (int)l ||
                 memcmp(out + i, expect, l) || k != next[t * M + m]) {
        if (defects++ < 10)
          fprintf(stderr, "check_big: line differs or out of order: %s", expect);
      } else {
        next[t * M + m]++;
      }
      i += l;
      continue;
    }
    char want = b < n ? BIG_CHAR(b) : b < big_len ? tail[b - n] : 0;
    if ((b >= big_len || out[i] != want) && defects++ < 10)
      fprintf(stderr, "check_big: big message byte %ld is %d, expected %d\n", b, out[i], want);
    b++;
    i++;
  }
  long missing = 0;
  for (int j = 1; j < T * M; j++)
    missing += K - next[j];
  printf("check_big: %ld-byte message: %ld bytes found; %ld lines (%ld inside it, piece %ld), "
         "%ld missing, %ld defects\n", big_len, b, lines, inside, piece, missing, defects);
  free(next);
  free(out);
  return defects || missing || b != big_len;
}
