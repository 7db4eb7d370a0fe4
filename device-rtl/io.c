/* SPDX-License-Identifier: MIT */
/*
 * Data between a caller's buffer and a descriptor: the one engine under
 * read/write/pread/pwrite and the FILE calls.
 *
 * Where the kernel can reach the caller's bytes (any buffer on the host
 * target; the shared region on a GPU) the SQEs point at them. Otherwise
 * (device memory, or mapped host memory whose host address device code
 * cannot know) they go through staging: a slot for one small request, bulk
 * chunks for more. A transfer is cut into pieces of one chunk; with an
 * explicit file offset up to OIU_IO_DEPTH pieces are in flight at once, each
 * on its own chunk and completion cell. At the kernel's file position
 * (offset -1) pieces go one at a time: io_uring requests at a shared
 * position run concurrently and would overwrite each other.
 *
 * GPU-safe waiting: taking chunks, submitting, reaping and copying are all
 * non-blocking steps of one loop, so lanes of one wavefront that call in
 * together never wait on a chunk a parked lane holds.
 */
#include "io.h"

OIU_DEVICE_BEGIN

void oiu_set_errno(int e) { *__errno_location() = e; }

/* ---- addresses ---- */

uint64_t oiu_kernel_addr(const struct oiu_channel *ch, const void *p, uint64_t n) {
#if OIU_GPU
  /* Only the shared region has a host address device code knows. */
  uintptr_t base = (uintptr_t)ch->region_addr, q = (uintptr_t)p;
  if (q >= base && q - base <= ch->size && n <= ch->size - (q - base))
    return ch->host_addr + (q - base);
  return 0;
#else
  (void)ch, (void)n;
  return (uint64_t)(uintptr_t)p; /* host-target device code runs in the host's address space */
#endif
}

/* ---- copies into and out of staging ---- */

#if OIU_GPU
typedef uint32_t oiu_v4 __attribute__((ext_vector_type(4)));

/*
 * One thread's copy, as wide as the two addresses allow, with COPY_BATCH
 * loads of 16 bytes in flight per iteration: a GPU thread waits ~1 us for
 * each load across PCIe, so the loads in flight set the rate. The batch fits
 * the device library's register cap (OIU_NVPTX_MAX_REGISTERS, CMakeLists.txt)
 * without spilling; bulk data goes faster through the copy engine.
 */
#define COPY_BATCH 4
#define COPY_BODY()                                                                          \
  uintptr_t mis = ((uintptr_t)d ^ (uintptr_t)s);                                             \
  if ((mis & 15) == 0 && n >= 64) {                                                          \
    while ((uintptr_t)d & 15) {                                                              \
      *d++ = *s++;                                                                           \
      n--;                                                                                   \
    }                                                                                        \
    oiu_v4 *dv = (oiu_v4 *)d;                                                                \
    const oiu_v4 *sv = (const oiu_v4 *)s;                                                    \
    uint64_t k = n / 16;                                                                     \
    uint64_t i = 0;                                                                          \
    for (; i + COPY_BATCH <= k; i += COPY_BATCH) {                                           \
      oiu_v4 a[COPY_BATCH];                                                                  \
      _Pragma("unroll") for (int j = 0; j < COPY_BATCH; j++) a[j] = sv[i + j];               \
      _Pragma("unroll") for (int j = 0; j < COPY_BATCH; j++) dv[i + j] = a[j];               \
    }                                                                                        \
    for (; i < k; i++)                                                                       \
      dv[i] = sv[i];                                                                         \
    d += k * 16, s += k * 16, n -= k * 16;                                                   \
  } else if ((mis & 7) == 0 && n >= 32) {                                                    \
    while ((uintptr_t)d & 7) {                                                               \
      *d++ = *s++;                                                                           \
      n--;                                                                                   \
    }                                                                                        \
    uint64_t *dw = (uint64_t *)d;                                                            \
    const uint64_t *sw = (const uint64_t *)s;                              \
    uint64_t k = n / 8;                                                                      \
    for (uint64_t i = 0; i < k; i++)                                                         \
      dw[i] = sw[i];                                                                         \
    d += k * 8, s += k * 8, n -= k * 8;                                                      \
  } else if ((mis & 3) == 0 && n >= 16) {                                                    \
    while ((uintptr_t)d & 3) {                                                               \
      *d++ = *s++;                                                                           \
      n--;                                                                                   \
    }                                                                                        \
    uint32_t *dw = (uint32_t *)d;                                                            \
    const uint32_t *sw = (const uint32_t *)s;                              \
    uint64_t k = n / 4;                                                                      \
    for (uint64_t i = 0; i < k; i++)                                                         \
      dw[i] = sw[i];                                                                         \
    d += k * 4, s += k * 4, n -= k * 4;                                                      \
  }                                                                                          \
  while (n--)                                                                                \
    *d++ = *s++;

