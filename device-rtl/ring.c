/* SPDX-License-Identifier: MIT */
/*
 * The device side of the io_uring rings: slot groups, the multi-producer SQ
 * (reserve, fill, mark ready, publish the tail in order) and the CQ reaper
 * that hands each CQE to the slot named in its user_data.
 *
 * No lane ever waits while holding a reservation it has not filled: SQ
 * entries are reserved only when free and filled right away, so any waiting
 * lane can publish and reap on behalf of all others.
 */
#include "rtl.h"

OIU_DEVICE_BEGIN

static struct oiu_dstate *dstate(const struct oiu_channel *ch) {
  return OIU_LOCAL(ch, ch->dstate_off, struct oiu_dstate);
}

char *oiu_slot_data(const struct oiu_channel *ch, uint32_t slot) {
  return OIU_SHARED(ch, ch->staging_off, char) + (uint64_t)slot * ch->slot_size;
}

uint64_t oiu_slot_host_addr(const struct oiu_channel *ch, uint32_t slot) {
  return ch->host_addr + ch->staging_off + (uint64_t)slot * ch->slot_size;
}

/*
 * Takes a device-local lock word if it looks free: a load first, so that
 * waiters spinning on a held lock read a cached line instead of queueing
 * atomics behind the holder's release (test and test-and-set).
 */
static bool try_lock(uint32_t *lock) {
  return oiu_load_relaxed(lock) == 0 && oiu_cas_acquire(lock, 0, 1);
}

/*
 * Stores the SQ tail t and drops sq_lock. Pairs with the kernel's
 * smp_load_acquire(sq.tail) (every SQE below t, ours and those acquired
 * through ready[], is complete) and with the next holder's CAS (it reads
 * sq_published); both through this one release fence.
 */
static void publish_tail(const struct oiu_channel *ch, struct oiu_dstate *d, uint32_t t) {
  oiu_store_relaxed(&d->sq_published, t);
  __scoped_atomic_thread_fence(__ATOMIC_RELEASE, OIU_SYS);
  __scoped_atomic_store_n(OIU_SHARED(ch, ch->sq_tail_off, uint32_t), t, __ATOMIC_RELAXED, OIU_SYS);
  oiu_store_relaxed(&d->sq_lock, 0);
  oiu_doorbell(ch);
}

/* The first SQ entry from t on that is not filled yet (ready: the sq_ready_off words). */
static uint32_t filled_from(const struct oiu_channel *ch, const uint32_t *ready, uint32_t t) {
  /* Pairs with the producers' release of ready[]: their SQEs are complete. */
  while (oiu_load_acquire(&ready[t & ch->sq_mask], 1) == t + 1)
    t++;
  return t;
}

/*
 * Under sq_lock, from sq_published = start: advances the SQ tail over every
 * filled entry. One system-scope barrier for the lot (0.7 us each on an
 * H100): sq_published, then the fence, then the tail and the unlock, both
 * plain stores ordered by it.
 */
static void sq_publish_locked(const struct oiu_channel *ch, struct oiu_dstate *d, uint32_t start) {
  uint32_t t = filled_from(ch, OIU_LOCAL(ch, ch->sq_ready_off, uint32_t), start);
  if (t == start) {
    oiu_store_relaxed(&d->sq_lock, 0); /* nothing written under the lock: no barrier */
    return;
  }
  publish_tail(ch, d, t);
}

/*
 * Publishes what others filled. Bounded: one pass over the ring. Waiters
 * call it every round: with nothing filled past the tail it returns after
 * two device-memory loads, no lock taken and no system-wide barrier paid (a
 * stale look only defers the work to a later round, or to the producer's
 * own call).
 */
static void sq_publish(const struct oiu_channel *ch) {
  struct oiu_dstate *d = dstate(ch);
  uint32_t *ready = OIU_LOCAL(ch, ch->sq_ready_off, uint32_t);
  uint32_t seen = oiu_load_relaxed(&d->sq_published);
  if (oiu_load_relaxed(&ready[seen & ch->sq_mask]) != seen + 1 || !try_lock(&d->sq_lock))
    return; /* nothing to publish, or the holder publishes */
  sq_publish_locked(ch, d, oiu_load_relaxed(&d->sq_published)); /* only lock holders store it */
}

