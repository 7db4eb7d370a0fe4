/* SPDX-License-Identifier: MIT */
/*
 * Host calls (channel.h): the system calls device code needs and io_uring
 * has no operation for. The host thread looks at every entry on each pass;
 * an entry whose `posted` is ahead of `done` is a request.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "internal.h"

static int64_t perform(struct oiu_device *dev, const struct oiu_hostcall *c, int64_t *res2) {
  switch (c->op) {
  case OIU_HOSTCALL_COPY_IN:
  case OIU_HOSTCALL_COPY_OUT: {
    /* Only bytes inside the region, and only where the backend has a copy engine. */
    uint64_t n = (uint64_t)c->arg, off = c->addr2;
    if (c->arg < 0 || off > dev->region.size || n > dev->region.size - off)
      return -EINVAL;
    return oiu_mem_copy(&dev->region, c->op == OIU_HOSTCALL_COPY_IN, c->addr,
                        (char *)dev->ch + off, n);
  }
  case OIU_HOSTCALL_LSEEK: {
    /* The access mode and O_APPEND tell device code whether it may split a
     * transfer into writes at explicit offsets. */
    int fl = fcntl(c->fd, F_GETFL);
    if (fl < 0)
      return -errno;
    *res2 = fl;
    off_t r = lseek(c->fd, (off_t)c->arg, c->whence);
    return r < 0 ? -errno : (int64_t)r;
  }
  case OIU_HOSTCALL_SETFL:
    return fcntl(c->fd, F_SETFL, (int)c->arg) < 0 ? -errno : 0;
  default:
    return -ENOSYS;
  }
}

unsigned oiu_hostcall_serve(struct oiu_device *dev) {
  struct oiu_channel *ch = dev->ch;
  if (!ch || !ch->hostcalls_off)
    return 0;
  struct oiu_hostcall *calls = (struct oiu_hostcall *)((char *)ch + ch->hostcalls_off);
  unsigned n = 0;
  for (unsigned i = 0; i < OIU_NHOSTCALLS; i++) {
    struct oiu_hostcall *c = &calls[i];
    /* Pairs with the device's release of posted: the request fields are complete. */
    uint32_t posted = __atomic_load_n(&c->posted, __ATOMIC_ACQUIRE);
    if (posted == __atomic_load_n(&c->done, __ATOMIC_RELAXED)) /* we are its only writer */
      continue;
    int64_t res2 = 0;
    c->res = perform(dev, c, &res2);
    c->res2 = res2;
    /* Pairs with the device's acquire of done: res and res2 are valid. */
    __atomic_store_n(&c->done, posted, __ATOMIC_RELEASE);
    n++;
  }
  return n;
}
