/* SPDX-License-Identifier: MIT */
/*
 * The process's one host thread. Device code on a GPU cannot make system
 * calls, so for every device this thread does what the device cannot:
 *   sqpoll:   wake the kernel's SQ thread when it sleeps with work pending;
 *   enter:    call io_uring_enter for SQEs the device published;
 *   emulated: execute the SQEs itself (emulate.c).
 * It polls GPU rings without sleeping for spin_us after the last request it
 * performed, then with a back-off that ends at poll_max_us, and
 * blocks on an eventfd that host-target device code rings otherwise.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "uring_compat.h"

#define MAX_DEVICES 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct oiu_device *devices[MAX_DEVICES];
static int ndevices;
static int gpu_devices; /* rings that must be polled */
static pthread_t thread;
static int running;
static int stop;
static int kick_fd = -1;

int oiu_kick_fd(void) { return kick_fd; }

/*
 * CQEs the kernel could not post because the CQ was full wait on its
 * overflow list (IORING_FEAT_NODROP) until someone asks for events; device
 * code cannot, so the host thread does. The CQ is sized so this never
 * happens (channel.c); this keeps a mis-sizing from hanging a waiter.
 */
static int flush_overflow(struct oiu_device *dev) {
  struct oiu_channel *ch = dev->ch;
  if (!(oiu_ring_word(ch, ch->sq_flags_off) & IORING_SQ_CQ_OVERFLOW))
    return 0;
  io_uring_enter((unsigned)ch->ring_fd, 0, 0, IORING_ENTER_GETEVENTS, NULL);
  return 1;
}

/* When this thread last performed ring requests (emulated ring, io_uring_enter). */
static uint64_t last_request_ns;

int oiu_serve(struct oiu_device *dev, unsigned *wait_us) {
  struct oiu_channel *ch = dev->ch;
  switch (ch->mode) {
  case OIU_MODE_EMULATED:
    if (!oiu_emulate(dev, wait_us))
      return 0;
    last_request_ns = oiu_now_ns();
    return 1;
  case OIU_MODE_ENTER: {
    int flushed = flush_overflow(dev);
    /* Pairs with the device publisher's release of the tail. */
    uint32_t tail = oiu_ring_word(ch, ch->sq_tail_off);
    uint32_t head = oiu_ring_word(ch, ch->sq_head_off);
    if (tail == head)
      return flushed;
    /* Consumes the SQEs before returning, so head catches up with tail. */
    int r = io_uring_enter((unsigned)ch->ring_fd, tail - head, 0, 0, NULL);
    if (r < 0 && r != -EAGAIN && r != -EBUSY && r != -EINTR)
      oiu_warn("device %d: io_uring_enter: %s", dev->num, strerror(-r));
    last_request_ns = oiu_now_ns();
    return 1;
  }
  case OIU_MODE_SQPOLL: {
    int flushed = flush_overflow(dev);
    uint32_t tail = oiu_ring_word(ch, ch->sq_tail_off);
    uint32_t head = oiu_ring_word(ch, ch->sq_head_off);
    if (tail == head)
      return flushed;
    /* The SQ thread set NEED_WAKEUP before sleeping; it will not see the new tail itself. */
    if (oiu_ring_word(ch, ch->sq_flags_off) & OIU_SQ_NEED_WAKEUP)
      io_uring_enter((unsigned)ch->ring_fd, 0, 0, IORING_ENTER_SQ_WAKEUP, NULL);
    return 1;
  }
  }
  return 0;
}

