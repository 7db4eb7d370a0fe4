/* SPDX-License-Identifier: MIT */
/* Private header of the device runtime: declare-target wrapping and the ring API. */
#ifndef OIU_RTL_H
#define OIU_RTL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "target.h"

/* Linux errno values (device code has no <errno.h>). */
#define OIU_EINTR 4
#define OIU_EIO 5
#define OIU_EBADF 9
#define OIU_EAGAIN 11
#define OIU_ENOSYS 38

/* Every device-rtl source is device code only: it replaces libc calls made in target regions. */
#define OIU_DEVICE_BEGIN _Pragma("omp begin declare target device_type(nohost)")
#define OIU_DEVICE_END _Pragma("omp end declare target")

OIU_DEVICE_BEGIN

/* The channel of the device this code runs on, or NULL when the host never
 * published one: the device's own copy of the header (channel.h). */
const struct oiu_channel *oiu_channel(void);

/* Addresses in the shared region and in the device-local block. */
#define OIU_SHARED(ch, off, type) ((type *)((char *)(uintptr_t)(ch)->region_addr + (off)))
#define OIU_LOCAL(ch, off, type) ((type *)((char *)(uintptr_t)(ch)->local_addr + (off)))
/* The header in the region, for the fields the host changes after publishing. */
static inline const struct oiu_channel *oiu_live_header(const struct oiu_channel *ch) {
  return OIU_SHARED(ch, 0, const struct oiu_channel);
}

/* Wait records (channel.h, enum oiu_wait_kind): what this thread waits for
 * now, for the host's report of a stall; nothing unless the host asked. */
static inline void oiu_wait_note(const struct oiu_channel *ch, uint32_t kind, uint32_t a,
                                 uint32_t b, uint32_t round) {
  if (!ch->nwaits)
    return;
  uint32_t t = oiu_thread_index() % ch->nwaits;
  struct oiu_wait *w = OIU_LOCAL(ch, ch->waits_off, struct oiu_wait) + t;
  __scoped_atomic_store_n(&w->a, a, __ATOMIC_RELAXED, OIU_DEV);
  __scoped_atomic_store_n(&w->b, b, __ATOMIC_RELAXED, OIU_DEV);
  __scoped_atomic_store_n(&w->round, round, __ATOMIC_RELAXED, OIU_DEV);
  __scoped_atomic_store_n(&w->kind, kind, __ATOMIC_RELAXED, OIU_DEV);
}
static inline void oiu_wait_done(const struct oiu_channel *ch) {
  if (ch->nwaits)
    __scoped_atomic_store_n(&OIU_LOCAL(ch, ch->waits_off, struct oiu_wait)[oiu_thread_index() %
                                                                           ch->nwaits].kind,
                            OIU_WAIT_NONE, __ATOMIC_RELAXED, OIU_DEV);
}

/* A staging slot owned by the calling lane for the duration of one call. */
struct oiu_slot_ref {
  uint32_t slot;  /* index in [0, nslots) */
  uint32_t group; /* group index, free again when every lane that took it gave it back */
};

void oiu_slot_acquire(const struct oiu_channel *ch, struct oiu_slot_ref *ref);
void oiu_slot_release(const struct oiu_channel *ch, const struct oiu_slot_ref *ref);
char *oiu_slot_data(const struct oiu_channel *ch, uint32_t slot);
uint64_t oiu_slot_host_addr(const struct oiu_channel *ch, uint32_t slot);

/* Submits one SQE per calling lane (user_data is set from slot) and waits for its CQE; returns cqe.res. */
int32_t oiu_submit_wait(const struct oiu_channel *ch, uint32_t slot, struct oiu_sqe *sqe);

/*
 * The same in two steps, for callers that keep several requests in flight.
 * A completion cell is a slot index, or one of the cells after the slots
 * (oiu_chunk_cell, oiu_fbuf_cell); one request per cell at a time.
 * oiu_submit returns the sequence number oiu_poll waits for; oiu_poll does
 * not drive the rings: waiters call oiu_progress (one lane per group).
 */
uint32_t oiu_submit(const struct oiu_channel *ch, uint32_t cell, struct oiu_sqe *sqe);
bool oiu_poll(const struct oiu_channel *ch, uint32_t cell, uint32_t expect, int32_t *res);
void oiu_progress(const struct oiu_channel *ch);
static inline uint32_t oiu_chunk_cell(const struct oiu_channel *ch, uint32_t chunk) {
  return ch->nslots + chunk;
}
static inline uint32_t oiu_fbuf_cell(const struct oiu_channel *ch, uint32_t file) {
  return ch->nslots + ch->nchunks + file;
}

/* Writes len bytes of the slot's staging data to fd, resubmitting short writes; 0 or -errno. */
int oiu_write_slot(const struct oiu_channel *ch, uint32_t slot, int fd, uint32_t len);

/* Buffered streams (stream.c): descriptors 1 and 2 when their mode is not OIU_UNBUFFERED. */
int oiu_stream_mode(const struct oiu_channel *ch, int fd);
int oiu_stream_vprintf(const struct oiu_channel *ch, int fd, const char *fmt, va_list ap);
int oiu_stream_write(const struct oiu_channel *ch, int fd, const void *p, size_t n, int newline);
int oiu_stream_flush(const struct oiu_channel *ch, int fd);
int oiu_stream_set_mode(const struct oiu_channel *ch, int fd, int mode);

OIU_DEVICE_END

#endif
