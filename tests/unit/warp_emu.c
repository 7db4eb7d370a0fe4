/* SPDX-License-Identifier: MIT */
/*
 * Emulated GPU warps for host tests (target.h, OIU_EMULATED_WARPS): host
 * threads in groups of WARP_EMU_LANES play the lanes of a warp under
 * independent thread scheduling. oiu_active_lanes gathers the lanes of a
 * warp that reach the same call site within a random window (or, at random,
 * none: divergence); broadcasts, prefix sums, ballots and lane barriers are
 * rendezvous of the lanes a mask names, matched by the mask alone, as
 * shfl.sync and bar.warp.sync match on sm_70+. A lane naming a mask without
 * itself (undefined on a GPU) ends the test. Slots and SQ entries are
 * claimed per lane, as on NVIDIA (oiu_claim_lanes).
 *
 * Lock-step mode (warp_emu_lockstep) adds what an AMD wavefront does, which
 * has no independent thread scheduling: lanes that leave a waiting loop of
 * device-rtl (OIU_LOOP_EXIT) wait there for every lane that entered it with
 * them, so a lane holding what another waits for inside the loop deadlocks;
 * and slots and SQ entries are claimed by the gathered lanes together.
 */
#define _GNU_SOURCE
#include "warp_emu.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xorshift.h"

#include "target.h"

struct gathering {
  void *site; /* the call site of oiu_active_lanes, 0: free */
  oiu_lanes mask;
};
struct rendezvous {
  uint32_t gen, arrived;
  uint32_t vals[2][WARP_EMU_LANES];
};
struct warp {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct gathering g[WARP_EMU_LANES];
  oiu_lanes result[WARP_EMU_LANES];
  int done[WARP_EMU_LANES];
  struct rendezvous rv[1u << WARP_EMU_LANES];
  struct rendezvous loop_rv[1u << WARP_EMU_LANES]; /* lock-step loop exits, apart from lane ops */
};
static struct warp *warps;
static _Thread_local struct warp *my_warp;
static _Thread_local uint32_t my_lane;
static _Thread_local uint64_t rng;
uint64_t warp_emu_gathered[2];
int warp_emu_lockstep;

static uint64_t next_random(void) { return xorshift64(&rng); }

void warp_emu_init(int nwarps) {
  warps = calloc((size_t)nwarps, sizeof *warps);
  for (int w = 0; w < nwarps; w++) {
    pthread_mutex_init(&warps[w].mu, NULL);
    pthread_cond_init(&warps[w].cv, NULL);
  }
}

void warp_emu_enter(int warp, uint32_t lane) {
  my_warp = &warps[warp];
  my_lane = lane;
  rng = 0x9e3779b97f4a7c15ull * (uint64_t)(warp * WARP_EMU_LANES + (int)lane + 1);
}

static void misuse(const char *what, oiu_lanes m) {
  fprintf(stderr, "warp_emu: lane %u: %s (mask %#llx): FAILED\n", my_lane, what,
          (unsigned long long)m);
  _exit(1);
}

uint32_t oiu_lane_id(void) { return my_lane; }
uint32_t oiu_thread_index(void) { return (uint32_t)(my_warp - warps) * WARP_EMU_LANES + my_lane; }

/* The lanes of this warp that reach `site` within a short window. */
static oiu_lanes gather(void *site) {
  struct warp *w = my_warp;
  pthread_mutex_lock(&w->mu);
  for (int i = 0; i < WARP_EMU_LANES; i++)
    if (w->g[i].site == site && next_random() % 8) { /* sometimes diverged all the same */
      w->g[i].mask |= 1ull << my_lane;
      w->done[my_lane] = 0;
      while (!w->done[my_lane])
        pthread_cond_wait(&w->cv, &w->mu);
      oiu_lanes m = w->result[my_lane];
      pthread_mutex_unlock(&w->mu);
      return m;
    }
  int mine = -1;
  for (int i = 0; i < WARP_EMU_LANES && mine < 0; i++)
    if (!w->g[i].site)
      mine = i;
  if (mine < 0)
    misuse("more open gatherings than lanes", 0);
  w->g[mine] = (struct gathering){site, 1ull << my_lane};
  pthread_mutex_unlock(&w->mu);
  for (uint64_t k = next_random() % 4; k; k--) /* the window */
    sched_yield();
  pthread_mutex_lock(&w->mu);
  oiu_lanes m = w->g[mine].mask;
  w->g[mine].site = NULL;
  warp_emu_gathered[__builtin_popcountll(m) > 1]++;
  for (uint32_t l = 0; l < WARP_EMU_LANES; l++)
    if (m & (1ull << l) && l != my_lane) {
      w->result[l] = m;
      w->done[l] = 1;
    }
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  return m;
}

