/* format_diff.c - differential test: device-rtl/format.c against glibc.
 *
 *   format_diff [N] [first_seed]
 *
 * Runs N (default 200000) generated cases from tests/common/fmt_cases.h plus
 * a fixed table of hand-written edge cases.  Each case is printed by glibc's
 * snprintf and by oiu_vformat twice: into a plain buffer (flush == NULL,
 * snprintf semantics) and through an 8-byte buffer whose flush appends to a
 * big one.  Return values (for errors: the errno) and bytes must agree.
 * Prints "format_diff: N cases, M mismatches", details of the first 20, and
 * exits 1 on any mismatch.  Set OIU_FORMAT_DIFF_SLOW=1 to add the cases
 * that make glibc pad about 2 GiB (several seconds each).
 *
 * Plain host C, no OpenMP.
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnu/libc-version.h>
#include <wchar.h>

#include "../../device-rtl/format.h"
#include "../common/fmt_cases.h"
#include "../common/format_snprintf.h"

#define BUFSZ 4096

static long long n_cases, n_bad;

/* glibc's snprintf, called through a pointer: the odd formats below are
 * deliberate, so no format checking, and no compile-time folding. */
/* Whether the glibc running us is the one whose quirks we reproduce. */
static int glibc_236;

static int (*volatile sys_snprintf)(char *, size_t, const char *, ...) =
    snprintf;


/* A sink with an 8-byte chunk whose flush appends to a big buffer. */
typedef struct chunked {
  oiu_sink s;
  char chunk[8];
  char *big;
  size_t cap, len;
} chunked;

static int chunk_flush(oiu_sink *s)
{
  chunked *c = (chunked *)s;
  size_t k = s->len;
  if (k > c->cap - c->len)
    k = c->cap - c->len;
  memcpy(c->big + c->len, s->buf, k);
  c->len += k;
  s->len = 0;
  return 0;
}

/* Same contract as format_snprintf, but every byte goes through chunk_flush. */
static int my_snprintf_chunked(char *buf, size_t n, const char *fmt, ...)
{
  chunked c = { { 0 }, { 0 }, buf, n ? n - 1 : 0, 0 };
  c.s.buf = c.chunk;
  c.s.cap = sizeof c.chunk;
  c.s.flush = chunk_flush;
  va_list ap;
  va_start(ap, fmt);
  int r = oiu_vformat(&c.s, fmt, ap);
  va_end(ap);
  chunk_flush(&c.s);
  if (n)
    buf[c.len] = 0;
  if (r >= 0 && c.s.total != (size_t)r)
    return -1000;                 /* total must count every byte */
  return r;
}

static void show(const char *tag, const char *s, int r, size_t n)
{
  size_t len = r < 0 ? 0 : (size_t)r < n ? (size_t)r : n - 1;
  printf("    %s r=%d [", tag, r);
  for (size_t i = 0; i < len && i < 300; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch >= 32 && ch < 127 && ch != '\\')
      putchar(ch);
    else
      printf("\\x%02x", ch);
  }
  printf("%s]\n", len > 300 ? "..." : "");
}

/* Compares one result against glibc's (rg, errno eg, bytes g). */
static void check(const char *what, const char *g, int rg, int eg,
                  const char *m, int rm, size_t n)
{
  int ok;
  n_cases++;
  if (rg < 0) {
    ok = rm == -eg;
  } else {
    size_t len = (size_t)rg < n ? (size_t)rg : n - 1;
    ok = rm == rg && memcmp(g, m, len) == 0;
  }
  if (ok)
    return;
  if (++n_bad <= 20) {
    printf("MISMATCH %s\n", what);
    show("glibc", g, rg, n);
    if (rg < 0)
      printf("    glibc errno=%d\n", eg);
    show("oiu  ", m, rm, n);
  }
}

/* ---- generated cases ------------------------------------------------------ */

