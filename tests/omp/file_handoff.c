/* SPDX-License-Identifier: MIT */
/*
 * Streams the host opened, used by device code, and misuse with defined results.
 *   file_handoff hostfd     a descriptor the host opened and wrote through
 *                           glibc goes to the device: device write/lseek
 *                           share the kernel's position with the host, fdopen
 *                           gives a device FILE on it, and the host carries on.
 *   file_handoff stdin F    device code reads its stdin (fgets, getc,
 *                           getchar, fread, read, feof), which must be the
 *                           bytes of file F.
 *   file_handoff prompt     one device thread waits in a read of an empty
 *                           stdin while another prints and flushes
 *                           "ready"; the answer is typed only after the
 *                           prompt appeared, so a read that blocks the
 *                           host's output never gets one.
 *   file_handoff misuse     a closed FILE, NULL, a host FILE*, more streams
 *                           than the pool holds, fdopen of a bad descriptor
 *                           or mode: each call fails the documented way.
 */
#include <errno.h>
#include <fcntl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int bad;
#define CHECK(cond, ...)                                                                      \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      printf("file_handoff: " __VA_ARGS__);                                                  \
      printf("\n");                                                                          \
      bad++;                                                                                 \
    }                                                                                        \
  } while (0)

#pragma omp declare target
/* GPU images have no libc string functions. */
static long slen(const char *s) {
  long n = 0;
  while (s[n])
    n++;
  return n;
}
static int same(const char *a, const char *b) {
  while (*a && *a == *b)
    a++, b++;
  return *a == *b;
}
#pragma omp end declare target

static int hostfd(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/file_handoff.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  int tfd = mkstemp(path);
  FILE *f = fdopen(tfd, "w+");
  fputs("host header\n", f);
  fflush(f); /* the host's buffered bytes reach the file before device code writes */
  int fd = fileno(f);
  long r[10];
#pragma omp target map(to : fd) map(from : r)
  {
    r[0] = lseek(fd, 0, SEEK_CUR);                 /* 12: where the host left it */
    r[1] = write(fd, "device write\n", 13);
    FILE *d = fdopen(fd, "r+");                    /* a device FILE on the host's descriptor */
    r[2] = d != NULL;
    r[3] = fprintf(d, "device fprintf %d\n", 42);
    r[4] = fflush(d);
    r[5] = ftell(d);
    r[6] = fseek(d, 0, SEEK_SET);
    char line[32];
    r[7] = fgets(line, sizeof line, d) != NULL && same(line, "host header\n");
    r[8] = fseek(d, 0, SEEK_END);                  /* the position the host gets back */
    r[9] = fflush(d);                              /* not fclose: the host still needs fd */
  }
  CHECK(r[0] == 12 && r[1] == 13 && r[2] == 1 && r[3] == 18 && r[4] == 0 && r[5] == 43 &&
            r[6] == 0 && r[7] == 1 && r[8] == 0 && r[9] == 0,
        "hostfd: device calls returned %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld", r[0], r[1], r[2],
        r[3], r[4], r[5], r[6], r[7], r[8], r[9]);
  long pos = lseek(fd, 0, SEEK_CUR);
  CHECK(pos == 43, "hostfd: the host finds the position at %ld, not 43", pos);
  fseek(f, 0, SEEK_END); /* glibc's FILE learns the position again */
  fputs("host again\n", f);
  fclose(f);
  char got[128] = {0};
  FILE *g = fopen(path, "r");
  size_t n = fread(got, 1, sizeof got - 1, g);
  fclose(g);
  unlink(path);
  const char *want = "host header\ndevice write\ndevice fprintf 42\nhost again\n";
  CHECK(n == strlen(want) && !strcmp(got, want), "hostfd: the file holds \"%s\"", got);
  printf("file_handoff: hostfd: host and device took turns on one descriptor: %s\n",
         bad ? "FAILED" : "exact");
  return bad != 0;
}

