#!/usr/bin/env bash
# Set up the omp-iouring toolchain on Debian 12 (bookworm).
#
#   scripts/setup-debian.sh [--with-gpu-libc] [--dry-run]
#
# 1. Installs (apt-get, non-interactive, --no-install-recommends) whichever of
#    the required packages are missing; `apt-get update` runs only then.
# 2. Unless LLVM 22 already ships a GPU DeviceRTL, builds it from Debian's own
#    LLVM 22.1.8 source (scripts/build-devicertl.sh) into $OIU_CACHE.
# 3. --with-gpu-libc: also builds LLVM's GPU libc for nvptx64
#    (scripts/build-gpu-libc.sh).
# 4. Prints the paths and flags the CMake build needs ("setup: NAME: VALUE").
#
# Idempotent: a second run only checks and reports. Runs as root, or as a user
# with sudo (used for apt-get only). Under `sudo`, the builds run as the
# invoking user ($SUDO_USER) with that user's cache directory, so that the
# results are usable without root. Safe with CI=true and no stdin.
#
# Environment: OIU_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/omp-iouring),
# OIU_JOBS (default: nproc), CUDA_PATH (default /usr/local/cuda).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

with_gpu_libc=0
dry_run=0
for arg in "$@"; do
  case $arg in
    --with-gpu-libc) with_gpu_libc=1 ;;
    --dry-run) dry_run=1 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "setup: ERROR: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

# Under sudo, build as the invoking user, in that user's cache.
build_user=""
if [[ $(id -u) -eq 0 && -n "${SUDO_USER:-}" && "${SUDO_USER}" != root ]]; then
  build_user=$SUDO_USER
  if [[ -z "${OIU_CACHE:-}" ]]; then
    user_home=$(getent passwd "$build_user" | cut -d: -f6)
    OIU_CACHE=$user_home/.cache/omp-iouring
    export OIU_CACHE
  fi
fi
# shellcheck source=scripts/lib/common.sh
. "$here/lib/common.sh"

t_start=$(now)
# Under sudo, make the cache (and its logs/) the invoking user's before any
# step writes there.
[[ -z "$build_user" ]] || runuser -u "$build_user" -- mkdir -p "$OIU_LOG_DIR"
export DEBIAN_FRONTEND=noninteractive

# --- 1. Packages ----------------------------------------------------------------
packages=(
  "clang-$OIU_LLVM_MAJOR" "lld-$OIU_LLVM_MAJOR" "llvm-$OIU_LLVM_MAJOR"
  "clang-tools-$OIU_LLVM_MAJOR"     # clang-linker-wrapper: every -fopenmp offload link needs it
  "libomp-$OIU_LLVM_MAJOR-dev"
  "libclang-rt-$OIU_LLVM_MAJOR-dev"  # ASan/UBSan/LSan and libFuzzer runtimes (OIU_SANITIZE, tests/fuzz)
  "liboffload-$OIU_LLVM_MAJOR" "liboffload-$OIU_LLVM_MAJOR-dev"   # libomptarget + plugins
  liburing-dev libhsa-runtime-dev
  rocm-device-libs                  # ocml/ockl bitcode for gfx targets
  cmake ninja-build pkg-config python3
  python3-matplotlib                # bench/plot.py: the benchmark chart (bench_smoke draws one)
  xz-utils dpkg-dev                 # the LLVM source tarball
)
(( with_gpu_libc )) && packages+=(python3-yaml)   # libc's header generator

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) ||:
  [[ "$status" == ii* ]] || missing+=("$p")
done

