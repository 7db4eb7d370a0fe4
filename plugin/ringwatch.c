/* SPDX-License-Identifier: MIT */
/*
 * LIBOMPTARGET_IO_URING_WATCH=1: a host thread spins on two ring indexes and
 * timestamps every move, to split a request's round trip between the kernel
 * and the device where no profiler sees both:
 *   SQ tail -> CQ tail       the kernel (SQ thread, or io_uring_enter from our
 *                            host thread) takes the entry, runs it, posts its CQE;
 *   CQ tail -> next SQ tail  the device reaps the CQE, and its next request
 *                            is formatted and published.
 * (The SQ head is no stage: the kernel stores it after the batch, often
 * after the CQE.) Meant for one request at a time (printf_bench latency); it
 * keeps a core busy while the channel lives, so the figures need a spare
 * core. Reported at release.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

#define WATCH_MAX (1u << 16) /* requests timed; later ones are counted only */

enum { T_SQ_TAIL, T_CQ_TAIL, T_N };

struct oiu_ringwatch {
  pthread_t thread;
  int stop;
  const struct oiu_channel *ch;
  uint64_t off[T_N];             /* where each index lies in the region */
  uint32_t base[T_N];            /* each index when the watch began */
  uint64_t *at[T_N];             /* at[k][n]: when index k reached base + n + 1 */
  uint32_t skipped;              /* moves by more than one: several requests at once */
};

static void *watch_main(void *arg) {
  struct oiu_ringwatch *w = arg;
  uint32_t last[T_N], v[T_N];
  for (int k = 0; k < T_N; k++)
    last[k] = w->base[k];
  while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
    /* The CQ tail first: a request's CQE comes after its SQ tail move, so one
     * pass never sees the effect without its cause. */
    for (int k = T_N - 1; k >= 0; k--)
      v[k] = oiu_ring_word(w->ch, w->off[k]);
    uint64_t now = 0;
    for (int k = 0; k < T_N; k++) {
      if (v[k] == last[k])
        continue;
      now = now ? now : oiu_now_ns();
      w->skipped += v[k] - last[k] != 1;
      for (uint32_t n = last[k] - w->base[k]; n != v[k] - w->base[k] && n < WATCH_MAX; n++)
        w->at[k][n] = now;
      last[k] = v[k];
    }
  }
  return NULL;
}

struct oiu_ringwatch *oiu_ringwatch_start(const struct oiu_channel *ch) {
  struct oiu_ringwatch *w = calloc(1, sizeof *w);
  if (!w)
    return NULL;
  w->ch = ch;
  w->off[T_SQ_TAIL] = ch->sq_tail_off;
  w->off[T_CQ_TAIL] = ch->cq_tail_off;
  for (int k = 0; k < T_N; k++) {
    w->base[k] = oiu_ring_word(ch, w->off[k]);
    w->at[k] = calloc(WATCH_MAX, sizeof(uint64_t));
  }
  if (!w->at[0] || !w->at[1] || pthread_create(&w->thread, NULL, watch_main, w)) {
    oiu_warn("LIBOMPTARGET_IO_URING_WATCH: could not start the watch thread; no timing");
    for (int k = 0; k < T_N; k++)
      free(w->at[k]);
    free(w);
    return NULL;
  }
  return w;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Median and p99 of n intervals in ns, as "median / p99 us". */
static void stats(uint64_t *d, uint32_t n, char *out, size_t size) {
  if (!n) {
    snprintf(out, size, "none");
    return;
  }
  qsort(d, n, sizeof *d, cmp_u64);
  snprintf(out, size, "%.2f / %.2f us", d[n / 2] / 1e3, d[(uint64_t)n * 99 / 100] / 1e3);
}

void oiu_ringwatch_stop(struct oiu_ringwatch *w, const struct oiu_device *dev) {
  if (!w)
    return;
  __atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
  pthread_join(w->thread, NULL);
  uint32_t n = oiu_ring_word(w->ch, w->off[T_CQ_TAIL]) - w->base[T_CQ_TAIL];
  if (n > WATCH_MAX)
    n = WATCH_MAX;
  uint64_t *kernel = malloc((n ? n : 1) * sizeof(uint64_t));
  uint64_t *device = malloc((n ? n : 1) * sizeof(uint64_t));
  uint32_t nk = 0, nd = 0;
  for (uint32_t r = 0; kernel && device && r < n; r++) {
    uint64_t tail = w->at[T_SQ_TAIL][r], cqe = w->at[T_CQ_TAIL][r];
    if (!tail || !cqe)
      continue; /* past WATCH_MAX, or never seen */
    kernel[nk++] = cqe - tail;
    if (r + 1 < n && w->at[T_SQ_TAIL][r + 1] >= cqe) /* not pipelined with the next */
      device[nd++] = w->at[T_SQ_TAIL][r + 1] - cqe;
  }
  char k[64], d[64];
  stats(kernel, nk, k, sizeof k);
  stats(device, nd, d, sizeof d);
  /* A request the watch never saw move (its thread had no CPU then) is not timed. */
  oiu_warn("device %d (%s): ring watch: %u requests, %u timed, %u index moves by more than one; "
           "median / p99: SQ tail -> CQ tail %s, CQ tail -> next SQ tail %s",
           dev->num, dev->type, n, nk, w->skipped, k, d);
  free(kernel);
  free(device);
  for (int k = 0; k < T_N; k++)
    free(w->at[k]);
  free(w);
}
