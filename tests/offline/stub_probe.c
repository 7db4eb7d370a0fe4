/* SPDX-License-Identifier: MIT */
/*
 * A program whose device printf/vprintf end in LLVM DeviceRTL's AMDGPU stub
 * (vprintf returns -1 and prints nothing), for the image check to catch:
 * built without omp_iouring/device_names.h, its vprintf is DeviceRTL's; built
 * without the device library but with devicertl_printf.c, so is its printf.
 * Compiled with -fno-inline, so glibc's inline vprintf (a vfprintf call)
 * stays a vprintf call.
 */
#include <stdarg.h>
#include <stdio.h>

#pragma omp begin declare target
static int say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vprintf(fmt, ap);
  va_end(ap);
  return n;
}
#pragma omp end declare target

int main(void) {
  int sum = 0;
#pragma omp target map(tofrom : sum)
  sum = printf("printf %d\n", 1) + say("vprintf %d\n", 2);
  return sum > 0 ? 0 : 1;
}
