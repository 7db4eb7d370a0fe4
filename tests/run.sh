#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs one test program against real sinks (files, pipes) and checks its output.
#   run.sh stream PRINTF_DIFF N             device printf of N cases == glibc's output
#   run.sh calls STDIO_CALLS                device stdio calls == glibc's, stdout and stderr
#   run.sh same PROGRAM                     PROGRAM and PROGRAM --host print the same bytes
#   run.sh lines LINES CHECK SINK T M K     every line once, untorn, in order (SINK: file pipe stderr_file stderr_pipe)
#   run.sh pressure PRESSURE CHECK T M K    T x M threads at once: every line once, every SQE completed
#   run.sh big BIG CHECK N T M K PIECE      one N-byte printf among T x M x K lines, split only at PIECE multiples
#   run.sh shutdown SHUTDOWN CHECK HOW T K  exit/abort/trap in a target region: no hang, nothing lost, all released
#   run.sh devices DEVICES CHECK R M        R rounds of regions on every device: one channel each, every line
#   run.sh hello HELLO                      the example's 256 lines, each once
#   run.sh fallback NO_URING ERR LINES CHECK  io_uring_setup fails with ERR (ENOMEM: NO_URING is no_memlock): one clear line, all output
#   run.sh errors WRITE_ERRORS              /dev/full, closed stderr, reader-less pipe: every call fails, the program goes on
#   run.sh setvbuf SETVBUF_MODES            device setvbuf switches stdout between unbuffered and buffered, as glibc
#   run.sh stdin FILE_HANDOFF SINK          device code reads stdin (SINK: file or pipe), byte for byte
#   run.sh prompt FILE_HANDOFF              a device prompt appears while another device thread waits on stdin
#   run.sh transform EXAMPLE CHECK          the file example on 3 MiB of random values, checked; then a missing input
#   run.sh nonblock LINES CHECK T M K       stdout a non-blocking pipe to a slow reader (EAGAIN, short writes): every line once
#   run.sh trace LINES CHECK T M K          LIBOMPTARGET_IO_URING_TRACE=1, unbuffered: one trace line per printf, its whole length written
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mode=$1
shift
case $mode in
stream)
  "$1" --print "$2" >"$tmp/dev"
  "$1" --expect "$2" >"$tmp/host"
  cmp "$tmp/dev" "$tmp/host"
  echo "stream: $2 cases, $(wc -c <"$tmp/dev") bytes identical"
  ;;
calls)
  "$1" >"$tmp/dev.out" 2>"$tmp/dev.err"
  "$1" --host >"$tmp/host.out" 2>"$tmp/host.err"
  cmp "$tmp/dev.out" "$tmp/host.out"
  cmp "$tmp/dev.err" "$tmp/host.err"
  echo "calls: stdout $(wc -c <"$tmp/dev.out") bytes, stderr $(wc -c <"$tmp/dev.err") bytes identical"
  ;;
same)
  # The device run and the --host (glibc) run print the same bytes.
  "$1" >"$tmp/dev.out" 2>"$tmp/dev.err" || { echo "exit $?"; cat "$tmp/dev.err"; exit 1; }
  "$1" --host >"$tmp/host.out"
  cmp "$tmp/dev.out" "$tmp/host.out" || { diff -a "$tmp/dev.out" "$tmp/host.out"; exit 1; }
  echo "same: $(wc -l <"$tmp/dev.out") lines identical"
  ;;
lines)
  app=$1 check=$2 sink=$3
  shift 3
  case $sink in
  file) "$app" "$@" >"$tmp/out" && "$check" "$@" <"$tmp/out" ;;
  pipe) "$app" "$@" | "$check" "$@" ;;
  stderr_file) "$app" "$@" stderr 2>"$tmp/out" && "$check" "$@" <"$tmp/out" ;;
  stderr_pipe) { "$app" "$@" stderr 2>&1 1>&3 3>&- | "$check" "$@"; } 3>&1 ;;
  *) echo "unknown sink $sink" >&2; exit 2 ;;
  esac
  ;;
