/* SPDX-License-Identifier: MIT */
/*
 * The host/device channel ABI of omp-iouring.
 *
 * One contiguous region per device is shared by three agents: device code
 * (the GPU, or host threads on the host offload target), the host runtime
 * (plugin/) and the Linux kernel (io_uring). This header describes it once, in
 * plain C that compiles for every target; both plugin/ and device-rtl/
 * include it. GPU builds cannot include <linux/io_uring.h>, so the io_uring
 * structures used here are carried as copies and checked against the kernel's
 * by plugin/uring.c.
 *
 * Addresses: the region is mapped at different addresses for different
 * agents, so everything inside it is an offset from the region start. The
 * host copies the finished header into the device global `__oiu_channel`
 * (GPU memory on a GPU): device code reads the read-only fields there, near
 * and cacheable, instead of across PCIe after every acquire, and reaches the
 * region through region_addr. An SQE's buffer address must be the host
 * virtual address, which is host_addr + offset.
 *
 * Region layout (offsets in struct oiu_channel):
 *   header | io_uring rings (SQ/CQ heads, tails, CQEs) | SQE array | staging slots
 *   | stream state and rings | bulk chunks | FILE buffers | host calls
 *
 * State that only device threads touch (SQ reservation, locks, slot
 * completion cells) lives in a separate device-local block at local_addr:
 * GPU memory on a GPU (contended atomics stay on the device instead of
 * crossing PCIe), part of the region on the host target.
 */
#ifndef OMP_IOURING_CHANNEL_H
#define OMP_IOURING_CHANNEL_H

#include <stdint.h>

#define OIU_CHANNEL_MAGIC 0x4355494fu /* "OIUC" */
#define OIU_CHANNEL_VERSION 10u

/* Who consumes the SQ ring. */
enum oiu_mode {
  OIU_MODE_SQPOLL = 1,   /* kernel SQPOLL thread; host doorbell wakes it */
  OIU_MODE_ENTER = 2,    /* the host thread calls io_uring_enter */
  OIU_MODE_EMULATED = 3, /* no io_uring: a host thread executes SQEs with plain syscalls */
};

/* io_uring opcodes and flags we use (values from the Linux uapi, stable ABI). */
enum {
  OIU_OP_NOP = 0,
  OIU_OP_FSYNC = 3,
  OIU_OP_OPENAT = 18,
  OIU_OP_CLOSE = 19,
  OIU_OP_STATX = 21,
  OIU_OP_READ = 22,
  OIU_OP_WRITE = 23,
  OIU_OP_UNLINKAT = 36,
  OIU_OP_MKDIRAT = 37,
};
#define OIU_RWF_APPEND 0x10u             /* RWF_APPEND: this write appends atomically */
#define OIU_FSYNC_DATASYNC 1u            /* IORING_FSYNC_DATASYNC: fdatasync */
#define OIU_AT_FDCWD (-100)              /* AT_FDCWD: paths relative to the working directory */
#define OIU_AT_REMOVEDIR 0x200u          /* unlinkat: remove a directory */
#define OIU_AT_SYMLINK_NOFOLLOW 0x100u   /* statx: lstat */
#define OIU_AT_EMPTY_PATH 0x1000u        /* statx: of the descriptor itself (fstat) */
#define OIU_STATX_BASIC_STATS 0x7ffu     /* statx mask: what struct stat holds */
#define OIU_SQ_NEED_WAKEUP (1u << 0)     /* IORING_SQ_NEED_WAKEUP */

/* struct io_uring_sqe, the fields we fill (64 bytes). */
struct oiu_sqe {
  uint8_t opcode;
  uint8_t flags;
  uint16_t ioprio;
  int32_t fd;
  uint64_t off;
  uint64_t addr;
  uint32_t len;
  uint32_t op_flags; /* rw_flags / open_flags / fsync_flags / statx_flags ... */
  uint64_t user_data;
  uint16_t buf_index;
  uint16_t personality;
  int32_t file_index;
  uint64_t addr3;
  uint64_t pad2;
};

