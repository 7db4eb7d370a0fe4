#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the build into a scratch prefix, then builds the example the two
# ways a user would (pkg-config, and a CMake project with find_package) and
# runs both: the installed package must be all a user needs.
#   check.sh BUILD_DIR SOURCE_DIR RUN_SH
set -euo pipefail
build=$1 src=$2 run=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cc=/usr/lib/llvm-22/bin/clang
export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
echo "pkg-config: $(pkg-config --cflags --libs omp-iouring)"
# shellcheck disable=SC2046
$cc -O2 -fopenmp -fopenmp-targets=x86_64-pc-linux-gnu "$src/examples/hello.c" \
  $(pkg-config --cflags --libs omp-iouring) -o "$tmp/hello_pc"
"$run" hello "$tmp/hello_pc"
cmake -S "$src/tests/package" -B "$tmp/consumer" -DCMAKE_C_COMPILER=$cc \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" -DHELLO_SOURCE="$src/examples/hello.c" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
"$run" hello "$tmp/consumer/hello_pkg"
