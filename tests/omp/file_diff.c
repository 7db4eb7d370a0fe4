/* SPDX-License-Identifier: MIT */
/*
 * Differential test of the file calls: one sequence of stdio and POSIX calls
 * (every fopen mode, reads and writes through buffers and around them,
 * seeks, EOF, errors with real causes) runs on the host with glibc in one
 * directory, then in a target region with the device library in another.
 * Every return value, every errno of a failed call and the bytes of every
 * file must be identical.
 *
 * Real causes of errors: missing files (ENOENT), a directory (EISDIR), a
 * read-only directory (EACCES: as root the program first drops to user
 * nobody, since root ignores permissions), /dev/full (ENOSPC), closed
 * descriptors (EBADF), streams opened the wrong way (EBADF), invalid modes
 * and offsets (EINVAL), existing names (EEXIST), non-empty directories.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NREC 400
#define PATHLEN 256

struct rec {
  long v[NREC];
  int e[NREC];
  int line[NREC];
  int n;
};

#pragma omp declare target
static void put(struct rec *r, long v, int failed, int line) {
  if (r->n < NREC) {
    r->v[r->n] = v;
    r->e[r->n] = failed ? errno : 0;
    r->line[r->n] = line;
  }
  r->n++;
}

/* errno is compared only where a call failed: after success C leaves it unspecified. */
#define RI(expr) do { errno = 0; long v_ = (long)(expr); put(r, v_, v_ < 0, __LINE__); } while (0)
#define RP(expr) do { errno = 0; void *p_ = (void *)(expr); put(r, p_ != NULL, p_ == NULL, __LINE__); } while (0)
#define RZ(expr, want) do { errno = 0; long v_ = (long)(expr); put(r, v_, v_ != (long)(want), __LINE__); } while (0)
#define RV(expr) do { long v_ = (long)(expr); put(r, v_, 0, __LINE__); } while (0)

static int slen(const char *s) {
  int n = 0;
  while (s[n])
    n++;
  return n;
}

/* dir + "/" + name into out (no libc string functions on GPUs). */
static char *path(char *out, const char *dir, const char *name) {
  int i = 0;
  for (; dir[i]; i++)
    out[i] = dir[i];
  out[i++] = '/';
  for (int j = 0; name[j]; j++)
    out[i++] = name[j];
  out[i] = 0;
  return out;
}

/* A checksum of what a read returned, so contents are compared too. */
static long sum(const char *p, long n) {
  unsigned long h = 1469598103934665603ul;
  for (long i = 0; i < n; i++)
    h = (h ^ (unsigned char)p[i]) * 1099511628211ul;
  return (long)(h >> 1);
}

