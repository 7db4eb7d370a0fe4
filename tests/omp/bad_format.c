/* SPDX-License-Identifier: MIT */
/*
 * Bad format input in target regions: defined, documented behaviour, no
 * crash, no write outside the destination.
 *
 *   bad_format          the calls run in a target region (our device library)
 *   bad_format --host   the same calls run on the host (glibc)
 *
 * Part 1 (unknown conversions, NULL %s, %n, truncation with canaries,
 * overflowing widths and precisions, missing arguments) must print the same
 * bytes both ways; run.sh compares them. Part 2 is where we differ from
 * glibc on purpose (README, "Bad format input"): in --host mode it prints
 * the documented device result instead of running.
 */
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#define CANARY 'Z'

#pragma omp declare target
/* Whether buf[from, to) still holds the canary. */
static int intact(const char *buf, int from, int to) {
  for (int i = from; i < to; i++)
    if (buf[i] != CANARY)
      return 0;
  return 1;
}

static void fill(char *buf, int n) {
  for (int i = 0; i < n; i++)
    buf[i] = CANARY;
}

static int length(const char *s) {
  int n = 0;
  while (s[n])
    n++;
  return n;
}

#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wformat"
#pragma clang diagnostic ignored "-Wformat-extra-args"
#pragma clang diagnostic ignored "-Wformat-invalid-specifier"
#pragma clang diagnostic ignored "-Wformat-insufficient-args"
#pragma clang diagnostic ignored "-Wformat-truncation"
#pragma clang diagnostic ignored "-Wformat-security"
#pragma clang diagnostic ignored "-Wformat-overflow"
static void part1(void) {
  char buf[32];
  int r;
  /* Unknown conversions print their own text, as glibc does. */
  r = printf("unknown: %y|%5.3y|%-#5Q|%lk|%hhv|%Lw|\n");
  printf("  returned %d\n", r);
  /* NULL for %s: "(null)", and nothing when a precision cuts it. */
  r = printf("null: %s|%10s|%-8s|%.3s|%.6s|%.*s|\n", (char *)0, (char *)0, (char *)0, (char *)0,
             (char *)0, -1, (char *)0);
  printf("  returned %d\n", r);
  /* %n stores the count so far into exactly the object its length names. */
  union {
    char c[24];
    long long align;
  } u;
  fill(u.c, 24);
  signed char *pc = (signed char *)&u.c[1];
  short *ps = (short *)&u.c[4];
  int *pi = (int *)&u.c[8];
  long long *pll = (long long *)&u.c[16];
  r = printf("count: ab%hhncde%hnfghij%nklmnopqrs%lln|\n", pc, ps, pi, pll);
  printf("  returned %d, stored %d %d %d %lld, canaries %d %d %d %d\n", r, *pc, *ps, *pi, *pll,
         u.c[0] == CANARY, intact(u.c, 2, 4), intact(u.c, 6, 8), intact(u.c, 12, 16));
  /* snprintf never writes past n, and counts all. */
  fill(buf, 32);
  r = snprintf(buf, 5, "%s", "abcdefgh");
  printf("truncate 5: returned %d, \"%s\", beyond intact %d\n", r, buf, intact(buf, 5, 32));
  fill(buf, 32);
  r = snprintf(buf, 1, "%d", 12345);
  printf("truncate 1: returned %d, first byte %d, beyond intact %d\n", r, buf[0],
         intact(buf, 1, 32));
  fill(buf, 32);
  r = snprintf(buf, 0, "%s%d", "abc", 7);
  printf("truncate 0: returned %d, untouched %d\n", r, intact(buf, 0, 32));
  /* Widths and precisions past INT_MAX, or a count past it: -1 (EOVERFLOW). */
  fill(buf, 32);
  r = snprintf(buf, 8, "%2147483648d", 1);
  printf("width 2^31: returned %d, beyond intact %d\n", r, intact(buf, 8, 32));
  r = snprintf(buf, 8, "%.2147483648f", 1.0);
  printf("precision 2^31: returned %d, beyond intact %d\n", r, intact(buf, 8, 32));
  r = snprintf(0, 0, "%99999999999999999999d", 1);
  printf("width 10^20: returned %d\n", r);
  r = snprintf(0, 0, "%.*s|%.*d", INT_MIN, "abc", -7, 5);
  printf("negative precisions are ignored: returned %d\n", r);
  /* The same failing conversions through printf write nothing. */
  r = printf("%2147483648d", 1);
  printf("|printf width 2^31: returned %d\n", r);
  r = printf("%");
  printf("|printf lone %%: returned %d\n", r);
  r = printf("%lc", 0x100);
  printf("|printf wide char 0x100: returned %d\n", r);
  /* Missing arguments are undefined behaviour in C: numeric conversions
   * read whatever value is there; the call must count what it wrote. */
  char wide[64];
  fill(wide, 64);
  r = snprintf(wide, 56, "<%d|%x|%ld>");
  printf("missing arguments: consistent %d, beyond intact %d\n",
         r == length(wide) && wide[0] == '<' && wide[r - 1] == '>', intact(wide, 56, 64));
}

/* Where the device library differs from glibc 2.36, by design. */
static void part2(void) {
  int r = printf("abc%2147483648d", 1); /* glibc writes "abc" first */
  printf("|text before a failing conversion: returned %d\n", r);
  r = printf("%2000d%2147483648d", 1, 1); /* longer than a 1 KiB slot before failing */
  printf("|slot of text before a failing conversion: returned %d\n", r);
  r = printf("%1$d", 5); /* glibc supports positional arguments */
  printf("|positional argument: returned %d\n", r);
  r = printf("%m"); /* glibc prints strerror(errno) */
  printf("|%%m: returned %d\n", r);
  /* "1." and INT_MAX zeros exceed INT_MAX: -1 before anything is written.
   * glibc 2.36's snprintf returns 0 here, and its printf writes 4 GiB. */
  char buf[16];
  fill(buf, 16);
  r = snprintf(buf, 8, "%.2147483647f", 1.0);
  printf("snprintf precision INT_MAX %%f: returned %d, beyond intact %d\n", r, intact(buf, 8, 16));
  r = printf("%.2147483647f", 1.0);
  printf("|printf precision INT_MAX %%f: returned %d\n", r);
  /* Exactly INT_MAX bytes are fine: counted at once (glibc pads 2 GiB, seconds). */
  r = snprintf(0, 0, "%*d", INT_MAX, 1);
  printf("width * INT_MAX: returned %d\n", r);
  r = snprintf(0, 0, "%.*d", INT_MAX, 1);
  printf("precision * INT_MAX: returned %d\n", r);
  r = snprintf(0, 0, "x%*d", INT_MAX, 1);
  printf("one more byte: returned %d\n", r);
}
#pragma clang diagnostic pop
#pragma omp end declare target

int main(int argc, char **argv) {
  int host = argc > 1 && !strcmp(argv[1], "--host");
  if (host) {
    part1();
    fflush(stdout);
    printf("|text before a failing conversion: returned -1\n");
    printf("|slot of text before a failing conversion: returned -1\n");
    printf("|positional argument: returned -1\n");
    printf("%%m|%%m: returned 2\n");
    printf("snprintf precision INT_MAX %%f: returned -1, beyond intact 1\n");
    printf("|printf precision INT_MAX %%f: returned -1\n");
    printf("width * INT_MAX: returned 2147483647\n");
    printf("precision * INT_MAX: returned 2147483647\n");
    printf("one more byte: returned -1\n");
  } else {
#pragma omp target
    {
      part1();
      part2();
    }
  }
  return 0;
}
