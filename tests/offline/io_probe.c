/* SPDX-License-Identifier: MIT */
/*
 * Links (never runs in CI) every stdio and POSIX I/O call the device library
 * replaces, in target regions, so tests/offline/check_image.py can see in the
 * linked GPU images that each resolved to the device library's definition.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

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
  long sum = 0;
#pragma omp target map(tofrom : sum)
  {
    char buf[64];
    sum += printf("printf %d\n", 1);
    sum += fprintf(stderr, "fprintf %d\n", 2);
    sum += say(stdout, "vprintf %d\n", 3) + say(stderr, "vfprintf %d\n", 4);
    sum += puts("puts") + fputs("fputs\n", stdout);
    sum += fputc('a', stdout) + putc('b', stdout) + putchar('\n');
    sum += (long)fwrite("fwrite\n", 1, 7, stdout);
    sum += snprintf(buf, sizeof buf, "%d", 5) + sprintf(buf, "%d", 6);
    sum += setvbuf(stdout, NULL, _IOLBF, 0);
    sum += fflush(stdout);
  }
#pragma omp target map(tofrom : sum)
  {
    char buf[64];
    FILE *f = fopen("io_probe.tmp", "w+");
    if (f) {
      sum += (long)fwrite("abc\n", 1, 4, f) + fseek(f, 0, SEEK_SET) + ftell(f);
      sum += (long)fread(buf, 1, 2, f) + fgetc(f) + getc(f);
      rewind(f);
      sum += fgets(buf, sizeof buf, f) != NULL;
      sum += feof(f) + ferror(f) + fileno(f);
      clearerr(f);
      sum += fclose(f);
    }
    int fd = open("io_probe.tmp", O_RDWR);
    if (fd >= 0) {
      struct stat st;
      sum += write(fd, "x", 1) + read(fd, buf, 1) + pwrite(fd, "y", 1, 0) + pread(fd, buf, 1, 0);
      sum += lseek(fd, 0, SEEK_END) + fsync(fd) + fstat(fd, &st);
      FILE *g = fdopen(fd, "r");
      sum += g ? fclose(g) : close(fd);
    }
    struct stat st;
    sum += stat("io_probe.tmp", &st) + unlink("io_probe.tmp");
    sum += mkdir("io_probe.d", 0700) + rmdir("io_probe.d");
  }
  return sum > 0 ? 0 : 1;
}
