/* SPDX-License-Identifier: MIT */
/*
 * devices R M: every device (the host plugin exposes several) prints from
 * many target regions: R rounds; in each, every device runs one region of
 * M iterations, alternately chosen with omp_set_default_device and with
 * the device(d) clause. Line (t, m, k) is
 * device t, iteration m, round k: check_lines NDEV M R verifies them. The
 * device count goes to descriptor 3.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "line_format.h"

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s ROUNDS ITERATIONS\n", argv[0]);
    return 2;
  }
  int R = atoi(argv[1]), M = atoi(argv[2]);
  int ndev = omp_get_num_devices(), bad = 0;
  for (int k = 0; k < R; k++) {
    if (k % 2 == 0) {
      for (int d = 0; d < ndev; d++) {
        omp_set_default_device(d);
#pragma omp target teams distribute parallel for map(tofrom : bad)
        for (int m = 0; m < M; m++)
          if (printf(LINE_FMT, LINE_ARGS(d, m, k)) < 0) {
#pragma omp atomic
            bad++;
          }
      }
    } else {
      /* By the device clause, last device first. Regions run one at a time:
       * several host threads launching teams regions at once on the host
       * plugin trip libomp 22's own assertions (kmp_tasking.cpp:4368 with
       * target nowait, kmp_csupport.cpp:539 from a parallel for; seen under
       * ASan), which is not what this test is about. */
      for (int d = ndev - 1; d >= 0; d--) {
#pragma omp target teams distribute parallel for device(d) map(tofrom : bad)
        for (int m = 0; m < M; m++)
          if (printf(LINE_FMT, LINE_ARGS(d, m, k)) < 0) {
#pragma omp atomic
            bad++;
          }
      }
    }
  }
  dprintf(3, "devices: %d\n", ndev);
  return bad != 0 || ndev < 1;
}
