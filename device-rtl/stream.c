/* SPDX-License-Identifier: MIT */
/*
 * Buffered device streams (channel.h): a call formats its text on the device,
 * reserves a range of the stream's byte ring (one atomic add per warp),
 * copies the text in and commits the range (committed text is the prefix of
 * the ring whose ranges are all complete; a writer seldom waits for the
 * writers below it); the host thread writes committed text in large pieces.
 *
 * A message is one contiguous range, so it is never torn; a thread's ranges
 * are reserved in call order, so its lines stay in order. Text longer than
 * a lane's share of a quarter of the ring (ring / 4 / the lanes calling
 * together in its warp or wavefront) goes in pieces of that size (another
 * thread's text may fall between them).
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

/* ---- ring positions: reserve, wait for space, commit, publish ---- */

/* Waits until the ring has room for every byte below end. */
static void wait_space(const struct oiu_channel *ch, int k, uint64_t end) {
  struct oiu_stream_local *l = local_of(ch, k);
  /* Pairs with the release max below (by whichever writer read the host's value). */
  uint64_t flushed = __scoped_atomic_load_n(&l->flushed_hint, __ATOMIC_ACQUIRE, OIU_DEV);
  /* end may be below flushed: a group reserving nothing (the first round of a
   * long message) can find the ring written past its position. */
  for (uint32_t round = 0; end > flushed && end - flushed > ch->ring_size; round++) {
    oiu_pause(round);
    /* One waiter at a time reads the host's word across PCIe; the others read
     * its copy in device memory. A thousand warps polling host memory starved
     * the bus (H200: 28.8 k lines/s once the ring wrapped, 4.0 M before). */
    if (!oiu_cas_acquire(&l->space_poller, 0, 1)) {
      flushed = __scoped_atomic_load_n(&l->flushed_hint, __ATOMIC_ACQUIRE, OIU_DEV);
      continue;
    }
    /* Pairs with the host's release after the write completed: that space is free. */
    flushed = oiu_load_acquire64(&shared_of(ch, k)->flushed, 1);
    __scoped_atomic_fetch_max(&l->flushed_hint, flushed, __ATOMIC_RELEASE, OIU_DEV);
    oiu_store_release(&l->space_poller, 0, 0); /* pairs with the next poller's CAS */
  }
}

/* Lanes reserve n bytes each, contiguous in lane order; returns this lane's position. */
static uint64_t reserve(const struct oiu_channel *ch, int k, oiu_lanes lanes, uint32_t n,
                        uint64_t *group_base, uint32_t *group_total) {
  uint32_t total;
  uint32_t below = oiu_lane_prefix(lanes, n, &total);
  uint64_t base = 0;
  if (oiu_is_leader(lanes)) {
    base = oiu_fetch_add64(&local_of(ch, k)->reserved, total);
    RACE_POINT();
    wait_space(ch, k, base + total);
  }
  base = oiu_broadcast64(lanes, base);
  *group_base = base;
  *group_total = total;
  return base + below;
}

/* Copies the committed position to the host; one publisher at a time, none missed. */
static void publish(const struct oiu_channel *ch, int k) {
  struct oiu_stream_local *l = local_of(ch, k);
  for (;;) {
    uint32_t s = oiu_load_relaxed(&l->publisher);
    if (s == OIU_PUBLISH_IDLE) {
      if (oiu_cas(&l->publisher, OIU_PUBLISH_IDLE, OIU_PUBLISH_BUSY))
        break;
      continue;
    }
    /* The publisher at work goes again and copies our commit too. Always an
     * RMW, never a plain load of AGAIN: its CAS(AGAIN -> BUSY) reads ours (or
     * a later one in the release sequence) and so sees our commit. */
    if (oiu_cas(&l->publisher, s, OIU_PUBLISH_AGAIN))
      return;
  }
  for (;;) {
    /* Pairs with the committers' release: their text is in the ring. */
    uint64_t c = oiu_load_acquire64(&l->committed, 0);
    /* Pairs with the host's acquire: text below c is visible to it (and the kernel). */
    oiu_store_release64(&shared_of(ch, k)->committed, c, 1);
    if (oiu_cas(&l->publisher, OIU_PUBLISH_BUSY, OIU_PUBLISH_IDLE))
      break;
    oiu_cas(&l->publisher, OIU_PUBLISH_AGAIN, OIU_PUBLISH_BUSY);
  }
  oiu_doorbell(ch);
}

