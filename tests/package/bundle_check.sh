#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The run bundle of this build (scripts/bundle.sh), unpacked elsewhere and run
# with a bare environment, as on a GPU node with no toolchain: its runner and
# env.sh name nothing of the build or source tree, COMMIT names the code, and
# a few tests of every kind pass from it.
#   bundle_check.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
OIU_XZ_OPTS='-0 -T2' OIU_BUNDLE_MAX=2000000000 OIU_BUNDLE_EXCLUDE='^fuzz_' \
  "$src/scripts/bundle.sh" "$build" "$tmp/oiu-check.tar.xz" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
mkdir "$tmp/node"
tar xf "$tmp/oiu-check.tar.xz" -C "$tmp/node"
b=$tmp/node/oiu-check
# (comments may say which tests were left out for needing the tree)
if grep -n -F -e "$build" -e "$src" "$b/run-tests.sh" "$b/env.sh" | grep -v '^[^:]*:[0-9]*:#'; then
  echo "the bundle's runner names the build or source tree"
  exit 1
fi
grep "^commit " "$b/COMMIT"
# Its programs load the runtime from the bundle, not from the build's RUNPATH.
env -i PATH=/usr/bin:/bin bash -c ". '$b/env.sh' >/dev/null && ldd '$b/bin/lines'" >"$tmp/ldd"
for lib in libompiouring.so libomptarget.so libomp.so; do
  where=$(awk -v l="$lib" 'index($1, l) == 1 { print $3 }' "$tmp/ldd")
  echo "$lib: $where"
  [[ $where == "$b/lib/"* ]]
done
env -i PATH=/usr/bin:/bin HOME="$tmp" bash -c "cd '$b' && RESULTS='$tmp/res' \
  ./run-tests.sh '^(lines_file_uring1|stdio_calls_unbuffered_uring0|file_roundtrip_uring1|example_hello_uring1|write_errors_uring1)$'" |
  tee "$tmp/out"
grep -qx '5 passed, 0 failed' "$tmp/out"
