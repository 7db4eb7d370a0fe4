/* SPDX-License-Identifier: MIT */
/*
 * stall DELAY_MS: a target region whose device thread waits in read(2) on a
 * pipe that a host thread fills only after DELAY_MS (so the device makes no
 * request meanwhile), then the host itself sleeps DELAY_MS with no region
 * running. Run with LIBOMPTARGET_IO_URING_STALL_S shorter than DELAY_MS:
 * tests/run.sh (stall) checks that the ring state is printed exactly once,
 * for the first wait, naming the one request in flight.
 */
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int pipe_fds[2];
static int delay_ms;
static const char message[] = "late bytes from the host\n";

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static void *late_writer(void *arg) {
  (void)arg;
  sleep_ms(delay_ms);
  if (write(pipe_fds[1], message, sizeof message - 1) != (ssize_t)(sizeof message - 1))
    perror("stall: write");
  return NULL;
}

int main(int argc, char **argv) {
  delay_ms = argc > 1 ? atoi(argv[1]) : 2500;
  if (pipe(pipe_fds))
    return 2;
  pthread_t t;
  pthread_create(&t, NULL, late_writer, NULL);
  int rfd = pipe_fds[0];
  long n = -1;
  char got[200] = {0};
#pragma omp target map(tofrom : n, got) map(to : rfd)
  n = (long)read(rfd, got, sizeof got - 1);
  pthread_join(t, NULL);
  /* Quiet with no region running: nothing to report. */
  sleep_ms(delay_ms);
  int ok = n == (long)(sizeof message - 1) && strcmp(got, message) == 0;
  printf("stall: read returned %ld: %s", n, ok ? got : "(wrong bytes)\n");
  return !ok;
}