/*
 * Committing: `committed` moves over ranges in reservation order, but a
 * writer does not wait for the ranges below its own (unless its bucket of
 * the table is full of other early ranges: then it waits its turn). The writer of the range that
 * starts at `committed` moves it; a writer that finishes early posts its
 * range in the early-commit table, and whoever moves `committed` to that
 * range's start takes it and moves on over it (like the SQ tail over ready
 * entries in ring.c). Both sides store, fence, then look at the other's word,
 * so at least one of them sees the other (store-buffering, Dekker); the CAS
 * on the entry's key decides which of them moves on.
 */
static bool cas64(uint64_t *p, uint64_t expect, uint64_t want) {
  return __scoped_atomic_compare_exchange_n(p, &expect, want, false, __ATOMIC_ACQ_REL,
                                            __ATOMIC_RELAXED, OIU_DEV);
}
/* A range's entry is one of the EARLY_WAYS entries (one cache line) of its bucket. */
#define EARLY_WAYS 4u
static struct oiu_early_commit *bucket_of(struct oiu_stream_local *l, uint64_t start) {
  _Static_assert((OIU_EARLY_COMMITS & (OIU_EARLY_COMMITS - 1)) == 0, "a power of two");
  _Static_assert(EARLY_WAYS * sizeof(struct oiu_early_commit) == 64, "a bucket is a line");
  uint64_t h = start * 0x9e3779b97f4a7c15ull >> 32;
  return &l->early[(h * EARLY_WAYS) & (OIU_EARLY_COMMITS - 1)];
}
/* Takes a free entry of start's bucket (key 0 -> 1), or NULL when all are taken. */
static struct oiu_early_commit *take_entry(struct oiu_stream_local *l, uint64_t start) {
  struct oiu_early_commit *b = bucket_of(l, start);
  for (uint32_t i = 0; i < EARLY_WAYS; i++)
    if (cas64(&b[i].key, 0, 1))
      return &b[i];
  return NULL;
}
/* The entry the range at start is posted in, or NULL. */
static struct oiu_early_commit *posted_entry(struct oiu_stream_local *l, uint64_t start) {
  struct oiu_early_commit *b = bucket_of(l, start);
  for (uint32_t i = 0; i < EARLY_WAYS; i++)
    /* Pairs with the poster's release of key: len and its text are complete. */
    if (__scoped_atomic_load_n(&b[i].key, __ATOMIC_ACQUIRE, OIU_DEV) == start + 2)
      return &b[i];
  return NULL;
}

/* committed == at, moved there by us: takes the posted ranges that follow, then publishes. */
static void advance(const struct oiu_channel *ch, int k, struct oiu_stream_local *l, uint64_t at) {
  for (;;) {
    /* Partner: the fence in commit() between posting a range and reading committed. */
    __scoped_atomic_thread_fence(__ATOMIC_SEQ_CST, OIU_DEV);
    struct oiu_early_commit *e = posted_entry(l, at);
    if (!e)
      break;
    /* len before the CAS frees the entry: a later poster may refill it at
     * once. Key at + 2 is written once (range starts are unique), so if the
     * CAS succeeds, len is still that range's. */
    uint64_t len = __scoped_atomic_load_n(&e->len, __ATOMIC_RELAXED, OIU_DEV);
    RACE_POINT();
    if (!cas64(&e->key, at + 2, 0))
      break;
    RACE_POINT();
    at += len;
    /* Only the holder of the range at committed moves it: a plain release.
     * Pairs with publish's and the next poster's acquire. */
    oiu_store_release64(&l->committed, at, 0);
  }
  publish(ch, k);
}

