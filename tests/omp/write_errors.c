/* SPDX-License-Identifier: MIT */
/*
 * Device writes that fail for real: run with stdout on /dev/full (ENOSPC) and
 * stderr closed (EBADF). Every call must report failure the way C stdio
 * does and the program must go on: unbuffered calls return -1 / EOF / 0;
 * buffered stdout accepts the text and its fflush returns EOF. The results go
 * to descriptor 3 for run.sh to check.
 */
#include <stdio.h>
#include <unistd.h>

int main(void) {
  int r[8];
#pragma omp target map(from : r)
  {
    r[0] = printf("to /dev/full %d\n", 1);
    r[1] = puts("to /dev/full");
    r[2] = (int)fwrite("abc\n", 1, 4, stdout);
    r[3] = fprintf(stderr, "to a closed descriptor %d\n", 2);
    r[4] = fputs("to a closed descriptor\n", stderr);
    r[5] = fputc('x', stderr);
    r[6] = fflush(stdout);
    r[7] = fflush(stderr);
  }
  dprintf(3, "%d %d %d %d %d %d %d %d\n", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
  return 0;
}
