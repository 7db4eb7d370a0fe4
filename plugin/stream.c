/* SPDX-License-Identifier: MIT */
/*
 * The host half of buffered device streams (channel.h). The progress thread
 * takes complete frames from each stream ring in ring order, copies their
 * text into a host buffer of the ring's size (the ring space is free as soon
 * as it is copied, so device writers seldom wait) and writes that buffer to
 * the descriptor through an io_uring of its own (plain write(2) when
 * io_uring is off), one write in flight per stream so text leaves in order.
 * A write is issued once the buffer holds ring_size/8 bytes, has held text
 * for flush_us, the stream is line-buffered, or device code or the host
 * asked for a flush (fflush, the end of a target region, exit).
 */
#include <errno.h>
#include <stdlib.h>
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

static struct oiu_stream_shared *shared_of(struct oiu_device *dev, int k) {
  return &((struct oiu_stream_shared *)((char *)dev->ch + dev->ch->streams_off))[k];
}

static const char *ring_of(struct oiu_device *dev, int k) {
  return (const char *)dev->ch + dev->ch->rings_off + (uint64_t)k * dev->ch->ring_size;
}

/* n bytes from position from of ring src to position to of ring dst, both of size bytes. */
static void ring_copy(char *dst, uint64_t to, const char *src, uint64_t from, uint64_t n,
                      uint64_t size) {
  while (n) {
    uint64_t a = from & (size - 1), b = to & (size - 1), k = n;
    if (k > size - a)
      k = size - a;
    if (k > size - b)
      k = size - b;
    memcpy(dst + b, src + a, k);
    from += k, to += k, n -= k;
  }
}

/* Whether a complete frame waits at ring position pos; its text length goes to len. */
static int frame_at(struct oiu_device *dev, int k, uint64_t pos, uint32_t *len) {
  const uint64_t *p = (const uint64_t *)(ring_of(dev, k) + (pos & (dev->ch->ring_size - 1)));
  /* Pairs with the leader's release of the header (device-rtl/stream.c, commit). */
  uint64_t h = __atomic_load_n(p, __ATOMIC_ACQUIRE);
  *len = (uint32_t)h;
  return (uint32_t)(h >> 32) == oiu_frame_tag(pos);
}

/* The text of the frames below pos is written: device fflush waits on this. */
static void set_written(struct oiu_device *dev, int k, uint64_t pos) {
  struct oiu_host_stream *hs = &dev->streams[k];
  if (pos <= hs->written)
    return;
  hs->written = pos;
  /* Pairs with oiu_stream_flush's acquire (after errors' release, in stream_done). */
  __atomic_store_n(&shared_of(dev, k)->written, pos, __ATOMIC_RELEASE);
}

/*
 * Copies the text of complete frames into the stream's buffer while it has
 * room, then hands their ring space back. Returns whether it took any.
 */
static int take(struct oiu_device *dev, int k) {
  struct oiu_host_stream *hs = &dev->streams[k];
  struct oiu_channel *ch = dev->ch;
  const char *ring = ring_of(dev, k);
  uint64_t size = ch->ring_size, start = hs->scan;
  for (;;) {
    uint32_t len;
    if (!frame_at(dev, k, hs->scan, &len))
      break; /* not complete yet */
    if (len > size - (hs->head - hs->tail))
      break; /* no room for it until a write completes */
    ring_copy(hs->buf, hs->head, ring, hs->scan + 8, len, size);
    hs->head += len;
    hs->taken += len;
    hs->scan += oiu_frame_size(len);
  }
  if (hs->scan == start)
    return 0;
  /* Pairs with device writers' acquire in wait_space: the space below is free. */
  __atomic_store_n(&shared_of(dev, k)->flushed, hs->scan, __ATOMIC_RELEASE);
  return 1;
}

/* A write of the buffer's text finished (or failed). */
static void stream_done(struct oiu_device *dev, int k, int res) {
  struct oiu_host_stream *hs = &dev->streams[k];
  struct oiu_stream_shared *sh = shared_of(dev, k);
  hs->inflight = 0;
  if (res == -EAGAIN || res == -EINTR) {
    hs->retry = 1;
    return;
  }
  if (res <= 0) {
    /* Buffered text has no caller left to tell: record the error for the
     * next fflush and drop this piece, or device writers would wait forever. */
    __atomic_store_n(&sh->error, res ? res : -EIO, __ATOMIC_RELAXED);
    /* We are its only writer. Pairs with oiu_stream_flush's acquire. */
    __atomic_store_n(&sh->errors, sh->errors + 1, __ATOMIC_RELEASE);
    res = (int)hs->inflight_len;
  }
  hs->tail += (uint64_t)res;
  hs->done += (uint64_t)res;
  hs->retry = (uint64_t)res < hs->inflight_len; /* a short write: the rest goes next */
  if (hs->tail == hs->inflight_head)
    set_written(dev, k, hs->inflight_scan);
}

