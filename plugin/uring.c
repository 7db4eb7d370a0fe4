/* SPDX-License-Identifier: MIT */
/*
 * io_uring on memory we own: IORING_SETUP_NO_MMAP puts the rings and SQEs in
 * the device's shared region, so device code, host and kernel see one ring.
 */
#define _GNU_SOURCE 1 /* cpu_set_t */
#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"
#include "uring_compat.h"

_Static_assert(sizeof(struct io_uring_sqe) == sizeof(struct oiu_sqe), "SQE size");
_Static_assert(offsetof(struct io_uring_sqe, user_data) == offsetof(struct oiu_sqe, user_data),
               "SQE user_data");
_Static_assert(offsetof(struct io_uring_sqe, len) == offsetof(struct oiu_sqe, len), "SQE len");
_Static_assert(offsetof(struct io_uring_sqe, addr3) == offsetof(struct oiu_sqe, addr3), "SQE addr3");
_Static_assert(sizeof(struct io_uring_cqe) == sizeof(struct oiu_cqe), "CQE size");
_Static_assert(IORING_OP_WRITE == OIU_OP_WRITE && IORING_OP_READ == OIU_OP_READ &&
                   IORING_OP_OPENAT == OIU_OP_OPENAT && IORING_OP_CLOSE == OIU_OP_CLOSE &&
                   IORING_OP_STATX == OIU_OP_STATX && IORING_OP_FSYNC == OIU_OP_FSYNC &&
                   IORING_OP_UNLINKAT == OIU_OP_UNLINKAT && IORING_OP_MKDIRAT == OIU_OP_MKDIRAT,
               "opcodes");
_Static_assert(sizeof(struct statx) == sizeof(struct oiu_statx) &&
                   offsetof(struct statx, stx_mtime) == offsetof(struct oiu_statx, mtime) &&
                   offsetof(struct statx, stx_dev_minor) == offsetof(struct oiu_statx, dev_minor) &&
                   offsetof(struct statx, stx_size) == offsetof(struct oiu_statx, size),
               "struct statx");
_Static_assert(AT_FDCWD == OIU_AT_FDCWD && AT_REMOVEDIR == OIU_AT_REMOVEDIR &&
                   AT_SYMLINK_NOFOLLOW == OIU_AT_SYMLINK_NOFOLLOW &&
                   AT_EMPTY_PATH == OIU_AT_EMPTY_PATH && STATX_BASIC_STATS == OIU_STATX_BASIC_STATS &&
                   IORING_FSYNC_DATASYNC == OIU_FSYNC_DATASYNC,
               "path and statx constants");
_Static_assert(RWF_APPEND == OIU_RWF_APPEND && IORING_SQ_NEED_WAKEUP == OIU_SQ_NEED_WAKEUP,
               "flags");

/*
 * Returns 0 with ch's ring offsets filled and *overflow_off set to the
 * kernel's CQ-overflow counter, or -errno (the caller falls back to the
 * emulated ring).
 */
int oiu_uring_setup(struct oiu_channel *ch, uint64_t rings_off, uint64_t sqes_off, int mode,
                    uint64_t *overflow_off) {
  char *base = (char *)ch;
  struct io_uring_params p;
  int fd = -EINVAL;
  /* NO_SQARRAY needs 6.6; without it the SQ array is filled once with the identity. */
  static const unsigned extra[] = {IORING_SETUP_NO_SQARRAY, 0};
  for (int i = 0; i < 2 && fd == -EINVAL; i++) {
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_NO_MMAP | IORING_SETUP_CQSIZE | extra[i];
    if (mode == OIU_MODE_SQPOLL) {
      p.flags |= IORING_SETUP_SQPOLL;
      p.sq_thread_idle = oiu_cfg.sqpoll_idle_ms;
      if (oiu_cfg.sq_cpu != ~0u) {
        p.flags |= IORING_SETUP_SQ_AFF;
        p.sq_thread_cpu = oiu_cfg.sq_cpu;
      }
    }
    p.cq_entries = ch->cq_entries;
    oiu_set_user_addr(&p.sq_off, &p.cq_off, base + sqes_off, base + rings_off);
    fd = io_uring_setup(ch->sq_entries, &p);
  }
  if (fd < 0)
    return fd;
  if (p.sq_entries != ch->sq_entries || p.cq_entries != ch->cq_entries) {
    close(fd);
    return -EINVAL; /* sizes were powers of two within limits: the kernel must keep them */
  }
  /* The CQ is sized for every request that can be in flight (channel.c), so it
   * should never overflow; if it does, NODROP keeps the CQEs for the host
   * thread to flush (progress.c) instead of losing them. Every kernel with
   * NO_MMAP (6.5) has it; refuse one without rather than risk a lost CQE. */
  if (!(p.features & IORING_FEAT_NODROP)) {
    close(fd);
    return -ENOTSUP;
  }
  if (mode == OIU_MODE_SQPOLL && oiu_cfg.sq_cpu != ~0u) {
    /* The io-wq workers that take the SQ thread's regular-file writes on
     * its CPU: woken there, a punted write does not wait for another CPU. */
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(oiu_cfg.sq_cpu, &cpus);
    if (syscall(__NR_io_uring_register, fd, IORING_REGISTER_IOWQ_AFF, &cpus, sizeof cpus) < 0)
      oiu_warn("io-wq workers not bound to CPU %u: %s", oiu_cfg.sq_cpu, strerror(errno));
  }
  if (!(p.flags & IORING_SETUP_NO_SQARRAY)) {
    uint32_t *array = (uint32_t *)(base + rings_off + p.sq_off.array);
    for (uint32_t i = 0; i < ch->sq_entries; i++)
      array[i] = i;
  }
  ch->mode = (uint32_t)mode;
  ch->ring_fd = fd;
  ch->sq_head_off = rings_off + p.sq_off.head;
  ch->sq_tail_off = rings_off + p.sq_off.tail;
  ch->sq_flags_off = rings_off + p.sq_off.flags;
  ch->sqes_off = sqes_off;
  ch->cq_head_off = rings_off + p.cq_off.head;
  ch->cq_tail_off = rings_off + p.cq_off.tail;
  ch->cqes_off = rings_off + p.cq_off.cqes;
  *overflow_off = rings_off + p.cq_off.overflow;
  return 0;
}