__attribute__((noinline)) oiu_lanes oiu_active_lanes(void) {
  return gather(__builtin_return_address(0));
}

/* What the device library claims slots and SQ entries for (target.h): the
 * gathered lanes in lock-step mode (AMD), the lane alone otherwise (NVIDIA). */
__attribute__((noinline)) oiu_lanes oiu_claim_lanes(void) {
  return warp_emu_lockstep ? gather(__builtin_return_address(0)) : 1ull << my_lane;
}
uint32_t oiu_claim_width(void) { return warp_emu_lockstep ? WARP_EMU_LANES : 1; }

/* Every lane of m deposits a value and waits for all of m. */
static void meet(struct rendezvous *table, oiu_lanes m, uint32_t v, uint32_t out[WARP_EMU_LANES]) {
  if (!(m & (1ull << my_lane)) || m >> WARP_EMU_LANES)
    misuse("a lane operation whose mask leaves the lane out", m);
  struct warp *w = my_warp;
  struct rendezvous *r = &table[m];
  pthread_mutex_lock(&w->mu);
  uint32_t g = r->gen;
  r->vals[g & 1][my_lane] = v;
  if (++r->arrived == (uint32_t)__builtin_popcountll(m)) {
    r->arrived = 0;
    r->gen++;
    pthread_cond_broadcast(&w->cv);
  } else {
    while (r->gen == g)
      pthread_cond_wait(&w->cv, &w->mu);
  }
  memcpy(out, r->vals[g & 1], sizeof r->vals[0]);
  pthread_mutex_unlock(&w->mu);
}

/* shfl.sync and bar.warp.sync: matched by mask alone, wherever each lane is. */
static void exchange(oiu_lanes m, uint32_t v, uint32_t out[WARP_EMU_LANES]) {
  meet(my_warp->rv, m, v, out);
}

/* Lock-step mode (an AMD wavefront): a lane that leaves a waiting loop runs
 * nothing after it until every lane that entered the loop with it has left. */
__attribute__((noinline)) oiu_lanes oiu_emu_loop_enter(void) {
  return gather(__builtin_return_address(0));
}
void oiu_emu_loop_exit(oiu_lanes entered) {
  uint32_t all[WARP_EMU_LANES];
  if (warp_emu_lockstep)
    meet(my_warp->loop_rv, entered, 0, all);
}

uint32_t oiu_broadcast(oiu_lanes m, uint32_t v) {
  uint32_t all[WARP_EMU_LANES];
  exchange(m, v, all);
  return all[__builtin_ctzll(m)];
}
void oiu_lane_sync(oiu_lanes m) {
  uint32_t all[WARP_EMU_LANES];
  exchange(m, 0, all);
}
uint32_t oiu_lane_prefix(oiu_lanes m, uint32_t x, uint32_t *total) {
  uint32_t all[WARP_EMU_LANES], below = 0, sum = 0;
  exchange(m, x, all);
  for (uint32_t l = 0; l < WARP_EMU_LANES; l++)
    if (m & (1ull << l)) {
      below += l < my_lane ? all[l] : 0;
      sum += all[l];
    }
  *total = sum;
  return below;
}
oiu_lanes oiu_lanes_matching(oiu_lanes m, uint32_t key) {
  uint32_t all[WARP_EMU_LANES];
  exchange(m, key, all);
  oiu_lanes same = 0;
  for (uint32_t l = 0; l < WARP_EMU_LANES; l++)
    if (m & (1ull << l) && all[l] == key)
      same |= 1ull << l;
  return same;
}
