/* fmt_cases.h - deterministic printf test cases, the same on host and GPU.
 *
 * fmt_case_make() turns a seed into one format (literal text around one
 * conversion, sometimes with "%%") plus the argument it consumes, covering
 * conversions, flags, widths, precisions and length modifiers with weighted
 * edge values.  Only well-defined combinations are produced, no %n, no
 * non-ASCII wide characters, and output stays under 2000 bytes.
 * fmt_case_print() calls snprintf with the right argument types.
 *
 * Header-only and freestanding apart from snprintf, so a target region can
 * build the case from the seed itself.  Floating values are built from bits
 * or with exact (or correctly rounded) operations, so every target agrees.
 */
#ifndef OIU_TESTS_FMT_CASES_H
#define OIU_TESTS_FMT_CASES_H

#include <float.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef _OPENMP
#pragma omp declare target
#endif

#if !defined(__NVPTX__) && !defined(__AMDGPU__)
#define FC_HAVE_LDOUBLE 1
#else
#define FC_HAVE_LDOUBLE 0
#endif

/* What the conversion consumes (after c->nstar int arguments). */
enum {
  FC_NONE,      /* nothing: the format only has literal text and %% */
  FC_INT, FC_UINT, FC_LONG, FC_ULONG, FC_LLONG, FC_ULLONG,
  FC_SIZE, FC_PTRDIFF, FC_INTMAX, FC_UINTMAX,
  FC_CHAR,      /* int, for %c (and %hhd/%hd, which take a promoted int) */
  FC_WINT,      /* wint_t, for %lc */
  FC_DOUBLE, FC_LDOUBLE,
  FC_STR,       /* c->str, or NULL when c->null_str */
  FC_WSTR,      /* c->wstr */
  FC_PTR,       /* (void *)c->u, NULL when 0; never dereferenced */
};

/* Its layout differs between host and GPU builds (ld): rebuild a case from
 * its seed on each side rather than mapping it. */
typedef struct fmt_case {
  char fmt[96];
  int kind;
  int nstar;          /* how many '*' int arguments come first */
  int star[2];
  long long i;        /* signed integer kinds, FC_CHAR, FC_WINT */
  unsigned long long u; /* unsigned kinds, FC_PTR */
  double d;
#if FC_HAVE_LDOUBLE
  long double ld;
#endif
  int null_str;
  char str[48];       /* printable ASCII, NUL-terminated */
  wchar_t wstr[24];   /* printable ASCII, NUL-terminated */
} fmt_case;

/* ---- PRNG (splitmix64) ---------------------------------------------------- */