#define OIU_REAP_BATCH 32u /* CQEs credited under one release fence */

/*
 * Moves every available CQE's result into the cell its user_data names, in
 * batches: the results, one release fence, then the completion counts and
 * the CQ head. A release store per CQE (a system-wide barrier on a GPU) made
 * the reaper, which every waiter waits for, pay one barrier per request.
 */
static void cq_reap(const struct oiu_channel *ch) {
  struct oiu_dstate *d = dstate(ch);
  /* Only the lock holder reads the CQ tail (host memory). When every
   * polling waiter read it first, unbuffered printf from 1,024 threads on an
   * H100 fell from 159 k to 43 k lines/s: most likely those reads queued on
   * PCIe ahead of the requests' own traffic. */
  if (!try_lock(&d->cq_lock))
    return; /* the holder reaps */
  const struct oiu_cqe *cqes = OIU_SHARED(ch, ch->cqes_off, struct oiu_cqe);
  struct oiu_slot *slots = OIU_LOCAL(ch, ch->slots_off, struct oiu_slot);
  uint32_t start = oiu_load_relaxed(&d->cq_reaped), h = start; /* only lock holders store it */
  /* Pairs with the kernel's smp_store_release(cq.tail) after writing CQEs. */
  uint32_t t = oiu_load_acquire(OIU_SHARED(ch, ch->cq_tail_off, uint32_t), 1);
  while (h != t) {
    uint32_t n = t - h < OIU_REAP_BATCH ? t - h : OIU_REAP_BATCH, cell[OIU_REAP_BATCH];
    for (uint32_t i = 0; i < n; i++) {
      oiu_u64x2 cqe = oiu_load_cqe(&cqes[(h + i) & ch->cq_mask]);
      uint64_t ud = cqe.x;
      uint32_t slot = oiu_user_data_slot(ud);
      cell[i] = oiu_user_data_kind(ud) == OIU_REQ_IO && slot < ch->ncells ? slot : ~0u;
      if (cell[i] != ~0u) /* res: the low half of the second word */
        __scoped_atomic_store_n(&slots[slot].res, (int32_t)(uint32_t)cqe.y, __ATOMIC_RELAXED,
                                OIU_DEV);
    }
    h += n;
    if (h == t) /* before the last fence: it orders this for the unlock below */
      oiu_store_relaxed(&d->cq_reaped, h);
    /* Pairs with the owners' acquire in oiu_poll: each res before its seq.
     * System scope, as it also orders this batch's CQE reads before the CQ
     * head store below (the kernel may reuse those entries after it), and
     * the last batch's everything before the unlock (the next holder's
     * CAS). A cell has one request in flight at a time, so a batch names
     * it once. */
    __scoped_atomic_thread_fence(__ATOMIC_RELEASE, OIU_SYS);
    for (uint32_t i = 0; i < n; i++)
      if (cell[i] != ~0u)
        oiu_store_relaxed(&slots[cell[i]].seq, oiu_load_relaxed(&slots[cell[i]].seq) + 1);
  }
  if (h != start) { /* after our CQE reads: the last batch's fence */
    __scoped_atomic_store_n(OIU_SHARED(ch, ch->cq_head_off, uint32_t), h, __ATOMIC_RELAXED, OIU_SYS);
    oiu_prof(OIU_PROF_REAPED);
  }
  /* Nothing written under the lock, or all of it ordered by the last
   * batch's fence: no barrier of its own (each is 0.7 us on an H100). */
  oiu_store_relaxed(&d->cq_lock, 0);
}

static void progress(const struct oiu_channel *ch) {
  sq_publish(ch);
  cq_reap(ch);
}

void oiu_progress(const struct oiu_channel *ch) { progress(ch); }

/* The leader's v for the claiming lanes; a lane claiming alone (NVIDIA, the
 * host) makes no lane operation at all. */
static uint32_t from_leader(oiu_lanes lanes, uint32_t v) {
  return lanes & (lanes - 1) ? oiu_broadcast(lanes, v) : v;
}

