/* SPDX-License-Identifier: MIT */
/*
 * Activation through OMPT. libomp asks every loaded library for
 * ompt_start_tool; ours registers three callbacks:
 *   device_initialize: remember the device and its kind (sm_*, gfx*, host);
 *   target_emi begin:  before the first construct of a device runs, set up
 *                      its channel and publish it into the device global
 *                      __oiu_channel (doing this in device_initialize or
 *                      device_load deadlocks libomptarget);
 *   target_data_op_emi: bracket every free of device memory, which the
 *                      copy engine must keep clear of (mem_cuda.c).
 * Only one OMPT tool runs per process: a user tool named in
 * OMP_TOOL_LIBRARIES wins, and we say so instead of silently displacing it.
 */
#include <omp-tools.h>
#include <omp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* Host copy of the device global, defined by the device library (device-rtl/channel_var.c). */
extern struct oiu_channel __oiu_channel __attribute__((weak));

#define MAX_DEVICES 64
static struct oiu_device devices[MAX_DEVICES];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int active;

static int backend_of(const char *type) {
  if (!strncmp(type, "sm_", 3))
    return OIU_MEM_CUDA;
  if (!strncmp(type, "gfx", 3))
    return OIU_MEM_HSA;
  return OIU_MEM_HOST;
}

static void on_device_initialize(int num, const char *type, ompt_device_t *device,
                                 ompt_function_lookup_t lookup, const char *doc) {
  (void)device, (void)lookup, (void)doc;
  if (num < 0 || num >= MAX_DEVICES)
    return;
  pthread_mutex_lock(&lock);
  struct oiu_device *d = &devices[num];
  d->num = num;
  snprintf(d->type, sizeof d->type, "%s", type ? type : "unknown");
  d->backend = backend_of(d->type);
  d->ordinal = 0; /* the k-th device of a vendor is that vendor's ordinal k */
  for (int i = 0; i < num; i++)
    d->ordinal += devices[i].type[0] && devices[i].backend == d->backend;
  pthread_mutex_unlock(&lock);
}

/* Which of descriptors 0..31 are regular files (their writes must be serialized). */
static uint32_t regular_fds(void) {
  uint32_t mask = 0;
  struct stat st;
  for (int fd = 0; fd < 3; fd++)
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
      mask |= 1u << fd;
  return mask;
}

/*
 * exit(): buffered device text goes out first, as C stdio's does. An atexit
 * handler registered at the first target construct runs before the ones
 * libomptarget registered at start-up (which unload device images, and in
 * LLVM 22 crash if another thread is still inside a target region) and
 * before any destructor; shutdown() below still drains and releases.
 */
static void flush_at_exit(void) {
  for (int i = 0; i < MAX_DEVICES; i++)
    if (__atomic_load_n(&devices[i].published, __ATOMIC_ACQUIRE))
      oiu_progress_drain(&devices[i]);
}

static void publish(struct oiu_device *d) {
  if (!d->ready) {
    static int at_exit;
    d->ready = 1;
    int err = oiu_progress_start();
    if (!err)
      err = oiu_channel_create(d);
    if (err) {
      oiu_warn("device %d (%s): no device I/O channel: %s", d->num, d->type, strerror(-err));
      return;
    }
    oiu_progress_add(d);
    if (!at_exit && atexit(flush_at_exit) == 0)
      at_exit = 1;
  }
  if (!d->ch || d->published)
    return;
  /* NULL until the device image is loaded; then we retry at the next construct. */
  void *dst = omp_get_mapped_ptr(&__oiu_channel, d->num);
  if (!dst)
    return;
  /* Device code reads its own copy of the header. The magic goes last, in a
   * copy of its own: a kernel already running (of another host thread) must
   * not see it before the fields it guards. */
  struct oiu_channel header = *d->ch;
  header.magic = 0;
  int host = omp_get_initial_device();
  if (omp_target_memcpy(dst, &header, sizeof header, 0, 0, d->num, host) ||
      omp_target_memcpy(dst, &d->ch->magic, sizeof d->ch->magic, 0, 0, d->num, host)) {
    oiu_warn("device %d: publishing the channel failed", d->num);
    return;
  }
  d->device_header = dst;
  d->published = 1;
}

/*
 * Which of fds 0-2 are regular files, before each target region: in the
 * shared header for the host thread, and in the device's copy, where device
 * code reads it on every unbuffered write (a read of the shared header is a
 * PCIe round trip, about 1.1 us on an H100). The device copy is rewritten
 * only when the set changed, before the region's kernel starts.
 */
static void set_regular_fds(struct oiu_device *d) {
  uint32_t mask = regular_fds();
  __atomic_store_n(&d->ch->regular_fd_mask, mask, __ATOMIC_RELAXED);
  if (!d->published || mask == d->device_fd_mask)
    return;
  if (omp_target_memcpy((char *)d->device_header + offsetof(struct oiu_channel, regular_fd_mask),
                        &mask, sizeof mask, 0, 0, d->num, omp_get_initial_device()))
    oiu_warn("device %d: updating the regular-file set failed", d->num);
  else
    d->device_fd_mask = mask;
}

/*
 * Device writes to regular files append (channel.h): afterwards the shared
 * file position may trail the end, so host output would overwrite them.
 */
static void seek_to_end(uint32_t mask) {
  for (int fd = 0; fd < 3; fd++)
    if (mask & (1u << fd))
      lseek(fd, 0, SEEK_END);
}

