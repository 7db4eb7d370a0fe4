/* SPDX-License-Identifier: MIT */
/*
 * The host half of buffered device streams (channel.h): the progress thread
 * writes what device code committed to each stream ring, through an io_uring
 * of its own (plain write(2) when io_uring is off), one write in flight per
 * stream so text leaves in order, and hands the space back by advancing
 * `flushed`. A write is issued once a stream holds ring_size/8 bytes, has
 * held text for flush_us, is line-buffered, or device code or the host asked
 * for a flush (fflush, the end of a target region, exit).
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "uring_compat.h"

static struct io_uring wring; /* the host thread's own ring for stream writes */
static int wring_ok;

int oiu_stream_ring_init(int kick_fd) {
  if (!oiu_cfg.use_uring)
    return 0;
  int err = io_uring_queue_init(64, &wring, 0);
  if (err) {
    oiu_info("stream writes use write(2): io_uring_queue_init: %s", strerror(-err));
    return 0;
  }
  /* CQEs wake the host thread where it sleeps on the eventfd (host target). */
  if (kick_fd >= 0)
    io_uring_register_eventfd(&wring, kick_fd);
  wring_ok = 1;
  return 0;
}

void oiu_stream_ring_exit(void) {
  if (wring_ok)
    io_uring_queue_exit(&wring);
  wring_ok = 0;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct oiu_stream_shared *shared_of(struct oiu_device *dev, int k) {
  return &((struct oiu_stream_shared *)((char *)dev->ch + dev->ch->streams_off))[k];
}

/* A write of the stream's text finished (or failed): the space below goes back to device code. */
static void stream_done(struct oiu_device *dev, int k, int res) {
  struct oiu_host_stream *hs = &dev->streams[k];
  struct oiu_stream_shared *sh = shared_of(dev, k);
  hs->inflight = 0;
  if (res == -EAGAIN || res == -EINTR)
    return; /* issued again on the next pass */
  if (res <= 0) {
    /* Buffered text has no caller left to tell: record the error for the
     * next fflush and drop this piece, or device writers would wait forever. */
    __atomic_store_n(&sh->error, res ? res : -EIO, __ATOMIC_RELAXED);
    /* We are its only writer. Pairs with oiu_stream_flush's acquire. */
    __atomic_store_n(&sh->errors, sh->errors + 1, __ATOMIC_RELEASE);
    res = (int)hs->inflight_len;
  }
  hs->flushed += (uint64_t)res;
  /* Pairs with device writers' acquire in wait_space and oiu_stream_flush. */
  __atomic_store_n(&sh->flushed, hs->flushed, __ATOMIC_RELEASE);
}

static void reap(void) {
  struct io_uring_cqe *cqe;
  while (wring_ok && io_uring_peek_cqe(&wring, &cqe) == 0) {
    uintptr_t ud = (uintptr_t)io_uring_cqe_get_data(cqe);
    stream_done((struct oiu_device *)(ud & ~(uintptr_t)3), (int)(ud & 3), cqe->res);
    io_uring_cqe_seen(&wring, cqe);
  }
}

static void issue(struct oiu_device *dev, int k, uint64_t committed) {
  struct oiu_host_stream *hs = &dev->streams[k];
  struct oiu_channel *ch = dev->ch;
  int fd = k + 1;
  uint64_t start = hs->flushed & (ch->ring_size - 1);
  uint64_t len = committed - hs->flushed;
  if (len > ch->ring_size - start)
    len = ch->ring_size - start; /* up to the ring's end; the rest is the next write */
  if (len > (1u << 30))
    len = 1u << 30;
  const char *p = (const char *)ch + ch->rings_off + (uint64_t)k * ch->ring_size + start;
  /* Regular files append, like unbuffered device writes (channel.h, regular_fd_mask). */
  int append = (__atomic_load_n(&ch->regular_fd_mask, __ATOMIC_RELAXED) >> fd) & 1;
  hs->inflight = 1;
  hs->inflight_len = len;
  struct io_uring_sqe *sqe = wring_ok ? io_uring_get_sqe(&wring) : NULL;
  if (!sqe) {
    ssize_t r = pwritev2(fd, &(struct iovec){(void *)p, len}, 1, -1, append ? RWF_APPEND : 0);
    stream_done(dev, k, r < 0 ? -errno : (int)r);
    return;
  }
  io_uring_prep_write(sqe, fd, p, (unsigned)len, (uint64_t)-1);
  sqe->rw_flags = append ? RWF_APPEND : 0;
  io_uring_sqe_set_data(sqe, (void *)((uintptr_t)dev | (uintptr_t)k));
  io_uring_submit(&wring);
}

int oiu_stream_serve(struct oiu_device *dev, int drain, unsigned *wait_us) {
  struct oiu_channel *ch = dev->ch;
  int work = 0;
  reap();
  if (!ch || !ch->ring_size)
    return 0;
  for (int k = 0; k < OIU_NSTREAMS; k++) {
    struct oiu_host_stream *hs = &dev->streams[k];
    struct oiu_stream_shared *sh = shared_of(dev, k);
    if (hs->inflight) {
      work = 1;
      continue;
    }
    /* Pairs with the device publisher's release: text below committed is in the ring. */
    uint64_t committed = __atomic_load_n(&sh->committed, __ATOMIC_ACQUIRE);
    if (committed == hs->flushed) {
      hs->pending_since = 0;
      continue;
    }
    uint64_t now = now_ns();
    if (!hs->pending_since)
      hs->pending_since = now;
    uint64_t age_us = (now - hs->pending_since) / 1000;
    int due = drain || ch->stream_mode[k] == OIU_LINE_BUFFERED ||
              committed - hs->flushed >= ch->ring_size / 8 || age_us >= oiu_cfg.flush_us ||
              __atomic_load_n(&sh->flush_to, __ATOMIC_RELAXED) > hs->flushed;
    if (!due) {
      unsigned left = (unsigned)(oiu_cfg.flush_us - age_us);
      if (left < *wait_us)
        *wait_us = left;
      continue;
    }
    hs->pending_since = 0;
    issue(dev, k, committed);
    work = 1;
  }
  return work;
}

int oiu_stream_idle(struct oiu_device *dev) {
  if (!dev->ch || !dev->ch->ring_size)
    return 1;
  for (int k = 0; k < OIU_NSTREAMS; k++) {
    struct oiu_stream_shared *sh = shared_of(dev, k);
    /* Both only grow; the host thread's release of flushed pairs with this acquire. */
    if (__atomic_load_n(&sh->flushed, __ATOMIC_ACQUIRE) != __atomic_load_n(&sh->committed, __ATOMIC_ACQUIRE))
      return 0;
  }
  return 1;
}
