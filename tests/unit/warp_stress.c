/* SPDX-License-Identifier: MIT */
/*
 * warp_stress WARPS ROUNDS [lockstep]: the lane protocols of device-rtl/ring.c and
 * device-rtl/io.c (slot groups and SQ entries claimed per lane, or, in
 * lock-step mode, by a leader for the lanes that call in together and handed
 * out by broadcast; groups given back lane by lane; bulk chunks taken one at
 * a time)
 * run on a CPU, by host threads playing GPU warps (warp_emu.c); with
 * lockstep, AMD wavefronts (a lane leaving a waiting loop waits there for
 * the lanes that entered it with it). A thread of ours plays the kernel: it consumes SQEs in ring order
 * and performs them with pwritev2/pread, sometimes short, posting CQEs.
 *
 * Each lane, per round:
 *   print       a line through its slot (the unbuffered printf path of
 *               stdio.c: the group is given back by all who took it, then a
 *               lane with text longer than a slot takes a group of its own
 *               and writes slot-sized pieces; lane 0 of warp 0 does so in
 *               round 0 with LONG bytes);
 *   checkpoint  its own RECORD-byte range of a file from private memory
 *               (staging through bulk chunks: more lanes than chunks);
 *   read back   that range, compared.
 * Checked: every line once, whole, in order per lane; the long text whole;
 * the checkpoint file exact; every read exact; no rendezvous misuse (a lane
 * naming a mask without itself). A protocol that loses a request or holds a
 * resource across a wait stalls: the watchdog prints where each lane is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "xorshift.h"

#include "io.h"
#include "warp_emu.h"

#define LANES WARP_EMU_LANES
#define SLOTS 32 /* in lock-step mode 4 groups of 8: fewer than the warps */
#define SLOT_SIZE 256
#define CHUNKS 3
#define CHUNK_SIZE 4096
#define SQ_ENTRIES 16
#define RECORD 5003 /* two pieces, odd: staging copies of every alignment */
#define LONG 9000   /* 36 slot pieces */
#define PAGE 4096u

/* ---- randomness, and where each lane is ---- */

static _Thread_local uint64_t rng;
static uint64_t next_random(void) { return xorshift64(&rng); }
static const char *volatile *where_of; /* what each lane does now, for the watchdog */
static _Thread_local uint32_t my_id;
#define WHERE(what) (where_of[my_id] = (what))

static void jitter(void) {
  uint64_t r = next_random() % 64;
  if (r < 8)
    sched_yield();
  else if (r == 8)
    usleep(20);
}

/* ---- the channel, and the kernel's part ---- */

static struct oiu_channel *ch;
static char *local;
static uint64_t completions; /* CQEs posted: the watchdog's progress */
static int stop;

static uint32_t *word(uint64_t off) { return (uint32_t *)((char *)ch + off); }

