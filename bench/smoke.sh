#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CI smoke run of the benchmark (host offload target, small sizes): every row
# of our paths and the host's must complete with every line delivered once,
# byte-exact, and every latency row must report; every CSV row must have its
# 19 fields; bench/plot.py must draw the
# chart of the run with every sink; every row of ours and every idle row
# must report the CPU of our host thread and of the kernel's io_uring
# threads; printf_bench's fputs mode
# must deliver every line once and its format mode must count glibc's bytes.
# Figures are not judged here.
#   BIN=<build>/bench bench/smoke.sh
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
csv=$(mktemp) out=$(mktemp) png=$(mktemp --suffix=.png)
trap 'rm -f "$csv" "$out" "$png"' EXIT
OIU_BENCH_CSV=$csv OIU_BENCH_LIMIT=60 "$here/run.sh" --quick || exit 1
awk -F, '
  NF != 19 { print "FAIL: row " NR " has " NF " fields, want 19 (a comma in a name?): " $0; bad++ }
  NR == 1 { next }
  $1 == "printf" && ($2 ~ /^ours / || $2 == "host CPU threads") {
    rows++
    if ($8 != "ok") { print "FAIL: " $2 " " $3 " " $4 "B " $6 " threads: " $8; bad++ }
    if ($2 ~ /^ours / && ($18 == "" || $19 == "")) {
      print "FAIL: " $2 " " $3 " " $4 "B " $6 " threads: no CPU figure (host " $18 ", io_uring threads " $19 ")"; bad++
    }
    if ($3 != "devnull" && ($15 != "0" || $11 != $12 || $13 != "0" || $14 != "0")) {
      print "FAIL: " $2 " " $3 " " $4 "B " $6 " threads: lines=" $11 " distinct=" $12 " lost=" $15; bad++
    }
  }
  $1 == "triad" {
    triads++
    if ($8 != "ok" || $10 == "") { print "FAIL: triad " $2 ": " $8 " " $10 " GB/s"; bad++ }
  }
  $1 != "printf" && $1 != "triad" {
    timing++
    if ($16 == "" && $18 == "") { print "FAIL: no figure for " $2; bad++ }
    if ($1 == "idle" && ($18 == "" || $19 == "")) { print "FAIL: " $2 ": no CPU figure for both thread kinds"; bad++ }
  }
  END {
    # 4 configurations x (4 scales to a file + 5 sink/size pairs), 11 timing rows
    if (rows != 36 || timing != 11 || triads < 1) {
      print "FAIL: " rows " throughput rows (want 36), " timing " timing rows (want 11), " triads " triad rows"; bad++
    }
    if (bad) exit 1
    print "bench smoke: " rows " throughput rows, " timing " timing rows and " triads " triad rows complete, nothing lost"
  }' "$csv" || exit 1
# The chart of that run: every sink and size at the sink rows' thread count (4 x 16).
drawn=$("$here/plot.py" "$csv" "$png") || { echo "FAIL: plot.py"; exit 1; }
echo "$drawn"
[[ $drawn == *"sinks at 64 threads, 6 of 6 sink/size groups drawn"* ]] || { echo "FAIL: chart"; exit 1; }
[ "$(head -c 4 "$png" | od -An -c | tr -d ' ')" = '211PNG' ] || { echo "FAIL: $png is no PNG"; exit 1; }

export OMP_TARGET_OFFLOAD=MANDATORY LIBOMPTARGET_IO_URING=1 KMP_WARNINGS=0
"$BIN/printf_bench" fputs 2 4 100 >"$out" 2>/dev/null || { echo "FAIL: printf_bench fputs"; exit 1; }
census=$("$BIN/line_census" 2 4 100 <"$out")
[ "$census" = "lines=800 distinct=800 duplicates=0 malformed=0 lost=0" ] || { echo "FAIL: fputs: $census"; exit 1; }
figures=$("$BIN/printf_bench" format 2 4 100 2>&1 >/dev/null)
want=$(sed -n 's/.* bytes=\([0-9]*\) .*/\1/p' <<<"$figures")
got=$(sed -n 's/^formatted_bytes=\([0-9]*\)$/\1/p' <<<"$figures")
[ -n "$want" ] && [ "$want" = "$got" ] || { echo "FAIL: format: $figures"; exit 1; }
echo "bench smoke: fputs 800 lines once each; format $got bytes, as glibc"
