/* SPDX-License-Identifier: MIT */
/*
 * append_fds PATH: device writes to a stdout that is a regular file append
 * (RWF_APPEND), also when the host moved the file position back and when
 * stdout became a regular file only between two target regions: the host
 * refreshes the device's copy of the regular-file set before each region
 * (plugin/tool.c). Run with LIBOMPTARGET_IO_URING_BUFFER=none, so each device
 * printf is one write. Three regions:
 *   1. stdout is a pipe: "pipe 1" goes through it;
 *   2. stdout is PATH, after the host wrote "host 1" and seeked to 0;
 *   3. the same after another seek to 0.
 * PATH must end as "host 1\ndevice 2\ndevice 3\n"; without the append the
 * device lines overwrite the host's. Prints what it found; exit 1 on a
 * mismatch.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void device_line(int n) {
#pragma omp target map(to : n)
  printf("%s %d\n", n == 1 ? "pipe" : "device", n);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PATH\n", argv[0]);
    return 2;
  }
  int out = dup(1), pipefd[2];
  int file = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (out < 0 || file < 0 || pipe(pipefd)) {
    perror("append_fds: set-up");
    return 1;
  }
  fflush(stdout);
  dup2(pipefd[1], 1);
  device_line(1);
  dup2(file, 1);
  if (write(1, "host 1\n", 7) != 7 || lseek(1, 0, SEEK_SET) != 0) {
    perror("append_fds: host write");
    return 1;
  }
  device_line(2);
  lseek(1, 0, SEEK_SET);
  device_line(3);
  dup2(out, 1);
  close(pipefd[1]);

  char got_pipe[64] = "", got_file[128] = "";
  ssize_t np = read(pipefd[0], got_pipe, sizeof got_pipe - 1);
  ssize_t nf = pread(file, got_file, sizeof got_file - 1, 0);
  got_pipe[np > 0 ? np : 0] = 0;
  got_file[nf > 0 ? nf : 0] = 0;
  const char *want_file = "host 1\ndevice 2\ndevice 3\n";
  int ok = !strcmp(got_pipe, "pipe 1\n") && !strcmp(got_file, want_file);
  printf("append_fds: pipe got \"%s\", file got \"%s\": %s\n", got_pipe, got_file,
         ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
