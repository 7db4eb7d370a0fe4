/* SPDX-License-Identifier: MIT */
/*
 * errno in target regions. C code reads `errno`, which glibc's <errno.h>
 * (the header device compilations use) turns into (*__errno_location()).
 *
 * GPUs have no thread-local storage, so each thread's errno lives in its
 * team's shared memory (CUDA __shared__ / AMDGPU LDS), indexed by the
 * thread's id in the team: exactly one int per thread that can be running,
 * never shared with another, at 4 KiB per team (1024 threads at most).
 * Its value is undefined when a target region starts (set it before reading
 * it after a call that succeeded). On the host offload target device code
 * runs on host threads, and glibc's own errno is already per thread.
 */
#include "io.h"

#if OIU_GPU
OIU_DEVICE_BEGIN
#define OIU_MAX_TEAM_THREADS 1024
static int oiu_errno_of_thread[OIU_MAX_TEAM_THREADS]
    __attribute__((address_space(3), loader_uninitialized));

int *__errno_location(void) {
  uint32_t t = __gpu_thread_id_x() +
               __gpu_num_threads_x() * (__gpu_thread_id_y() + __gpu_num_threads_y() * __gpu_thread_id_z());
  return (int *)&oiu_errno_of_thread[t % OIU_MAX_TEAM_THREADS];
}
OIU_DEVICE_END
#endif
