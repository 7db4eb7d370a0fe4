/* format.c - freestanding printf formatter, byte-identical to glibc 2.36.
 *
 * Runs as OpenMP device code (nvptx64, amdgcn, x86_64 host offload) and as
 * plain host C.  So: no libc, no static mutable state, small stack frames.
 * Exact decimal conversion uses musl's technique (src/stdio/vfprintf.c, MIT):
 * the value is expanded exactly into base-10^9 words, then rounded in place.
 *
 * glibc has two parsers.  Its fast path handles ordinary conversions; any
 * conversion its jump tables do not know (an unknown letter, or 'h' followed
 * by a float, c, s, p or m) makes it re-parse the rest of the format in
 * printf_positional, whose semantics differ in small ways (see slow_path
 * below).  We model both, since "byte-identical" includes those corners.
 */
#include "format.h"

/*
 * GPU builds call the device's only flushing sink (a stdio message) directly:
 * an indirect call would hide its stack use from the driver, which sizes
 * each thread's stack from the static call graph.
 */
#if defined(__NVPTX__) || defined(__AMDGPU__)
int oiu_message_flush(oiu_sink *s);
#define oiu_sink_flush(s) oiu_message_flush(s)
#else
#define oiu_sink_flush(s) (s)->flush(s)
#endif

#include <float.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

/* Thread-private locals.  In OpenMP generic mode clang "globalizes" every
 * local or parameter whose address it sees taken: it moves it to
 * __kmpc_alloc_shared (a team-shared heap, per call), and device LTO cannot
 * always move it back.  An allocate directive with omp_thread_mem_alloc
 * keeps it an ordinary stack slot on nvptx and amdgcn; OIU_PRIVATE names
 * such variables.  (With -fopenmp-cuda-mode nothing is globalized anyway.)
 * The allocator type is declared here, as LLVM's DeviceRTL does, to stay
 * clear of <omp.h>.  x86 offload and plain builds need nothing. */
#if defined(_OPENMP) && (defined(__NVPTX__) || defined(__AMDGPU__))
typedef enum omp_allocator_handle_t {
  omp_null_allocator = 0, omp_default_mem_alloc = 1,
  omp_large_cap_mem_alloc = 2, omp_const_mem_alloc = 3,
  omp_high_bw_mem_alloc = 4, omp_low_lat_mem_alloc = 5,
  omp_cgroup_mem_alloc = 6, omp_pteam_mem_alloc = 7,
  omp_thread_mem_alloc = 8, KMP_ALLOCATOR_MAX_HANDLE = UINTPTR_MAX
} omp_allocator_handle_t;
#define OIU_PRAGMA(x) _Pragma(#x)
#define OIU_PRIVATE(...) \
  OIU_PRAGMA(omp allocate(__VA_ARGS__) allocator(omp_thread_mem_alloc))
#else
#define OIU_PRIVATE(...)
#endif

/* Device code for OpenMP offload (clang); gcc 12 lacks "begin declare
 * target", and a gcc -fopenmp build just gets host code. */
#if defined(_OPENMP) && defined(__clang__)
#pragma omp begin declare target device_type(nohost)
#endif

/* long double: clang rejects it in nvptx/amdgcn device code, so there 'L'
 * floating conversions read a double.  On an x86 host the 80-bit format is
 * printed exactly; other long double formats go through double. */
#if defined(__NVPTX__) || defined(__AMDGPU__)
#define OIU_LDBL 0
#elif LDBL_MANT_DIG == 64 && LDBL_MAX_EXP == 16384
#define OIU_LDBL 80
#else
#define OIU_LDBL 1
#endif

#define E9 1000000000u

enum {                      /* flags of one conversion */
  F_ALT = 1, F_PAD0 = 2, F_LEFT = 4, F_PLUS = 8, F_SPACE = 16,
  F_GROUP = 32, F_I18N = 64,
};

enum { L_NONE, L_HH, L_H, L_L, L_LL, L_BIGL, L_Z, L_T, L_J };

typedef struct spec {
  unsigned fl;
  long long width;   /* >= 0; 2^31 when "*" gave INT_MIN */
  int prec;          /* -1: none */
  int len;           /* L_* */
  bool is_long;      /* glibc's is_long: wide c/s, long ints */
  bool is_ldbl;      /* glibc's is_long_double */
  char conv;
} spec;

typedef struct fstate {
  oiu_sink *s;
  long long done;    /* bytes produced by this call */
  int err;           /* first error, negative errno */
  bool slow_path;    /* glibc has switched to printf_positional */
} fstate;

/* ---- output: the one function all bytes go through ---------------------- */

/* Emits n bytes: from p, or n copies of c when p is NULL. */
static void emit(fstate *f, const char *p, char c, long long n)
{
  oiu_sink *s = f->s;
  if (f->err || n <= 0)
    return;
  if (n > INT_MAX - f->done) {
    f->err = -OIU_EOVERFLOW;
    return;
  }
  f->done += n;
  while (n > 0) {
    size_t room = s->cap - s->len;
    if (room == 0 && !s->flush) {
      s->total += (size_t)n;          /* dropped, but counted */
      return;
    }
    if (room == 0) {
      int rc = oiu_sink_flush(s);
      if (rc < 0 || s->len >= s->cap) {
        f->err = rc < 0 ? rc : -OIU_EINVAL;
        return;
      }
      continue;
    }
    size_t k = (unsigned long long)n < room ? (size_t)n : room;
    if (p) {
      __builtin_memcpy(s->buf + s->len, p, k);
      p += k;
    } else {
      __builtin_memset(s->buf + s->len, c, k);
    }
    s->len += k;
    s->total += k;
    n -= (long long)k;
  }
}

