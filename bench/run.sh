#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The benchmark table, in one run on one machine: printf throughput of every
# path side by side (ours buffered, unbuffered and without io_uring; stock
# device printf with the default and a 1 GiB FIFO; LLVM libc's RPC printf; the
# host CPU's own threads) to /dev/null, a file and a pipe, 48- and 200-byte
# lines, 1 to 67,584 threads; then printf latency, output latency, the
# host thread's idle cost, a user kernel's bandwidth with the library's
# registers capped or not (triad), and file I/O rates (file_bench, 1 GiB;
# OIU_BENCH_FILE_BYTES changes the size).
#
#   bench/run.sh            full table (for a GPU; about 5 minutes)
#   bench/run.sh --quick    small sizes (a smoke run of every row)
#
# Run from an unpacked bundle (scripts/bundle.sh) or with BIN pointing at a
# build's bench/ directory. Every row's output is checked by line_census: a
# line counts once, byte-exact; "lost" is what never arrived. A row that runs
# past OIU_BENCH_LIMIT seconds (default 60) is reported as "timeout" with what
# arrived, and that configuration is skipped at larger thread counts. "cpu"
# is the time our host thread ran + the time the kernel's io_uring threads of
# the process ran (SQ poll thread, io-wq workers), each in % of one core.
# Writes the rows as CSV to OIU_BENCH_CSV (default ./bench.csv): bench/plot.py
# draws the README's chart from it. OIU_BENCH_DIR: where file sinks go.
set -uo pipefail
BIN=${BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/bin}
LIMIT=${OIU_BENCH_LIMIT:-60}
CSV=${OIU_BENCH_CSV:-bench.csv}
tmp=$(mktemp -d "${OIU_BENCH_DIR:-${TMPDIR:-/tmp}}/oiu-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export OMP_TARGET_OFFLOAD=MANDATORY KMP_WARNINGS=0

if [ "${1:-}" = --quick ]; then
  # TEAMS THREADS LINES (fast paths) / LINES (slow paths)
  # (as in the full run, the largest scale is beyond the one the sinks use)
  scales=("1 1 100 20" "2 8 50 10" "4 16 20 5" "8 16 10 2")
  full="4 16"
  lat_calls=200 idle_s=1
  fbytes=16M triad_mib=16
else
  scales=("1 1 1000 200" "1 32 200 50" "4 256 100 20" "132 256 100 10" "264 256 50 5")
  full="132 256"
  lat_calls=2000 idle_s=10
  fbytes=${OIU_BENCH_FILE_BYTES:-1G} triad_mib=1024
fi

# name | program | mode | slow (fewer lines) | environment
configs=(
  "ours buffered|printf_bench|lines|0|LIBOMPTARGET_IO_URING=1"
  "ours buffered uncapped|printf_bench_uncapped|lines|0|LIBOMPTARGET_IO_URING=1"
  "ours unbuffered|printf_bench|lines|1|LIBOMPTARGET_IO_URING=1 LIBOMPTARGET_IO_URING_BUFFER=none"
  "ours no io_uring|printf_bench|lines|0|LIBOMPTARGET_IO_URING=0"
  "stock printf|printf_bench_stock|lines|1|"
  "stock printf 1 GiB FIFO|printf_bench_stock|lines|1|OIU_BENCH_FIFO_MB=1024"
  "LLVM libc RPC printf|printf_bench_libc|lines|1|"
  "host CPU threads|printf_bench|host|0|"
)

echo "kind,config,sink,bytes,teams,threads,lines_per_thread,status,lines_per_s,MB_per_s,lines,distinct,duplicates,malformed,lost,median_us,p99_us,cpu_percent,io_cpu_percent" >"$CSV"
declare -A timed_out # config -> threads at which it timed out

field() { # KEY TEXT
  sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2" | tail -n 1
}

# One throughput row: CONFIG SINK BYTES TEAMS THREADS LINES
row() {
  local cfg=$1 sink=$2 bytes=$3 T=$4 M=$5 K=$6
  local name prog mode slow envs
  IFS='|' read -r name prog mode slow envs <<<"$cfg"
  local threads=$((T * M)) status=ok fig="" census=""
  if [ ! -x "$BIN/$prog" ]; then
    return
  fi
  if [ -n "${timed_out[$name]:-}" ] && ((threads >= ${timed_out[$name]})); then
    status="skipped"
  else
    local cmd=(env $envs timeout "$LIMIT" "$BIN/$prog" "$mode" "$T" "$M" "$K" "$bytes")
    local rc
    case $sink in
    devnull)
      "${cmd[@]}" >/dev/null 2>"$tmp/err"
      rc=$?
      ;;
    file)
      "${cmd[@]}" >"$tmp/out" 2>"$tmp/err"
      rc=$?
      census=$("$BIN/line_census" "$T" "$M" "$K" "$bytes" <"$tmp/out")
      rm -f "$tmp/out"
      ;;
    pipe)
      "${cmd[@]}" 2>"$tmp/err" | "$BIN/line_census" "$T" "$M" "$K" "$bytes" >"$tmp/census"
      rc=${PIPESTATUS[0]}
      census=$(cat "$tmp/census")
      ;;
    esac
    fig=$(grep '^lines=' "$tmp/err" | tail -n 1)
    if ((rc == 124)); then
      status=timeout
      timed_out[$name]=$threads
    elif ((rc == 77)); then
      return # not applicable on this machine (the program said why)
    elif ((rc != 0)) || [ -z "$fig" ]; then
      status="failed(rc=$rc)"
      sed 's/^/    /' "$tmp/err" | tail -n 3 >&2
    fi
  fi
  local lps mbs
  lps=$(field lines_per_s "$fig") mbs=$(field MB_per_s "$fig")
  local cpu io
  cpu=$(field host_thread_cpu_percent "$fig") io=$(field io_threads_cpu_percent "$fig")
  printf '%-24s %-7s %3sB %6d thr x %-5d %-9s %12s lines/s %9s MB/s %6s%% + %6s%% cpu  %s\n' \
    "$name" "$sink" "$bytes" "$threads" "$K" "$status" "${lps:--}" "${mbs:--}" "${cpu:--}" \
    "${io:--}" "${census:-}"
  echo "printf,$name,$sink,$bytes,$T,$threads,$K,$status,$lps,$mbs,$(field lines "$census"),$(field distinct "$census"),$(field duplicates "$census"),$(field malformed "$census"),$(field lost "$census"),,,$cpu,$io" >>"$CSV"
}

