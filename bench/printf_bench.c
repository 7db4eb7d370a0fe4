/* SPDX-License-Identifier: MIT */
/*
 * printf benchmarks, built twice: against omp-iouring (printf_bench) and
 * against the toolchain's own device printf (printf_bench_stock).
 *   printf_bench lines TEAMS THREADS LINES   device threads print; stdout is the sink
 *   printf_bench latency N                   one thread, N printf round trips
 *   printf_bench idle SECONDS                a target region that prints nothing
 * Figures go to stderr as "key=value" pairs; stdout carries only device output.
 * OIU_BENCH_FIFO_MB=N sets the CUDA printf FIFO (stock build, sm_* only).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE "thread %d line %d value %f\n"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The CUDA printf FIFO lives in the context libomptarget made: set it through the driver. */
static void set_fifo(void) {
  const char *mb = getenv("OIU_BENCH_FIFO_MB");
  if (!mb)
    return;
#pragma omp target
  { /* initializes the device and its primary context */
  }
  void *cu = dlopen("libcuda.so.1", RTLD_NOW);
  int (*retain)(void **, int) = cu ? dlsym(cu, "cuDevicePrimaryCtxRetain") : NULL;
  int (*push)(void *) = cu ? dlsym(cu, "cuCtxPushCurrent_v2") : NULL;
  int (*limit)(int, size_t) = cu ? dlsym(cu, "cuCtxSetLimit") : NULL;
  void *ctx;
  if (!limit || retain(&ctx, 0) || push(ctx) || limit(1 /* CU_LIMIT_PRINTF_FIFO_SIZE */,
                                                      (size_t)atol(mb) << 20)) {
    fprintf(stderr, "printf_bench: cannot set the CUDA printf FIFO\n");
    exit(1);
  }
}

static int lines(int T, int M, int K) {
  double t0 = now();
#pragma omp target teams distribute parallel for collapse(2) num_teams(T) thread_limit(M)
  for (int t = 0; t < T; t++)
    for (int m = 0; m < M; m++)
      for (int k = 0; k < K; k++)
        printf(LINE, t * M + m, k, (t * M + m) * 0.5 + k);
  double dt = now() - t0;
  fflush(stdout);
  long bytes = 0;
  char buf[128];
  for (int i = 0; i < T * M; i++)
    for (int k = 0; k < K; k++)
      bytes += snprintf(buf, sizeof buf, LINE, i, k, i * 0.5 + k);
  long n = (long)T * M * K;
  fprintf(stderr, "lines=%ld bytes=%ld seconds=%.4f lines_per_s=%.0f MB_per_s=%.1f\n", n, bytes, dt,
          n / dt, bytes / dt / 1e6);
  return 0;
}

static int latency(int n) {
  double *us = malloc(sizeof(double) * n);
#pragma omp target map(from : us[0 : n])
  for (int i = 0; i < n; i++) {
    double t0 = omp_get_wtime();
    printf("latency %d\n", i);
    us[i] = (omp_get_wtime() - t0) * 1e6;
  }
  fflush(stdout);
  for (int i = 1; i < n; i++) /* insertion sort: n is small */
    for (int j = i; j > 0 && us[j - 1] > us[j]; j--) {
      double x = us[j];
      us[j] = us[j - 1];
      us[j - 1] = x;
    }
  fprintf(stderr, "calls=%d median_us=%.2f p99_us=%.2f max_us=%.2f\n", n, us[n / 2],
          us[(int)(n * 0.99)], us[n - 1]);
  free(us);
  return 0;
}

/* CPU seconds of the process's omp-iouring host thread, from /proc. */
static double runtime_thread_cpu(void) {
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  double s = -1;
  while (d && (e = readdir(d))) {
    char path[300], comm[64] = "", stat[1024];
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f)
      continue;
    int ok = fgets(comm, sizeof comm, f) != NULL;
    fclose(f);
    if (!ok || strncmp(comm, "omp-iouring", 11))
      continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
    if (!(f = fopen(path, "r")))
      continue;
    if (fgets(stat, sizeof stat, f)) {
      char *p = strrchr(stat, ')');
      unsigned long ut = 0, st = 0;
      if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
        s = (double)(ut + st) / sysconf(_SC_CLK_TCK);
    }
    fclose(f);
  }
  if (d)
    closedir(d);
  return s;
}

static int idle(double seconds) {
#pragma omp target
  printf("idle: warm-up line\n");
  fflush(stdout);
  double c0 = runtime_thread_cpu(), t0 = now();
#pragma omp target
  {
    double start = omp_get_wtime();
    while (omp_get_wtime() - start < seconds)
      ;
  }
  double dt = now() - t0, c = runtime_thread_cpu() - c0;
  fprintf(stderr, "idle_seconds=%.2f host_thread_cpu_seconds=%.3f host_thread_cpu_percent=%.2f\n", dt,
          c, c0 < 0 ? -1.0 : 100 * c / dt);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && !strcmp(argv[1], "lines")) {
    set_fifo();
    return lines(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
  }
  if (argc == 3 && !strcmp(argv[1], "latency"))
    return latency(atoi(argv[2]));
  if (argc == 3 && !strcmp(argv[1], "idle"))
    return idle(atof(argv[2]));
  fprintf(stderr, "usage: %s lines TEAMS THREADS LINES | latency N | idle SECONDS\n", argv[0]);
  return 2;
}