static void run_case(unsigned long long seed)
{
  static char g[BUFSZ], m[BUFSZ], what[256];
  fmt_case c;
  fmt_case_make(&c, seed, 1);
  errno = 0;
  int rg = fmt_case_print(&c, g, 2048);
  int eg = errno;
  snprintf(what, sizeof what, "seed %llu fmt \"%s\" kind %d", seed, c.fmt,
           c.kind);
  int rm = fmt_case_call(&c, format_snprintf, m, 2048);
  check(what, g, rg, eg, m, rm, 2048);
  strcat(what, " (flush path)");
  rm = fmt_case_call(&c, my_snprintf_chunked, m, 2048);
  check(what, g, rg, eg, m, rm, 2048);
  /* Truncation: a short buffer must hold a prefix and count it all. */
  rm = fmt_case_call(&c, format_snprintf, m, 7);
  strcat(what, " (7-byte buffer)");
  check(what, g, rg, eg, m, rm, 7);
}

/* ---- hand-written edge cases --------------------------------------------- */

#define EDGE(...)                                                           \
  do {                                                                      \
    static char g_[BUFSZ], m_[BUFSZ];                                       \
    errno = 0;                                                              \
    int rg_ = sys_snprintf(g_, sizeof g_, __VA_ARGS__);                         \
    int eg_ = errno;                                                        \
    int rm_ = format_snprintf(m_, sizeof m_, __VA_ARGS__);                      \
    check("line " EDGE_STR(__LINE__) ": " #__VA_ARGS__, g_, rg_, eg_, m_,   \
          rm_, sizeof g_);                                                  \
    rm_ = my_snprintf_chunked(m_, sizeof m_, __VA_ARGS__);                  \
    check("line " EDGE_STR(__LINE__) " (flush): " #__VA_ARGS__, g_, rg_,    \
          eg_, m_, rm_, sizeof g_);                                         \
  } while (0)
#define EDGE_STR2(x) #x
#define EDGE_STR(x) EDGE_STR2(x)

/* %n: the stored counts must agree too. */
static void edge_count(void)
{
  char g[64], m[64];
  int gi = -1, mi = -2;
  signed char gc = -1, mc = -2;
  short gs = -1, ms = -2;
  long gl = -1, ml = -2;
  long long gll = -1, mll = -2;
  size_t gz = 1, mz = 2;
  intmax_t gj = 1, mj = 2;
  int rg = sys_snprintf(g, sizeof g, "ab%ncd%hhnef%hngh%lnij%llnk%znl%jnm", &gi,
                    &gc, &gs, &gl, &gll, &gz, &gj);
  int rm = format_snprintf(m, sizeof m, "ab%ncd%hhnef%hngh%lnij%llnk%znl%jnm",
                       &mi, &mc, &ms, &ml, &mll, &mz, &mj);
  check("%n family", g, rg, 0, m, rm, sizeof g);
  n_cases++;
  if (gi != mi || gc != mc || gs != ms || gl != ml || gll != mll ||
      gz != mz || gj != mj) {
    n_bad++;
    printf("MISMATCH %%n stores: glibc %d %d %d %ld %lld %zu %jd, "
           "oiu %d %d %d %ld %lld %zu %jd\n", gi, gc, gs, gl, gll, gz, gj,
           mi, mc, ms, ml, mll, mz, mj);
  }
  gl = ml = -7;
  rg = sys_snprintf(g, sizeof g, "xyz%Ln", &gl);
  rm = format_snprintf(m, sizeof m, "xyz%Ln", &ml);
  check("%Ln", g, rg, 0, m, rm, sizeof g);
  n_cases++;
  if (gl != ml) {
    n_bad++;
    printf("MISMATCH %%Ln stores: glibc %ld oiu %ld\n", gl, ml);
  }
}

static int fail_flush(oiu_sink *s)
{
  (void)s;
  return -5;
}

static int call_vformat(oiu_sink *s, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int r = oiu_vformat(s, fmt, ap);
  va_end(ap);
  return r;
}

