/* SPDX-License-Identifier: MIT */
/*
 * Doorbell of host-target device code, which runs on CPU threads and may make
 * system calls: enter the ring to submit, or wake the host's service thread.
 */
#define _GNU_SOURCE /* syscall() */
#include "rtl.h"

#if !OIU_GPU
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

OIU_DEVICE_BEGIN
void oiu_host_doorbell(const struct oiu_channel *ch) {
  if (ch->mode == OIU_MODE_ENTER && ch->ring_fd >= 0) {
    /* Submits everything published so far; completions are reaped from the CQ ring. */
    syscall(SYS_io_uring_enter, ch->ring_fd, ch->sq_entries, 0, 0, NULL, 0);
    return;
  }
  if (ch->kick_fd >= 0) {
    uint64_t one = 1;
    ssize_t r = write(ch->kick_fd, &one, sizeof one);
    (void)r; /* a full eventfd counter is already a pending wake-up */
  }
}
OIU_DEVICE_END
#endif
