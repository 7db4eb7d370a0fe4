/* SPDX-License-Identifier: MIT */
/*
 * POSIX file calls of target regions: open, close, read, write, pread,
 * pwrite, lseek, fsync, fdatasync, unlink, rmdir, mkdir, stat, lstat, fstat.
 * Each is one io_uring operation (OPENAT, CLOSE, READ, WRITE, FSYNC,
 * UNLINKAT, MKDIRAT, STATX), or pieces of one; they return what POSIX says
 * and set errno.
 *
 * File positions are the kernel's, shared with the host: read and write go
 * at the descriptor's position (SQE offset -1), lseek is a host call (io_uring
 * has no seek). Device threads that use one descriptor's position take turns
 * (a lock per descriptor), as the kernel's f_pos lock makes host threads do:
 * io_uring requests at one shared position would overwrite each other. A
 * transfer larger than one chunk asks the host for the position once, moves
 * its pieces at explicit offsets with several in flight, and sets the
 * position after them.
 */
#include <fcntl.h>
#include <omp.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"

OIU_DEVICE_BEGIN

/* Lock words of descriptors (fd % OIU_FD_LOCKS): device memory, device scope. */
#define OIU_FD_LOCKS 1024
static uint32_t oiu_fd_locks[OIU_FD_LOCKS];

static uint32_t *fd_lock(int fd) { return &oiu_fd_locks[(uint32_t)fd % OIU_FD_LOCKS]; }

/*
 * Runs STMT holding fd's lock. The work is done inside the loop that tries
 * the lock, so a lane that holds it never waits parked for lanes of its own
 * wavefront that still try (GPU-safe).
 */
#define WITH_FD_LOCK(fd, STMT)                                                                \
  for (uint32_t round_ = 0, done_ = 0; !done_;) {                                           \
    /* Pairs with the release below: the previous holder's requests are complete. */        \
    if (oiu_cas_acquire(fd_lock(fd), 0, 1)) {                                               \
      STMT;                                                                                 \
      oiu_store_release(fd_lock(fd), 0, 0);                                                 \
      done_ = 1;                                                                            \
    } else {                                                                                \
      oiu_pause(round_ < 20 ? round_++ : round_);                                           \
    }                                                                                       \
  }

static const struct oiu_channel *channel_or_errno(void) {
  const struct oiu_channel *ch = oiu_channel();
  if (!ch)
    oiu_set_errno(OIU_ENOSYS); /* the host runtime never published a channel */
  return ch;
}

/* A C-library result: -errno becomes -1 with errno set. */
static long long posix_ret(long long r) {
  if (r < 0) {
    oiu_set_errno((int)-r);
    return -1;
  }
  return r;
}

/* One request without data (a zero-length read or write still checks fd). */
static int32_t simple(const struct oiu_channel *ch, struct oiu_sqe *sqe) {
  struct oiu_slot_ref ref;
  oiu_slot_acquire(ch, &ref);
  int32_t r = oiu_submit_wait(ch, ref.slot, sqe);
  oiu_slot_release(ch, &ref);
  return r;
}

/* stdout and stderr on regular files append (channel.h, regular_fd_mask). */
static uint32_t std_append(const struct oiu_channel *ch, int fd) {
  return fd >= 0 && fd < 32 && (oiu_load_relaxed(&ch->regular_fd_mask) & (1u << fd))
             ? OIU_RWF_APPEND
             : 0;
}

/* ---- read and write at the file position ---- */

/* With fd's lock held. */
static long long at_position(const struct oiu_channel *ch, struct oiu_io *io) {
  if (io->len == 0) {
    struct oiu_sqe sqe = {0};
    sqe.opcode = io->op;
    sqe.fd = io->fd;
    sqe.off = OIU_OFF_CUR;
    return simple(ch, &sqe);
  }
  if (io->cell >= 0 || io->len <= ch->chunk_size || (io->rw_flags & OIU_RWF_APPEND))
    return io->cell >= 0 ? oiu_io(ch, io) : oiu_io_any(ch, io);
  /* Several pieces: in flight together at explicit offsets, where the file allows. */
  int64_t fl = 0;
  int64_t pos = oiu_hostcall_lseek(ch, io->fd, 0, OIU_SEEK_CUR, &fl);
  if (pos < 0 && pos != -OIU_ESPIPE)
    return pos; /* EBADF and friends: what the transfer would have said */
  if (pos < 0 || (io->op == OIU_OP_WRITE && (fl & OIU_O_APPEND))) {
    /* A pipe, or appends: in order, at the kernel's position. A pipe's read
     * returns what it has, like read(2). */
    io->one_read = io->op == OIU_OP_READ && pos < 0;
    return oiu_io_any(ch, io);
  }
  io->off = (uint64_t)pos;
  long long r = oiu_io_any(ch, io);
  if (r > 0)
    oiu_hostcall_lseek(ch, io->fd, pos + r, OIU_SEEK_SET, NULL);
  return r;
}

