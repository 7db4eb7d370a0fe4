/* SPDX-License-Identifier: MIT */
/*
 * io_uring on memory we own: IORING_SETUP_NO_MMAP puts the rings and SQEs in
 * the device's shared region, so device code, host and kernel see one ring.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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
 * The CPU for a device's SQPOLL thread and its io-wq workers, or -1 for
 * wherever the kernel puts them. On one CPU, a write the SQ thread hands to
 * io-wq (a buffered write to a file system without asynchronous buffered
 * writes, such as ext4 and tmpfs) wakes a worker on the CPU that is already
 * running, not an idle one: on an H100 host (a VM) the kernel's part of an
 * unbuffered printf to an ext4 file fell from 7.0 to 1.9 us, the line was
 * in the file 5 us sooner and buffered output moved faster; unbuffered
 * throughput from 1,024 threads fell by a quarter (README, Latency).
 * auto: the last CPU the initializing thread may run on, the one before it
 * for the next device, and so on; none when that thread is bound to one
 * CPU (OMP_PROC_BIND): that is a user thread's CPU. A CPU outside that set
 * is not tried: the kernel refuses it only after it made the ring in our
 * memory, and that ring's teardown runs later and writes to the memory a
 * retry would reuse (seen: a CQ tail set back to 0 under the new ring).
 */
static int sq_cpu(int device) {
  cpu_set_t set;
  if (oiu_cfg.sq_cpu == OIU_SQ_CPU_ANY || sched_getaffinity(0, sizeof set, &set))
    return -1;
  if (oiu_cfg.sq_cpu >= 0) {
    if (oiu_cfg.sq_cpu < CPU_SETSIZE && CPU_ISSET(oiu_cfg.sq_cpu, &set))
      return oiu_cfg.sq_cpu;
    oiu_warn("device %d: LIBOMPTARGET_IO_URING_SQ_CPU=%d is not a CPU this process may run on; "
             "the SQ thread runs unpinned", device, oiu_cfg.sq_cpu);
    return -1;
  }
  if (CPU_COUNT(&set) < 2)
    return -1;
  int skip = device % CPU_COUNT(&set);
  for (int cpu = CPU_SETSIZE - 1; cpu >= 0; cpu--)
    if (CPU_ISSET(cpu, &set) && skip-- == 0)
      return cpu;
  return -1;
}

/* Binds the ring's io-wq workers (for SQPOLL: the SQ thread's) to cpu. On
 * 6.18 they already take the pinned SQ thread's CPU when made; this is the
 * interface that says so on any kernel. */
static int iowq_bind(int fd, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return syscall(__NR_io_uring_register, fd, IORING_REGISTER_IOWQ_AFF, &set, sizeof set) < 0 ? -errno
                                                                                              : 0;
}

/*
 * Returns 0 with dev->ch's ring offsets filled, dev->overflow_off set to the
 * kernel's CQ-overflow counter and dev->sq_cpu to the SQ thread's CPU, or
 * -errno (the caller falls back to the emulated ring).
 */
int oiu_uring_setup(struct oiu_device *dev, uint64_t rings_off, uint64_t sqes_off, int mode) {
  struct oiu_channel *ch = dev->ch;
  char *base = (char *)ch;
  struct io_uring_params p;
  int fd = -EINVAL, cpu = mode == OIU_MODE_SQPOLL ? sq_cpu(dev->num) : -1;
  /* NO_SQARRAY needs 6.6; without it the SQ array is filled once with the
   * identity (an older kernel refuses the flag before it makes a ring). */
  static const unsigned extra[] = {IORING_SETUP_NO_SQARRAY, 0};
  for (int i = 0; i < 2 && fd == -EINVAL; i++) {
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_NO_MMAP | IORING_SETUP_CQSIZE | extra[i];
    if (mode == OIU_MODE_SQPOLL) {
      p.flags |= IORING_SETUP_SQPOLL;
      p.sq_thread_idle = oiu_cfg.sqpoll_idle_ms;
      if (cpu >= 0) {
        p.flags |= IORING_SETUP_SQ_AFF;
        p.sq_thread_cpu = (unsigned)cpu;
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
  dev->sq_cpu = -1;
  if (p.flags & IORING_SETUP_SQ_AFF) {
    int err = iowq_bind(fd, cpu);
    if (err)
      oiu_warn("device %d: io-wq workers not bound to CPU %d: %s", dev->num, cpu, strerror(-err));
    dev->sq_cpu = cpu;
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
  dev->overflow_off = rings_off + p.cq_off.overflow;
  return 0;
}
