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

/* Advances the SQ tail over every filled entry. Bounded: one pass over the ring. */
static void sq_publish(const struct oiu_channel *ch) {
  struct oiu_dstate *d = dstate(ch);
  if (!try_lock(&d->sq_lock))
    return; /* the holder publishes; we retry from our wait loop */
  uint32_t *ready = OIU_LOCAL(ch, ch->sq_ready_off, uint32_t);
  uint32_t *tailp = OIU_SHARED(ch, ch->sq_tail_off, uint32_t);
  uint32_t start = oiu_load_relaxed(tailp); /* only lock holders store it */
  uint32_t t = start;
  /* Pairs with the producer's release of ready[]: its SQE is complete. */
  while (oiu_load_acquire(&ready[t & ch->sq_mask], 1) == t + 1)
    t++;
  if (t != start)
    /* Pairs with the kernel's smp_load_acquire(sq.tail): SQEs before tail. */
    oiu_store_release(tailp, t, 1);
  oiu_store_release(&d->sq_lock, 0, 0); /* pairs with the next holder's CAS */
  if (t != start)
    oiu_doorbell(ch);
}

/* Moves every available CQE's result into the slot its user_data names. */
static void cq_reap(const struct oiu_channel *ch) {
  struct oiu_dstate *d = dstate(ch);
  if (!try_lock(&d->cq_lock))
    return;
  uint32_t *headp = OIU_SHARED(ch, ch->cq_head_off, uint32_t);
  const struct oiu_cqe *cqes = OIU_SHARED(ch, ch->cqes_off, struct oiu_cqe);
  struct oiu_slot *slots = OIU_LOCAL(ch, ch->slots_off, struct oiu_slot);
  uint32_t h = oiu_load_relaxed(headp); /* only lock holders store it */
  /* Pairs with the kernel's smp_store_release(cq.tail) after writing CQEs. */
  uint32_t t = oiu_load_acquire(OIU_SHARED(ch, ch->cq_tail_off, uint32_t), 1);
  for (; h != t; h++) {
    const struct oiu_cqe *cqe = &cqes[h & ch->cq_mask];
    /* Atomic (uncached) reads: the kernel rewrites these words every lap, and
     * a stale cached copy would credit the wrong slot. */
    uint64_t ud = __scoped_atomic_load_n(&cqe->user_data, __ATOMIC_RELAXED, OIU_SYS);
    int32_t res = __scoped_atomic_load_n(&cqe->res, __ATOMIC_RELAXED, OIU_SYS);
    uint32_t slot = oiu_user_data_slot(ud);
    if (oiu_user_data_kind(ud) != OIU_REQ_IO || slot >= ch->ncells)
      continue;
    struct oiu_slot *s = &slots[slot];
    s->res = res;
    /* Pairs with the owner's acquire in oiu_submit_wait: res is valid. */
    oiu_store_release(&s->seq, oiu_load_relaxed(&s->seq) + 1, 0);
  }
  /* Pairs with the kernel's read of cq.head: we are done with those CQEs. */
  oiu_store_release(headp, h, 1);
  oiu_store_release(&d->cq_lock, 0, 0);
}

static void progress(const struct oiu_channel *ch) {
  sq_publish(ch);
  cq_reap(ch);
}

void oiu_progress(const struct oiu_channel *ch) { progress(ch); }

#define OIU_GROUP_PROBES 32u /* group words one search round reads */

/* The leader's v for the claiming lanes; a lane claiming alone (NVIDIA, the
 * host) makes no lane operation at all. */
static uint32_t from_leader(oiu_lanes lanes, uint32_t v) {
  return lanes & (lanes - 1) ? oiu_broadcast(lanes, v) : v;
}

/*
 * Waiting for a slot drives no ring: every slot is held by a thread that is
 * formatting or waiting for its own request, and that one drives the rings
 * (oiu_submit_wait). Tens of thousands of slot waiters taking the publish and
 * reap locks, or one shared search hint, made every atomic on them queue:
 * unbuffered printf fell from 163 k to 10.3 k lines/s between 1,024 and
 * 33,792 threads on an H100. Each search starts where this thread's index
 * points (oiu_search_start), so threads share no word.
 */
