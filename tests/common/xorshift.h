/* SPDX-License-Identifier: MIT */
/* The stress tests' random numbers: xorshift64, one state per thread. */
#ifndef OIU_TEST_XORSHIFT_H
#define OIU_TEST_XORSHIFT_H

#include <stdint.h>

static inline uint64_t xorshift64(uint64_t *state) {
  uint64_t x = *state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *state = x;
}

#endif
