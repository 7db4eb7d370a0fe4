/* SPDX-License-Identifier: MIT */
/*
 * FILE streams of target regions: fopen, fdopen, fclose, fread, fwrite,
 * fflush, fseek, ftell, rewind, feof, ferror, clearerr, fgets, fgetc, getc,
 * getchar, fileno, setvbuf, and fprintf/fputs/fputc on these streams.
 *
 * A device FILE is an entry of a fixed pool (OIU_MAX_FILES per device, in
 * device memory; entries 0-2 are stdin, stdout, stderr) with a buffer in the
 * shared region, so a refill or a flush is one io_uring request on the
 * stream's own completion cell. Buffering follows glibc's libio step by step
 * (xsputn, xsgetn, underflow, overflow, seekoff, ftell): the buffer is
 * st_blksize bytes (at most LIBOMPTARGET_IO_URING_FILE_BUFFER), transfers of
 * whole buffers go straight between the caller's memory and the file
 * (pipelined, see io.c), and calls return what glibc's return, with the
 * same errno, at the same moments.
 *
 * Each call holds the stream's lock (device scope) while it runs: a stream
 * shared by threads sees whole calls, one at a time, as with glibc. A
 * pointer that is not an open stream of this pool (NULL, closed, a host
 * FILE*) is never dereferenced: the call fails with EBADF.
 *
 * stdout and stderr keep the paths of stdio.c (the buffered stream rings);
 * this file serves every other stream and stdin.
 */
#include <stdarg.h>
#include <stdio.h>

#include "io.h"

OIU_DEVICE_BEGIN


#define OIU_FILE_MAGIC 0x454c4946u /* "FILE": the entry is an open stream */
#define OIU_FILE_OPENING 1u        /* taken by fopen, not open yet */

enum {
  F_READ = 1 << 0,     /* opened for reading */
  F_WRITE = 1 << 1,    /* opened for writing */
  F_APPEND = 1 << 2,   /* "a": every write at the end */
  F_EOF = 1 << 3,      /* end-of-file indicator */
  F_ERR = 1 << 4,      /* error indicator */
  F_UNBUF = 1 << 5,    /* _IONBF */
  F_LINEBUF = 1 << 6,  /* _IOLBF */
  F_STD = 1 << 7,      /* stdin/stdout/stderr: fclose keeps the descriptor */
  F_READING = 1 << 8,  /* buf[rpos, rend) is input not yet consumed */
  F_WRITING = 1 << 9,  /* buf[0, wlen) is output not yet written */
  F_SIZED = 1 << 10,   /* bufsize chosen (glibc: buffer allocated) */
};

struct oiu_file {
  uint32_t magic;
  uint32_t lock;    /* held by the call in progress (device scope) */
  int32_t fd;
  uint32_t flags;
  uint32_t bufsize; /* with F_SIZED */
  uint32_t rpos, rend;
  uint32_t wlen;
  uint32_t index;   /* pool entry: buffer and completion cell */
};

static struct oiu_file oiu_files[OIU_MAX_FILES] = {
    {OIU_FILE_MAGIC, 0, 0, F_READ | F_STD, 0, 0, 0, 0, 0},
    {OIU_FILE_MAGIC, 0, 1, F_WRITE | F_STD, 0, 0, 0, 0, 1},
    {OIU_FILE_MAGIC, 0, 2, F_WRITE | F_STD | F_UNBUF, 0, 0, 0, 0, 2},
};

/*
 * The standard streams. GPU images have no libc: these are ours. Host-target
 * images are CPU code beside glibc and use glibc's pointers; calls map them
 * to entries 0-2.
 */
#if OIU_GPU
FILE *stdin = (FILE *)&oiu_files[0];
FILE *stdout = (FILE *)&oiu_files[1];
FILE *stderr = (FILE *)&oiu_files[2];
#else
extern FILE *stdout __attribute__((visibility("default")));
extern FILE *stderr __attribute__((visibility("default")));
extern FILE *stdin __attribute__((visibility("default")));
#endif

int oiu_file_is_std_output(void *f) {
  if (!f)
    return 0;
  return f == (void *)stdout ? 1 : f == (void *)stderr ? 2 : 0;
}