static void put(fstate *f, const char *p, long long n) { emit(f, p, 0, n); }
static void pad(fstate *f, char c, long long n) { emit(f, NULL, c, n); }
static void putc1(fstate *f, char c) { emit(f, NULL, c, 1); }

static long long str_len(const char *p, long long max)
{
  long long n = 0;
  while ((max < 0 || n < max) && p[n])
    n++;
  return n;
}

/*
 * Digits of v in base 2, 8, 10 or 16, written backwards from end. No
 * division by a variable: a GPU has no divider, and a 64-bit division by a
 * runtime base is a software routine per digit. Base 10 divides by the
 * constant (a multiply-high), in 32 bits once the value fits; the others
 * shift. Returns where the digits start.
 */
static char *utoa(unsigned long long v, char *end, unsigned base, bool upper)
{
  const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  if (base == 10) {
    for (; v > 0xffffffffu; v /= 10)
      *--end = (char)('0' + v % 10);
    unsigned w = (unsigned)v;
    do {
      *--end = (char)('0' + w % 10);
      w /= 10;
    } while (w);
    return end;
  }
  unsigned shift = base == 16 ? 4 : base == 8 ? 3 : 1;
  do {
    *--end = dig[v & (base - 1)];
    v >>= shift;
  } while (v);
  return end;
}

/* The sign character a conversion prints, or 0. */
static char sign_char(unsigned fl, bool neg)
{
  return neg ? '-' : (fl & F_PLUS) ? '+' : (fl & F_SPACE) ? ' ' : 0;
}

/* ---- format parsing ------------------------------------------------------ */

/* glibc's read_int: all digits are consumed, -1 on overflow past INT_MAX. */
static int read_int(const char **pp)
{
  const char *p = *pp;
  int v = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    int d = *p - '0';
    if (v >= 0)
      v = (v > (INT_MAX - d) / 10) ? -1 : v * 10 + d;
  }
  *pp = p;
  return v;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool char_in(const char *set, char c)
{
  for (; *set; set++)
    if (*set == c)
      return true;
  return false;
}

static unsigned flag_bit(char c)
{
  switch (c) {
  case '#': return F_ALT;
  case '0': return F_PAD0;
  case '-': return F_LEFT;
  case '+': return F_PLUS;
  case ' ': return F_SPACE;
  case '\'': return F_GROUP;
  case 'I': return F_I18N;
  default: return 0;
  }
}

static const char *parse_length(const char *p, int *len)
{
  switch (*p) {
  case 'h': *len = p[1] == 'h' ? L_HH : L_H; return p + (p[1] == 'h') + 1;
  case 'l': *len = p[1] == 'l' ? L_LL : L_L; return p + (p[1] == 'l') + 1;
  case 'L': case 'q': *len = L_BIGL; return p + 1;
  case 'z': case 'Z': *len = L_Z; return p + 1;
  case 't': *len = L_T; return p + 1;
  case 'j': *len = L_J; return p + 1;
  default: *len = L_NONE; return p;
  }
}

/* Syntax of one conversion, before any argument is read. */
typedef struct rawspec {
  unsigned fl;
  int width, prec;          /* digits given; -1 if they overflowed */
  bool wstar, pstar, hasprec;
  int bad;                  /* error the fast path reports, or 0 */
} rawspec;

/* After '*' glibc reads digits: "*N$" is positional, overflow is an error. */
static void star_digits(const char *p, rawspec *rs)
{
  OIU_PRIVATE(p)
  if (!is_digit(*p))
    return;
  int n = read_int(&p);
  if (n == -1 && !rs->bad)
    rs->bad = -OIU_EOVERFLOW;
  else if (n > 0 && *p == '$' && !rs->bad)
    rs->bad = -OIU_EINVAL;
}

static const char *parse_width(const char *p, rawspec *rs)
{
  OIU_PRIVATE(p)
  if (*p == '*') {
    rs->wstar = true;
    star_digits(p + 1, rs);
    return p + 1;
  }
  if (is_digit(*p)) {
    rs->width = read_int(&p);
    if (rs->width == -1 && !rs->bad)
      rs->bad = -OIU_EOVERFLOW;
    else if (*p == '$' && !rs->bad)
      rs->bad = -OIU_EINVAL;      /* positional arguments: unsupported */
  }
  return p;
}

static const char *parse_prec(const char *p, rawspec *rs)
{
  OIU_PRIVATE(p)
  if (*p != '.')
    return p;
  rs->hasprec = true;
  rs->prec = 0;                     /* "%.d" means "%.0d" */
  p++;
  if (*p == '*') {
    rs->pstar = true;
    star_digits(p + 1, rs);
    return p + 1;
  }
  if (is_digit(*p)) {
    rs->prec = read_int(&p);
    if (rs->prec == -1 && !rs->bad)
      rs->bad = -OIU_EOVERFLOW;
  }
  return p;
}

/* Does glibc's fast path handle this conversion, or go to the slow path? */
static bool fast_path_knows(int len, char conv)
{
  const char *known = "diouxXbBeEfFgGaAcCsSpnm%";
  const char *not_after_h = "eEfFgGaAcCsSpm";
  if (!conv || !char_in(known, conv))
    return false;
  return !(len == L_H && char_in(not_after_h, conv));
}

