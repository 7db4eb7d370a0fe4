/* SPDX-License-Identifier: MIT */
/*
 * The C stdio calls of target regions: printf and friends on stdout/stderr
 * and snprintf. Each call's text reaches the kernel as one unit, written from
 * the caller's staging slot; text longer than a slot goes out in slot-sized
 * pieces, in order. Calls on any other stream (stdin, fopen/fdopen streams)
 * go to file.c.
 *
 * printf itself is defined on every target (see the note above printf on
 * why vprintf is not overridden on GPUs).
 */
/* First: on GPUs, vprintf/vfprintf below are defined as __oiu_vprintf/__oiu_vfprintf. */
#include "omp_iouring/device_names.h"

#include <stdarg.h>
#include <stdio.h>

#include "format.h"
#include "io.h"

OIU_DEVICE_BEGIN

#if !OIU_GPU
/* glibc's pointers; default visibility, or the image could not link to them. */
extern FILE *stdout __attribute__((visibility("default")));
#endif

/* 1 for stdout, 2 for stderr (file.c defines the standard streams), 0 for any other stream. */
static int std_out(FILE *f) { return oiu_file_is_std_output(f); }

/* One message on its way to a descriptor: a slot, and the sink that fills it. */
struct message {
  oiu_sink sink; /* first: the flush callback gets &sink */
  const struct oiu_channel *ch;
  struct oiu_slot_ref ref;
  int fd;
};

int oiu_ring_sink_flush(oiu_sink *s);

/* The sink's flush (format.c calls it directly on GPUs, where the stream ring's
 * sink comes here too: a comparison, not an indirect call). */
int oiu_message_flush(oiu_sink *s) {
  if (s->flush == oiu_ring_sink_flush)
    return oiu_ring_sink_flush(s);
  if (s->flush == oiu_file_sink_flush)
    return oiu_file_sink_flush(s);
  struct message *m = (struct message *)s;
  int r = oiu_write_slot(m->ch, m->ref.slot, m->fd, (uint32_t)s->len);
  s->len = 0;
  return r;
}

static void message_begin(struct message *m, const struct oiu_channel *ch, int fd) {
  m->ch = ch;
  m->fd = fd;
  oiu_slot_acquire(m->ch, &m->ref);
  m->sink = (oiu_sink){.buf = oiu_slot_data(m->ch, m->ref.slot),
                       .cap = m->ch->slot_size,
                       .flush = oiu_message_flush};
}

/* Writes what is left in the slot and gives it back; 0 or -errno. */
static int message_end(struct message *m) {
  int r = m->sink.err;
  if (r == 0 && m->sink.len)
    r = oiu_message_flush(&m->sink);
  oiu_slot_release(m->ch, &m->ref);
  return r;
}

static void message_put(struct message *m, const char *p, size_t n) {
  while (n && m->sink.err == 0) {
    size_t room = m->sink.cap - m->sink.len;
    if (room == 0) {
      /* A direct call: through the sink's pointer the call graph (and on
       * NVIDIA the stack size) could not be determined statically. */
      int r = oiu_message_flush(&m->sink);
      if (r < 0)
        m->sink.err = r;
      continue;
    }
    size_t k = n < room ? n : room;
    __builtin_memcpy(m->sink.buf + m->sink.len, p, k);
    m->sink.len += k;
    m->sink.total += k;
    p += k;
    n -= k;
  }
}

/* Bytes plus an optional trailing newline. */
static void message_put_line(struct message *m, const char *p, size_t n, int newline) {
  message_put(m, p, n);
  if (newline)
    message_put(m, "\n", 1);
}

/* The channel, when fd is a descriptor device code may write (NULL: the host never published one). */
static const struct oiu_channel *channel_for(int fd) { return fd < 0 ? NULL : oiu_channel(); }

/* A failed call on stdout/stderr: errno, and the stream's error indicator (glibc sets both). */
static int std_failed(int fd, int err) {
  oiu_set_errno(err < 0 ? -err : OIU_EIO);
  oiu_file_set_error(fd);
  return -1;
}

