/* SPDX-License-Identifier: MIT */
/* Lays out one device's shared region (see include/omp_iouring/channel.h) and brings its ring up. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define PAGE 4096u

static uint64_t page_round(uint64_t n) { return (n + PAGE - 1) / PAGE * PAGE; }
static const char *mode_name(int m) {
  return m == OIU_MODE_SQPOLL ? "sqpoll" : m == OIU_MODE_ENTER ? "enter" : "emulated";
}

static const char *buffering_name(int b) {
  return b == OIU_FULLY_BUFFERED ? "fully buffered"
         : b == OIU_LINE_BUFFERED ? "line-buffered" : "unbuffered";
}

/* What an io_uring_setup error usually means, for the one line that reports it. */
static const char *why_unavailable(int err) {
  switch (err) {
  case -ENOMEM: /* the rings are charged to RLIMIT_MEMLOCK without CAP_IPC_LOCK */
    return ": RLIMIT_MEMLOCK too low for the rings? raise ulimit -l";
  case -EPERM:
    return ": blocked by seccomp (containers) or kernel.io_uring_disabled";
  case -ENOSYS:
    return ": kernel without io_uring";
  case -EINVAL:
    return ": kernel older than 6.5 (no IORING_SETUP_NO_MMAP)?";
  case -ENOTSUP:
    return ": kernel without IORING_FEAT_NODROP";
  default:
    return "";
  }
}

int oiu_channel_create(struct oiu_device *dev) {
  const struct oiu_config *c = &oiu_cfg;
  uint32_t sq = c->entries;
  /* A warp or wavefront reserves its SQ entries at once (ring.c): a GPU's SQ
   * holds at least the widest, or a full wavefront would wait forever. */
  if (dev->backend != OIU_MEM_HOST && sq < OIU_MAX_GROUP)
    sq = OIU_MAX_GROUP;
  uint32_t cq = 2 * sq;
  uint32_t ncells = oiu_config_cells(c);
  while (cq < ncells) /* one CQE per completion cell can be pending: the CQ never overflows */
    cq *= 2;
  /* Rings area: the kernel's io_rings header, the CQEs and (without NO_SQARRAY) the SQ array. */
  uint64_t rings_off = PAGE;
  uint64_t sqes_off = rings_off + page_round(PAGE + (uint64_t)cq * sizeof(struct oiu_cqe) + sq * 4ull);
  uint64_t staging_off = sqes_off + page_round((uint64_t)sq * sizeof(struct oiu_sqe));
  uint64_t streams_off = page_round(staging_off + (uint64_t)c->slots * c->slot_size);
  uint64_t rings_off_s = streams_off + page_round(OIU_NSTREAMS * sizeof(struct oiu_stream_shared));
  uint64_t chunks_off = page_round(rings_off_s + (uint64_t)OIU_NSTREAMS * c->buffer_size);
  uint64_t fbufs_off = chunks_off + (uint64_t)c->chunks * c->chunk_size;
  uint64_t hostcalls_off = page_round(fbufs_off + (uint64_t)OIU_MAX_FILES * c->file_buffer);
  uint64_t size = page_round(hostcalls_off + OIU_NHOSTCALLS * sizeof(struct oiu_hostcall));
  /* Device-local block: state only device threads touch. */
  uint64_t ready_off = sizeof(struct oiu_dstate);
  uint64_t slots_off = ready_off + sq * 4ull;
  uint64_t groups_off = slots_off + (uint64_t)ncells * sizeof(struct oiu_slot);
  uint64_t slot_queue_off = (groups_off + c->slots * 4ull + 7) / 8 * 8;
  uint64_t stream_local_off =
      (slot_queue_off + c->slots * (uint64_t)sizeof(struct oiu_slot_cell) + 63) / 64 * 64;
  uint64_t chunk_state_off = stream_local_off + OIU_NSTREAMS * sizeof(struct oiu_stream_local);
  uint64_t hostcall_owner_off = chunk_state_off + c->chunks * 4ull;
  /* Wait records: one per device thread of a full GPU (host target: per thread id, modulo). */
  uint32_t nwaits = !c->stall_s ? 0 : dev->backend == OIU_MEM_HOST ? 4096 : OIU_STALL_WAITS;
  uint64_t waits_off = (hostcall_owner_off + OIU_NHOSTCALLS * 4ull + 63) / 64 * 64;
  uint64_t local_size = page_round(waits_off + (uint64_t)nwaits * sizeof(struct oiu_wait));

  int err = oiu_mem_alloc(&dev->region, size, local_size, dev->backend, dev->ordinal);
  if (err)
    return err;
  struct oiu_channel *ch = dev->region.host;
  memset(ch, 0, size); /* the backend zeroed the local block */
  *ch = (struct oiu_channel){
      .version = OIU_CHANNEL_VERSION, .ring_fd = -1, .kick_fd = oiu_kick_fd(),
      .device_num = (uint32_t)dev->num, .host_addr = (uint64_t)(uintptr_t)ch,
      .region_addr = dev->region.device_addr, .size = size,
      .sq_entries = sq, .sq_mask = sq - 1, .cq_entries = cq, .cq_mask = cq - 1,
      .staging_off = staging_off, .local_addr = dev->region.local_addr, .dstate_off = 0,
      .sq_ready_off = ready_off, .slots_off = slots_off, .groups_off = groups_off,
      .slot_queue_off = slot_queue_off, .nslots = c->slots, .slot_size = c->slot_size,
      .ring_size = c->buffer_size,
      .streams_off = streams_off, .rings_off = rings_off_s, .stream_local_off = stream_local_off,
      .chunks_off = chunks_off, .nchunks = c->chunks, .chunk_size = c->chunk_size,
      .chunk_state_off = chunk_state_off, .fbufs_off = fbufs_off, .fbuf_size = c->file_buffer,
      .ncells = ncells, .hostcalls_off = hostcalls_off, .hostcall_owner_off = hostcall_owner_off,
      .copy_engine = c->copy_engine && oiu_mem_can_copy(&dev->region), .nwaits = nwaits,
      .waits_off = waits_off};
  /* Like C stdio: stdout buffered (line-buffered on a terminal), stderr not. */
  ch->stream_mode[0] = (uint8_t)(c->buffer >= 0 ? c->buffer
                                 : isatty(1) ? OIU_LINE_BUFFERED : OIU_FULLY_BUFFERED);
  ch->stream_mode[1] = OIU_UNBUFFERED;
  dev->ch = ch;

  dev->sq_cpu = -1;
  int mode = c->mode ? c->mode : dev->backend == OIU_MEM_HOST ? OIU_MODE_ENTER : OIU_MODE_SQPOLL;
  err = c->use_uring ? oiu_uring_setup(dev, rings_off, sqes_off, mode)
                     : -ENOTSUP;
  if (err) {
    if (c->use_uring)
      oiu_info("device %d (%s): io_uring unavailable (%s%s); device I/O goes through the "
               "emulated ring (plain system calls from a host thread)",
               dev->num, dev->type, strerror(-err), why_unavailable(err));
    oiu_emulated_setup(ch, rings_off, sqes_off);
  }
  char pinned[48] = "";
  if (dev->sq_cpu >= 0)
    snprintf(pinned, sizeof pinned, " (SQ thread and io-wq on CPU %d)", dev->sq_cpu);
  oiu_info("device %d (%s): channel ready: mode %s%s, %u SQ / %u CQ entries, %u slots x %u B, "
           "stdout %s (%u KiB ring), %u bulk chunks x %u KiB, %zu KiB shared, "
           "%zu KiB device-local",
           dev->num, dev->type, mode_name((int)ch->mode), pinned, ch->sq_entries, ch->cq_entries,
           ch->nslots, ch->slot_size, buffering_name(ch->stream_mode[0]), ch->ring_size / 1024,
           ch->nchunks, ch->chunk_size / 1024, dev->region.size / 1024,
           dev->region.local_size / 1024);
  if (c->watch)
    dev->watch = oiu_ringwatch_start(ch);
  /* Every header field is written before the magic that makes device code use it. */
  __atomic_store_n(&ch->magic, OIU_CHANNEL_MAGIC, __ATOMIC_RELEASE);
  return 0;
}

