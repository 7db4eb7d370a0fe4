/* SPDX-License-Identifier: MIT */
/*
 * printf benchmarks, built twice: against omp-iouring (printf_bench) and
 * against the toolchain's own device printf (printf_bench_stock).
 *   printf_bench lines TEAMS THREADS LINES [BYTES]  device threads print; stdout is the sink
 *   printf_bench host TEAMS THREADS LINES [BYTES]   the same lines from host threads (glibc)
 *   printf_bench fputs TEAMS THREADS LINES   the same lines, made by a few integer
 *                                            divisions and written with fputs: the
 *                                            stream path without the formatter
 *   printf_bench format TEAMS THREADS LINES  snprintf only, no output: the formatter alone
 *   printf_bench latency N                   one thread, N printf round trips
 *   printf_bench fmtlat N                    one thread, N snprintf calls of the same
 *                                            line: the formatter's part of a round trip
 *   printf_bench outlat N                    N lines, each timed from the printf call until
 *                                            it is readable from stdout's file
 *   printf_bench idle SECONDS                a target region that prints nothing
 *   printf_bench triad MIB ROUNDS            a memory-bound kernel (a = b + s*c over
 *                                            MIB MiB per array) with a printf it never
 *                                            reaches: what the library's registers cost
 *                                            a user kernel (GB/s; compare builds)
 * BYTES 0 (default) prints LINE below; 30 or more prints lines of exactly BYTES
 * bytes (the same numbers, space padded). Every line is distinct, so a sink
 * can be checked for lost and duplicated lines.
 * Figures go to stderr as "key=value" pairs; stdout carries only device output.
 * OIU_BENCH_FIFO_MB=N sets the CUDA printf FIFO (stock build, sm_* only).
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <dlfcn.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE "thread %d line %d value %f\n"
#define SIZED_LINE "%8d %6d %12.4f%*s\n" /* 29 bytes + the padding */
#define SIZED_FIXED 29

/* libomptarget's pinned host memory, reachable by the device at the same address. */
void *llvm_omp_target_alloc_host(size_t size, int device);
void llvm_omp_target_free_host(void *ptr, int device);

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
  if (!cu) {
    fprintf(stderr, "printf_bench: OIU_BENCH_FIFO_MB: no CUDA device here\n");
    exit(77); /* not applicable: bench/run.sh leaves the row out */
  }
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

/* One line: the classic format, or exactly `bytes` bytes. */
#define PRINT_LINE(id, k, bytes)                                                                   \
  ((bytes) ? printf(SIZED_LINE, (id), (k), (id) * 0.5 + (k), (bytes) - SIZED_FIXED, "")          \
           : printf(LINE, (id), (k), (id) * 0.5 + (k)))

/*
 * CPU time of the threads that serve device I/O, from /proc: our host thread
 * ("omp-iouring") and the kernel's io_uring threads of this process (the SQ
 * poll thread "iou-sqp-PID" and io-wq workers "iou-wrk-PID", which run
 * writes that cannot complete inline). A snapshot keeps each thread's time by
 * id; a worker that exits between two snapshots takes its time with it.
 */
enum { CPU_HOST, CPU_IO, CPU_KINDS, CPU_MAX_THREADS = 256 };
struct cpu_snap {
  int n, found[CPU_KINDS];
  struct {
    long tid;
    int kind;
    double s;
  } t[CPU_MAX_THREADS];
};

/* One thread's CPU seconds: schedstat's nanoseconds, else stat's clock ticks. */
static double thread_cpu(const char *tid) {
  char path[300], buf[1024];
  double s = -1;
  snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", tid);
  FILE *f = fopen(path, "r");
  if (f) {
    unsigned long long ns;
    if (fscanf(f, "%llu", &ns) == 1)
      s = ns * 1e-9;
    fclose(f);
  }
  if (s >= 0)
    return s;
  snprintf(path, sizeof path, "/proc/self/task/%s/stat", tid);
  if (!(f = fopen(path, "r")))
    return -1;
  if (fgets(buf, sizeof buf, f)) {
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
      s = (double)(ut + st) / sysconf(_SC_CLK_TCK);
  }
  fclose(f);
  return s;
}