/* Reads '*' arguments and applies them with the semantics of the path. */
static void apply_stars(fstate *f, spec *sp, const rawspec *rs, va_list *ap)
{
  sp->width = rs->width < 0 ? 0 : rs->width;
  sp->prec = !rs->hasprec ? -1 : rs->prec;
  if (rs->wstar) {
    int w = va_arg(*ap, int);
    if (w < 0) {
      sp->fl |= F_LEFT;
      if (!f->slow_path)
        sp->fl &= ~F_PAD0;
      sp->width = -(long long)w;
    } else {
      sp->width = w;
    }
  }
  if (rs->pstar) {
    int pr = va_arg(*ap, int);
    sp->prec = pr < 0 ? -1 : pr;
  }
}

/* Parses the conversion after a '%'.  Returns the end of it, or NULL with
 * f->err set. */
static const char *parse_spec(fstate *f, const char *p, spec *sp, va_list *ap)
{
  rawspec rs = { 0, 0, -1, false, false, false, 0 };
  OIU_PRIVATE(sp, rs)
  for (unsigned b; (b = flag_bit(*p)) != 0; p++)
    rs.fl |= b;
  if (rs.fl & F_LEFT)
    rs.fl &= ~F_PAD0;
  p = parse_width(p, &rs);
  p = parse_prec(p, &rs);
  p = parse_length(p, &sp->len);
  sp->conv = *p;
  if (rs.bad == -OIU_EINVAL || (rs.bad && !f->slow_path)) {
    f->err = rs.bad;
    return NULL;
  }
  if (!sp->conv && !f->slow_path) {
    f->err = -OIU_EINVAL;
    return NULL;
  }
  if (!f->slow_path && !fast_path_knows(sp->len, sp->conv))
    f->slow_path = true;
  sp->fl = rs.fl;
  apply_stars(f, sp, &rs, ap);
  sp->is_ldbl = sp->len == L_LL || sp->len == L_BIGL;
  sp->is_long = sp->len == L_L || sp->len == L_LL || sp->len == L_Z ||
                sp->len == L_T || sp->len == L_J ||
                (sp->len == L_BIGL && !f->slow_path);
  return sp->conv ? p + 1 : p;
}

/* ---- integers, characters, strings --------------------------------------- */

static unsigned long long get_signed(va_list *ap, const spec *sp, bool *neg)
{
  long long v;
  switch (sp->len) {
  case L_HH: v = (signed char)va_arg(*ap, unsigned int); break;
  case L_H: v = (short)va_arg(*ap, unsigned int); break;
  case L_L: v = va_arg(*ap, long); break;
  case L_LL: v = va_arg(*ap, long long); break;
  case L_BIGL: v = sp->is_long ? va_arg(*ap, long long) : va_arg(*ap, int);
    break;
  case L_Z: v = (long long)va_arg(*ap, size_t); break;
  case L_T: v = va_arg(*ap, ptrdiff_t); break;
  case L_J: v = va_arg(*ap, intmax_t); break;
  default: v = va_arg(*ap, int); break;
  }
  *neg = v < 0;
  return v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
}

static unsigned long long get_unsigned(va_list *ap, const spec *sp)
{
  switch (sp->len) {
  case L_HH: return (unsigned char)va_arg(*ap, unsigned int);
  case L_H: return (unsigned short)va_arg(*ap, unsigned int);
  case L_L: return va_arg(*ap, unsigned long);
  case L_LL: return va_arg(*ap, unsigned long long);
  case L_BIGL: return sp->is_long ? va_arg(*ap, unsigned long long)
                                  : va_arg(*ap, unsigned int);
  case L_Z: return va_arg(*ap, size_t);
  case L_T: return (unsigned long long)va_arg(*ap, ptrdiff_t);
  case L_J: return va_arg(*ap, uintmax_t);
  default: return va_arg(*ap, unsigned int);
  }
}

/* glibc's number printer: v in base with sign, '#' prefix and precision.
 * Out of line, like the other converters with buffers, so that the driver's
 * frame stays small on the GPU. */
__attribute__((noinline))
static void fmt_number(fstate *f, const spec *sp, unsigned long long v,
                       bool neg, unsigned base, char conv)
{
  char buf[72], pfx[2] = { '0', conv };
  OIU_PRIVATE(buf, pfx)
  char *end = buf + sizeof buf, *dig = end;
  unsigned fl = sp->fl;
  int prec = sp->prec < 0 ? 1 : sp->prec;
  if (sp->prec >= 0)
    fl &= ~F_PAD0;
  if (!(prec == 0 && v == 0))
    dig = utoa(v, end, base, conv == 'X');
  else if (base == 8 && (fl & F_ALT))
    *--dig = '0';
  long long ndig = end - dig;
  bool octal = base == 8 && (fl & F_ALT) && v != 0 && prec <= ndig;
  bool hexpfx = (base == 16 || base == 2) && (fl & F_ALT) && v != 0;
  long long zeros = prec > ndig ? prec - ndig : 0;
  char sg = sign_char(fl, neg);
  long long w = sp->width - ndig - zeros - octal - 2 * hexpfx - (sg != 0);
  if (!(fl & F_LEFT) && !(fl & F_PAD0))
    pad(f, ' ', w);
  if (sg)
    putc1(f, sg);
  if (hexpfx)
    put(f, pfx, 2);
  if (!(fl & F_LEFT) && (fl & F_PAD0))
    zeros += w > 0 ? w : 0;
  pad(f, '0', zeros + octal);
  put(f, dig, ndig);
  if (fl & F_LEFT)
    pad(f, ' ', w);
}

static void fmt_integer(fstate *f, spec *sp, va_list *ap)
{
  bool neg = false;
  OIU_PRIVATE(neg)
  unsigned long long v;
  char c = sp->conv;
  unsigned base = c == 'o' ? 8 : (c == 'x' || c == 'X') ? 16
                  : (c == 'b' || c == 'B') ? 2 : 10;
  if (c == 'd' || c == 'i') {
    v = get_signed(ap, sp, &neg);
  } else {
    v = get_unsigned(ap, sp);
    sp->fl &= ~(F_PLUS | F_SPACE);
  }
  fmt_number(f, sp, v, neg, base, c);
}