pressure)
  # Thousands of threads at once on the smallest rings: every line exactly
  # once (check_lines), every call's count right, and at release every SQE
  # had its CQE, none dropped, every buffered byte written.
  app=$1 check=$2
  shift 2
  LIBOMPTARGET_INFO=1 "$app" "$@" >"$tmp/out" 2>"$tmp/err" 3>"$tmp/note" || { cat "$tmp/note" "$tmp/err"; exit 1; }
  cat "$tmp/note"
  "$check" "$@" <"$tmp/out"
  released=$(grep 'omp-iouring: device 0 .*: released:' "$tmp/err") || { cat "$tmp/err"; exit 1; }
  echo "${released#*: released: }"
  echo "$released" | grep -Eq 'released: ([0-9]+) SQEs submitted, \1 consumed, \1 CQEs posted, \1 reaped, 0 dropped; buffered bytes written/committed: stdout ([0-9]+)/\2, stderr ([0-9]+)/\3$'
  ;;
big)
  # One big printf among other lines: complete, in order, split only at PIECE multiples.
  app=$1 check=$2 n=$3 t=$4 m=$5 k=$6 piece=$7
  "$app" "$n" "$t" "$m" "$k" >"$tmp/out" 3>"$tmp/note"
  cat "$tmp/note"
  want="big: printf returned $((n + 1 + ${#n} + 1)); $((t * m)) of $((t * m)) threads ran, 0 wrong counts"
  [ "$(cat "$tmp/note")" = "$want" ] || { echo "expected: $want"; exit 1; }
  "$check" "$n" "$t" "$m" "$k" "$piece" <"$tmp/out"
  ;;
shutdown)
  # exit: rc 0, every line, then the runtime's release line and the release
  # check (after it) finding nothing left. abort/trap: killed by the signal
  # within the test timeout, every unbuffered line there.
  app=$1 check=$2 how=$3 t=$4 k=$5
  rc=0
  LIBOMPTARGET_INFO=1 timeout -s KILL 60 "$app" "$how" "$t" "$k" >"$tmp/out" 2>"$tmp/err" || rc=$?
  # On a GPU a trapped kernel makes libomptarget abort (134); abort() is a trap there too.
  case $how in exit) want=0 ;; abort) want=134 ;; trap) want="132 or 134" ;; esac
  echo "shutdown $how: exit status $rc (want $want)"
  case " $want " in *" $rc "*) ;; *) tail -5 "$tmp/err"; exit 1 ;; esac
  if [ "$how" = exit ]; then
    "$check" 1 "$t" "$k" <"$tmp/out"
    released=$(grep -n 'omp-iouring: device 0 .*: released:' "$tmp/err") || { cat "$tmp/err"; exit 1; }
    after=$(grep -n '^after release:' "$tmp/err") || { cat "$tmp/err"; exit 1; }
    echo "${released#*: released: }"
    echo "${after#*:}"
    [ "${released%%:*}" -lt "${after%%:*}" ] || { echo "release check ran before the release"; exit 1; }
    # The runtime's own eventfd is closed; a GPU driver's stay open.
    kick=$(sed -n 's/.*host thread started, wake-up eventfd \([0-9]*\)$/\1/p' "$tmp/err")
    [ -n "$kick" ] || { echo "no 'host thread started' line"; cat "$tmp/err"; exit 1; }
    echo "$after" | grep -Eq 'after release: 0 io_uring descriptors, [0-9]+ eventfds \[[0-9 ]*\], 0 omp-iouring threads$'
    case " $(echo "$after" | sed 's/.*\[\(.*\)\].*/\1/') " in
    *" $kick "*) echo "the runtime's eventfd $kick is still open"; exit 1 ;;
    esac
    echo "$released" | grep -Eq 'dropped; buffered bytes written/committed: stdout ([0-9]+)/\1, stderr ([0-9]+)/\2$'
  else
    # libomptarget's own report of the trapped kernel is not device output.
    grep -v -e '^omp' -e '^after release' -e '"PluginInterface" error' -e 'omptarget fatal error' \
      "$tmp/err" | "$check" 1 "$t" "$k"
  fi
  ;;
