/* SPDX-License-Identifier: MIT */
/*
 * Everything that differs between NVPTX, AMDGPU and the host offload target:
 * memory-order wrappers, lane (warp/wavefront) operations, back-off and the
 * doorbell. The rest of device-rtl/ is target-independent.
 */
#ifndef OIU_TARGET_H
#define OIU_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "omp_iouring/channel.h"

#if defined(__NVPTX__) || defined(__AMDGPU__)
#define OIU_GPU 1
#include <gpuintrin.h>
#elif defined(OIU_EMULATED_WARPS)
/* tests/unit/warp_stress.c: host threads in groups play GPU warps under
 * independent thread scheduling, to run the lane protocols on a CPU; the
 * rest is device-like too (staging, a polled doorbell). */
#define OIU_GPU 1
#else
#define OIU_GPU 0
#endif

#pragma omp begin declare target device_type(nohost)

/*
 * Shared-memory accesses. "sys" is for words another agent (host CPU or the
 * kernel) reads or writes; "dev" is for words only device threads touch. On
 * the host target every agent is a CPU and both are the same thing.
 */
#define OIU_SYS __MEMORY_SCOPE_SYSTEM
#define OIU_DEV __MEMORY_SCOPE_DEVICE

/*
 * Device-scope ordering is a relaxed access plus one of these two fences, so
 * the scope is chosen in one place. clang 22 gives every NVPTX scoped atomic
 * system scope (no syncscope in the IR: the PTX has fence.release.sys on
 * words only device threads touch). Measured on an H100, one thread: a
 * system-scope release 0.70 us, a GPU-scope one 0.34 us, an acquire load
 * 0.14 us either way. membar.gl (fence.sc.gpu, an NVVM builtin) in their
 * place took 1.2 us off a 26.7 us printf round trip and 5-7% off unbuffered
 * throughput (its acquires cost a full fence): not worth leaving the
 * portable builtins; fewer barriers per request is the lever (ring.c).
 */
static inline void oiu_fence_dev_release(void) {
  __scoped_atomic_thread_fence(__ATOMIC_RELEASE, OIU_DEV);
}
static inline void oiu_fence_dev_acquire(void) {
  __scoped_atomic_thread_fence(__ATOMIC_ACQUIRE, OIU_DEV);
}

static inline uint32_t oiu_load_acquire(const uint32_t *p, int scope_is_sys) {
  if (scope_is_sys)
    return __scoped_atomic_load_n(p, __ATOMIC_ACQUIRE, OIU_SYS);
  uint32_t v = __scoped_atomic_load_n(p, __ATOMIC_RELAXED, OIU_DEV);
  oiu_fence_dev_acquire();
  return v;
}
static inline void oiu_store_release(uint32_t *p, uint32_t v, int scope_is_sys) {
  if (scope_is_sys) {
    __scoped_atomic_store_n(p, v, __ATOMIC_RELEASE, OIU_SYS);
    return;
  }
  oiu_fence_dev_release();
  __scoped_atomic_store_n(p, v, __ATOMIC_RELAXED, OIU_DEV);
}
static inline uint32_t oiu_load_relaxed(const uint32_t *p) {
  return __scoped_atomic_load_n(p, __ATOMIC_RELAXED, OIU_SYS);
}
static inline void oiu_store_relaxed(uint32_t *p, uint32_t v) {
  __scoped_atomic_store_n(p, v, __ATOMIC_RELAXED, OIU_DEV);
}
/* Lock words and counters live in the shared region; only device threads use them. */
static inline bool oiu_cas_acquire(uint32_t *p, uint32_t expect, uint32_t want) {
  if (!__scoped_atomic_compare_exchange_n(p, &expect, want, false, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED, OIU_DEV))
    return false;
  oiu_fence_dev_acquire();
  return true;
}
static inline bool oiu_cas_relaxed(uint32_t *p, uint32_t *expect, uint32_t want) {
  return __scoped_atomic_compare_exchange_n(p, expect, want, false, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED, OIU_DEV);
}
static inline uint32_t oiu_fetch_add_relaxed(uint32_t *p, uint32_t v) {
  return __scoped_atomic_fetch_add(p, v, __ATOMIC_RELAXED, OIU_DEV);
}
/* A release fence and a relaxed RMW: clang 22 lowers an NVPTX atomicrmw
 * without its ordering (a plain atom.add even for release or seq_cst; seen
 * in the PTX), so the fence carries it, on every target alike. */
