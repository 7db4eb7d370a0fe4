/* SPDX-License-Identifier: MIT */
/*
 * Device writes that fail for real. Run with stdout on /dev/full (ENOSPC)
 * and stderr closed (EBADF), or with "pipe": the program itself points
 * stdout and stderr at a pipe whose reader has exited (EPIPE; SIGPIPE keeps
 * its default action, which would kill the process if the runtime let it
 * reach the process). Every call must report failure the way C stdio does
 * and the program must go on: unbuffered calls return -1 / EOF / 0;
 * buffered stdout accepts the text and its fflush returns EOF. The results,
 * then "alive", go to descriptor 3 for run.sh to check.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "pipe")) {
    int p[2];
    if (pipe(p) || close(p[0]) || dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0 || close(p[1])) {
      dprintf(3, "write_errors: pipe set-up failed\n");
      return 2;
    }
  }
  int r[8];
#pragma omp target map(from : r)
  {
    r[0] = printf("to a failing sink %d\n", 1);
    r[1] = puts("to a failing sink");
    r[2] = (int)fwrite("abc\n", 1, 4, stdout);
    r[3] = fprintf(stderr, "to a failing descriptor %d\n", 2);
    r[4] = fputs("to a failing descriptor\n", stderr);
    r[5] = fputc('x', stderr);
    r[6] = fflush(stdout);
    r[7] = fflush(stderr);
  }
  dprintf(3, "%d %d %d %d %d %d %d %d\n", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
  /* A second region on the same failing sinks: the channel still works. */
  int again = 0;
#pragma omp target map(from : again)
  again = printf("again\n");
  dprintf(3, "alive %d\n", again);
  return 0;
}
