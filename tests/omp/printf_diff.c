/* SPDX-License-Identifier: MIT */
/*
 * Differential formatting inside target regions.
 *   printf_diff N        N generated (format, arguments) cases formatted by
 *                        snprintf in a target region (our formatter) and by
 *                        glibc on the host: return values and bytes must match.
 *   printf_diff --print N    one device thread printf()s the N cases in order
 *   printf_diff --expect N   glibc printf()s the same cases (run.sh compares)
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt_cases.h"

#ifndef TEST_LONG_DOUBLE
#define TEST_LONG_DOUBLE 0
#endif
#define OUT 2048
#define SEED0 0x5eed0000ull

#pragma omp declare target
static int format_case(unsigned long long seed, char *buf) {
  fmt_case c;
  fmt_case_make(&c, seed, TEST_LONG_DOUBLE);
  return fmt_case_print(&c, buf, OUT);
}
static void print_cases(int n) {
  for (int i = 0; i < n; i++) {
    fmt_case c;
    fmt_case_make(&c, SEED0 + (unsigned long long)i, TEST_LONG_DOUBLE);
    fmt_case_printf(&c);
    printf("\n"); /* a newline after each case so a diff points at one */
  }
}
#pragma omp end declare target

static int differential(int n) {
  char *dev = malloc((size_t)n * OUT);
  int *dev_ret = malloc((size_t)n * sizeof *dev_ret);
#pragma omp target teams distribute parallel for map(from : dev[0 : (size_t)n * OUT], dev_ret[0 : n])
  for (int i = 0; i < n; i++)
    dev_ret[i] = format_case(SEED0 + (unsigned long long)i, dev + (size_t)i * OUT);

  int bad = 0;
  char host[OUT];
  for (int i = 0; i < n; i++) {
    int r = format_case(SEED0 + (unsigned long long)i, host);
    const char *d = dev + (size_t)i * OUT;
    size_t len = r > 0 ? (size_t)(r < OUT ? r : OUT - 1) : 0;
    if (r != dev_ret[i] || memcmp(host, d, len + 1) != 0) {
      fmt_case c;
      fmt_case_make(&c, SEED0 + (unsigned long long)i, TEST_LONG_DOUBLE);
      if (bad++ < 20)
        fprintf(stderr, "case %d fmt \"%s\": glibc %d \"%s\", device %d \"%s\"\n", i, c.fmt, r, host,
                dev_ret[i], d);
    }
  }
  printf("printf_diff: %d cases in target regions, %d mismatches\n", n, bad);
  free(dev);
  free(dev_ret);
  return bad != 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "--print")) {
    int n = atoi(argv[2]);
#pragma omp target
    print_cases(n);
    return 0;
  }
  if (argc == 3 && !strcmp(argv[1], "--expect")) {
    print_cases(atoi(argv[2]));
    return 0;
  }
  return differential(argc > 1 ? atoi(argv[1]) : 12000);
}