/* The open stream f names, or NULL (EBADF): only pool addresses are read. */
static struct oiu_file *file_of(void *f) {
  if (!f)
    return NULL;
#if !OIU_GPU
  if (f == (void *)stdin)
    return &oiu_files[0];
  if (f == (void *)stdout)
    return &oiu_files[1];
  if (f == (void *)stderr)
    return &oiu_files[2];
#endif
  uintptr_t p = (uintptr_t)f, base = (uintptr_t)oiu_files;
  if (p < base || p >= base + sizeof oiu_files || (p - base) % sizeof(struct oiu_file))
    return NULL;
  struct oiu_file *x = (struct oiu_file *)f;
  return __scoped_atomic_load_n(&x->magic, __ATOMIC_ACQUIRE, OIU_DEV) == OIU_FILE_MAGIC ? x : NULL;
}

/* The open stream behind a FILE * and the channel, or NULL with errno EBADF. */
static struct oiu_file *usable(void *stream, const struct oiu_channel **ch) {
  struct oiu_file *f = file_of(stream);
  *ch = oiu_channel();
  if (f && *ch)
    return f;
  oiu_set_errno(OIU_EBADF);
  return NULL;
}

/*
 * Runs STMT holding f's lock, inside the loop that tries it (GPU-safe: a
 * holder is never parked while a lane of its wavefront spins for the lock).
 */
#define WITH_FILE_LOCK(f, STMT)                                                               \
  for (uint32_t round_ = 0, done_ = 0; !done_;) {                                           \
    /* Pairs with the release below: the previous call on f is complete. */                 \
    if (oiu_cas_acquire(&(f)->lock, 0, 1)) {                                                \
      STMT;                                                                                 \
      oiu_store_release(&(f)->lock, 0, 0);                                                  \
      done_ = 1;                                                                            \
    } else {                                                                                \
      oiu_pause(round_ < 20 ? round_++ : round_);                                           \
    }                                                                                       \
  }

/* ---- the stream's buffer and descriptor ---- */

static char *buf_of(const struct oiu_channel *ch, const struct oiu_file *f) {
  return OIU_SHARED(ch, ch->fbufs_off, char) + (uint64_t)f->index * ch->fbuf_size;
}
static int32_t cell_of(const struct oiu_channel *ch, const struct oiu_file *f) {
  return (int32_t)oiu_fbuf_cell(ch, f->index);
}

/* Sets the error indicator and errno from a negative result. */
static void set_error(struct oiu_file *f, long long r) {
  f->flags |= F_ERR;
  oiu_set_errno(r < 0 ? (int)-r : OIU_EIO);
}

/* glibc's _IO_file_doallocate: st_blksize bytes (BUFSIZ without one); ttys are line-buffered. */
static void choose_size(const struct oiu_channel *ch, struct oiu_file *f) {
  if (f->flags & F_SIZED)
    return;
  struct oiu_stat_brief x;
  uint32_t size = 8192;
  if (oiu_fd_stat_brief(ch, f->fd, &x) >= 0) {
    if (x.blksize > 0)
      size = x.blksize;
    /* Character devices of the tty majors (glibc: DEV_TTY_P, then isatty). */
    uint32_t major = x.rdev_major;
    if ((x.mode & 0170000) == 0020000 && (major == 4 || major == 5 || (major >= 136 && major <= 143)) &&
        !(f->flags & (F_UNBUF | F_STD)))
      f->flags |= F_LINEBUF;
  }
  f->bufsize = size < ch->fbuf_size ? size : ch->fbuf_size;
  f->flags |= F_SIZED;
}

/* Writes buf[0, wlen); the buffer is empty afterwards either way (glibc: new_do_write). */
static int flush_out(const struct oiu_channel *ch, struct oiu_file *f) {
  uint32_t n = f->wlen;
  f->wlen = 0;
  if (!n)
    return 0;
  long long r = oiu_fd_write(ch, f->fd, buf_of(ch, f), n, cell_of(ch, f));
  if (r == (long long)n)
    return 0;
  set_error(f, r < 0 ? r : -OIU_EIO);
  return EOF;
}

/* Unread input goes back to the file (glibc: the seek in new_do_write and _IO_file_sync). */
static int64_t unread_back(const struct oiu_channel *ch, struct oiu_file *f) {
  int64_t r = 0;
  if ((f->flags & F_READING) && f->rend > f->rpos)
    r = oiu_fd_lseek(ch, f->fd, -(int64_t)(f->rend - f->rpos), OIU_SEEK_CUR, NULL);
  f->rpos = f->rend = 0;
  f->flags &= ~F_READING;
  return r;
}

