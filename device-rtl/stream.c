/* SPDX-License-Identifier: MIT */
/*
 * Buffered device streams (channel.h): a call formats its text on the
 * device, the lanes calling together reserve one frame of the stream's byte
 * ring (one atomic add per warp), copy their text in, and the leader writes
 * the frame's header last; the host thread takes complete frames in ring
 * order and writes their text in large pieces. No writer waits for another:
 * a frame is complete on its own.
 *
 * A message is one contiguous piece of a frame, so it is never torn; a
 * thread's frames are reserved in call order, so its lines stay in order.
 * Text longer than a lane's share of a quarter of the ring (ring / 4 / the
 * lanes calling together in its warp or wavefront) goes in pieces of that
 * size, each in a frame of its own (another thread's text may fall between
 * them).
 */
#include <stdarg.h>

#include "format.h"
#include "rtl.h"

OIU_DEVICE_BEGIN

/* Text up to this long is formatted once, on the device; longer text twice. */
#define LOCAL_TEXT 256

/* The stress test (tests/unit/stream_stress.c) builds this file for the host
 * with hooks that yield or sleep in the protocol's windows; nothing otherwise. */
#ifdef OIU_STRESS_HOOKS
void oiu_race_point(void);
#define RACE_POINT() oiu_race_point()
#else
#define RACE_POINT() ((void)0)
#endif

static struct oiu_stream_shared *shared_of(const struct oiu_channel *ch, int k) {
  return &OIU_SHARED(ch, ch->streams_off, struct oiu_stream_shared)[k];
}
static struct oiu_stream_local *local_of(const struct oiu_channel *ch, int k) {
  return &OIU_LOCAL(ch, ch->stream_local_off, struct oiu_stream_local)[k];
}
static char *ring_of(const struct oiu_channel *ch, int k) {
  return OIU_SHARED(ch, ch->rings_off, char) + (uint64_t)k * ch->ring_size;
}

int oiu_stream_mode(const struct oiu_channel *ch, int fd) {
  int k = fd - 1;
  if (k < 0 || k >= OIU_NSTREAMS || ch->ring_size == 0)
    return OIU_UNBUFFERED;
  /* 0: the host's choice (immutable header); else setvbuf's mode + 1. */
  uint32_t set = oiu_load_relaxed(&local_of(ch, k)->mode);
  return set ? (int)set - 1 : ch->stream_mode[k];
}

/* ---- frames: reserve, wait for space, complete ---- */

/* Waits until the ring has room for every byte below end. */
static void wait_space(const struct oiu_channel *ch, int k, uint64_t end) {
  struct oiu_stream_local *l = local_of(ch, k);
  /* Pairs with the release max below (by whichever writer read the host's value). */
  uint64_t flushed = __scoped_atomic_load_n(&l->flushed_hint, __ATOMIC_ACQUIRE, OIU_DEV);
  for (uint32_t round = 0; end - flushed > ch->ring_size; round++) {
    oiu_wait_note(ch, OIU_WAIT_STREAM, (uint32_t)k, 0, round);
    oiu_pause(round);
    /* One waiter at a time reads the host's word across PCIe; the others read
     * its copy in device memory. A thousand warps polling host memory starved
     * the bus (H200, 132 x 160 threads: 28.8 k lines/s once the ring wrapped;
     * 3.3 M with one poller). */
    if (!oiu_cas_acquire(&l->space_poller, 0, 1)) {
      flushed = __scoped_atomic_load_n(&l->flushed_hint, __ATOMIC_ACQUIRE, OIU_DEV);
      continue;
    }
    /* Pairs with the host's release after it took the frames out: that space is free. */
    flushed = oiu_load_acquire64(&shared_of(ch, k)->flushed, 1);
    /* A fence, then a relaxed max: clang 22 compiles a release RMW for NVPTX
     * as a plain relaxed atom (DESIGN.md). */
    oiu_fence_dev_release();
    __scoped_atomic_fetch_max(&l->flushed_hint, flushed, __ATOMIC_RELAXED, OIU_DEV);
    oiu_store_release(&l->space_poller, 0, 0); /* pairs with the next poller's CAS */
  }
  oiu_wait_done(ch);
}

/* Lanes reserve n bytes each in one frame, contiguous in lane order; returns
 * this lane's text position. A group with no text reserves nothing. */
static uint64_t reserve(const struct oiu_channel *ch, int k, oiu_lanes lanes, uint32_t n,
                        uint64_t *frame, uint32_t *group_total) {
  uint32_t total;
  uint32_t below = oiu_lane_prefix(lanes, n, &total);
  uint64_t base = 0;
  if (oiu_is_leader(lanes) && total) {
    uint64_t size = oiu_frame_size(total);
    base = oiu_fetch_add64(&local_of(ch, k)->reserved, size);
    RACE_POINT();
    wait_space(ch, k, base + size);
  }
  base = oiu_broadcast64(lanes, base);
  *frame = base;
  *group_total = total;
  return base + 8 + below;
}

