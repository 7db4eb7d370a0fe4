/* format.h - private: the freestanding printf formatter of the device RTL.
 *
 * One formatter, byte-compatible with glibc 2.36 printf in the C locale,
 * built as OpenMP declare-target code for nvptx64, amdgcn and x86_64 host
 * offload, and as plain C for the host-side differential test.  All output
 * goes through one sink (a buffer plus an optional flush callback).
 */
#ifndef OIU_DEVICE_RTL_FORMAT_H
#define OIU_DEVICE_RTL_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/* Linux errno numbers, so GPU code need not include <errno.h>. */
#ifndef OIU_EINVAL
#define OIU_EINVAL 22
#endif
#ifndef OIU_EOVERFLOW
#define OIU_EOVERFLOW 75
#endif
#ifndef OIU_EILSEQ
#define OIU_EILSEQ 84
#endif

/* Where formatted bytes go.  The formatter stores into buf while there is
 * room; when buf is full and more output comes it calls flush, which must
 * empty buf (set len = 0) and return 0, or return a negative errno to abort
 * formatting (GPU builds call oiu_message_flush directly instead, see
 * format.c).  With flush == NULL excess output is dropped but still counted
 * in total (snprintf semantics). */
typedef struct oiu_sink {
  char *buf;      /* destination chunk */
  size_t cap;     /* bytes available in buf */
  size_t len;     /* bytes stored in buf so far */
  size_t total;   /* bytes produced in all (stored, flushed or dropped) */
  int (*flush)(struct oiu_sink *s);
  int err;        /* first error (negative errno) seen, 0 if none */
} oiu_sink;

#if defined(_OPENMP) && defined(__clang__)
#pragma omp begin declare target device_type(nohost)
#endif

/* Formats like C99/glibc vfprintf into s.  Returns the number of bytes this
 * call produced (what vsnprintf would return), or a negative errno:
 * -OIU_EOVERFLOW when the count exceeds INT_MAX (or a width or precision in
 * the format does), -OIU_EILSEQ for a wide character not representable in
 * the C locale, -OIU_EINVAL for an incomplete conversion at the end of fmt
 * or a positional ("%1$d") argument, which is not supported, or what flush
 * returned.  Any error is also recorded in s->err if that is still 0.
 *
 * Differences from glibc, by design: %m prints its own spec text (there is
 * no errno on the device); the ' and I flags are no-ops (C locale); on
 * nvptx64 and amdgcn the L/ll/q modifiers of a floating conversion read a
 * double, since long double cannot be used in device code there. */
int oiu_vformat(oiu_sink *s, const char *fmt, va_list ap);

#if defined(_OPENMP) && defined(__clang__)
#pragma omp end declare target
#endif

#endif /* OIU_DEVICE_RTL_FORMAT_H */