/* glibc's _IO_OVERFLOW(f, EOF): into put mode, and write what is pending. */
static int overflow(const struct oiu_channel *ch, struct oiu_file *f) {
  if (!(f->flags & F_WRITE)) {
    set_error(f, -OIU_EBADF);
    return EOF;
  }
  choose_size(ch, f);
  if (!(f->flags & F_WRITING)) {
    unread_back(ch, f);
    f->flags |= F_WRITING;
    f->wlen = 0;
  }
  return flush_out(ch, f);
}

/* glibc's underflow: refills the buffer; EOF at end of file (sticky) or on error. */
static int underflow(const struct oiu_channel *ch, struct oiu_file *f) {
  if (!(f->flags & F_READ)) {
    set_error(f, -OIU_EBADF);
    return EOF;
  }
  if (f->flags & F_EOF)
    return EOF;
  choose_size(ch, f);
  if (f->flags & F_WRITING) {
    f->flags &= ~F_WRITING;
    if (flush_out(ch, f))
      return EOF;
  }
  f->flags &= ~F_READING;
  f->rpos = f->rend = 0;
  long long r = oiu_fd_read(ch, f->fd, buf_of(ch, f), f->bufsize, cell_of(ch, f));
  if (r <= 0) {
    if (r == 0)
      f->flags |= F_EOF;
    else
      set_error(f, r);
    return EOF;
  }
  f->rend = (uint32_t)r;
  f->flags |= F_READING;
  /* Pairs with the kernel's write of the buffer, which its CQE (acquired at
   * system scope by the reaper) says is complete. Once per refill, not per
   * byte: later readers of these bytes come after us through f's lock. */
  __scoped_atomic_thread_fence(__ATOMIC_ACQUIRE, OIU_SYS);
  return 0;
}

static uint32_t space_of(const struct oiu_file *f) {
  return (f->flags & F_WRITING) ? f->bufsize - f->wlen : 0;
}

/* Copies into the buffer (in put mode, with space). */
static void put_bytes(const struct oiu_channel *ch, struct oiu_file *f, const char *s, uint32_t n) {
  oiu_copy_to_stage(buf_of(ch, f) + f->wlen, s, n);
  f->wlen += n;
}

/* glibc's _IO_default_xsputn after an overflow: buffered, flushing when full (or at '\n'). */
static uint64_t put_rest(const struct oiu_channel *ch, struct oiu_file *f, const char *s,
                         uint64_t n) {
  uint64_t done = 0;
  while (done < n) {
    uint32_t space = space_of(f);
    if (space == 0) {
      if (overflow(ch, f))
        break;
      continue;
    }
    uint64_t k = n - done < space ? n - done : space;
    int newline = 0;
    if (f->flags & F_LINEBUF)
      for (uint64_t i = 0; i < k; i++)
        if (s[done + i] == '\n') {
          k = i + 1, newline = 1;
          break;
        }
    put_bytes(ch, f, s + done, (uint32_t)k);
    done += k;
    if (newline && flush_out(ch, f))
      return done - 1; /* glibc does not count the newline whose flush failed */
  }
  return done;
}

/* glibc's _IO_new_file_xsputn: bytes taken, or EOF (all taken, the flush failed). */
static long long xsputn(const struct oiu_channel *ch, struct oiu_file *f, const char *s,
                        uint64_t n) {
  uint64_t to_do = n, count = 0;
  int must_flush = 0;
  if ((f->flags & (F_LINEBUF | F_WRITING)) == (F_LINEBUF | F_WRITING)) {
    count = f->bufsize - f->wlen;
    if (count >= n)
      for (uint64_t i = n; i > 0; i--)
        if (s[i - 1] == '\n') {
          count = i, must_flush = 1;
          break;
        }
  } else if (!(f->flags & (F_LINEBUF | F_UNBUF))) {
    count = space_of(f);
  }
  if (count > 0) {
    if (count > to_do)
      count = to_do;
    put_bytes(ch, f, s, (uint32_t)count);
    s += count;
    to_do -= count;
  }
  if (to_do + (uint64_t)must_flush == 0)
    return (long long)n;
  if (overflow(ch, f))
    return to_do == 0 ? EOF : (long long)(n - to_do);
  uint64_t block = (f->flags & F_UNBUF) ? 1 : f->bufsize;
  uint64_t direct = to_do - (block >= 128 ? to_do % block : 0);
  if (direct) {
    long long r = oiu_fd_write(ch, f->fd, s, direct, -1);
    uint64_t w = r > 0 ? (uint64_t)r : 0;
    to_do -= w;
    if (w < direct) {
      set_error(f, r < 0 ? r : -OIU_EIO);
      return (long long)(n - to_do);
    }
  }
  if (to_do)
    to_do -= put_rest(ch, f, s + direct, to_do);
  return (long long)(n - to_do);
}