/* stdin: a line, two characters, a block, then read(2) and the end. */
static int from_stdin(const char *ref) {
  FILE *f = fopen(ref, "rb");
  static char want[1 << 20], got[1 << 20];
  size_t n = fread(want, 1, sizeof want, f);
  fclose(f);
  long r[8];
#pragma omp target map(from : got, r)
  {
    long at = 0;
    r[0] = fgets(got, 100, stdin) != NULL;
    at = slen(got);
    int c1 = getc(stdin), c2 = getchar();
    got[at++] = (char)c1;
    got[at++] = (char)c2;
    r[1] = c1 >= 0 && c2 >= 0;
    r[2] = (long)fread(got + at, 1, 5000, stdin);
    at += r[2];
    r[3] = feof(stdin);
    /* What is left: the FILE's buffer first (fread), then the descriptor would be behind it. */
    r[4] = (long)fread(got + at, 1, sizeof got - at, stdin);
    at += r[4];
    r[5] = feof(stdin);
    r[6] = fgetc(stdin);
    r[7] = at;
  }
  CHECK(r[0] == 1 && r[1] == 1 && r[3] == 0 && r[5] == 1 && r[6] == EOF && r[7] == (long)n &&
            !memcmp(got, want, n),
        "stdin: fgets %ld getc %ld fread %ld feof %ld fread %ld feof %ld fgetc %ld, %ld of %zu bytes, "
        "%s",
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], n,
        memcmp(got, want, n) ? "different" : "same");
  printf("file_handoff: stdin: %zu bytes read by device code: %s\n", n, bad ? "FAILED" : "exact");
  return bad != 0;
}

/* A prompt while another thread waits for input (run.sh prompt types "go"). */
static int prompt(void) {
  char got[64] = {0};
  long r = -1, nthreads = 0;
#pragma omp target map(from : got, r, nthreads)
  {
    int reading = 0;
    /* The reader and the printer in different warps/wavefronts (threads 0
     * and 64): lanes of one would run the two branches one after the other. */
#pragma omp parallel num_threads(128) shared(reading)
    {
      int me = omp_get_thread_num(), printer = omp_get_num_threads() - 1;
      if (me == 0) {
        nthreads = omp_get_num_threads();
#pragma omp atomic write
        reading = 1;
        r = fgets(got, sizeof got, stdin) != NULL;
      } else if (me == printer) {
        int seen = 0;
        while (!seen) {
#pragma omp atomic read
          seen = reading;
        }
        double t0 = omp_get_wtime();
        while (omp_get_wtime() - t0 < 0.2)
          ; /* by now the read is in flight */
        printf("ready\n");
        fflush(stdout);
      }
    }
  }
  CHECK(nthreads > 64, "prompt: %ld threads, the test needs reader and printer apart", nthreads);
  CHECK(r == 1 && !strcmp(got, "go\n"), "prompt: fgets returned %ld, read \"%s\"", r, got);
  printf("got: %s", got);
  return bad != 0;
}

#define POOL 64 /* OIU_MAX_FILES, stdin/stdout/stderr included */

