#!/usr/bin/env bash
# Build LLVM 22.1.8's GPU libc for nvptx64 (the benchmark's "LLVM libc RPC
# printf" anchor) into $OIU_CACHE/llvm-22.1.8/gpu-libc/nvptx64:
#
#   lib/libc.a lib/libm.a      device archives (-lc -lm of the device link)
#   lib/libc.bc lib/libm.bc    the same as single bitcode files
#   lib/crt1.o include/        for direct GPU compilation (unused by OpenMP)
#
# A runtimes build of the Debian source (LLVM_ENABLE_RUNTIMES=libc, every
# compiler targeting nvptx64-nvidia-cuda) with Debian's clang 22. With it,
# device printf/vprintf resolve to libc's RPC implementation, served by the
# RPC server inside libomptarget's plugin. Link a program with:
#   <DeviceRTL sm_90 flags> -Xoffload-linker-nvptx64-nvidia-cuda -L<prefix>/lib
#   -Xoffload-linker-nvptx64-nvidia-cuda -lc -Xoffload-linker-nvptx64-nvidia-cuda -lm
#
# Idempotent (stamp + SHA256SUMS like build-devicertl.sh). --report: only print
# the paths and flags of an up-to-date build; --no-report: build quietly.
# Environment: OIU_CACHE, OIU_JOBS, CUDA_PATH, OIU_LLVM_PREFIX.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/common.sh
. "$here/lib/common.sh"

RECIPE=1   # bump when the configuration below changes
TRIPLE=nvptx64-nvidia-cuda
out=$OIU_LLVM_DIR/gpu-libc/nvptx64
src=$OIU_LLVM_DIR/src
bld=$OIU_LLVM_DIR/build/gpu-libc-nvptx64
bin=$OIU_LLVM_PREFIX/bin
cuda=${CUDA_PATH:-/usr/local/cuda}
rtl=$OIU_LLVM_DIR/devicertl

mode=build
case ${1:-} in
  "") ;;
  --report) mode=report ;;
  --no-report) mode=quiet ;;
  *) die "usage: $0 [--report|--no-report]" ;;
esac

[[ -x $bin/clang ]] || die "$bin/clang not found (install clang-$OIU_LLVM_MAJOR)"
clang_version=$("$bin/clang" --version | head -n 1)
key="omp-iouring gpu-libc recipe=$RECIPE target=$TRIPLE llvm=$OIU_LLVM_VERSION src-sha256=$OIU_LLVM_TARBALL_SHA256 clang=$clang_version"

libc_flags() {
  echo "-Xoffload-linker-$TRIPLE -L$out/lib -Xoffload-linker-$TRIPLE -lc -Xoffload-linker-$TRIPLE -lm"
}
report() {
  say "GPU libc nvptx64: $out"
  say "GPU libc nvptx64 lib dir: $out/lib (libc.a libm.a)"
  say "flags sm_90 + GPU libc: <flags sm_90> $(libc_flags)"
}
outputs_ok() {
  [[ -f $out/.stamp && -f $out/SHA256SUMS ]] || return 1
  [[ "$(head -n 1 "$out/.stamp")" == "$key" ]] || return 1
  (cd "$out" && sha256sum --quiet --status -c SHA256SUMS)
}

if outputs_ok; then
  case $mode in
    report) report ;;
    quiet) say "GPU libc: up to date in $out" ;;
    *) say "GPU libc: up to date in $out"; report ;;
  esac
  exit 0
fi
[[ $mode != report ]] || die "GPU libc not built (or stale) in $out: run $0"

t_all=$(now)
say "GPU libc: building for $TRIPLE with $bin/clang ($clang_version)"
command -v cmake >/dev/null || die "cmake not found"
command -v ninja >/dev/null || die "ninja not found (ninja-build)"
# libc's header generator is Python with PyYAML; prefer the system Python
# (a pyenv or venv python3 first on PATH may lack yaml).
python=/usr/bin/python3
[[ -x $python ]] || python=$(command -v python3) || die "python3 not found"
"$python" -c 'import yaml' 2>/dev/null || die "$python cannot import yaml: install python3-yaml"

# The validation needs the DeviceRTL.
"$here/build-devicertl.sh" --no-report
# The runtimes build needs runtimes/, cmake/ and llvm/cmake/ besides libc/.
"$here/fetch-llvm-source.sh" libc runtimes cmake llvm/cmake

