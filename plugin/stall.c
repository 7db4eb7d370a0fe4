/* SPDX-License-Identifier: MIT */
/*
 * LIBOMPTARGET_IO_URING_STALL_S=S: when a target region of a device runs and
 * its device code has made no request for S seconds, the host thread prints
 * the state of that device's rings once (until requests come again): who
 * holds which lock, slot group, bulk chunk and host call, how far the SQ was
 * reserved, filled, published and consumed, and how far the CQ was reaped.
 * A hung kernel is then diagnosed from one run: a reservation never filled,
 * a lock never freed, a chunk whose owner waits for a completion already
 * reaped. The device-local block is copied while the kernel runs (mem_*.c);
 * the snapshot is not atomic, but a hang holds still.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Appends the indices i < n with busy(i) to line, at most `max` of them. */
#define LIST(line, n, max, cond)                                                             \
  do {                                                                                       \
    size_t len_ = strlen(line);                                                              \
    uint32_t shown_ = 0, count_ = 0;                                                         \
    for (uint32_t i = 0; i < (n); i++) {                                                     \
      if (!(cond))                                                                           \
        continue;                                                                            \
      count_++;                                                                              \
      if (shown_ < (max) && len_ + 16 < sizeof(line)) {                                      \
        len_ += (size_t)snprintf(line + len_, sizeof(line) - len_, " %u", i);               \
        shown_++;                                                                            \
      }                                                                                      \
    }                                                                                        \
    snprintf(line + len_, sizeof(line) - len_, "%s (%u in all)", count_ > shown_ ? " ..." : "", \
             count_);                                                                        \
  } while (0)

/* One thread's wait record, in words. */
static void describe_wait(const struct oiu_channel *ch, const struct oiu_slot *cells, uint32_t t,
                          const struct oiu_wait *w) {
  uint32_t done = w->a < ch->ncells ? cells[w->a].seq : 0;
  switch (w->kind) {
  case OIU_WAIT_COMPLETION:
  case OIU_WAIT_TRANSFER:
    if (w->a == ~0u)
      oiu_warn("    thread %u: in a transfer, waits for a bulk chunk (round %u)", t, w->round);
    else
      oiu_warn("    thread %u: %s, waits for cell %u's completion %u (it has %u; round %u)", t,
               w->kind == OIU_WAIT_TRANSFER ? "in a transfer" : "one request", w->a, w->b, done,
               w->round);
    break;
  case OIU_WAIT_LANES:
    oiu_warn("    thread %u: at a lane barrier with lanes %#x", t, w->a);
    break;
  case OIU_WAIT_HOSTCALL:
    if (w->a == ~0u)
      oiu_warn("    thread %u: waits for a free host-call entry", t);
    else
      oiu_warn("    thread %u: waits for host call %u's answer %u", t, w->a, w->b);
    break;
  case OIU_WAIT_SQ_ROOM:
    oiu_warn("    thread %u: waits for SQ room: entry %u wanted, head %u", t, w->a, w->b);
    break;
  case OIU_WAIT_SLOT_GROUP:
    oiu_warn("    thread %u: waits for a free slot: queue cell %u to reach state %u", t, w->a,
             w->b);
    break;
  case OIU_WAIT_STREAM:
    oiu_warn("    thread %u: waits for %s's %s", t, w->a ? "stderr" : "stdout",
             w->b ? "flush" : "ring space");
    break;
  }
}

/* How many device threads wait for what (channel.h, struct oiu_wait), and a few of each. */
static void report_waits(const struct oiu_device *dev, const char *local) {
  const struct oiu_channel *ch = dev->ch;
  if (!ch->nwaits)
    return;
  const struct oiu_wait *w = (const struct oiu_wait *)(local + ch->waits_off);
  const struct oiu_slot *cells = (const struct oiu_slot *)(local + ch->slots_off);
  uint32_t count[OIU_WAIT_STREAM + 1] = {0};
  for (uint32_t t = 0; t < ch->nwaits; t++)
    if (w[t].kind <= OIU_WAIT_STREAM)
      count[w[t].kind]++;
  oiu_warn("  device threads waiting: %u for one request, %u in transfers, %u at lane barriers, "
           "%u for host calls, %u for SQ room, %u for slots, %u on streams%s",
           count[OIU_WAIT_COMPLETION], count[OIU_WAIT_TRANSFER], count[OIU_WAIT_LANES],
           count[OIU_WAIT_HOSTCALL], count[OIU_WAIT_SQ_ROOM], count[OIU_WAIT_SLOT_GROUP],
           count[OIU_WAIT_STREAM], dev->backend == OIU_MEM_HOST ? " (threads by kernel id)" : "");
  static const uint32_t order[] = {OIU_WAIT_COMPLETION, OIU_WAIT_TRANSFER, OIU_WAIT_LANES,
                                   OIU_WAIT_HOSTCALL,   OIU_WAIT_SQ_ROOM,  OIU_WAIT_SLOT_GROUP,
                                   OIU_WAIT_STREAM};
  for (size_t k = 0; k < sizeof order / sizeof *order; k++)
    for (uint32_t t = 0, shown = 0; t < ch->nwaits && shown < 6; t++)
      if (w[t].kind == order[k]) {
        describe_wait(ch, cells, t, &w[t]);
        shown++;
      }
}

