/* SPDX-License-Identifier: MIT */
/*
 * The ring without io_uring: where io_uring is off or unavailable (seccomp,
 * kernel.io_uring_disabled, old kernels) the host thread consumes the same
 * SQ ring and performs each SQE with the matching system call, posting CQEs
 * exactly as the kernel would. Device code cannot tell the difference.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
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

/*
 * LIBOMPTARGET_IO_URING_TRACE=1: one line per request, naming the staging
 * slot its buffer lies in, so a request with a wrong buffer or length is
 * seen for what it is (which device call made it: the slot and user_data).
 */
static void trace(const struct oiu_device *dev, uint32_t index, const struct oiu_sqe *s,
                  int32_t res) {
  static const char *const names[] = {
      [OIU_OP_NOP] = "nop",     [OIU_OP_WRITE] = "write",       [OIU_OP_READ] = "read",
      [OIU_OP_FSYNC] = "fsync", [OIU_OP_OPENAT] = "openat",     [OIU_OP_CLOSE] = "close",
      [OIU_OP_STATX] = "statx", [OIU_OP_UNLINKAT] = "unlinkat", [OIU_OP_MKDIRAT] = "mkdirat"};
  const struct oiu_channel *ch = dev->ch;
  const char *name = s->opcode < sizeof names / sizeof *names && names[s->opcode]
                         ? names[s->opcode]
                         : "unknown";
  uint64_t staging = ch->host_addr + ch->staging_off;
  uint64_t at = s->addr - staging;
  char where[48] = "";
  if (s->addr >= staging && at < (uint64_t)ch->nslots * ch->slot_size)
    snprintf(where, sizeof where, " (slot %llu +%llu)", (unsigned long long)(at / ch->slot_size),
             (unsigned long long)(at % ch->slot_size));
  fprintf(stderr,
          "omp-iouring: device %d: sqe %u: %s fd %d addr %#llx%s len %u off %lld flags %#x "
          "user_data %#llx -> %d\n",
          dev->num, index, name, s->fd, (unsigned long long)s->addr, where, s->len,
          (long long)s->off, s->op_flags, (unsigned long long)s->user_data, res);
}

/* Whether the CQ has room for one more CQE. Completion cells bound in-flight
 * requests to the CQ size, so there always is; a request waits otherwise
 * (checked before it is performed, so none is performed twice). */
static int cq_room(const struct oiu_channel *ch) {
  const char *base = (const char *)ch;
  uint32_t t = *(const uint32_t *)(base + ch->cq_tail_off); /* we are its only writer */
  /* Pairs with the device reaper's release of cq head. */
  return t - __atomic_load_n((const uint32_t *)(base + ch->cq_head_off), __ATOMIC_ACQUIRE) <
         ch->cq_entries;
}

/* Posts one CQE (cq_room said there is room). */
static void post(struct oiu_channel *ch, uint64_t user_data, int32_t res) {
  char *base = (char *)ch;
  uint32_t *cq_tail = (uint32_t *)(base + ch->cq_tail_off);
  uint32_t t = *cq_tail;
  struct oiu_cqe *cqes = (struct oiu_cqe *)(base + ch->cqes_off);
  cqes[t & ch->cq_mask] = (struct oiu_cqe){.user_data = user_data, .res = res};
  /* Pairs with the device reaper's acquire of cq tail: the CQE is complete. */
  __atomic_store_n(cq_tail, t + 1, __ATOMIC_RELEASE);
}

/*
 * A read of a pipe, terminal or socket with nothing to read would block this
 * thread in read(2), and with it every other request, buffered stream and
 * device it serves (a prompt printed by one device thread while another
 * waits for the answer would never appear). Such reads are parked and
 * retried when poll(2) says the descriptor is readable, as io_uring itself
 * arms a poll instead of blocking.
 */
static int would_block(const struct oiu_sqe *s) {
  if (s->opcode != OIU_OP_READ)
    return 0;
  struct pollfd p = {.fd = s->fd, .events = POLLIN};
  return poll(&p, 1, 0) == 0; /* regular files are always readable; errors go to read(2) */
}

/* Completes the parked reads whose descriptors became readable; returns how many. */
static unsigned unpark(struct oiu_device *dev) {
  struct oiu_emulator *e = dev->emulator;
  if (!e || !e->nparked)
    return 0;
  struct pollfd p[OIU_MAX_PARKED];
  for (unsigned i = 0; i < e->nparked; i++)
    p[i] = (struct pollfd){.fd = e->parked[i].fd, .events = POLLIN};
  if (poll(p, e->nparked, 0) <= 0)
    return 0;
  unsigned done = 0;
  for (unsigned i = 0; i < e->nparked;) {
    if (!p[i].revents || !cq_room(dev->ch)) {
      i++;
      continue;
    }
    post(dev->ch, e->parked[i].user_data, execute(&e->parked[i]));
    e->nparked--; /* the last one takes its place */
    e->parked[i] = e->parked[e->nparked];
    p[i] = p[e->nparked];
    done++;
  }
  return done;
}

unsigned oiu_emulate(struct oiu_device *dev, unsigned *wait_us) {
  struct oiu_channel *ch = dev->ch;
  char *base = (char *)ch;
  uint32_t *sq_head = (uint32_t *)(base + ch->sq_head_off);
  const struct oiu_sqe *sqes = (const struct oiu_sqe *)(base + ch->sqes_off);
  unsigned n = unpark(dev);
  uint32_t head = *sq_head; /* we are its only writer */
  /* Pairs with the device publisher's release of the tail: SQEs are complete. */
  uint32_t tail = __atomic_load_n((uint32_t *)(base + ch->sq_tail_off), __ATOMIC_ACQUIRE);
  for (; head != tail; head++, n++) {
    const struct oiu_sqe *s = &sqes[head & ch->sq_mask];
    if (!cq_room(ch))
      break; /* the SQE waits in the ring */
    if (would_block(s)) {
      struct oiu_emulator *e = dev->emulator;
      if (!e && !(e = dev->emulator = calloc(1, sizeof *e)))
        break; /* no memory: the SQE waits in the ring */
      if (e->nparked == OIU_MAX_PARKED)
        break; /* the ring waits until a parked read completes */
      e->parked[e->nparked++] = *s; /* a copy: the SQE's ring entry is reused */
    } else {
      int32_t res = execute(s);
      if (oiu_cfg.trace)
        trace(dev, head, s, res);
      post(ch, s->user_data, res);
    }
    /* Pairs with the device producer's acquire of sq head: the SQE may be reused. */
    __atomic_store_n(sq_head, head + 1, __ATOMIC_RELEASE);
  }
  /* Nothing wakes this thread when a parked descriptor becomes readable: look again soon. */
  if (dev->emulator && dev->emulator->nparked && *wait_us > OIU_PARKED_POLL_US)
    *wait_us = OIU_PARKED_POLL_US;
  return n;
}