/* glibc's _IO_file_xsgetn: bytes read into s. */
static uint64_t xsgetn(const struct oiu_channel *ch, struct oiu_file *f, char *s, uint64_t n) {
  uint64_t want = n;
  if (f->flags & F_READ)
    choose_size(ch, f);
  while (want > 0) {
    uint64_t have = (f->flags & F_READING) ? f->rend - f->rpos : 0;
    if (want <= have) {
      oiu_copy_from_stage(s, buf_of(ch, f) + f->rpos, want);
      f->rpos += (uint32_t)want;
      want = 0;
      break;
    }
    if (have) {
      oiu_copy_from_stage(s, buf_of(ch, f) + f->rpos, have);
      s += have;
      want -= have;
      f->rpos += (uint32_t)have;
    }
    if (!(f->flags & F_READ) || want < f->bufsize) {
      if (underflow(ch, f))
        break;
      continue;
    }
    /* Whole buffers straight into the caller's memory. */
    if (f->flags & F_WRITING) {
      f->flags &= ~F_WRITING;
      if (flush_out(ch, f))
        break;
    }
    f->flags &= ~F_READING;
    f->rpos = f->rend = 0;
    uint64_t count = want - (f->bufsize >= 128 ? want % f->bufsize : 0);
    long long r = oiu_fd_read(ch, f->fd, s, count, -1);
    if (r <= 0) {
      if (r == 0)
        f->flags |= F_EOF;
      else
        set_error(f, r);
      break;
    }
    s += r;
    want -= (uint64_t)r;
  }
  return n - want;
}

/* ---- opening and closing ---- */

/* glibc's mode string: r w a, then + x b m c e among the next characters, up to ','. */
static int parse_mode(const char *mode, int *oflags, uint32_t *fflags) {
  int acc, fl = 0;
  uint32_t ff = 0;
  switch (mode[0]) {
  case 'r':
    acc = OIU_O_RDONLY, ff = F_READ;
    break;
  case 'w':
    acc = OIU_O_WRONLY, fl = OIU_O_CREAT | OIU_O_TRUNC, ff = F_WRITE;
    break;
  case 'a':
    acc = OIU_O_WRONLY, fl = OIU_O_CREAT | OIU_O_APPEND, ff = F_WRITE | F_APPEND;
    break;
  default:
    return -OIU_EINVAL;
  }
  for (int i = 1; i < 7 && mode[i] && mode[i] != ','; i++) {
    if (mode[i] == '+')
      acc = OIU_O_RDWR, ff |= F_READ | F_WRITE;
    else if (mode[i] == 'x')
      fl |= OIU_O_EXCL;
    else if (mode[i] == 'e')
      fl |= OIU_O_CLOEXEC;
  }
  *oflags = acc | fl;
  *fflags = ff;
  return 0;
}

/* Takes a free pool entry (EMFILE when none). */
static struct oiu_file *take_entry(void) {
  static uint32_t hint;
  uint32_t start = __scoped_atomic_fetch_add(&hint, 1u, __ATOMIC_RELAXED, OIU_DEV);
  for (uint32_t i = 0; i < OIU_MAX_FILES - 3; i++) {
    struct oiu_file *f = &oiu_files[3 + (start + i) % (OIU_MAX_FILES - 3)];
    /* Pairs with the release in give_entry: the last user is done with it. */
    if (oiu_cas_acquire(&f->magic, 0, OIU_FILE_OPENING))
      return f;
  }
  return NULL;
}