/* Pads to the field width around len bytes of text. */
static void fmt_text(fstate *f, const spec *sp, const char *p, long long len)
{
  long long w = sp->width - len;
  if (!(sp->fl & F_LEFT))
    pad(f, ' ', w);
  put(f, p, len);
  if (sp->fl & F_LEFT)
    pad(f, ' ', w);
}

static void fmt_pointer(fstate *f, spec *sp, va_list *ap)
{
  void *ptr = va_arg(*ap, void *);
  if (ptr) {
    sp->fl |= F_ALT;
    fmt_number(f, sp, (uintptr_t)ptr, false, 16, 'x');
    return;
  }
  int prec = sp->prec < 5 ? 5 : sp->prec;
  fmt_text(f, sp, "(nil)", str_len("(nil)", prec));
}

/* Wide characters in the C locale: 0..0x7f are themselves, others EILSEQ. */
static bool wc_ok(unsigned long long wc) { return wc <= 0x7f; }

static void fmt_wstring(fstate *f, const spec *sp, const wchar_t *ws)
{
  long long n = 0;
  while ((sp->prec < 0 || n < sp->prec) && ws[n]) {
    if (!wc_ok((unsigned long long)(unsigned)ws[n])) {
      f->err = -OIU_EILSEQ;
      return;
    }
    n++;
  }
  long long w = sp->width - n;
  if (!(sp->fl & F_LEFT))
    pad(f, ' ', w);
  for (long long i = 0; i < n; i++)
    putc1(f, (char)ws[i]);
  if (sp->fl & F_LEFT)
    pad(f, ' ', w);
}

static void fmt_string(fstate *f, const spec *sp, va_list *ap)
{
  const char *str = va_arg(*ap, const char *);
  if (!str) {
    bool fits = sp->prec < 0 || sp->prec >= 6;
    fmt_text(f, sp, "(null)", fits ? 6 : 0);
  } else if (sp->is_long || sp->conv == 'S') {
    fmt_wstring(f, sp, (const wchar_t *)(const void *)str);
  } else {
    fmt_text(f, sp, str, str_len(str, sp->prec));
  }
}

static void fmt_char(fstate *f, const spec *sp, va_list *ap)
{
  char c;
  OIU_PRIVATE(c)
  if (sp->is_long || sp->conv == 'C') {
    unsigned long long wc = (__WINT_TYPE__)va_arg(*ap, __WINT_TYPE__);
    if (!wc_ok(wc)) {
      f->err = -OIU_EILSEQ;
      return;
    }
    c = (char)wc;
  } else {
    c = (char)(unsigned char)va_arg(*ap, int);
  }
  fmt_text(f, sp, &c, 1);
}

static void store_count(fstate *f, const spec *sp, va_list *ap)
{
  void *ptr = va_arg(*ap, void *);
  int n = (int)f->done;
  if (sp->is_long)
    *(long *)ptr = n;
  else if (sp->len == L_HH)
    *(char *)ptr = (char)n;
  else if (sp->len == L_H)
    *(short *)ptr = (short)n;
  else
    *(int *)ptr = n;
}

/* glibc's printf_unknown: the conversion's own text, canonicalized. */
__attribute__((noinline))
static void fmt_unknown(fstate *f, const spec *sp)
{
  char buf[64], num[24];
  OIU_PRIVATE(buf, num)
  char *p = buf;
  *p++ = '%';
  if (sp->fl & F_ALT) *p++ = '#';
  if (sp->fl & F_GROUP) *p++ = '\'';
  if (sp->fl & (F_PLUS | F_SPACE)) *p++ = (sp->fl & F_PLUS) ? '+' : ' ';
  if (sp->fl & F_LEFT) *p++ = '-';
  if (sp->fl & F_PAD0) *p++ = '0';
  if (sp->fl & F_I18N) *p++ = 'I';
  put(f, buf, p - buf);
  if (sp->width) {
    /* glibc prints its int width as unsigned long: INT_MIN wraps. */
    unsigned long long w = sp->width > INT_MAX ? (unsigned long long)INT_MIN
                                               : (unsigned long long)sp->width;
    char *d = utoa(w, num + sizeof num, 10, false);
    put(f, d, num + sizeof num - d);
  }
  if (sp->prec != -1) {
    char *d = utoa((unsigned)sp->prec, num + sizeof num, 10, false);
    *--d = '.';
    put(f, d, num + sizeof num - d);
  }
  if (sp->conv)
    putc1(f, sp->conv);
}

/* ---- floating point: shared pieces --------------------------------------- */

/* A finite value, decoded: |v| = m * 2^e2. */
typedef struct fpval {
  bool neg;
  int cls;                 /* 0 finite, 1 inf, 2 nan */
  unsigned long long m;
  int e2;
} fpval;

/* inf and nan: sign, three letters, padded with spaces. */
static void fmt_special(fstate *f, const spec *sp, const fpval *v)
{
  bool up = sp->conv >= 'A' && sp->conv <= 'Z';
  const char *t = v->cls == 1 ? (up ? "INF" : "inf") : (up ? "NAN" : "nan");
  char sg = sign_char(sp->fl, v->neg);
  long long w = sp->width - 3 - (sg != 0);
  if (!(sp->fl & F_LEFT))
    pad(f, ' ', w);
  if (sg)
    putc1(f, sg);
  put(f, t, 3);
  if (sp->fl & F_LEFT)
    pad(f, ' ', w);
}

