/* SPDX-License-Identifier: MIT */
/*
 * file_roundtrip MAX [DIR]: files of 0 bytes up to MAX bytes (suffixes K, M,
 * G) go from device memory to a file and back, in one call each:
 *   fwrite / fread (through FILE), write / pread (descriptors), and
 *   fwrite from a mapped host buffer,
 * with the bytes checked on the host (glibc reads the file) and on the
 * device (what came back), reads at and past the end of file (short reads,
 * 0, feof), and fseek/fread at scattered offsets. Sizes straddle the slot,
 * the FILE buffer and the bulk chunk, so every path of the engine runs.
 * Prints the rate of each transfer; exit 1 on any wrong byte or result.
 */
#include <fcntl.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "size_arg.h"

#pragma omp declare target
static inline unsigned char pattern(uint64_t i, uint64_t seed) {
  uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ seed;
  x ^= x >> 29;
  return (unsigned char)(x * 0xbf58476d1ce4e5b9ull >> 56);
}
#pragma omp end declare target


static int bad;
#define CHECK(cond, ...)                                                                      \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      printf("file_roundtrip: " __VA_ARGS__);                                                \
      printf("\n");                                                                          \
      bad++;                                                                                 \
    }                                                                                        \
  } while (0)

/* The file holds exactly n bytes of pattern(seed). */
static void host_check(const char *path, uint64_t n, uint64_t seed, const char *what) {
  FILE *f = fopen(path, "rb");
  struct stat st;
  CHECK(f && stat(path, &st) == 0 && (uint64_t)st.st_size == n, "%s: %s has %lld bytes, not %llu",
        what, path, f ? (long long)st.st_size : -1LL, (unsigned long long)n);
  if (!f)
    return;
  static unsigned char buf[1 << 16];
  uint64_t at = 0, wrong = 0;
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
    for (size_t i = 0; i < got; i++)
      wrong += buf[i] != pattern(at + i, seed);
    at += got;
  }
  fclose(f);
  CHECK(wrong == 0 && at == n, "%s: %llu of %llu bytes wrong in the file", what,
        (unsigned long long)wrong, (unsigned long long)n);
}

static double rate(uint64_t n, double t) { return t > 0 ? n / t / 1e9 : 0; }