static void give_entry(struct oiu_file *f) {
  oiu_store_release(&f->magic, 0, 0); /* pairs with take_entry's CAS */
}

/* Makes entry f an open stream on fd. */
static FILE *publish(struct oiu_file *f, int fd, uint32_t flags) {
  f->fd = fd;
  f->flags = flags;
  f->bufsize = f->rpos = f->rend = f->wlen = 0;
  f->index = (uint32_t)(f - oiu_files);
  /* Pairs with file_of's acquire: the fields are set. */
  oiu_store_release(&f->magic, OIU_FILE_MAGIC, 0);
  return (FILE *)f;
}

FILE *fopen(const char *restrict path, const char *restrict mode) {
  const struct oiu_channel *ch = oiu_channel();
  int oflags;
  uint32_t fflags;
  int r = ch ? parse_mode(mode, &oflags, &fflags) : -OIU_ENOSYS;
  struct oiu_file *f = r < 0 ? NULL : take_entry();
  if (r == 0 && !f)
    r = -OIU_EMFILE;
  if (r == 0)
    r = oiu_fd_open(ch, path, oflags, 0666);
  if (r >= 0 && (fflags & (F_APPEND | F_READ)) == F_APPEND) {
    /* glibc starts "a" streams at the end, for ftell. */
    int64_t e = oiu_fd_lseek(ch, r, 0, OIU_SEEK_END, NULL);
    if (e < 0 && e != -OIU_ESPIPE) {
      oiu_fd_close(ch, r);
      r = (int)e;
    }
  }
  if (r < 0) {
    if (f)
      give_entry(f);
    oiu_set_errno(-r);
    return NULL;
  }
  return publish(f, r, fflags);
}

/* A descriptor from the host (or from open) as a stream: the mode must fit its access mode. */
FILE *fdopen(int fd, const char *mode) {
  const struct oiu_channel *ch = oiu_channel();
  int oflags;
  uint32_t fflags;
  int64_t fl = 0, r = ch ? parse_mode(mode, &oflags, &fflags) : -OIU_ENOSYS;
  if (r == 0) {
    r = oiu_fd_lseek(ch, fd, 0, OIU_SEEK_CUR, &fl);
    if (r == -OIU_ESPIPE)
      r = 0;
  }
  if (r >= 0) {
    int acc = (int)fl & OIU_O_ACCMODE;
    if (((fflags & F_READ) && acc == OIU_O_WRONLY) || ((fflags & F_WRITE) && acc == OIU_O_RDONLY))
      r = -OIU_EINVAL;
  }
  /* glibc: "a" on a descriptor without O_APPEND adds it. */
  if (r >= 0 && (fflags & F_APPEND) && !(fl & OIU_O_APPEND)) {
    struct oiu_hostcall_args a = {.fd = fd, .arg = fl | OIU_O_APPEND};
    r = oiu_hostcall(ch, OIU_HOSTCALL_SETFL, &a, NULL);
  }
  struct oiu_file *f = r < 0 ? NULL : take_entry();
  if (r >= 0 && !f)
    r = -OIU_EMFILE;
  if (r < 0) {
    oiu_set_errno((int)-r);
    return NULL;
  }
  return publish(f, fd, fflags);
}

FILE *fopen64(const char *restrict path, const char *restrict mode) { return fopen(path, mode); }

int fclose(FILE *stream) {
  const struct oiu_channel *ch;
  struct oiu_file *f = usable(stream, &ch);
  if (!f)
    return EOF;
  if (f->flags & F_STD) /* the host owns descriptors 0-2: flushed, left open */
    return fflush(stream);
  int r = 0;
  WITH_FILE_LOCK(f, {
    if (f->flags & F_WRITING)
      r = flush_out(ch, f);
    int c = oiu_fd_close(ch, f->fd);
    if (c < 0 && r == 0) {
      oiu_set_errno(-c);
      r = EOF;
    }
    /* Closed while locked: a later call sees no stream (EBADF). */
    __scoped_atomic_store_n(&f->magic, OIU_FILE_OPENING, __ATOMIC_RELAXED, OIU_DEV);
  });
  give_entry(f);
  return r;
}

/* ---- reading ---- */

/* size * n, saturated: more than any transfer can move, so it stops short. */
static size_t request_bytes(size_t size, size_t n) {
  size_t bytes;
  return __builtin_mul_overflow(size, n, &bytes) ? (size_t)-1 : bytes;
}

