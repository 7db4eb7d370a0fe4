/* SPDX-License-Identifier: MIT */
/*
 * stream_stress THREADS MESSAGES: the buffered-stream protocol of
 * device-rtl/stream.c (reserve a frame, copy, write its header, wait for
 * space, flush), built for the host with hooks that yield or sleep at
 * random in its windows (OIU_STRESS_HOOKS), driven by more threads than
 * cores through a 64 KiB ring. A host thread of our own plays the runtime's
 * part (plugin/stream.c): it takes complete frames in ring order, hands
 * their space back and says their text is written.
 *
 * Checked: the output is exactly every message once, untorn, each thread's
 * in order; the frames taken end at reserved. A protocol that loses, skips
 * or double-counts a frame fails here (or stalls, which the watchdog
 * reports) instead of on a GPU.
 */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xorshift.h"

#include "rtl.h"
#ifdef OIU_EMULATED_WARPS /* stream_stress_warps: the writers are lanes of emulated warps */
#include "warp_emu.h"
#endif

#define RING (64u << 10)
#define PAD_MAX 300 /* beyond LOCAL_TEXT (256): some messages are formatted twice */

static _Thread_local uint64_t rng;
static uint64_t next_random(void) { return xorshift64(&rng); }

/* Called by stream.c in its windows: mostly nothing, often a yield, sometimes a sleep. */
void oiu_race_point(void) {
  uint64_t r = next_random() % 1024;
  if (r < 64)
    sched_yield();
  else if (r == 64)
    usleep(50);
}

#ifndef OIU_EMULATED_WARPS
/* Wait records are off here (nwaits 0): any index serves. */
uint32_t oiu_thread_index(void) { return 0; }
#endif

/* The host-target doorbell is the real runtime's; our host thread polls instead. */
void oiu_host_doorbell(const struct oiu_channel *ch) { (void)ch; }

static struct oiu_channel *ch;
static struct oiu_stream_local *local;
static char *out;
static uint64_t out_len, out_cap;
static int writers_done;

static struct oiu_stream_shared *shared(void) {
  return (struct oiu_stream_shared *)((char *)ch + ch->streams_off);
}

/* The runtime's part (plugin/stream.c): take complete frames, free their space. */
static uint64_t scan; /* ring position of the next frame */
static void *host_thread(void *arg) {
  (void)arg;
  struct oiu_stream_shared *sh = shared();
  const char *ring = (char *)ch + ch->rings_off;
  for (;;) {
    /* Pairs with the writer's release of the header. */
    uint64_t h = __atomic_load_n((const uint64_t *)(ring + scan % RING), __ATOMIC_ACQUIRE);
    if ((uint32_t)(h >> 32) != oiu_frame_tag(scan)) {
      if (__atomic_load_n(&writers_done, __ATOMIC_ACQUIRE) &&
          __atomic_load_n(&local[0].reserved, __ATOMIC_ACQUIRE) == scan)
        return NULL;
      sched_yield();
      continue;
    }
    uint32_t len = (uint32_t)h;
    if (len > RING / 4 + 64 || out_len + len > out_cap) {
      fprintf(stderr, "stream_stress: frame of %u bytes at %llu: past a piece or the output\n", len,
              (unsigned long long)scan);
      exit(1);
    }
    for (uint32_t i = 0; i < len; i++)
      out[out_len++] = ring[(scan + 8 + i) % RING];
    __atomic_store_n(&scan, scan + oiu_frame_size(len), __ATOMIC_RELAXED); /* for the watchdog */
    /* Pairs with wait_space's acquire: the space below is free; and with
     * oiu_stream_flush's: the text below is "written" (it is in out). */
    __atomic_store_n(&sh->flushed, scan, __ATOMIC_RELEASE);
    __atomic_store_n(&sh->written, scan, __ATOMIC_RELEASE);
  }
}

/* Device printf to a buffered stdout. */
static int stream_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = oiu_stream_vprintf(ch, 1, fmt, ap);
  va_end(ap);
  return r;
}

static int pad_of(int t, int i) { return (int)((unsigned)(i * 7919 + t * 104729) % PAD_MAX); }

static int write_message(int t, int i) {
  char pad[PAD_MAX + 1];
  int n = pad_of(t, i);
  memset(pad, 'a' + (t + i) % 26, (size_t)n);
  pad[n] = 0;
  if (i % 3 == 2) { /* fputs-like: bytes plus a newline */
    char line[PAD_MAX + 64];
    int len = snprintf(line, sizeof line, "t=%04d i=%06d %s", t, i, pad);
    return oiu_stream_write(ch, 1, line, (size_t)len, 1);
  }
  return stream_printf("t=%04d i=%06d %s\n", t, i, pad);
}

static int messages;
static void *writer(void *arg) {
  int t = (int)(intptr_t)arg;
  rng = 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1);
#ifdef OIU_EMULATED_WARPS
  warp_emu_enter(t / WARP_EMU_LANES, (uint32_t)(t % WARP_EMU_LANES));
#endif
  for (int i = 0; i < messages; i++) {
    if (write_message(t, i) < 0)
      return (void *)1;
    if (i % 1000 == 999 && oiu_stream_flush(ch, 1) != 0)
      return (void *)1;
  }
  return NULL;
}