static inline unsigned long long fc_next(unsigned long long *st)
{
  unsigned long long z = (*st += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static inline unsigned fc_below(unsigned long long *st, unsigned n)
{
  return (unsigned)(fc_next(st) % n);
}

/* True with probability num/den. */
static inline int fc_chance(unsigned long long *st, unsigned num, unsigned den)
{
  return fc_below(st, den) < num;
}

/* Index picked by weights w[0..n). */
static inline int fc_pick(unsigned long long *st, const unsigned *w, int n)
{
  unsigned tot = 0, r;
  for (int k = 0; k < n; k++)
    tot += w[k];
  r = fc_below(st, tot);
  for (int k = 0; k < n; k++) {
    if (r < w[k])
      return k;
    r -= w[k];
  }
  return n - 1;
}

/* ---- values ---------------------------------------------------------------- */

static inline double fc_dbl_bits(unsigned long long b)
{
  double d;
  __builtin_memcpy(&d, &b, sizeof d);
  return d;
}

/* 2^e for -1074 <= e <= 1023, exact. */
static inline double fc_pow2(int e)
{
  if (e < -1022)
    return fc_dbl_bits(1ULL << (e + 1074));
  return fc_dbl_bits((unsigned long long)(e + 1023) << 52);
}

static inline unsigned long long fc_int_value(unsigned long long *st)
{
  static const unsigned long long edge[] = {
    0, 1, 2, 7, 8, 9, 10, 15, 16, 99, 100, 127, 128, 255, 256, 32767, 32768,
    65535, 65536, 0x7fffffffULL, 0x80000000ULL, 0xffffffffULL,
    0x100000000ULL, 999999999ULL, 1000000000ULL, 0x7fffffffffffffffULL,
    0x8000000000000000ULL, 0xffffffffffffffffULL, 1234567890123456789ULL,
  };
  unsigned long long v;
  switch (fc_below(st, 6)) {
  case 0: case 1:
    v = edge[fc_below(st, sizeof edge / sizeof *edge)];
    break;
  case 2:
    v = fc_next(st) >> fc_below(st, 64);
    break;
  case 3:
    v = fc_below(st, 1000);
    break;
  default:
    v = fc_next(st);
    break;
  }
  if (fc_chance(st, 1, 3))
    v = 0 - v;                      /* negative as a signed value */
  return v;
}

/* A double chosen to hit formatting corners.  NaNs get their sign while
 * still integers: on nvptx a negate (even a sign-bit xor, which LLVM turns
 * into fneg) may drop the sign of a NaN, and the case must be the same
 * everywhere. */
static inline double fc_double_value(unsigned long long *st)
{
  static const double edge[] = {
    0.0, 0.5, 1.0, 1.5, 2.5, 0.125, 0.375, 9.5, 0.05, 0.25, 0.35, 1e300,
    1e-300, 9.9999995, 0.99999995, 999999.5, 99999.95, 9.9999995e-5,
    0.0001, 1e-5, 123456789.0, 1e15, 1e16, 1e22, 1e23, 4.35, 2.675,
    DBL_MIN, DBL_MAX, DBL_EPSILON, 100000.0, 1e6, 0.1, 0.2, 0.3,
  };
  /* Static arrays, not compound literals: clang 22 turns a constant
   * compound literal into a global but still loads it with ld.local on
   * nvptx64 (an out-of-range address on an H100). */
  static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10};
  static const double below_pow10[] = {9.95, 9.995, 99.5, 0.995, 9.9999, 0.09999,
                                       999.9995, 9.5e-5, 0.000995};
  double v = 0;
  unsigned long long b = fc_next(st), raw = 0;
  int use_raw = 0;
  switch (fc_below(st, 10)) {
  case 0: case 1:
    v = edge[fc_below(st, sizeof edge / sizeof *edge)];
    break;
  case 2: {                     /* specials and denormals */
    static const unsigned long long sp[] = {
      0x7ff0000000000000ULL, 0x7ff8000000000000ULL, 0x7ff0000000000001ULL,
      0x0000000000000001ULL, 0x000fffffffffffffULL, 0x0008000000000000ULL,
    };
    raw = fc_chance(st, 1, 2) ? sp[fc_below(st, 6)]
                              : b & 0x000fffffffffffffULL;
    use_raw = 1;
    break;
  }
  case 3:                       /* odd / 2^k: exact decimal ties */
    v = (double)((b >> 11) | 1) * fc_pow2(-(int)fc_below(st, 80));
    break;
  case 4:                       /* k / 10^n, the usual "nice" decimals */
    v = (double)(b % 100000000) / pow10[fc_below(st, 11)];
    break;
  case 5:                       /* integers */
    v = (double)(b >> fc_below(st, 64));
    break;
  case 6:                       /* just below a power of ten */
    v = below_pow10[fc_below(st, 9)];
    break;
  default:                      /* random finite bit pattern */
    v = fc_dbl_bits(b & 0x7fefffffffffffffULL);
    break;
  }
  if (fc_chance(st, 1, 3)) {
    raw ^= 1ULL << 63;
    v = -v;                     /* never a NaN here */
  }
  return use_raw ? fc_dbl_bits(raw) : v;
}

#if FC_HAVE_LDOUBLE
static inline long double fc_ldouble_value(unsigned long long *st)
{
  long double v;
  unsigned long long b = fc_next(st);
  switch (fc_below(st, 8)) {
  case 0:
    v = (long double)fc_double_value(st);
    break;
  case 1:
    v = (long double[]){LDBL_MIN, LDBL_MAX, LDBL_EPSILON, 0.1L, 2.5L,
        1e-4000L, 1e4000L, 1.0L / 3, 9.99999995L, LDBL_MIN / 1024,
        1e1000L}[fc_below(st, 11)];
    break;
  case 2:                       /* odd / 2^k, full 64-bit mantissa */
    v = (long double)(b | 1);
    for (int k = (int)fc_below(st, 100); k > 0; k--)
      v /= 2;
    break;
  default: {                    /* random normal 80-bit value */
    unsigned short se = (unsigned short)(16383 - 3000 + fc_below(st, 6000));
    unsigned char raw[sizeof(long double)] = {0};
    b |= 1ULL << 63;
    __builtin_memcpy(raw, &b, 8);
    __builtin_memcpy(raw + 8, &se, 2);
    __builtin_memcpy(&v, raw, sizeof v);
    break;
  }
  }
  if (fc_chance(st, 1, 3))
    v = -v;
  return v;
}
#endif

/* ---- format text ------------------------------------------------------------ */

static inline void fc_put(fmt_case *c, int *n, char ch)
{
  if (*n < (int)sizeof c->fmt - 1)
    c->fmt[(*n)++] = ch;
}

static inline void fc_put_num(fmt_case *c, int *n, unsigned v)
{
  char tmp[12];
  int k = 0;
  do {
    tmp[k++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (k)
    fc_put(c, n, tmp[--k]);
}

/* Literal text: printable ASCII without '%', sometimes with "%%". */
static inline void fc_literal(fmt_case *c, int *n, unsigned long long *st)
{
  int len = fc_chance(st, 1, 3) ? 0 : (int)fc_below(st, 12);
  for (int k = 0; k < len; k++) {
    char ch = (char)(' ' + fc_below(st, 95));
    fc_put(c, n, ch == '%' ? '_' : ch);
  }
  if (fc_chance(st, 1, 8)) {
    fc_put(c, n, '%');
    fc_put(c, n, '%');
  }
}

/* Width or precision value: mostly small, sometimes large. */
static inline int fc_size(unsigned long long *st, int big)
{
  switch (fc_below(st, 8)) {
  case 0: return 0;
  case 1: return 1;
  case 2: return big ? (int)fc_below(st, 1101) : (int)fc_below(st, 121);
  case 3: return (int)fc_below(st, 121);
  default: return (int)fc_below(st, 25);
  }
}

/* The conversion table: letter, argument class, allowed flags. */
typedef struct fc_conv {
  char conv;
  char cls;          /* 'd' signed, 'u' unsigned, 'f' float, 'c', 's', 'p',
                        'C' (%lc), 'S' (%ls) */
  const char *flags; /* flags that are well-defined with it */
  unsigned weight;
} fc_conv;

/* The table, as a function: a file-scope array would be a declare-target
 * variable, which clang cannot register when the host never uses it. */
#define FC_NCONV 21
static inline fc_conv fc_conv_at(int k)
{
  switch (k) {
  case 0: return (fc_conv){'d', 'd', "-+ 0'", 10};
  case 1: return (fc_conv){'i', 'd', "-+ 0", 4};
  case 2: return (fc_conv){'u', 'u', "-0'", 4};
  case 3: return (fc_conv){'o', 'u', "-#0", 4};
  case 4: return (fc_conv){'x', 'u', "-#0", 4};
  case 5: return (fc_conv){'X', 'u', "-#0", 3};
  case 6: return (fc_conv){'b', 'u', "-#0", 1};
  case 7: return (fc_conv){'B', 'u', "-#0", 1};
  case 8: return (fc_conv){'c', 'c', "-", 3};
  case 9: return (fc_conv){'c', 'C', "-", 1};
  case 10: return (fc_conv){'s', 's', "-", 6};
  case 11: return (fc_conv){'s', 'S', "-", 1};
  case 12: return (fc_conv){'p', 'p', "-", 3};
  case 13: return (fc_conv){'f', 'f', "-+ #0'", 9};
  case 14: return (fc_conv){'F', 'f', "-+ #0", 3};
  case 15: return (fc_conv){'e', 'f', "-+ #0", 7};
  case 16: return (fc_conv){'E', 'f', "-+ #0", 3};
  case 17: return (fc_conv){'g', 'f', "-+ #0'", 9};
  case 18: return (fc_conv){'G', 'f', "-+ #0", 3};
  case 19: return (fc_conv){'a', 'f', "-+ #0", 6};
  default: return (fc_conv){'A', 'f', "-+ #0", 2};
  }
}

/* Length modifier and argument kind for an integer conversion. */
static inline const char *fc_int_length(unsigned long long *st, int sgn,
                                        int *kind)
{
  static const char *const mods[] = {"", "hh", "h", "l", "ll", "j", "z",
                                     "t", "q", "L"};
  static const unsigned w[] = {8, 2, 2, 3, 3, 1, 1, 1, 1, 1};
  static const int ks[] = {FC_INT, FC_CHAR, FC_CHAR, FC_LONG, FC_LLONG,
                           FC_INTMAX, FC_PTRDIFF, FC_PTRDIFF, FC_LLONG,
                           FC_LLONG};
  static const int ku[] = {FC_UINT, FC_CHAR, FC_CHAR, FC_ULONG, FC_ULLONG,
                           FC_UINTMAX, FC_SIZE, FC_PTRDIFF, FC_ULLONG,
                           FC_ULLONG};
  int k = fc_pick(st, w, 10);
  *kind = sgn ? ks[k] : ku[k];
  return mods[k];
}

/* Conservative bound on the bytes the conversion can print. */
static inline long fc_bound(const fmt_case *c, char cls, int width, int prec,
                            int is_f)
{
  long b = prec > 0 ? prec : 0;
  int e2 = 0;
  if (cls == 'f') {
    unsigned long long bits;
    __builtin_memcpy(&bits, &c->d, sizeof bits);
    e2 = (int)((bits >> 52) & 0x7ff) - 1023;
#if FC_HAVE_LDOUBLE
    if (c->kind == FC_LDOUBLE) {
      unsigned short se;
      __builtin_memcpy(&se, (const char *)&c->ld + 8, 2);
      e2 = (se & 0x7fff) - 16383;
    }
#endif
    b += 40 + (is_f && e2 > 0 ? (long)e2 * 30103 / 100000 + 2 : 0);
    if (prec < 0)
      b += 20;
  } else {
    b += 80;
  }
  return (width > b ? width : b) + 60;
}

static inline void fc_set_string(fmt_case *c, unsigned long long *st)
{
  int len = (int)fc_below(st, fc_chance(st, 1, 4) ? 48 : 12);
  for (int k = 0; k < len && k < 47; k++)
    c->str[k] = (char)(' ' + fc_below(st, 95));
  c->str[len < 47 ? len : 47] = 0;
  for (int k = 0; k < 23; k++)
    c->wstr[k] = (wchar_t)(c->str[k] ? c->str[k] : 0);
  c->wstr[23] = 0;
}

/* Value for the conversion's argument; sets c->kind for non-integers. */
static inline void fc_set_value(fmt_case *c, unsigned long long *st,
                                char cls, int ld)
{
  unsigned long long v = fc_int_value(st);
  c->i = (long long)v;
  c->u = v;
  switch (cls) {
  case 'c':
    c->kind = FC_CHAR;
    c->i = fc_chance(st, 1, 8) ? 0 : (long long)fc_below(st, 256);
    break;
  case 'C':
    c->kind = FC_WINT;
    c->i = (long long)fc_below(st, 128);
    break;
  case 's': case 'S':
    c->kind = cls == 's' ? FC_STR : FC_WSTR;
    c->null_str = cls == 's' && fc_chance(st, 1, 8);
    break;
  case 'p':
    c->kind = FC_PTR;
    c->u = fc_chance(st, 1, 4) ? 0 : 0x1234abcdULL;
    break;
  case 'f':
    c->kind = ld ? FC_LDOUBLE : FC_DOUBLE;
    c->d = fc_double_value(st);
#if FC_HAVE_LDOUBLE
    c->ld = ld ? fc_ldouble_value(st) : 0;
#endif
    break;
  }
}

/* Flags: a random subset of the allowed ones, in random order. */
static inline void fc_flags(fmt_case *c, int *n, unsigned long long *st,
                            const char *allowed)
{
  int nflags = 0;
  while (allowed[nflags])
    nflags++;
  for (int k = fc_chance(st, 1, 2) ? 0 : (int)fc_below(st, 4); k > 0; k--)
    fc_put(c, n, allowed[fc_below(st, (unsigned)nflags)]);
}

/* Width: none, digits or '*' (maybe negative). */
static inline int fc_width(fmt_case *c, int *n, unsigned long long *st,
                           int big)
{
  int w = fc_size(st, big);
  switch (fc_below(st, 5)) {
  case 0: case 1:
    return 0;
  case 2:
    fc_put(c, n, '*');
    c->star[c->nstar++] = fc_chance(st, 1, 3) ? -w : w;
    return w;
  default:
    if (w)
      fc_put_num(c, n, (unsigned)w);
    return w;
  }
}

/* Precision: none (-1), ".", ".digits" or ".*" (maybe negative). */
static inline int fc_prec(fmt_case *c, int *n, unsigned long long *st,
                          int big)
{
  int p = fc_size(st, big);
  switch (fc_below(st, 6)) {
  case 0: case 1:
    return -1;
  case 2:
    fc_put(c, n, '.');
    fc_put(c, n, '*');
    if (fc_chance(st, 1, 4))
      p = -1 - (int)fc_below(st, 5);
    c->star[c->nstar++] = p;
    return p < 0 ? -1 : p;
  case 3:
    fc_put(c, n, '.');
    return 0;
  default:
    fc_put(c, n, '.');
    fc_put_num(c, n, (unsigned)p);
    return p;
  }
}

/* One attempt at a case; returns its output bound. */
static inline long fc_try(fmt_case *c, unsigned long long *st, int allow_ld)
{
  unsigned w[FC_NCONV];
  int n = 0, width, prec = -1;
  for (int k = 0; k < FC_NCONV; k++)
    w[k] = fc_conv_at(k).weight;
  const fc_conv conv = fc_conv_at(fc_pick(st, w, FC_NCONV)), *cv = &conv;
  int ld = cv->cls == 'f' && FC_HAVE_LDOUBLE && allow_ld && fc_chance(st, 1, 5);
  int big = cv->cls == 'f';
  __builtin_memset(c, 0, sizeof *c);
  c->kind = FC_NONE;
  fc_literal(c, &n, st);
  if (fc_chance(st, 1, 60)) {           /* literal text and %% only */
    fc_literal(c, &n, st);
    c->fmt[n] = 0;
    return n;
  }
  fc_put(c, &n, '%');
  fc_flags(c, &n, st, cv->flags);
  width = fc_width(c, &n, st, big);
  if (cv->cls != 'c' && cv->cls != 'C' && cv->cls != 'p')
    prec = fc_prec(c, &n, st, big);
  fc_set_value(c, st, cv->cls, ld);
  if (cv->cls == 'd' || cv->cls == 'u') {
    const char *m = fc_int_length(st, cv->cls == 'd', &c->kind);
    while (*m)
      fc_put(c, &n, *m++);
  } else if (cv->cls == 'C' || cv->cls == 'S') {
    fc_put(c, &n, 'l');
  } else if (ld) {
    fc_put(c, &n, "LLLq"[fc_below(st, 4)]);
  } else if (cv->cls == 'f' && fc_chance(st, 1, 10)) {
    fc_put(c, &n, 'l');
  }
  fc_put(c, &n, cv->conv);
  fc_literal(c, &n, st);
  c->fmt[n] = 0;
  fc_set_string(c, st);
  return fc_bound(c, cv->cls, width, prec, (cv->conv | 32) == 'f') + n;
}

/* Builds case number 'seed'.  allow_long_double: may use %Lf etc. (ignored
 * where long double does not exist, so pass 0 on the host to get the very
 * case a GPU build makes from the same seed). */
static inline void fmt_case_make(fmt_case *c, unsigned long long seed,
                                 int allow_long_double)
{
  unsigned long long st = seed * 0x2545f4914f6cdd1dULL + 1;
  while (fc_try(c, &st, allow_long_double) > 1900)
    ;
}

/* FN(buf, n, c->fmt, ...) with the case's arguments. */
#define FC_CALL(FN, ...)                                                    \
  (c->nstar == 0 ? FN(buf, n, c->fmt, __VA_ARGS__)                          \
   : c->nstar == 1 ? FN(buf, n, c->fmt, c->star[0], __VA_ARGS__)            \
   : FN(buf, n, c->fmt, c->star[0], c->star[1], __VA_ARGS__))

#if FC_HAVE_LDOUBLE
#define FC_CALL_LDOUBLE(FN) case FC_LDOUBLE: return FC_CALL(FN, c->ld);
#else
#define FC_CALL_LDOUBLE(FN)
#endif

#define FC_DISPATCH(FN)                                                     \
  switch (c->kind) {                                                        \
  case FC_INT: case FC_CHAR: return FC_CALL(FN, (int)c->i);                 \
  case FC_UINT: return FC_CALL(FN, (unsigned)c->u);                         \
  case FC_LONG: return FC_CALL(FN, (long)c->i);                             \
  case FC_ULONG: return FC_CALL(FN, (unsigned long)c->u);                   \
  case FC_LLONG: return FC_CALL(FN, (long long)c->i);                       \
  case FC_ULLONG: return FC_CALL(FN, (unsigned long long)c->u);             \
  case FC_SIZE: return FC_CALL(FN, (size_t)c->u);                           \
  case FC_PTRDIFF: return FC_CALL(FN, (ptrdiff_t)c->i);                     \
  case FC_INTMAX: return FC_CALL(FN, (intmax_t)c->i);                       \
  case FC_UINTMAX: return FC_CALL(FN, (uintmax_t)c->u);                     \
  case FC_WINT: return FC_CALL(FN, (__WINT_TYPE__)c->i);                    \
  case FC_DOUBLE: return FC_CALL(FN, c->d);                                 \
  FC_CALL_LDOUBLE(FN)                                                       \
  case FC_STR: return FC_CALL(FN, c->null_str ? (const char *)0 : c->str);  \
  case FC_WSTR: return FC_CALL(FN, c->wstr);                                \
  case FC_PTR: return FC_CALL(FN, (void *)(uintptr_t)c->u);                 \
  default: return FC_CALL(FN, 0);                                           \
  }

/* snprintf(buf, n, c->fmt, ...) with the case's arguments. */
static inline int fmt_case_print(const fmt_case *c, char *buf, size_t n)
{
  FC_DISPATCH(snprintf)
}

/* The same through any snprintf-like function (e.g. one under test). */
typedef int (*fc_snprintf_fn)(char *buf, size_t n, const char *fmt, ...);
static inline int fmt_case_call(const fmt_case *c, fc_snprintf_fn fn,
                                char *buf, size_t n)
{
  FC_DISPATCH(fn)
}

/* printf(c->fmt, ...) with the case's arguments: the printf lowering itself
 * (NVPTX packs the arguments for vprintf) rather than a variadic snprintf. */
#define FC_PRINTF(buf, n, ...) ((void)(buf), (void)(n), printf(__VA_ARGS__))
static inline int fmt_case_printf(const fmt_case *c)
{
  char *buf = NULL;
  size_t n = 0;
  FC_DISPATCH(FC_PRINTF)
}
#undef FC_PRINTF

#undef FC_DISPATCH
#undef FC_CALL_LDOUBLE
#undef FC_CALL

#ifdef _OPENMP
#pragma omp end declare target
#endif

#endif /* OIU_TESTS_FMT_CASES_H */
