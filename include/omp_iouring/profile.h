/* SPDX-License-Identifier: MIT */
/*
 * Where one thread's unbuffered printf spends its time, on NVIDIA: a
 * build-time profile (-DOIU_PROFILE=1; printf_bench_profile latency N). At
 * each point the device library adds the SM cycles since the previous point
 * to that point's sum in __oiu_prof. One thread only: the sums are plain
 * memory, and a point costs a clock read and a few cached memory accesses
 * (about 0.3 us on an H100).
 */
#ifndef OMP_IOURING_PROFILE_H
#define OMP_IOURING_PROFILE_H

enum oiu_prof_point {
  OIU_PROF_CALLER,  /* the caller's own code, from one printf's return to the next call */
  OIU_PROF_SLOT,    /* a staging slot taken */
  OIU_PROF_FORMAT,  /* the text formatted into it */
  OIU_PROF_RESERVE, /* an SQ entry reserved */
  OIU_PROF_SUBMIT,  /* the SQE written and, next in line, the SQ tail published */
  OIU_PROF_REAPED,  /* waited until a reaper moved our CQE's result to the slot */
  OIU_PROF_RESULT,  /* our poll saw it */
  OIU_PROF_RETURN,  /* the slot given back: printf returns */
  OIU_PROF_POINTS
};
#define OIU_PROF_NAMES                                                                            \
  {"caller", "slot", "format", "reserve", "submit", "reaped", "result", "return"}

/* __oiu_prof[OIU_PROF_POINTS]: the cycle stamp of the last point; [+1]: calls. */
#define OIU_PROF_WORDS (OIU_PROF_POINTS + 2)

#endif
