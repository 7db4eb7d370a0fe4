/* SPDX-License-Identifier: MIT */
/*
 * file_bench [BYTES] [PATH] [REPEAT]: moves BYTES (default 256M; suffixes K M
 * G) between device memory and the file PATH (default $TMPDIR/oiu_file_bench)
 * and prints GB/s for each way, best of REPEAT (default 3) runs:
 *   device fwrite / fread   one call from a target region, device memory
 *   device pwrite / pread   one call, explicit offset
 *   host write / read       the same bytes from host memory, plain system calls
 *   omp_target_memcpy       device -> host and host -> device (the bulk copy
 *                           bandwidth a staged transfer cannot beat)
 * Timings are taken on the host around each target region (region launch
 * included, file data in the page cache; no fsync). Every transfer is
 * checked (sizes and a checksum); exit 1 if one is wrong.
 */
#include <fcntl.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "size_arg.h"


static double now(void) { return omp_get_wtime(); }

/* A sum of 64-bit words that device and host compute alike. */
static uint64_t host_sum(const unsigned char *p, uint64_t n) {
  uint64_t s = 0;
  for (uint64_t i = 0; i < n / 8; i++) {
    uint64_t w;
    memcpy(&w, p + 8 * i, 8);
    s += w * (2 * i + 1);
  }
  return s;
}

static uint64_t dev_sum(const unsigned char *p, uint64_t n, int dev) {
  uint64_t s = 0;
#pragma omp target teams distribute parallel for reduction(+ : s) is_device_ptr(p) device(dev)
  for (uint64_t i = 0; i < n / 8; i++)
    s += ((const uint64_t *)p)[i] * (2 * i + 1);
  return s;
}

enum { FWRITE, FREAD, PWRITE, PREAD, HWRITE, HREAD, D2H, H2D, NWAYS };
static const char *const names[NWAYS] = {
    "device fwrite (one call)", "device fread (one call)", "device pwrite (one call)",
    "device pread (one call)",  "host write(2)",           "host read(2)",
    "omp_target_memcpy D->H",   "omp_target_memcpy H->D"};

int main(int argc, char **argv) {
  uint64_t n = argc > 1 ? parse_size(argv[1]) : 256u << 20;
  char path[512];
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  if (argc > 2)
    snprintf(path, sizeof path, "%s", argv[2]);
  else
    snprintf(path, sizeof path, "%s/oiu_file_bench", tmp);
  int repeat = argc > 3 ? atoi(argv[3]) : 3;
  n &= ~(uint64_t)7;
  int dev = omp_get_default_device();
  unsigned char *d = omp_target_alloc(n, dev);
  unsigned char *h = malloc(n);
  if (!d || !h) {
    fprintf(stderr, "file_bench: cannot allocate %llu bytes\n", (unsigned long long)n);
    return 2;
  }
#pragma omp target teams distribute parallel for is_device_ptr(d) device(dev)
  for (uint64_t i = 0; i < n / 8; i++)
    ((uint64_t *)d)[i] = i * 0x9e3779b97f4a7c15ull;
  uint64_t want = dev_sum(d, n, dev);
  double best[NWAYS];
  int bad = 0;
  for (int w = 0; w < NWAYS; w++)
    best[w] = 1e30;

  for (int rep = 0; rep < repeat; rep++) {
    long r[4];
    double t = now();
#pragma omp target map(from : r) map(to : path) is_device_ptr(d) device(dev)
    {
      FILE *f = fopen(path, "w");
      r[0] = f ? (long)fwrite(d, 1, n, f) : -1;
      r[1] = f ? fclose(f) : -1;
    }
    t = now() - t;
    best[FWRITE] = t < best[FWRITE] ? t : best[FWRITE];
    bad += r[0] != (long)n || r[1] != 0;

#pragma omp target teams distribute parallel for is_device_ptr(d) device(dev)
    for (uint64_t i = 0; i < n; i++)
      d[i] = 0;
    t = now();
#pragma omp target map(from : r) map(to : path) is_device_ptr(d) device(dev)
    {
      FILE *f = fopen(path, "r");
      r[0] = f ? (long)fread(d, 1, n, f) : -1;
      r[1] = f ? fclose(f) : -1;
    }
    t = now() - t;
    best[FREAD] = t < best[FREAD] ? t : best[FREAD];
    bad += r[0] != (long)n || r[1] != 0 || dev_sum(d, n, dev) != want;

    t = now();
#pragma omp target map(from : r) map(to : path) is_device_ptr(d) device(dev)
    {
      int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      r[0] = pwrite(fd, d, n, 0);
      r[1] = close(fd);
    }
    t = now() - t;
    best[PWRITE] = t < best[PWRITE] ? t : best[PWRITE];
    bad += r[0] != (long)n || r[1] != 0;

#pragma omp target teams distribute parallel for is_device_ptr(d) device(dev)
    for (uint64_t i = 0; i < n; i++)
      d[i] = 0;
    t = now();
#pragma omp target map(from : r) map(to : path) is_device_ptr(d) device(dev)
    {
      int fd = open(path, O_RDONLY);
      r[0] = pread(fd, d, n, 0);
      r[1] = close(fd);
    }
    t = now() - t;
    best[PREAD] = t < best[PREAD] ? t : best[PREAD];
    bad += r[0] != (long)n || r[1] != 0 || dev_sum(d, n, dev) != want;

    t = now();
    omp_target_memcpy(h, d, n, 0, 0, omp_get_initial_device(), dev);
    t = now() - t;
    best[D2H] = t < best[D2H] ? t : best[D2H];
    bad += host_sum(h, n) != want;
    t = now();
    omp_target_memcpy(d, h, n, 0, 0, dev, omp_get_initial_device());
    t = now() - t;
    best[H2D] = t < best[H2D] ? t : best[H2D];

    t = now();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    uint64_t done = 0;
    while (fd >= 0 && done < n) {
      ssize_t k = write(fd, h + done, n - done);
      if (k <= 0)
        break;
      done += (uint64_t)k;
    }
    close(fd);
    t = now() - t;
    best[HWRITE] = t < best[HWRITE] ? t : best[HWRITE];
    bad += done != n;
    memset(h, 0, n);
    t = now();
    fd = open(path, O_RDONLY);
    done = 0;
    while (fd >= 0 && done < n) {
      ssize_t k = read(fd, h + done, n - done);
      if (k <= 0)
        break;
      done += (uint64_t)k;
    }
    close(fd);
    t = now() - t;
    best[HREAD] = t < best[HREAD] ? t : best[HREAD];
    bad += done != n || host_sum(h, n) != want;
  }
  printf("file_bench: %llu bytes, %s, best of %d\n", (unsigned long long)n, path, repeat);
  for (int w = 0; w < NWAYS; w++)
    printf("  %-26s %8.2f GB/s  (%.3f s)\n", names[w], n / best[w] / 1e9, best[w]);
  if (bad)
    printf("file_bench: %d transfers were wrong\n", bad);
  unlink(path);
  omp_target_free(d, dev);
  free(h);
  return bad != 0;
}
