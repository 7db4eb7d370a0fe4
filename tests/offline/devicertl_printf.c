/* SPDX-License-Identifier: MIT */
/*
 * LLVM DeviceRTL's own printf (openmp/device/src/LibC.cpp, LLVM 22), which
 * scripts/build-devicertl.sh renames out of the DeviceRTL we build: a weak
 * printf that calls vprintf, on AMDGPU a stub returning -1. With it, a
 * program built without the device library links as it would against an
 * upstream DeviceRTL, and prints nothing on an AMD GPU.
 */
#include <stdarg.h>

int vprintf(const char *, va_list);

#pragma omp begin declare target device_type(nohost)
__attribute__((weak)) int printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vprintf(fmt, ap);
  va_end(ap);
  return n;
}
#pragma omp end declare target
