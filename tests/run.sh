#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs one test program against real sinks (files, pipes) and checks its output.
#   run.sh stream PRINTF_DIFF N             device printf of N cases == glibc's output
#   run.sh calls STDIO_CALLS                device stdio calls == glibc's, stdout and stderr
#   run.sh lines LINES CHECK SINK T M K     every line once, untorn, in order (SINK: file pipe stderr_file stderr_pipe)
#   run.sh hello HELLO                      the example's 256 lines, each once
#   run.sh fallback NO_URING ERR LINES CHECK  io_uring_setup fails with ERR: one clear line, all output
#   run.sh errors WRITE_ERRORS              stdout on /dev/full, stderr closed: every call fails, the program goes on
#   run.sh setvbuf SETVBUF_MODES            device setvbuf switches stdout between unbuffered and buffered, as glibc
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
  # Unbuffered stdout: each call fails. Buffered (the default for a file):
  # printf/puts/fwrite accept the text, fflush reports the failure, like glibc.
  LIBOMPTARGET_IO_URING_BUFFER=none "$1" >/dev/full 2>&- 3>"$tmp/out"
  echo "errors, unbuffered: returns $(cat "$tmp/out")"
  [ "$(cat "$tmp/out")" = "-1 -1 0 -1 -1 -1 0 0" ]
  "$1" >/dev/full 2>&- 3>"$tmp/out"
  echo "errors, buffered: returns $(cat "$tmp/out")"
  [ "$(cat "$tmp/out")" = "15 13 4 -1 -1 -1 -1 0" ]
  ;;
setvbuf)
  "$1" >/dev/full 3>"$tmp/out"
  sed 's/^/setvbuf: /' "$tmp/out"
  [ "$(cat "$tmp/out")" = "$(printf 'device 0 -1 0 4 -1 -1\nhost 0 -1 0 4 -1 -1')" ]
  ;;
fallback)
  no_uring=$1 err=$2 app=$3 check=$4
  "$no_uring" "$err" "$app" 4 8 100 >"$tmp/out" 2>"$tmp/err"
  "$check" 4 8 100 <"$tmp/out"
  case $err in EPERM) why="Operation not permitted" ;; ENOSYS) why="Function not implemented" ;; esac
  want="io_uring unavailable ($why); device I/O goes through the emulated ring"
  n=$(grep -c "$want" "$tmp/err" || true)
  echo "fallback: $n line(s) saying: $want"
  [ "$n" = 1 ] || { cat "$tmp/err"; exit 1; }
  ;;
*)
  echo "unknown mode $mode" >&2
  exit 2
  ;;
esac