/* Pads a number of len bytes (sign excluded) the way __printf_fp does;
 * call with before=true ahead of the digits and false after them. */
static void fp_pad(fstate *f, const spec *sp, char sg, long long len,
                   bool before)
{
  long long w = sp->width - len - (sg != 0);
  unsigned fl = sp->fl;
  if (!before) {
    if (fl & F_LEFT)
      pad(f, (fl & F_PAD0) ? '0' : ' ', w);
    return;
  }
  if (!(fl & F_LEFT) && !(fl & F_PAD0))
    pad(f, ' ', w);
  if (sg)
    putc1(f, sg);
  if (!(fl & F_LEFT) && (fl & F_PAD0))
    pad(f, '0', w);
}

/* ---- exact decimal conversion -------------------------------------------- */

/* |v| = sum w[i] * 10^(9*(r-i)) over the nonzero words w[a..z); a == z is
 * zero.  r may lie outside the array: words outside [a, z) are zero. */
typedef struct decnum {
  uint32_t *w;
  int a, z, r;
} decnum;

static const uint32_t pow10_tab[10] = {
  1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, E9,
};

static const uint32_t pow5_tab[14] = {
  1, 5, 25, 125, 625, 3125, 15625, 78125, 390625, 1953125, 9765625,
  48828125, 244140625, 1220703125,
};

static uint32_t dn_word(const decnum *d, int i)
{
  return (i >= d->a && i < d->z) ? d->w[i] : 0;
}

static int ndigits(uint32_t x)
{
  int n = 1;
  while (n < 9 && x >= pow10_tab[n])
    n++;
  return n;
}

static int tzdigits(uint32_t x)
{
  int n = 0;
  while (n < 9 && x % pow10_tab[n + 1] == 0)
    n++;
  return n;
}

/* d *= fac (fac < 2^32); new high words are pushed below d->a. */
static void dn_mul(decnum *d, uint32_t fac)
{
  uint64_t carry = 0;
  for (int i = d->z - 1; i >= d->a; i--) {
    uint64_t x = (uint64_t)d->w[i] * fac + carry;
    d->w[i] = (uint32_t)(x % E9);
    carry = x / E9;
  }
  for (; carry; carry /= E9)
    d->w[--d->a] = (uint32_t)(carry % E9);
}

/* Exact expansion of m * 2^e2 into w[0..nw).  For e2 < 0 it computes
 * m * 2^(K-k) * 5^K with k = -e2, K = k rounded up to a multiple of 9, so the
 * fraction occupies exactly K/9 whole words.  nw must hold the result plus
 * one word of headroom for a rounding carry. */
static void dn_init(decnum *d, uint32_t *w, int nw, unsigned long long m,
                    int e2)
{
  d->w = w;
  d->a = d->z = nw;
  d->r = nw - 1;
  if (!m)
    return;
  if (e2 < 0) {
    int tz = __builtin_ctzll(m);
    tz = tz < -e2 ? tz : -e2;
    m >>= tz;
    e2 += tz;
  }
  for (; m; m /= E9)
    w[--d->a] = (uint32_t)(m % E9);
  if (e2 >= 0) {
    for (; e2 >= 31; e2 -= 31)
      dn_mul(d, 1u << 31);
    if (e2)
      dn_mul(d, 1u << e2);
  } else {
    int k = -e2, K = (k + 8) / 9 * 9;
    d->r = nw - 1 - K / 9;
    if (K > k)
      dn_mul(d, 1u << (K - k));
    for (; K >= 13; K -= 13)
      dn_mul(d, pow5_tab[13]);
    if (K)
      dn_mul(d, pow5_tab[K]);
  }
  while (d->z > d->a && w[d->z - 1] == 0)
    d->z--;
}

/* Decimal exponent of the leading digit; 0 for zero. */
static int dn_exp(const decnum *d)
{
  if (d->a == d->z)
    return 0;
  return 9 * (d->r - d->a) + ndigits(d->w[d->a]) - 1;
}

/* Should rounding at word i, unit u (digits below u are dropped) go up?
 * Exact ties go to even, as glibc does in the default rounding mode. */
static bool dn_round_up(const decnum *d, int i, uint32_t u)
{
  uint32_t wv = dn_word(d, i), x = wv % u, half = u / 2;
  if (x != half)
    return x > half;
  if (i + 1 < d->z)
    return true;
  uint32_t last = u < E9 ? wv / u : dn_word(d, i - 1);
  return last & 1;
}

/* Rounds d to j digits after the decimal point (j may be negative). */
static void dn_round(decnum *d, long long j)
{
  if (d->a == d->z || j >= 9LL * (d->z - d->r - 1))
    return;
  int q = (int)(j >= 0 ? j / 9 : -((-j + 8) / 9));
  int i = d->r + 1 + q;
  uint32_t u = pow10_tab[9 - (int)(j - 9LL * q)];
  if (i < d->a) {                  /* all kept digits are zero, tail < u/2 */
    d->z = d->a;
    return;
  }
  bool up = dn_round_up(d, i, u);
  d->w[i] -= d->w[i] % u;
  d->z = i + 1;
  if (up) {
    d->w[i] += u;
    for (; d->w[i] >= E9; i--) {
      d->w[i] -= E9;
      if (i - 1 < d->a)
        d->w[--d->a] = 0;
      d->w[i - 1]++;
    }
  }
  while (d->z > d->a && d->w[d->z - 1] == 0)
    d->z--;
}

/* Emits n digits of d starting at digit position pos, counted from the most
 * significant digit of word 'first' (pos 0); digits past z are zeros. */
