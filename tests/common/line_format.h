/* SPDX-License-Identifier: MIT */
/* The line every (team, thread, line) of the concurrency tests prints, so the checker can rebuild it. */
#ifndef OIU_TEST_LINE_FORMAT_H
#define OIU_TEST_LINE_FORMAT_H
#include <stdio.h>

#define LINE_FMT "team %d thread %d line %d value %.3f tag %.*s check %08x\n"
#define LINE_TAG "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

static inline unsigned line_check(int t, int m, int k) {
  unsigned h = 2166136261u;
  h = (h ^ (unsigned)t) * 16777619u;
  h = (h ^ (unsigned)m) * 16777619u;
  h = (h ^ (unsigned)k) * 16777619u;
  return h;
}
static inline double line_value(int t, int m, int k) { return t * 1000.0 + m + k / 8.0; }
static inline int line_tag_len(int t, int m, int k) { return (t * 7 + m * 3 + k) % 62; }

/* Byte i of big.c's long message: letters only, so "team " never occurs in it. */
#define BIG_CHAR(i) ((char)('a' + (i) % 26))

#define LINE_ARGS(t, m, k) \
  t, m, k, line_value(t, m, k), line_tag_len(t, m, k), LINE_TAG, line_check(t, m, k)

/* Prints line (t, m, k) to stdout or stderr (device code); 1 if the call's
 * count is not the line's length. */
static inline int print_line_checked(int t, int m, int k, int to_stderr) {
  char expect[160];
  int len = snprintf(expect, sizeof expect, LINE_FMT, LINE_ARGS(t, m, k));
  int r = to_stderr ? fprintf(stderr, LINE_FMT, LINE_ARGS(t, m, k))
                    : printf(LINE_FMT, LINE_ARGS(t, m, k));
  return r != len;
}

#endif