static inline uint32_t oiu_fetch_sub_release(uint32_t *p, uint32_t v) {
  oiu_fence_dev_release();
  return __scoped_atomic_fetch_sub(p, v, __ATOMIC_RELAXED, OIU_DEV);
}

/*
 * One CQE's user_data and res in one 16-byte load: one PCIe read for a GPU,
 * not two. Volatile makes it uncached, as a system-scope relaxed load (PTX:
 * ld.volatile is ld.relaxed.sys; AMDGPU: a volatile access bypasses the
 * caches): the kernel rewrites CQEs every lap. Read after the acquire of the
 * CQ tail that covers it.
 */
typedef uint64_t oiu_u64x2 __attribute__((ext_vector_type(2)));
static inline oiu_u64x2 oiu_load_cqe(const void *cqe) {
  return *(const volatile oiu_u64x2 *)cqe;
}

/* 64-bit stream positions (stream.c). */
static inline uint64_t oiu_load_acquire64(const uint64_t *p, int scope_is_sys) {
  if (scope_is_sys)
    return __scoped_atomic_load_n(p, __ATOMIC_ACQUIRE, OIU_SYS);
  uint64_t v = __scoped_atomic_load_n(p, __ATOMIC_RELAXED, OIU_DEV);
  oiu_fence_dev_acquire();
  return v;
}
static inline void oiu_store_release64(uint64_t *p, uint64_t v, int scope_is_sys) {
  if (scope_is_sys) {
    __scoped_atomic_store_n(p, v, __ATOMIC_RELEASE, OIU_SYS);
    return;
  }
  oiu_fence_dev_release();
  __scoped_atomic_store_n(p, v, __ATOMIC_RELAXED, OIU_DEV);
}
static inline uint64_t oiu_fetch_add64(uint64_t *p, uint64_t v) {
  return __scoped_atomic_fetch_add(p, v, __ATOMIC_RELAXED, OIU_DEV);
}

/* ---- lanes: the threads of one warp/wavefront that call in together ---- */
/*
 * OIU_LOOP_ENTER/EXIT mark a waiting loop several lanes may be in at once.
 * They compile to nothing except under emulated warps, whose lock-step mode
 * holds a lane that left the loop until all that entered with it have left
 * (an AMD wavefront): the test of the rule that no lane keeps, past such a
 * loop, anything a lane still inside may be waiting for.
 */
#if defined(OIU_EMULATED_WARPS)
/* Defined by the test (each a rendezvous of the lanes named; the active-lanes
 * call gathers the lanes of a warp that reach the same call site together). */
typedef uint64_t oiu_lanes;
oiu_lanes oiu_active_lanes(void);
uint32_t oiu_lane_id(void);
oiu_lanes oiu_claim_lanes(void);
uint32_t oiu_claim_width(void);
uint32_t oiu_broadcast(oiu_lanes m, uint32_t v);
void oiu_lane_sync(oiu_lanes m);
uint32_t oiu_lane_prefix(oiu_lanes m, uint32_t x, uint32_t *total);
oiu_lanes oiu_lanes_matching(oiu_lanes m, uint32_t key);
static inline bool oiu_is_leader(oiu_lanes m) { return oiu_lane_id() == (uint32_t)__builtin_ctzll(m); }
uint32_t oiu_thread_index(void);
oiu_lanes oiu_emu_loop_enter(void);
void oiu_emu_loop_exit(oiu_lanes entered);
#define OIU_LOOP_ENTER(v) oiu_lanes v = oiu_emu_loop_enter()
#define OIU_LOOP_EXIT(v) oiu_emu_loop_exit(v)
#elif OIU_GPU
typedef uint64_t oiu_lanes;
/* This thread's index in the launch (OpenMP launches are one-dimensional). */
static inline uint32_t oiu_thread_index(void) {
  return __gpu_block_id(0) * __gpu_num_threads(0) + __gpu_thread_id(0);
}
static inline oiu_lanes oiu_active_lanes(void) { return __gpu_lane_mask(); }
static inline uint32_t oiu_lane_id(void) { return __gpu_lane_id(); }
/*
 * The lanes that take staging slots and SQ entries together, and how many
 * slots a group spans. AMDGPU: the wavefront's active lanes, all or nothing,
 * because lock-step lanes that hold slots cannot give them back while their
 * siblings wait for more. NVIDIA: each lane alone. Under independent thread
 * scheduling a holder always gets to give back, and on an H100 groups shared
 * by lanes that arrive apart went wrong (2026-12-05): a lane barrier that gave
 * a group back kept a lane for good, and without it lanes gave back group 0
 * (the value a non-leader starts with) instead of the group the leader's
 * shuffle should have handed them. Why the mask and the shuffle disagreed is
 * not established; stream.c's reservations share the same pattern and have
 * passed every GPU run.
 */
