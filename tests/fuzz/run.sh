#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the formatter fuzzer (format_fuzz: device-rtl/format.c against glibc
# snprintf, with ASan and UBSan) for SECONDS, starting from the corpus in the
# repository (copied: the run's new inputs stay in a scratch directory).
# Prints the executions and executions/s; exit 1 on a difference or crash
# (the input is saved as crash-* in the current directory).
#   run.sh FORMAT_FUZZ SECONDS [CORPUS_DIR]
set -euo pipefail
fuzz=$1 secs=$2
corpus=${3:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/corpus}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$corpus" "$tmp/corpus"
rc=0
"$fuzz" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
  "$tmp/corpus" >"$tmp/log" 2>&1 || rc=$?
if [ $rc != 0 ]; then
  grep -a -E 'format_fuzz: |ERROR|SUMMARY|Test unit written' "$tmp/log" | head -20
  # The input itself, so a failure seen only on another machine can be replayed
  # (printf '<escapes>' > crash; FORMAT_FUZZ crash).
  for f in crash-* timeout-* oom-*; do
    [ -f "$f" ] && echo "$f: $(od -An -v -tx1 "$f" | tr -s ' \n' ' ' | sed 's/ \([0-9a-f][0-9a-f]\)/\\x\1/g')"
  done
  exit 1
fi
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$tmp/log")
cov=$(grep -a -o 'cov: [0-9]*' "$tmp/log" | tail -n 1)
echo "format_fuzz: $execs executions in ${secs}s ($rate exec/s), $cov edges, $(ls "$corpus" | wc -l) corpus inputs, no difference from glibc"
