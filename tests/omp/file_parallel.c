/* SPDX-License-Identifier: MIT */
/*
 * file_parallel TEAMS THREADS RECORD: many device threads on one file.
 *   checkpoint  every thread pwrites its own RECORD-byte range of one file
 *               from device memory (the checkpoint pattern): the file must
 *               be exactly right; then every thread preads its range back.
 *   positions   every thread write()s one record through one shared file
 *               position: each record once, whole, none overlapping.
 *   stream      every thread fprintf()s lines to one shared device FILE:
 *               each line whole, each once, in order per thread.
 *   errno       threads fail in different ways at once; after a barrier
 *               each reads its own errno.
 * Exit 1 on any defect.
 */
#include <errno.h>
#include <fcntl.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "line_format.h"

#pragma omp declare target
static inline unsigned char pattern(uint64_t i) {
  uint64_t x = (i + 11) * 0x9e3779b97f4a7c15ull;
  return (unsigned char)((x ^ (x >> 31)) >> 23);
}
#pragma omp end declare target

static int bad;
#define CHECK(cond, ...)                                                                      \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      printf("file_parallel: " __VA_ARGS__);                                                 \
      printf("\n");                                                                          \
      bad++;                                                                                 \
    }                                                                                        \
  } while (0)

static unsigned char *slurp(const char *path, uint64_t *n) {
  FILE *f = fopen(path, "rb");
  struct stat st;
  if (!f || fstat(fileno(f), &st)) {
    *n = 0;
    return NULL;
  }
  unsigned char *p = malloc(st.st_size + 1);
  *n = fread(p, 1, st.st_size, f);
  p[*n] = 0;
  fclose(f);
  return p;
}

static void checkpoint(const char *dir, int T, int M, uint64_t R) {
  char path[512];
  snprintf(path, sizeof path, "%s/checkpoint", dir);
  uint64_t N = (uint64_t)T * M, total = N * R;
  int dev = omp_get_default_device();
  unsigned char *buf = omp_target_alloc(total, dev);
  int fd = -1, wrong_calls = 0;
  double t = omp_get_wtime();
#pragma omp target map(from : fd) map(to : path)
  fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
#pragma omp target teams distribute parallel for num_teams(T) thread_limit(M) is_device_ptr(buf) \
    map(tofrom : wrong_calls)
  for (uint64_t i = 0; i < N; i++) {
    unsigned char *mine = buf + i * R;
    for (uint64_t j = 0; j < R; j++)
      mine[j] = pattern(i * R + j);
    if (pwrite(fd, mine, R, (off_t)(i * R)) != (ssize_t)R) {
#pragma omp atomic
      wrong_calls++;
    }
  }
  t = omp_get_wtime() - t;
  CHECK(fd >= 0 && wrong_calls == 0, "checkpoint: open %d, %d pwrite calls wrong", fd, wrong_calls);
  uint64_t n;
  unsigned char *p = slurp(path, &n);
  uint64_t wrong = 0;
  for (uint64_t i = 0; p && i < n; i++)
    wrong += p[i] != pattern(i);
  CHECK(p && n == total && wrong == 0, "checkpoint: file has %llu of %llu bytes, %llu wrong",
        (unsigned long long)n, (unsigned long long)total, (unsigned long long)wrong);
  free(p);
  printf("file_parallel: checkpoint: %llu threads x %llu bytes pwritten (%.2f GB/s)\n",
         (unsigned long long)N, (unsigned long long)R, total / t / 1e9);

  /* Every thread reads its range back. */
  wrong_calls = 0;
  uint64_t wrong_bytes = 0;
#pragma omp target teams distribute parallel for num_teams(T) thread_limit(M) is_device_ptr(buf) \
    map(tofrom : wrong_calls) reduction(+ : wrong_bytes)
  for (uint64_t i = 0; i < N; i++) {
    unsigned char *mine = buf + i * R;
    for (uint64_t j = 0; j < R; j++)
      mine[j] = 0;
    if (pread(fd, mine, R, (off_t)(i * R)) != (ssize_t)R) {
#pragma omp atomic
      wrong_calls++;
    }
    for (uint64_t j = 0; j < R; j++)
      wrong_bytes += mine[j] != pattern(i * R + j);
  }
  int c = -1;
#pragma omp target map(from : c)
  c = close(fd);
  CHECK(wrong_calls == 0 && wrong_bytes == 0 && c == 0,
        "checkpoint: %d pread calls wrong, %llu bytes wrong, close %d", wrong_calls,
        (unsigned long long)wrong_bytes, c);
  omp_target_free(buf, dev);
  unlink(path);
}