/* After every lane copied its text: the group's range [base, base + total) is committed. */
static void commit(const struct oiu_channel *ch, int k, oiu_lanes lanes, uint64_t base,
                   uint32_t total) {
  oiu_lane_sync(lanes); /* the lanes' copies are done and ordered before the leader's release */
  if (!oiu_is_leader(lanes) || total == 0)
    return; /* an empty range is no one's to wait for */
  struct oiu_stream_local *l = local_of(ch, k);
  uint64_t end = base + total;
  /* Next in line: move committed ourselves. Release: our text is in the ring. */
  if (cas64(&l->committed, base, end)) {
    advance(ch, k, l, end);
    return;
  }
  RACE_POINT();
  struct oiu_early_commit *e = take_entry(l, base);
  if (e) {
    RACE_POINT();
    __scoped_atomic_store_n(&e->len, total, __ATOMIC_RELAXED, OIU_DEV);
    /* Pairs with advance's acquire of key: len and our text are complete. */
    __scoped_atomic_store_n(&e->key, base + 2, __ATOMIC_RELEASE, OIU_DEV);
    RACE_POINT();
    /* Partner: the fence in advance() between moving committed and reading keys. */
    __scoped_atomic_thread_fence(__ATOMIC_SEQ_CST, OIU_DEV);
    /* committed reached base before the advancer could see our entry: take it back and move on. */
    if (oiu_load_acquire64(&l->committed, 0) == base && cas64(&e->key, base + 2, 0) &&
        cas64(&l->committed, base, end))
      advance(ch, k, l, end);
    return;
  }
  /* Our bucket is full of other early ranges (rare): wait our turn. Waits
   * are proportional to the bytes still ahead, so writers far back poll the
   * shared word seldom and the next in line soon. */
  for (uint32_t round = 0;; round++) {
    uint64_t c = oiu_load_acquire64(&l->committed, 0);
    if (c == base && cas64(&l->committed, base, end))
      break;
    uint64_t ahead = base - c; /* c <= base: committed never passes a range not yet committed */
    uint32_t least = ahead < 4096 ? 0 : ahead < 65536 ? 3 : 7;
    oiu_pause(round > least ? round : least);
  }
  advance(ch, k, l, end);
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
  uint64_t base;
  uint32_t total;
  uint32_t mine = len <= piece ? (uint32_t)len : 0;
  t.pos = reserve(ch, k, lanes, mine, &base, &total);
  if (mine) {
    t.skip = 0;
    t.end = len;
    if (fits)
      ring_put(&t, local, len);
    else
      produce(&t, src, local);
  }
  commit(ch, k, lanes, base, total);
  /* Longer ones go piece by piece, each produced again for its window. */
  for (uint64_t done = mine ? len : 0; done < len;) {
    /* The group of this round (independent thread scheduling may join lanes
     * of other calls) sizes its pieces again: its total stays a quarter. */
    oiu_lanes now = oiu_lanes_matching(oiu_active_lanes(), (uint32_t)k);
    piece = ch->ring_size / 4 / oiu_lane_count(now);
    uint32_t n = (uint32_t)(len - done < piece ? len - done : piece);
    t.pos = reserve(ch, k, now, n, &base, &total);
    t.skip = done;
    t.end = done + n;
    t.at = 0;
    produce(&t, src, local);
    commit(ch, k, now, base, total);
    done += n;
  }
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

/* Waits until every byte written to the stream before this call has left the ring; 0 or -errno. */
int oiu_stream_flush(const struct oiu_channel *ch, int fd) {
  int k = fd - 1;
  struct oiu_stream_local *l = local_of(ch, k);
  struct oiu_stream_shared *sh = shared_of(ch, k);
  uint64_t target = __scoped_atomic_load_n(&l->reserved, __ATOMIC_RELAXED, OIU_DEV);
  /* Writers of ranges below target wait on nothing but space: they commit soon. */
  for (uint32_t round = 0; oiu_load_acquire64(&l->committed, 0) < target; round++)
    oiu_pause(round);
  /* Asks the host to write now rather than after its delay (a hint, re-sent
   * while we wait); before publish, whose doorbell may be what wakes it. */
  oiu_store_release64(&sh->flush_to, target, 1);
  publish(ch, k);
  for (uint32_t round = 1;; round++) {
    if (round % 64 == 0)
      oiu_store_release64(&sh->flush_to, target, 1);
    /* Pairs with the host's release: the text below flushed is written (or dropped on error). */
    if (oiu_load_acquire64(&sh->flushed, 1) >= target)
      break;
    oiu_pause(round);
  }
  /* A write that failed since the last fflush that said so: report it once
   * (glibc's fflush fails for what it could not write, not for old errors).
   * Pairs with the host's release of errors (before that of flushed). */
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
