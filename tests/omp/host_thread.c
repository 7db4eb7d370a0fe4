/* SPDX-License-Identifier: MIT */
/*
 * host_thread: the threads that serve device I/O keep short sleeps short
 * and stop spinning when there is no I/O. Run with LIBOMPTARGET_IO_URING=1,
 * LIBOMPTARGET_IO_URING_MODE=sqpoll and LIBOMPTARGET_IO_URING_BUFFER=none,
 * so one unbuffered line wakes the kernel's SQ thread; then checks:
 *   - our host thread's timer slack is 1 us (plugin/progress.c: with the
 *     default 50 us every back-off step sleeps >= 70 us);
 *   - the SQ thread ("iou-sqp-PID") runs < 30 ms of a 300 ms quiet window
 *     that starts 200 ms after the line: it sleeps after
 *     LIBOMPTARGET_IO_URING_SQPOLL_IDLE_MS (10 by default) instead of
 *     spinning for a second.
 * Prints what it measured; exit 1 on a failed check.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The id of this process's first thread whose name starts with prefix, or -1. */
static long thread_named(const char *prefix) {
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  long tid = -1;
  while (d && tid < 0 && (e = readdir(d))) {
    char path[300], comm[64] = "";
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f)
      continue;
    if (fgets(comm, sizeof comm, f) && !strncmp(comm, prefix, strlen(prefix)))
      tid = atol(e->d_name);
    fclose(f);
  }
  if (d)
    closedir(d);
  return tid;
}

/* The first number in /proc/TID/NAME (any thread id resolves there), or -1. */
static long long proc_number(long tid, const char *name) {
  char path[64];
  long long v = -1;
  snprintf(path, sizeof path, "/proc/%ld/%s", tid, name);
  FILE *f = fopen(path, "r");
  if (f) {
    if (fscanf(f, "%lld", &v) != 1)
      v = -1;
    fclose(f);
  }
  return v;
}

int main(void) {
#pragma omp target
  printf("host_thread: one unbuffered line\n");
  fflush(stdout);
  long host = thread_named("omp-iouring"), sq = thread_named("iou-sqp");
  if (host < 0 || sq < 0) {
    fprintf(stderr, "host_thread: no %s thread: FAILED\n", host < 0 ? "omp-iouring" : "iou-sqp");
    return 1;
  }
  long long slack = proc_number(host, "timerslack_ns");
  usleep(200000);
  long long ns0 = proc_number(sq, "schedstat"); /* CPU nanoseconds first */
  usleep(300000);
  long long ns1 = proc_number(sq, "schedstat");
  double sq_ms = (ns1 - ns0) / 1e6;
  int ok = slack == 1000 && ns0 >= 0 && ns1 >= 0 && sq_ms < 30;
  printf("host_thread: host thread timer slack %lld ns; SQ thread ran %.1f ms of a 300 ms quiet "
         "window: %s\n", slack, sq_ms, ok ? "ok" : "FAILED");
  return !ok;
}