long long oiu_fd_read(const struct oiu_channel *ch, int fd, char *buf, uint64_t n, int32_t cell) {
  struct oiu_io io = {.buf = buf, .len = n, .off = OIU_OFF_CUR, .fd = fd, .op = OIU_OP_READ,
                      .cell = cell};
  long long r = 0;
  WITH_FD_LOCK(fd, r = at_position(ch, &io));
  return r;
}

long long oiu_fd_write(const struct oiu_channel *ch, int fd, const char *buf, uint64_t n,
                       int32_t cell) {
  struct oiu_io io = {.buf = (char *)buf, .len = n, .off = OIU_OFF_CUR, .fd = fd,
                      .op = OIU_OP_WRITE, .rw_flags = std_append(ch, fd), .cell = cell};
  long long r = 0;
  WITH_FD_LOCK(fd, r = at_position(ch, &io));
  return r;
}

int64_t oiu_fd_lseek(const struct oiu_channel *ch, int fd, int64_t off, int whence,
                     int64_t *flags) {
  int64_t r = 0;
  /* After the requests of device threads at the old position. */
  WITH_FD_LOCK(fd, r = oiu_hostcall_lseek(ch, fd, off, whence, flags));
  return r;
}

ssize_t read(int fd, void *buf, size_t n) {
  const struct oiu_channel *ch = channel_or_errno();
  if (!ch)
    return -1;
  return (ssize_t)posix_ret(oiu_fd_read(ch, fd, (char *)buf, n, -1));
}

ssize_t write(int fd, const void *buf, size_t n) {
  const struct oiu_channel *ch = channel_or_errno();
  if (!ch)
    return -1;
  return (ssize_t)posix_ret(oiu_fd_write(ch, fd, (const char *)buf, n, -1));
}

off_t lseek(int fd, off_t off, int whence) {
  const struct oiu_channel *ch = channel_or_errno();
  if (!ch)
    return -1;
  return (off_t)posix_ret(oiu_fd_lseek(ch, fd, off, whence, NULL));
}

/* ---- at explicit offsets: no position, no lock ---- */

static long long at_offset(int fd, char *buf, size_t n, off_t off, uint8_t op) {
  const struct oiu_channel *ch = channel_or_errno();
  if (!ch)
    return -1;
  if (off < 0)
    return posix_ret(-OIU_EINVAL);
  struct oiu_io io = {.buf = buf, .len = n, .off = (uint64_t)off, .fd = fd, .op = op, .cell = -1};
  if (n == 0) {
    struct oiu_sqe sqe = {0};
    sqe.opcode = op;
    sqe.fd = fd;
    sqe.off = (uint64_t)off;
    return posix_ret(simple(ch, &sqe));
  }
  return posix_ret(oiu_io_any(ch, &io));
}

ssize_t pread(int fd, void *buf, size_t n, off_t off) {
  return (ssize_t)at_offset(fd, (char *)buf, n, off, OIU_OP_READ);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  return (ssize_t)at_offset(fd, (char *)buf, n, off, OIU_OP_WRITE);
}

/* ---- calls with a path: the path goes through the caller's slot ---- */

/* Copies path to dst (cap bytes); its length, or -ENAMETOOLONG. */
static long long copy_path(char *dst, const char *path, uint32_t cap) {
  for (uint32_t i = 0; i < cap; i++) {
    dst[i] = path[i];
    if (!path[i])
      return i;
  }
  return -OIU_ENAMETOOLONG;
}

/* What a statx answer goes to: a struct stat, or the few fields the FILE layer needs. */
struct statx_out {
  struct stat *st;
  struct oiu_stat_brief *brief;
};
static void statx_to(const volatile struct oiu_statx *x, const struct statx_out *out);