static void stdio_modes(struct rec *r, const char *dir) {
  char p[PATHLEN], buf[128];
  static const char text[] = "hello world\n";
  FILE *f = fopen(path(p, dir, "a.txt"), "w");
  RP(f);
  RZ(fwrite(text, 1, 12, f), 12);
  RI(fprintf(f, "%d %s %.3f|%5x\n", 42, "xy", 3.14159, 255u));
  RI(fputs("line three\n", f));
  RI(fputc('Z', f));
  RI(ftell(f));               /* 41: buffered output counts */
  RI(fflush(f));
  RI(fseek(f, 0, SEEK_SET));
  RZ(fwrite("HELLO", 1, 5, f), 5);
  RI(ftell(f));
  RI(fseek(f, 0, SEEK_END));
  RI(ftell(f));
  RI(fclose(f));

  f = fopen(p, "r");
  RP(f);
  RP(fgets(buf, sizeof buf, f));
  RV(sum(buf, slen(buf)));
  RI(fgetc(f));
  RI(getc(f));
  RI(ftell(f));
  RZ(fread(buf, 1, 10, f), 10);
  RV(sum(buf, 10));
  RI(ftell(f));
  RZ(fread(buf, 1, sizeof buf, f), sizeof buf); /* short: the rest of the file */
  RV(feof(f));
  RV(ferror(f));
  RZ(fread(buf, 1, 1, f), 1);   /* at EOF: 0 */
  RI(fgetc(f));                 /* EOF */
  RP(fgets(buf, sizeof buf, f)); /* NULL at EOF, errno untouched */
  RI(fseek(f, -7, SEEK_END));
  RV(feof(f));                  /* a successful seek clears EOF */
  RP(fgets(buf, 4, f));         /* 3 bytes and a NUL */
  RV(sum(buf, slen(buf)));
  RI(fseek(f, 2, SEEK_CUR));
  RI(ftell(f));
  RI(fgetc(f));
  RI(fseek(f, -100, SEEK_SET)); /* EINVAL */
  RI(fseek(f, 0, 7));           /* EINVAL */
  RI(ftell(f));
  rewind(f);
  RI(ftell(f));
  RZ(fread(buf, 4, 3, f), 3);   /* items of 4 bytes */
  RV(sum(buf, 12));
  RI(fgets(buf, 1, f) == buf);  /* n == 1: an empty string */
  RV(buf[0]);
  RZ(fwrite("x", 1, 1, f), 1);  /* read-only stream: EBADF */
  RV(ferror(f));
  clearerr(f);
  RV(ferror(f));
  RI(fileno(f) >= 0);
  RI(fclose(f));

  /* "a": starts at the end, every write appends, even after a seek. */
  f = fopen(p, "a");
  RP(f);
  RI(ftell(f));
  RZ(fwrite("appended\n", 1, 9, f), 9);
  RI(ftell(f));
  RI(fseek(f, 0, SEEK_SET));
  RZ(fwrite("again\n", 1, 6, f), 6);
  RI(ftell(f));
  RZ(fread(buf, 1, 1, f), 1);   /* write-only: EBADF */
  RI(fclose(f));

  /* "r+": read, seek, overwrite in the middle, read on. */
  f = fopen(p, "r+");
  RP(f);
  RZ(fread(buf, 1, 6, f), 6);
  RI(fseek(f, 0, SEEK_CUR));
  RZ(fwrite("W0RLD", 1, 5, f), 5);
  RI(fseek(f, 0, SEEK_CUR));
  RZ(fread(buf, 1, 8, f), 8);
  RV(sum(buf, 8));
  RI(fflush(f));
  RI(ftell(f));
  RI(fclose(f));

  /* "w+": truncates; write, rewind, read back. */
  f = fopen(path(p, dir, "wplus.txt"), "w+");
  RP(f);
  for (int i = 0; i < 50; i++)
    RI(fprintf(f, "record %03d of %d\n", i, 50));
  RI(ftell(f));
  rewind(f);
  RP(fgets(buf, sizeof buf, f));
  RV(sum(buf, slen(buf)));
  RI(fseek(f, -17, SEEK_END));
  RP(fgets(buf, sizeof buf, f));
  RV(sum(buf, slen(buf)));
  RI(fgetc(f));
  RV(feof(f));
  RI(fclose(f));

  /* "a+": reads from the start, writes at the end. */
  f = fopen(path(p, dir, "a.txt"), "a+");
  RP(f);
  RI(ftell(f));
  RZ(fread(buf, 1, 5, f), 5);
  RV(sum(buf, 5));
  RI(fseek(f, 0, SEEK_CUR));
  RZ(fwrite("tail\n", 1, 5, f), 5);
  RI(ftell(f));
  RI(fclose(f));

  /* "wx": exclusive creation. */
  RP(fopen(path(p, dir, "a.txt"), "wx"));
  f = fopen(path(p, dir, "excl.txt"), "wx");
  RP(f);
  RI(fclose(f));

  /* Unbuffered and line-buffered device streams. */
  f = fopen(path(p, dir, "unbuf.txt"), "w");
  RP(f);
  RI(setvbuf(f, NULL, _IONBF, 0));
  RI(fputs("unbuffered ", f));
  RI(fprintf(f, "%s|%d\n", "text", -1));
  RI(fputc('\n', f));
  RI(fclose(f));
  f = fopen(path(p, dir, "line.txt"), "w");
  RP(f);
  RI(setvbuf(f, NULL, _IOLBF, 0));
  RI(fputs("one\ntwo", f));
  RI(fprintf(f, " three\nfour"));
  RI(fclose(f));
}

