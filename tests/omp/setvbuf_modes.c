/* SPDX-License-Identifier: MIT */
/*
 * setvbuf on the device changes how stdout is written, observably: with
 * stdout on /dev/full an unbuffered printf fails at once (-1), a buffered one
 * accepts its text and the failure comes from fflush (EOF), once: the next
 * fflush, with nothing new written, succeeds; an unknown mode is refused (EOF). The same sequence runs through glibc on the host; both
 * result lines go to descriptor 3 for run.sh to compare.
 */
#include <stdio.h>
#include <unistd.h>

#pragma omp declare target
/* buf: glibc keeps a stream's 1-byte unbuffered buffer when setvbuf gets NULL;
 * the device ignores it (its buffer is the shared ring). */
static void sequence(int r[7], char *buf) {
  r[0] = setvbuf(stdout, NULL, _IONBF, 0);
  r[1] = printf("abc\n");
  r[2] = setvbuf(stdout, buf, _IOFBF, BUFSIZ);
  r[3] = printf("abc\n");
  r[4] = fflush(stdout);
  r[5] = setvbuf(stdout, NULL, 42, 0) != 0 ? -1 : 0;
  r[6] = fflush(stdout); /* nothing failed since the last fflush said so */
}
#pragma omp end declare target

int main(void) {
  int dev[7], host[7];
  static char host_buf[BUFSIZ];
#pragma omp target map(from : dev)
  sequence(dev, NULL);
  sequence(host, host_buf);
  dprintf(3, "device %d %d %d %d %d %d %d\n", dev[0], dev[1], dev[2], dev[3], dev[4], dev[5], dev[6]);
  dprintf(3, "host %d %d %d %d %d %d %d\n", host[0], host[1], host[2], host[3], host[4], host[5],
          host[6]);
  return 0;
}
