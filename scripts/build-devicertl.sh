#!/usr/bin/env bash
# Build LLVM 22.1.8's OpenMP GPU DeviceRTL (openmp/device) for NVPTX and AMDGPU,
# which Debian's LLVM 22 does not ship, into $OIU_CACHE/llvm-22.1.8/devicertl:
#
#   libomptarget-nvptx.bc                      for --libomptarget-nvptx-bc-path
#   libomptarget-amdgpu.bc                     (same bitcode as the AMDGPU archive)
#   nvptx64-nvidia-cuda/libompdevice.a         -lompdevice of the NVPTX device link
#   amdgcn-amd-amdhsa/libompdevice.a           -lompdevice of the AMDGPU device link
#   <triple>/libomptarget-*.bc                 symlinks: upstream's lib/<triple> layout
#
# clang 22 needs both on NVPTX: the .bc is linked into every device TU
# (-mlink-builtin-bitcode) and the device linker gets -lompdevice. On AMDGPU
# only -lompdevice is used (--libomptarget-amdgpu-bc-path is ignored).
#
# Compile flags follow openmp/device/CMakeLists.txt of the pinned source plus
# what the CMake build adds by default (CMAKE_BUILD_TYPE=Release: -O3 -DNDEBUG;
# CMAKE_CXX_STANDARD 17). The results are validated by linking a small OpenMP
# target program for sm_90 (when CUDA's ptxas/nvlink are present) and gfx90a.
#
# Idempotent: does nothing when the stamp matches (same source, same clang,
# same recipe) and the outputs are intact. --report: only print the paths and
# flags of an up-to-date build; --no-report: build without printing them.
# Environment: OIU_CACHE, OIU_JOBS,
# CUDA_PATH (default /usr/local/cuda), OIU_LLVM_PREFIX (default /usr/lib/llvm-22).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/common.sh
. "$here/lib/common.sh"

RECIPE=2   # bump when the flags or layout below change
out=$OIU_LLVM_DIR/devicertl
src=$OIU_LLVM_DIR/src
bld=$OIU_LLVM_DIR/build/devicertl
bin=$OIU_LLVM_PREFIX/bin
cuda=${CUDA_PATH:-/usr/local/cuda}
NV_TRIPLE=nvptx64-nvidia-cuda
AMD_TRIPLE=amdgcn-amd-amdhsa

[[ -x $bin/clang++ ]] || die "$bin/clang++ not found (install clang-$OIU_LLVM_MAJOR)"
clang_version=$("$bin/clang" --version | head -n 1)
key="omp-iouring devicertl recipe=$RECIPE llvm=$OIU_LLVM_VERSION src-sha256=$OIU_LLVM_TARBALL_SHA256 clang=$clang_version"