size_t fread(void *restrict p, size_t size, size_t n, FILE *restrict stream) {
  size_t bytes = request_bytes(size, n);
  if (bytes == 0)
    return 0;
  const struct oiu_channel *ch;
  struct oiu_file *f = usable(stream, &ch);
  if (!f)
    return 0;
  uint64_t got = 0;
  WITH_FILE_LOCK(f, got = xsgetn(ch, f, (char *)p, bytes));
  return got == bytes ? n : got / size;
}

static int getc_locked(const struct oiu_channel *ch, struct oiu_file *f) {
  if (!(f->flags & F_READING) || f->rpos == f->rend) {
    if (underflow(ch, f))
      return EOF;
  }
  return (unsigned char)((volatile char *)buf_of(ch, f))[f->rpos++];
}

int fgetc(FILE *stream) {
  const struct oiu_channel *ch;
  struct oiu_file *f = usable(stream, &ch);
  if (!f)
    return EOF;
  int c = EOF;
  WITH_FILE_LOCK(f, c = getc_locked(ch, f));
  return c;
}

int getc(FILE *stream) { return fgetc(stream); }
int getchar(void) { return fgetc(stdin); }

/* glibc's _IO_getline with the newline kept; bytes stored. */
static uint64_t getline_locked(const struct oiu_channel *ch, struct oiu_file *f, char *s,
                               uint64_t n) {
  uint64_t got = 0;
  while (got < n) {
    if (!(f->flags & F_READING) || f->rpos == f->rend) {
      if (underflow(ch, f))
        break;
    }
    const volatile char *b = buf_of(ch, f);
    uint32_t end = f->rend;
    if (end - f->rpos > n - got)
      end = f->rpos + (uint32_t)(n - got);
    for (uint32_t i = f->rpos; i < end; i++) {
      char c = b[i];
      s[got++] = c;
      if (c == '\n') {
        f->rpos = i + 1;
        return got;
      }
    }
    f->rpos = end;
  }
  return got;
}

char *fgets(char *restrict s, int n, FILE *restrict stream) {
  if (n <= 0)
    return NULL;
  if (n == 1) {
    s[0] = '\0';
    return s;
  }
  const struct oiu_channel *ch;
  struct oiu_file *f = usable(stream, &ch);
  if (!f)
    return NULL;
  char *result = NULL;
  WITH_FILE_LOCK(f, {
    uint32_t old_error = f->flags & F_ERR;
    f->flags &= ~F_ERR;
    uint64_t count = getline_locked(ch, f, s, (uint64_t)n - 1);
    if (count > 0 && !(f->flags & F_ERR)) {
      s[count] = '\0';
      result = s;
    }
    f->flags |= old_error;
  });
  return result;
}

/* ---- writing: device streams (stdio.c keeps stdout and stderr) ---- */

size_t oiu_file_write(void *stream, const void *p, size_t size, size_t n) {
  size_t bytes = request_bytes(size, n);
  if (bytes == 0)
    return 0;
  const struct oiu_channel *ch;
  struct oiu_file *f = usable(stream, &ch);
  if (!f)
    return 0;
  long long w = 0;
  WITH_FILE_LOCK(f, w = xsputn(ch, f, (const char *)p, bytes));
  return w == EOF || (uint64_t)w == bytes ? n : (size_t)w / size;
}

/* One byte (glibc: _IO_putc_unlocked / __overflow). */
int oiu_file_putc(void *stream, int c) {
  const struct oiu_channel *ch;
  struct oiu_file *f = usable(stream, &ch);
  if (!f)
    return EOF;
  unsigned char b = (unsigned char)c;
  int r = b;
  WITH_FILE_LOCK(f, {
    if (space_of(f) == 0 || (f->flags & (F_UNBUF | F_LINEBUF))) {
      if (space_of(f) == 0 && overflow(ch, f))
        r = EOF;
      if (r != EOF) {
        put_bytes(ch, f, (const char *)&b, 1);
        if (((f->flags & F_UNBUF) || ((f->flags & F_LINEBUF) && b == '\n')) && flush_out(ch, f))
          r = EOF;
      }
    } else {
      put_bytes(ch, f, (const char *)&b, 1);
    }
  });
  return r;
}