devices)
  # Every device: its own channel (one "channel ready" and one clean
  # "released" line each), and every line of every region.
  app=$1 check=$2 rounds=$3 iters=$4
  LIBOMPTARGET_INFO=1 "$app" "$rounds" "$iters" >"$tmp/out" 2>"$tmp/err" 3>"$tmp/note" || { cat "$tmp/note" "$tmp/err"; exit 1; }
  ndev=$(sed -n 's/^devices: //p' "$tmp/note")
  echo "devices: $ndev"
  "$check" "$ndev" "$iters" "$rounds" <"$tmp/out"
  ready=$(grep -c 'omp-iouring: device [0-9]* .*: channel ready' "$tmp/err" || true)
  clean=$(grep -Ec 'omp-iouring: device [0-9]+ .*: released: ([0-9]+) SQEs submitted, \1 consumed, \1 CQEs posted, \1 reaped, 0 dropped; buffered bytes written/committed: stdout ([0-9]+)/\2, stderr ([0-9]+)/\3$' "$tmp/err" || true)
  echo "channels: $ready ready, $clean released clean"
  [ "$ready" = "$ndev" ] && [ "$clean" = "$ndev" ]
  ;;
nonblock)
  # O_NONBLOCK on the pipe (the write end's open file, which the program
  # inherits) and a reader that drains it slowly: writes fail with EAGAIN or
  # write part of their text, and every line must still arrive exactly once.
  app=$1 check=$2
  shift 2
  {
    python3 -c 'import fcntl, os; fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) | os.O_NONBLOCK)'
    exec "$app" "$@"
  } | python3 -c '
import sys, time
n = 0
while True:
    b = sys.stdin.buffer.raw.read(3000)
    if not b:
        break
    sys.stdout.buffer.write(b)
    n += 1
    if n % 4 == 0:
        time.sleep(0.001)
' >"$tmp/out"
  "$check" "$@" <"$tmp/out"
  ;;
trace)
  # One request per unbuffered printf (each line fits a slot): every line
  # arrives, and the trace names each one, a write of fd 1 from a slot whose
  # result is its whole length, each slot in range.
  app=$1 check=$2
  shift 2
  LIBOMPTARGET_IO_URING_TRACE=1 LIBOMPTARGET_IO_URING_BUFFER=none "$app" "$@" >"$tmp/out" 2>"$tmp/err"
  "$check" "$@" <"$tmp/out"
  want=$(($1 * $2 * $3))
  awk -v want="$want" '
    /^omp-iouring: device [0-9]+: sqe [0-9]+: / {
      n++
      if (!match($0, /: write fd 1 addr 0x[0-9a-f]+ \(slot [0-9]+ \+0\) len [0-9]+ /)) { print "not a slot write: " $0; bad = 1; next }
      split(substr($0, RSTART, RLENGTH), f, " ")
      if ($NF != f[11]) { print "result " $NF " for length " f[11] ": " $0; bad = 1 }
      bytes += $NF
    }
    END { printf "trace: %d requests, %d bytes\n", n, bytes; exit bad || n != want }' "$tmp/err"
  [ "$(wc -c <"$tmp/out")" -gt 0 ] && awk -v b="$(wc -c <"$tmp/out")" '/-> [0-9]+$/ { s += $NF } END { exit s != b }' "$tmp/err"
  ;;
copy_engine)
  # NVIDIA: the copy engine is on by default (its stream and first copies are
  # made when the device starts) and off with LIBOMPTARGET_IO_URING_COPY_ENGINE=0.
  # STALL_S would make the stream too.
  unset LIBOMPTARGET_IO_URING_STALL_S
  LIBOMPTARGET_INFO=1 "$1" 1M >"$tmp/out" 2>"$tmp/err"
  grep 'copy engine ready' "$tmp/err"
  LIBOMPTARGET_INFO=1 LIBOMPTARGET_IO_URING_COPY_ENGINE=0 "$1" 1M >"$tmp/out" 2>"$tmp/err"
  if grep 'copy engine' "$tmp/err"; then
    echo "copy_engine: still on with LIBOMPTARGET_IO_URING_COPY_ENGINE=0"
    exit 1
  fi
  ;;
