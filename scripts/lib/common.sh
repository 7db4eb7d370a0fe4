# shellcheck shell=bash disable=SC2034
# Shared settings and helpers of scripts/*.sh. Sourced, never executed.
#
# Everything that the scripts download or build lives under $OIU_CACHE
# (default: ${XDG_CACHE_HOME:-$HOME/.cache}/omp-iouring):
#   apt/                      private apt state used to fetch the LLVM source
#   downloads/                llvm-toolchain-22_22.1.8.orig.tar.xz (sha256-checked)
#   logs/                     full output of every step (shown on failure)
#   llvm-22.1.8/src/          the extracted members of the LLVM source
#   llvm-22.1.8/build/        scratch build trees
#   llvm-22.1.8/devicertl/    libomptarget-{nvptx,amdgpu}.bc + <triple>/libompdevice.a
#   llvm-22.1.8/gpu-libc/     LLVM's GPU libc (setup-debian.sh --with-gpu-libc)

OIU_LLVM_MAJOR=22
OIU_LLVM_VERSION=22.1.8
OIU_LLVM_SRCPKG=llvm-toolchain-${OIU_LLVM_MAJOR}
OIU_LLVM_TARBALL=${OIU_LLVM_SRCPKG}_${OIU_LLVM_VERSION}.orig.tar.xz
OIU_LLVM_TARBALL_SHA256=b49b9277aef97616320b2da259e1f8174c65b0ce2fbe2e8629644a97693402fe
# Top-level directory inside the tarball.
OIU_LLVM_TARBALL_TOPDIR=${OIU_LLVM_SRCPKG}_${OIU_LLVM_VERSION}
OIU_LLVM_PREFIX=${OIU_LLVM_PREFIX:-/usr/lib/llvm-${OIU_LLVM_MAJOR}}

if [[ -z "${HOME:-}" ]]; then
  HOME=$(getent passwd "$(id -u)" | cut -d: -f6)
  export HOME
fi
OIU_CACHE=${OIU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/omp-iouring}
export OIU_CACHE
OIU_LLVM_DIR=$OIU_CACHE/llvm-$OIU_LLVM_VERSION
OIU_LOG_DIR=$OIU_CACHE/logs
OIU_JOBS=${OIU_JOBS:-$(nproc 2>/dev/null || echo 2)}

say() { printf 'setup: %s\n' "$*"; }
warn() { printf 'setup: WARNING: %s\n' "$*" >&2; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

# run_logged NAME CMD...: run CMD with stdin from /dev/null and all output in
# $OIU_LOG_DIR/NAME.log; on failure print the end of the log and exit.
run_logged() {
  local name=$1; shift
  local log=$OIU_LOG_DIR/$name.log
  mkdir -p "$OIU_LOG_DIR"
  if ! "$@" </dev/null >"$log" 2>&1; then
    printf 'setup: ERROR: step "%s" failed; last lines of %s:\n' "$name" "$log" >&2
    tail -n 40 "$log" | sed 's/^/setup:   | /' >&2
    exit 1
  fi
}

# Seconds since the epoch with a decimal, for step timings.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
