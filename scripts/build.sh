#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configures and builds omp-iouring with clang 22.
#   scripts/build.sh [BUILD_DIR]        (default: build/)
# OIU_ARCHS   offload archs, ';'-separated (default "host"; e.g. "host;sm_90;gfx90a")
# OIU_WERROR  ON to make warnings errors (CI)
# OIU_SANITIZE  ON for an ASan/LSan/UBSan build (host target only; cmake/sanitize.cmake)
# sm_*/gfx* builds use the DeviceRTL that scripts/setup-debian.sh built.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
cache=${OIU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/omp-iouring}
rtl=$cache/llvm-22.1.8/devicertl
archs=${OIU_ARCHS:-host}
libc=$cache/llvm-22.1.8/gpu-libc/nvptx64/lib # setup-debian.sh --with-gpu-libc: the benchmark's anchor
echo "build: $build (offload archs: $archs)"
mkdir -p "$build"
cmake -S "$root" -B "$build" -G Ninja -Wno-dev \
  -DCMAKE_C_COMPILER=/usr/lib/llvm-22/bin/clang \
  -DOIU_OFFLOAD_ARCHS="$archs" \
  -DOIU_NVPTX_BC="$rtl/libomptarget-nvptx.bc" \
  -DOIU_AMDGPU_BC="$rtl/libomptarget-amdgpu.bc" \
  -DOIU_GPU_LIBC_DIR="$([[ -f $libc/libc.a ]] && echo "$libc")" \
  -DOIU_WERROR="${OIU_WERROR:-OFF}" -DOIU_SANITIZE="${OIU_SANITIZE:-OFF}" >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)"