static void setup(void) {
  uint32_t ncells = SLOTS + CHUNKS + OIU_MAX_FILES, cq = 2 * SQ_ENTRIES;
  while (cq < ncells)
    cq *= 2;
  uint64_t rings = PAGE, sqes = rings + ((512 + cq * 16 + PAGE - 1) / PAGE) * PAGE;
  uint64_t staging = sqes + SQ_ENTRIES * 64, chunks = staging + SLOTS * SLOT_SIZE;
  uint64_t hostcalls = chunks + CHUNKS * CHUNK_SIZE;
  uint64_t size = hostcalls + OIU_NHOSTCALLS * sizeof(struct oiu_hostcall);
  ch = aligned_alloc(PAGE, (size + PAGE - 1) / PAGE * PAGE);
  memset(ch, 0, size);
  uint64_t ready = sizeof(struct oiu_dstate), slots = ready + SQ_ENTRIES * 4;
  uint64_t groups = slots + ncells * sizeof(struct oiu_slot), queue = groups + SLOTS * 4;
  uint64_t chunk_state = queue + SLOTS * sizeof(struct oiu_slot_cell);
  uint64_t owners = chunk_state + CHUNKS * 4, lsize = owners + OIU_NHOSTCALLS * 4;
  local = aligned_alloc(64, (lsize + 63) / 64 * 64);
  memset(local, 0, lsize);
  *ch = (struct oiu_channel){
      .magic = OIU_CHANNEL_MAGIC, .version = OIU_CHANNEL_VERSION, .mode = OIU_MODE_EMULATED,
      .ring_fd = -1, .host_addr = (uint64_t)(uintptr_t)ch, .region_addr = (uint64_t)(uintptr_t)ch,
      .size = size, .sq_entries = SQ_ENTRIES, .sq_mask = SQ_ENTRIES - 1, .cq_entries = cq,
      .cq_mask = cq - 1, .sq_head_off = rings, .sq_tail_off = rings + 64,
      .sq_flags_off = rings + 128, .cq_head_off = rings + 192, .cq_tail_off = rings + 256,
      .cqes_off = rings + 512, .sqes_off = sqes, .staging_off = staging,
      .local_addr = (uint64_t)(uintptr_t)local, .dstate_off = 0, .sq_ready_off = ready,
      .slots_off = slots, .groups_off = groups, .slot_queue_off = queue, .nslots = SLOTS, .slot_size = SLOT_SIZE,
      .chunks_off = chunks, .nchunks = CHUNKS, .chunk_size = CHUNK_SIZE,
      .chunk_state_off = chunk_state, .ncells = ncells, .hostcalls_off = hostcalls,
      .hostcall_owner_off = owners};
}