/* Record i: "record %08llu\n" then bytes pattern(i * R + j). */
static void positions(const char *dir, int T, int M, uint64_t R) {
  char path[512];
  snprintf(path, sizeof path, "%s/records", dir);
  uint64_t N = (uint64_t)T * M;
  int dev = omp_get_default_device();
  unsigned char *buf = omp_target_alloc(N * R, dev);
  int fd = -1, wrong_calls = 0;
  long end = -1;
#pragma omp target map(from : fd) map(to : path)
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
#pragma omp target teams distribute parallel for num_teams(T) thread_limit(M) is_device_ptr(buf) \
    map(tofrom : wrong_calls)
  for (uint64_t i = 0; i < N; i++) {
    unsigned char *mine = buf + i * R;
    int h = snprintf((char *)mine, R, "record %08llu\n", (unsigned long long)i);
    for (uint64_t j = (uint64_t)h; j < R; j++)
      mine[j] = pattern(i * R + j);
    if (write(fd, mine, R) != (ssize_t)R) {
#pragma omp atomic
      wrong_calls++;
    }
  }
#pragma omp target map(from : end)
  {
    end = lseek(fd, 0, SEEK_CUR);
    close(fd);
  }
  uint64_t n;
  unsigned char *p = slurp(path, &n);
  char *seen = calloc(N, 1);
  uint64_t defects = 0;
  for (uint64_t at = 0; p && at + R <= n; at += R) {
    unsigned long long i;
    char head[32];
    if (sscanf((const char *)p + at, "record %8llu\n", &i) != 1 || i >= N || seen[i]) {
      defects++;
      continue;
    }
    seen[i] = 1;
    int h = snprintf(head, sizeof head, "record %08llu\n", i);
    int ok = memcmp(p + at, head, h) == 0;
    for (uint64_t j = (uint64_t)h; j < R && ok; j++)
      ok = p[at + j] == pattern(i * R + j);
    defects += !ok;
  }
  CHECK(p && n == N * R && defects == 0 && wrong_calls == 0 && end == (long)(N * R),
        "positions: %llu of %llu bytes, %llu records torn, duplicated or overlapping, %d write calls "
        "wrong, final position %ld",
        (unsigned long long)n, (unsigned long long)(N * R), (unsigned long long)defects,
        wrong_calls, end);
  printf("file_parallel: positions: %llu records of %llu bytes through one file position\n",
         (unsigned long long)N, (unsigned long long)R);
  free(p);
  free(seen);
  omp_target_free(buf, dev);
  unlink(path);
}

/* Lines of line_format.h through one device FILE shared by every thread. The
 * stream is opened in one target region and used and closed in later ones. */