static void on_target(ompt_target_t kind, ompt_scope_endpoint_t endpoint, int num,
                      ompt_data_t *task_data, ompt_data_t *target_task_data,
                      ompt_data_t *target_data, const void *codeptr_ra) {
  (void)task_data, (void)target_task_data, (void)target_data, (void)codeptr_ra;
  if (num < 0 || num >= MAX_DEVICES)
    return;
  struct oiu_device *d = &devices[num];
  /* Regions that run device code, until their text is drained (stall.c
   * watches only while one runs). */
  int counted = kind == ompt_target || kind == ompt_target_nowait;
  if (endpoint == ompt_scope_end) {
    if (__atomic_load_n(&d->published, __ATOMIC_ACQUIRE) && d->ch) {
      /* The region's buffered text goes out before the host's next output. */
      oiu_progress_drain(d);
      seek_to_end(d->ch->regular_fd_mask);
    }
    if (counted)
      __atomic_sub_fetch(&d->regions, 1, __ATOMIC_RELAXED);
    return;
  }
  if (counted)
    __atomic_add_fetch(&d->regions, 1, __ATOMIC_RELAXED);
  if (__atomic_load_n(&d->published, __ATOMIC_ACQUIRE)) {
    pthread_mutex_lock(&lock); /* host threads may start regions on one device at once */
    set_regular_fds(d);
    pthread_mutex_unlock(&lock);
    return;
  }
  pthread_mutex_lock(&lock);
  if (!d->type[0]) { /* initialized before we could see it */
    d->num = num;
    snprintf(d->type, sizeof d->type, "unknown");
    d->backend = OIU_MEM_HOST;
  }
  if (d->ch) /* before publish: the header it copies carries the set */
    __atomic_store_n(&d->ch->regular_fd_mask, regular_fds(), __ATOMIC_RELAXED);
  publish(d);
  if (d->published)
    d->device_fd_mask = d->ch->regular_fd_mask;
  pthread_mutex_unlock(&lock);
}

/* libomptarget calls this around each data operation; frees matter (mem_cuda.c). */
static void on_data_op(ompt_scope_endpoint_t endpoint, ompt_data_t *target_task_data,
                       ompt_data_t *target_data, ompt_id_t *host_op_id,
                       ompt_target_data_op_t optype, void *src_addr, int src_device_num,
                       void *dest_addr, int dest_device_num, size_t bytes,
                       const void *codeptr_ra) {
  (void)target_task_data, (void)target_data, (void)host_op_id, (void)src_addr;
  (void)src_device_num, (void)dest_addr, (void)dest_device_num, (void)bytes, (void)codeptr_ra;
  if (optype != ompt_target_data_delete && optype != ompt_target_data_delete_async)
    return;
  if (endpoint == ompt_scope_begin)
    oiu_free_begin();
  else if (endpoint == ompt_scope_end)
    oiu_free_end();
}

static int tool_initialize(ompt_function_lookup_t lookup, int initial_device_num,
                           ompt_data_t *tool_data) {
  (void)initial_device_num, (void)tool_data;
  ompt_set_callback_t set = (ompt_set_callback_t)lookup("ompt_set_callback");
  if (!set)
    return 0;
  int a = set(ompt_callback_device_initialize, (ompt_callback_t)on_device_initialize);
  int b = set(ompt_callback_target_emi, (ompt_callback_t)on_target);
  if (a != ompt_set_always || b != ompt_set_always) {
    oiu_warn("this OpenMP runtime lacks the OMPT device callbacks; device I/O is unavailable");
    return 0;
  }
  /* Without it the copy engine could deadlock with a free: device threads copy. */
  if (set(ompt_callback_target_data_op_emi, (ompt_callback_t)on_data_op) == ompt_set_always)
    oiu_copy_guard_enable();
  else if (oiu_cfg.copy_engine)
    oiu_info("this OpenMP runtime lacks the OMPT data-op callback: bulk staging copies stay "
             "with device threads");
  active = 1;
  return 1;
}

static void tool_finalize(ompt_data_t *tool_data) { (void)tool_data; }

ompt_start_tool_result_t *ompt_start_tool(unsigned int omp_version, const char *runtime_version) {
  (void)omp_version, (void)runtime_version;
  static ompt_start_tool_result_t result = {tool_initialize, tool_finalize, {0}};
  oiu_config_load(&oiu_cfg);
  if (&__oiu_channel == NULL)
    return NULL; /* the program has no device library linked: nothing to serve */
  /* The copy engine's copies run on a stream of ours beside the kernel that
   * waits for them. CUDA maps streams onto 8 hardware queues by default, and
   * a copy on a queue shared with that kernel's stream would wait behind it.
   * Read when a context is made, which is later than this (device init). */
  if (oiu_cfg.copy_engine || oiu_cfg.stall_s) /* stall.c copies too */
    setenv("CUDA_DEVICE_MAX_CONNECTIONS", "32", 0);
  const char *user_tool = getenv("OMP_TOOL_LIBRARIES");
  if (user_tool && *user_tool) {
    oiu_warn("OMP_TOOL_LIBRARIES=%s takes the process's one OMPT tool slot; "
             "device I/O through omp-iouring is disabled",
             user_tool);
    return NULL;
  }
  return &result;
}

/* Runs after exit() handlers and before libomptarget's own destructors. */
__attribute__((destructor)) static void shutdown(void) {
  if (!active)
    return;
  oiu_progress_stop();
  for (int i = 0; i < MAX_DEVICES; i++)
    oiu_channel_destroy(&devices[i]);
}