/*
 * Fills the SQE's addr with path in the slot, at byte `at`; submits; returns
 * cqe.res. With out, a statx buffer at the slot's start is converted from
 * the slot itself (no 256-byte copy on a GPU thread's stack).
 */
static int32_t path_call(const struct oiu_channel *ch, const char *path, uint32_t at,
                         struct oiu_sqe *sqe, const struct statx_out *out) {
  if (!path)
    return -OIU_EFAULT;
  if (at >= ch->slot_size)
    return -OIU_ENAMETOOLONG; /* slots too small for a statx buffer and a path */
  struct oiu_slot_ref ref;
  oiu_slot_acquire(ch, &ref);
  char *data = oiu_slot_data(ch, ref.slot);
  int32_t r = (int32_t)copy_path(data + at, path, ch->slot_size - at);
  if (r >= 0) {
    sqe->addr = oiu_slot_host_addr(ch, ref.slot) + at;
    if (out)
      sqe->off = oiu_slot_host_addr(ch, ref.slot); /* statx buffer: addr2 */
    r = oiu_submit_wait(ch, ref.slot, sqe);
    if (r >= 0 && out) {
      /* Pairs with the kernel's write of the buffer before its CQE. */
      __scoped_atomic_thread_fence(__ATOMIC_ACQUIRE, OIU_SYS);
      statx_to((const volatile struct oiu_statx *)data, out);
    }
  }
  oiu_slot_release(ch, &ref);
  return r;
}

int oiu_fd_open(const struct oiu_channel *ch, const char *path, int flags, unsigned mode) {
  struct oiu_sqe sqe = {0};
  sqe.opcode = OIU_OP_OPENAT;
  sqe.fd = OIU_AT_FDCWD;
  sqe.op_flags = (uint32_t)flags;
  sqe.len = mode;
  return path_call(ch, path, 0, &sqe, NULL);
}

int oiu_fd_close(const struct oiu_channel *ch, int fd) {
  struct oiu_sqe sqe = {0};
  sqe.opcode = OIU_OP_CLOSE;
  sqe.fd = fd;
  return simple(ch, &sqe);
}

static int statx_call(const struct oiu_channel *ch, int dfd, const char *path, uint32_t flags,
                      const struct statx_out *out) {
  struct oiu_sqe sqe = {0};
  sqe.opcode = OIU_OP_STATX;
  sqe.fd = dfd;
  sqe.len = OIU_STATX_BASIC_STATS;
  sqe.op_flags = flags;
  return path_call(ch, path, sizeof(struct oiu_statx), &sqe, out);
}

int oiu_fd_stat_brief(const struct oiu_channel *ch, int fd, struct oiu_stat_brief *brief) {
  struct statx_out out = {NULL, brief};
  return statx_call(ch, fd, "", OIU_AT_EMPTY_PATH, &out);
}

/*
 * open's mode argument. clang 22 compiles va_arg for NVPTX (the formatter
 * reads printf's arguments this way, measured on an H100), but its OpenMP
 * Sema still reports "CUDA device code does not support va_arg" for a
 * va_arg reachable from an emitted function, unless the chain passes
 * through a function with an 'omp allocate' directive, as the formatter's
 * converters do. mode_arg is such a function; the directive only keeps
 * `mode` an ordinary private variable.
 */
static unsigned va_uint(va_list *ap) { return va_arg(*ap, unsigned); }
static unsigned mode_arg(va_list *ap) {
  unsigned mode = 0;
#if OIU_GPU /* elsewhere libomp would look for the allocator at run time */
#pragma omp allocate(mode) allocator(omp_thread_mem_alloc)
#endif
  mode = va_uint(ap);
  return mode;
}

/* O_CREAT and O_TMPFILE take a mode, as in glibc. */
#define OIU_O_TMPFILE 020200000
int open(const char *path, int flags, ...) {
  unsigned mode = 0;
  if ((flags & OIU_O_CREAT) || (flags & OIU_O_TMPFILE) == OIU_O_TMPFILE) {
    va_list ap;
    va_start(ap, flags);
    mode = mode_arg(&ap);
    va_end(ap);
  }
  const struct oiu_channel *ch = channel_or_errno();
  if (!ch)
    return -1;
  return (int)posix_ret(oiu_fd_open(ch, path, flags, mode));
}