/* struct io_uring_cqe (16 bytes; no CQE32). */
struct oiu_cqe {
  uint64_t user_data;
  int32_t res;
  uint32_t flags;
};

/* struct statx, the kernel's answer to IORING_OP_STATX (256 bytes). */
struct oiu_statx_ts {
  int64_t tv_sec;
  uint32_t tv_nsec;
  int32_t reserved;
};
struct oiu_statx {
  uint32_t mask, blksize;
  uint64_t attributes;
  uint32_t nlink, uid, gid;
  uint16_t mode, spare0;
  uint64_t ino, size, blocks, attributes_mask;
  struct oiu_statx_ts atime, btime, ctime, mtime;
  uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
  uint64_t spare2[14];
};

_Static_assert(sizeof(struct oiu_sqe) == 64, "io_uring_sqe is 64 bytes");
_Static_assert(sizeof(struct oiu_statx) == 256, "struct statx is 256 bytes");
_Static_assert(__builtin_offsetof(struct oiu_statx, mtime) == 112, "statx.stx_mtime");
_Static_assert(__builtin_offsetof(struct oiu_statx, dev_minor) == 140, "statx.stx_dev_minor");
_Static_assert(__builtin_offsetof(struct oiu_sqe, user_data) == 32, "sqe.user_data");
_Static_assert(__builtin_offsetof(struct oiu_sqe, addr3) == 48, "sqe.addr3");
_Static_assert(sizeof(struct oiu_cqe) == 16 && __builtin_offsetof(struct oiu_cqe, res) == 8,
               "io_uring_cqe is 16 bytes, res in the low half of the second word");

/*
 * user_data of every SQE we submit: which staging slot the request owns and
 * what kind of request it is, so the completion side decodes it in one place.
 */
enum oiu_req_kind { OIU_REQ_IO = 1 };
static inline uint64_t oiu_user_data(uint32_t kind, uint32_t slot) {
  return ((uint64_t)kind << 32) | slot;
}
static inline uint32_t oiu_user_data_slot(uint64_t ud) { return (uint32_t)ud; }
static inline uint32_t oiu_user_data_kind(uint64_t ud) { return (uint32_t)(ud >> 32); }

/*
 * Staging slots are handed out in groups of one wavefront on AMDGPU: a leader
 * lane takes a whole group at once, so a wavefront never holds part of what
 * it needs while it waits (no lock-step deadlock). On NVIDIA and the host
 * target a group is one slot, taken by one lane (device-rtl/target.h,
 * oiu_claim_lanes). A group's word counts the lanes still using it (0: free);
 * a bulk chunk's is FREE or BUSY.
 */
enum oiu_group_state { OIU_GROUP_FREE = 0, OIU_GROUP_BUSY = 1 };

/*
 * Free slot groups wait in a FIFO queue of one cell per group (ring.c): a
 * thread that wants a group takes a ticket t (slots_taken++) and waits on
 * cell t % n alone; one that frees a group takes a place u (slots_given++)
 * and fills cell (u + n) % n. Lap k = ticket / n. A cell is full for lap k
 * when its state == 2k, and empty after lap k when state == 2k + 1. State
 * and group share one word, read and written whole: a taker's load gets
 * both, and its "empty" store needs no barrier (ring.c, queue_take). All
 * zero is every group free: cell c full for lap 0, holding group c.
 */
struct oiu_slot_cell {
  uint64_t word; /* state in the low 32 bits; the group's index XOR the cell's in the high 32 */
};
static inline uint32_t oiu_slot_cell_state(uint64_t word) { return (uint32_t)word; }

/* Completion cell of one slot: the reaper stores res, then seq (release). */
struct oiu_slot {
  uint32_t seq; /* bumped once per completed request */
  int32_t res;
};

/*
 * State shared only among device threads (and, for the host-target device,
 * host threads): SQ reservation, publisher and reaper locks. Each hot word
 * sits on its own 64-byte line.
 */
