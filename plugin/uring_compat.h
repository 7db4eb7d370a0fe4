/* SPDX-License-Identifier: MIT */
/* What Debian 12's liburing 2.3 and its 6.1 uapi headers lack (kernel 6.5+/6.6+ features). */
#ifndef OIU_URING_COMPAT_H
#define OIU_URING_COMPAT_H

#include <liburing.h>

#ifndef IORING_SETUP_NO_MMAP
#define IORING_SETUP_NO_MMAP (1U << 14) /* rings live in memory the application provides */
#endif
#ifndef IORING_SETUP_NO_SQARRAY
#define IORING_SETUP_NO_SQARRAY (1U << 16) /* the SQ tail indexes the SQE array directly */
#endif

/* sq_off/cq_off.user_addr: called resv2 before 6.5. */
static inline void oiu_set_user_addr(struct io_sqring_offsets *s, struct io_cqring_offsets *c,
                                     void *sqes, void *rings) {
  s->resv2 = (__u64)(uintptr_t)sqes;
  c->resv2 = (__u64)(uintptr_t)rings;
}

#endif