static void expect(const char *what, long long got, long long want)
{
  n_cases++;
  if (got != want && ++n_bad <= 20)
    printf("MISMATCH %s: got %lld, want %lld\n", what, got, want);
}

/* Sink contract: NULL buffer counting, flush errors, totals. */
static void edge_sink(void)
{
  char chunk[4];
  oiu_sink s = { chunk, sizeof chunk, 0, 0, fail_flush, 0 };
  expect("snprintf(NULL, 0)", format_snprintf(NULL, 0, "%s%d", "xy", 42), 4);
  expect("failing flush: return", call_vformat(&s, "%s", "hello"), -5);
  expect("failing flush: err", s.err, -5);
  expect("failing flush: len", (long long)s.len, 4);
  oiu_sink d = { NULL, 0, 0, 100, NULL, 0 };
  expect("dropping sink: return", call_vformat(&d, "%5d|%s", 1, "ab"), 8);
  expect("dropping sink: total", (long long)d.total, 108);
  expect("NULL format", call_vformat(&d, NULL), -OIU_EINVAL);
  oiu_sink e = { NULL, 0, 0, 0, NULL, 0 };
  expect("EILSEQ return", call_vformat(&e, "%lc", 0x100), -OIU_EILSEQ);
  expect("EILSEQ recorded", e.err, -OIU_EILSEQ);
}

static void edge_ints(void)
{
  EDGE("%d %i %u %o %x %X", 0, -1, 4000000000u, 8, 255, 255);
  EDGE("%lld %llx %llo %llu", LLONG_MIN, ULLONG_MAX, ULLONG_MAX, ULLONG_MAX);
  EDGE("%d|%5d|%-5d|%05d|%+d|% d|%+ d|% +d", INT_MIN, -42, -42, -42, 0, 7,
       7, 7);
  EDGE("%.0d|%.0x|%.0o|%#.0o|%#.0x|%5.0d|%-5.0d|%+.0d|% .0d", 0, 0, 0, 0, 0,
       0, 0, 0, 0);
  EDGE("%#o|%#x|%#X|%#o|%#x|%#.3o|%#.1o|%#8o|%#08x|%#-8x|", 0, 0, 0, 8, 255,
       8, 8, 8, 255, 255);
  EDGE("%#08.3x|%-#08.3x|%08.3d|%-08.3d|%0-8d|%-08d", 255, 255, -5, -5, 5, 5);
  EDGE("%hhd %hhu %hd %hu %hx %hhx", 0x1ff, 0x1ff, 0x1ffff, 0x1ffff, -1, -1);
  EDGE("%ld %lu %zd %zu %zx %td %tu %jd %ju", LONG_MIN, ULONG_MAX,
       (size_t)-1, (size_t)-1, (size_t)-1, (ptrdiff_t)-5, (ptrdiff_t)-5,
       INTMAX_MIN, UINTMAX_MAX);
  EDGE("%qd %qx %Ld %Lx %Zd %Zu", -5LL, -1LL, 0x100000001LL, -1LL,
       (size_t)7, (size_t)8);
  EDGE("%b %#b %B %#B %#.0b %08b %#010b %hhb %lb", 5, 5, 5, 5, 0, 5, 5,
       0x1ff, -1L);
  EDGE("%'d %'u %I d %Id %'Id", 1234567, 1234567u, 5, 5, 1234567);
  EDGE("%*d|%-*d|%*d|%.*d|%.*d|%*.*d", 5, 1, 5, 1, -5, 1, 3, 1, -3, 1, -6, 4,
       -2);
  EDGE("%+u|% u|%+x|% o|%+X", 5u, 5u, 5u, 5u, 5u);
  EDGE("%.100d|%.100x|%120.100d|%-120.100d", 1, 1, -1, -1);
}