static void cpu_take(struct cpu_snap *c) {
  memset(c, 0, sizeof *c);
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  while (d && (e = readdir(d)) && c->n < CPU_MAX_THREADS) {
    char path[300], comm[64] = "";
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f)
      continue;
    int ok = fgets(comm, sizeof comm, f) != NULL;
    fclose(f);
    int kind = !ok                                ? -1
               : !strncmp(comm, "omp-iouring", 11) ? CPU_HOST
               : !strncmp(comm, "iou-", 4)         ? CPU_IO
                                                   : -1;
    double s = kind < 0 ? -1 : thread_cpu(e->d_name);
    if (s < 0)
      continue;
    c->t[c->n].tid = atol(e->d_name);
    c->t[c->n].kind = kind;
    c->t[c->n++].s = s;
    c->found[kind] = 1;
  }
  if (d)
    closedir(d);
}

/* Seconds the threads of one kind ran between two snapshots; < 0: none exist. */
static double cpu_between(const struct cpu_snap *a, const struct cpu_snap *b, int kind) {
  if (!b->found[kind])
    return -1;
  double s = 0;
  for (int i = 0; i < b->n; i++) {
    if (b->t[i].kind != kind)
      continue;
    s += b->t[i].s;
    for (int j = 0; j < a->n; j++)
      if (a->t[j].tid == b->t[i].tid)
        s -= a->t[j].s;
  }
  return s;
}

/* " host_thread_cpu_percent=H io_threads_cpu_percent=I" for what ran since *c0. */
static void print_cpu(const struct cpu_snap *c0, double dt) {
  struct cpu_snap c1;
  cpu_take(&c1);
  double host = cpu_between(c0, &c1, CPU_HOST), io = cpu_between(c0, &c1, CPU_IO);
  if (host >= 0)
    fprintf(stderr, " host_thread_cpu_percent=%.2f", 100 * host / dt);
  if (host >= 0 || io >= 0) /* no io_uring thread in a ring's run: 0 */
    fprintf(stderr, " io_threads_cpu_percent=%.2f", io >= 0 ? 100 * io / dt : 0.0);
}

static void report(long n, int bytes_per_line, int T, int M, int K, double dt,
                   const struct cpu_snap *c0) {
  long bytes = 0;
  char buf[256];
  for (int i = 0; i < T * M; i++)
    for (int k = 0; k < K; k++)
      bytes += bytes_per_line ? bytes_per_line : snprintf(buf, sizeof buf, LINE, i, k, i * 0.5 + k);
  fprintf(stderr, "lines=%ld bytes=%ld seconds=%.4f lines_per_s=%.0f MB_per_s=%.1f", n, bytes, dt,
          n / dt, bytes / dt / 1e6);
  print_cpu(c0, dt);
  fputc('\n', stderr);
}

/* on_host: the same loop run by the host's own threads, through glibc's stdio. */
static int lines(int T, int M, int K, int bytes, int on_host) {
  /* Device start-up (context, image, rings) is not what is measured. */
#pragma omp target if (target : !on_host)
  {
  }
  struct cpu_snap c0;
  cpu_take(&c0);
  double t0 = now();
#pragma omp target teams distribute parallel for collapse(2) num_teams(T) thread_limit(M) \
    if (target : !on_host)
  for (int t = 0; t < T; t++)
    for (int m = 0; m < M; m++)
      for (int k = 0; k < K; k++)
        PRINT_LINE(t * M + m, k, bytes);
  fflush(stdout);
  double dt = now() - t0;
  report((long)T * M * K, bytes, T, M, K, dt, &c0);
  return 0;
}