int close(int fd) {
  const struct oiu_channel *ch = channel_or_errno();
  if (!ch)
    return -1;
  return (int)posix_ret(oiu_fd_close(ch, fd));
}

static int sync_call(int fd, uint32_t flags) {
  const struct oiu_channel *ch = channel_or_errno();
  if (!ch)
    return -1;
  struct oiu_sqe sqe = {0};
  sqe.opcode = OIU_OP_FSYNC;
  sqe.fd = fd;
  sqe.op_flags = flags;
  return (int)posix_ret(simple(ch, &sqe));
}

int fsync(int fd) { return sync_call(fd, 0); }
int fdatasync(int fd) { return sync_call(fd, OIU_FSYNC_DATASYNC); }

static int unlink_call(const char *path, uint32_t flags) {
  const struct oiu_channel *ch = channel_or_errno();
  if (!ch)
    return -1;
  struct oiu_sqe sqe = {0};
  sqe.opcode = OIU_OP_UNLINKAT;
  sqe.fd = OIU_AT_FDCWD;
  sqe.op_flags = flags;
  return (int)posix_ret(path_call(ch, path, 0, &sqe, NULL));
}

int unlink(const char *path) { return unlink_call(path, 0); }
int rmdir(const char *path) { return unlink_call(path, OIU_AT_REMOVEDIR); }

int mkdir(const char *path, mode_t mode) {
  const struct oiu_channel *ch = channel_or_errno();
  if (!ch)
    return -1;
  struct oiu_sqe sqe = {0};
  sqe.opcode = OIU_OP_MKDIRAT;
  sqe.fd = OIU_AT_FDCWD;
  sqe.len = (uint32_t)mode;
  return (int)posix_ret(path_call(ch, path, 0, &sqe, NULL));
}

/* glibc's makedev. */
static uint64_t dev_of(uint32_t major, uint32_t minor) {
  return ((uint64_t)(major & 0x00000fffu) << 8) | ((uint64_t)(major & 0xfffff000u) << 32) |
         (uint64_t)(minor & 0x000000ffu) | ((uint64_t)(minor & 0xffffff00u) << 12);
}

/* struct stat from statx, field by field, as glibc fills it. */
static void statx_to(const volatile struct oiu_statx *x, const struct statx_out *out) {
  if (out->brief) {
    out->brief->blksize = x->blksize;
    out->brief->mode = x->mode;
    out->brief->rdev_major = x->rdev_major;
    return;
  }
  struct stat *st = out->st;
  __builtin_memset(st, 0, sizeof *st);
  st->st_dev = dev_of(x->dev_major, x->dev_minor);
  st->st_ino = x->ino;
  st->st_nlink = x->nlink;
  st->st_mode = x->mode;
  st->st_uid = x->uid;
  st->st_gid = x->gid;
  st->st_rdev = dev_of(x->rdev_major, x->rdev_minor);
  st->st_size = (off_t)x->size;
  st->st_blksize = (__typeof__(st->st_blksize))x->blksize;
  st->st_blocks = (__typeof__(st->st_blocks))x->blocks;
  st->st_atim.tv_sec = x->atime.tv_sec;
  st->st_atim.tv_nsec = x->atime.tv_nsec;
  st->st_mtim.tv_sec = x->mtime.tv_sec;
  st->st_mtim.tv_nsec = x->mtime.tv_nsec;
  st->st_ctim.tv_sec = x->ctime.tv_sec;
  st->st_ctim.tv_nsec = x->ctime.tv_nsec;
}

static int stat_call(int dfd, const char *path, uint32_t flags, struct stat *st) {
  const struct oiu_channel *ch = channel_or_errno();
  if (!ch)
    return -1;
  struct statx_out out = {st, NULL};
  return (int)posix_ret(statx_call(ch, dfd, path, flags, &out));
}

int stat(const char *restrict path, struct stat *restrict st) {
  return stat_call(OIU_AT_FDCWD, path, 0, st);
}
int lstat(const char *restrict path, struct stat *restrict st) {
  return stat_call(OIU_AT_FDCWD, path, OIU_AT_SYMLINK_NOFOLLOW, st);
}
int fstat(int fd, struct stat *st) { return stat_call(fd, "", OIU_AT_EMPTY_PATH, st); }

OIU_DEVICE_END
