/* SPDX-License-Identifier: MIT */
/*
 * The device library's error texts (device-rtl/strerror.c, built here for
 * the host) against the host glibc's strerror, for errno values -5 to 200:
 * every value glibc knows has its exact text, every other has none (glibc
 * says "Unknown error N" for those, and the device's perror prints the same).
 */
#include <stdio.h>
#include <string.h>

const char *oiu_error_text(int errnum);

int main(void) {
  int known = 0, bad = 0;
  for (int n = -5; n <= 200; n++) {
    const char *ours = oiu_error_text(n);
    char unknown[32];
    snprintf(unknown, sizeof unknown, "Unknown error %d", n);
    const char *glibc = strerror(n);
    int glibc_knows = strcmp(glibc, unknown) != 0;
    if (glibc_knows ? !ours || strcmp(ours, glibc) : ours != NULL) {
      printf("errno %d: ours \"%s\", glibc \"%s\"\n", n, ours ? ours : "(none)", glibc);
      bad++;
    }
    known += glibc_knows;
  }
  printf("strerror_diff: %d values, %d with a text, %d differ\n", 206, known, bad);
  return bad != 0 || known < 130;
}