if (( ${#missing[@]} == 0 )); then
  say "packages: all ${#packages[@]} required packages are installed"
else
  say "packages: missing: ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    # Never prompt when nobody can answer.
    if [[ -t 0 && "${CI:-}" != true ]]; then as_root=(sudo); else as_root=(sudo -n); fi
  else
    die "not root and no sudo: install as root: apt-get install --no-install-recommends ${missing[*]}"
  fi
  if (( dry_run )); then
    say "packages: would run: ${as_root[*]:+${as_root[*]} }apt-get update && ${as_root[*]:+${as_root[*]} }apt-get install -y --no-install-recommends ${missing[*]}"
  else
    t0=$(now)
    say "packages: apt-get update"
    run_logged apt-get-update "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q update
    say "packages: apt-get install --no-install-recommends ${missing[*]}"
    run_logged apt-get-install "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get -q -y --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      install "${missing[@]}"
    say "packages: installed ${#missing[@]} packages in $(elapsed "$t0")"
  fi
fi

bin=$OIU_LLVM_PREFIX/bin
if [[ -x $bin/clang ]]; then
  say "clang: $bin/clang ($("$bin/clang" --version | head -n 1))"
  [[ -x $bin/clang-linker-wrapper ]] || warn "$bin/clang-linker-wrapper missing: offload links will fail (clang-tools-$OIU_LLVM_MAJOR)"
elif (( ! dry_run )); then
  die "$bin/clang not found after installing clang-$OIU_LLVM_MAJOR"
fi

# The cache is created by the user who builds into it.
as_build_user() {
  if [[ -n "$build_user" ]]; then
    runuser -u "$build_user" -- env HOME="$(getent passwd "$build_user" | cut -d: -f6)" \
      OIU_CACHE="$OIU_CACHE" OIU_JOBS="$OIU_JOBS" ${CUDA_PATH:+CUDA_PATH="$CUDA_PATH"} "$@"
  else
    "$@"
  fi
}

# --- 2. GPU DeviceRTL -------------------------------------------------------------
# A toolchain that ships it has libomptarget-{nvptx,amdgpu}*.bc under lib/ (or
# lib/<triple>/), next to libompdevice.a; clang then finds it by itself.
own_rtl=0
sys_nv=$(find "$OIU_LLVM_PREFIX/lib" -maxdepth 2 -name 'libomptarget-nvptx*.bc' 2>/dev/null | head -n 1) ||:
sys_amd=$(find "$OIU_LLVM_PREFIX/lib" -maxdepth 2 -name 'libomptarget-amdgpu*.bc' 2>/dev/null | head -n 1) ||:
if [[ -n "$sys_nv" && -n "$sys_amd" ]]; then
  say "DeviceRTL: the toolchain ships one; nothing to build"
  say "DeviceRTL nvptx: $sys_nv"
  say "DeviceRTL amdgpu: $sys_amd"
elif (( dry_run )); then
  say "DeviceRTL: not in $OIU_LLVM_PREFIX/lib; would run scripts/build-devicertl.sh (OIU_CACHE=$OIU_CACHE)"
else
  say "DeviceRTL: not in $OIU_LLVM_PREFIX/lib; scripts/build-devicertl.sh (OIU_CACHE=$OIU_CACHE)"
  as_build_user "$here/build-devicertl.sh" --no-report
  own_rtl=1
fi

# --- 3. GPU libc (optional) -------------------------------------------------------
if (( with_gpu_libc )); then
  if (( dry_run )); then
    say "GPU libc: would run scripts/build-gpu-libc.sh"
  else
    as_build_user "$here/build-gpu-libc.sh" --no-report
  fi
fi

# --- 4. What the CMake build needs --------------------------------------------------
say "LLVM prefix: $OIU_LLVM_PREFIX"
if (( own_rtl )); then
  as_build_user "$here/build-devicertl.sh" --report
fi
if (( with_gpu_libc && ! dry_run )); then
  as_build_user "$here/build-gpu-libc.sh" --report
fi
cuda=${CUDA_PATH:-/usr/local/cuda}
if [[ -x $cuda/bin/ptxas && -x $cuda/bin/nvlink ]]; then
  say "CUDA: $cuda"
else
  say "CUDA: not found at $cuda (sm_* targets need ptxas/nvlink; set CUDA_PATH)"
fi
rocm=$(dpkg -L rocm-device-libs 2>/dev/null | grep '/ocml\.bc$' | head -n 1) ||:
[[ -n "$rocm" ]] && say "ROCm device libs: $(dirname "$rocm")"
say "cache: $OIU_CACHE"
say "done in $(elapsed "$t_start")"
