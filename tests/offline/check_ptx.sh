#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_ptx.sh CLANG ARCH CUDA_PATH SOURCE_DIR: compiles device-rtl/ring.c for
# NVPTX and checks two properties the H100 runs rest on (device-rtl/target.h):
#  - each lane claims its slot and SQ entry alone: oiu_slot_acquire and
#    oiu_submit (with sq_reserve in it) make no lane operation;
#  - oiu_slot_release orders the give-back: the store of the free-slot queue
#    cell's state, which hands the slot to the next taker, comes right after
#    a release fence, and no lane counter is counted down (a group is one
#    lane on NVIDIA; clang 22 would drop an atomicrmw's own ordering);
#  - oiu_submit publishes the SQ tail (a plain store) and drops the publish
#    lock (a store of 0) right after a release fence: that one fence is all
#    that orders the SQEs before the tail the kernel reads (publish_tail).
set -euo pipefail
clang=$1 arch=$2 cuda=$3 src=$4
ptx=$(mktemp "${TMPDIR:-/tmp}/check_ptx.XXXXXX")
trap 'rm -f "$ptx"' EXIT
"$clang" -I"$src/include" -I"$src/device-rtl" -O2 -DNDEBUG -std=gnu11 -fopenmp -fopenmp-cuda-mode \
  -fopenmp-targets=nvptx64-nvidia-cuda -Xopenmp-target=nvptx64-nvidia-cuda -march="$arch" \
  --cuda-path="$cuda" --offload-device-only -S -o "$ptx" "$src/device-rtl/ring.c"

body() { # the PTX of one function
  awk -v f="$1" '$0 ~ "^\\.visible \\.func.*[ )]" f "\\(" {on = 1} on {print} on && /-- End function/ {exit}' "$ptx"
}
fail=0
for f in oiu_slot_acquire oiu_submit oiu_slot_release; do
  if [ -z "$(body "$f")" ]; then
    echo "check_ptx: no function $f in the PTX of ring.c: FAILED"
    fail=1
  fi
done
for f in oiu_slot_acquire oiu_submit; do
  if ops=$(body "$f" | grep -Eo 'activemask|shfl\.sync|bar\.warp\.sync|vote\.sync|match\.' | sort -u | tr '\n' ' ') && [ -n "$ops" ]; then
    echo "check_ptx: $f makes lane operations ($ops) on NVIDIA, where each lane claims alone: FAILED"
    fail=1
  fi
done
release=$(body oiu_slot_release | grep -Eo 'fence\.[a-z_.]+|atom\.[a-z0-9_.]+|st\.[a-z0-9_.]+' | tr '\n' ' ')
if ! [[ "$release" =~ fence\.(release|acq_rel|sc)\.[a-z]+\ st\. ]] ||
   [[ "$release" =~ atom\.[a-z.]*(add|sub|inc|dec)\.(u|s)32 ]]; then
  echo "check_ptx: oiu_slot_release is '$release': no store right after a release fence, or a lane counter is counted down: FAILED"
  fail=1
fi
submit=$(body oiu_submit | grep -Eo 'fence\.[a-z_.]+|atom\.[a-z0-9_.]+|st\.[a-z0-9_.]+[[:space:]]+\[[^]]*\], [^;]+' |
  tr -s ' \t' ' ' | tr '\n' '|')
if ! [[ "$submit" =~ fence\.release\.sys\|st\.relaxed\.sys\.b32\ \[[^]]+\],\ %r[0-9]+\|st\.relaxed\.sys\.b32\ \[[^]]+\],\ 0\| ]]; then
  echo "check_ptx: oiu_submit has no release fence right before an SQ tail store and the unlock: FAILED"
  fail=1
fi
[ "$fail" = 0 ] && echo "check_ptx: $arch: slots and SQ entries claimed per lane; release fence before the give-back and before the SQ tail: ok"
exit "$fail"
