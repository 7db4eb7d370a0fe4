/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the device formatter (device-rtl/format.c, built for
 * the host) against glibc's snprintf.
 *
 * Input: a format string up to the first NUL, then bytes that supply the
 * arguments. The format is cut into pieces of at most one conversion each;
 * every piece is given arguments of exactly the types its conversion reads
 * (so no undefined behaviour), and formatted by both: return value (errno
 * for errors) and bytes must agree, through a plain buffer and through a
 * 16-byte chunk whose flush appends. A difference traps, so libFuzzer keeps
 * the input. Left out, as documented differences: positional arguments
 * ('$'), %m; widths and precisions are capped at 5 digits and star values
 * at +-99999, or glibc would pad gigabytes (format_diff covers INT_MAX).
 */
#define _GNU_SOURCE /* strnlen */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "format.h"
#include "format_snprintf.h"

#define OUT 4096

/* The argument bytes, consumed as the pieces need them (zeros once used up). */
struct args {
  const uint8_t *p;
  size_t n;
};

static void take(struct args *a, void *dst, size_t k) {
  memset(dst, 0, k);
  size_t c = k < a->n ? k : a->n;
  memcpy(dst, a->p, c);
  a->p += c;
  a->n -= c;
}

static int take_star(struct args *a) {
  int16_t v;
  take(a, &v, sizeof v);
  return v % 100000; /* |star| <= 99999: no gigabytes of padding */
}

/* What one conversion reads. */
enum kind { K_NONE, K_INT, K_LONG, K_LLONG, K_SIZE, K_INTMAX, K_PTRDIFF, K_DOUBLE, K_LDOUBLE,
            K_STR, K_WSTR, K_WINT, K_PTR, K_COUNT };

static enum kind kind_of(const char *len, char conv) {
  int l = !strcmp(len, "l"), ll = !strcmp(len, "ll") || !strcmp(len, "q"), L = !strcmp(len, "L");
  switch (conv) {
  case 'd': case 'i': case 'o': case 'u': case 'x': case 'X': case 'b': case 'B':
    if (ll || L) return K_LLONG;
    if (l) return K_LONG;
    if (!strcmp(len, "z") || !strcmp(len, "Z")) return K_SIZE;
    if (!strcmp(len, "j")) return K_INTMAX;
    if (!strcmp(len, "t")) return K_PTRDIFF;
    return K_INT;
  case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'a': case 'A':
    return ll || L ? K_LDOUBLE : K_DOUBLE;
  case 's': return l ? K_WSTR : K_STR;
  case 'S': return K_WSTR;
  case 'c': return l ? K_WINT : K_INT;
  case 'C': return K_WINT;
  case 'p': return K_PTR;
  case 'n': return K_COUNT;
  default: return K_NONE; /* '%', unknown conversions (printed as text) */
  }
}


struct chunked {
  oiu_sink s;
  char chunk[16];
  char *big;
  size_t len;
};

static int chunk_flush(oiu_sink *s) {
  struct chunked *c = (struct chunked *)s;
  size_t k = s->len < OUT - 1 - c->len ? s->len : OUT - 1 - c->len;
  memcpy(c->big + c->len, s->buf, k);
  c->len += k;
  s->len = 0;
  return 0;
}

static int ours_chunked(char *buf, size_t n, const char *fmt, ...) {
  (void)n;
  struct chunked c = {{0}, {0}, buf, 0};
  c.s.buf = c.chunk;
  c.s.cap = sizeof c.chunk;
  c.s.flush = chunk_flush;
  va_list ap;
  va_start(ap, fmt);
  int r = oiu_vformat(&c.s, fmt, ap);
  va_end(ap);
  chunk_flush(&c.s);
  buf[c.len] = 0;
  return r;
}

static int (*volatile theirs)(char *, size_t, const char *, ...) = snprintf;
typedef int (*fmt_fn)(char *, size_t, const char *, ...);

/* Calls f with the piece's star arguments and its one argument. */
#define CALL(f, buf, fmt, nstar, w, p, arg)                                          \
  ((nstar) == 0 ? (f)(buf, OUT, fmt, arg)                                              \
   : (nstar) == 1 ? (f)(buf, OUT, fmt, w, arg) : (f)(buf, OUT, fmt, w, p, arg))