struct oiu_dstate {
  uint32_t sq_reserved; /* next SQ ring index handed to a producer */
  uint32_t pad0[15];
  uint32_t sq_head_lock; /* held while reading the kernel's SQ head */
  uint32_t sq_head_seen; /* that head, as its lock holder last read it */
  uint32_t pad5[14];
  uint32_t sq_lock;     /* held while advancing the SQ tail */
  uint32_t sq_published; /* the SQ tail, as its lock holder last stored it */
  uint32_t pad1[14];
  uint32_t cq_lock;     /* held while reaping CQEs into slots */
  uint32_t cq_reaped;   /* the CQ head, as its lock holder last stored it */
  uint32_t pad2[14];
  uint64_t slots_taken; /* tickets of the free-group queue handed out */
  uint32_t pad3[14];
  uint64_t slots_given; /* groups put back into it */
  uint32_t pad4[14];
};

/*
 * Buffered streams: stdout's text (and stderr's, when asked) goes into a byte
 * ring in the shared region instead of one write per call. The lanes of a
 * warp that print together reserve one frame (one atomic add), copy their
 * messages into it and mark it complete by writing its header last. There is
 * no shared "committed" word that writers move in turn: a frame is complete
 * on its own, so writers never wait for one another. The host thread reads
 * frames in ring order, copies complete ones' text out (which frees their
 * space at once) and writes it to the descriptor in large pieces. Positions
 * are byte counts since the channel was made; ring offset = position %
 * ring_size.
 */
enum oiu_buffering {
  OIU_UNBUFFERED = 0,     /* every call is its own write, done before it returns */
  OIU_LINE_BUFFERED = 1,  /* the host writes text as soon as it sees a complete frame */
  OIU_FULLY_BUFFERED = 2, /* the host writes in large pieces, or after flush_delay_us */
};
#define OIU_NSTREAMS 2 /* stream i serves descriptor i + 1: stdout, stderr */

/*
 * A frame: an 8-byte header at an 8-aligned position p, then len bytes of
 * text (which may wrap past the ring's end), then padding to the next
 * multiple of 8. The header holds len and a tag derived from p, so a
 * header left from an earlier lap of the ring (or the zeroed first lap)
 * never passes for the frame at p. Written last, with release at system
 * scope: whoever sees the header sees the text.
 */
static inline uint32_t oiu_frame_tag(uint64_t pos) { return (uint32_t)(pos >> 3) + 1u; }
static inline uint64_t oiu_frame_header(uint64_t pos, uint32_t len) {
  return (uint64_t)oiu_frame_tag(pos) << 32 | len;
}
static inline uint64_t oiu_frame_size(uint64_t len) { return 8 + ((len + 7) & ~(uint64_t)7); }

/* Host-visible half of a stream. */
struct oiu_stream_shared {
  uint64_t flush_to;  /* device fflush (release): write out the frames below this now */
  uint64_t pad0[7];
  uint64_t flushed;   /* host (release): frames below were taken out; their space is free */
  uint64_t written;   /* host (release): their text is written (or dropped on an error) */
  int32_t error;      /* host: the latest failed write's -errno; its text was dropped */
  uint32_t errors;    /* host (release): failed writes so far; fflush reports new ones */
  uint64_t pad1[5];
};

/* Device-local half of a stream. */
struct oiu_stream_local {
  uint64_t reserved;     /* next position handed to a writer */
  uint64_t pad0[7];
  uint64_t flushed_hint; /* last flushed value a writer read from the host */
  uint32_t mode;         /* enum oiu_buffering; the host's choice, setvbuf may change it */
  uint32_t errors_seen;  /* shared.errors already reported by some fflush */
  uint32_t space_poller; /* 1 while a writer waiting for space reads the host's flushed */
  uint32_t pad1[11];
};

/* The header at offset 0 of the region. Written by the host before publish;
 * read-only afterwards except regular_fd_mask and host_waiting (host-written
 * later: device code reads host_waiting in the region, and regular_fd_mask in
 * its copy, which the host rewrites before a region when the set changed). */