/*
 * The free-group queue (channel.h, struct oiu_slot_cell). A waiting thread
 * polls its own ticket's cell, one word, and drives no ring: every group is
 * held by a thread that formats or waits for its own request, and that one
 * drives the rings (oiu_submit_wait). The search it replaces had every
 * waiter read 32 group words a round. With 4,096 slots an H100 keeps
 * 410-440 k unbuffered lines/s from 33,792 and 67,584 threads (README,
 * Unbuffered printf at scale).
 */
static struct oiu_slot_cell *queue_cell(const struct oiu_channel *ch, uint64_t pos, uint32_t n,
                                        uint32_t *cell, uint32_t *lap) {
  uint64_t lap64 = pos / n; /* one 64-bit division per call, on every printf's path */
  *cell = (uint32_t)(pos - lap64 * n);
  *lap = (uint32_t)lap64; /* states compare modulo 2^32, like the lap */
  return &OIU_LOCAL(ch, ch->slot_queue_off, struct oiu_slot_cell)[*cell];
}

/* Waits until the cell's state is want; returns its word. acquire: a taker
 * (pairs with the giver's release store of the word). */
static uint64_t queue_wait(const struct oiu_channel *ch, uint64_t *word, uint32_t want,
                           uint32_t cell, bool acquire) {
  uint64_t w;
  for (uint32_t round = 0;; round++) {
    w = __scoped_atomic_load_n(word, __ATOMIC_RELAXED, OIU_DEV);
    if (oiu_slot_cell_state(w) == want)
      break;
    oiu_wait_note(ch, OIU_WAIT_SLOT_GROUP, cell, want, round);
    oiu_pause(round);
  }
  if (acquire)
    oiu_fence_dev_acquire();
  oiu_wait_done(ch);
  return w;
}

/* Takes the next free group, in ticket order. */
static uint32_t queue_take(const struct oiu_channel *ch, uint32_t n) {
  uint32_t cell, lap;
  struct oiu_slot_cell *c =
      queue_cell(ch, oiu_fetch_add64(&dstate(ch)->slots_taken, 1), n, &cell, &lap);
  /* Pairs with the giver's release: every use of the group's slots before
   * it was given back. */
  uint64_t w = queue_wait(ch, &c->word, 2 * lap, cell, true);
  /* Empty for the next giver. No barrier: our read of the group is the
   * load above of this same word, and a store after it in program order
   * can never be what that load read (coherence), so the giver's refill,
   * which waits for this value, cannot reach it. A separate state word
   * needed a release here (0.7 us on an H100). */
  __scoped_atomic_store_n(&c->word, 2 * lap + 1, __ATOMIC_RELAXED, OIU_DEV);
  return (uint32_t)(w >> 32) ^ cell;
}

/* Puts a group back. Waits only while the taker of the cell's last lap has
 * its ticket but has not read the cell yet (a few instructions). */
static void queue_give(const struct oiu_channel *ch, uint32_t group, uint32_t n) {
  uint32_t cell, lap;
  struct oiu_slot_cell *c =
      queue_cell(ch, oiu_fetch_add64(&dstate(ch)->slots_given, 1) + n, n, &cell, &lap);
  /* No acquire: the refill below is ordered after the empty state it waits
   * for by coherence of the one word, and nothing else is read from it. */
  queue_wait(ch, &c->word, 2 * lap - 1, cell, false);
  /* Pairs with the next taker's acquire: every use of the group's slots
   * before it was given back. */
  oiu_store_release64(&c->word, (uint64_t)(group ^ cell) << 32 | (2 * lap), 0);
}

void oiu_slot_acquire(const struct oiu_channel *ch, struct oiu_slot_ref *ref) {
  oiu_lanes lanes = oiu_claim_lanes();
  uint32_t width = oiu_claim_width();
  uint32_t group = 0;
  if (oiu_is_leader(lanes)) {
    group = queue_take(ch, ch->nslots / width);
    /* Ours alone until every claiming lane has given its slot back. */
    oiu_store_relaxed(&OIU_LOCAL(ch, ch->groups_off, uint32_t)[group], oiu_lane_count(lanes));
  }
  ref->group = from_leader(lanes, group);
  ref->slot = ref->group * width + oiu_lane_rank(lanes);
}