void oiu_copy_to_stage(char *d, const char *s, uint64_t n) { COPY_BODY() }

void oiu_copy_from_stage(char *d, const char *stage, uint64_t n) {
  /* The kernel rewrites these staging bytes for every request. Its writes
   * come before its CQE, whose acquire the caller saw (through the reaper's
   * release of the cell): this thread's system-scope acquire fence makes
   * them visible to the plain loads below (it drops stale cached copies),
   * which, unlike volatile loads, stay several in flight. */
  __scoped_atomic_thread_fence(__ATOMIC_ACQUIRE, OIU_SYS);
  const char *s = stage;
  COPY_BODY()
}
#else
void oiu_copy_to_stage(char *d, const char *s, uint64_t n) { __builtin_memcpy(d, s, n); }
void oiu_copy_from_stage(char *d, const char *stage, uint64_t n) { __builtin_memcpy(d, stage, n); }
#endif

/* ---- bulk chunks: taken one at a time, never waited for while holding others ---- */

static char *chunk_data(const struct oiu_channel *ch, uint32_t c) {
  return OIU_SHARED(ch, ch->chunks_off, char) + (uint64_t)c * ch->chunk_size;
}

/* One pass over the pool; returns a chunk index or -1. */
static int32_t chunk_try_take(const struct oiu_channel *ch, uint32_t start) {
  uint32_t *state = OIU_LOCAL(ch, ch->chunk_state_off, uint32_t);
  for (uint32_t i = 0; i < ch->nchunks; i++) {
    uint32_t c = (start + i) % ch->nchunks;
    /* Pairs with the release in chunk_give: the last owner's requests are done. */
    if (oiu_load_relaxed(&state[c]) == OIU_GROUP_FREE &&
        oiu_cas_acquire(&state[c], OIU_GROUP_FREE, OIU_GROUP_BUSY))
      return (int32_t)c;
  }
  return -1;
}

static void chunk_give(const struct oiu_channel *ch, uint32_t c) {
  /* Pairs with chunk_try_take's acquire: our requests on it are complete. */
  oiu_store_release(&OIU_LOCAL(ch, ch->chunk_state_off, uint32_t)[c], OIU_GROUP_FREE, 0);
}

/* ---- host calls ---- */