struct oiu_channel {
  uint32_t magic;
  uint32_t version;
  uint32_t mode;          /* enum oiu_mode */
  int32_t ring_fd;        /* io_uring fd, or -1 (host use only) */
  int32_t kick_fd;        /* eventfd host-target device code writes to wake the host thread */
  uint32_t device_num;
  uint64_t host_addr;     /* host virtual address of this header */
  uint64_t region_addr;   /* device address of this header (of the region) */
  uint64_t size;          /* bytes in the region */

  uint32_t sq_entries, sq_mask;
  uint32_t cq_entries, cq_mask;
  uint64_t sq_head_off, sq_tail_off, sq_flags_off, sqes_off;
  uint64_t cq_head_off, cq_tail_off, cqes_off;

  uint64_t staging_off;   /* nslots * slot_size bytes */

  /* Device-local block: device address, and offsets inside it. */
  uint64_t local_addr;
  uint64_t dstate_off;    /* struct oiu_dstate */
  uint64_t sq_ready_off;  /* uint32_t[sq_entries]: ring index + 1 once that SQE is filled */
  uint64_t slots_off;     /* struct oiu_slot[nslots] */
  uint64_t groups_off;    /* uint32_t[nslots]: lanes using each slot group, 0: free */
  uint64_t slot_queue_off; /* struct oiu_slot_cell[nslots]: the free-group queue */
  uint32_t nslots;        /* a multiple of OIU_MAX_GROUP */
  uint32_t slot_size;     /* a multiple of 64 */

  /* Bit fd is set when descriptor fd (< 32) is a regular file; refreshed by
   * the host before each target region, in the region and in the device's
   * copy (plugin/tool.c). Writes to regular files are
   * RWF_APPEND: concurrent io_uring writes through the shared file position
   * overwrite each other (measured on 6.18, with or without IOSQE_ASYNC),
   * appends never do. The host moves the position to the end afterwards. */
  uint32_t regular_fd_mask;
  uint32_t ring_size;       /* bytes per stream ring, a power of two */
  uint8_t stream_mode[OIU_NSTREAMS]; /* enum oiu_buffering the host chose for each stream */
  uint8_t pad1[4 - OIU_NSTREAMS];
  /* Host target: non-zero while the host thread sleeps on kick_fd. Device
   * code rings the eventfd only then (a system call per message otherwise). */
  uint32_t host_waiting;
  uint64_t streams_off;     /* struct oiu_stream_shared[OIU_NSTREAMS] */
  uint64_t rings_off;       /* OIU_NSTREAMS rings of ring_size bytes */
  uint64_t stream_local_off; /* device-local: struct oiu_stream_local[OIU_NSTREAMS] */

  /*
   * Bulk transfers (read/write/fread/fwrite/pread/pwrite of more than a
   * slot): staging chunks a call takes one at a time, each with its own
   * completion cell, so one call keeps several SQEs in flight.
   */
  uint64_t chunks_off;       /* nchunks * chunk_size bytes */
  uint32_t nchunks;
  uint32_t chunk_size;       /* a multiple of 4096 */
  uint64_t chunk_state_off;  /* device-local: uint32_t[nchunks], enum oiu_group_state */
  /* Device FILE buffers, one per FILE of the device's pool (OIU_MAX_FILES):
   * in the shared region, so a refill or flush is one SQE and no copy. */
  uint64_t fbufs_off;        /* OIU_MAX_FILES * fbuf_size bytes */
  uint32_t fbuf_size;        /* a multiple of 64 */
  /* Completion cells (struct oiu_slot at slots_off): nslots staging slots,
   * then nchunks chunks, then OIU_MAX_FILES FILE buffers. The CQ has at
   * least ncells entries, so it never overflows. */
  uint32_t ncells;
  uint64_t hostcalls_off;    /* struct oiu_hostcall[OIU_NHOSTCALLS] */
  uint64_t hostcall_owner_off; /* device-local: uint32_t[OIU_NHOSTCALLS], 0 free, 1 owned */
  /* Non-zero: the host can move staging bytes to and from GPU memory with the
   * GPU's copy engine (OIU_HOSTCALL_COPY_*); LIBOMPTARGET_IO_URING_COPY_ENGINE. */
  uint32_t copy_engine;
  /* Wait records (LIBOMPTARGET_IO_URING_STALL_S): device-local struct
   * oiu_wait[nwaits], one per device thread, saying what it waits for; 0: none kept. */
  uint32_t nwaits;
  uint64_t waits_off;
};

