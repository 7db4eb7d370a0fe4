/* SPDX-License-Identifier: MIT */
/* snprintf through the device formatter (device-rtl/format.c built for the
 * host); errors come back as -errno. For the differential tests and the fuzzer. */
#ifndef OIU_TEST_FORMAT_SNPRINTF_H
#define OIU_TEST_FORMAT_SNPRINTF_H
#include <stdarg.h>
#include <stddef.h>

#include "format.h"

static int format_snprintf(char *buf, size_t n, const char *fmt, ...) {
  oiu_sink s = {buf, n ? n - 1 : 0, 0, 0, NULL, 0};
  va_list ap;
  va_start(ap, fmt);
  int r = oiu_vformat(&s, fmt, ap);
  va_end(ap);
  if (n)
    buf[s.len] = 0;
  return r;
}
#endif