static int misuse(FILE *host_file) {
  char path[512];
  snprintf(path, sizeof path, "%s/file_handoff.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
           (int)getpid());
  long r[40];
  int e[40];
  int ok = 0;
#pragma omp target map(to : path) map(from : r, e, ok) firstprivate(host_file)
  {
    int i = 0;
#define REC(expr) (errno = 0, r[i] = (long)(expr), e[i] = errno, i++)
    FILE *f = fopen(path, "w");
    REC(fclose(f));                         /* 0 */
    REC(fclose(f));                         /* EOF, EBADF: closed */
    REC(fwrite("x", 1, 1, f));              /* 0, EBADF */
    REC(fread(path, 1, 1, f));              /* 0, EBADF */
    REC(fputs("x", f));                     /* EOF, EBADF */
    REC(fprintf(f, "%d", 1));               /* -1, EBADF */
    REC(fgetc(f));                          /* EOF, EBADF */
    REC(fflush(f));                         /* EOF, EBADF */
    REC(ftell(f));                          /* -1, EBADF */
    REC(fseek(f, 0, SEEK_SET));             /* -1, EBADF */
    REC(ferror(f));                         /* 1: no stream is in error */
    REC(feof(f));                           /* 0 */
    REC(fileno(f));                         /* -1, EBADF */
    REC(fwrite("x", 1, 1, (FILE *)0));      /* 0, EBADF */
    REC(fclose((FILE *)0));                 /* EOF, EBADF */
    REC(fgets(path, 2, (FILE *)0) == NULL); /* 1, EBADF */
    REC(fflush((FILE *)0));                 /* 0: every stream */
    REC(fputs("x", host_file));             /* EOF, EBADF: a host FILE* is never read */
    REC(ferror(host_file));                 /* 1 */
    REC(fdopen(-1, "r") == NULL);           /* 1, EBADF */
    int fd = open(path, O_RDONLY);
    REC(fdopen(fd, "w") == NULL);           /* 1, EINVAL: the descriptor is read-only */
    REC(fdopen(fd, "q") == NULL);           /* 1, EINVAL */
    close(fd);
    /* The pool: 61 streams beyond stdin/stdout/stderr, then EMFILE. */
    FILE *open_files[POOL];
    int n = 0;
    for (; n < POOL; n++)
      if (!(open_files[n] = fopen(path, "r")))
        break;
    r[i] = n, e[i] = errno, i++;            /* 61, EMFILE */
    int closed = 0;
    for (int k = 0; k < n; k++)
      closed += fclose(open_files[k]) == 0;
    r[i] = closed, e[i] = 0, i++;           /* 61 */
    FILE *again = fopen(path, "r");         /* entries are free again */
    REC(again != NULL);
    REC(fclose(again));
    REC(fclose(stdout));                    /* 0: flushed; the host's descriptor stays open */
    REC(printf("%s", ""));                  /* 0: stdout still works */
    ok = i;
#undef REC
  }
  static const long want_r[] = {0, EOF, 0, 0, EOF, -1, EOF, EOF, -1, -1, 1, 0, -1, 0, EOF, 1,
                                0, EOF, 1, 1, 1, 1, POOL - 3, POOL - 3, 1, 0, 0, 0};
  static const int want_e[] = {0, EBADF, EBADF, EBADF, EBADF, EBADF, EBADF, EBADF, EBADF, EBADF,
                               0, 0, EBADF, EBADF, EBADF, EBADF, 0, EBADF, 0, EBADF, EINVAL,
                               EINVAL, EMFILE, 0, 0, 0, 0, 0};
  int n = (int)(sizeof want_r / sizeof *want_r);
  CHECK(ok == n, "misuse: %d results, %d expected", ok, n);
  for (int i = 0; i < n && i < ok; i++)
    CHECK(r[i] == want_r[i] && (want_e[i] == 0 || e[i] == want_e[i]),
          "misuse: call %d returned %ld (errno %s), expected %ld (errno %s)", i, r[i],
          strerror(e[i]), want_r[i], strerror(want_e[i]));
  unlink(path);
  printf("file_handoff: misuse: %d calls on closed, NULL, host and exhausted streams: %s\n", n,
         bad ? "FAILED" : "as documented");
  return bad != 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "hostfd"))
    return hostfd();
  if (argc > 2 && !strcmp(argv[1], "stdin"))
    return from_stdin(argv[2]);
  if (argc > 1 && !strcmp(argv[1], "prompt"))
    return prompt();
  if (argc > 1 && !strcmp(argv[1], "misuse"))
    return misuse(fopen("/dev/null", "w")); /* a host FILE*: device code must not read it */
  fprintf(stderr, "usage: %s hostfd | stdin FILE | prompt | misuse\n", argv[0]);
  return 2;
}