static void report(struct oiu_device *dev, double quiet_s) {
  const struct oiu_channel *ch = dev->ch;
  oiu_warn("device %d (%s): a target region runs and its device code made no request for %.1f s%s; "
           "the state of its rings follows (LIBOMPTARGET_IO_URING_STALL_S)",
           dev->num, dev->type, quiet_s,
           __atomic_load_n(&dev->drain, __ATOMIC_ACQUIRE)
               ? " (the region ended: its buffered text is being drained)"
               : "");
  uint32_t sq_head = oiu_ring_word(ch, ch->sq_head_off);
  uint32_t sq_tail = oiu_ring_word(ch, ch->sq_tail_off);
  uint32_t cq_head = oiu_ring_word(ch, ch->cq_head_off);
  uint32_t cq_tail = oiu_ring_word(ch, ch->cq_tail_off);
  uint32_t sq_flags = oiu_ring_word(ch, ch->sq_flags_off);
  char line[480];
  const struct oiu_hostcall *hc =
      (const struct oiu_hostcall *)((const char *)ch + ch->hostcalls_off);
  char *local = malloc(dev->region.local_size);
  int err = local ? oiu_mem_read_local(&dev->region, local, 3000) : -ENOMEM;
  if (err) {
    oiu_warn("  SQ: published %u, consumed %u (flags %#x); CQ: posted %u, reaped %u", sq_tail,
             sq_head, sq_flags, cq_tail, cq_head);
    oiu_warn("  device-local state unreadable: %s",
             err == -ENOSYS   ? "not on this backend"
             : err == -EAGAIN ? "a free of device memory waits for the kernel"
                              : strerror(-err));
    if (err != -ETIMEDOUT) /* a timed-out copy may still write into it */
      free(local);
    return;
  }
  const struct oiu_dstate *d = (const struct oiu_dstate *)(local + ch->dstate_off);
  const uint32_t *ready = (const uint32_t *)(local + ch->sq_ready_off);
  const struct oiu_slot *cells = (const struct oiu_slot *)(local + ch->slots_off);
  const uint32_t *groups = (const uint32_t *)(local + ch->groups_off);
  const uint32_t *chunks = (const uint32_t *)(local + ch->chunk_state_off);
  const uint32_t *owners = (const uint32_t *)(local + ch->hostcall_owner_off);
  const struct oiu_stream_local *sl = (const struct oiu_stream_local *)(local + ch->stream_local_off);
  const struct oiu_stream_shared *ss =
      (const struct oiu_stream_shared *)((const char *)ch + ch->streams_off);
  /* Filled entries after the tail: the publisher stops at the first unfilled one. */
  uint32_t filled = 0;
  while (filled < d->sq_reserved - sq_tail && filled < ch->sq_entries &&
         ready[(sq_tail + filled) & ch->sq_mask] == sq_tail + filled + 1)
    filled++;
  oiu_warn("  SQ: reserved %u, published %u (then %u filled, %u reserved and not filled), "
           "consumed %u, flags %#x; publish lock %s",
           d->sq_reserved, sq_tail, filled, d->sq_reserved - sq_tail - filled, sq_head, sq_flags,
           d->sq_lock ? "HELD" : "free");
  oiu_warn("  CQ: posted %u, reaped %u; reap lock %s", cq_tail, cq_head,
           d->cq_lock ? "HELD" : "free");
  /* Slots are taken in groups of a wavefront on AMD, one by one elsewhere
   * (device-rtl/target.h, oiu_claim_lanes). */
  uint32_t width = dev->backend == OIU_MEM_HSA ? OIU_MAX_GROUP : 1;
  uint32_t ngroups = ch->nslots / width;
  /* Tickets beyond the free groups are threads waiting in the queue. */
  uint64_t taken = d->slots_taken, free_end = d->slots_given + ngroups;
  oiu_warn("  free-slot queue: %llu tickets taken, %llu groups given back: %llu %s",
           (unsigned long long)taken, (unsigned long long)d->slots_given,
           (unsigned long long)(free_end >= taken ? free_end - taken : taken - free_end),
           free_end >= taken ? "free" : "waiting");
  snprintf(line, sizeof line, width > 1 ? "  slot groups busy:" : "  slots busy:");
  LIST(line, ngroups, 24, groups[i] != OIU_GROUP_FREE);
  oiu_warn("%s", line);
  /* The completion counts of busy slots, to hold against a trace
   * (LIBOMPTARGET_IO_URING_TRACE=1 names each request's user_data). */
  for (uint32_t g = 0, shown = 0; g < ngroups && shown < 4; g++) {
    if (groups[g] == OIU_GROUP_FREE)
      continue;
    size_t len;
    if (width == 1)
      len = (size_t)snprintf(line, sizeof line, "    slot %u: completed", g);
    else /* a group's word counts the lanes that have not given their slots back */
      len = (size_t)snprintf(line, sizeof line, "    group %u (%u lane%s in it): slots %u-%u completed",
                             g, groups[g], groups[g] == 1 ? "" : "s", g * width, g * width + width - 1);
    for (uint32_t k = 0; k < width && len + 12 < sizeof line; k++)
      len += (size_t)snprintf(line + len, sizeof line - len, " %u", cells[g * width + k].seq);
    oiu_warn("%s", line);
    shown++;
  }
  snprintf(line, sizeof line, "  bulk chunks busy:");
  LIST(line, ch->nchunks, 24, chunks[i] != OIU_GROUP_FREE);
  oiu_warn("%s", line);
  for (uint32_t i = 0, shown = 0; i < ch->nchunks && shown < 8; i++)
    if (chunks[i] != OIU_GROUP_FREE) {
      const struct oiu_slot *c = &cells[ch->nslots + i];
      oiu_warn("    chunk %u: cell %u completed %u requests, last result %d", i, ch->nslots + i,
               c->seq, c->res);
      shown++;
    }
  snprintf(line, sizeof line, "  host calls owned:");
  LIST(line, OIU_NHOSTCALLS, 16, owners[i] != 0);
  oiu_warn("%s", line);
  for (uint32_t i = 0; i < OIU_NHOSTCALLS; i++)
    if (owners[i])
      oiu_warn("    host call %u: op %u fd %d, posted %u, answered %u", i, hc[i].op, hc[i].fd,
               __atomic_load_n(&hc[i].posted, __ATOMIC_ACQUIRE),
               __atomic_load_n(&hc[i].done, __ATOMIC_ACQUIRE));
  report_waits(dev, local);
  for (int s = 0; s < OIU_NSTREAMS; s++)
    oiu_warn("  %s stream: reserved %llu, taken by the host %llu, written %llu, flush asked to %llu",
             s ? "stderr" : "stdout", (unsigned long long)sl[s].reserved,
             (unsigned long long)__atomic_load_n(&ss[s].flushed, __ATOMIC_ACQUIRE),
             (unsigned long long)__atomic_load_n(&ss[s].written, __ATOMIC_ACQUIRE),
             (unsigned long long)__atomic_load_n(&ss[s].flush_to, __ATOMIC_ACQUIRE));
  free(local);
}

void oiu_stall_check(struct oiu_device *dev, int work) {
  if (!oiu_cfg.stall_s || !dev->ch)
    return;
  uint64_t now = oiu_now_ns();
  if (work || !dev->quiet_since || !__atomic_load_n(&dev->regions, __ATOMIC_RELAXED)) {
    dev->quiet_since = now; /* a region that just began starts its quiet period now */
    dev->stall_reported = 0;
    return;
  }
  double quiet_s = (double)(now - dev->quiet_since) / 1e9;
  if (dev->stall_reported || quiet_s < oiu_cfg.stall_s)
    return;
  dev->stall_reported = 1;
  report(dev, quiet_s);
}