/* Every message once, untorn, in order per thread. */
static int check(int threads) {
  int *next = calloc((size_t)threads, sizeof *next);
  uint64_t at = 0, lines = 0;
  int bad = 0;
  while (at < out_len && bad < 10) {
    char *nl = memchr(out + at, '\n', out_len - at);
    char head[32] = {0}; /* sscanf on the whole output would strlen it every time */
    memcpy(head, out + at, out_len - at < sizeof head - 1 ? out_len - at : sizeof head - 1);
    int t, i, used = 0;
    if (!nl || sscanf(head, "t=%4d i=%6d%n", &t, &i, &used) != 2 || t < 0 || t >= threads ||
        i != next[t]) {
      fprintf(stderr, "stream_stress: bad line at byte %llu: %.60s\n", (unsigned long long)at,
              out + at);
      bad++;
      if (!nl)
        break;
    } else {
      int n = pad_of(t, i);
      char want = (char)('a' + (t + i) % 26);
      used++; /* the space before the padding (a scanf space would skip newlines too) */
      int ok = out[at + (uint64_t)used - 1] == ' ' && nl - (out + at) == used + n;
      for (int j = 0; ok && j < n; j++)
        ok = out[at + (uint64_t)used + (uint64_t)j] == want;
      if (!ok) {
        fprintf(stderr, "stream_stress: torn line at byte %llu\n", (unsigned long long)at);
        bad++;
      }
      next[t]++;
    }
    lines++;
    at = (uint64_t)(nl - out) + 1;
  }
  for (int t = 0; t < threads; t++)
    if (next[t] != messages && bad++ < 10)
      fprintf(stderr, "stream_stress: thread %d: %d of %d messages\n", t, next[t], messages);
  printf("stream_stress: %llu lines, %llu bytes through a %u KiB ring: %s\n",
         (unsigned long long)lines, (unsigned long long)out_len, RING >> 10,
         bad ? "FAILED" : "every message once, untorn, in order");
  fflush(stdout);
  free(next);
  return bad;
}

/* A protocol that loses a frame stalls every writer: say where, instead of hanging. */
static void *watchdog(void *arg) {
  (void)arg;
  uint64_t last = (uint64_t)-1;
  for (int still = 0; still < 100; still++) { /* 10 s without progress */
    usleep(100000);
    uint64_t now = __atomic_load_n(&scan, __ATOMIC_RELAXED);
    if (now != last)
      still = 0;
    last = now;
  }
  printf("stream_stress: no progress for 10 s: reserved %llu, frames taken up to %llu: FAILED\n",
         (unsigned long long)__atomic_load_n(&local[0].reserved, __ATOMIC_RELAXED),
         (unsigned long long)last);
  fflush(stdout);
  _exit(1);
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 48;
  messages = argc > 2 ? atoi(argv[2]) : 4000;
  if (threads < 1 || messages < 1) {
    fprintf(stderr, "usage: stream_stress THREADS MESSAGES [lockstep (stream_stress_warps)]\n");
    return 2;
  }
  size_t region = 2 * 4096 + RING;
  ch = aligned_alloc(4096, region);
  local = aligned_alloc(64, OIU_NSTREAMS * sizeof *local);
  memset(ch, 0, region);
  memset(local, 0, OIU_NSTREAMS * sizeof *local);
  *ch = (struct oiu_channel){.magic = OIU_CHANNEL_MAGIC, .version = OIU_CHANNEL_VERSION,
                             .region_addr = (uint64_t)(uintptr_t)ch, .size = region,
                             .local_addr = (uint64_t)(uintptr_t)local, .ring_size = RING,
                             .streams_off = 4096, .rings_off = 8192, .stream_local_off = 0};
  ch->stream_mode[0] = OIU_FULLY_BUFFERED;
  out_cap = (uint64_t)threads * messages * (PAD_MAX + 32);
  out = malloc(out_cap);

  pthread_t host, w[1024];
  if (threads > 1024)
    threads = 1024;
#ifdef OIU_EMULATED_WARPS
  warp_emu_init((threads + WARP_EMU_LANES - 1) / WARP_EMU_LANES);
  warp_emu_lockstep = argc > 3 && !strcmp(argv[3], "lockstep");
#endif
  pthread_create(&host, NULL, host_thread, NULL);
  pthread_t dog;
  pthread_create(&dog, NULL, watchdog, NULL);
  pthread_detach(dog);
  for (int t = 0; t < threads; t++)
    pthread_create(&w[t], NULL, writer, (void *)(intptr_t)t);
  int failed = 0;
  for (int t = 0; t < threads; t++) {
    void *r;
    pthread_join(w[t], &r);
    failed += r != NULL;
  }
  __atomic_store_n(&writers_done, 1, __ATOMIC_RELEASE);
  pthread_join(host, NULL);

  int bad = check(threads) + failed;
#ifdef OIU_EMULATED_WARPS
  printf("stream_stress: lanes of %d emulated warps converged %llu times, alone %llu\n",
         (threads + WARP_EMU_LANES - 1) / WARP_EMU_LANES, (unsigned long long)warp_emu_gathered[1],
         (unsigned long long)warp_emu_gathered[0]);
#endif
  if (scan != local[0].reserved) {
    printf("stream_stress: reserved %llu, frames taken up to %llu\n",
           (unsigned long long)local[0].reserved, (unsigned long long)scan);
    bad++;
  }
  if (failed)
    printf("stream_stress: %d writers got an error\n", failed);
  return bad != 0;
}