/*
 * Each lane gives its share back; the last one puts the group back in the
 * queue. No lane waits for the others (an H100 once kept a lane at a lane
 * barrier here for good; on NVIDIA a group is one lane now, see
 * oiu_claim_lanes).
 */
void oiu_slot_release(const struct oiu_channel *ch, const struct oiu_slot_ref *ref) {
  uint32_t *lanes_in = &OIU_LOCAL(ch, ch->groups_off, uint32_t)[ref->group];
  if (oiu_claim_width() == 1) {
    /* A group of one (NVIDIA, the host): no lane to count down, and
     * queue_give's release covers this thread's use of the slot. One
     * system-scope barrier less per printf (0.7 us each on an H100). */
    oiu_store_relaxed(lanes_in, OIU_GROUP_FREE);
    queue_give(ch, ref->group, ch->nslots);
    return;
  }
  /* Pairs with the last lane's acquire fence: this lane is done with its slot. */
  if (oiu_fetch_sub_release(lanes_in, 1) != 1)
    return;
  oiu_fence_dev_acquire(); /* every lane's use is before */
  queue_give(ch, ref->group, ch->nslots / oiu_claim_width());
}

/*
 * The kernel's SQ head, as far as producers need it. They compare against a
 * device-local copy; only when that shows no room does one of them (the
 * holder of sq_head_lock) read the head itself from host memory. Every
 * producer reading it, on every printf and again each round while the ring
 * was full, put thousands of PCIe reads in front of the requests' own.
 */
static uint32_t sq_head_refresh(const struct oiu_channel *ch, struct oiu_dstate *d) {
  if (!try_lock(&d->sq_head_lock))
    return oiu_load_acquire(&d->sq_head_seen, 0); /* the holder reads it */
  /* Pairs with the kernel's smp_store_release(sq.head): entries below head are consumed. */
  uint32_t head = oiu_load_acquire(OIU_SHARED(ch, ch->sq_head_off, uint32_t), 1);
  /* Pairs with the acquire loads of sq_head_seen: passes the kernel's
   * consumption on, so a producer may overwrite the entries below head. */
  oiu_store_release(&d->sq_head_seen, head, 0);
  oiu_store_release(&d->sq_head_lock, 0, 0); /* pairs with the next holder's CAS */
  return head;
}

/* Reserves one SQ entry per claiming lane, only when the ring has room for all. */
static uint32_t sq_reserve(const struct oiu_channel *ch) {
  oiu_lanes lanes = oiu_claim_lanes();
  uint32_t n = oiu_lane_count(lanes);
  uint32_t first = 0;
  if (oiu_is_leader(lanes)) {
    struct oiu_dstate *d = dstate(ch);
    first = oiu_load_relaxed(&d->sq_reserved);
    for (uint32_t round = 0;; round++) {
      /* Pairs with sq_head_refresh's release: entries below head are consumed. */
      uint32_t head = oiu_load_acquire(&d->sq_head_seen, 0);
      if (first - head + n > ch->sq_entries)
        head = sq_head_refresh(ch, d);
      if (first - head + n <= ch->sq_entries) {
        if (oiu_cas_relaxed(&d->sq_reserved, &first, first + n))
          break;
        continue; /* another producer moved sq_reserved: first is its value now */
      }
      oiu_wait_note(ch, OIU_WAIT_SQ_ROOM, first, head, round);
      progress(ch);
      oiu_pause(round);
      first = oiu_load_relaxed(&d->sq_reserved);
    }
    oiu_wait_done(ch);
  }
  return from_leader(lanes, first) + oiu_lane_rank(lanes);
}