int64_t oiu_hostcall(const struct oiu_channel *ch, uint32_t op, const struct oiu_hostcall_args *a,
                     int64_t *res2) {
  uint32_t *owner = OIU_LOCAL(ch, ch->hostcall_owner_off, uint32_t);
  struct oiu_hostcall *calls = OIU_SHARED(ch, ch->hostcalls_off, struct oiu_hostcall);
  uint32_t start = (uint32_t)a->fd * 7u + oiu_lane_id();
  int32_t mine = -1;
  uint32_t want = 0;
  int64_t res = 0;
  /* Taking an entry and waiting for the answer are steps of one loop (see the top). */
  OIU_LOOP_ENTER(entered);
  for (uint32_t round = 0, i = 0;; i++) {
    if (mine < 0) {
      uint32_t e = (start + i) % OIU_NHOSTCALLS;
      if (oiu_load_relaxed(&owner[e]) == 0 && oiu_cas_acquire(&owner[e], 0, 1)) {
        struct oiu_hostcall *c = &calls[e];
        c->op = op;
        c->fd = a->fd;
        c->whence = a->whence;
        c->arg = a->arg;
        c->addr = a->addr;
        c->addr2 = a->addr2;
        /* Only the owner posts and only the host answers: done == posted now.
         * Pairs with the host's release of done for the previous owner. */
        want = oiu_load_acquire(&c->done, 1) + 1;
        /* Pairs with the host's acquire of posted: the request fields are complete. */
        oiu_store_release(&c->posted, want, 1);
        oiu_doorbell(ch);
        mine = (int32_t)e;
        continue;
      }
    } else {
      struct oiu_hostcall *c = &calls[mine];
      /* Pairs with the host's release of done: res and res2 are valid. */
      if (oiu_load_acquire(&c->done, 1) == want) {
        res = __scoped_atomic_load_n(&c->res, __ATOMIC_RELAXED, OIU_SYS);
        if (res2)
          *res2 = __scoped_atomic_load_n(&c->res2, __ATOMIC_RELAXED, OIU_SYS);
        oiu_store_release(&owner[mine], 0, 0); /* pairs with the next owner's CAS */
        break;
      }
    }
    oiu_wait_note(ch, OIU_WAIT_HOSTCALL, (uint32_t)mine, want, round);
    oiu_pause(round < 20 ? round++ : round);
  }
  oiu_wait_done(ch);
  OIU_LOOP_EXIT(entered);
  return res;
}

/* ---- the transfer engine ---- */

#define OIU_IO_DEPTH 8
#define OIU_COPY_ENGINE_MIN (64u << 10) /* bytes: smaller pieces are copied by the thread */

struct entry {
  int32_t chunk;   /* chunk we own (its cell is ours), -1: none (or the caller's cell) */
  uint32_t expect; /* sequence number of the request in flight */
  uint32_t piece;  /* piece in flight */
  uint32_t done;   /* bytes of the piece already transferred (a short write's first part) */
  uint8_t busy;
};

struct engine {
  const struct oiu_channel *ch;
  const struct oiu_io *io;
  uint64_t kbase;  /* kernel address of io->buf, 0: staged */
  uint64_t piece;  /* bytes per piece */
  uint32_t npieces, next, limit, nbusy;
  uint64_t cut;    /* bytes transferred: lowered by the first short or failed piece */
  int32_t err;
  bool by_host;    /* staging copies go through the host's copy engine (until it declines) */
};

/*
 * Staging copies of a piece. GPU memory goes through the GPU's copy engine,
 * driven by the host thread (a host call per piece): one device thread's
 * loads wait ~1 us each and cannot keep PCIe busy. This thread copies a
 * piece the host put off (-EAGAIN: a free of device memory is under way,
 * plugin/mem_cuda.c), and memory the driver does not know as GPU memory (a
 * stack array, host memory): after any other refusal, every later piece.
 */
static void stage_copy(struct engine *g, uint32_t op, char *stage, char *buf, uint64_t n) {
  /* Small pieces: a host round trip (tens of us) costs more than copying. */
  if (g->by_host && n >= OIU_COPY_ENGINE_MIN) {
    struct oiu_hostcall_args a = {.fd = -1, .arg = (int64_t)n, .addr = (uint64_t)(uintptr_t)buf,
                                  .addr2 = (uint64_t)(stage - OIU_SHARED(g->ch, 0, char))};
    int64_t r = oiu_hostcall(g->ch, op, &a, NULL);
    if (r == 0)
      return;
    if (r != -OIU_EAGAIN)
      g->by_host = false;
  }
  if (op == OIU_HOSTCALL_COPY_IN)
    oiu_copy_to_stage(stage, buf, n);
  else
    oiu_copy_from_stage(buf, stage, n);
}

static uint64_t piece_len(const struct engine *g, uint32_t p) {
  uint64_t start = (uint64_t)p * g->piece;
  return g->io->len - start < g->piece ? g->io->len - start : g->piece;
}