static void edge_chars_strings(void)
{
  EDGE("%c|%5c|%-5c|%c%c", 'a', 'b', 'c', 0, 'x');
  EDGE("%c|%c|%05c", 200, 255, 'z');
  EDGE("%s|%5s|%-5s|%.2s|%5.1s|%-5.3s|", "abc", "ab", "ab", "abc", "ab", "a");
  EDGE("%s|%.3s|%.5s|%.6s|%.7s|%10s|%-10s|%.0s|", (char *)0, (char *)0,
       (char *)0, (char *)0, (char *)0, (char *)0, (char *)0, (char *)0);
  EDGE("%05s|%-05s|%0s", "ab", "ab", "c");
  EDGE("%hs|%hhs|%hc|%hhc|%jc|%zc", "ab", "cd", 'e', 'f', 'g', 'h');
  EDGE("%lc|%5lc|%-5lc|%C|%lc|", L'x', L'y', L'z', L'w', 0);
  EDGE("%ls|%5ls|%-5ls|%.1ls|%.0ls|%S|%ls|%.3ls", L"ab", L"ab", L"ab",
       L"abc", L"\xe9", L"cd", (wchar_t *)0, (wchar_t *)0);
  EDGE("%lc", 0xe9);
  EDGE("%lc", 0x80);
  EDGE("%lc", (wint_t)-1);
  EDGE("%ls", L"a\xe9");
  EDGE("%.1ls", L"a\xe9");
  EDGE("%.2ls", L"a\xe9");
  EDGE("%lls", L"ab");
  EDGE("%Ls|%qs|%Lc|%qc", L"ab", L"cd", L'e', L'f');
  EDGE("%ls|", L"\x7f\x01");
}

static void edge_pointers(void)
{
  void *p = (void *)0x1234abcdUL;
  EDGE("%p|%20p|%-20p|%p|%10p|%-10p|%3p", p, p, p, (void *)0, (void *)0,
       (void *)0, (void *)0);
  EDGE("%+p|% p|%#p|%010p|%.10p|%.2p|%.8p|%010p", p, p, p, p, p,
       (void *)0, (void *)0, (void *)0);
  EDGE("%lp|%hp|%Lp|%hhp", p, p, p, p);
  EDGE("%p", (void *)~0UL);
}