void oiu_slot_acquire(const struct oiu_channel *ch, struct oiu_slot_ref *ref) {
  oiu_lanes lanes = oiu_claim_lanes();
  uint32_t width = oiu_claim_width();
  uint32_t ngroups = ch->nslots / width;
  uint32_t group = 0;
  if (oiu_is_leader(lanes)) {
    uint32_t *groups = OIU_LOCAL(ch, ch->groups_off, uint32_t);
    /* A bounded look per round: on NVIDIA a group is one slot, and a lane
     * reading every slot's word each round (4,096 by default) would spend
     * its wait scanning. */
    uint32_t probes = ngroups < OIU_GROUP_PROBES ? ngroups : OIU_GROUP_PROBES;
    uint32_t start = oiu_search_start() / width % ngroups;
    for (uint32_t round = 0;; round++, start = (start + probes) % ngroups) {
      uint32_t i = 0;
      for (; i < probes; i++) {
        group = (start + i) % ngroups;
        /* Pairs with the releases in oiu_slot_release: the last owners are
         * done. The word holds how many lanes still use the group. */
        if (oiu_load_relaxed(&groups[group]) == OIU_GROUP_FREE &&
            oiu_cas_acquire(&groups[group], OIU_GROUP_FREE, oiu_lane_count(lanes)))
          break;
      }
      if (i < probes)
        break;
      oiu_wait_note(ch, OIU_WAIT_SLOT_GROUP, 0, 0, round);
      oiu_pause(round);
    }
    oiu_wait_done(ch);
  }
  ref->group = from_leader(lanes, group);
  ref->slot = ref->group * width + oiu_lane_rank(lanes);
}

/*
 * Each lane gives its share back; the last one's makes the group free. No
 * lane waits for the others (an H100 once kept a lane at a lane barrier here
 * for good; on NVIDIA a group is one lane now, see oiu_claim_lanes).
 */
void oiu_slot_release(const struct oiu_channel *ch, const struct oiu_slot_ref *ref) {
  /* Pairs with the next owner's CAS: this lane is done with its slot. */
  oiu_fetch_sub_release(&OIU_LOCAL(ch, ch->groups_off, uint32_t)[ref->group], 1);
}

/* Reserves one SQ entry per claiming lane, only when the ring has room for all. */
static uint32_t sq_reserve(const struct oiu_channel *ch) {
  oiu_lanes lanes = oiu_claim_lanes();
  uint32_t n = oiu_lane_count(lanes);
  uint32_t first = 0;
  if (oiu_is_leader(lanes)) {
    struct oiu_dstate *d = dstate(ch);
    const uint32_t *headp = OIU_SHARED(ch, ch->sq_head_off, uint32_t);
    first = oiu_load_relaxed(&d->sq_reserved);
    for (uint32_t round = 0;; round++) {
      /* Pairs with the kernel's smp_store_release(sq.head): entries below head are consumed. */
      uint32_t head = oiu_load_acquire(headp, 1);
      if (first - head + n <= ch->sq_entries &&
          oiu_cas_relaxed(&d->sq_reserved, &first, first + n))
        break;
      if (first - head + n > ch->sq_entries) {
        oiu_wait_note(ch, OIU_WAIT_SQ_ROOM, first, head, round);
        progress(ch);
        oiu_pause(round);
        first = oiu_load_relaxed(&d->sq_reserved);
      }
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
  struct oiu_sqe *dst = &OIU_SHARED(ch, ch->sqes_off, struct oiu_sqe)[idx & ch->sq_mask];
  __builtin_memcpy(dst, sqe, sizeof *sqe);
  /* Pairs with sq_publish's acquire; system scope so the tail store carries it to the kernel. */
  oiu_store_release(&OIU_LOCAL(ch, ch->sq_ready_off, uint32_t)[idx & ch->sq_mask], idx + 1, 1);
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
  uint32_t expect = oiu_submit(ch, slot, sqe);
  int32_t res;
  OIU_LOOP_ENTER(entered);
  for (uint32_t round = 0;; round++) {
    /* One lane of those waiting together drives the rings: thousands of
     * lanes contending for the publish/reap locks starve the holders. */
    if (oiu_is_leader(oiu_active_lanes()))
      progress(ch);
    if (oiu_poll(ch, slot, expect, &res))
      break;
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
    if (fd >= 0 && fd < 32 && (oiu_load_relaxed(&oiu_live_header(ch)->regular_fd_mask) & (1u << fd)))
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
