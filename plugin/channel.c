/* SPDX-License-Identifier: MIT */
/* Lays out one device's shared region (see include/omp_iouring/channel.h) and brings its ring up. */
#include <errno.h>
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

int oiu_channel_create(struct oiu_device *dev) {
  const struct oiu_config *c = &oiu_cfg;
  uint32_t sq = c->entries;
  uint32_t cq = 2 * sq;
  while (cq < c->slots) /* one CQE per slot can be pending: the CQ never overflows */
    cq *= 2;
  /* Rings area: the kernel's io_rings header, the CQEs and (without NO_SQARRAY) the SQ array. */
  uint64_t rings_off = PAGE;
  uint64_t sqes_off = rings_off + page_round(PAGE + (uint64_t)cq * sizeof(struct oiu_cqe) + sq * 4ull);
  uint64_t staging_off = sqes_off + page_round((uint64_t)sq * sizeof(struct oiu_sqe));
  uint64_t streams_off = page_round(staging_off + (uint64_t)c->slots * c->slot_size);
  uint64_t rings_off_s = streams_off + page_round(OIU_NSTREAMS * sizeof(struct oiu_stream_shared));
  uint64_t size = rings_off_s + (uint64_t)OIU_NSTREAMS * c->buffer_size;
  /* Device-local block: state only device threads touch. */
  uint64_t ready_off = sizeof(struct oiu_dstate);
  uint64_t slots_off = ready_off + sq * 4ull;
  uint64_t groups_off = slots_off + (uint64_t)c->slots * sizeof(struct oiu_slot);
  uint64_t stream_local_off = (groups_off + c->slots * 4ull + 63) / 64 * 64;
  uint64_t local_size =
      page_round(stream_local_off + OIU_NSTREAMS * sizeof(struct oiu_stream_local));

  int err = oiu_mem_alloc(&dev->region, size, local_size, dev->backend, dev->ordinal);
  if (err)
    return err;
  struct oiu_channel *ch = dev->region.host;
  memset(ch, 0, size); /* the backend zeroed the local block */
  *ch = (struct oiu_channel){
      .version = OIU_CHANNEL_VERSION, .ring_fd = -1, .kick_fd = oiu_kick_fd(),
      .device_num = (uint32_t)dev->num, .host_addr = (uint64_t)(uintptr_t)ch, .size = size,
      .sq_entries = sq, .sq_mask = sq - 1, .cq_entries = cq, .cq_mask = cq - 1,
      .staging_off = staging_off, .local_addr = dev->region.local_addr, .dstate_off = 0,
      .sq_ready_off = ready_off, .slots_off = slots_off, .groups_off = groups_off,
      .nslots = c->slots, .slot_size = c->slot_size, .ring_size = c->buffer_size,
      .streams_off = streams_off, .rings_off = rings_off_s, .stream_local_off = stream_local_off};
  /* Like C stdio: stdout buffered (line-buffered on a terminal), stderr not. */
  ch->stream_mode[0] = (uint8_t)(c->buffer >= 0 ? c->buffer
                                 : isatty(1) ? OIU_LINE_BUFFERED : OIU_FULLY_BUFFERED);
  ch->stream_mode[1] = OIU_UNBUFFERED;
  dev->ch = ch;

  int mode = c->mode ? c->mode : dev->backend == OIU_MEM_HOST ? OIU_MODE_ENTER : OIU_MODE_SQPOLL;
  err = c->use_uring ? oiu_uring_setup(ch, rings_off, sqes_off, mode) : -ENOTSUP;
  if (err) {
    if (c->use_uring)
      oiu_info("device %d (%s): io_uring unavailable (%s); device I/O goes through the "
               "emulated ring (plain system calls from a host thread)",
               dev->num, dev->type, strerror(-err));
    oiu_emulated_setup(ch, rings_off, sqes_off);
  }
  oiu_info("device %d (%s): channel ready: mode %s, %u SQ / %u CQ entries, %u slots x %u B, "
           "stdout %s (%u KiB ring), %zu KiB shared, %zu KiB device-local",
           dev->num, dev->type, mode_name((int)ch->mode), ch->sq_entries, ch->cq_entries,
           ch->nslots, ch->slot_size, buffering_name(ch->stream_mode[0]), ch->ring_size / 1024,
           dev->region.size / 1024, dev->region.local_size / 1024);
  /* Every header field is written before the magic that makes device code use it. */
  __atomic_store_n(&ch->magic, OIU_CHANNEL_MAGIC, __ATOMIC_RELEASE);
  return 0;
}

void oiu_channel_destroy(struct oiu_device *dev) {
  if (!dev->ch)
    return;
  if (dev->ch->ring_fd >= 0)
    close(dev->ch->ring_fd);
  oiu_mem_free(&dev->region);
  dev->ch = NULL;
}