/* fprintf into the stream's buffer: the formatter's sink flushes it when full. */
struct file_sink {
  oiu_sink sink; /* first: the flush callback gets &sink */
  const struct oiu_channel *ch;
  struct oiu_file *f;
};

int oiu_file_sink_flush(oiu_sink *s) {
  struct file_sink *fs = (struct file_sink *)s;
  fs->f->wlen = (uint32_t)s->len;
  int r = flush_out(fs->ch, fs->f);
  s->len = 0;
  return r ? -OIU_EIO : 0;
}

int oiu_file_vprintf(void *stream, const char *fmt, va_list ap) {
  const struct oiu_channel *ch;
  struct oiu_file *f = usable(stream, &ch);
  if (!f)
    return -1;
  int n = -1;
  WITH_FILE_LOCK(f, {
    /* glibc checks writability first (EBADF), then writes what is pending into put mode. */
    if (space_of(f) != 0 || overflow(ch, f) == 0) {
      struct file_sink fs;
      fs.ch = ch;
      fs.f = f;
      fs.sink.buf = buf_of(ch, f);
      fs.sink.cap = f->bufsize;
      fs.sink.len = f->wlen;
      fs.sink.total = 0;
      fs.sink.flush = oiu_file_sink_flush;
      fs.sink.err = 0;
      uint32_t from = f->wlen;
      n = oiu_vformat(&fs.sink, fmt, ap);
      f->wlen = (uint32_t)fs.sink.len;
      int newline = 0;
      if (f->flags & F_LINEBUF) {
        const char *b = buf_of(ch, f);
        for (uint32_t i = from < f->wlen ? from : 0; i < f->wlen && !newline; i++)
          newline = b[i] == '\n';
      }
      if (n >= 0 && ((f->flags & F_UNBUF) || newline) && flush_out(ch, f))
        n = -1;
      if (n < 0 && !(f->flags & F_ERR))
        oiu_set_errno(n == -1 ? OIU_EIO : -n);
      if (n < 0)
        n = -1;
    }
  });
  return n;
}

/* ---- flushing, positions, state ---- */

static int flush_locked(const struct oiu_channel *ch, struct oiu_file *f) {
  if (f->flags & F_WRITING)
    return flush_out(ch, f);
  if (f->flags & F_READING) {
    int64_t r = unread_back(ch, f);
    if (r < 0 && r != -OIU_ESPIPE) {
      oiu_set_errno((int)-r);
      return EOF;
    }
  }
  return 0;
}

int oiu_file_flush(void *stream) {
  const struct oiu_channel *ch;
  struct oiu_file *f = usable(stream, &ch);
  if (!f)
    return EOF;
  int r = 0;
  WITH_FILE_LOCK(f, r = flush_locked(ch, f));
  return r;
}

/* fflush(NULL): every device stream with output pending (stdio.c flushes stdout/stderr). */
int oiu_file_flush_all(void) {
  const struct oiu_channel *ch = oiu_channel();
  int r = 0;
  for (uint32_t i = 3; ch && i < OIU_MAX_FILES; i++) {
    struct oiu_file *f = file_of(&oiu_files[i]);
    if (f)
      WITH_FILE_LOCK(f, {
        if ((f->flags & F_WRITING) && flush_out(ch, f))
          r = EOF;
      });
  }
  return r;
}

/* glibc's seekoff for fseek: writes out, adjusts SEEK_CUR for unread input, seeks, clears EOF. */
static int seek_locked(const struct oiu_channel *ch, struct oiu_file *f, int64_t off, int whence) {
  if (f->flags & F_WRITING) {
    f->flags &= ~F_WRITING;
    if (flush_out(ch, f))
      return -1;
  }
  if (whence == OIU_SEEK_CUR && (f->flags & F_READING))
    off -= (int64_t)(f->rend - f->rpos);
  int64_t r = oiu_fd_lseek(ch, f->fd, off, whence, NULL);
  if (r < 0) {
    oiu_set_errno((int)-r);
    return -1;
  }
  f->flags &= ~(F_EOF | F_READING);
  f->rpos = f->rend = 0;
  return 0;
}

