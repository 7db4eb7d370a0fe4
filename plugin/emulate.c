/* SPDX-License-Identifier: MIT */
/*
 * The ring without io_uring: where io_uring is off or unavailable (seccomp,
 * kernel.io_uring_disabled, old kernels) the host thread consumes the same
 * SQ ring and performs each SQE with the matching system call, posting CQEs
 * exactly as the kernel would. Device code cannot tell the difference.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

/* Our own ring words, each on its own cache line, inside the rings area. */
void oiu_emulated_setup(struct oiu_channel *ch, uint64_t rings_off, uint64_t sqes_off) {
  ch->mode = OIU_MODE_EMULATED;
  ch->ring_fd = -1;
  ch->sq_head_off = rings_off + 0;
  ch->sq_tail_off = rings_off + 64;
  ch->sq_flags_off = rings_off + 128;
  ch->cq_head_off = rings_off + 192;
  ch->cq_tail_off = rings_off + 256;
  ch->cqes_off = rings_off + 512;
  ch->sqes_off = sqes_off;
}

static long ret(long r) { return r < 0 ? -errno : r; }

static int32_t execute(const struct oiu_sqe *s) {
  void *addr = (void *)(uintptr_t)s->addr;
  switch (s->opcode) {
  case OIU_OP_NOP:
    return 0;
  case OIU_OP_WRITE: {
    struct iovec iov = {.iov_base = addr, .iov_len = s->len};
    off_t off = s->off == (uint64_t)-1 ? -1 : (off_t)s->off;
    return (int32_t)ret(pwritev2(s->fd, &iov, 1, off, (int)s->op_flags));
  }
  case OIU_OP_READ:
    return (int32_t)(s->off == (uint64_t)-1 ? ret(read(s->fd, addr, s->len))
                                             : ret(pread(s->fd, addr, s->len, (off_t)s->off)));
  case OIU_OP_FSYNC:
    return (int32_t)ret(s->op_flags & 1 ? fdatasync(s->fd) : fsync(s->fd));
  case OIU_OP_OPENAT:
    return (int32_t)ret(openat(s->fd, (const char *)addr, (int)s->op_flags, (mode_t)s->len));
  case OIU_OP_CLOSE:
    return (int32_t)ret(close(s->fd));
  case OIU_OP_UNLINKAT:
    return (int32_t)ret(unlinkat(s->fd, (const char *)addr, (int)s->op_flags));
  case OIU_OP_MKDIRAT:
    return (int32_t)ret(mkdirat(s->fd, (const char *)addr, (mode_t)s->len));
  case OIU_OP_STATX:
    return (int32_t)ret(statx(s->fd, (const char *)addr, (int)s->op_flags, s->len,
                              (struct statx *)(uintptr_t)s->off));
  default:
    return -EINVAL; /* what the kernel answers for an opcode it does not know */
  }
}

unsigned oiu_emulate(struct oiu_channel *ch) {
  char *base = (char *)ch;
  uint32_t *sq_head = (uint32_t *)(base + ch->sq_head_off);
  uint32_t *cq_tail = (uint32_t *)(base + ch->cq_tail_off);
  const struct oiu_sqe *sqes = (const struct oiu_sqe *)(base + ch->sqes_off);
  struct oiu_cqe *cqes = (struct oiu_cqe *)(base + ch->cqes_off);
  uint32_t head = *sq_head; /* we are its only writer */
  /* Pairs with the device publisher's release of the tail: SQEs are complete. */
  uint32_t tail = __atomic_load_n((uint32_t *)(base + ch->sq_tail_off), __ATOMIC_ACQUIRE);
  unsigned n = 0;
  for (; head != tail; head++, n++) {
    uint32_t t = *cq_tail;
    /* Completion cells bound in-flight requests to the CQ size, so there is always room;
     * were there none, the SQE waits (backpressure) rather than a CQE being
     * overwritten. Pairs with the device reaper's release of cq head. */
    if (t - __atomic_load_n((uint32_t *)(base + ch->cq_head_off), __ATOMIC_ACQUIRE) >=
        ch->cq_entries)
      break;
    const struct oiu_sqe *s = &sqes[head & ch->sq_mask];
    struct oiu_cqe cqe = {.user_data = s->user_data, .res = execute(s)};
    cqes[t & ch->cq_mask] = cqe;
    /* Pairs with the device reaper's acquire of cq tail: the CQE is complete. */
    __atomic_store_n(cq_tail, t + 1, __ATOMIC_RELEASE);
    /* Pairs with the device producer's acquire of sq head: the SQE may be reused. */
    __atomic_store_n(sq_head, head + 1, __ATOMIC_RELEASE);
  }
  return n;
}