static void reap(void) {
  struct io_uring_cqe *cqe;
  while (wring_ok && io_uring_peek_cqe(&wring, &cqe) == 0) {
    uintptr_t ud = (uintptr_t)io_uring_cqe_get_data(cqe);
    stream_done((struct oiu_device *)(ud & ~(uintptr_t)3), (int)(ud & 3), cqe->res);
    io_uring_cqe_seen(&wring, cqe);
  }
}

/* Writes the buffer's text from tail, up to the buffer's end. */
static void issue(struct oiu_device *dev, int k) {
  struct oiu_host_stream *hs = &dev->streams[k];
  uint64_t size = dev->ch->ring_size, at = hs->tail & (size - 1);
  uint64_t len = hs->head - hs->tail;
  if (len > size - at)
    len = size - at; /* the rest is the next write */
  if (len > (1u << 30))
    len = 1u << 30;
  int fd = k + 1;
  /* Regular files append, like unbuffered device writes (channel.h, regular_fd_mask). */
  int append = (__atomic_load_n(&dev->ch->regular_fd_mask, __ATOMIC_RELAXED) >> fd) & 1;
  hs->inflight = 1;
  hs->retry = 0;
  hs->inflight_len = len;
  /* When it completes, the frames below scan are written if it reaches head. */
  hs->inflight_head = hs->tail + len;
  hs->inflight_scan = hs->tail + len == hs->head ? hs->scan : 0;
  struct io_uring_sqe *sqe = wring_ok ? io_uring_get_sqe(&wring) : NULL;
  if (!sqe) {
    ssize_t r = pwritev2(fd, &(struct iovec){hs->buf + at, len}, 1, -1, append ? RWF_APPEND : 0);
    stream_done(dev, k, r < 0 ? -errno : (int)r);
    return;
  }
  io_uring_prep_write(sqe, fd, hs->buf + at, (unsigned)len, (uint64_t)-1);
  sqe->rw_flags = append ? RWF_APPEND : 0;
  /* A large write goes to an io-wq worker rather than running inline in
   * io_uring_submit: this thread goes on taking frames meanwhile. */
  if (len >= (256u << 10))
    sqe->flags |= IOSQE_ASYNC;
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
    if (!hs->buf) { /* made when the stream is first used */
      uint32_t len;
      if (!frame_at(dev, k, 0, &len))
        continue;
      if (!(hs->buf = malloc(ch->ring_size))) {
        oiu_warn("device %d: no memory for a %u KiB stream buffer", dev->num, ch->ring_size >> 10);
        continue;
      }
    }
    work |= take(dev, k);
    if (hs->inflight) {
      work = 1;
      continue;
    }
    if (hs->head == hs->tail) {
      hs->pending_since = 0;
      set_written(dev, k, hs->scan); /* all text taken is written */
      continue;
    }
    uint64_t now = oiu_now_ns();
    if (!hs->pending_since)
      hs->pending_since = now;
    uint64_t age_us = (now - hs->pending_since) / 1000;
    /* Pairs with oiu_stream_flush's release: a request to write what is below flush_to. */
    int due = drain || hs->retry || ch->stream_mode[k] == OIU_LINE_BUFFERED ||
              hs->head - hs->tail >= ch->ring_size / 8 || age_us >= oiu_cfg.flush_us ||
              __atomic_load_n(&sh->flush_to, __ATOMIC_ACQUIRE) > hs->written;
    if (!due) {
      unsigned left = (unsigned)(oiu_cfg.flush_us - age_us);
      if (left < *wait_us)
        *wait_us = left;
      continue;
    }
    hs->pending_since = 0;
    issue(dev, k);
    work = 1;
  }
  return work;
}

/* Any thread may ask (oiu_progress_drain): only the shared words are read. */
int oiu_stream_idle(struct oiu_device *dev) {
  if (!dev->ch || !dev->ch->ring_size)
    return 1;
  for (int k = 0; k < OIU_NSTREAMS; k++) {
    struct oiu_stream_shared *sh = shared_of(dev, k);
    /* Both are the host thread's releases: all text taken is written, nothing waits. */
    uint64_t written = __atomic_load_n(&sh->written, __ATOMIC_ACQUIRE);
    uint64_t flushed = __atomic_load_n(&sh->flushed, __ATOMIC_ACQUIRE);
    uint32_t len;
    if (written != flushed || frame_at(dev, k, flushed, &len))
      return 0;
  }
  return 1;
}

void oiu_stream_free(struct oiu_device *dev) {
  for (int k = 0; k < OIU_NSTREAMS; k++) {
    free(dev->streams[k].buf);
    dev->streams[k].buf = NULL;
  }
}
