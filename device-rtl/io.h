/* SPDX-License-Identifier: MIT */
/* Private header of the device runtime: transfers, host calls, errno, descriptors. */
#ifndef OIU_IO_H
#define OIU_IO_H

#include "format.h"
#include "rtl.h"

/* More Linux errno values (device code has no <errno.h> of its own). */
#define OIU_ENOENT 2
#define OIU_ENOMEM 12
#define OIU_EFAULT 14
#define OIU_EISDIR 21
#define OIU_EINVAL 22
#define OIU_EMFILE 24
#define OIU_ESPIPE 29
#define OIU_ENAMETOOLONG 36
#define OIU_EOVERFLOW 75

/* Linux open(2) flags (x86_64, aarch64 and the GPU targets agree). */
#define OIU_O_RDONLY 0
#define OIU_O_WRONLY 1
#define OIU_O_RDWR 2
#define OIU_O_ACCMODE 3
#define OIU_O_CREAT 0100
#define OIU_O_EXCL 0200
#define OIU_O_TRUNC 01000
#define OIU_O_APPEND 02000
#define OIU_O_CLOEXEC 02000000

#define OIU_SEEK_SET 0
#define OIU_SEEK_CUR 1
#define OIU_SEEK_END 2

/* An SQE offset meaning "at the descriptor's file position, and move it". */
#define OIU_OFF_CUR ((uint64_t)-1)

OIU_DEVICE_BEGIN

/* glibc's errno is (*__errno_location()); device-rtl/errno.c defines it on GPUs. */
int *__errno_location(void);
void oiu_set_errno(int e);

/* The kernel's address of n bytes at device address p, or 0 when they need staging. */
uint64_t oiu_kernel_addr(const struct oiu_channel *ch, const void *p, uint64_t n);
/* Copies into staging, and out of it after a read completed (GPU: uncached loads). */
void oiu_copy_to_stage(char *d, const char *s, uint64_t n);
void oiu_copy_from_stage(char *d, const char *stage, uint64_t n);

/* One read or write between buf and fd. */
struct oiu_io {
  char *buf;           /* the caller's bytes: any device address */
  uint64_t len;
  uint64_t off;        /* file offset of buf[0], or OIU_OFF_CUR */
  int fd;
  uint8_t op;          /* OIU_OP_READ or OIU_OP_WRITE */
  uint8_t one_read;    /* reads: one request, like read(2) on a pipe */
  uint32_t rw_flags;   /* e.g. OIU_RWF_APPEND */
  int32_t cell;        /* >= 0: use this completion cell, one request at a time */
  uint32_t stage_size; /* with cell: bytes at stage, when buf needs staging */
  char *stage;
};

/*
 * Moves io->len bytes, resubmitting short writes and EINTR/EAGAIN; a read
 * stops at the first short request (end of file). Returns the bytes moved,
 * or -errno when an error came before any byte.
 */
long long oiu_io(const struct oiu_channel *ch, const struct oiu_io *io);
/* The same, through the caller's own slot when one request of it fits; sets io->cell. */
long long oiu_io_any(const struct oiu_channel *ch, struct oiu_io *io);

/* A host call (channel.h, enum oiu_hostcall_op) by the host thread: result or -errno. */
struct oiu_hostcall_args {
  int fd, whence;
  int64_t arg;
  uint64_t addr, addr2;
};
int64_t oiu_hostcall(const struct oiu_channel *ch, uint32_t op, const struct oiu_hostcall_args *a,
                     int64_t *res2);
/* lseek(2); *flags gets fcntl(F_GETFL). */
static inline int64_t oiu_hostcall_lseek(const struct oiu_channel *ch, int fd, int64_t off,
                                         int whence, int64_t *flags) {
  struct oiu_hostcall_args a = {.fd = fd, .whence = whence, .arg = off};
  return oiu_hostcall(ch, OIU_HOSTCALL_LSEEK, &a, flags);
}

/* Descriptors (posix.c), for the FILE layer: results as read(2)/write(2)/lseek(2), or -errno. */
long long oiu_fd_read(const struct oiu_channel *ch, int fd, char *buf, uint64_t n, int32_t cell);
long long oiu_fd_write(const struct oiu_channel *ch, int fd, const char *buf, uint64_t n,
                       int32_t cell);
int64_t oiu_fd_lseek(const struct oiu_channel *ch, int fd, int64_t off, int whence,
                     int64_t *flags);
int oiu_fd_open(const struct oiu_channel *ch, const char *path, int flags, unsigned mode);
int oiu_fd_close(const struct oiu_channel *ch, int fd);
/* fstat's fields the FILE layer needs. */
struct oiu_stat_brief {
  uint32_t blksize, mode, rdev_major;
};
int oiu_fd_stat_brief(const struct oiu_channel *ch, int fd, struct oiu_stat_brief *brief);

/* FILE streams (file.c), for stdio.c. f is what the caller passed. */
int oiu_file_is_std_output(void *f);
size_t oiu_file_write(void *f, const void *p, size_t size, size_t n);
int oiu_file_vprintf(void *f, const char *fmt, va_list ap);
int oiu_file_flush(void *f);
int oiu_file_flush_all(void);
int oiu_file_setvbuf(void *f, char *buf, int mode, size_t size);
int oiu_file_putc(void *f, int c);
int oiu_file_sink_flush(oiu_sink *s);
void oiu_file_set_error(int fd);

OIU_DEVICE_END

#endif