/*
 * After every lane copied its text: the leader writes the frame's header.
 * Partner: the host's acquire load of the header (plugin/stream.c, take);
 * the lanes' copies are ordered before this release by the lane barrier.
 */
static void commit(const struct oiu_channel *ch, int k, oiu_lanes lanes, uint64_t frame,
                   uint32_t total) {
  oiu_wait_note(ch, OIU_WAIT_LANES, (uint32_t)lanes, 0, 0);
  oiu_lane_sync(lanes);
  oiu_wait_done(ch);
  if (!oiu_is_leader(lanes) || total == 0)
    return;
  uint64_t *header = (uint64_t *)(ring_of(ch, k) + (frame & (ch->ring_size - 1)));
  oiu_store_release64(header, oiu_frame_header(frame, total), 1);
  oiu_doorbell(ch);
}

/* ---- message text into the ring ---- */

/* Message bytes [skip, end) go to ring position pos; the rest is produced and dropped. */
struct ring_text {
  oiu_sink sink; /* first: oiu_message_flush hands us &sink */
  char *ring;
  uint32_t mask;
  uint64_t pos, skip, end, at;
};

/*
 * The ring is host memory: on a GPU every store instruction crosses PCIe as
 * its own write, and a plain memcpy here compiles to a byte loop. Store whole
 * aligned 8-byte words instead (the source, in local memory, is read bytewise).
 */
static void copy_out(char *dst, const char *src, uint64_t n) {
  for (; n && ((uintptr_t)dst & 7); n--)
    *dst++ = *src++;
  for (; n >= 8; n -= 8, dst += 8, src += 8) {
    uint64_t w;
    __builtin_memcpy(&w, src, 8);
    __builtin_memcpy(__builtin_assume_aligned(dst, 8), &w, 8);
  }
  while (n--)
    *dst++ = *src++;
}

static void ring_put(struct ring_text *t, const char *p, uint64_t n) {
  uint64_t from = t->at > t->skip ? t->at : t->skip;
  uint64_t to = t->at + n < t->end ? t->at + n : t->end;
  for (uint64_t i = from; i < to;) {
    uint64_t r = (t->pos + i - t->skip) & t->mask;
    uint64_t k = to - i < t->mask + 1 - r ? to - i : t->mask + 1 - r; /* up to the ring's end */
    copy_out(t->ring + r, p + (i - t->at), k);
    RACE_POINT();
    i += k;
  }
  t->at += n;
}

int oiu_ring_sink_flush(oiu_sink *s) {
  ring_put((struct ring_text *)s, s->buf, s->len);
  s->len = 0;
  return 0;
}

/* What a message is made of: formatted text, or bytes plus an optional newline. */
struct text_source {
  const char *fmt;
  va_list *ap; /* fmt's arguments; copied for each pass */
  const char *bytes;
  uint64_t nbytes;
  int newline;
};

/* Produces the source's text into the window of t. */
static void produce(struct ring_text *t, const struct text_source *src, char *local) {
  if (src->fmt) {
    va_list aq;
    va_copy(aq, *src->ap);
    t->sink = (oiu_sink){.buf = local, .cap = LOCAL_TEXT, .flush = oiu_ring_sink_flush};
    oiu_vformat(&t->sink, src->fmt, aq);
    va_end(aq);
    oiu_ring_sink_flush(&t->sink);
  } else {
    ring_put(t, src->bytes, src->nbytes);
    if (src->newline)
      ring_put(t, "\n", 1);
  }
}

/*
 * Appends one message to stream k; returns its length or a negative errno
 * (formatting error: nothing is written). Called by converged lanes together.
 */
