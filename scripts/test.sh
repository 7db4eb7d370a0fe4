#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The test command: set up the toolchain (idempotent), build with warnings as
# errors, run the whole suite on the host offload target (plain, then with
# ASan/LSan/UBSan), build the device library, tests and examples for sm_90,
# gfx90a and gfx942 (no GPU here: link only), and inspect the AMDGPU images
# (ctest label "offline").
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/setup-debian.sh
echo "test: host offload target"
OIU_WERROR=ON OIU_ARCHS=host scripts/build.sh build/test-host
(cd build/test-host && ctest --output-on-failure -j "$(nproc)")
echo "test: host offload target with ASan, LSan and UBSan"
OIU_WERROR=ON OIU_SANITIZE=ON OIU_ARCHS=host scripts/build.sh build/test-asan
(cd build/test-asan && ctest --output-on-failure -j "$(nproc)")
echo "test: GPU targets sm_90, gfx90a and gfx942 (compile and link, AMDGPU images inspected)"
OIU_WERROR=ON OIU_ARCHS="sm_90;gfx90a;gfx942" scripts/build.sh build/test-gpu
(cd build/test-gpu && ctest --output-on-failure -L offline -j "$(nproc)")