static void round_trip(const char *dir, uint64_t n, int dev) {
  char path[512];
  snprintf(path, sizeof path, "%s/roundtrip.%llu", dir, (unsigned long long)n);
  uint64_t seed = n * 31 + 7, cap = n + 4096;
  unsigned char *a = omp_target_alloc(cap, dev), *b = omp_target_alloc(cap, dev);
  if (!a || !b) {
    printf("file_roundtrip: omp_target_alloc of %llu bytes failed\n", (unsigned long long)cap);
    exit(1);
  }
#pragma omp target teams distribute parallel for is_device_ptr(a, b) device(dev)
  for (uint64_t i = 0; i < cap; i++) {
    a[i] = pattern(i, seed);
    b[i] = 0;
  }

  /* FILE: one fwrite of n bytes from device memory, one fread of more than n back. */
  long r[12];
  double t0 = omp_get_wtime(), t1, t2;
#pragma omp target map(from : r) map(to : path) is_device_ptr(a) device(dev)
  {
    FILE *f = fopen(path, "wb");
    r[0] = f != NULL;
    r[1] = f ? (long)fwrite(a, 1, n, f) : -1;
    r[2] = f ? fclose(f) : -1;
  }
  t1 = omp_get_wtime();
  CHECK(r[0] == 1 && r[1] == (long)n && r[2] == 0, "fwrite %llu: fopen %ld, fwrite %ld, fclose %ld",
        (unsigned long long)n, r[0], r[1], r[2]);
  host_check(path, n, seed, "fwrite");
#pragma omp target map(from : r) map(to : path) is_device_ptr(b) device(dev)
  {
    FILE *f = fopen(path, "rb");
    r[0] = f != NULL;
    r[1] = f ? (long)fread(b, 1, n + 100, f) : -1; /* a short read: the file ends first */
    r[2] = f ? feof(f) : -1;
    r[3] = f ? ferror(f) : -1;
    r[4] = f ? (long)fread(b + n, 1, 1, f) : -1;  /* at the end: 0 */
    r[5] = f ? fgetc(f) : -2;
    r[6] = f ? ftell(f) : -2;
    r[7] = f ? fclose(f) : -1;
  }
  t2 = omp_get_wtime();
  CHECK(r[0] == 1 && r[1] == (long)n && r[2] == 1 && r[3] == 0 && r[4] == 0 && r[5] == EOF &&
            r[6] == (long)n && r[7] == 0,
        "fread %llu: fopen %ld fread %ld feof %ld ferror %ld fread %ld fgetc %ld ftell %ld fclose %ld",
        (unsigned long long)n, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
  uint64_t wrong = 0;
#pragma omp target teams distribute parallel for reduction(+ : wrong) is_device_ptr(b) device(dev)
  for (uint64_t i = 0; i < cap; i++)
    wrong += b[i] != (i < n ? pattern(i, seed) : 0);
  CHECK(wrong == 0, "fread %llu: %llu bytes wrong on the device", (unsigned long long)n,
        (unsigned long long)wrong);
  if (n >= (1u << 20))
    printf("file_roundtrip: %9llu bytes: fwrite %.2f GB/s, fread %.2f GB/s\n",
           (unsigned long long)n, rate(n, t1 - t0), rate(n, t2 - t1));

  /* Descriptors: write at the file position, pread at offset 0, reads at the end. */
  seed += 1;
#pragma omp target teams distribute parallel for is_device_ptr(a, b) device(dev)
  for (uint64_t i = 0; i < cap; i++) {
    a[i] = pattern(i, seed);
    b[i] = 0;
  }
#pragma omp target map(from : r) map(to : path) is_device_ptr(a, b) device(dev)
  {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    r[0] = fd >= 0;
    r[1] = write(fd, a, n);
    r[2] = lseek(fd, 0, SEEK_CUR);
    r[3] = pread(fd, b, n + 100, 0);
    r[4] = read(fd, b + n, 100);             /* at the end: 0 */
    r[5] = lseek(fd, n / 2, SEEK_SET);
    r[6] = read(fd, b + n / 2, n);           /* the second half again: short */
    r[7] = lseek(fd, 0, SEEK_CUR);
    r[8] = pread(fd, b, 1, n);               /* past the end: 0 */
    r[9] = close(fd);
  }
  CHECK(r[0] == 1 && r[1] == (long)n && r[2] == (long)n && r[3] == (long)n && r[4] == 0 &&
            r[5] == (long)(n / 2) && r[6] == (long)(n - n / 2) && r[7] == (long)n && r[8] == 0 &&
            r[9] == 0,
        "write/pread %llu: open %ld write %ld pos %ld pread %ld read %ld lseek %ld read %ld pos %ld "
        "pread %ld close %ld",
        (unsigned long long)n, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]);
  host_check(path, n, seed, "write");
  wrong = 0;
#pragma omp target teams distribute parallel for reduction(+ : wrong) is_device_ptr(b) device(dev)
  for (uint64_t i = 0; i < cap; i++)
    wrong += b[i] != (i < n ? pattern(i, seed) : 0);
  CHECK(wrong == 0, "pread %llu: %llu bytes wrong on the device", (unsigned long long)n,
        (unsigned long long)wrong);

  /* Seeks: 64 bytes at scattered offsets through FILE, checked on the device. */
  if (n >= 64) {
#pragma omp target map(from : r) map(to : path) is_device_ptr(b) device(dev)
    {
      FILE *f = fopen(path, "rb");
      long wrong_bytes = 0, bad_calls = 0;
      for (uint64_t k = 0; k < 16 && f; k++) {
        uint64_t off = (k * 0x9e3779b97f4a7c15ull) % (n - 63);
        unsigned char piece[64];
        if (k & 1)
          bad_calls += fseek(f, (long)off - (long)n, SEEK_END) != 0;
        else
          bad_calls += fseek(f, (long)off, SEEK_SET) != 0;
        bad_calls += fread(piece, 1, 64, f) != 64;
        bad_calls += ftell(f) != (long)(off + 64);
        for (int i = 0; i < 64; i++)
          wrong_bytes += piece[i] != pattern(off + i, seed);
        bad_calls += fseek(f, -64, SEEK_CUR) != 0 || fgetc(f) != pattern(off, seed);
      }
      r[0] = f != NULL;
      r[1] = wrong_bytes;
      r[2] = bad_calls;
      r[3] = f ? fclose(f) : -1;
    }
    CHECK(r[0] == 1 && r[1] == 0 && r[2] == 0 && r[3] == 0,
          "seeks %llu: fopen %ld, %ld bytes wrong, %ld calls wrong, fclose %ld",
          (unsigned long long)n, r[0], r[1], r[2], r[3]);
  }
  omp_target_free(a, dev);
  omp_target_free(b, dev);
  unlink(path);
}

/* fwrite from mapped host memory (map(to:)): the other kind of buffer. */
static void mapped(const char *dir, uint64_t n) {
  char path[512];
  snprintf(path, sizeof path, "%s/mapped.%llu", dir, (unsigned long long)n);
  unsigned char *h = malloc(n ? n : 1);
  for (uint64_t i = 0; i < n; i++)
    h[i] = pattern(i, 99);
  long r[3];
#pragma omp target map(to : h[0 : n], path) map(from : r)
  {
    FILE *f = fopen(path, "w");
    r[0] = f != NULL;
    r[1] = f ? (long)fwrite(h, 1, n, f) : -1;
    r[2] = f ? fclose(f) : -1;
  }
  CHECK(r[0] == 1 && r[1] == (long)n && r[2] == 0, "mapped fwrite %llu: %ld %ld %ld",
        (unsigned long long)n, r[0], r[1], r[2]);
  host_check(path, n, 99, "mapped fwrite");
  free(h);
  unlink(path);
}

int main(int argc, char **argv) {
  uint64_t max = argc > 1 ? parse_size(argv[1]) : 64u << 20;
  const char *dir = argc > 2 ? argv[2] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  char tmp[512];
  snprintf(tmp, sizeof tmp, "%s/file_roundtrip.XXXXXX", dir);
  if (!mkdtemp(tmp)) {
    perror("mkdtemp");
    return 2;
  }
  int dev = omp_get_default_device();
  static const uint64_t sizes[] = {0, 1, 7, 1023, 1024, 1025, 4095, 4096, 4097, 65535, 65536,
                                   65537, 262143, 262144, 262145, 1048579, 8388613};
  int runs = 0;
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes && sizes[i] <= max; i++, runs++)
    round_trip(tmp, sizes[i], dev);
  if (max > 8388613)
    round_trip(tmp, max, dev), runs++;
  mapped(tmp, 300000);
  rmdir(tmp);
  printf("file_roundtrip: %d sizes up to %llu bytes: %s\n", runs, (unsigned long long)max,
         bad ? "FAILED" : "all exact");
  return bad != 0;
}