/* The kernel: SQEs in ring order, each performed (writes sometimes short), one CQE each. */
static void *kernel_thread(void *arg) {
  (void)arg;
  rng = 12345;
  uint32_t head = 0;
  while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
    /* Pairs with sq_publish's release of the tail. */
    uint32_t tail = __atomic_load_n(word(ch->sq_tail_off), __ATOMIC_ACQUIRE);
    if (head == tail) {
      sched_yield();
      continue;
    }
    struct oiu_sqe s = ((struct oiu_sqe *)((char *)ch + ch->sqes_off))[head & ch->sq_mask];
    int32_t res;
    if (s.opcode == OIU_OP_WRITE) {
      /* Short now and then where a resubmission keeps its place (explicit offsets). */
      uint32_t len = s.off != (uint64_t)-1 && s.len > 1 && next_random() % 8 == 0 ? s.len / 2 : s.len;
      struct iovec iov = {(void *)(uintptr_t)s.addr, len};
      ssize_t r = pwritev2(s.fd, &iov, 1, s.off == (uint64_t)-1 ? -1 : (off_t)s.off, (int)s.op_flags);
      res = r < 0 ? -errno : (int32_t)r;
    } else if (s.opcode == OIU_OP_READ) {
      ssize_t r = pread(s.fd, (void *)(uintptr_t)s.addr, s.len, (off_t)s.off);
      res = r < 0 ? -errno : (int32_t)r;
    } else {
      res = -EINVAL;
    }
    jitter();
    uint32_t ct = *word(ch->cq_tail_off);
    /* Pairs with cq_reap's release of the head: completion cells bound what is in flight. */
    if (ct - __atomic_load_n(word(ch->cq_head_off), __ATOMIC_ACQUIRE) >= ch->cq_entries) {
      fprintf(stderr, "warp_stress: CQ full: more requests in flight than cells: FAILED\n");
      _exit(1);
    }
    ((struct oiu_cqe *)((char *)ch + ch->cqes_off))[ct & ch->cq_mask] =
        (struct oiu_cqe){.user_data = s.user_data, .res = res};
    __atomic_store_n(word(ch->cq_tail_off), ct + 1, __ATOMIC_RELEASE); /* pairs with cq_reap */
    __atomic_store_n(word(ch->sq_head_off), ++head, __ATOMIC_RELEASE); /* pairs with sq_reserve */
    __atomic_add_fetch(&completions, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

/* ---- the lanes' work ---- */

static int rounds, nwarps, lines_fd, long_fd, ckpt_fd;
static int failures;

/* stdio.c's fd_vprintf for text already formatted: a group of the lanes that
 * call in together, given back by all of them; then text longer than a slot
 * from a group of the long callers alone, in slot-sized pieces. */
static int print(int fd, const char *text, uint32_t n) {
  struct oiu_slot_ref ref;
  WHERE("print: taking a slot group");
  oiu_slot_acquire(ch, &ref);
  int long_text = n > ch->slot_size, r = 0;
  if (!long_text) {
    memcpy(oiu_slot_data(ch, ref.slot), text, n);
    WHERE("print: writing a line");
    r = oiu_write_slot(ch, ref.slot, fd, n);
  }
  WHERE("print: giving the group back");
  oiu_slot_release(ch, &ref);
  if (long_text) {
    WHERE("print: taking a group for long text");
    oiu_slot_acquire(ch, &ref);
    for (uint32_t at = 0; at < n && r == 0; at += ch->slot_size) {
      uint32_t k = n - at < ch->slot_size ? n - at : ch->slot_size;
      memcpy(oiu_slot_data(ch, ref.slot), text + at, k);
      WHERE("print: writing a piece of long text");
      r = oiu_write_slot(ch, ref.slot, fd, k);
    }
    WHERE("print: giving the long text's group back");
    oiu_slot_release(ch, &ref);
  }
  return r;
}

static unsigned char pattern(uint64_t i) { return (unsigned char)((i * 0x9e3779b97f4a7c15ull) >> 57); }

static int line_of(char *out, int w, uint32_t l, int round) {
  int pad = (int)((w * 131 + (int)l * 17 + round * 7) % 90);
  return snprintf(out, 160, "w%02d l%u r%05d %.*s\n", w, l, round, pad,
                  "................................................................................"
                  "..........");
}

struct lane_arg {
  int warp;
  uint32_t lane;
};

static void *lane_main(void *p) {
  struct lane_arg *a = p;
  warp_emu_enter(a->warp, a->lane);
  my_id = (uint32_t)(a->warp * LANES) + a->lane;
  rng = 0x9e3779b97f4a7c15ull * (uint64_t)(my_id + 1);
  unsigned char *rec = malloc(RECORD), *back = malloc(RECORD);
  for (int round = 0; round < rounds; round++) {
    char line[160];
    int n = line_of(line, a->warp, a->lane, round);
    if (round == 0 && my_id == 0) {
      char *big = malloc(LONG);
      for (int i = 0; i < LONG; i++)
        big[i] = (char)('A' + i % 26);
      if (print(long_fd, big, LONG) != 0)
        __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
      free(big);
    }
    if (print(lines_fd, line, (uint32_t)n) != 0)
      __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    jitter();
    /* The checkpoint pattern: pwrite of private memory at this lane's range. */
    uint64_t off = ((uint64_t)round * nwarps * LANES + my_id) * RECORD;
    for (int i = 0; i < RECORD; i++)
      rec[i] = pattern(off + (uint64_t)i);
    struct oiu_io io = {.buf = (char *)rec, .len = RECORD, .off = off, .fd = ckpt_fd,
                        .op = OIU_OP_WRITE, .cell = -1};
    WHERE("checkpoint: pwrite");
    if (oiu_io_any(ch, &io) != RECORD)
      __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    memset(back, 0, RECORD);
    struct oiu_io rd = {.buf = (char *)back, .len = RECORD, .off = off, .fd = ckpt_fd,
                        .op = OIU_OP_READ, .cell = -1};
    WHERE("checkpoint: pread");
    if (oiu_io_any(ch, &rd) != RECORD || memcmp(rec, back, RECORD) != 0)
      __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
  }
  WHERE("done");
  free(rec);
  free(back);
  return NULL;
}

/* ---- checks ---- */

static char *slurp(int fd, size_t *n) {
  off_t end = lseek(fd, 0, SEEK_END);
  char *p = malloc((size_t)end + 1);
  *n = (size_t)pread(fd, p, (size_t)end, 0);
  p[*n] = 0;
  return p;
}

static int check(void) {
  int bad = 0, nlanes = nwarps * LANES;
  size_t n;
  char *p = slurp(lines_fd, &n), *save = NULL;
  int *next = calloc((size_t)nlanes, sizeof *next);
  uint64_t lines = 0;
  for (char *s = strtok_r(p, "\n", &save); s; s = strtok_r(NULL, "\n", &save), lines++) {
    int w, r;
    unsigned l;
    char want[160];
    if (sscanf(s, "w%d l%u r%d", &w, &l, &r) != 3 || w < 0 || w >= nwarps || l >= LANES ||
        r != next[w * LANES + (int)l]) {
      if (bad++ < 5)
        fprintf(stderr, "warp_stress: line %llu out of place: %.60s\n", (unsigned long long)lines, s);
      continue;
    }
    line_of(want, w, l, r);
    want[strlen(want) - 1] = 0;
    if (strcmp(s, want) && bad++ < 5)
      fprintf(stderr, "warp_stress: torn line: %.60s\n", s);
    next[w * LANES + (int)l]++;
  }
  for (int i = 0; i < nlanes; i++)
    if (next[i] != rounds && bad++ < 10)
      fprintf(stderr, "warp_stress: lane %d: %d of %d lines\n", i, next[i], rounds);
  free(p);
  p = slurp(long_fd, &n);
  int long_ok = n == LONG;
  for (size_t i = 0; long_ok && i < n; i++)
    long_ok = p[i] == (char)('A' + i % 26);
  if (!long_ok && bad++ < 10)
    fprintf(stderr, "warp_stress: the long text: %zu of %d bytes or wrong\n", n, LONG);
  free(p);
  p = slurp(ckpt_fd, &n);
  size_t wrong = 0, total = (size_t)rounds * (size_t)nlanes * RECORD;
  for (size_t i = 0; i < n; i++)
    wrong += (unsigned char)p[i] != pattern(i);
  if ((n != total || wrong) && bad++ < 10)
    fprintf(stderr, "warp_stress: checkpoint: %zu of %zu bytes, %zu wrong\n", n, total, wrong);
  free(p);
  free(next);
  /* Every slot given back: no group word left busy, every ticket matched by
   * a give-back, every queue cell full for its next taker. */
  const struct oiu_dstate *d = (const struct oiu_dstate *)local;
  const uint32_t *groups = (const uint32_t *)(local + ch->groups_off);
  const struct oiu_slot_cell *cells = (const struct oiu_slot_cell *)(local + ch->slot_queue_off);
  uint32_t ngroups = SLOTS / oiu_claim_width(), busy = 0, off_lap = 0;
  for (uint32_t g = 0; g < ngroups; g++) {
    busy += groups[g] != 0;
    uint64_t next_ticket = d->slots_taken + (g + ngroups - d->slots_taken % ngroups) % ngroups;
    off_lap += oiu_slot_cell_state(cells[g].word) != 2 * (uint32_t)(next_ticket / ngroups);
  }
  if ((busy || off_lap || d->slots_taken != d->slots_given) && bad++ < 10)
    fprintf(stderr, "warp_stress: slots at the end: %u groups busy, %u queue cells off their lap, "
            "%llu taken, %llu given back\n", busy, off_lap, (unsigned long long)d->slots_taken,
            (unsigned long long)d->slots_given);
  printf("warp_stress%s: %d warps x %d lanes x %d rounds: %llu lines, %d-byte long text, %zu "
         "checkpoint bytes through %d chunks, %llu requests (some short); lanes converged %llu "
         "times, alone %llu: %s\n",
         warp_emu_lockstep ? " (lock-step)" : "", nwarps, LANES, rounds, (unsigned long long)lines, LONG, total, CHUNKS,
         (unsigned long long)completions, (unsigned long long)warp_emu_gathered[1],
         (unsigned long long)warp_emu_gathered[0], bad || failures ? "FAILED" : "all exact");
  return bad || failures;
}

/* A lost request or a resource held across a wait stalls every lane: say where. */
static void *watchdog(void *arg) {
  int nlanes = *(int *)arg;
  uint64_t last = (uint64_t)-1;
  for (int still = 0; still < 100; still++) { /* 10 s without a completion */
    usleep(100000);
    if (__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
      return NULL;
    uint64_t now = __atomic_load_n(&completions, __ATOMIC_RELAXED);
    if (now != last)
      still = 0;
    last = now;
  }
  const struct oiu_dstate *d = (const struct oiu_dstate *)local;
  fprintf(stderr,
          "warp_stress: no completion for 10 s: SQ reserved %u published %u consumed %u, CQ "
          "posted %u reaped %u: FAILED\n",
          d->sq_reserved, *word(ch->sq_tail_off), *word(ch->sq_head_off),
          *word(ch->cq_tail_off), *word(ch->cq_head_off));
  for (int i = 0; i < nlanes; i++)
    fprintf(stderr, "  warp %d lane %d: %s\n", i / LANES, i % LANES, where_of[i]);
  const uint32_t *groups = (const uint32_t *)(local + ch->groups_off);
  const uint32_t *chunks = (const uint32_t *)(local + ch->chunk_state_off);
  for (uint32_t g = 0; g < SLOTS / oiu_claim_width(); g++)
    if (groups[g])
      fprintf(stderr, "  slot group %u busy (%u lanes in it)\n", g, groups[g]);
  for (uint32_t c = 0; c < CHUNKS; c++)
    if (chunks[c])
      fprintf(stderr, "  chunk %u busy\n", c);
  _exit(1);
}

/* An unlinked temporary file in $TMPDIR (default /tmp), or -1 with a message. */
static int temp_file(void) {
  const char *dir = getenv("TMPDIR");
  char path[512];
  if ((size_t)snprintf(path, sizeof path, "%s/warp_stress.XXXXXX", dir ? dir : "/tmp") >= sizeof path) {
    fprintf(stderr, "warp_stress: TMPDIR is longer than %zu bytes\n", sizeof path - 20);
    return -1;
  }
  int fd = mkstemp(path);
  if (fd < 0)
    perror(path);
  else
    unlink(path);
  return fd;
}

int main(int argc, char **argv) {
  nwarps = argc > 1 ? atoi(argv[1]) : 3;
  rounds = argc > 2 ? atoi(argv[2]) : 200;
  warp_emu_lockstep = argc > 3 && !strcmp(argv[3], "lockstep");
  if (nwarps < 1 || rounds < 1 || (argc > 3 && !warp_emu_lockstep)) {
    fprintf(stderr, "usage: warp_stress WARPS ROUNDS [lockstep]\n");
    return 2;
  }
  setup();
  lines_fd = temp_file(), long_fd = temp_file(), ckpt_fd = temp_file();
  if (lines_fd < 0 || long_fd < 0 || ckpt_fd < 0)
    return 2;
  warp_emu_init(nwarps);
  int nlanes = nwarps * LANES;
  pthread_t kt, wd, *t = calloc((size_t)nlanes, sizeof *t);
  struct lane_arg *args = calloc((size_t)nlanes, sizeof *args);
  pthread_create(&kt, NULL, kernel_thread, NULL);
  where_of = calloc((size_t)nlanes, sizeof *where_of);
  for (int i = 0; i < nlanes; i++)
    where_of[i] = "starting";
  pthread_create(&wd, NULL, watchdog, &nlanes);
  for (int i = 0; i < nlanes; i++) {
    args[i] = (struct lane_arg){i / LANES, (uint32_t)(i % LANES)};
    pthread_create(&t[i], NULL, lane_main, &args[i]);
  }
  for (int i = 0; i < nlanes; i++)
    pthread_join(t[i], NULL);
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  pthread_join(kt, NULL);
  pthread_join(wd, NULL);
  int bad = check();
  free(t);
  free(args);
  free((void *)where_of);
  free(ch);
  free(local);
  return bad;
}
