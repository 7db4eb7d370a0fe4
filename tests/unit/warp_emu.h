/* SPDX-License-Identifier: MIT */
/* Emulated GPU warps for host tests (warp_emu.c). */
#ifndef WARP_EMU_H
#define WARP_EMU_H

#include <stdint.h>

#define WARP_EMU_LANES 8
void warp_emu_init(int nwarps);
/* The calling thread becomes lane `lane` of warp `warp`. */
void warp_emu_enter(int warp, uint32_t lane);
/* Gatherings of one lane / of several lanes so far. */
extern uint64_t warp_emu_gathered[2];
/* Non-zero: lock-step mode (AMD wavefronts; warp_emu.c). */
extern int warp_emu_lockstep;

#endif
