/* SPDX-License-Identifier: MIT */
/*
 * Forced into every translation unit that uses omp-iouring (pkg-config and
 * the CMake package add "-include omp_iouring/device_names.h"); it routes two
 * C library names to the device library's own symbols in GPU compilations
 * and does nothing anywhere else.
 *
 * ptxas treats calls to vprintf and vfprintf as CUDA system calls: a caller
 * keeps live values in registers that only a system call preserves
 * (measured with CUDA 13 ptxas for sm_90: every other stdio name gets the
 * normal ABI). A library function of either name clobbers them; on an H100
 * a user function calling our vfprintf returned through a corrupted address.
 * AMDGPU's DeviceRTL defines vprintf itself. So on GPUs these calls go to
 * __oiu_vprintf/__oiu_vfprintf, which the same macros name in device-rtl.
 * Defined before <stdio.h> is read, the macros also rename its prototypes,
 * so types are checked as usual.
 */
#ifndef OMP_IOURING_DEVICE_NAMES_H
#define OMP_IOURING_DEVICE_NAMES_H

#if defined(__NVPTX__) || defined(__AMDGPU__)
#define vprintf __oiu_vprintf
#define vfprintf __oiu_vfprintf
#endif

#endif