static void stream(const char *dir, int T, int M, int K) {
  char path[512];
  snprintf(path, sizeof path, "%s/lines", dir);
  int wrong_calls = 0, c = -1;
  FILE *f = NULL;
#pragma omp target map(to : path) map(from : f)
  f = fopen(path, "w");
  CHECK(f != NULL, "stream: fopen failed");
#pragma omp target teams distribute parallel for collapse(2) num_teams(T) thread_limit(M) \
    firstprivate(f) map(tofrom : wrong_calls)
  for (int t = 0; t < T; t++)
    for (int m = 0; m < M; m++)
      for (int k = 0; k < K; k++) {
        char expect[160];
        int len = snprintf(expect, sizeof expect, LINE_FMT, LINE_ARGS(t, m, k));
        if (fprintf(f, LINE_FMT, LINE_ARGS(t, m, k)) != len) {
#pragma omp atomic
          wrong_calls++;
        }
      }
#pragma omp target map(from : c) firstprivate(f)
  c = fclose(f);
  uint64_t n;
  unsigned char *p = slurp(path, &n);
  int *next = calloc((size_t)T * M, sizeof *next);
  uint64_t lines = 0, defects = 0;
  char *save = NULL;
  for (char *line = p ? strtok_r((char *)p, "\n", &save) : NULL; line;
       line = strtok_r(NULL, "\n", &save)) {
    int t, m, k;
    char expect[160];
    lines++;
    if (sscanf(line, "team %d thread %d line %d", &t, &m, &k) != 3 || t < 0 || t >= T || m < 0 ||
        m >= M) {
      defects++;
      continue;
    }
    snprintf(expect, sizeof expect, LINE_FMT, LINE_ARGS(t, m, k));
    expect[strlen(expect) - 1] = 0;
    defects += strcmp(line, expect) != 0 || k != next[t * M + m]++;
  }
  CHECK(lines == (uint64_t)T * M * K && defects == 0 && wrong_calls == 0 && c == 0,
        "stream: %llu lines of %d, %llu torn or out of order, %d fprintf calls wrong, fclose %d",
        (unsigned long long)lines, T * M * K, (unsigned long long)defects, wrong_calls, c);
  printf("file_parallel: stream: %llu lines from %d threads through one shared FILE\n",
         (unsigned long long)lines, T * M);
  free(p);
  free(next);
  unlink(path);
}

/* Each thread fails its own way at once; after a barrier its errno is still its own. */
static void per_thread_errno(const char *dir, int T, int M) {
  char path[512];
  snprintf(path, sizeof path, "%s", dir);
  int wrong = 0, dfd = open(dir, O_RDONLY | O_DIRECTORY), count = 0;
#pragma omp target teams num_teams(T) thread_limit(M) map(to : path, dfd) map(tofrom : wrong, count)
#pragma omp parallel num_threads(M)
  {
    int id = omp_get_team_num() * M + omp_get_thread_num(), want;
    errno = 0;
    switch (id % 4) {
    case 0:
      want = ENOENT;
      open("/nonexistent/omp-iouring", O_RDONLY);
      break;
    case 1:
      want = EBADF;
      close(1000000 + id);
      break;
    case 2:
      want = EEXIST;
      mkdir(path, 0700);
      break;
    default: {
      char c;
      want = EISDIR;
      read(dfd, &c, 1);
      break;
    }
    }
#pragma omp barrier
    if (errno != want) {
#pragma omp atomic
      wrong++;
    }
#pragma omp atomic
    count++;
  }
  close(dfd);
  CHECK(wrong == 0 && count == T * M, "errno: %d of %d threads saw another thread's errno (%d ran)",
        wrong, T * M, count);
  printf("file_parallel: errno: %d threads failing 4 ways at once, each with its own errno\n",
         count);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s TEAMS THREADS RECORD_BYTES\n", argv[0]);
    return 2;
  }
  int T = atoi(argv[1]), M = atoi(argv[2]);
  uint64_t R = strtoull(argv[3], NULL, 0);
  char dir[512];
  snprintf(dir, sizeof dir, "%s/file_parallel.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 2;
  }
  checkpoint(dir, T, M, R);
  positions(dir, T, M, R < 32 ? 32 : R);
  stream(dir, T, M, 20);
  per_thread_errno(dir, T, M);
  rmdir(dir);
  printf("file_parallel: %s\n", bad ? "FAILED" : "all exact");
  return bad != 0;
}
