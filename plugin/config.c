/* SPDX-License-Identifier: MIT */
/* LIBOMPTARGET_IO_URING* settings, and the runtime's message lines. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct oiu_config oiu_cfg;

/* Reads an unsigned variable; keeps *v when unset; -EINVAL (with a message) when malformed. */
static int env_uint(const char *name, unsigned *v, unsigned lo, unsigned hi) {
  const char *s = getenv(name);
  if (!s || !*s)
    return 0;
  char *end;
  errno = 0;
  unsigned long x = strtoul(s, &end, 0);
  if (errno || *end || x < lo || x > hi) {
    oiu_warn("%s=%s is not a number in [%u, %u]; using %u", name, s, lo, hi, *v);
    return -EINVAL;
  }
  *v = (unsigned)x;
  return 0;
}

int oiu_config_load(struct oiu_config *c) {
  *c = (struct oiu_config){.entries = 0, .slots = 4096, .slot_size = 1024,
                           .sqpoll_idle_ms = 10, .sq_cpu = OIU_SQ_CPU_AUTO, .spin_us = 50,
                           .poll_max_us = 2000, .buffer = -1,
                           .buffer_size = 8u << 20, .flush_us = 1000, .chunks = 8,
                           .chunk_size = 4u << 20, .file_buffer = 64u << 10,
                           .copy_engine = 1};
  const char *s = getenv("LIBOMPTARGET_INFO");
  c->info = s && strtol(s, NULL, 0) != 0;
  s = getenv("LIBOMPTARGET_IO_URING");
  c->use_uring = s && *s && strcmp(s, "0") != 0;
  int err = 0;
  s = getenv("LIBOMPTARGET_IO_URING_MODE");
  if (s && *s) {
    if (!strcmp(s, "sqpoll"))
      c->mode = OIU_MODE_SQPOLL;
    else if (!strcmp(s, "enter"))
      c->mode = OIU_MODE_ENTER;
    else {
      oiu_warn("LIBOMPTARGET_IO_URING_MODE=%s: expected sqpoll or enter; using the default", s);
      err = -EINVAL;
    }
  }
  s = getenv("LIBOMPTARGET_IO_URING_BUFFER");
  if (s && *s) {
    if (!strcmp(s, "full"))
      c->buffer = OIU_FULLY_BUFFERED;
    else if (!strcmp(s, "line"))
      c->buffer = OIU_LINE_BUFFERED;
    else if (!strcmp(s, "none"))
      c->buffer = OIU_UNBUFFERED;
    else if (strcmp(s, "auto")) {
      oiu_warn("LIBOMPTARGET_IO_URING_BUFFER=%s: expected auto, full, line or none; using auto", s);
      err = -EINVAL;
    }
  }
  err |= env_uint("LIBOMPTARGET_IO_URING_BUFFER_SIZE", &c->buffer_size, 1u << 16, 1u << 30);
  err |= env_uint("LIBOMPTARGET_IO_URING_FLUSH_US", &c->flush_us, 0, 10000000);
  err |= env_uint("LIBOMPTARGET_IO_URING_ENTRIES", &c->entries, 1, 32768);
  /* The CQ holds a completion for every cell (channel.c): slots, chunks and
   * FILE buffers together stay within the kernel's CQ limit of 65536. */
  err |= env_uint("LIBOMPTARGET_IO_URING_SLOTS", &c->slots, 64, 65536);
  err |= env_uint("LIBOMPTARGET_IO_URING_SLOT_SIZE", &c->slot_size, 64, 1u << 26);
  err |= env_uint("LIBOMPTARGET_IO_URING_SQPOLL_IDLE_MS", &c->sqpoll_idle_ms, 1, 3600000);
  s = getenv("LIBOMPTARGET_IO_URING_SQ_CPU");
  if (s && *s && strcmp(s, "auto")) {
    unsigned cpu = 0;
    if (!strcmp(s, "any"))
      c->sq_cpu = OIU_SQ_CPU_ANY;
    else if (env_uint("LIBOMPTARGET_IO_URING_SQ_CPU", &cpu, 0, 65535) == 0)
      c->sq_cpu = (int)cpu;
    else
      err = -EINVAL; /* env_uint said why; auto stays */
  }
  err |= env_uint("LIBOMPTARGET_IO_URING_SPIN_US", &c->spin_us, 0, 1000000);
  err |= env_uint("LIBOMPTARGET_IO_URING_POLL_MAX_US", &c->poll_max_us, 1, 1000000);
  err |= env_uint("LIBOMPTARGET_IO_URING_CHUNKS", &c->chunks, 1, 4096);
  err |= env_uint("LIBOMPTARGET_IO_URING_CHUNK_SIZE", &c->chunk_size, 4096, 1u << 30);
  err |= env_uint("LIBOMPTARGET_IO_URING_FILE_BUFFER", &c->file_buffer, 64, 1u << 24);
  err |= env_uint("LIBOMPTARGET_IO_URING_COPY_ENGINE", &c->copy_engine, 0, 1);
  err |= env_uint("LIBOMPTARGET_IO_URING_TRACE", &c->trace, 0, 1);
  err |= env_uint("LIBOMPTARGET_IO_URING_WATCH", &c->watch, 0, 1);
  err |= env_uint("LIBOMPTARGET_IO_URING_STALL_S", &c->stall_s, 0, 86400);
  /* Ring sizes are powers of two; slots come in groups of the widest wavefront. */
  while (c->entries & (c->entries - 1))
    c->entries &= c->entries - 1;
  c->slots = (c->slots + OIU_MAX_GROUP - 1) / OIU_MAX_GROUP * OIU_MAX_GROUP;
  unsigned max_slots = (65536u - c->chunks - OIU_MAX_FILES) / OIU_MAX_GROUP * OIU_MAX_GROUP;
  if (c->slots > max_slots) {
    oiu_warn("LIBOMPTARGET_IO_URING_SLOTS=%u with %u chunks and %u FILE buffers passes the "
             "kernel's 65536 completions; using %u slots",
             c->slots, c->chunks, OIU_MAX_FILES, max_slots);
    c->slots = max_slots;
  }
  /* By default the SQ has an entry for every completion cell, so a producer
   * never waits for room: each cell has one request in flight at most. */
  if (!c->entries) /* not set: a power of two, at most the kernel's 32768 */
    for (c->entries = 64; c->entries < oiu_config_cells(c) && c->entries < 32768;)
      c->entries *= 2;
  c->slot_size = (c->slot_size + 63) / 64 * 64;
  c->chunk_size = c->chunk_size / 4096 * 4096;
  c->file_buffer = (c->file_buffer + 63) / 64 * 64;
  while (c->buffer_size & (c->buffer_size - 1))
    c->buffer_size &= c->buffer_size - 1;
  return err ? -EINVAL : 0;
}

static void vmessage(int always, const char *fmt, va_list ap) {
  if (!always && !oiu_cfg.info)
    return;
  char line[512];
  int n = vsnprintf(line, sizeof line, fmt, ap);
  if (n < 0)
    return;
  /* One write per line, so it never interleaves with device output. */
  fprintf(stderr, "omp-iouring: %s\n", line);
}

void oiu_info(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage(0, fmt, ap);
  va_end(ap);
}

void oiu_warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage(1, fmt, ap);
  va_end(ap);
}
