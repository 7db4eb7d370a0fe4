/* SPDX-License-Identifier: MIT */
/*
 * no_memlock PROGRAM [ARGS...]: runs PROGRAM where io_uring_setup fails on
 * a real kernel path: RLIMIT_MEMLOCK 0 and no CAP_IPC_LOCK (dropped from
 * the bounding set, so root loses it at exec), and the kernel charges ring
 * memory to that limit (ENOMEM). Exit 77 (skip) when this kernel does not.
 */
#define _GNU_SOURCE /* liburing.h needs sigset_t and AT_FDCWD */
#include <errno.h>
#include <linux/capability.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Whether io_uring_setup fails with ENOMEM in a child exec'd like PROGRAM will be. */
static int setup_fails(char *self) {
  pid_t pid = fork();
  if (pid == 0) {
    execl(self, self, "--probe", (char *)NULL);
    _exit(127);
  }
  int st;
  return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "--probe")) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    int fd = io_uring_setup(64, &p);
    return fd == -ENOMEM ? 0 : 1;
  }
  if (argc < 2) {
    fprintf(stderr, "usage: %s PROGRAM [ARGS...]\n", argv[0]);
    return 2;
  }
  struct rlimit zero = {0, 0};
  if (setrlimit(RLIMIT_MEMLOCK, &zero)) {
    perror("no_memlock: setrlimit");
    return 1;
  }
  /* Root keeps CAP_IPC_LOCK (which lifts the limit) unless it leaves the bounding set. */
  if (prctl(PR_CAPBSET_DROP, CAP_IPC_LOCK, 0, 0, 0) && errno != EPERM) {
    perror("no_memlock: PR_CAPBSET_DROP");
    return 1;
  }
  if (!setup_fails(argv[0])) {
    printf("no_memlock: io_uring_setup does not fail with RLIMIT_MEMLOCK 0 here; skipped\n");
    return 77;
  }
  execvp(argv[1], argv + 1);
  perror("no_memlock: exec");
  return 127;
}