static void edge_floats(void)
{
  EDGE("%f|%F|%e|%E|%g|%G|%a|%A", 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5);
  EDGE("%f|%F|%e|%E|%g|%G|%a|%A", NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN);
  EDGE("%f|%F|%e|%E|%g|%G|%a|%A", -NAN, -NAN, -NAN, -NAN, -NAN, -NAN, -NAN,
       -NAN);
  EDGE("%f|%F|%e|%E|%g|%G|%a|%A", -INFINITY, INFINITY, -INFINITY, INFINITY,
       INFINITY, -INFINITY, INFINITY, -INFINITY);
  EDGE("%+f|% F|%05f|%-8f|%08e|%+08g|%010a|%-010A|", NAN, INFINITY, -NAN,
       INFINITY, -INFINITY, NAN, -INFINITY, NAN);
  EDGE("%f|%e|%g|%a|%f|%e|%g|%a", 0.0, 0.0, 0.0, 0.0, -0.0, -0.0, -0.0, -0.0);
  EDGE("%.0f|%.0f|%.0f|%.0f|%.1f|%.1f|%.2f|%.0e|%.0e", 0.5, 1.5, 2.5, 3.5,
       0.25, 0.35, 2.675, 2.5, 3.5);
  EDGE("%g|%g|%g|%g|%g|%g|%#g|%#G", 999999.5, 9.9999995e-5, 0.0001, 1e-5,
       100000.0, 1e6, 1e-5, 123456789.0);
  EDGE("%#g|%#.0g|%.0g|%#.0f|%#.0e|%#.3e|%#.0g|%#.0g", 0.0, 0.0, 0.0, 1.0,
       1.0, 1.0, 1.5, 0.99999);
  EDGE("%g|%#g|%g|%#g|%.3g|%#.3g", 0.99999995, 0.99999995, 0.0099999995,
       0.0099999995, 99.95, 99.95);
  EDGE("%.1100f", DBL_MIN);
  EDGE("%.1100f", 4.9406564584124654e-324);
  EDGE("%f", 1e300);
  EDGE("%f|%e|%.17g|%a", DBL_MAX, DBL_MAX, DBL_MAX, DBL_MAX);
  EDGE("%.800e|%.800g", DBL_MIN, 4.9406564584124654e-324);
  EDGE("%a|%a|%a|%A|%a|%a", 1.0, 3.0, 0.1, 255.5, 4.9406564584124654e-324,
       DBL_MIN);
  EDGE("%.0a|%.0a|%.0a|%.1a|%.3a|%.20a|%#a|%#.0a", 1.9, 1.5, 1.25,
       0x1.fffp-1022, 1.0, 1.0, 1.0, 1.0);
  EDGE("%.0a|%.1a|%.2a|%.12a|%.13a", 0x1.fffffffffffffp+1023,
       0x1.ff8p0, 0x1.0880p0, 0x1.00000000000008p0, 0x1.fffffffffffffp0);
  EDGE("%+a|% a|%010a|%-010a|%#010.0a|%010.3a|%+#A", 1.0, 1.0, -1.5, -1.5,
       -1.5, 0.0, 255.0);
  EDGE("%'.3f|%'g", 1234.5, 1234567.0);
  /* The I flag and C23's wN lengths changed in glibc 2.37+; we match 2.36 (Debian 12). */
  if (glibc_236)
    EDGE("%I'f|%If", 1234.5, 1.0);
  EDGE("%lf|%lg|%le|%la", 1.0, 2.0, 3.0, 4.0);
  EDGE("%*.*f|%-*.*e|%*.*g", 12, 3, 3.14159, -14, 2, 3.14159, 8, -1, 3.14159);
  EDGE("%.1f|%.1f|%.2e|%.3g|%.15g|%.16g|%.17g", 0.05, 0.15, 1.125, 2.675, 0.1,
       0.1, 0.1);
}

static void edge_long_double(void)
{
  EDGE("%La|%La|%La|%La|%#La|%.0La", 3.0L, 1.0L, 0.0L, -0.0L, 1.0L, 15.9L);
  EDGE("%La|%La|%LA|%.3La|%.0La", LDBL_MIN / 4, LDBL_MAX, LDBL_MAX, 1.0L / 3,
       LDBL_MAX);
  EDGE("%Lf|%Le|%Lg|%.30Lf|%.25Le", 1.0L / 3, 1.0L / 3, 1.0L / 3, 0.1L, 2.5L);
  EDGE("%Lf|%LF|%Le|%LG|%La", (long double)NAN, (long double)INFINITY,
       -(long double)INFINITY, -(long double)NAN, (long double)NAN);
  EDGE("%.40Le|%.40Le|%Lg", LDBL_MIN, LDBL_MAX, LDBL_MIN / 1024);
  EDGE("%.0Lf|%.0Lf|%.1Lf|%Lf", 0.5L, 1.5L, 0.25L, 1e30L);
  EDGE("%llf|%qf|%qe|%lla", 1.5L, 2.5L, 3.5L, 4.5L);
}

/* glibc prints an unknown conversion as its canonical text and then parses
 * the rest of the format with printf_positional, whose corners we mirror. */