copy_blocked)
  # A CUDA free outside OpenMP by another host thread while device code
  # copies through the copy engine: kernel, free and copy wait for each other
  # for good. The host says so after 2 s; the process is then killed.
  rc=0
  timeout 20 "$1" "$tmp/scratch" >"$tmp/out" 2>"$tmp/err" || rc=$?
  cat "$tmp/out"
  [ $rc != 77 ] || exit 77
  sed -n 's/^omp-iouring: //p' "$tmp/err"
  [ $rc = 124 ] || { echo "copy_blocked: exit $rc, want the timeout's 124"; exit 1; }
  [ "$(grep -c 'a CUDA copy for device code has waited 2 s in the driver: a CUDA call of another host thread outside OpenMP' "$tmp/err")" -ge 1 ]
  ;;
stall)
  # LIBOMPTARGET_IO_URING_STALL_S=1 and a device read that waits 2.5 s: the
  # ring state once, with the one request in flight (a slot on the host
  # target, a bulk chunk where the buffer needs staging), nothing half-made.
  LIBOMPTARGET_IO_URING_STALL_S=1 "$1" 2500 >"$tmp/out" 2>"$tmp/err"
  cat "$tmp/out"
  grep -q '^stall: read returned 25: late bytes from the host$' "$tmp/out"
  sed -n 's/^omp-iouring: //p' "$tmp/err"
  [ "$(grep -c 'made no request for' "$tmp/err")" = 1 ]
  # The locks may be caught held: the waiting thread reaps in its loop.
  grep -Eq '^omp-iouring:   SQ: reserved ([0-9]+), published \1 \(then 0 filled, 0 reserved and not filled\), consumed \1, flags (0|0x[0-9a-f]+); publish lock (free|HELD)$' "$tmp/err"
  grep -Eq '^omp-iouring:   CQ: posted ([0-9]+), reaped \1; reap lock (free|HELD)' "$tmp/err"
  [ "$(grep -Ec '^omp-iouring:   (slot groups|slots|bulk chunks) busy: [0-9]+ \(1 in all\)$' "$tmp/err")" = 1 ]
  # A busy slot shows its completions; a busy group (AMD) the lanes still in it: the reader alone.
  if grep -q '^omp-iouring:   slots busy: [0-9]' "$tmp/err"; then
    grep -Eq '^omp-iouring:     slot [0-9]+: completed [0-9]+$' "$tmp/err"
  elif grep -q '^omp-iouring:   slot groups busy: [0-9]' "$tmp/err"; then
    grep -Eq '^omp-iouring:     group [0-9]+ \(1 lane in it\): slots [0-9]+-[0-9]+ completed' "$tmp/err"
  fi
  # The free-slot queue: no one waiting; tickets taken less groups given back = slots busy.
  queue=$(sed -n 's/^omp-iouring:   free-slot queue: \([0-9]*\) tickets taken, \([0-9]*\) groups given back: [0-9]* free$/\1 \2/p' "$tmp/err")
  busy=$(sed -n 's/^omp-iouring:   \(slot groups\|slots\) busy:.*(\([0-9]*\) in all)$/\2/p' "$tmp/err")
  [ -n "$queue" ] && [ -n "$busy" ] && [ $((${queue% *} - ${queue#* })) = "$busy" ]
  grep -q '^omp-iouring:   host calls owned: (0 in all)$' "$tmp/err"
  # The waiting thread's record: its read in flight, not yet completed.
  grep -q '^omp-iouring:   device threads waiting: 0 for one request, 1 in transfers, 0 at lane barriers, 0 for host calls, 0 for SQ room, 0 for slots, 0 on streams' "$tmp/err"
  grep -Eq "^omp-iouring:     thread [0-9]+: in a transfer, waits for cell [0-9]+'s completion 1 \(it has 0; round [0-9]+\)$" "$tmp/err"
  ;;
watch)
  # 300 unbuffered printf round trips: one "ring watch" line at release that
  # counts 300 requests and gives both stages as median / p99 (or "none"
  # where the watch thread got no CPU while they ran: 2-core CI machines).
  LIBOMPTARGET_IO_URING_WATCH=1 LIBOMPTARGET_IO_URING_BUFFER=none "$1" latency 300 >"$tmp/out" 2>"$tmp/err" ||
    { cat "$tmp/err"; exit 1; }
  grep 'ring watch' "$tmp/err"
  [ "$(grep -c '^latency [0-9]*$' "$tmp/out")" = 300 ]
  [ "$(grep -c 'ring watch' "$tmp/err")" = 1 ]
  us='[0-9]+\.[0-9]{2} / [0-9]+\.[0-9]{2} us'
  grep -Eq "^omp-iouring: device 0 \(.*\): ring watch: 300 requests, [0-9]+ timed, [0-9]+ index moves by more than one; median / p99: SQ tail -> CQ tail ($us|none), CQ tail -> next SQ tail ($us|none)\$" "$tmp/err"
  ;;
rings)
  # Ring sizes from the "channel ready" line. By default the SQ has an entry
  # for every completion cell (slots + bulk chunks + 32 FILE buffers), so no
  # producer ever waits for room; LIBOMPTARGET_IO_URING_ENTRIES overrides it.
  ready() { env LIBOMPTARGET_INFO=1 "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
    sed -n 's/.*: channel ready: mode [^,]*, \([0-9]*\) SQ \/ \([0-9]*\) CQ entries, \([0-9]*\) slots x [0-9]* B, .* \([0-9]*\) bulk chunks x .*/\1 \2 \3 \4/p' "$tmp/err"; }
  sizes() { # SQ CQ SLOTS CHUNKS: SQ the smallest power of two >= every cell (at most 32768), CQ >= both
    local cells=$(($3 + $4 + 32)) want=64
    while [ $want -lt $cells ] && [ $want -lt 32768 ]; do want=$((want * 2)); done
    echo "SQ $1 (want $want), CQ $2, $3 slots, $4 chunks"
    [ "$1" = "$want" ] && [ "$2" -ge $((2 * $1)) ] && [ "$2" -ge "$cells" ]; }
  set -- "$1" $(ready "$1"); [ $# = 5 ] && sizes "$2" "$3" "$4" "$5"
  # The default bulk staging: 8 chunks of 4 MiB (README, Environment).
  grep -q ': channel ready: .*, 8 bulk chunks x 4096 KiB, ' "$tmp/err"
  set -- "$1" $(ready LIBOMPTARGET_IO_URING_SLOTS=40000 "$1"); [ $# = 5 ] && sizes "$2" "$3" "$4" "$5"
  set -- "$1" $(ready LIBOMPTARGET_IO_URING_ENTRIES=100 "$1")
  echo "ENTRIES=100: SQ $2"; [ "$2" = 64 ]
  ;;
hello)
  "$1" >"$tmp/out"
  lines=$(grep -c '^hello from iteration' "$tmp/out")
  distinct=$(grep '^hello from iteration' "$tmp/out" | awk '{print $4}' | sort -un | wc -l)
  last=$(tail -n 1 "$tmp/out")
  echo "hello: $lines lines, $distinct distinct iterations; last: $last"
  [ "$lines" = 256 ] && [ "$distinct" = 256 ] && [ "$last" = "host: 256 device lines printed" ]
  # each line is exact: recompute the value with awk
  awk '/^hello from iteration/ { i=$4+0; want=sprintf("%.6f", 1/(i+1)); if ($NF != want) { print "bad line: " $0; bad=1 } } END { exit bad }' "$tmp/out"
  ;;
errors)
  # Unbuffered stdout: each call fails. Buffered (the default for a file or
  # pipe): printf/puts/fwrite accept the text, fflush reports the failure,
  # like glibc. Sinks: /dev/full + closed stderr, and a pipe without reader
  # (the program sets it up; SIGPIPE must not kill it).
  for sink in full pipe; do
    for buffer in none auto; do
      if [ $sink = full ]; then
        LIBOMPTARGET_IO_URING_BUFFER=$buffer "$1" >/dev/full 2>&- 3>"$tmp/out" || { echo "exit $?"; exit 1; }
      else
        LIBOMPTARGET_IO_URING_BUFFER=$buffer "$1" pipe 3>"$tmp/out" || { echo "exit $?"; exit 1; }
      fi
      got=$(tr '\n' ' ' <"$tmp/out")
      echo "errors, $sink, buffer=$buffer: returns $got"
      case $buffer in
      none) want="-1 -1 0 -1 -1 -1 0 0 alive -1 " ;;
      auto) want="20 18 4 -1 -1 -1 -1 0 alive 6 " ;;
      esac
      [ "$got" = "$want" ] || { echo "expected: $want"; exit 1; }
    done
  done
  ;;
