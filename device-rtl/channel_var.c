/* SPDX-License-Identifier: MIT */
/*
 * The device global through which the host publishes a device's channel: a
 * copy of the region's header in device memory (channel.h). Declared for host
 * and device: the plugin finds the host copy by name and writes the device
 * copy with omp_target_memcpy (plugin/tool.c).
 */
#include "rtl.h"

#pragma omp declare target
/* Default visibility: the host plugin looks it up by name in the device image. */
__attribute__((visibility("default"))) struct oiu_channel __oiu_channel;
#pragma omp end declare target

OIU_DEVICE_BEGIN
#if defined(OIU_PROFILE) && defined(__NVPTX__)
__attribute__((visibility("default"))) uint64_t __oiu_prof[OIU_PROF_WORDS];
#endif

const struct oiu_channel *oiu_channel(void) {
  /* Written by the host before the first kernel of this device runs, the
   * magic last, in a copy of its own; afterwards only regular_fd_mask
   * changes, between target regions (plugin/tool.c). */
  uint32_t magic = __scoped_atomic_load_n(&__oiu_channel.magic, __ATOMIC_RELAXED, OIU_DEV);
  return magic == OIU_CHANNEL_MAGIC ? &__oiu_channel : NULL;
}
OIU_DEVICE_END