/* Binary data through fwrite/fread around the buffer: sizes below, at and above it. */
static void stdio_binary(struct rec *r, const char *dir, char *big, long n) {
  char p[PATHLEN];
  for (long i = 0; i < n; i++)
    big[i] = (char)(i * 7 + (i >> 9));
  FILE *f = fopen(path(p, dir, "b.bin"), "wb");
  RP(f);
  static const long sizes[] = {1, 100, 4095, 4096, 4097, 10000, 65536, 70001};
  long at = 0;
  for (int i = 0; i < 8 && at + sizes[i] <= n; i++) {
    RZ(fwrite(big + at, 1, sizes[i], f), sizes[i]);
    at += sizes[i];
    RI(ftell(f));
  }
  RI(fclose(f));
  f = fopen(p, "rb");
  RP(f);
  at = 0;
  for (int i = 7; i >= 0; i--) {
    long got = (long)fread(big, 1, sizes[i], f);
    RV(got);
    RV(sum(big, got));
    at += got;
    RI(ftell(f));
  }
  RZ(fread(big, 1, n, f), n); /* the rest, short */
  RV(feof(f));
  RI(fclose(f));
}

static void posix_calls(struct rec *r, const char *dir) {
  char p[PATHLEN], q[PATHLEN], buf[256];
  struct stat st;
  int fd = open(path(p, dir, "posix.bin"), O_CREAT | O_RDWR | O_TRUNC, 0640);
  RI(fd >= 0 ? 0 : -1);
  RI(write(fd, "0123456789", 10));
  RI(write(fd, "", 0));
  RI(lseek(fd, 0, SEEK_CUR));
  RI(lseek(fd, 2, SEEK_SET));
  RI(read(fd, buf, 4));
  RV(sum(buf, 4));
  RI(lseek(fd, -3, SEEK_END));
  RI(read(fd, buf, sizeof buf)); /* short read: 3 */
  RI(read(fd, buf, sizeof buf)); /* EOF: 0 */
  RI(pwrite(fd, "hole", 4, 20)); /* a hole from 10 to 20 */
  RI(lseek(fd, 0, SEEK_CUR));    /* pwrite leaves the position */
  RI(pread(fd, buf, sizeof buf, 0));
  RV(sum(buf, 24));
  RI(pread(fd, buf, 4, 100));    /* beyond the end: 0 */
  RI(pread(fd, buf, 4, -1));     /* EINVAL */
  RI(lseek(fd, -1, SEEK_SET));   /* EINVAL */
  RI(lseek(fd, 0, 42));          /* EINVAL */
  RI(fstat(fd, &st));
  RV(st.st_size);
  RV(st.st_mode);
  RV(st.st_nlink);
  RI(fsync(fd));
  RI(fdatasync(fd));
  RI(close(fd));
  RI(close(fd));                 /* EBADF */
  RI(read(fd, buf, 1));          /* EBADF */
  RI(write(fd, buf, 1));         /* EBADF */
  RI(write(fd, buf, 0));         /* EBADF even for 0 bytes */
  RI(lseek(fd, 0, SEEK_CUR));    /* EBADF */
  RI(fstat(fd, &st));            /* EBADF */
  RI(fsync(fd));                 /* EBADF */
  RI(pread(fd, buf, 1, 0));      /* EBADF */

  RI(stat(p, &st));
  RV(st.st_size);
  RV(st.st_mode);
  RI(lstat(p, &st));
  RV(st.st_size);
  RI(open(p, O_CREAT | O_EXCL | O_WRONLY, 0600)); /* EEXIST */
  RI(open(path(q, dir, "missing"), O_RDONLY));    /* ENOENT */
  RI(stat(q, &st));                                /* ENOENT */
  RI(unlink(q));                                   /* ENOENT */
  RI(mkdir(path(q, dir, "sub"), 0750));
  RI(stat(q, &st));
  RV(S_ISDIR(st.st_mode));
  RV(st.st_mode & 07777);
  RI(mkdir(q, 0750));                              /* EEXIST */
  RI(open(q, O_WRONLY));                           /* EISDIR */
  fd = open(q, O_RDONLY);                          /* a directory opens for reading */
  RI(fd >= 0 ? 0 : -1);
  RI(read(fd, buf, 8));                            /* EISDIR */
  RI(close(fd));
  fd = open(path(q, dir, "sub/inner"), O_CREAT | O_WRONLY, 0600);
  RI(fd >= 0 ? 0 : -1);
  RI(close(fd));
  RI(rmdir(path(q, dir, "sub")));                  /* ENOTEMPTY */
  RI(unlink(path(q, dir, "sub/inner")));
  RI(rmdir(path(q, dir, "sub")));
  RI(stat(q, &st));                                /* ENOENT */
  RI(open(path(q, dir, "nodir/file"), O_CREAT | O_WRONLY, 0600)); /* ENOENT */

  /* /dev/full: writes fail with ENOSPC; reads return zeros. */
  fd = open("/dev/full", O_RDWR);
  RI(fd >= 0 ? 0 : -1);
  RI(write(fd, "x", 1));                           /* ENOSPC */
  RI(read(fd, buf, 16));
  RV(sum(buf, 16));
  RI(close(fd));
  /* Descriptors of files that outlive the calls: unlink an open file. */
  fd = open(path(p, dir, "gone.txt"), O_CREAT | O_RDWR, 0600);
  RI(unlink(p));
  RI(write(fd, "still here", 10));
  RI(pread(fd, buf, 10, 0));
  RV(sum(buf, 10));
  RI(close(fd));
}