setvbuf)
  "$1" >/dev/full 3>"$tmp/out"
  sed 's/^/setvbuf: /' "$tmp/out"
  [ "$(cat "$tmp/out")" = "$(printf 'device 0 -1 0 4 -1 -1 0\nhost 0 -1 0 4 -1 -1 0')" ]
  ;;
transform)
  head -c 3145732 /dev/urandom >"$tmp/in.bin"
  "$1" "$tmp/in.bin" "$tmp/out.bin"
  "$2" "$tmp/in.bin" "$tmp/out.bin"
  # A missing input: the device's errno comes back as the message.
  if "$1" "$tmp/missing.bin" "$tmp/out2.bin" 2>"$tmp/err"; then exit 1; fi
  grep -q "missing.bin: No such file or directory" "$tmp/err" || { cat "$tmp/err"; exit 1; }
  echo "transform: a missing input is reported: $(cat "$tmp/err")"
  ;;
stdin)
  # 70,000 bytes of lines: more than the FILE buffer and one read of a pipe.
  awk 'BEGIN { for (i = 0; i < 2000; i++) printf "stdin line %05d: %s\n", i, substr("abcdefghijklmnopqrstuvwxyz0123456789", 1, i % 37) }' >"$tmp/in"
  case $2 in
  file) "$1" stdin "$tmp/in" <"$tmp/in" ;;
  pipe) cat "$tmp/in" | "$1" stdin "$tmp/in" ;;
  *) echo "unknown sink $2" >&2; exit 2 ;;
  esac
  ;;