static int run(fmt_fn f, char *buf, const char *fmt, int nstar, int w, int p, enum kind k,
               const struct args *vals, void *count) {
  struct args a = *vals;
  union {
    int i;
    long l;
    long long ll;
    size_t z;
    intmax_t j;
    ptrdiff_t t;
    double d;
    long double ld;
    wint_t wc;
    void *ptr;
  } v;
  static char str[64];
  static wchar_t wstr[16];
  switch (k) {
  case K_NONE: return CALL(f, buf, fmt, nstar, w, p, 0);
  case K_INT: take(&a, &v.i, sizeof v.i); return CALL(f, buf, fmt, nstar, w, p, v.i);
  case K_LONG: take(&a, &v.l, sizeof v.l); return CALL(f, buf, fmt, nstar, w, p, v.l);
  case K_LLONG: take(&a, &v.ll, sizeof v.ll); return CALL(f, buf, fmt, nstar, w, p, v.ll);
  case K_SIZE: take(&a, &v.z, sizeof v.z); return CALL(f, buf, fmt, nstar, w, p, v.z);
  case K_INTMAX: take(&a, &v.j, sizeof v.j); return CALL(f, buf, fmt, nstar, w, p, v.j);
  case K_PTRDIFF: take(&a, &v.t, sizeof v.t); return CALL(f, buf, fmt, nstar, w, p, v.t);
  case K_DOUBLE: take(&a, &v.d, sizeof v.d); return CALL(f, buf, fmt, nstar, w, p, v.d);
  case K_LDOUBLE: {
    /* Through a double: valid 80-bit encodings only (glibc and we may differ
     * on pseudo-denormals and unnormals, which no arithmetic produces). */
    double d;
    take(&a, &d, sizeof d);
    v.ld = (long double)d;
    return CALL(f, buf, fmt, nstar, w, p, v.ld);
  }
  case K_STR: {
    uint8_t len;
    take(&a, &len, 1);
    take(&a, str, len % (sizeof str - 1));
    str[len % (sizeof str - 1)] = 0;
    return CALL(f, buf, fmt, nstar, w, p, (len & 0xc0) == 0xc0 ? (char *)0 : str);
  }
  case K_WSTR: {
    uint8_t len, c;
    take(&a, &len, 1);
    int n = len % 16;
    for (int i = 0; i < n; i++) {
      take(&a, &c, 1);
      wstr[i] = c ? c : 'x';
    }
    wstr[n < 15 ? n : 15] = 0;
    return CALL(f, buf, fmt, nstar, w, p, (len & 0xc0) == 0xc0 ? (wchar_t *)0 : wstr);
  }
  case K_WINT: {
    uint8_t c;
    take(&a, &c, 1);
    return CALL(f, buf, fmt, nstar, w, p, (wint_t)c);
  }
  case K_PTR: take(&a, &v.ptr, sizeof v.ptr); return CALL(f, buf, fmt, nstar, w, p, v.ptr);
  case K_COUNT: return CALL(f, buf, fmt, nstar, w, p, count);
  }
  return 0;
}

/* One piece: both formatters must agree. */
static void check_piece(const char *fmt, int nstar, int w, int p, enum kind k, struct args *a) {
  static char g[OUT], m[OUT], c[OUT];
  long long gn = -1, mn = -1, cn = -1; /* %n targets, as wide as any length modifier */
  errno = 0;
  int rg = run(theirs, g, fmt, nstar, w, p, k, a, &gn);
  int eg = errno;
  int rm = run(format_snprintf, m, fmt, nstar, w, p, k, a, &mn);
  int rc = run(ours_chunked, c, fmt, nstar, w, p, k, a, &cn);
  int ok;
  if (rg < 0)
    ok = rm == -eg && rc == -eg;
  else
    ok = rm == rg && rc == rg && !strcmp(g, m) && !strncmp(g, c, OUT - 1);
  if (k == K_COUNT && rg >= 0)
    ok = ok && (int)gn == (int)mn && (int)gn == (int)cn;
  if (!ok) {
    fprintf(stderr, "format_fuzz: \"%s\": glibc %d (errno %d) \"%.80s\", ours %d \"%.80s\", chunked %d\n",
            fmt, rg, eg, g, rm, m, rc);
    __builtin_trap();
  }
  /* Consume what the piece used, for the next one. */
  struct args used = *a;
  char dummy[OUT];
  long long n = 0;
  run(format_snprintf, dummy, fmt, nstar, w, p, k, &used, &n);
  *a = used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t flen = strnlen((const char *)data, size);
  if (flen > 256)
    return 0;
  char fmt[512], piece[512];
  memcpy(fmt, data, flen);
  fmt[flen] = 0;
  if (strchr(fmt, '$'))
    return 0; /* positional arguments: unsupported by design */
  struct args a = {data + flen + (flen < size), size - flen - (flen < size)};
  const char *q = fmt;
  while (*q) {
    /* A piece: text, then at most one conversion. */
    const char *pct = strchr(q, '%');
    if (!pct) {
      check_piece(q, 0, 0, 0, K_NONE, &a);
      break;
    }
    const char *s = pct + 1;
    int nstar = 0, digits = 0;
    char len[3] = {0};
    while (*s && strchr("#0- +'I", *s))
      s++;
    /* The grammar both parsers follow: width '*' or digits, then '.' and
     * '*' or digits; whatever comes next is the conversion character. */
    for (int field = 0; field < 2; field++) {
      if (field == 1) {
        if (*s != '.')
          break;
        s++;
      }
      if (*s == '*') {
        nstar++;
        s++;
        continue;
      }
      for (digits = 0; *s >= '0' && *s <= '9'; s++)
        if (++digits > 5)
          return 0; /* glibc would pad gigabytes */
    }
    for (int i = 0; i < 2 && *s && strchr("hlLqjzZt", *s); i++, s++)
      len[i] = *s;
    if (!*s || *s == 'm')
      return 0; /* incomplete (format_diff has those), or %m */
    char conv = *s++;
    /* c and s take no length but l: C leaves %Lc, %qs and the like undefined
     * (glibc reads them as %lc and %ls; so do we, format_diff checks that). */
    if (strchr("cs", conv) && len[0] && strcmp(len, "l"))
      return 0;
    size_t n = (size_t)(s - q);
    memcpy(piece, q, n);
    piece[n] = 0;
    int w = nstar > 0 ? take_star(&a) : 0, p = nstar > 1 ? take_star(&a) : 0;
    check_piece(piece, nstar, w, p, kind_of(len, conv), &a);
    q = s;
  }
  return 0;
}