#if OIU_BENCH_STDIO
/* LINE for value id * 0.5 + k, made without the formatter (buf: 64 bytes); returns its length. */
static int make_line(char *buf, int id, int k) {
  static const char head[] = "thread ";
  int n = 0;
  for (int i = 0; head[i]; i++)
    buf[n++] = head[i];
  /* Decimal digits of v at buf + n, most significant first. */
#define PUT_UINT(v)                                                                                \
  do {                                                                                             \
    char d_[12];                                                                                   \
    int m_ = 0;                                                                                    \
    unsigned u_ = (unsigned)(v);                                                                   \
    do                                                                                             \
      d_[m_++] = (char)('0' + u_ % 10);                                                            \
    while (u_ /= 10);                                                                              \
    while (m_)                                                                                     \
      buf[n++] = d_[--m_];                                                                         \
  } while (0)
  PUT_UINT(id);
  for (const char *p = " line "; *p; p++)
    buf[n++] = *p;
  PUT_UINT(k);
  for (const char *p = " value "; *p; p++)
    buf[n++] = *p;
  PUT_UINT(id / 2 + k);
  for (const char *p = (id & 1) ? ".500000\n" : ".000000\n"; *p; p++)
    buf[n++] = *p;
#undef PUT_UINT
  buf[n] = '\0';
  return n;
}
#endif

#if !OIU_BENCH_STDIO
/* The modes that call fputs or snprintf in device code are skipped (77) in builds whose device code has neither. */
static int no_stdio(const char *how) {
  fprintf(stderr, "printf_bench: %s: this build's device code has no fputs/snprintf\n", how);
  return 77;
}
#endif