rocm_bitcode_dir() {
  local d
  d=$(dpkg -L rocm-device-libs 2>/dev/null | grep '/ocml\.bc$' | head -n 1) ||:
  if [[ -n "$d" ]]; then dirname "$d"; return; fi
  for d in /usr/lib/*/amdgcn/bitcode /opt/rocm/amdgcn/bitcode; do
    [[ -f $d/ocml.bc ]] && { echo "$d"; return; }
  done
}
have_cuda() { [[ -x $cuda/bin/ptxas && -x $cuda/bin/nvlink ]]; }

# The flags a user program needs (also used for the validation below).
nv_flags() {   # $1: devicertl dir
  echo "-O2 -fopenmp --offload-arch=sm_90 --cuda-path=$cuda --libomptarget-nvptx-bc-path=$1/libomptarget-nvptx.bc -Xoffload-linker-$NV_TRIPLE -L$1/$NV_TRIPLE"
}
amd_flags() {  # $1: devicertl dir
  echo "-O2 -fopenmp --offload-arch=gfx90a -mcode-object-version=5 --rocm-device-lib-path=$(rocm_bitcode_dir) -Xoffload-linker-$AMD_TRIPLE -L$1/$AMD_TRIPLE"
}

report() {
  say "DeviceRTL nvptx: $out/libomptarget-nvptx.bc"
  say "DeviceRTL nvptx lib dir: $out/$NV_TRIPLE (libompdevice.a)"
  say "DeviceRTL amdgpu: $out/libomptarget-amdgpu.bc"
  say "DeviceRTL amdgpu lib dir: $out/$AMD_TRIPLE (libompdevice.a)"
  say "flags sm_90: $(nv_flags "$out")"
  say "flags gfx90a: $(amd_flags "$out")"
}

outputs_ok() {
  [[ -f $out/.stamp && -f $out/SHA256SUMS ]] || return 1
  [[ "$(head -n 1 "$out/.stamp")" == "$key" ]] || return 1
  (cd "$out" && sha256sum --quiet --status -c SHA256SUMS)
}

mode=build
case ${1:-} in
  "") ;;
  --report) mode=report ;;     # print paths and flags of an up-to-date build, or fail
  --no-report) mode=quiet ;;   # build if needed, print progress only
  *) die "usage: $0 [--report|--no-report]" ;;
esac

if outputs_ok; then
  case $mode in
    report) report ;;
    quiet) say "DeviceRTL: up to date in $out" ;;
    *) say "DeviceRTL: up to date in $out"; report ;;
  esac
  exit 0
fi
[[ $mode != report ]] || die "DeviceRTL not built (or stale) in $out: run $0"

t_all=$(now)
say "DeviceRTL: building for LLVM $OIU_LLVM_VERSION with $bin/clang++ ($clang_version)"
if [[ "$clang_version" != *" $OIU_LLVM_VERSION"* ]]; then
  warn "clang is not $OIU_LLVM_VERSION: the DeviceRTL should match the compiler that links it"
fi
"$here/fetch-llvm-source.sh" openmp offload libc

dev=$src/openmp/device
cmakelists=$dev/CMakeLists.txt
[[ -f $cmakelists ]] || die "$cmakelists missing"

# The source list, exactly as openmp/device/CMakeLists.txt has it.
mapfile -t sources < <(awk '
  /^set\(src_files/ { on = 1; next }
  on && /\)/ { on = 0 }
  on { gsub(/\$\{CMAKE_CURRENT_SOURCE_DIR\}\//, ""); gsub(/[ \t]/, ""); if ($0 != "") print }
' "$cmakelists")
(( ${#sources[@]} > 0 )) || die "no src_files found in $cmakelists"
for f in "${sources[@]}"; do [[ -f $dev/$f ]] || die "$dev/$f (listed in CMakeLists.txt) is missing"; done

# The recipe below mirrors the pinned CMakeLists.txt; refuse to build if that
# file no longer says what we rely on.
for want in '-flto' '-fvisibility=hidden' '-nogpulib' '-nostdlibinc' '-fno-rtti' \
            '-fno-exceptions' '-fconvergent-functions' '-Wno-unknown-cuda-version' \
            '-mllvm -vectorize-slp=false' '-Xclang -mcode-object-version=none' \
            '--cuda-feature=+ptx63' 'SHARED_SCRATCHPAD_SIZE=512' \
            '"-flto" "-r" "-nostdlib" "-Wl,--lto-emit-llvm"'; do
  grep -qF -- "$want" "$cmakelists" || die "$cmakelists no longer contains '$want': update scripts/build-devicertl.sh"
done

common=(-std=c++17 -O3 -DNDEBUG
        -flto -fvisibility=hidden -nogpulib -nostdlibinc -fno-rtti -fno-exceptions
        -fconvergent-functions -Wno-unknown-cuda-version
        -mllvm -vectorize-slp=false
        -DSHARED_SCRATCHPAD_SIZE=512
        # omp-iouring's device library owns printf. clang links this bitcode
        # into every NVPTX device TU and internalizes it, so a weak printf here
        # could never be replaced; renamed, DeviceRTL keeps its own debug
        # printing and a program's printf resolves to the device library.
        -Dprintf=__omp_devicertl_printf
        -I"$dev/include" -I"$src/libc" -I"$src/offload/include")
nv_cflags=("--target=$NV_TRIPLE" --cuda-feature=+ptx63)
amd_cflags=("--target=$AMD_TRIPLE" -Xclang -mcode-object-version=none)
# shellcheck disable=SC2054  # -Wl,... is one argument
link_flags=(-O3 -DNDEBUG -flto -r -nostdlib -Wl,--lto-emit-llvm)

rm -rf "$bld" "$out.new"
mkdir -p "$bld" "$out.new/$NV_TRIPLE" "$out.new/$AMD_TRIPLE"

# build_target NAME TRIPLE CFLAGS...: compile all sources, link one .bc, archive it.
build_target() {
  local name=$1 triple=$2; shift 2
  local t0 objdir=$bld/$triple objs=() f
  t0=$(now)
  mkdir -p "$objdir"
  say "DeviceRTL: compiling ${#sources[@]} sources for $triple ($OIU_JOBS jobs)"
  # Job list for xargs: two lines (SRC, OBJ) per source; the compile command
  # gets them appended and moves them into place.
  for f in "${sources[@]}"; do
    objs+=("$objdir/$(basename "$f" .cpp).o")
    printf '%s\n%s\n' "$dev/$f" "$objdir/$(basename "$f" .cpp).o"
  done >"$objdir/jobs"
  # shellcheck disable=SC2016  # expanded by the inner bash
  run_logged "devicertl-compile-$name" xargs -a "$objdir/jobs" -d '\n' -n 2 -P "$OIU_JOBS" \
      bash -c 'n=$#; exec "${@:1:n-2}" -c "${@:n-1:1}" -o "${@:n:1}"' bash \
      "$bin/clang++" "$@" "${common[@]}"
  say "DeviceRTL: linking libomptarget-$name.bc"
  run_logged "devicertl-link-$name" "$bin/clang++" --target="$triple" "${link_flags[@]}" \
      "${objs[@]}" -o "$out.new/libomptarget-$name.bc"
  run_logged "devicertl-ar-$name" "$bin/llvm-ar" rcs "$out.new/$triple/libompdevice.a" \
      "$out.new/libomptarget-$name.bc"
  ln -s "../libomptarget-$name.bc" "$out.new/$triple/libomptarget-$name.bc"
  if "$bin/llvm-nm" --defined-only "$out.new/libomptarget-$name.bc" | grep -qw printf; then
    die "libomptarget-$name.bc still defines printf"
  fi
  say "DeviceRTL: $name done ($(stat -c %s "$out.new/libomptarget-$name.bc") bytes) in $(elapsed "$t0")"
}
build_target nvptx "$NV_TRIPLE" "${nv_cflags[@]}"
build_target amdgpu "$AMD_TRIPLE" "${amd_cflags[@]}"

# --- Validate: link a target region for sm_90 and gfx90a (no GPU needed) ------
test_dir=$bld/test
mkdir -p "$test_dir"
cat >"$test_dir/target.c" <<'EOF'
#include <stdio.h>
int main(void) {
  int a[256];
#pragma omp target teams distribute parallel for map(from : a[0:256])
  for (int i = 0; i < 256; ++i)
    a[i] = 2 * i;
  printf("%d\n", a[255]);
  return a[255] != 510;
}
EOF
# validate ARCH FLAGS...: a target region compiles and links, and the image is ARCH's.
validated=()
validate() {
  local arch=$1; shift
  say "DeviceRTL: validating: compile+link a target region for $arch"
  run_logged "devicertl-test-$arch" "$bin/clang" "$@" "$test_dir/target.c" -o "$test_dir/target-$arch"
  run_logged "devicertl-test-$arch-image" "$bin/llvm-objdump" --offloading "$test_dir/target-$arch"
  grep -q "$arch" "$OIU_LOG_DIR/devicertl-test-$arch-image.log" || die "no $arch image in $test_dir/target-$arch"
  validated+=("$arch")
}
if have_cuda; then
  # shellcheck disable=SC2046
  validate sm_90 $(nv_flags "$out.new")
else
  warn "no CUDA ptxas/nvlink in $cuda/bin: skipping the sm_90 link check (set CUDA_PATH)"
fi
rocm=$(rocm_bitcode_dir)
if [[ -n "$rocm" ]]; then
  # shellcheck disable=SC2046
  validate gfx90a $(amd_flags "$out.new")
else
  warn "no ROCm device libraries (package rocm-device-libs): skipping the gfx90a link check"
fi

(cd "$out.new" && sha256sum libomptarget-nvptx.bc libomptarget-amdgpu.bc \
   "$NV_TRIPLE/libompdevice.a" "$AMD_TRIPLE/libompdevice.a" >SHA256SUMS)
{
  echo "$key"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "validated: ${validated[*]:-none}"
} >"$out.new/.stamp"
rm -rf "$out"
mv "$out.new" "$out"
say "DeviceRTL: built in $out in $(elapsed "$t_all") (link-checked: ${validated[*]:-none})"
[[ $mode == quiet ]] || report
