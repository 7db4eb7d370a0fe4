/* SPDX-License-Identifier: MIT */
/*
 * Links (never runs in CI) every stdio call the device library replaces, in
 * one target region, so tests/offline/check_image.py can see in the linked
 * GPU images that each resolved to the device library's definition.
 */
#include <stdarg.h>
#include <stdio.h>

#pragma omp begin declare target
static int say(FILE *f, const char *fmt, ...) {
  va_list ap, aq;
  va_start(ap, fmt);
  va_copy(aq, ap);
  int n = f == stdout ? vprintf(fmt, ap) : vfprintf(f, fmt, ap);
  char buf[32];
  n += vsnprintf(buf, sizeof buf, fmt, aq);
  va_end(aq);
  va_end(ap);
  return n;
}
#pragma omp end declare target

int main(void) {
  int sum = 0;
#pragma omp target map(tofrom : sum)
  {
    char buf[64];
    sum += printf("printf %d\n", 1);
    sum += fprintf(stderr, "fprintf %d\n", 2);
    sum += say(stdout, "vprintf %d\n", 3) + say(stderr, "vfprintf %d\n", 4);
    sum += puts("puts") + fputs("fputs\n", stdout);
    sum += fputc('a', stdout) + putc('b', stdout) + putchar('\n');
    sum += (int)fwrite("fwrite\n", 1, 7, stdout);
    sum += snprintf(buf, sizeof buf, "%d", 5) + sprintf(buf, "%d", 6);
    sum += setvbuf(stdout, NULL, _IOLBF, 0);
    sum += fflush(stdout);
  }
  return sum > 0 ? 0 : 1;
}