static void sleep_us(unsigned us) {
  struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

/* One pass over every device: buffered streams, host calls, rings. */
static int serve_all(unsigned *wait_us) {
  int work = 0;
  for (int i = 0; i < ndevices; i++) {
    int w = oiu_stream_serve(devices[i], __atomic_load_n(&devices[i]->drain, __ATOMIC_ACQUIRE),
                             wait_us);
    w |= oiu_hostcall_serve(devices[i]) != 0;
    w |= oiu_serve(devices[i], wait_us);
    oiu_stall_check(devices[i], w);
    work |= w;
  }
  return work;
}

/*
 * Host target: tells device code whether to ring the eventfd. Before
 * sleeping, set the flag and look once more; returns 1 if nothing arrived.
 * Partner: the fence in device-rtl/host_doorbell.c, after device code
 * published and before it reads the flag.
 */
static int host_wait(int waiting, unsigned *wait_us) {
  pthread_mutex_lock(&lock);
  for (int i = 0; i < ndevices; i++)
    if (devices[i]->ch)
      __atomic_store_n(&devices[i]->ch->host_waiting, (uint32_t)waiting, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  int idle = !waiting || !serve_all(wait_us);
  pthread_mutex_unlock(&lock);
  return idle;
}

static void *progress_main(void *arg) {
  (void)arg;
  /* Writes this thread makes (emulated rings, stream writes, io_uring_enter
   * issuing inline) to a pipe whose reader has gone raise SIGPIPE at this
   * thread; blocked, it stays pending here and the write fails with EPIPE,
   * which the device call reports. Unblocked, it would kill the process
   * from a thread the program does not know about. */
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
  /* Linux lets a thread's sleeps run up to its timer slack late (50 us by
   * default): every back-off step then slept >= 70 us (measured on a Debian
   * 12 VM for nanosleep of 1-4 us), which a device thread waiting for a host
   * call, a copy or an io_uring_enter pays each time. 1 us keeps the steps
   * what they say. */
  if (prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0) != 0)
    oiu_info("host thread: PR_SET_TIMERSLACK: %s", strerror(errno));
  unsigned idle_us = 0;
  while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
    unsigned wait_us = 100000; /* lowered to the next buffered-stream deadline */
    pthread_mutex_lock(&lock);
    int work = serve_all(&wait_us);
    int poll_gpus = gpu_devices;
    pthread_mutex_unlock(&lock);
    if (work) {
      idle_us = 0;
      continue;
    }
    if (poll_gpus) {
      /* No sleep for spin_us after the last request this thread performed:
       * a device thread printing line by line sends its next one about 20
       * us after its last completion (H100), and a sleep of ours lands in
       * its round trip (the host part was 12.6 us with the emulated ring
       * and 13.2 us with io_uring_enter when the back-off began at once).
       * With SQPOLL the kernel's SQ thread spins instead. Then sleep longer
       * and longer: idle costs little. */
      if (oiu_now_ns() - last_request_ns < (uint64_t)oiu_cfg.spin_us * 1000)
        continue;
      idle_us = idle_us ? idle_us * 2 : 1;
      if (idle_us > oiu_cfg.poll_max_us)
        idle_us = oiu_cfg.poll_max_us;
      if (idle_us > wait_us)
        idle_us = wait_us;
      if (idle_us > 4)
        sleep_us(idle_us);
      continue;
    }
    /* Only host-target rings: their device code (and stream write CQEs) ring the eventfd. */
    if (host_wait(1, &wait_us)) {
      struct pollfd p = {.fd = kick_fd, .events = POLLIN};
      if (poll(&p, 1, (int)(wait_us + 999) / 1000) > 0) {
        uint64_t v;
        if (read(kick_fd, &v, sizeof v) < 0 && errno != EAGAIN)
          sleep_us(1000);
      }
    }
    host_wait(0, &wait_us);
  }
  return NULL;
}

int oiu_progress_start(void) {
  if (running)
    return 0;
  kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (kick_fd < 0)
    return -errno;
  oiu_stream_ring_init(kick_fd); /* before the thread that uses it */
  int err = pthread_create(&thread, NULL, progress_main, NULL);
  if (err) {
    close(kick_fd);
    kick_fd = -1;
    return -err;
  }
  pthread_setname_np(thread, "omp-iouring"); /* so ps/top and benchmarks can find it */
  running = 1;
  oiu_info("host thread started, wake-up eventfd %d", kick_fd);
  return 0;
}

void oiu_progress_add(struct oiu_device *dev) {
  pthread_mutex_lock(&lock);
  if (ndevices < MAX_DEVICES) {
    devices[ndevices++] = dev;
    gpu_devices += dev->backend != OIU_MEM_HOST;
  }
  pthread_mutex_unlock(&lock);
  uint64_t one = 1;
  if (write(kick_fd, &one, sizeof one) < 0) /* re-evaluate how to wait */
    return;
}

void oiu_progress_drain(struct oiu_device *dev) {
  if (!running || !dev->ch)
    return;
  __atomic_store_n(&dev->drain, 1, __ATOMIC_RELEASE);
  uint64_t one = 1;
  if (write(kick_fd, &one, sizeof one) < 0) /* the host thread may sleep on it */
    oiu_warn("progress thread: eventfd: %s", strerror(errno));
  while (!oiu_stream_idle(dev))
    sleep_us(20);
  __atomic_store_n(&dev->drain, 0, __ATOMIC_RELEASE);
}

/* Serves until every ring is idle, then ends the thread. */
void oiu_progress_stop(void) {
  if (!running)
    return;
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  uint64_t one = 1;
  if (write(kick_fd, &one, sizeof one) < 0)
    oiu_warn("progress thread: eventfd: %s", strerror(errno));
  pthread_join(thread, NULL);
  running = 0;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < ndevices; i++) {
    unsigned wait_us = 0;
    /* Drain: nothing published is left behind, no buffered byte unwritten. */
    while (oiu_serve(devices[i], &wait_us) | oiu_stream_serve(devices[i], 1, &wait_us) ||
           !oiu_stream_idle(devices[i]))
      ;
  }
  pthread_mutex_unlock(&lock);
  oiu_stream_ring_exit();
  close(kick_fd);
  kick_fd = -1;
}