static void dn_put(fstate *f, const decnum *d, int first, long long pos,
                   long long n)
{
  char buf[9];
  OIU_PRIVATE(buf)
  while (n > 0) {
    int wi = first + (int)(pos / 9), off = (int)(pos % 9);
    if (wi >= d->z) {
      pad(f, '0', n);
      return;
    }
    uint32_t v = dn_word(d, wi);
    for (int k = 8; k >= 0; k--, v /= 10)
      buf[k] = (char)('0' + v % 10);
    long long k = 9 - off < n ? 9 - off : n;
    put(f, buf + off, k);
    pos += k;
    n -= k;
  }
}

/* Position of the last nonzero digit after the decimal point (negative
 * when it lies left of the units digit); 0 for zero. */
static long long dn_last_pos(const decnum *d)
{
  if (d->a == d->z)
    return 0;
  return 9LL * (d->z - d->r - 1) - tzdigits(d->w[d->z - 1]);
}

static void put_f(fstate *f, const spec *sp, const decnum *d, int e,
                  long long p, char sg)
{
  bool dot = p > 0 || (sp->fl & F_ALT);
  long long ilen = (d->a < d->z && e >= 0) ? e + 1 : 1;
  long long len = ilen + dot + p;
  fp_pad(f, sp, sg, len, true);
  if (d->a < d->z && e >= 0)
    dn_put(f, d, d->a, 9 - ndigits(d->w[d->a]), ilen);
  else
    putc1(f, '0');
  if (dot)
    putc1(f, '.');
  dn_put(f, d, d->r + 1, 0, p);
  fp_pad(f, sp, sg, len, false);
}

static void put_e(fstate *f, const spec *sp, const decnum *d, int e,
                  long long p, char sg)
{
  bool dot = p > 0 || (sp->fl & F_ALT);
  char ebuf[16];
  OIU_PRIVATE(ebuf)
  char *ep = utoa((unsigned)(e < 0 ? -e : e), ebuf + sizeof ebuf, 10, false);
  if (ebuf + sizeof ebuf - ep < 2)
    *--ep = '0';
  *--ep = e < 0 ? '-' : '+';
  *--ep = (sp->conv | 32) == 'g' ? (char)(sp->conv - 2) : sp->conv;
  long long elen = ebuf + sizeof ebuf - ep, len = 1 + dot + p + elen;
  int lead = d->a < d->z ? 9 - ndigits(d->w[d->a]) : 0;
  fp_pad(f, sp, sg, len, true);
  dn_put(f, d, d->a, lead, 1);
  if (dot)
    putc1(f, '.');
  dn_put(f, d, d->a, lead + 1, p);
  put(f, ep, elen);
  fp_pad(f, sp, sg, len, false);
}

/* %g: round to P significant digits, then pick the style by the exponent
 * of the rounded value (C99 7.19.6.1), as glibc does - with one glibc quirk:
 * with '#', when rounding carries a value that was in f-style range up to
 * 10^P (999999.5 -> 1e+06), glibc drops all the zeros: "1.e+06". */
static void put_g(fstate *f, const spec *sp, decnum *d, char sg)
{
  long long P = sp->prec < 0 ? 6 : sp->prec == 0 ? 1 : sp->prec;
  int e0 = dn_exp(d);
  dn_round(d, P - 1 - e0);
  int e = dn_exp(d);
  bool fstyle = e >= -4 && e < P;
  long long p = fstyle ? P - 1 - e : P - 1;
  if ((sp->fl & F_ALT) && e0 == P - 1 && e == P) {
    p = 0;
  } else if (!(sp->fl & F_ALT)) {
    long long sig = dn_last_pos(d) + (fstyle ? 0 : e);
    sig = sig > 0 ? sig : 0;
    p = p < sig ? p : sig;
  }
  if (fstyle)
    put_f(f, sp, d, e, p, sg);
  else
    put_e(f, sp, d, e, p, sg);
}

/* %e %f %g of m * 2^e2, using the caller's word array. */
static void fmt_decimal(fstate *f, const spec *sp, const fpval *v,
                        uint32_t *w, int nw)
{
  decnum d;
  OIU_PRIVATE(d)
  char sg = sign_char(sp->fl, v->neg);
  long long p = sp->prec < 0 ? 6 : sp->prec;
  dn_init(&d, w, nw, v->m, v->e2);
  switch (sp->conv | 32) {
  case 'f':
    dn_round(&d, p);
    put_f(f, sp, &d, dn_exp(&d), p, sg);
    break;
  case 'e':
    dn_round(&d, p - dn_exp(&d));
    put_e(f, sp, &d, dn_exp(&d), p, sg);
    break;
  default:
    put_g(f, sp, &d, sg);
    break;
  }
}

/* ---- hexadecimal floating point (%a), as glibc's printf_fphex ------------ */

typedef struct hexfp {
  char lead;            /* leading hex digit */
  char dig[16];         /* fraction digits */
  int ndig;             /* significant fraction digits (trailing 0s cut) */
  bool zero_mant;       /* glibc's zero_mantissa */
  bool expneg;
  unsigned exp;
} hexfp;

static bool hex_odd(char c)
{
  int v = c <= '9' ? c - '0' : (c | 32) - 'a' + 10;
  return v & 1;
}

/* Increments a hex digit as glibc does; returns true on carry out ('f'). */
static bool hex_inc(char *c, char conv)
{
  if (*c == '9')
    *c = conv;                     /* 'a' or 'A' */
  else if ((*c | 32) < 'f')
    (*c)++;
  else
    return *c = '0', true;
  return false;
}