/* Completion cell of an entry: its chunk's, or the one the caller gave. */
static uint32_t entry_cell(const struct engine *g, const struct entry *e) {
  return e->chunk >= 0 ? oiu_chunk_cell(g->ch, (uint32_t)e->chunk) : (uint32_t)g->io->cell;
}

/* Staging of an entry: its chunk, or the caller's slot/FILE buffer. */
static char *entry_stage(const struct engine *g, const struct entry *e) {
  return e->chunk >= 0 ? chunk_data(g->ch, (uint32_t)e->chunk) : g->io->stage;
}

static void submit(struct engine *g, struct entry *e) {
  const struct oiu_io *io = g->io;
  uint64_t start = (uint64_t)e->piece * g->piece + e->done;
  uint64_t len = piece_len(g, e->piece) - e->done;
  struct oiu_sqe sqe = {0};
  sqe.opcode = io->op;
  sqe.fd = io->fd;
  sqe.off = io->off == OIU_OFF_CUR ? OIU_OFF_CUR : io->off + start;
  sqe.addr = g->kbase ? g->kbase + start
                      : oiu_kernel_addr(g->ch, entry_stage(g, e) + e->done, len);
  sqe.len = (uint32_t)len;
  sqe.op_flags = io->rw_flags;
  e->expect = oiu_submit(g->ch, entry_cell(g, e), &sqe);
  e->busy = 1;
}

/* Starts the next piece on an idle entry; false when it has no cell and none is free. */
static bool issue(struct engine *g, struct entry *e, uint32_t hint) {
  if (g->io->cell < 0 && e->chunk < 0) {
    int32_t c = chunk_try_take(g->ch, hint);
    if (c < 0)
      return false;
    e->chunk = c;
  }
  e->piece = g->next++;
  e->done = 0;
  if (!g->kbase && g->io->op == OIU_OP_WRITE)
    stage_copy(g, OIU_HOSTCALL_COPY_IN, entry_stage(g, e),
               (char *)g->io->buf + (uint64_t)e->piece * g->piece, piece_len(g, e->piece));
  submit(g, e);
  g->nbusy++;
  return true;
}

/* The transfer stops at byte `at` (a short read, or an error there). */
static void stop_at(struct engine *g, uint64_t at, int32_t err) {
  if (at < g->cut)
    g->cut = at;
  if (err && !g->err)
    g->err = err;
  g->limit = g->next; /* issue nothing more; what is in flight finishes */
}

static void complete(struct engine *g, struct entry *e, int32_t res) {
  const struct oiu_io *io = g->io;
  uint64_t start = (uint64_t)e->piece * g->piece;
  uint64_t len = piece_len(g, e->piece);
  if (res == -OIU_EINTR || res == -OIU_EAGAIN) {
    submit(g, e); /* the same request again */
    return;
  }
  e->busy = 0;
  g->nbusy--;
  if (res < 0) {
    stop_at(g, start + e->done, res);
    return;
  }
  if (io->op == OIU_OP_WRITE) {
    e->done += (uint32_t)res;
    if (res == 0)
      stop_at(g, start + e->done, -OIU_EIO); /* the sink accepted nothing */
    else if (e->done < len) {
      submit(g, e); /* the rest of a short write */
      g->nbusy++;
    }
    return;
  }
  /* A piece read after the transfer's end (a short piece before it) is not copied. */
  if (!g->kbase && start < g->cut && res > 0)
    stage_copy(g, OIU_HOSTCALL_COPY_OUT, entry_stage(g, e), (char *)io->buf + start, (uint64_t)res);
  if ((uint64_t)res < len)
    stop_at(g, start + (uint64_t)res, 0); /* end of file, or what a pipe had */
}

/* The wait record of a transfer: its first piece in flight, or none (a chunk). */
static void note_wait(const struct engine *g, const struct entry *e, uint32_t depth,
                      uint32_t round) {
  for (uint32_t i = 0; i < depth; i++)
    if (e[i].busy) {
      oiu_wait_note(g->ch, OIU_WAIT_TRANSFER, entry_cell(g, &e[i]), e[i].expect, round);
      return;
    }
  oiu_wait_note(g->ch, OIU_WAIT_TRANSFER, ~0u, 0, round);
}

