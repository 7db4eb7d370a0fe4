/* SPDX-License-Identifier: MIT */
/* check_transform IN OUT: OUT holds 3 * v + 1 for every 32-bit value v of IN, nothing else. */
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s IN OUT\n", argv[0]);
    return 2;
  }
  FILE *a = fopen(argv[1], "rb"), *b = fopen(argv[2], "rb");
  if (!a || !b) {
    perror("check_transform");
    return 1;
  }
  uint32_t x, y;
  long n = 0, wrong = 0;
  while (fread(&x, 4, 1, a) == 1) {
    if (fread(&y, 4, 1, b) != 1 || y != 3u * x + 1u)
      wrong++;
    n++;
  }
  int extra = fread(&y, 1, 1, b) != 0;
  printf("check_transform: %ld values, %ld wrong%s\n", n, wrong, extra ? ", output too long" : "");
  return wrong || extra;
}
