/* SPDX-License-Identifier: MIT */
/*
 * Reads a binary file in a target region, transforms it on the device and
 * writes the result: the input is 32-bit little-endian unsigned integers,
 * each becomes 3 * v + 1 (mod 2^32). Build and run:
 *   clang -O2 -fopenmp --offload-arch=sm_90 file_transform.c $(pkg-config --cflags --libs omp-iouring)
 *   LIBOMPTARGET_IO_URING=1 ./a.out in.bin out.bin
 * The file data moves between the files and device memory in one fread and
 * one fwrite; the host never touches it. Errors come back with errno.
 */
#include <errno.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s IN OUT\n", argv[0]);
    return 2;
  }
  const char *in = argv[1], *out = argv[2];
  size_t lin = strlen(in) + 1, lout = strlen(out) + 1;
  long size;
  int err;

  /* How much to read: stat in device code. */
#pragma omp target map(to : in[0 : lin]) map(from : size, err)
  {
    struct stat st; /* map(from:) results start undefined on the device: set them all */
    size = stat(in, &st) == 0 ? st.st_size : -1;
    err = size < 0 ? errno : 0;
  }
  if (size < 0 || size % 4) {
    fprintf(stderr, "%s: %s\n", in, size < 0 ? strerror(err) : "not a whole number of 32-bit values");
    return 1;
  }
  size_t n = (size_t)size / 4;
  int dev = omp_get_default_device();
  uint32_t *data = omp_target_alloc(n ? n * 4 : 4, dev);

  /* Read it into device memory. */
  size_t got;
#pragma omp target map(to : in[0 : lin]) map(from : got, err) is_device_ptr(data)
  {
    FILE *f = fopen(in, "rb");
    got = 0, err = 0;
    if (f) {
      got = fread(data, 4, n, f);
      if (got != n)
        err = ferror(f) ? errno : 0;
      fclose(f);
    } else {
      err = errno;
    }
  }
  if (got != n) {
    fprintf(stderr, "%s: read %zu of %zu values: %s\n", in, got, n, err ? strerror(err) : "short file");
    return 1;
  }

  /* Transform in parallel, on the device. */
#pragma omp target teams distribute parallel for is_device_ptr(data)
  for (size_t i = 0; i < n; i++)
    data[i] = 3u * data[i] + 1u;

  /* Write the result from device memory. */
  size_t put;
  int closed;
#pragma omp target map(to : out[0 : lout]) map(from : put, err, closed) is_device_ptr(data)
  {
    FILE *f = fopen(out, "wb");
    put = 0, err = 0, closed = 0;
    if (f) {
      put = fwrite(data, 4, n, f);
      closed = fclose(f);
      if (put != n || closed)
        err = errno;
    } else {
      err = errno;
    }
  }
  omp_target_free(data, dev);
  if (put != n || closed) {
    fprintf(stderr, "%s: %s\n", out, strerror(err));
    return 1;
  }
  printf("file_transform: %zu values read from %s, transformed on device %d, written to %s\n", n,
         in, dev, out);
  return 0;
}