/* vfprintf on a descriptor: the count of bytes, or -1. */
static int fd_vprintf(int fd, const char *fmt, va_list ap) {
  const struct oiu_channel *ch = channel_for(fd);
  if (!ch)
    return std_failed(fd, -OIU_ENOSYS);
  if (oiu_stream_mode(ch, fd) != OIU_UNBUFFERED) {
    int n = oiu_stream_vprintf(ch, fd, fmt, ap);
    return n < 0 ? std_failed(fd, -OIU_EOVERFLOW) : n;
  }
  struct message m;
  oiu_prof(OIU_PROF_CALLER);
  message_begin(&m, ch, fd);
  oiu_prof(OIU_PROF_SLOT);
  /* First pass: fill the slot and count the rest, writing nothing. */
  va_list aq;
  va_copy(aq, ap);
  m.sink.flush = 0;
  int n = oiu_vformat(&m.sink, fmt, aq);
  va_end(aq);
  /* Longer than a slot: nothing of it is written from this slot. Counting
   * first means a call that fails (n < 0) writes nothing at all, as a
   * buffered one does, not the pieces before the failing conversion. */
  int long_text = n >= 0 && (size_t)n > m.sink.cap;
  if (long_text)
    m.sink.len = 0;
  if (n < 0 && m.sink.err == 0)
    m.sink.err = n;
  /* The slot goes back here, so the group is free as soon as the lanes with
   * short text are done. */
  int r = message_end(&m);
  oiu_prof(OIU_PROF_RETURN);
  if (long_text) {
    /* Produced again in a group of the long callers alone and written in
     * slot-sized pieces: no lane with short text waits for them. */
    message_begin(&m, ch, fd);
    n = oiu_vformat(&m.sink, fmt, ap);
    if (n < 0 && m.sink.err == 0)
      m.sink.err = n;
    r = message_end(&m);
  }
  return r < 0 ? std_failed(fd, r) : n;
}

/* Raw bytes, with an optional trailing newline, as one unit. */
static int fd_write(int fd, const void *p, size_t n, int newline) {
  const struct oiu_channel *ch = channel_for(fd);
  if (!ch)
    return std_failed(fd, -OIU_ENOSYS);
  if (oiu_stream_mode(ch, fd) != OIU_UNBUFFERED)
    return oiu_stream_write(ch, fd, p, n, newline);
  /* Text longer than a slot goes from a group of the long callers alone, in
   * slot-sized pieces, after the group taken with the others is given back
   * (as in fd_vprintf). */
  int long_text = n + (newline ? 1 : 0) > ch->slot_size;
  struct message m;
  message_begin(&m, ch, fd);
  if (!long_text)
    message_put_line(&m, (const char *)p, n, newline);
  /* Given back before the long text goes (see fd_vprintf). */
  int r = message_end(&m);
  if (long_text) {
    message_begin(&m, ch, fd);
    message_put_line(&m, (const char *)p, n, newline);
    r = message_end(&m);
  }
  return r < 0 ? std_failed(fd, r) : 0;
}

static size_t str_len(const char *s) {
  size_t n = 0;
  while (s[n])
    n++;
  return n;
}

int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap) {
  int fd = std_out(f);
  return fd ? fd_vprintf(fd, fmt, ap) : oiu_file_vprintf(f, fmt, ap);
}

int fprintf(FILE *restrict f, const char *restrict fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int fd = std_out(f);
  int n = fd ? fd_vprintf(fd, fmt, ap) : oiu_file_vprintf(f, fmt, ap);
  va_end(ap);
  return n;
}

/*
 * printf is an ordinary variadic function on every target. On NVPTX clang
 * would lower a builtin printf to vprintf(fmt, packed args), and ptxas
 * compiles a call to vprintf (or vfprintf) as a CUDA system call, whose
 * convention a library function cannot honour (see device_names.h). Programs
 * are compiled with -fno-builtin-printf (pkg-config and the CMake package add
 * it) so printf stays a call to this function; their vprintf and vfprintf
 * calls reach the two functions below under the names device_names.h gives.
 */
