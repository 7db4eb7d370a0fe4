/* SPDX-License-Identifier: MIT */
/*
 * Doorbell of host-target device code, which runs on CPU threads: wake the
 * host thread through its eventfd. The device threads must not enter the
 * ring themselves: io_uring serializes regular-file writes per inode only
 * within one submitter's worker pool, so the host thread stays the single
 * submitter (as the SQPOLL thread is on GPUs). And the thread index of its
 * wait records.
 */
#include "rtl.h"

#if !OIU_GPU
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

OIU_DEVICE_BEGIN
void oiu_host_doorbell(const struct oiu_channel *ch) {
  /* Partner: the host's fence between setting host_waiting and its last look
   * at the rings (progress.c). Either it sees what we published before this
   * fence, or we see it waiting and wake it. */
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  if (!__atomic_load_n(&oiu_live_header(ch)->host_waiting, __ATOMIC_RELAXED))
    return; /* awake: it looks at the rings again before it sleeps */
  uint64_t one = 1;
  /* The system call itself: write() in this image is the device library's (posix.c). */
  long r = syscall(SYS_write, ch->kick_fd, &one, sizeof one);
  (void)r; /* a full eventfd counter is already a pending wake-up */
}

/* The index of this thread's wait record (rtl.h): its kernel thread id. A
 * system call each time (target code has no thread-local storage), made only
 * while waiting with wait records on. */
uint32_t oiu_thread_index(void) { return (uint32_t)syscall(SYS_gettid); }
OIU_DEVICE_END
#endif