prompt)
  # The answer is typed only once "ready" is out: if a pending read of the
  # empty pipe held the host's output back, the program would never get it.
  mkfifo "$tmp/in"
  "$1" prompt <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  exec 3>"$tmp/in"
  waited=0
  until grep -qx ready "$tmp/out"; do
    [ $waited -lt 300 ] || { echo "prompt: no \"ready\" within 30 s while device code waits on stdin"; kill -9 $pid; exit 1; }
    sleep 0.1
    waited=$((waited + 1))
  done
  echo go >&3
  exec 3>&-
  rc=0
  wait $pid || rc=$?
  cat "$tmp/err"
  [ $rc = 0 ] || { cat "$tmp/out"; echo "exit $rc"; exit 1; }
  [ "$(cat "$tmp/out")" = "$(printf 'ready\ngot: go')" ] || { cat "$tmp/out"; exit 1; }
  echo "prompt: \"ready\" appeared after $((waited * 100)) ms of waiting; the read got \"go\""
  ;;
fallback)
  no_uring=$1 err=$2 app=$3 check=$4
  if [ "$err" = ENOMEM ]; then # no_memlock: RLIMIT_MEMLOCK 0, exit 77 where the kernel does not care
    rc=0
    "$no_uring" "$app" 4 8 100 >"$tmp/out" 2>"$tmp/err" || rc=$?
    if [ $rc = 77 ]; then cat "$tmp/out"; exit 77; fi
    [ $rc = 0 ] || { cat "$tmp/err"; exit 1; }
  else
    "$no_uring" "$err" "$app" 4 8 100 >"$tmp/out" 2>"$tmp/err"
  fi
  "$check" 4 8 100 <"$tmp/out"
  case $err in
  EPERM) why="Operation not permitted: blocked by seccomp (containers) or kernel.io_uring_disabled" ;;
  ENOSYS) why="Function not implemented: kernel without io_uring" ;;
  ENOMEM) why="Cannot allocate memory: RLIMIT_MEMLOCK too low for the rings? raise ulimit -l" ;;
  esac
  want="io_uring unavailable ($why); device I/O goes through the emulated ring"
  n=$(grep -cF "$want" "$tmp/err" || true)
  echo "fallback: $n line(s) saying: $want"
  [ "$n" = 1 ] || { cat "$tmp/err"; exit 1; }
  ;;
*)
  echo "unknown mode $mode" >&2
  exit 2
  ;;
esac