static void edge_unknown(void)
{
  EDGE("%y|%5y|%-#5.3y|%ly|%hhy|%Ly|%lly%d", 5);
  EDGE("%*y|%*y|%.*y|%.*y|%-05y|%+ y|% +y|%'Iy|%0y|%.y|%00y", 5, -5, -5, 7);
  EDGE("%0*y|%-0*y|%0-y|%*y|%.*y", -5, 5, INT_MIN, INT_MIN);
  EDGE("%y%-05d|%y%05d|%y%*d|%y%.*d|", 3, 3, -5, 3, -5, 3);
  EDGE("%y%0*f|%y%0*e|%y%0*g|%y%0*g|", -12, 1.0, -14, 1.0, -12, 1.0, -12,
       1e-10);
  EDGE("%y%0*a|%y%0*f|%y%0*F|%y%0*La|%y%0*Lf|", -12, 1.0, -12, NAN, -12,
       -INFINITY, -12, 1.0L, -12, 1.0L);
  EDGE("%y%Ls|%y%Lc|%y%qs|%y%Ld|%y%qx|", "ab", 'a', "cd", 0x100000001LL,
       0x100000001LL);
  EDGE("%hf%0*f|%hc%0*f|%hs%0*f|%hp%0*f|%ha%0*f|", 1.0, -12, 1.0, 'a', -12,
       1.0, "x", -12, 1.0, (void *)1, -12, 1.0, 1.0, -12, 1.0);
  EDGE("%hhf%0*f|%lf%0*f|%Lf%0*f|", 1.0, -12, 1.0, 1.0, -12, 1.0, 1.0L, -12,
       1.0);
  EDGE("%hS|%hC|", L"ab", L'c');
  EDGE("%llld|%hld|%lhd|%jhd|%hjd|%lLd|%Lld|", 5LL, 5L, 5, 5, 5, 5LL, 5LL);
  if (glibc_236)
    EDGE("%w32d|%5-d|%*5d|%.5$d|%5Id", 5, 3, 4, 6);
  EDGE("%y%2147483648d|%y%.2147483648d|", 1, 1);
  EDGE("%y%5");
  EDGE("%y%l");
  EDGE("%y%");
  EDGE("%y%5%|%y%-5%|", 0);
  EDGE("%5%|%-05%|%.3%|%l%|%h%|%ll%|%*%|%.*%|%d", 5, 6, 7);
  EDGE("%0$d", 5);
}

/* Incomplete conversions and overflowing widths. */
static void edge_errors(void)
{
  EDGE("%");
  EDGE("abc%");
  EDGE("%5");
  EDGE("%.3");
  EDGE("%l");
  EDGE("%-");
  EDGE("%2147483648d", 1);
  EDGE("%.2147483648d", 1);
  EDGE("%99999999999999999999d", 1);
  EDGE("ab%.99999999999s", "x");
  EDGE("%2147483647%");
  EDGE("%.2147483647s", "ab");
  EDGE("%*99999999999d", 1, 2);
}

/* Cases where glibc really pads to INT_MAX (seconds each). */
static void edge_slow(void)
{
  EDGE("%2147483647d", 1);
  EDGE("abc%2147483647d", 1);
  EDGE("%2147483646d%c", 1, 'x');
  EDGE("%*d", INT_MIN, 1);
  EDGE("abc%*d|", INT_MIN, 1);
  EDGE("%*d", INT_MAX, 1);
  EDGE("%.2147483647d", 1);
  EDGE("%y%*d|", INT_MIN, 1);
  EDGE("%y%*d|", INT_MAX, 1);
}

int main(int argc, char **argv)
{
  glibc_236 = strcmp(gnu_get_libc_version(), "2.36") == 0;
  long long n = argc > 1 ? atoll(argv[1]) : 200000;
  unsigned long long first = argc > 2 ? strtoull(argv[2], NULL, 0) : 0;
  const char *slow = getenv("OIU_FORMAT_DIFF_SLOW");

  edge_ints();
  edge_chars_strings();
  edge_pointers();
  edge_floats();
  edge_long_double();
  edge_unknown();
  edge_errors();
  edge_count();
  edge_sink();
  if (slow && *slow == '1')
    edge_slow();
  for (long long k = 0; k < n; k++)
    run_case(first + (unsigned long long)k);
  printf("format_diff: %lld cases, %lld mismatches\n", n_cases, n_bad);
  return n_bad ? 1 : 0;
}