/* Rounds to prec fraction digits: ties to even, like glibc's round_away. */
static void hex_round(hexfp *h, int prec, char conv)
{
  OIU_PRIVATE(h)
  char last = prec > 0 ? h->dig[prec - 1] : h->lead, next = h->dig[prec];
  int nv = next <= '9' ? next - '0' : (next | 32) - 'a' + 10;
  bool more = (nv & 7) != 0 || prec + 1 < h->ndig;
  if (!(nv >= 8 && (hex_odd(last) || more)))
    return;
  int i = prec;
  OIU_PRIVATE(i)
  while (--i >= 0 && hex_inc(&h->dig[i], conv))
    ;
  if (i >= 0 || !hex_inc(&h->lead, conv))
    return;
  h->lead = '1';                   /* 0xf.. rounded up to 0x10.. */
  if (!h->expneg) {
    h->exp += 4;
  } else if ((int)h->exp - 4 <= 0) {
    h->exp = 4 - h->exp;
    h->expneg = false;
  } else {
    h->exp -= 4;
  }
}

static void fmt_hex(fstate *f, const spec *sp, bool neg, hexfp *h)
{
  char spec_c = sp->conv, ebuf[16];
  char hdr[2] = { '0', (char)(spec_c + ('x' - 'a')) };
  char pe[2] = { (char)(spec_c + ('p' - 'a')), 0 };
  OIU_PRIVATE(h, ebuf, hdr, pe)
  long long prec = sp->prec;
  if (!h->zero_mant) {
    if (prec >= 0 && prec < h->ndig)
      hex_round(h, (int)prec, spec_c);
    if (prec < 0)
      prec = h->ndig;
  } else {
    h->ndig = 0;
    if (prec < 0)
      prec = 0;
  }
  char *ep = utoa(h->exp, ebuf + sizeof ebuf, 10, false);
  long long elen = ebuf + sizeof ebuf - ep;
  bool dot = prec > 0 || (sp->fl & F_ALT);
  char sg = sign_char(sp->fl, neg);
  long long w = sp->width - (sg != 0) - 2 - 1 - prec - 2 - elen - dot;
  bool left = sp->fl & F_LEFT, zero = sp->fl & F_PAD0;
  if (!left && !zero)
    pad(f, ' ', w);
  if (sg)
    putc1(f, sg);
  put(f, hdr, 2);
  if (!left && zero)
    pad(f, '0', w);
  putc1(f, h->lead);
  if (dot)
    putc1(f, '.');
  long long nd = h->ndig < prec ? h->ndig : prec;
  put(f, h->dig, nd);
  pad(f, '0', prec - nd);
  pe[1] = h->expneg ? '-' : '+';
  put(f, pe, 2);
  put(f, ep, elen);
  if (left && !zero)
    pad(f, ' ', w);
}

/* Fills h->dig with n hex digits of v and cuts trailing zeros. */
static void hex_digits(hexfp *h, unsigned long long v, int n, bool upper)
{
  const char *xd = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  OIU_PRIVATE(h)
  for (int i = n - 1; i >= 0; i--, v >>= 4)
    h->dig[i] = xd[v & 15];
  h->ndig = n;
  while (h->ndig > 0 && h->dig[h->ndig - 1] == '0')
    h->ndig--;
}

/* Sets the exponent fields from a biased exponent (glibc's rules). */
static void hex_exp(hexfp *h, int bexp, int bias, int denorm_exp)
{
  if (bexp == 0) {
    h->expneg = !h->zero_mant;
    h->exp = h->zero_mant ? 0 : (unsigned)denorm_exp;
  } else if (bexp >= bias) {
    h->expneg = false;
    h->exp = (unsigned)(bexp - bias);
  } else {
    h->expneg = true;
    h->exp = (unsigned)(bias - bexp);
  }
}

/* ---- double and long double entry points --------------------------------- */

static uint64_t double_bits(double x)
{
  union { double d; uint64_t u; } pun = { x };
  return pun.u;
}

static fpval decode_double(uint64_t b)
{
  fpval v = { (b >> 63) != 0, 0, b & ((1ull << 52) - 1), 0 };
  int be = (int)((b >> 52) & 0x7ff);
  if (be == 0x7ff) {
    v.cls = v.m ? 2 : 1;
  } else {
    if (be)
      v.m |= 1ull << 52;
    v.e2 = (be ? be : 1) - 1075;
  }
  return v;
}

static void fmt_double(fstate *f, const spec *sp, double x)
{
  uint64_t b = double_bits(x);
  fpval v = decode_double(b);
  hexfp h;
  /* 2^-1074 needs 1080 fraction digits: m * 2^(K-k) * 5^K < 10^774,
   * 86 words; DBL_MAX has 309 digits, 35 words.  Plus carry headroom. */
  uint32_t w[90];
  OIU_PRIVATE(v, h, w)
  if (v.cls) {
    fmt_special(f, sp, &v);
  } else if ((sp->conv | 32) == 'a') {
    int be = (int)((b >> 52) & 0x7ff);
    h.lead = be ? '1' : '0';
    h.zero_mant = (b & ((1ull << 52) - 1)) == 0;
    hex_digits(&h, b, 13, sp->conv == 'A');
    hex_exp(&h, be, 1023, 1022);
    fmt_hex(f, sp, v.neg, &h);
  } else {
    fmt_decimal(f, sp, &v, w, 90);
  }
}

#if OIU_LDBL == 80
/* x86 80-bit long double: explicit integer bit, 15-bit exponent. */
static fpval decode_ldbl80(unsigned long long m, int se)
{
  int be = se & 0x7fff;
  fpval v = { (se & 0x8000) != 0, 0, m, 0 };
  if (be == 0x7fff)
    v.cls = (m << 1) ? 2 : 1;
  else
    v.e2 = (be ? be : 1) - 16383 - 63;
  return v;
}