/* fputs: LINE made by make_line and written with fputs; format: snprintf of LINE, no output. */
static int lines_other(const char *how, int T, int M, int K) {
#if !OIU_BENCH_STDIO
  (void)T, (void)M, (void)K;
  return no_stdio(how);
#else
  int use_fputs = !strcmp(how, "fputs");
  long sum = 0;
#pragma omp target
  {
  }
  struct cpu_snap c0;
  cpu_take(&c0);
  double t0 = now();
#pragma omp target teams distribute parallel for collapse(2) num_teams(T) thread_limit(M) \
    reduction(+ : sum)
  for (int t = 0; t < T; t++)
    for (int m = 0; m < M; m++)
      for (int k = 0; k < K; k++) {
        char buf[64];
        if (use_fputs) {
          make_line(buf, t * M + m, k);
          fputs(buf, stdout);
        } else {
          sum += snprintf(buf, sizeof buf, LINE, t * M + m, k, (t * M + m) * 0.5 + k);
        }
      }
  fflush(stdout);
  double dt = now() - t0;
  report((long)T * M * K, 0, T, M, K, dt, &c0);
  if (!use_fputs)
    fprintf(stderr, "formatted_bytes=%ld\n", sum);
  return 0;
#endif
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void print_percentiles(double *us, int n) {
  qsort(us, n, sizeof *us, cmp_double);
  fprintf(stderr, "calls=%d median_us=%.2f p99_us=%.2f max_us=%.2f\n", n, us[n / 2],
          us[(int)(n * 0.99)], us[n - 1]);
}

#if defined(OIU_PROFILE)
/* printf_bench_profile: the device library's latency profile (omp_iouring/profile.h). */
#include "omp_iouring/profile.h"
#pragma omp begin declare target device_type(nohost)
extern unsigned long __oiu_prof[OIU_PROF_WORDS];
#pragma omp end declare target
#define PROF_WORDS OIU_PROF_WORDS
#else
#define PROF_WORDS 1
#endif

/*
 * The profile's start and end, in the target region. Functions, so that the
 * region's body (and so its kernel arguments) is the same in the host and
 * the device compilation; only these bodies differ.
 */
#pragma omp begin declare target
static unsigned long profile_start(void) {
#if defined(OIU_PROFILE) && defined(__NVPTX__)
  for (int p = 0; p < OIU_PROF_WORDS; p++)
    __oiu_prof[p] = 0;
  return __nvvm_read_ptx_sreg_clock64();
#else
  return 0;
#endif
}
/* Copies the sums out; the SM clock rate over the run, in cycles per us. */
static void profile_end(unsigned long c0, double w0, unsigned long *prof, double *cycles_per_us) {
#if defined(OIU_PROFILE) && defined(__NVPTX__)
  *cycles_per_us = (__nvvm_read_ptx_sreg_clock64() - c0) / ((omp_get_wtime() - w0) * 1e6);
  for (int p = 0; p < OIU_PROF_WORDS; p++)
    prof[p] = __oiu_prof[p];
#else
  (void)c0, (void)w0, (void)prof, (void)cycles_per_us;
#endif
}
#pragma omp end declare target

/* Prints each point's mean over the calls, in us, at the SM clock the run measured. */
static void print_profile(const unsigned long *prof, double cycles_per_us) {
#if defined(OIU_PROFILE)
  static const char *names[] = OIU_PROF_NAMES;
  unsigned long calls = prof[OIU_PROF_POINTS + 1], sum = 0;
  if (calls < 2 || cycles_per_us <= 0) {
    fprintf(stderr, "profile: no calls recorded (not an NVIDIA device?)\n");
    return;
  }
  /* The first call starts the clock: calls - 1 full rounds, every point counted. */
  fprintf(stderr, "profile_us_per_call:");
  for (int p = 0; p < OIU_PROF_POINTS; p++) {
    fprintf(stderr, " %s=%.2f", names[p], prof[p] / (calls - 1) / cycles_per_us);
    sum += prof[p];
  }
  fprintf(stderr, " total=%.2f sm_mhz=%.0f\n", sum / (calls - 1) / cycles_per_us, cycles_per_us);
#else
  (void)prof, (void)cycles_per_us;
#endif
}

static int latency(int n) {
  double *us = malloc(sizeof(double) * n);
  unsigned long prof[PROF_WORDS] = {0};
  double cycles_per_us = 0;
#pragma omp target map(from : us[0 : n], prof, cycles_per_us)
  {
    unsigned long c0 = profile_start();
    double w0 = omp_get_wtime();
    for (int i = 0; i < n; i++) {
      double t0 = omp_get_wtime();
      printf("latency %d\n", i);
      us[i] = (omp_get_wtime() - t0) * 1e6;
    }
    profile_end(c0, w0, prof, &cycles_per_us);
  }
  fflush(stdout);
  print_profile(prof, cycles_per_us);
  print_percentiles(us, n);
  free(us);
  return 0;
}

/* The formatter's part of latency: the same line, snprintf into a private buffer. */
static int format_latency(int n) {
#if !OIU_BENCH_STDIO
  (void)n;
  return no_stdio("fmtlat");
#else
  double *us = malloc(sizeof(double) * n);
  long sum = 0;
#pragma omp target map(from : us[0 : n]) map(tofrom : sum)
  for (int i = 0; i < n; i++) {
    char buf[64];
    double t0 = omp_get_wtime();
    sum += snprintf(buf, sizeof buf, "latency %d\n", i) + buf[8];
    us[i] = (omp_get_wtime() - t0) * 1e6;
  }
  fprintf(stderr, "checksum=%ld\n", sum); /* keeps the calls; the figures come last */
  print_percentiles(us, n);
  free(us);
  return 0;
#endif
}

/*
 * Output latency: the time from a device printf call to its line being
 * readable from stdout's file. A host thread reads the file as it grows and
 * acks each "mark" line through pinned memory. Team 0 prints; team 1 (other
 * SMs on a GPU, another thread on the host) watches the ack and times call
 * -> ack on the device clock, so the figure leaves out the way back to the
 * printing thread (its CQE) but includes the ack's host-to-device store (a
 * microsecond or so). The printing thread waits for each ack before the next
 * line; how long its printf took to return is reported as well.
 */
struct watch {
  int fd, n;
  unsigned *ack; /* device-visible: the number of marks seen */
};

static void *watch_file(void *arg) {
  struct watch *w = arg;
  char buf[4096];
  unsigned seen = 0;
  while (seen < (unsigned)w->n) {
    ssize_t got = read(w->fd, buf, sizeof buf);
    if (got <= 0)
      sched_yield(); /* host target: the printing thread may need this CPU */
    for (ssize_t i = 0; i < got; i++)
      if (buf[i] == '\n') /* partner: the device's acquire loads of *ack */
        __scoped_atomic_store_n(w->ack, ++seen, __ATOMIC_RELEASE, __MEMORY_SCOPE_SYSTEM);
  }
  return NULL;
}

static unsigned acked(const unsigned *ack) {
  return __scoped_atomic_load_n(ack, __ATOMIC_ACQUIRE, __MEMORY_SCOPE_SYSTEM);
}

/* A spinning device thread of the host target is a CPU thread: leave the CPU to the others. */
static void spin_pause(void) {
#if !defined(__NVPTX__) && !defined(__AMDGPU__)
  sched_yield();
#endif
}

static int output_latency(int n) {
  struct watch w = {open("/proc/self/fd/1", O_RDONLY), n, llvm_omp_target_alloc_host(sizeof(unsigned), 0)};
  if (w.fd < 0 || !w.ack || lseek(1, 0, SEEK_CUR) < 0) {
    fprintf(stderr, "printf_bench: outlat needs stdout to be a regular file\n");
    return 2;
  }
  lseek(w.fd, lseek(1, 0, SEEK_CUR), SEEK_SET); /* only what this run prints */
  *w.ack = 0;
  double *us = malloc(sizeof(double) * n), *returned = malloc(sizeof(double) * n);
  long long *called_ns = malloc(sizeof(long long) * n); /* team 0 -> team 1 */
  for (int i = 0; i < n; i++)
    called_ns[i] = -1;
  pthread_t th;
  pthread_create(&th, NULL, watch_file, &w);
  unsigned *ack = w.ack;
#pragma omp target teams num_teams(2) map(from : us[0 : n], returned[0 : n]) \
    map(to : called_ns[0 : n]) is_device_ptr(ack)
  if (omp_get_team_num() == 0) {
    for (int i = 0; i < n; i++) {
      double t0 = omp_get_wtime();
      /* Partner: team 1's acquire load; it sees this once the ack came. */
      __scoped_atomic_store_n(&called_ns[i], (long long)(t0 * 1e9), __ATOMIC_RELEASE,
                              __MEMORY_SCOPE_SYSTEM);
      printf("mark %d\n", i);
      returned[i] = (omp_get_wtime() - t0) * 1e6;
      while (acked(ack) <= (unsigned)i)
        spin_pause();
    }
  } else if (omp_get_team_num() == 1) {
    for (int i = 0; i < n; i++) {
      while (acked(ack) <= (unsigned)i)
        spin_pause();
      long long t1 = (long long)(omp_get_wtime() * 1e9), t0;
      while ((t0 = __scoped_atomic_load_n(&called_ns[i], __ATOMIC_ACQUIRE, __MEMORY_SCOPE_SYSTEM)) < 0)
        spin_pause();
      us[i] = (t1 - t0) * 1e-3;
    }
  }
  pthread_join(th, NULL);
  close(w.fd);
  llvm_omp_target_free_host(ack, 0);
  qsort(returned, n, sizeof *returned, cmp_double);
  fprintf(stderr, "printf_returned_median_us=%.2f p99_us=%.2f\n", returned[n / 2],
          returned[(int)(n * 0.99)]);
  print_percentiles(us, n); /* last: bench/run.sh reads the last line */
  free(us);
  free(returned);
  free(called_ns);
  return 0;
}

static int idle(double seconds) {
#pragma omp target
  printf("idle: warm-up line\n");
  fflush(stdout);
  struct cpu_snap c0;
  cpu_take(&c0);
  double t0 = now();
#pragma omp target
  {
    double start = omp_get_wtime();
    while (omp_get_wtime() - start < seconds)
      ;
  }
  double dt = now() - t0;
  fprintf(stderr, "idle_seconds=%.2f", dt);
  print_cpu(&c0, dt);
  fputc('\n', stderr);
  return 0;
}

/* A kernel's registers are the most any function it may call needs: a printf
 * that never runs still sets them, and with them how many warps fit an SM. */
static int triad(long mib, int rounds) {
  long n = mib * (1 << 20) / (long)sizeof(double);
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
  if (!a || !b || !c || n < 1 || rounds < 1)
    return 2;
  for (long i = 0; i < n; i++)
    b[i] = (double)(i % 1000), c[i] = 0.5;
  double best = 1e30, sum = 0;
#pragma omp target data map(alloc : a[0 : n]) map(to : b[0 : n], c[0 : n])
  {
    for (int r = 0; r <= rounds; r++) {
      double t0 = now();
#pragma omp target teams distribute parallel for
      for (long i = 0; i < n; i++) {
        a[i] = b[i] + 3.0 * c[i];
        if (a[i] < 0) /* never: the values are >= 1.5 */
          printf("triad: a[%ld] = %f\n", i, a[i]);
      }
      double dt = now() - t0;
      if (r > 0 && dt < best) /* round 0 loads the image */
        best = dt;
    }
#pragma omp target update from(a[0 : n])
  }
  for (long i = 0; i < n; i++)
    sum += a[i];
  double want = 0;
  for (long i = 0; i < n; i++)
    want += (double)(i % 1000) + 1.5;
  fprintf(stderr, "triad_mib=%ld rounds=%d best_seconds=%.6f GB_per_s=%.1f checksum_ok=%d\n", mib,
          rounds, best, 3.0 * n * sizeof(double) / best / 1e9, sum == want);
  free(a), free(b), free(c);
  return sum == want ? 0 : 1;
}

int main(int argc, char **argv) {
  int bytes = argc == 6 ? atoi(argv[5]) : 0;
  if ((argc == 5 || argc == 6) && bytes && (bytes < SIZED_FIXED + 1 || bytes > 250)) {
    fprintf(stderr, "printf_bench: BYTES must be 0 or %d..250\n", SIZED_FIXED + 1);
    return 2;
  }
  if ((argc == 5 || argc == 6) && !strcmp(argv[1], "lines")) {
    set_fifo();
    return lines(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), bytes, 0);
  }
  if (argc == 5 && (!strcmp(argv[1], "fputs") || !strcmp(argv[1], "format")))
    return lines_other(argv[1], atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
  if ((argc == 5 || argc == 6) && !strcmp(argv[1], "host"))
    return lines(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), bytes, 1);
  if (argc == 3 && !strcmp(argv[1], "outlat"))
    return output_latency(atoi(argv[2]));
  if (argc == 3 && !strcmp(argv[1], "latency"))
    return latency(atoi(argv[2]));
  if (argc == 3 && !strcmp(argv[1], "fmtlat"))
    return format_latency(atoi(argv[2]));
  if (argc == 3 && !strcmp(argv[1], "idle"))
    return idle(atof(argv[2]));
  if (argc == 4 && !strcmp(argv[1], "triad"))
    return triad(atol(argv[2]), atoi(argv[3]));
  fprintf(stderr, "usage: %s lines|host TEAMS THREADS LINES [BYTES] | fputs|format TEAMS THREADS LINES | latency N | fmtlat N | outlat N | idle SECONDS | triad MIB ROUNDS\n", argv[0]);
  return 2;
}