/*
 * Every SQE gets exactly one CQE: at release, with no device code running,
 * SQEs submitted == CQEs posted == CQEs reaped (counters modulo 2^32), the
 * kernel dropped none, and the text of every buffered-stream frame device
 * code completed was written (or dropped on a write error). Says so under
 * LIBOMPTARGET_INFO; a dropped CQE is reported always.
 */
static void report_release(const struct oiu_device *dev) {
  const struct oiu_channel *ch = dev->ch;
  uint32_t sq_tail = oiu_ring_word(ch, ch->sq_tail_off);
  uint32_t sq_head = oiu_ring_word(ch, ch->sq_head_off);
  uint32_t cq_tail = oiu_ring_word(ch, ch->cq_tail_off);
  uint32_t cq_head = oiu_ring_word(ch, ch->cq_head_off);
  uint32_t dropped = dev->overflow_off ? oiu_ring_word(ch, dev->overflow_off) : 0;
  if (dropped)
    oiu_warn("device %d (%s): the kernel dropped %u completions (CQ overflow)", dev->num,
             dev->type, dropped);
  const struct oiu_host_stream *hs = dev->streams;
  oiu_info("device %d (%s): released: %u SQEs submitted, %u consumed, %u CQEs posted, %u reaped, "
           "%u dropped; buffered bytes written/committed: stdout %llu/%llu, stderr %llu/%llu",
           dev->num, dev->type, sq_tail, sq_head, cq_tail, cq_head, dropped,
           (unsigned long long)hs[0].done, (unsigned long long)hs[0].taken,
           (unsigned long long)hs[1].done, (unsigned long long)hs[1].taken);
}

void oiu_channel_destroy(struct oiu_device *dev) {
  if (!dev->ch)
    return;
  oiu_ringwatch_stop(dev->watch, dev);
  dev->watch = NULL;
  report_release(dev);
  oiu_stream_free(dev);
  if (dev->ch->ring_fd >= 0)
    close(dev->ch->ring_fd);
  oiu_mem_free(&dev->region);
  dev->ch = NULL;
  free(dev->emulator);
  dev->emulator = NULL;
}