uint32_t oiu_submit(const struct oiu_channel *ch, uint32_t cell, struct oiu_sqe *sqe) {
  struct oiu_slot *s = &OIU_LOCAL(ch, ch->slots_off, struct oiu_slot)[cell];
  uint32_t expect = oiu_load_relaxed(&s->seq) + 1; /* no request of ours is in flight */
  sqe->user_data = oiu_user_data(OIU_REQ_IO, cell);

  uint32_t idx = sq_reserve(ch);
  oiu_prof(OIU_PROF_RESERVE);
  struct oiu_dstate *d = dstate(ch);
  uint32_t *ready = OIU_LOCAL(ch, ch->sq_ready_off, uint32_t);
  __builtin_memcpy(&OIU_SHARED(ch, ch->sqes_off, struct oiu_sqe)[idx & ch->sq_mask], sqe,
                   sizeof *sqe);
  bool locked = try_lock(&d->sq_lock);
  if (locked && oiu_load_relaxed(&d->sq_published) == idx) { /* only lock holders store it */
    /* Next in line: our entry goes out under the tail's one fence, with no
     * release of ready[] first (0.7 us less on an H100). ready[] is stored
     * all the same, before that fence (and so before the kernel may consume
     * the entry and a later lap's producer refill the word): no word may
     * stay 2^32 requests stale, where a waiter would take it for filled.
     * Only lock holders act on it, and we hold the lock until the fence. */
    oiu_store_relaxed(&ready[idx & ch->sq_mask], idx + 1);
    publish_tail(ch, d, filled_from(ch, ready, idx + 1));
    oiu_prof(OIU_PROF_SUBMIT);
    return expect;
  }
  /* Pairs with the lock holders' acquire (sq_publish_locked); system scope
   * so the tail store carries it to the kernel. */
  oiu_store_release(&ready[idx & ch->sq_mask], idx + 1, 1);
  if (locked) /* entries before ours are not filled yet: publish up to them */
    sq_publish_locked(ch, d, oiu_load_relaxed(&d->sq_published));
  oiu_prof(OIU_PROF_SUBMIT);
  return expect;
}

bool oiu_poll(const struct oiu_channel *ch, uint32_t cell, uint32_t expect, int32_t *res) {
  struct oiu_slot *s = &OIU_LOCAL(ch, ch->slots_off, struct oiu_slot)[cell];
  /* Pairs with cq_reap's release: res holds our CQE's result. */
  if (oiu_load_acquire(&s->seq, 0) != expect)
    return false;
  *res = s->res;
  return true;
}

int32_t oiu_submit_wait(const struct oiu_channel *ch, uint32_t slot, struct oiu_sqe *sqe) {
  oiu_prof(OIU_PROF_FORMAT);
  uint32_t expect = oiu_submit(ch, slot, sqe);
  int32_t res;
  OIU_LOOP_ENTER(entered);
  for (uint32_t round = 0;; round++) {
    /* One lane of those waiting together drives the rings: thousands of
     * lanes contending for the publish/reap locks starve the holders. */
    if (oiu_is_leader(oiu_active_lanes()))
      progress(ch);
    if (oiu_poll(ch, slot, expect, &res)) {
      oiu_prof(OIU_PROF_RESULT);
      break;
    }
    oiu_wait_note(ch, OIU_WAIT_COMPLETION, slot, expect, round);
    oiu_pause(round);
  }
  oiu_wait_done(ch);
  OIU_LOOP_EXIT(entered);
  return res;
}

int oiu_write_slot(const struct oiu_channel *ch, uint32_t slot, int fd, uint32_t len) {
  uint32_t done = 0;
  while (done < len) {
    struct oiu_sqe sqe = {0};
    sqe.opcode = OIU_OP_WRITE;
    sqe.fd = fd;
    sqe.off = (uint64_t)-1; /* the file's own position, like write(2) */
    sqe.addr = oiu_slot_host_addr(ch, slot) + done;
    sqe.len = len - done;
    /* Regular files: append atomically (see channel.h, regular_fd_mask). */
    if (fd >= 0 && fd < 32 && (oiu_load_relaxed(&ch->regular_fd_mask) & (1u << fd)))
      sqe.op_flags = OIU_RWF_APPEND;
    int32_t res = oiu_submit_wait(ch, slot, &sqe);
    if (res == -OIU_EINTR || res == -OIU_EAGAIN)
      continue;
    if (res < 0)
      return res;
    if (res == 0)
      return -OIU_EIO; /* the sink accepted nothing */
    done += (uint32_t)res;
  }
  return 0;
}

OIU_DEVICE_END