#if defined(__AMDGPU__)
static inline oiu_lanes oiu_claim_lanes(void) { return __gpu_lane_mask(); }
static inline uint32_t oiu_claim_width(void) { return __gpu_num_lanes(); }
#else
static inline oiu_lanes oiu_claim_lanes(void) { return 1ull << __gpu_lane_id(); }
static inline uint32_t oiu_claim_width(void) { return 1; }
#endif
static inline bool oiu_is_leader(oiu_lanes m) { return __gpu_is_first_in_lane(m); }
/* The value of m's first lane, for the lanes of m. A shuffle: on AMDGPU
 * __gpu_read_first_lane_* is readfirstlane, which ignores m and reads the
 * first active lane of the whole wavefront (another group's, when lanes
 * writing to two streams form two groups). */
static inline uint32_t oiu_broadcast(oiu_lanes m, uint32_t v) {
  return __gpu_shuffle_idx_u32(m, (uint32_t)__builtin_ctzll(m), v, __gpu_num_lanes());
}
/* The lanes of m whose key (< 4: a stream index) equals this lane's. A
 * ballot per key bit: clang 22's __gpu_match_any_u32 does not link for AMDGPU. */
_Static_assert(OIU_NSTREAMS <= 4, "stream keys fit two bits");
static inline oiu_lanes oiu_lanes_matching(oiu_lanes m, uint32_t key) {
  oiu_lanes same = m;
  for (uint32_t bit = 0; bit < 2; bit++) {
    oiu_lanes set = __gpu_ballot(m, (key >> bit) & 1);
    same &= (key >> bit) & 1 ? set : ~set;
  }
  return same;
}
static inline void oiu_lane_sync(oiu_lanes m) { __gpu_sync_lane(m); }
/* Sum of x over the lanes of m below this one; *total gets the sum over all of m. */
static inline uint32_t oiu_lane_prefix(oiu_lanes m, uint32_t x, uint32_t *total) {
  uint32_t below = 0, sum = 0, me = oiu_lane_id();
  for (oiu_lanes rest = m; rest; rest &= rest - 1) {
    uint32_t lane = (uint32_t)__builtin_ctzll(rest);
    uint32_t v = __gpu_shuffle_idx_u32(m, lane, x, __gpu_num_lanes());
    below += lane < me ? v : 0;
    sum += v;
  }
  *total = sum;
  return below;
}
#else
typedef uint32_t oiu_lanes;
/* Host target: the thread's kernel id (wait records are indexed by it modulo their count). */
uint32_t oiu_thread_index(void);
static inline oiu_lanes oiu_active_lanes(void) { return 1; }
static inline uint32_t oiu_lane_id(void) { return 0; }
static inline oiu_lanes oiu_claim_lanes(void) { return 1; }
static inline uint32_t oiu_claim_width(void) { return 1; }
static inline bool oiu_is_leader(oiu_lanes m) { (void)m; return true; }
static inline uint32_t oiu_broadcast(oiu_lanes m, uint32_t v) { (void)m; return v; }
static inline uint64_t oiu_broadcast64(oiu_lanes m, uint64_t v) { (void)m; return v; }
static inline uint32_t oiu_lane_rank(oiu_lanes m) { (void)m; return 0; }
static inline uint32_t oiu_lane_count(oiu_lanes m) { (void)m; return 1; }
static inline oiu_lanes oiu_lanes_matching(oiu_lanes m, uint32_t key) { (void)key; return m; }
static inline void oiu_lane_sync(oiu_lanes m) { (void)m; }
static inline uint32_t oiu_lane_prefix(oiu_lanes m, uint32_t x, uint32_t *total) {
  (void)m;
  *total = x;
  return 0;
}
#endif
#if OIU_GPU /* real or emulated lanes */
static inline uint64_t oiu_broadcast64(oiu_lanes m, uint64_t v) {
  return (uint64_t)oiu_broadcast(m, (uint32_t)(v >> 32)) << 32 | oiu_broadcast(m, (uint32_t)v);
}
/* Number of active lanes below this one: its rank among the callers. */
static inline uint32_t oiu_lane_rank(oiu_lanes m) {
  return (uint32_t)__builtin_popcountll(m & ((1ull << oiu_lane_id()) - 1));
}
static inline uint32_t oiu_lane_count(oiu_lanes m) { return (uint32_t)__builtin_popcountll(m); }
#endif
#ifndef OIU_LOOP_ENTER
#define OIU_LOOP_ENTER(v) ((void)0)
#define OIU_LOOP_EXIT(v) ((void)0)
#endif