int fseeko(FILE *stream, off_t off, int whence) {
  const struct oiu_channel *ch;
  struct oiu_file *f = usable(stream, &ch);
  if (!f)
    return -1;
  int r = -1;
  WITH_FILE_LOCK(f, r = seek_locked(ch, f, off, whence));
  return r;
}

int fseek(FILE *stream, long off, int whence) { return fseeko(stream, off, whence); }

/* glibc's do_ftell: the descriptor's position, plus buffered output, minus unread input. */
static int64_t tell_locked(const struct oiu_channel *ch, struct oiu_file *f) {
  int unflushed = (f->flags & F_WRITING) && f->wlen;
  int64_t adjust = 0;
  if (unflushed)
    adjust = f->wlen;
  else if (f->flags & F_READING)
    adjust = -(int64_t)(f->rend - f->rpos);
  int64_t r = oiu_fd_lseek(ch, f->fd, 0, unflushed && (f->flags & F_APPEND) ? OIU_SEEK_END : OIU_SEEK_CUR,
                           NULL);
  if (r < 0) {
    oiu_set_errno((int)-r);
    return -1;
  }
  r += adjust;
  if (r < 0) {
    oiu_set_errno(OIU_EINVAL);
    return -1;
  }
  return r;
}

off_t ftello(FILE *stream) {
  const struct oiu_channel *ch;
  struct oiu_file *f = usable(stream, &ch);
  if (!f)
    return -1;
  int64_t r = -1;
  WITH_FILE_LOCK(f, r = tell_locked(ch, f));
  return (off_t)r;
}

long ftell(FILE *stream) { return (long)ftello(stream); }

void rewind(FILE *stream) {
  struct oiu_file *f = file_of(stream);
  const struct oiu_channel *ch = oiu_channel();
  if (!f || !ch)
    return;
  WITH_FILE_LOCK(f, {
    seek_locked(ch, f, 0, OIU_SEEK_SET);
    f->flags &= ~(F_ERR | F_EOF);
  });
}

/* The indicators. A pointer that is no open stream reads as "in error", never at EOF. */
int feof(FILE *stream) {
  struct oiu_file *f = file_of(stream);
  return f ? (__scoped_atomic_load_n(&f->flags, __ATOMIC_RELAXED, OIU_DEV) & F_EOF) != 0 : 0;
}

int ferror(FILE *stream) {
  struct oiu_file *f = file_of(stream);
  return f ? (__scoped_atomic_load_n(&f->flags, __ATOMIC_RELAXED, OIU_DEV) & F_ERR) != 0 : 1;
}

void clearerr(FILE *stream) {
  struct oiu_file *f = file_of(stream);
  if (f)
    WITH_FILE_LOCK(f, f->flags &= ~(F_ERR | F_EOF));
}

/* stdio.c's stdout/stderr paths report failures here, so ferror sees them. */
void oiu_file_set_error(int fd) {
  if (fd >= 0 && fd < 3)
    __scoped_atomic_fetch_or(&oiu_files[fd].flags, (uint32_t)F_ERR, __ATOMIC_RELAXED, OIU_DEV);
}

int fileno(FILE *stream) {
  struct oiu_file *f = file_of(stream);
  if (!f) {
    oiu_set_errno(OIU_EBADF);
    return -1;
  }
  return f->fd;
}

/* Before the stream's first I/O (C): the size of buf sets the buffer's, not its memory. */
int oiu_file_setvbuf(void *stream, char *buf, int mode, size_t size) {
  const struct oiu_channel *ch;
  struct oiu_file *f = usable(stream, &ch);
  if (!f)
    return EOF;
  if (mode != _IONBF && mode != _IOLBF && mode != _IOFBF) {
    oiu_set_errno(OIU_EINVAL);
    return EOF;
  }
  WITH_FILE_LOCK(f, {
    f->flags &= ~(F_UNBUF | F_LINEBUF);
    f->flags |= mode == _IONBF ? F_UNBUF : mode == _IOLBF ? F_LINEBUF : 0;
    if (mode != _IONBF && buf && size) {
      f->bufsize = size < ch->fbuf_size ? (uint32_t)size : ch->fbuf_size;
      f->flags |= F_SIZED;
    } else if (mode == _IOFBF) {
      choose_size(ch, f);
      f->flags &= ~F_LINEBUF; /* glibc: explicitly fully buffered, even on a tty */
    }
  });
  return 0;
}

OIU_DEVICE_END