long long oiu_io(const struct oiu_channel *ch, const struct oiu_io *io) {
  struct engine g = {.ch = ch, .io = io, .cut = io->len, .by_host = OIU_GPU && ch->copy_engine};
  if (io->len == 0)
    return 0;
  g.kbase = oiu_kernel_addr(ch, io->buf, io->len);
  g.piece = io->cell >= 0 && !g.kbase ? io->stage_size : ch->chunk_size;
  uint64_t n = (io->len + g.piece - 1) / g.piece;
  if (io->one_read)
    n = 1, g.cut = io->len < g.piece ? io->len : g.piece;
  g.npieces = g.limit = (uint32_t)(n < 0xffffffffu ? n : 0xffffffffu);
  if (n > g.npieces)
    g.cut = (uint64_t)g.npieces * g.piece; /* > 16 TiB in one call: a short transfer */
  /* At the kernel's position one request at a time; a given cell serves one. */
  uint32_t depth = io->off == OIU_OFF_CUR || io->cell >= 0 ? 1 : OIU_IO_DEPTH;
  struct entry e[OIU_IO_DEPTH];
  for (uint32_t i = 0; i < OIU_IO_DEPTH; i++) {
    e[i].chunk = -1;
    e[i].busy = 0;
  }
  uint32_t hint = (uint32_t)io->fd * 31u + oiu_lane_id() * 7u;
  OIU_LOOP_ENTER(entered);
  for (uint32_t round = 0;;) {
    bool moved = false;
    for (uint32_t i = 0; i < depth; i++) {
      int32_t res;
      if (e[i].busy && oiu_poll(ch, entry_cell(&g, &e[i]), e[i].expect, &res)) {
        complete(&g, &e[i], res);
        moved = true;
      }
    }
    for (uint32_t i = 0; i < depth && g.next < g.limit; i++) {
      if (e[i].busy || (io->off == OIU_OFF_CUR && g.nbusy))
        continue;
      if (!issue(&g, &e[i], hint + i))
        break;
      moved = true;
    }
    /* Idle entries with nothing left to issue give their chunks back now,
     * not after the loop: an AMD wavefront has no independent thread
     * scheduling, so a lane that left the loop waits there for the lanes still
     * in it, which may be waiting for those very chunks. */
    for (uint32_t i = 0; i < depth && g.next >= g.limit; i++)
      if (!e[i].busy && e[i].chunk >= 0) {
        chunk_give(ch, (uint32_t)e[i].chunk);
        e[i].chunk = -1;
      }
    if (g.nbusy == 0 && g.next >= g.limit)
      break; /* every chunk given back */
    if (moved) {
      round = 0;
      continue;
    }
    /* One lane of those waiting together drives the rings (see ring.c). */
    if (oiu_is_leader(oiu_active_lanes()))
      oiu_progress(ch);
    note_wait(&g, e, depth, round);
    oiu_pause(round < 20 ? round++ : round);
  }
  oiu_wait_done(ch);
  OIU_LOOP_EXIT(entered);
  if (g.cut == 0 && g.err)
    return g.err;
  return (long long)g.cut;
}

/* The smallest route for a transfer: one slot request when it fits, else the engine. */
long long oiu_io_any(const struct oiu_channel *ch, struct oiu_io *io) {
  bool direct = oiu_kernel_addr(ch, io->buf, io->len) != 0;
  uint64_t one = io->one_read && io->len > ch->chunk_size ? ch->chunk_size : io->len;
  if (!(direct ? one <= ch->chunk_size : one <= ch->slot_size)) {
    io->cell = -1;
    return oiu_io(ch, io);
  }
  struct oiu_slot_ref ref;
  oiu_slot_acquire(ch, &ref);
  io->cell = (int32_t)ref.slot;
  io->stage = oiu_slot_data(ch, ref.slot);
  io->stage_size = ch->slot_size;
  long long r = oiu_io(ch, io);
  oiu_slot_release(ch, &ref);
  return r;
}

OIU_DEVICE_END