/* ---- waiting politely: exponential back-off per architecture ---- */
#if defined(__NVPTX__)
/* The longest sleep of one round (ns): a completion is noticed at most this
 * late. A build-time knob for latency experiments: 1024 measured the same
 * round trip as 8192 on an H100 (README, Benchmarks). */
#ifndef OIU_PAUSE_MAX_NS
#define OIU_PAUSE_MAX_NS 8192u
#endif
static inline void oiu_pause(uint32_t round) {
  uint32_t ns = round < 8 ? 64u << round : OIU_PAUSE_MAX_NS;
  __nvvm_nanosleep(ns < OIU_PAUSE_MAX_NS ? ns : OIU_PAUSE_MAX_NS);
}
#elif defined(__AMDGPU__)
static inline void oiu_pause(uint32_t round) {
  /* s_sleep takes a constant: 2 is ~128 cycles; repeat it for longer waits. */
  for (uint32_t i = 0, n = round < 6 ? 1u << round : 64u; i < n; i++)
    __builtin_amdgcn_s_sleep(2);
}
#else /* the host target, and emulated warps */
int sched_yield(void);
static inline void oiu_pause(uint32_t round) {
  if (round > 2)
    sched_yield();
}
#endif

/* The latency profile (omp_iouring/profile.h): NVIDIA builds with OIU_PROFILE only. */
#if defined(OIU_PROFILE) && defined(__NVPTX__)
#include "omp_iouring/profile.h"
extern uint64_t __oiu_prof[OIU_PROF_WORDS];
static inline void oiu_prof(enum oiu_prof_point point) {
  uint64_t now = __nvvm_read_ptx_sreg_clock64();
  if (point == OIU_PROF_CALLER)
    __oiu_prof[OIU_PROF_POINTS + 1]++;
  if (__oiu_prof[OIU_PROF_POINTS]) /* not before the first call */
    __oiu_prof[point] += now - __oiu_prof[OIU_PROF_POINTS];
  __oiu_prof[OIU_PROF_POINTS] = now;
}
#else
#define oiu_prof(point) ((void)0)
#endif

/*
 * Doorbell after publishing SQEs. A GPU cannot make a system call: the host
 * progress thread watches the SQ tail instead. Host-target device code is a
 * CPU thread and enters the ring (or wakes the emulation thread) itself.
 */
#if OIU_GPU
static inline void oiu_doorbell(const struct oiu_channel *ch) { (void)ch; }
#else
void oiu_host_doorbell(const struct oiu_channel *ch);
static inline void oiu_doorbell(const struct oiu_channel *ch) { oiu_host_doorbell(ch); }
#endif

#pragma omp end declare target

#endif