lines_for() { # CONFIG SCALE -> lines per thread
  local slow
  IFS='|' read -r _ _ _ slow _ <<<"$1"
  set -- $2
  if ((slow)); then echo "$4"; else echo "$3"; fi
}

echo "== printf scaling: 48-byte lines to a file"
for scale in "${scales[@]}"; do
  set -- $scale
  for cfg in "${configs[@]}"; do
    row "$cfg" file 48 "$1" "$2" "$(lines_for "$cfg" "$scale")"
  done
done

echo "== printf at $full threads (teams x threads): every sink, 48- and 200-byte lines"
for scale in "${scales[@]}"; do
  set -- $scale
  [ "$1 $2" = "$full" ] && break
done
for bytes in 48 200; do
  for sink in devnull file pipe; do
    [ "$bytes/$sink" = 48/file ] && continue # in the scaling rows
    for cfg in "${configs[@]}"; do
      row "$cfg" "$sink" "$bytes" "$1" "$2" "$(lines_for "$cfg" "$scale")"
    done
  done
done

# Latency rows: NAME KIND PROGRAM-ARGS [ENV...]
timing() {
  local name=$1 kind=$2 sub=$3 n=$4
  shift 4
  local out
  out=$(env "$@" "$BIN/printf_bench" "$sub" "$n" 2>&1 >"$tmp/out" | tail -n 1)
  rm -f "$tmp/out"
  printf '%-40s %s\n' "$name" "$out"
  echo "$kind,$name,file,,,1,$n,ok,,,,,,,,$(field median_us "$out"),$(field p99_us "$out"),$(field host_thread_cpu_percent "$out"),$(field io_threads_cpu_percent "$out")" >>"$CSV"
}

