#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fuzzes the device formatter against glibc snprintf (tests/fuzz/format_fuzz.c).
#   scripts/fuzz.sh [SECONDS] [BUILD_DIR]   (default 60 s, build/)
# Builds the fuzzer in BUILD_DIR (scripts/build.sh) when it is missing. To
# grow the corpus with what a long run found:
#   BUILD/tests/format_fuzz -merge=1 -use_counters=0 -use_cmp=0 tests/fuzz/corpus NEW_INPUTS_DIR
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secs=${1:-60}
build=${2:-$root/build}
[ -x "$build/tests/format_fuzz" ] || "$root/scripts/build.sh" "$build" >/dev/null
exec "$root/tests/fuzz/run.sh" "$build/tests/format_fuzz" "$secs"