static void stdio_errors(struct rec *r, const char *dir, int eacces_dir) {
  char p[PATHLEN], buf[16];
  RP(fopen(path(p, dir, "missing.txt"), "r"));    /* ENOENT */
  RP(fopen(path(p, dir, "nodir/x.txt"), "w"));    /* ENOENT */
  RP(fopen(path(p, dir, "a.txt"), "z"));          /* EINVAL */
  RP(fopen(dir, "w"));                            /* EISDIR */
  FILE *f = fopen(dir, "r");                      /* opens; reads fail */
  RP(f);
  RZ(fread(buf, 1, 4, f), 4);                     /* EISDIR */
  RV(ferror(f));
  RV(feof(f));
  RI(fgetc(f));
  RI(fclose(f));

  /* /dev/full: buffered writes succeed, the flush fails; the buffer is dropped. */
  f = fopen("/dev/full", "w");
  RP(f);
  RZ(fwrite("0123456789", 1, 10, f), 10);
  RI(fputs("more", f));
  RI(fflush(f));                                  /* ENOSPC */
  RV(ferror(f));
  RI(fclose(f));                                  /* nothing left: 0 */
  f = fopen("/dev/full", "w");
  RP(f);
  RI(fprintf(f, "%s\n", "text"));
  RI(fclose(f));                                  /* ENOSPC at close */
  f = fopen("/dev/full", "w");
  RP(f);
  RI(setvbuf(f, NULL, _IONBF, 0));
  RI(fputc('x', f));                              /* ENOSPC */
  RI(fprintf(f, "%d", 1));                        /* ENOSPC */
  RZ(fwrite("abc", 1, 3, f), 3);                  /* ENOSPC */
  RI(fclose(f));

  /* Read-only directory. */
  if (eacces_dir) {
    RP(fopen(path(p, dir, "ro/new.txt"), "w"));   /* EACCES */
    RI(open(p, O_CREAT | O_WRONLY, 0600));        /* EACCES */
    RI(mkdir(path(p, dir, "ro/sub"), 0700));      /* EACCES */
    RI(unlink(path(p, dir, "ro/present")));       /* EACCES */
    f = fopen(path(p, dir, "ro/present"), "r");   /* reading is allowed */
    RP(f);
    RI(fgetc(f));
    RI(fclose(f));
  }
}

static void run_all(struct rec *r, const char *dir, int eacces_dir, char *big, long n) {
  r->n = 0;
  stdio_modes(r, dir);
  stdio_binary(r, dir, big, n);
  posix_calls(r, dir);
  stdio_errors(r, dir, eacces_dir);
}
#pragma omp end declare target