echo "== latency of one unbuffered printf, returned (one thread)"
for mode in sqpoll enter; do
  timing "printf round trip ($mode)" latency latency "$lat_calls" LIBOMPTARGET_IO_URING=1 \
    LIBOMPTARGET_IO_URING_BUFFER=none LIBOMPTARGET_IO_URING_MODE=$mode
done
timing "printf round trip (no io_uring)" latency latency "$lat_calls" LIBOMPTARGET_IO_URING=0 \
  LIBOMPTARGET_IO_URING_BUFFER=none
timing "formatter alone (snprintf of the line)" latency fmtlat "$lat_calls"

echo "== output latency: from the printf call until the line is readable from the file (a second team times it)"
timing "in file (unbuffered)" outlat outlat "$lat_calls" LIBOMPTARGET_IO_URING=1 LIBOMPTARGET_IO_URING_BUFFER=none
timing "in file (unbuffered; SQ thread unpinned)" outlat outlat "$lat_calls" LIBOMPTARGET_IO_URING=1 \
  LIBOMPTARGET_IO_URING_BUFFER=none LIBOMPTARGET_IO_URING_SQ_CPU=any
timing "in file (unbuffered; no io_uring)" outlat outlat "$lat_calls" LIBOMPTARGET_IO_URING=0 \
  LIBOMPTARGET_IO_URING_BUFFER=none
timing "in file (line buffered)" outlat outlat "$lat_calls" LIBOMPTARGET_IO_URING=1 LIBOMPTARGET_IO_URING_BUFFER=line
timing "in file (fully buffered; default)" outlat outlat "$((lat_calls / 10))" LIBOMPTARGET_IO_URING=1

echo "== CPU of our host thread and the kernel's io_uring threads during an idle ${idle_s} s target region"
for mode in sqpoll enter; do
  timing "idle ($mode)" idle idle "$idle_s" LIBOMPTARGET_IO_URING=1 LIBOMPTARGET_IO_URING_MODE=$mode
done
echo "== a user kernel with a printf it never reaches: the registers it inherits set its occupancy"
for prog in printf_bench printf_bench_uncapped printf_bench_stock; do
  [ -x "$BIN/$prog" ] || continue
  out=$(env LIBOMPTARGET_IO_URING=1 timeout "$LIMIT" "$BIN/$prog" triad "$triad_mib" 5 2>&1 >/dev/null | tail -n 1)
  printf '%-40s %s\n' "triad, $prog" "$out"
  st=ok
  [ "$(field checksum_ok "$out")" = 1 ] || st="failed"
  echo "triad,$prog,,,,,,$st,,$(field GB_per_s "$out"),,,,,,,,," >>"$CSV"
done
# File I/O rates (printed, not in the CSV): device fwrite/fread/pwrite/pread of
# one buffer against host write/read and omp_target_memcpy, every transfer checked.
if [ -x "$BIN/file_bench" ]; then
  # The copy engine (NVIDIA's default) only changes GPU runs (the host
  # target's buffers need no staging); device threads copying (COPY_ENGINE=0,
  # AMD, or while a free is under way) are ~100x slower: a smaller size.
  for run in "$fbytes|LIBOMPTARGET_IO_URING=1" "64M|LIBOMPTARGET_IO_URING=1 LIBOMPTARGET_IO_URING_COPY_ENGINE=0" \
    "64M|LIBOMPTARGET_IO_URING=0"; do
    size=${run%%|*} env=${run#*|}
    echo "== file I/O, $size, $env"
    env $env timeout $((LIMIT * 4)) "$BIN/file_bench" "$size" "$tmp/file_bench.dat" 2>&1 | sed 's/^/  /'
    ((PIPESTATUS[0] == 124)) && echo "  timeout after $((LIMIT * 4)) s"
  done
fi
echo "csv: $CSV"