rm -rf "$bld" "$out.new"
mkdir -p "$bld"
t0=$(now)
say "GPU libc: configuring (cmake, runtimes build, LLVM_ENABLE_RUNTIMES=libc)"
run_logged gpu-libc-configure cmake -S "$src/runtimes" -B "$bld" -G Ninja \
  -DLLVM_ENABLE_RUNTIMES=libc \
  -DLLVM_RUNTIMES_TARGET=$TRIPLE \
  -DLLVM_DEFAULT_TARGET_TRIPLE=$TRIPLE \
  -DLLVM_LIBC_FULL_BUILD=ON \
  -DLLVM_INCLUDE_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$out.new" \
  -DCMAKE_C_COMPILER="$bin/clang" \
  -DCMAKE_CXX_COMPILER="$bin/clang++" \
  -DCMAKE_ASM_COMPILER="$bin/clang" \
  -DCMAKE_C_COMPILER_TARGET=$TRIPLE \
  -DCMAKE_CXX_COMPILER_TARGET=$TRIPLE \
  -DCMAKE_ASM_COMPILER_TARGET=$TRIPLE \
  -DCMAKE_C_COMPILER_WORKS=ON \
  -DCMAKE_CXX_COMPILER_WORKS=ON \
  -DCMAKE_ASM_COMPILER_WORKS=ON \
  -DCMAKE_AR="$bin/llvm-ar" \
  -DCMAKE_RANLIB="$bin/llvm-ranlib" \
  -DCMAKE_NM="$bin/llvm-nm" \
  -DPython3_EXECUTABLE="$python"
say "GPU libc: configured in $(elapsed "$t0")"
t0=$(now)
say "GPU libc: building ($OIU_JOBS jobs; about a minute on 2 cores)"
run_logged gpu-libc-build ninja -C "$bld" -j "$OIU_JOBS"
run_logged gpu-libc-install ninja -C "$bld" install
for f in lib/libc.a lib/libm.a lib/libc.bc lib/libm.bc; do
  [[ -f $out.new/$f ]] || die "GPU libc build did not install $f"
done
say "GPU libc: built in $(elapsed "$t0") ($(du -sh "$out.new" | cut -f1) installed)"

# --- Validate: device printf in a target region must resolve to libc's RPC vprintf.
validated=none
if [[ -x $cuda/bin/ptxas && -x $cuda/bin/nvlink ]]; then
  say "GPU libc: validating: sm_90 target region with printf links against libc's vprintf"
  test_dir=$bld/test
  mkdir -p "$test_dir"
  cat >"$test_dir/printf.c" <<'EOF'
#include <stdio.h>
int main(void) {
#pragma omp target teams num_teams(2)
  printf("hello from the device\n");
  return 0;
}
EOF
  # shellcheck disable=SC2016  # expanded by the inner sh
  run_logged gpu-libc-test-sm_90 sh -c 'cd "$1" && shift && exec "$@"' sh "$test_dir" \
    "$bin/clang" -O2 -fopenmp --offload-arch=sm_90 "--cuda-path=$cuda" \
    "--libomptarget-nvptx-bc-path=$rtl/libomptarget-nvptx.bc" \
    "-Xoffload-linker-$TRIPLE" "-L$rtl/$TRIPLE" \
    "-Xoffload-linker-$TRIPLE" "-L$out.new/lib" "-Xoffload-linker-$TRIPLE" -lc "-Xoffload-linker-$TRIPLE" -lm \
    -save-temps printf.c -o printf
  img=$(find "$test_dir" -maxdepth 1 -name 'printf*sm_90*.img' | head -n 1) ||:
  [[ -n "$img" ]] || die "no sm_90 device image kept in $test_dir"
  run_logged gpu-libc-test-symbols "$bin/llvm-readelf" -s "$img"
  grep -Eq 'FUNC +GLOBAL +DEFAULT +[0-9]+ vprintf$' "$OIU_LOG_DIR/gpu-libc-test-symbols.log" \
    || die "vprintf is not defined by the GPU libc in $img (see $OIU_LOG_DIR/gpu-libc-test-symbols.log)"
  grep -q '__llvm_rpc_client' "$OIU_LOG_DIR/gpu-libc-test-symbols.log" \
    || die "no __llvm_rpc_client in $img"
  validated=sm_90
else
  warn "no CUDA ptxas/nvlink in $cuda/bin: skipping the sm_90 link check (set CUDA_PATH)"
fi

(cd "$out.new" && find . -type f | LC_ALL=C sort | xargs sha256sum) >"$bld/SHA256SUMS"
mv "$bld/SHA256SUMS" "$out.new/SHA256SUMS"
{
  echo "$key"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "validated: $validated"
} >"$out.new/.stamp"
rm -rf "$out"
mv "$out.new" "$out"
say "GPU libc: done in $(elapsed "$t_all") (link-checked: $validated)"
[[ $mode == quiet ]] || report
