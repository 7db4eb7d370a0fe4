/* SPDX-License-Identifier: MIT */
/* Private interfaces of the host runtime (libompiouring). Functions return 0 or -errno. */
#ifndef OIU_PLUGIN_INTERNAL_H
#define OIU_PLUGIN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "omp_iouring/channel.h"

/* LIBOMPTARGET_IO_URING_SQ_CPU besides a CPU number (uring.c, sq_cpu). */
enum { OIU_SQ_CPU_ANY = -1, OIU_SQ_CPU_AUTO = -2 };

struct oiu_config {
  int use_uring;          /* LIBOMPTARGET_IO_URING */
  int mode;               /* LIBOMPTARGET_IO_URING_MODE: enum oiu_mode, 0 = per-target default */
  unsigned entries;       /* LIBOMPTARGET_IO_URING_ENTRIES: SQ entries (0: one per cell) */
  unsigned slots;         /* LIBOMPTARGET_IO_URING_SLOTS */
  unsigned slot_size;     /* LIBOMPTARGET_IO_URING_SLOT_SIZE */
  unsigned sqpoll_idle_ms;/* LIBOMPTARGET_IO_URING_SQPOLL_IDLE_MS */
  int sq_cpu;             /* LIBOMPTARGET_IO_URING_SQ_CPU: the CPU of the SQPOLL thread and its io-wq workers (OIU_SQ_CPU_*, or a CPU) */
  unsigned spin_us;       /* LIBOMPTARGET_IO_URING_SPIN_US: the host thread polls GPU rings without sleeping this long after a request it performed */
  unsigned poll_max_us;   /* LIBOMPTARGET_IO_URING_POLL_MAX_US: longest idle sleep of the host thread */
  int info;               /* LIBOMPTARGET_INFO != 0 */
  int buffer;             /* LIBOMPTARGET_IO_URING_BUFFER: enum oiu_buffering of stdout, -1 = auto */
  unsigned buffer_size;   /* LIBOMPTARGET_IO_URING_BUFFER_SIZE: bytes per stream ring */
  unsigned flush_us;      /* LIBOMPTARGET_IO_URING_FLUSH_US: longest a buffered byte waits */
  unsigned chunks;        /* LIBOMPTARGET_IO_URING_CHUNKS: bulk staging chunks */
  unsigned chunk_size;    /* LIBOMPTARGET_IO_URING_CHUNK_SIZE: bytes per chunk */
  unsigned file_buffer;   /* LIBOMPTARGET_IO_URING_FILE_BUFFER: largest device FILE buffer */
  unsigned copy_engine;   /* LIBOMPTARGET_IO_URING_COPY_ENGINE: bulk staging copies by the GPU's copy engine */
  unsigned trace;         /* LIBOMPTARGET_IO_URING_TRACE: one stderr line per request the host thread performs */
  unsigned watch;         /* LIBOMPTARGET_IO_URING_WATCH: time the ring's index moves (ringwatch.c) */
  unsigned stall_s;       /* LIBOMPTARGET_IO_URING_STALL_S: print the rings' state after this long without a request */
};
int oiu_config_load(struct oiu_config *c);
/* Completion cells: slots, bulk chunks and FILE buffers each have one request in flight at most. */
static inline unsigned oiu_config_cells(const struct oiu_config *c) {
  return c->slots + c->chunks + OIU_MAX_FILES;
}

/* A 32-bit ring word (SQ/CQ head, tail, flags) at offset off of the host view.
 * Acquire: pairs with whoever last released it (device code or the kernel). */
static inline uint32_t oiu_ring_word(const struct oiu_channel *ch, uint64_t off) {
  return __atomic_load_n((const uint32_t *)((const char *)ch + off), __ATOMIC_ACQUIRE);
}

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t oiu_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
void oiu_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void oiu_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern struct oiu_config oiu_cfg;

/* Memory every agent of one device reaches: host mapping and device view. */
enum oiu_backend { OIU_MEM_HOST = 1, OIU_MEM_CUDA = 2, OIU_MEM_HSA = 3 };
struct oiu_region {
  void *host;
  uint64_t device_addr; /* address device code uses */
  size_t size;
  uint64_t local_addr;  /* zeroed device-local block of local_size bytes (device address) */
  size_t local_size;
  int backend;
  int foreign;          /* host memory is the backend's (an HSA pool's), not our mapping */
  void *gpu_ctx;        /* CUDA: the primary context (for copies by the host thread) */
  void *gpu_stream;     /* CUDA: our non-blocking stream for those copies (mem_cuda.c, copy_warm_up) */
};
int oiu_mem_alloc(struct oiu_region *r, size_t size, size_t local_size, int backend,
                  int device_ordinal);
void oiu_mem_free(struct oiu_region *r);
/* Whether the backend can copy between GPU memory and the region (oiu_mem_copy). */
int oiu_mem_can_copy(const struct oiu_region *r);
/* n bytes between GPU memory at gpu and the region's bytes at host, by the GPU's
 * copy engine (to_region: gpu -> host). 0, or -errno; -EINVAL: gpu is not GPU
 * memory; -EAGAIN: not now (a free is under way), the caller copies this one. */
int oiu_mem_copy(struct oiu_region *r, int to_region, uint64_t gpu, void *host, size_t n);
/* The copy engine and frees (mem_cuda.c): tool.c brackets every libomptarget
 * free with oiu_free_begin/end, and enables the copy engine once those
 * callbacks are registered. */
