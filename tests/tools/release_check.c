/* SPDX-License-Identifier: MIT */
/*
 * A shared library a test program links after libompiouring: the dynamic
 * linker runs its destructor after libompiouring's, so it sees what the
 * runtime left behind at exit. It writes one line to stderr:
 *   "after release: N io_uring descriptors, N eventfds [FD ...], N omp-iouring threads"
 * The io_uring and thread counts must be 0. A GPU driver keeps eventfds of
 * its own, so the runtime's wake-up eventfd (LIBOMPTARGET_INFO names it) is
 * checked by number: it must not be in the list.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Counts entries of /proc/self/DIR whose link (fd) or comm (task) equals
 * what; their names go to list when it is not NULL. */
static int count(const char *dir, const char *what, int comm, char *list, size_t cap) {
  char path[300], text[300];
  int n = 0;
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    ssize_t len = -1;
    if (comm) {
      snprintf(path, sizeof path, "%s/%s/comm", dir, e->d_name);
      FILE *f = fopen(path, "r");
      if (f) {
        len = fgets(text, sizeof text, f) ? (ssize_t)strcspn(text, "\n") : -1;
        fclose(f);
      }
    } else {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      len = readlink(path, text, sizeof text - 1);
    }
    if (len >= 0) {
      text[len] = '\0';
      if (!strcmp(text, what)) {
        n++;
        if (list) {
          size_t used = strlen(list);
          snprintf(list + used, cap - used, "%s%s", used ? " " : "", e->d_name);
        }
      }
    }
  }
  if (d)
    closedir(d);
  return n;
}

__attribute__((destructor)) static void after_release(void) {
  /* A joined thread leaves /proc/self/task a moment after pthread_join returns. */
  int threads = count("/proc/self/task", "omp-iouring", 1, NULL, 0);
  for (int i = 0; i < 100 && threads; i++) {
    usleep(10000);
    threads = count("/proc/self/task", "omp-iouring", 1, NULL, 0);
  }
  char eventfds[256] = "";
  int rings = count("/proc/self/fd", "anon_inode:[io_uring]", 0, NULL, 0);
  int nevent = count("/proc/self/fd", "anon_inode:[eventfd]", 0, eventfds, sizeof eventfds);
  dprintf(2, "after release: %d io_uring descriptors, %d eventfds [%s], %d omp-iouring threads\n",
          rings, nevent, eventfds, threads);
}