int printf(const char *restrict fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = fd_vprintf(1, fmt, ap);
  va_end(ap);
  return n;
}

int vprintf(const char *restrict fmt, va_list ap) { return fd_vprintf(1, fmt, ap); }

/* glibc's puts returns the bytes written (capped at INT_MAX), fputs returns 1. */
int puts(const char *s) {
  size_t n = str_len(s);
  if (fd_write(1, s, n, 1) < 0)
    return EOF;
  return n < 0x7fffffff ? (int)n + 1 : 0x7fffffff;
}

int fputs(const char *restrict s, FILE *restrict f) {
  int fd = std_out(f);
  size_t n = str_len(s);
  if (fd)
    return fd_write(fd, s, n, 0) < 0 ? EOF : 1;
  return n == 0 || oiu_file_write(f, s, 1, n) == n ? 1 : EOF;
}

int fputc(int c, FILE *f) {
  int fd = std_out(f);
  unsigned char b = (unsigned char)c;
  if (!fd)
    return oiu_file_putc(f, c);
  return fd_write(fd, &b, 1, 0) < 0 ? EOF : b;
}

int putc(int c, FILE *f) { return fputc(c, f); }
int putchar(int c) { return fputc(c, stdout); }

size_t fwrite(const void *restrict p, size_t size, size_t n, FILE *restrict f) {
  if (size == 0 || n == 0)
    return 0;
  int fd = std_out(f);
  if (!fd)
    return oiu_file_write(f, p, size, n);
  if (n > (size_t)-1 / size)
    return 0;
  return fd_write(fd, p, size * n, 0) < 0 ? 0 : n;
}

/* Unbuffered text is already written; buffered text is written before fflush returns. */
static int fd_flush(int fd) {
  const struct oiu_channel *ch = channel_for(fd);
  if (!ch || oiu_stream_mode(ch, fd) == OIU_UNBUFFERED)
    return 0;
  int err = oiu_stream_flush(ch, fd);
  if (err < 0) {
    std_failed(fd, err);
    return EOF;
  }
  return 0;
}

int fflush(FILE *f) {
  int fd = std_out(f);
  if (fd)
    return fd_flush(fd);
  if (f)
    return oiu_file_flush(f);
  int r1 = fd_flush(1), r2 = fd_flush(2), r3 = oiu_file_flush_all(); /* NULL: every output stream */
  return r1 || r2 || r3 ? EOF : 0;
}

/* The buffer argument is ignored: the stream ring (or the FILE's buffer in the shared region) is the buffer. */
int setvbuf(FILE *restrict f, char *restrict buf, int mode, size_t size) {
  int fd = std_out(f);
  if (!fd)
    return oiu_file_setvbuf(f, buf, mode, size);
  const struct oiu_channel *ch = channel_for(fd);
  int m = mode == _IONBF ? OIU_UNBUFFERED : mode == _IOLBF ? OIU_LINE_BUFFERED
        : mode == _IOFBF ? OIU_FULLY_BUFFERED : -1;
  if (!ch || m < 0)
    return EOF;
  return oiu_stream_set_mode(ch, fd, m) < 0 ? EOF : 0;
}

int vsnprintf(char *restrict buf, size_t n, const char *restrict fmt, va_list ap) {
  oiu_sink s = {.buf = buf, .cap = n ? n - 1 : 0};
  int r = oiu_vformat(&s, fmt, ap);
  if (n)
    buf[s.len] = '\0';
  return r < 0 ? -1 : r; /* the formatter's -errno is not part of the C contract */
}

int snprintf(char *restrict buf, size_t n, const char *restrict fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vsnprintf(buf, n, fmt, ap);
  va_end(ap);
  return r;
}

int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap) {
  return vsnprintf(buf, (size_t)-1 >> 1, fmt, ap);
}

int sprintf(char *restrict buf, const char *restrict fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vsprintf(buf, fmt, ap);
  va_end(ap);
  return r;
}

OIU_DEVICE_END