/* Kept out of line so that its big array stays out of the double path. */
__attribute__((noinline))
static void fmt_ldbl(fstate *f, const spec *sp, long double x)
{
  unsigned char raw[sizeof x];
  unsigned long long m;
  unsigned short se;
  __builtin_memcpy(raw, &x, sizeof x);
  __builtin_memcpy(&m, raw, 8);
  __builtin_memcpy(&se, raw + 8, 2);
  fpval v = decode_ldbl80(m, se);
  if (v.cls) {
    fmt_special(f, sp, &v);
  } else if ((sp->conv | 32) == 'a') {
    hexfp h;
    h.zero_mant = m == 0;
    h.lead = "0123456789abcdef"[m >> 60];
    if (sp->conv == 'A' && h.lead > '9')
      h.lead -= 32;
    hex_digits(&h, m, 15, sp->conv == 'A');
    hex_exp(&h, se & 0x7fff, 16383 + 3, 16382 + 3);
    fmt_hex(f, sp, v.neg, &h);
  } else {
    /* Smallest denormal 2^-16445: 16452 fraction digits, the product
     * m * 2^(K-k) * 5^K < 10^11522 takes 1281 words; LDBL_MAX 549. */
    uint32_t w[1284];
    fmt_decimal(f, sp, &v, w, 1284);
  }
}
#endif

static void fmt_float(fstate *f, const spec *sp, va_list *ap)
{
#if OIU_LDBL == 80
  if (sp->is_ldbl) {
    fmt_ldbl(f, sp, va_arg(*ap, long double));
    return;
  }
#elif OIU_LDBL == 1
  if (sp->is_ldbl) {
    fmt_double(f, sp, (double)va_arg(*ap, long double));
    return;
  }
#endif
  /* OIU_LDBL == 0 (GPU): L, ll and q floating conversions read a double. */
  fmt_double(f, sp, va_arg(*ap, double));
}

/* ---- the driver ---------------------------------------------------------- */

static void convert(fstate *f, spec *sp, va_list *ap)
{
  switch (sp->conv) {
  case 'd': case 'i': case 'o': case 'u': case 'x': case 'X':
  case 'b': case 'B':
    fmt_integer(f, sp, ap);
    break;
  case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
  case 'a': case 'A':
    fmt_float(f, sp, ap);
    break;
  case 'c': case 'C': fmt_char(f, sp, ap); break;
  case 's': case 'S': fmt_string(f, sp, ap); break;
  case 'p': fmt_pointer(f, sp, ap); break;
  case 'n': store_count(f, sp, ap); break;
  case '%': putc1(f, '%'); break;
  default: fmt_unknown(f, sp); break;
  }
}

/* convert_plain's reads: a va_arg of its own fails clang 22's OpenMP Sema
 * on NVPTX (see mode_arg in posix.c); these, like get_signed, pass. */
static int arg_int(va_list *ap) { return va_arg(*ap, int); }
static unsigned arg_uint(va_list *ap) { return va_arg(*ap, unsigned); }
static const char *arg_str(va_list *ap) { return va_arg(*ap, const char *); }

/*
 * A conversion with nothing between '%' and its letter (%d %i %u %x %X %s
 * %c), the common case: the bytes convert() gives it, without parsing a
 * spec or working out padding. "latency %d\n" took 4.3 us on one H100
 * thread through the general path, 3.1 us through this (printf_bench fmtlat).
 * Returns false, consuming no argument, for any other conversion.
 */
static bool convert_plain(fstate *f, char conv, va_list *ap)
{
  char buf[12]; /* "-2147483648" */
  OIU_PRIVATE(buf)
  char *end = buf + sizeof buf, *p;
  switch (conv) {
  case 'd': case 'i': {
    int v = arg_int(ap);
    p = utoa(v < 0 ? 0u - (unsigned)v : (unsigned)v, end, 10, false);
    if (v < 0)
      *--p = '-';
    break;
  }
  case 'u': p = utoa(arg_uint(ap), end, 10, false); break;
  case 'x': case 'X': p = utoa(arg_uint(ap), end, 16, conv == 'X'); break;
  case 's': {
    const char *str = arg_str(ap);
    if (!str)
      str = "(null)";
    put(f, str, str_len(str, -1));
    return true;
  }
  case 'c': putc1(f, (char)(unsigned char)arg_int(ap)); return true;
  default: return false;
  }
  put(f, p, end - p);
  return true;
}

int oiu_vformat(oiu_sink *s, const char *fmt, va_list ap)
{
  fstate f = { s, 0, 0, false };
  va_list aq;
  spec sp;
  OIU_PRIVATE(ap, f, aq, sp)
  if (!s || !fmt)
    return -OIU_EINVAL;
  va_copy(aq, ap);
  while (!f.err) {
    const char *q = fmt;
    while (*q && *q != '%')
      q++;
    put(&f, fmt, q - fmt);
    if (!*q || f.err)
      break;
    if (!f.slow_path && convert_plain(&f, q[1], &aq)) {
      fmt = q + 2;
      continue;
    }
    fmt = parse_spec(&f, q + 1, &sp, &aq);
    if (!fmt)
      break;
    convert(&f, &sp, &aq);
  }
  va_end(aq);
  if (f.err && !s->err)
    s->err = f.err;
  return f.err ? f.err : (int)f.done;
}

#if defined(_OPENMP) && defined(__clang__)
#pragma omp end declare target
#endif