/*
 * What a device thread waits for, while it waits (only where nwaits != 0):
 * the host's ring-state report (plugin/stall.c) lists them, so a hang shows
 * which thread waits for which completion, lock or barrier. Written relaxed
 * by the thread itself; read as a snapshot by the host.
 */
enum oiu_wait_kind {
  OIU_WAIT_NONE = 0,
  OIU_WAIT_COMPLETION = 1, /* a: cell, b: the completion count it waits for */
  OIU_WAIT_TRANSFER = 2,   /* a: cell of a piece in flight, b: its count; or a = ~0: a chunk */
  OIU_WAIT_HOSTCALL = 3,   /* a: entry (~0: none free yet), b: the answer number */
  OIU_WAIT_SLOT_GROUP = 4, /* every slot (group) busy */
  OIU_WAIT_SQ_ROOM = 5,    /* a: first entry wanted, b: SQ head seen */
  OIU_WAIT_LANES = 6,      /* a: the lane mask of a lane barrier (low 32 bits) */
  OIU_WAIT_STREAM = 7,     /* a: stream, b: 0 room in its ring, 1 its flush */
};
struct oiu_wait {
  uint32_t kind, a, b, round;
};
_Static_assert(sizeof(struct oiu_wait) == 16, "a wait record is 16 bytes");

/* FILE streams device code can have open at once (stdin, stdout, stderr included). */
#define OIU_MAX_FILES 64u

/*
 * Host calls: what io_uring has no operation for. A device thread owns an
 * entry (a CAS in the device-local hostcall_owner array: no read-modify-write
 * crosses PCIe), fills it and bumps `posted`; the host thread performs the
 * call, fills the results and sets `done` = `posted`. lseek(2) is the one
 * that matters: file positions stay the kernel's, shared with the host, and
 * io_uring cannot move them.
 */
enum oiu_hostcall_op {
  OIU_HOSTCALL_LSEEK = 1, /* res = lseek(fd, arg, whence); res2 = fcntl(fd, F_GETFL) */
  OIU_HOSTCALL_SETFL = 2, /* res = fcntl(fd, F_SETFL, arg) (fdopen "a" adds O_APPEND) */
  /* Bulk staging copies by the GPU's copy engine (one device thread's loads
   * and stores cannot keep PCIe busy): arg bytes between GPU memory at addr
   * and the region at offset addr2. res = 0, or -errno: -EAGAIN, not now (a
   * free of device memory is under way): the device thread copies this piece
   * itself; -EINVAL, addr is not GPU memory the driver knows: the device
   * thread copies the rest of the transfer itself. */
  OIU_HOSTCALL_COPY_IN = 3,  /* region <- GPU memory (fwrite, write, pwrite) */
  OIU_HOSTCALL_COPY_OUT = 4, /* GPU memory <- region (fread, read, pread) */
};
struct oiu_hostcall {
  uint32_t posted; /* device (release, system scope): the request fields are complete */
  uint32_t done;   /* host (release): res and res2 answer request number `done` */
  uint32_t op;
  int32_t fd;
  int32_t whence;
  int32_t pad0;
  int64_t arg;
  int64_t res;     /* result, or -errno */
  int64_t res2;
  uint64_t addr;  /* COPY: device address of the GPU buffer */
  uint64_t addr2; /* COPY: offset of the staging bytes in the region */
};
#define OIU_NHOSTCALLS 64u
_Static_assert(sizeof(struct oiu_hostcall) == 64, "one host call per cache line");

#define OIU_MAX_GROUP 64u /* widest wavefront */

_Static_assert(sizeof(struct oiu_channel) <= 4096, "channel header fits a page");

#endif
