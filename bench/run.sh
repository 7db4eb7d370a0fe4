#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The printf benchmark table, in one run on one machine. Run from an unpacked
# bundle (scripts/bundle.sh) or with BIN pointing at a build's bench/ dir.
#   bench/run.sh [TEAMS THREADS LINES]     (default 132 256 10)
# Prints one row per configuration: lines/s, MB/s, lines lost; then the
# single-thread round-trip latency and the idle cost of the host thread.
set -uo pipefail
BIN=${BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/bin}
T=${1:-132} M=${2:-256} K=${3:-10}
LIMIT=${OIU_BENCH_LIMIT:-60} # seconds per configuration
expect=$((T * M * K))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_TARGET_OFFLOAD=MANDATORY KMP_WARNINGS=0

row() { # NAME SINK PROGRAM [ENV...]
  local name=$1 sink=$2 prog=$3
  shift 3
  rm -f "$tmp/out"
  local fig
  case $sink in
  devnull) fig=$(env "$@" timeout "$LIMIT" "$BIN/$prog" lines "$T" "$M" "$K" 2>&1 >/dev/null | grep '^lines=' | tail -1) ;;
  file) fig=$(env "$@" timeout "$LIMIT" "$BIN/$prog" lines "$T" "$M" "$K" 2>&1 >"$tmp/out" | grep '^lines=' | tail -1) ;;
  esac
  local lost=n/a
  if [ "$sink" = file ]; then
    local got distinct
    got=$(wc -l <"$tmp/out")
    distinct=$(sort -u "$tmp/out" | wc -l)
    lost=$((expect - distinct))
    [ "$got" = "$distinct" ] || lost="$lost (+$((got - distinct)) duplicates)"
  fi
  printf '%-34s %-9s %s lost=%s\n' "$name" "$sink" "${fig:-FAILED}" "$lost"
}

echo "printf: $T teams x $M threads x $K lines = $expect lines of \"thread %d line %d value %f\\n\""
for sink in devnull file; do
  row "omp-iouring buffered" $sink printf_bench LIBOMPTARGET_IO_URING=1
  row "omp-iouring buffered, no io_uring" $sink printf_bench LIBOMPTARGET_IO_URING=0
  row "omp-iouring unbuffered sqpoll" $sink printf_bench LIBOMPTARGET_IO_URING=1 \
    LIBOMPTARGET_IO_URING_BUFFER=none LIBOMPTARGET_IO_URING_MODE=sqpoll
  row "omp-iouring unbuffered enter" $sink printf_bench LIBOMPTARGET_IO_URING=1 \
    LIBOMPTARGET_IO_URING_BUFFER=none LIBOMPTARGET_IO_URING_MODE=enter
  row "stock device printf, default FIFO" $sink printf_bench_stock
  row "stock device printf, 1 GiB FIFO" $sink printf_bench_stock OIU_BENCH_FIFO_MB=1024
done
for mode in sqpoll enter; do
  printf '%-34s ' "latency ($mode)"
  LIBOMPTARGET_IO_URING=1 LIBOMPTARGET_IO_URING_BUFFER=none LIBOMPTARGET_IO_URING_MODE=$mode \
    "$BIN/printf_bench" latency 2000 2>&1 >/dev/null | tail -1
done
printf '%-34s ' "latency (emulated)"
LIBOMPTARGET_IO_URING=0 LIBOMPTARGET_IO_URING_BUFFER=none "$BIN/printf_bench" latency 2000 2>&1 >/dev/null | tail -1
for mode in sqpoll enter; do
  printf '%-34s ' "idle 10 s ($mode)"
  LIBOMPTARGET_IO_URING=1 LIBOMPTARGET_IO_URING_MODE=$mode "$BIN/printf_bench" idle 10 2>&1 >/dev/null | tail -1
done