static long long stream_append(const struct oiu_channel *ch, int k, const struct text_source *src) {
  char local[LOCAL_TEXT];
  uint64_t len;
  int fits = 0, err = 0;
  if (src->fmt) {
    va_list aq;
    va_copy(aq, *src->ap);
    oiu_sink s = {.buf = local, .cap = LOCAL_TEXT}; /* no flush: excess is counted, dropped */
    int n = oiu_vformat(&s, src->fmt, aq);
    va_end(aq);
    err = n < 0 ? n : 0; /* a lane that fails still joins the group's reservation, with nothing */
    len = n < 0 ? 0 : (uint64_t)n;
    fits = len <= LOCAL_TEXT;
  } else {
    len = src->nbytes + (src->newline ? 1 : 0);
  }

  /* The lanes calling together reserve together and wait for room for all
   * of their text at once: pieces are small enough that the group's fits a
   * quarter of the ring (up to 64 lanes on AMD GPUs), or that wait could
   * never end. A lane calling alone gets the whole quarter. */
  /* Lanes writing to the other stream reserve there, in their own group. */
  oiu_lanes lanes = oiu_lanes_matching(oiu_active_lanes(), (uint32_t)k);
  uint64_t piece = ch->ring_size / 4 / oiu_lane_count(lanes);
  struct ring_text t = {.ring = ring_of(ch, k), .mask = ch->ring_size - 1};
  /* Messages that fit a piece share one reservation with the other lanes. */
  uint64_t frame;
  uint32_t total;
  uint32_t mine = len <= piece ? (uint32_t)len : 0;
  t.pos = reserve(ch, k, lanes, mine, &frame, &total);
  if (mine) {
    t.skip = 0;
    t.end = len;
    if (fits)
      ring_put(&t, local, len);
    else
      produce(&t, src, local);
  }
  commit(ch, k, lanes, frame, total);
  /* Longer ones go piece by piece, each produced again for its window. */
  OIU_LOOP_ENTER(entered);
  for (uint64_t done = mine ? len : 0; done < len;) {
    /* The group of this round (independent thread scheduling may join lanes
     * of other calls) sizes its pieces again: its total stays a quarter. */
    oiu_lanes now = oiu_lanes_matching(oiu_active_lanes(), (uint32_t)k);
    piece = ch->ring_size / 4 / oiu_lane_count(now);
    uint32_t n = (uint32_t)(len - done < piece ? len - done : piece);
    t.pos = reserve(ch, k, now, n, &frame, &total);
    t.skip = done;
    t.end = done + n;
    t.at = 0;
    produce(&t, src, local);
    commit(ch, k, now, frame, total);
    done += n;
  }
  OIU_LOOP_EXIT(entered);
  return err ? err : (long long)len;
}

int oiu_stream_vprintf(const struct oiu_channel *ch, int fd, const char *fmt, va_list ap) {
  va_list aq;
  va_copy(aq, ap);
  struct text_source src = {.fmt = fmt, .ap = &aq};
  long long n = stream_append(ch, fd - 1, &src);
  va_end(aq);
  return n < 0 ? -1 : n > 0x7fffffff ? -1 : (int)n;
}

int oiu_stream_write(const struct oiu_channel *ch, int fd, const void *p, size_t n, int newline) {
  struct text_source src = {.bytes = (const char *)p, .nbytes = n, .newline = newline};
  return stream_append(ch, fd - 1, &src) < 0 ? -1 : 0;
}

/* Waits until the text of every frame reserved before this call is written; 0 or -errno. */
int oiu_stream_flush(const struct oiu_channel *ch, int fd) {
  int k = fd - 1;
  struct oiu_stream_local *l = local_of(ch, k);
  struct oiu_stream_shared *sh = shared_of(ch, k);
  uint64_t target = __scoped_atomic_load_n(&l->reserved, __ATOMIC_RELAXED, OIU_DEV);
  /* Asks the host to write now rather than after its delay (a hint, re-sent
   * while we wait). The frames below target complete soon: their writers
   * wait on nothing but space, which the host frees as it takes frames. */
  oiu_store_release64(&sh->flush_to, target, 1);
  oiu_doorbell(ch);
  OIU_LOOP_ENTER(entered);
  for (uint32_t round = 1;; round++) {
    if (round % 64 == 0) {
      oiu_store_release64(&sh->flush_to, target, 1);
      oiu_doorbell(ch);
    }
    /* Pairs with the host's release: the text below written is written (or dropped on error). */
    if (oiu_load_acquire64(&sh->written, 1) >= target)
      break;
    oiu_wait_note(ch, OIU_WAIT_STREAM, (uint32_t)k, 1, round);
    oiu_pause(round);
  }
  oiu_wait_done(ch);
  OIU_LOOP_EXIT(entered);
  /* A write that failed since the last fflush that said so: report it once
   * (glibc's fflush fails for what it could not write, not for old errors).
   * Pairs with the host's release of errors (before that of written). */
  uint32_t errors = oiu_load_acquire(&sh->errors, 1);
  uint32_t seen = __scoped_atomic_fetch_max(&l->errors_seen, errors, __ATOMIC_RELAXED, OIU_DEV);
  return seen < errors ? __scoped_atomic_load_n(&sh->error, __ATOMIC_RELAXED, OIU_SYS) : 0;
}

/* setvbuf: later calls on the stream use mode; text buffered so far is written first. */
int oiu_stream_set_mode(const struct oiu_channel *ch, int fd, int mode) {
  int k = fd - 1;
  if (k < 0 || k >= OIU_NSTREAMS || ch->ring_size == 0)
    return mode == OIU_UNBUFFERED ? 0 : -1;
  if (oiu_stream_mode(ch, fd) != OIU_UNBUFFERED)
    oiu_stream_flush(ch, fd);
  __scoped_atomic_store_n(&local_of(ch, k)->mode, (uint32_t)mode + 1, __ATOMIC_RELAXED, OIU_DEV);
  return 0;
}

OIU_DEVICE_END