void oiu_copy_guard_enable(void);
int oiu_copy_guard_enabled(void);
void oiu_free_begin(void);
void oiu_free_end(void);
/* A snapshot of the device-local block into out (local_size bytes), while
 * kernels may run; waits at most timeout_ms. 0, -ETIMEDOUT or -ENOSYS. */
int oiu_mem_read_local(struct oiu_region *r, void *out, unsigned timeout_ms);

/* Host state of one buffered stream (stream.c); only the host thread touches it. */
struct oiu_host_stream {
  char *buf;              /* text taken from the ring, ring_size bytes (made on first use) */
  uint64_t head, tail;    /* bytes copied into buf / written out of it */
  uint64_t scan;          /* ring position of the next frame */
  uint64_t written;       /* the host's copy of the shared word */
  uint64_t taken, done;   /* text bytes taken from the ring / written (or dropped) */
  uint64_t inflight_len;  /* length of the write in flight */
  uint64_t inflight_head; /* tail once it completes */
  uint64_t inflight_scan; /* frames then written, 0: not all that was taken */
  uint64_t pending_since; /* when unwritten text was first seen (ns), 0 if none */
  int inflight;
  int retry;              /* the last write was short or interrupted: go on at once */
};

/* One device's channel and what serves it. */
struct oiu_device {
  int num;                /* OpenMP device number */
  int ordinal;            /* index among devices of the same vendor */
  int backend;
  char type[32];          /* OMPT device type: "sm_90", "gfx90a", "generic-64bit" */
  int ready;              /* channel set up (or failed: ch == NULL) */
  int published;
  struct oiu_region region;
  struct oiu_channel *ch; /* host view */
  struct oiu_host_stream streams[OIU_NSTREAMS];
  int drain;              /* write every buffered byte now (end of a target region) */
  uint64_t overflow_off;  /* the kernel's CQ-overflow counter in the region, 0: emulated */
  int sq_cpu;             /* the CPU of the SQPOLL thread and its io-wq workers, -1: any */
  struct oiu_emulator *emulator; /* emulated mode: parked reads, made on first use */
  int regions;            /* target regions of this device running now (tool.c) */
  uint64_t quiet_since;   /* stall.c: when the host thread last saw a request, ns */
  int stall_reported;     /* stall.c: the state of this quiet period was printed */
  struct oiu_ringwatch *watch; /* LIBOMPTARGET_IO_URING_WATCH (ringwatch.c) */
  void *device_header;    /* the device's copy of the channel header (tool.c) */
  uint32_t device_fd_mask; /* regular_fd_mask as that copy has it */
};

/* Emulated reads waiting for their descriptor to become readable. */
#define OIU_MAX_PARKED 64
#define OIU_PARKED_POLL_US 1000
struct oiu_emulator {
  unsigned nparked;
  struct oiu_sqe parked[OIU_MAX_PARKED];
};

/* LIBOMPTARGET_IO_URING_WATCH: times the ring's index moves (ringwatch.c). */
struct oiu_ringwatch *oiu_ringwatch_start(const struct oiu_channel *ch);
void oiu_ringwatch_stop(struct oiu_ringwatch *w, const struct oiu_device *dev);

/* Lays out and initializes the channel in dev->region; sets up io_uring or emulation. */
int oiu_channel_create(struct oiu_device *dev);
void oiu_channel_destroy(struct oiu_device *dev);

/* io_uring on user memory (IORING_SETUP_NO_MMAP); fills the ring offsets of dev->ch,
 * dev->overflow_off and dev->sq_cpu. */
int oiu_uring_setup(struct oiu_device *dev, uint64_t rings_off, uint64_t sqes_off, int mode);
/* Emulated rings: same layout, no kernel ring. */
void oiu_emulated_setup(struct oiu_channel *ch, uint64_t rings_off, uint64_t sqes_off);
/* Executes published SQEs with plain system calls; returns how many. A read
 * that would block waits parked (emulate.c); *wait_us drops to
 * OIU_PARKED_POLL_US while one does. */
unsigned oiu_emulate(struct oiu_device *dev, unsigned *wait_us);

/* Performs the host calls device code posted (hostcall.c); returns how many. */
unsigned oiu_hostcall_serve(struct oiu_device *dev);

/* The process's one host thread: doorbell, submitter or emulator for every device. */
int oiu_progress_start(void);
void oiu_progress_add(struct oiu_device *dev);
void oiu_progress_stop(void);
/* Serves dev's rings once; returns nonzero if there was work. May lower *wait_us. */
int oiu_serve(struct oiu_device *dev, unsigned *wait_us);
int oiu_kick_fd(void);
/* Waits until every byte device code committed to dev's streams is written. */
void oiu_progress_drain(struct oiu_device *dev);
/* Wait records kept for a GPU under LIBOMPTARGET_IO_URING_STALL_S: one per
 * thread of 132 SMs x 2048 threads (4 MiB of device memory). */
#define OIU_STALL_WAITS (132u * 2048u)
/* stall.c: called by the host thread after serving dev (work: it had some). */
void oiu_stall_check(struct oiu_device *dev, int work);

/* Buffered streams, host side (stream.c); called by the host thread. */
int oiu_stream_ring_init(int kick_fd);
void oiu_stream_ring_exit(void);
/* Issues due writes and reaps finished ones; lowers *wait_us to the next deadline. */
int oiu_stream_serve(struct oiu_device *dev, int drain, unsigned *wait_us);
int oiu_stream_idle(struct oiu_device *dev);
void oiu_stream_free(struct oiu_device *dev);

#endif