/* The files both runs leave, compared byte for byte. */
static const char *const outputs[] = {"a.txt", "wplus.txt", "excl.txt", "unbuf.txt",
                                      "line.txt", "b.bin", "posix.bin"};

static int same_file(const char *a, const char *b) {
  FILE *x = fopen(a, "rb"), *y = fopen(b, "rb");
  int same = x && y;
  while (same) {
    int c = fgetc(x), d = fgetc(y);
    same = c == d;
    if (c == EOF)
      break;
  }
  if (x)
    fclose(x);
  if (y)
    fclose(y);
  return same;
}

/* As root, become nobody: permissions (EACCES) are only real for an ordinary user. */
static void drop_root(void) {
  if (geteuid() != 0)
    return;
  if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
    perror("file_diff: cannot leave root");
    return;
  }
  printf("file_diff: running as user nobody (root ignores directory permissions)\n");
}

static void make_dir(char *dir, const char *tmp, const char *tag) {
  snprintf(dir, PATHLEN, "%s/file_diff.%s.XXXXXX", tmp, tag);
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    exit(2);
  }
}

int main(void) {
  drop_root();
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  char hdir[PATHLEN], ddir[PATHLEN], ro[PATHLEN + 8];
  make_dir(hdir, tmp, "host");
  make_dir(ddir, tmp, "dev");
  int eacces = geteuid() != 0;
  if (!eacces)
    printf("file_diff: still root: the read-only directory case is left out\n");
  for (int i = 0; eacces && i < 2; i++) {
    snprintf(ro, sizeof ro, "%s/ro", i ? ddir : hdir);
    mkdir(ro, 0755);
    snprintf(ro, sizeof ro, "%s/ro/present", i ? ddir : hdir);
    FILE *f = fopen(ro, "w");
    fputs("p", f);
    fclose(f);
    snprintf(ro, sizeof ro, "%s/ro", i ? ddir : hdir);
    chmod(ro, 0555);
  }
  long n = 160000;
  char *big = malloc(n);
  static struct rec host, dev;
  run_all(&host, hdir, eacces, big, n);
#pragma omp target map(to : ddir[0 : PATHLEN]) map(tofrom : dev) map(alloc : big[0 : n])
  run_all(&dev, ddir, eacces, big, n);

  int bad = 0;
  if (host.n != dev.n || host.n > NREC) {
    printf("file_diff: %d records on the host, %d on the device (max %d)\n", host.n, dev.n, NREC);
    bad++;
  }
  for (int i = 0; i < host.n && i < dev.n && i < NREC; i++)
    if (host.v[i] != dev.v[i] || host.e[i] != dev.e[i] || host.line[i] != dev.line[i]) {
      if (bad++ < 20)
        printf("file_diff: line %d: glibc %ld (errno %s), device %ld (errno %s)\n", host.line[i],
               host.v[i], host.e[i] ? strerror(host.e[i]) : "-", dev.v[i],
               dev.e[i] ? strerror(dev.e[i]) : "-");
    }
  for (size_t i = 0; i < sizeof outputs / sizeof *outputs; i++) {
    char a[PATHLEN + 32], b[PATHLEN + 32];
    snprintf(a, sizeof a, "%s/%s", hdir, outputs[i]);
    snprintf(b, sizeof b, "%s/%s", ddir, outputs[i]);
    if (!same_file(a, b)) {
      printf("file_diff: %s differs between glibc and the device\n", outputs[i]);
      bad++;
    }
  }
  int failures = 0;
  for (int i = 0; i < host.n && i < NREC; i++)
    failures += host.e[i] != 0;
  printf("file_diff: %d calls, %d of them failing with errno, %zu files: %s\n", host.n, failures,
         sizeof outputs / sizeof *outputs, bad ? "MISMATCH" : "identical");
  if (!bad) {
    char cmd[3 * PATHLEN];
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s' '%s' 2>/dev/null; rm -rf '%s' '%s'", hdir, ddir,
             hdir, ddir);
    if (system(cmd) != 0)
      printf("file_diff: could not remove %s and %s\n", hdir, ddir);
  }
  free(big);
  return bad != 0;
}
