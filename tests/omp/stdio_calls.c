/* SPDX-License-Identifier: MIT */
/*
 * Differential test of the stdio calls: the same function runs in a target
 * region (our device library) and, with --host, on the host (glibc). Output
 * on stdout and stderr and every return value must be identical; run.sh
 * compares the two runs byte for byte.
 */
#include <errno.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define NRETS 40

#pragma omp declare target
static int via_vfprintf(FILE *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vfprintf(f, fmt, ap);
  va_end(ap);
  return r;
}

static int via_vprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vprintf(fmt, ap);
  va_end(ap);
  return r;
}

static int via_vsnprintf(char *buf, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vsnprintf(buf, n, fmt, ap);
  va_end(ap);
  return r;
}

/* GPU images have no libc string functions: count by hand. */
static int length(const char *s) {
  int n = 0;
  while (s[n])
    n++;
  return n;
}

/* Longer than a staging slot (1 KiB by default): written in pieces. */
static char long_text[3001];

static void do_calls(int *r) {
  char buf[64];
  int i = 0;
  for (int k = 0; k < 3000; k++)
    long_text[k] = (char)('a' + k % 26);
  long_text[3000] = '\0';
  r[i++] = printf("printf %d %s %5.2f|%-6x|%c\n", 42, "str", 3.14159, 255u, 'z');
  r[i++] = printf("no newline, then one: ");
  r[i++] = printf("\n");
  r[i++] = printf("%s\n", "printf of a string and newline");
  r[i++] = puts("puts line");
  r[i++] = puts("");
  r[i++] = fputs("fputs to stdout\n", stdout);
  r[i++] = fputs("fputs to stderr\n", stderr);
  r[i++] = putchar('A');
  r[i++] = putchar('\n');
  r[i++] = fputc('B', stdout);
  r[i++] = putc('\n', stdout);
  r[i++] = (int)fwrite("fwrite 3x4\n", 4, 3, stdout);
  r[i++] = (int)fwrite("zero", 0, 4, stdout);
  r[i++] = fprintf(stderr, "fprintf to stderr %ld %llu\n", -7L, 18446744073709551615ull);
  r[i++] = fprintf(stdout, "fprintf to stdout %%%c%%\n", '!');
  r[i++] = via_vfprintf(stdout, "vfprintf %08.3e %+d\n", -12345.678, 9);
  r[i++] = via_vfprintf(stderr, "vfprintf to stderr %p\n", (void *)0);
  r[i++] = via_vprintf("vprintf %s %x\n", "in a target region", 0xc0ffee);
  r[i++] = snprintf(buf, sizeof buf, "snprintf %d", 123456);
  r[i++] = length(buf);
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wformat-truncation" /* truncation is what is tested */
  r[i++] = snprintf(buf, 5, "truncated %d", 99);
#pragma clang diagnostic pop
  r[i++] = length(buf);
  r[i++] = snprintf(NULL, 0, "%s-%d", "count only", 7);
  r[i++] = via_vsnprintf(buf, sizeof buf, "%.3s|%3c|", "abcdef", 'q');
  r[i++] = sprintf(buf, "sprintf %x", 0xbeef);
  r[i++] = printf("%s|%s\n", buf, (char *)0);
  r[i++] = fflush(stdout);
  r[i++] = printf("%c", '\0'); /* a NUL byte is output too */
  r[i++] = puts(long_text);
  r[i++] = fputs(long_text, stderr);
  r[i++] = fprintf(stderr, "\n%s|%d\n", long_text, 3000);
  r[i++] = (int)fwrite(long_text, 3, 1000, stdout);
  /* errno from a failed call, reported the C way (glibc's texts). */
  r[i++] = fopen("/nonexistent-dir/stdio_calls", "r") == NULL;
  perror("fopen");
  errno = EACCES; /* glibc's perror may itself change errno (its dup of stderr) */
  perror(NULL);
  r[i++] = fprintf(stderr, "%s|%s|%s\n", strerror(ENOENT), strerror(EBADF), strerror(0));
  errno = 41; /* a value with no text: glibc's perror prints the number */
  perror("unknown");
  r[i++] = printf("\nlast line %5.1f%%\n", 99.5);
}
#pragma omp end declare target

int main(int argc, char **argv) {
  int rets[NRETS] = {0};
  if (argc > 1 && !strcmp(argv[1], "--host")) {
    do_calls(rets);
  } else {
#pragma omp target map(tofrom : rets)
    do_calls(rets);
  }
  fflush(stderr);
  printf("returns:");
  for (int i = 0; i < NRETS; i++)
    printf(" %d", rets[i]);
  printf("\n");
  return 0;
}
