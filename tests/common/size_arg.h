/* SPDX-License-Identifier: MIT */
/* A byte count from the command line: a number with an optional K, M or G. */
#ifndef OIU_TEST_SIZE_ARG_H
#define OIU_TEST_SIZE_ARG_H
#include <stdint.h>
#include <stdlib.h>

static uint64_t parse_size(const char *s) {
  char *end;
  uint64_t v = strtoull(s, &end, 0);
  switch (*end) {
  case 'G': v <<= 10; /* fall through */
  case 'M': v <<= 10; /* fall through */
  case 'K': v <<= 10;
  }
  return v;
}
#endif
