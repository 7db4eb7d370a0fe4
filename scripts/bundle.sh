#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Packs a build tree into a relocatable run bundle for a machine with no
# toolchain (the GPU machine): the build's executables, every shared library
# they need except glibc and the GPU driver, the test runner inputs, a
# generated run-tests.sh (the CTest list, paths rewritten into the bundle) and
# an env.sh that points LD_LIBRARY_PATH at the bundle and finds libcuda or
# the HSA runtime (AMD).
#
#   scripts/bundle.sh BUILD_DIR OUTPUT.tar.xz
#
# The bundle's top directory is OUTPUT's name without .tar.xz:
#   tar xf X.tar.xz && cd X && ./run-tests.sh          (all tests)
#   . ./env.sh; ./bin/hello                             (one program)
# Environment:
#   OIU_XZ_OPTS      xz options (default "-9e -T2")
#   OIU_BUNDLE_MAX   size limit of OUTPUT in bytes (default 55000000)
#   OIU_BUNDLE_EXTRA extra files/dirs, relative to the source tree, to copy in
#                    (space-separated; tests/run.sh and bench/run.sh always are)
#   OIU_BUNDLE_EXCLUDE  regex (Python re.search) of test names to leave out; tests
#                    given the whole source or build tree (install/rebuild tests)
#                    and tests labelled "offline" (image checks) are always left out
#   OIU_ARCHS        offload archs to record when the build's CMakeCache has no
#                    OIU_OFFLOAD_ARCHS (archs.txt; env.sh needs libcuda for sm_*,
#                    libhsa-runtime64 for gfx*)
# See docs/bundle.md.
set -euo pipefail
{ # (bash reads the whole block before running it: editing this file mid-run is safe)

say() { printf 'bundle: %s\n' "$*"; }
warn() { printf 'bundle: WARNING: %s\n' "$*" >&2; }
die() { printf 'bundle: ERROR: %s\n' "$*" >&2; exit 1; }

[[ $# -eq 2 ]] || die "usage: $0 BUILD_DIR OUTPUT.tar.xz"
[[ -f $1/CMakeCache.txt ]] || die "$1 is no CMake build tree (no CMakeCache.txt)"
for tool in ctest python3 ldd readelf strings xz tar sha256sum; do
  command -v "$tool" >/dev/null || die "needs $tool"
done
build=$(cd "$1" && pwd -P)
out=$2
case $out in
*.tar.xz) ;;
*) die "OUTPUT must end in .tar.xz: $out" ;;
esac
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd -P)/$(basename "$out")
name=$(basename "$out" .tar.xz)
[[ $name =~ ^[A-Za-z0-9._+-]+$ ]] || die "bundle name '$name' (from OUTPUT) must be [A-Za-z0-9._+-]"
xz_opts=${OIU_XZ_OPTS:--9e -T2}
max_bytes=${OIU_BUNDLE_MAX:-55000000}

cache_get() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" | head -n 1; }
src=$(cache_get CMAKE_HOME_DIRECTORY)
[[ -d $src ]] || die "source tree '$src' (CMAKE_HOME_DIRECTORY) not found"
src=$(cd "$src" && pwd -P)
# The build tree as CMake spells it (the ctest list uses this spelling).
build_cmake=$(cache_get CMAKE_CACHEFILE_DIR)
archs=$(cache_get OIU_OFFLOAD_ARCHS)
if [[ -z $archs ]]; then
  archs=${OIU_ARCHS:-unknown}
  warn "no OIU_OFFLOAD_ARCHS in $build/CMakeCache.txt: recording archs '$archs'"
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/oiu-bundle.XXXXXX")
trap 'rm -rf "$stage"' EXIT
B=$stage/$name
mkdir -p "$B/bin" "$B/lib"
manifest=$B/MANIFEST.txt
: >"$manifest"
# Which code this is: results from a GPU node name the commit they ran.
{
  echo "commit $(git -C "$src" describe --always --dirty 2>/dev/null || echo unknown)"
  echo "archs $archs"
  echo "packed $(date -u +%Y-%m-%dT%H:%MZ)"
} >"$B/COMMIT"

# ---- the test list ----
(cd "$build" && ctest --show-only=json-v1) >"$stage/tests.json" ||
  die "ctest --show-only=json-v1 failed in $build"

# ---- executables: every ELF program of the build, outside CMake's own dirs ----
is_program() { # ELF with a program interpreter (executables and PIEs, not .so)
  [[ $(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ') == 177ELF ]] &&
    readelf -lW "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}
declare -A exe_of=()
while IFS= read -r -d '' f; do
  is_program "$f" || continue
  base=$(basename "$f")
  if [[ -n ${exe_of[$base]:-} ]]; then
    die "two executables named $base: ${exe_of[$base]} and $f (bin/ is flat)"
  fi
  exe_of[$base]=$f
done < <(find "$build" \( -name CMakeFiles -o -name Testing -o -name _CPack_Packages \) -prune \
  -o -type f -perm -u+x -print0 | sort -z)
[[ ${#exe_of[@]} -gt 0 ]] || die "no executables found in $build (did it build?)"
for base in "${!exe_of[@]}"; do
  cp -p "${exe_of[$base]}" "$B/bin/$base"
  printf 'bin/%s <- %s\n' "$base" "${exe_of[$base]}" >>"$manifest"
done
say "${#exe_of[@]} executables: $(printf '%s\n' "${!exe_of[@]}" | sort | tr '\n' ' ')"

# ---- shared libraries ----
# Build-produced runtime libraries first (symlink chains kept as they are).
shopt -s nullglob
built_libs=()
while IFS= read -r -d '' f; do
  built_libs+=("$f")
done < <(find "$build" \( -name CMakeFiles -o -name Testing \) -prune -o \
  \( -type f -o -type l \) -name 'libompiouring.so*' -print0 | sort -z)
[[ ${#built_libs[@]} -gt 0 ]] || warn "no libompiouring.so* in $build"
for f in "${built_libs[@]}"; do
  cp -P "$f" "$B/lib/"
  printf 'lib/%s <- %s\n' "$(basename "$f")" "$f" >>"$manifest"
done

# Not bundled: the glibc core (the target has its own, and it must match its
# ld.so) and the GPU driver's user-space libraries (must match the kernel driver).
skip_lib() {
  case $1 in
  linux-vdso.so* | linux-gate.so* | ld-linux*.so* | libc.so* | libm.so* | libmvec.so* | \
    libpthread.so* | libdl.so* | librt.so* | libresolv.so* | libutil.so* | libanl.so* | \
    libnsl.so* | libBrokenLocale.so* | libthread_db.so* | libnss_*.so* | libc_malloc_debug.so*)
    return 0 ;;
  libcuda.so* | libnvidia-*.so* | libnvcuvid.so* | libcudadebugger.so*) return 0 ;;
  # AMD's user-space runtime: the node's ROCm must match its kernel driver and
  # know its GPUs (Debian 12's 5.2.3 knows no gfx942); env.sh finds it.
  libhsa-runtime64.so* | libhsakmt.so*) return 0 ;;
  esac
  return 1
}
gpu_amd=0
[[ ";$archs;" == *";gfx"* ]] && gpu_amd=1
# dlopen'ed libraries that belong to the target machine unless a gfx bundle asks.
skip_dlopen() {
  skip_lib "$1" && return 0
  case $1 in
  libamdhip64.so*) [[ $gpu_amd == 0 ]] && return 0 ;;
  # libomp's optional tools: only loaded on request (OMP_TOOL_LIBRARIES, OMPD, ...)
  libarcher.so* | libittnotify.so* | libmemkind.so* | libompd.so*) return 0 ;;
  esac
  return 1
}

# add_lib NAME PATH: lib/NAME <- PATH (dereferenced); returns 1 if already there.
add_lib() {
  local dst=$B/lib/$1
  if [[ -e $dst || -L $dst ]]; then
    if ! cmp -s "$dst" "$2"; then
      warn "two different $1: lib/ keeps the first, not $2"
    fi
    return 1
  fi
  cp -L "$2" "$dst"
  chmod u+w "$dst"
  printf 'lib/%s <- %s\n' "$1" "$(readlink -f "$2")" >>"$manifest"
}
# closure ELF...: copy every library ldd resolves for them (recursively: ldd
# already prints the whole closure of each file).
closure() {
  local f line lname lpath missing=0
  for f in "$@"; do
    while IFS= read -r line; do
      if [[ $line =~ ^[[:space:]]*([^[:space:]]+)[[:space:]]=\>[[:space:]]not\ found ]]; then
        lname=${BASH_REMATCH[1]}
        skip_lib "$lname" && continue
        warn "$f: $lname not found by ldd"
        missing=1
      elif [[ $line =~ ^[[:space:]]*([^[:space:]]+)[[:space:]]=\>[[:space:]](/[^[:space:]]+) ]]; then
        lname=${BASH_REMATCH[1]} lpath=${BASH_REMATCH[2]}
        skip_lib "$lname" && continue
        add_lib "$lname" "$lpath" || true
      fi
    done < <(ldd "$f" 2>&1)
  done
  return $missing
}
closure "$B"/bin/* "${built_libs[@]}" || die "unresolved libraries (see above)"

# libomptarget dlopens libraries by name at run time (the plugins' vendor
# runtimes, OMPT's "libomp" + ".so"); so may ours. Bundle the ones that are
# not the driver: look for .so names in the strings of those libraries.
libomp_path=$B/lib/libomp.so.5
[[ -e $libomp_path ]] || warn "no libomp.so.5 among the programs' libraries"
[[ -e $B/lib/libomptarget.so.22.1 ]] || warn "no libomptarget.so.22.1 among the programs' libraries"
resolve_name() { # NAME [DIR]: the path the loader would find on this machine
  local n=$1 d=${2:-}
  if [[ -n $d && -e $d/$n ]]; then
    echo "$d/$n"
    return
  fi
  /sbin/ldconfig -p 2>/dev/null | awk -v n="$n" '$1 == n && /x86-64/ { print $NF; exit }'
}
declare -A dl_seen=()
for f in "$B"/lib/libomptarget.so* "$B"/lib/libompiouring.so* "$B"/bin/*; do
    [[ -f $f && ! -L $f ]] || continue
    origin=$(sed -n "s|^${f#"$B"/} <- ||p" "$manifest" | head -n 1)
    odir=$(dirname "${origin:-/nonexistent/x}")
    while IFS= read -r n; do
      [[ -n ${dl_seen[$n]:-} ]] && continue
      dl_seen[$n]=1
      skip_dlopen "$n" && { printf 'dlopen %s: left to the target machine\n' "$n" >>"$manifest"; continue; }
      [[ -e $B/lib/$n ]] && continue
      p=$(resolve_name "$n" "$odir")
      if [[ -z $p ]]; then
        warn "$(basename "$f") names $n, which is not on this machine: not bundled"
        printf 'dlopen %s: not found here\n' "$n" >>"$manifest"
        continue
      fi
      # An unversioned name whose target is bundled under its soname: a symlink.
      soname=$(readelf -dW "$p" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
      if [[ -n $soname && $soname != "$n" && -e $B/lib/$soname ]]; then
        ln -s "$soname" "$B/lib/$n"
        printf 'lib/%s -> %s (dlopen name)\n' "$n" "$soname" >>"$manifest"
      else
        add_lib "$n" "$p" && say "dlopen'ed by $(basename "$f"): $n"
        closure "$B/lib/$n" || die "unresolved libraries of $n"
      fi
    done < <(strings -a "$f" | grep -oE '\blib[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*\.so(\.[0-9]+)*\b' | sort -u)
done
# OMPT connects libomptarget to the host runtime with dlopen("libomp.so").
if [[ -e $libomp_path && ! -e $B/lib/libomp.so ]]; then
  ln -s libomp.so.5 "$B/lib/libomp.so"
  printf 'lib/libomp.so -> libomp.so.5 (OMPT dlopen name)\n' >>"$manifest"
fi

# ---- markers: offload archs, the newest glibc symbol version anything needs ----
printf '%s\n' "$archs" | tr ';' '\n' | sed '/^$/d' >"$B/archs.txt"
glibc_min=$(for f in "$B"/bin/* "$B"/lib/*; do [[ -L $f ]] || readelf -VW "$f" 2>/dev/null; done |
  grep -oE 'GLIBC_[0-9]+\.[0-9]+(\.[0-9]+)?' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
echo "${glibc_min:-unknown}" >"$B/glibc.txt"
say "offload archs: $(tr '\n' ' ' <"$B/archs.txt"); needs glibc >= ${glibc_min:-?}"

# ---- test runner inputs and the generated run-tests.sh ----
export OIU_B_STAGE=$B OIU_B_SRC=$src OIU_B_BUILD=$build OIU_B_BUILD_CMAKE=$build_cmake
export OIU_B_TESTS_JSON=$stage/tests.json OIU_B_EXTRA=${OIU_BUNDLE_EXTRA:-} OIU_B_EXCLUDE=${OIU_BUNDLE_EXCLUDE:-}
python3 - <<'PY'
import json, os, re, shlex, shutil, sys

B = os.environ["OIU_B_STAGE"]
src = os.environ["OIU_B_SRC"]
build = os.environ["OIU_B_BUILD"]
build_cmake = os.environ["OIU_B_BUILD_CMAKE"] or build
tests = json.load(open(os.environ["OIU_B_TESTS_JSON"]))["tests"]
bins = set(os.listdir(os.path.join(B, "bin")))
manifest = open(os.path.join(B, "MANIFEST.txt"), "a")
warned = set()

def warn(msg):
    if msg not in warned:
        warned.add(msg)
        print("bundle: WARNING: " + msg, file=sys.stderr)

# Prefix -> location inside the bundle ("" = bundle root), longest first, so
# the build tree (often inside the source tree) wins over the source tree.
prefixes = {}
for b in {build, build_cmake, os.path.realpath(build_cmake)}:
    prefixes[b.rstrip("/")] = "build"
for s in {src, os.path.realpath(src)}:
    prefixes.setdefault(s.rstrip("/"), "")
order = sorted(prefixes, key=len, reverse=True)
PATHCH = r"[A-Za-z0-9_.+@%~/-]"
pat = re.compile("(" + "|".join(re.escape(p) for p in order) + r")(?=/|$|[^A-Za-z0-9_.+-])((?:/" + PATHCH + "*)?)")

def in_bundle(prefix, rest):
    """Bundle-relative location of prefix+rest; copies what it names."""
    full = prefix + rest
    real = os.path.realpath(full)
    if os.path.isfile(real) and os.access(real, os.X_OK) and os.path.basename(real) in bins \
            and prefixes[prefix] == "build":
        return "bin/" + os.path.basename(real), None
    rel = rest.lstrip("/")
    loc = os.path.join(prefixes[prefix], rel) if rel else prefixes[prefix]
    return loc.rstrip("/"), real

def copy_in(loc, real, dir_only):
    """Makes loc exist in the bundle: a copy of the file or data directory real
    names, or (dir_only, or real absent) the directory a test works or writes in."""
    dst = os.path.join(B, loc) if loc else B
    if dir_only:
        os.makedirs(dst, exist_ok=True)
    elif not os.path.exists(real):  # an output the test writes: make its directory
        if os.path.isdir(os.path.dirname(real)):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
    elif os.path.isfile(real):
        if not os.path.exists(dst):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(real, dst)
            manifest.write(f"{loc} <- {real}\n")
    elif os.path.isdir(real):
        os.makedirs(dst, exist_ok=True)
        # a data directory: copied, unless it holds a tree (the build, the source root)
        rb, rs = os.path.realpath(build), os.path.realpath(src)
        if real in (rb, rs) or rb.startswith(real + "/") or os.path.realpath(B).startswith(real + "/"):
            return
        total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(real) for f in fs)
        if total > 20 << 20:
            warn(f"{real} is {total >> 20} MiB: created empty in the bundle")
            return
        shutil.copytree(real, dst, symlinks=True, dirs_exist_ok=True)
        manifest.write(f"{loc}/ <- {real}/\n")

def word(s, dir_only=False):
    """A bash word for s with build/source paths rewritten under $B."""
    parts, pos = [], 0
    for m in pat.finditer(s):
        loc, real = in_bundle(m.group(1), m.group(2))
        if real is not None:
            copy_in(loc, real, dir_only)
        if m.start() > pos:
            parts.append(shlex.quote(s[pos:m.start()]))
        parts.append('"$B"' + (shlex.quote("/" + loc) if loc else ""))
        pos = m.end()
    if pos < len(s) or not parts:
        parts.append(shlex.quote(s[pos:]))
    return "".join(parts)

# always shipped: the test and benchmark runners, and anything asked for
for rel in ["tests/run.sh", "bench/run.sh"] + os.environ.get("OIU_B_EXTRA", "").split():
    p = os.path.join(src, rel)
    if os.path.exists(p):
        word(p)
    elif rel != "bench/run.sh":
        warn(f"{rel} not in the source tree")

known = {"WORKING_DIRECTORY", "ENVIRONMENT", "ENVIRONMENT_MODIFICATION", "TIMEOUT", "WILL_FAIL",
         "PASS_REGULAR_EXPRESSION", "FAIL_REGULAR_EXPRESSION", "SKIP_REGULAR_EXPRESSION",
         "SKIP_RETURN_CODE", "DISABLED", "LABELS", "PROCESSORS", "RESOURCE_LOCK", "RUN_SERIAL",
         "_BACKTRACE_TRIPLES", "COST", "DEPENDS"}
out = []
names = []
left_out = []
exclude = os.environ.get("OIU_B_EXCLUDE", "")
roots = set(prefixes)
for t in tests:
    name = t["name"]
    cmd = t.get("command") or []
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    envl = props.get("ENVIRONMENT", [])
    envl = envl if isinstance(envl, list) else [envl]
    # A test handed the whole source or build tree rebuilds or installs from it
    # (needs CMake and the compiler): it cannot run from the bundle.
    whole = [m.group(1) for a in cmd + [e.split("=", 1)[-1] for e in envl]
             for m in pat.finditer(a) if m.group(1) in roots and not m.group(2)]
    if whole:
        left_out.append((name, f"needs the tree {whole[0]} (toolchain)"))
        continue
    labels = props.get("LABELS", [])
    if "offline" in (labels if isinstance(labels, list) else [labels]):
        left_out.append((name, "label offline: inspects the build with the toolchain"))
        continue
    if exclude and re.search(exclude, name):
        left_out.append((name, f"OIU_BUNDLE_EXCLUDE={exclude}"))
        continue
    i = len(names)
    for k in props:
        if k not in known:
            warn(f"test {name}: property {k} is not reproduced by run-tests.sh")
    if not cmd:
        warn(f"test {name} has no command (not built?): it will fail")
    for a in cmd:
        exe = os.path.basename(a)
        if exe in ("cmake", "ctest", "cpack") or a.endswith(("/cmake", "/ctest")):
            warn(f"test {name} runs {a}: the GPU machine may have no CMake")
    lst = lambda v: v if isinstance(v, list) else [v]
    wd = props.get("WORKING_DIRECTORY", build_cmake)
    lines = [f"t_def_{i}() {{"]
    lines.append(f"  wd={word(wd, dir_only=True)}")
    lines.append(f"  cmd=({' '.join(word(a) for a in cmd)})")
    lines.append(f"  envs=({' '.join(word(e) for e in lst(props.get('ENVIRONMENT', [])))})")
    lines.append(f"  envmods=({' '.join(word(e) for e in lst(props.get('ENVIRONMENT_MODIFICATION', [])))})")
    tmo = props.get("TIMEOUT", "")
    if isinstance(tmo, float) and tmo.is_integer():
        tmo = int(tmo)
    lines.append(f"  tmo={shlex.quote(str(tmo))}")
    lines.append(f"  will_fail={1 if props.get('WILL_FAIL') else 0}")
    lines.append(f"  disabled={1 if props.get('DISABLED') else 0}")
    lines.append(f"  skip_rc={shlex.quote(str(props.get('SKIP_RETURN_CODE', '')))}")
    for key, var in (("PASS_REGULAR_EXPRESSION", "pass_re"), ("FAIL_REGULAR_EXPRESSION", "fail_re"),
                     ("SKIP_REGULAR_EXPRESSION", "skip_re")):
        lines.append(f"  {var}=({' '.join(shlex.quote(r) for r in lst(props.get(key, [])))})")
    lines.append("}")
    out.append("\n".join(lines))
    names.append(shlex.quote(name))

for name, why in left_out:
    warn(f"test {name} left out of the bundle: {why}")
    manifest.write(f"test {name}: left out, {why}\n")
with open(os.path.join(B, "tests.gen.sh"), "w") as f:
    f.write("# The CTest list of the build, paths rewritten into the bundle ($B).\n")
    for name, why in left_out:
        f.write(f"# left out: {name}: {why}\n")
    f.write(f"t_names=({' '.join(names)})\n")
    f.write("\n".join(out) + "\n")
print(f"bundle: {len(names)} tests" + (f" ({len(left_out)} left out)" if left_out else ""))
PY

# run-tests.sh = runner + the generated list
{
  cat <<'EOF'
#!/usr/bin/env bash
# Runs the bundle's tests: the CTest list of the build it was made from
# (scripts/bundle.sh), every path rewritten into this directory.
#   ./run-tests.sh [-t SECS] [-v] [-l] [REGEX]
#   REGEX    run only tests whose name matches (bash =~, like ctest -R)
#   -t SECS  timeout of every test (default: the test's TIMEOUT property, else
#            $TEST_TIMEOUT, else 300)
#   -v       print the log of each failed test
#   -l       list the tests and exit
# Each test's output goes to $RESULTS/<name>.log (RESULTS default ./results);
# OMP_TARGET_OFFLOAD=MANDATORY is set so a host fallback cannot pass.
set -u
B=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
force_tmo='' verbose=0 list=0
while getopts 't:vlh' opt; do
  case $opt in
  t) force_tmo=$OPTARG ;;
  v) verbose=1 ;;
  l) list=1 ;;
  *) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
filter=${1:-}
default_tmo=${TEST_TIMEOUT:-300}
EOF
  sed '1{/^# The CTest/d}' "$B/tests.gen.sh"
  cat <<'EOF'

if [[ $list == 1 ]]; then
  for n in "${t_names[@]}"; do [[ -z $filter || $n =~ $filter ]] && echo "$n"; done
  exit 0
fi
OIU_QUIET=${OIU_QUIET:-0}
# shellcheck source=/dev/null
. "$B/env.sh" || { echo "run-tests.sh: env.sh failed: no tests run" >&2; exit 1; }
export OMP_TARGET_OFFLOAD=MANDATORY
RESULTS=${RESULTS:-results}
mkdir -p "$RESULTS" && RESULTS=$(cd "$RESULTS" && pwd -P) || exit 1
: >"$RESULTS/summary.txt"
command -v timeout >/dev/null || { echo "run-tests.sh: needs timeout (coreutils)" >&2; exit 1; }

now_us() { local t=${EPOCHREALTIME:-}; if [[ -n $t ]]; then echo "${t//[!0-9]/}"; else echo "$(date +%s%N | cut -c1-16)"; fi; }
secs() { printf '%d.%02d' $(($1 / 1000000)) $(($1 % 1000000 / 10000)); }
apply_envmods() { # CTest ENVIRONMENT_MODIFICATION: VAR=op:value
  local m var op val cur sep
  for m in "$@"; do
    var=${m%%=*} m=${m#*=} op=${m%%:*} val=${m#*:}
    cur=${!var-}
    sep=':'
    case $op in
    reset) continue ;;
    set) export "$var=$val" ;;
    unset) unset "$var" ;;
    string_append) export "$var=$cur$val" ;;
    string_prepend) export "$var=$val$cur" ;;
    path_list_append) export "$var=${cur:+$cur$sep}$val" ;;
    path_list_prepend) export "$var=$val${cur:+$sep$cur}" ;;
    cmake_list_append) export "$var=${cur:+$cur;}$val" ;;
    cmake_list_prepend) export "$var=$val${cur:+;$cur}" ;;
    *) echo "run-tests.sh: unknown ENVIRONMENT_MODIFICATION op $op" >&2 ;;
    esac
  done
}
pid=''
trap 'echo "run-tests.sh: interrupted" >&2; [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null; exit 130' INT TERM

passed=0 failed=0 skipped=0 ran=0
for i in "${!t_names[@]}"; do
  name=${t_names[i]}
  [[ -z $filter || $name =~ $filter ]] || continue
  "t_def_$i"
  ran=$((ran + 1))
  if [[ $disabled == 1 ]]; then
    echo "SKIP $name (disabled)" | tee -a "$RESULTS/summary.txt"
    skipped=$((skipped + 1))
    continue
  fi
  t=${force_tmo:-${tmo:-$default_tmo}}
  [[ $t == 0 ]] && t=$default_tmo
  log=$RESULTS/${name//\//_}.log
  mkdir -p "$wd"
  t0=$(now_us)
  (
    cd "$wd" || exit 127
    apply_envmods "${envmods[@]}"
    exec timeout -k 10 "$t" env -- "${envs[@]}" "${cmd[@]}"
  ) </dev/null >"$log" 2>&1 &
  pid=$!
  wait "$pid" 2>/dev/null # (no "Aborted" notice from bash: the log has the story)
  rc=$?
  pid=''
  el_us=$(($(now_us) - t0))
  el=$(secs "$el_us")
  ok=0 why="exit $rc"
  if [[ ${#pass_re[@]} -gt 0 ]]; then
    for re in "${pass_re[@]}"; do grep -Eq -- "$re" "$log" && ok=1; done
    [[ $ok == 0 ]] && why="no PASS_REGULAR_EXPRESSION match"
  else
    [[ $rc == 0 ]] && ok=1
  fi
  for re in "${fail_re[@]}"; do grep -Eq -- "$re" "$log" && { ok=0; why="FAIL_REGULAR_EXPRESSION $re"; }; done
  [[ $will_fail == 1 ]] && { ok=$((1 - ok)); why="WILL_FAIL, $why"; }
  timed_out=0
  if [[ $rc == 124 ]] || [[ $rc == 137 && $el_us -ge $((${t%%.*} * 1000000)) ]]; then
    ok=0 why="timeout ${t}s" timed_out=1
  elif [[ $ok == 0 && $rc -gt 128 && $rc -lt 160 && ${#pass_re[@]} == 0 ]]; then
    why="signal $((rc - 128))"
  fi
  skip=0
  [[ -n $skip_rc && $rc == "$skip_rc" ]] && skip=1
  for re in "${skip_re[@]}"; do grep -Eq -- "$re" "$log" && skip=1; done
  {
    echo "# ---- run-tests.sh: $name: exit $rc after ${el}s (timeout ${t}s)"
    echo "# cwd: $wd"
    [[ ${#envs[@]} -gt 0 || ${#envmods[@]} -gt 0 ]] && { printf "# env:"; printf " %q" "${envs[@]}" "${envmods[@]}"; echo; }
    printf '# command:'; printf ' %q' "${cmd[@]}"; echo
  } >>"$log"
  if [[ $skip == 1 && $timed_out == 0 ]]; then
    line="SKIP $name ($el s)"
    skipped=$((skipped + 1))
  elif [[ $ok == 1 ]]; then
    line="PASS $name ($el s)"
    passed=$((passed + 1))
  else
    line="FAIL $name ($el s) [$why]"
    failed=$((failed + 1))
  fi
  echo "$line"
  echo "$line" >>"$RESULTS/summary.txt"
  if [[ $line == FAIL* && $verbose == 1 ]]; then sed 's/^/    | /' "$log"; fi
done
[[ $ran == 0 ]] && echo "run-tests.sh: no test matches '${filter}'" >&2
[[ $skipped -gt 0 ]] && echo "$skipped skipped"
echo "logs: $RESULTS"
echo "$passed passed, $failed failed" | tee -a "$RESULTS/summary.txt"
[[ $failed == 0 && $ran -gt 0 ]]
EOF
} >"$B/run-tests.sh"
rm "$B/tests.gen.sh"
chmod +x "$B/run-tests.sh"

# ---- run-all.sh: the whole check of a GPU node in one command ----
cat >"$B/run-all.sh" <<'EOF'
#!/usr/bin/env bash
# Every test, then the benchmark table; everything lands in $RESULTS (default
# ./results) and in one archive, $RESULTS.tar.gz, to take away.
#   ./run-all.sh [-t SECS]             -t: per-test timeout (run-tests.sh -t)
# Environment: NOBENCH=1 skips the benchmarks; OIU_BENCH_* go to bench/run.sh.
cd "$(dirname "${BASH_SOURCE[0]}")" || exit 1
export RESULTS=${RESULTS:-$PWD/results}
mkdir -p "$RESULTS"
./run-tests.sh "$@" >"$RESULTS/tests.txt" 2>&1
tests_rc=$?
tail -n 1 "$RESULTS/tests.txt"
if [[ -z ${NOBENCH:-} && -x bench/run.sh ]]; then
  (. ./env.sh && BIN=$PWD/bin OIU_BENCH_CSV=$RESULTS/bench.csv bench/run.sh) >"$RESULTS/bench.txt" 2>&1
  echo "benchmarks: $(grep -c . "$RESULTS/bench.csv") CSV lines, table in $RESULTS/bench.txt"
fi
tar -C "$(dirname "$RESULTS")" -czf "$RESULTS.tar.gz" "$(basename "$RESULTS")"
echo "results: $RESULTS.tar.gz"
exit $tests_rc
EOF
chmod +x "$B/run-all.sh"

# ---- env.sh ----
cat >"$B/env.sh" <<'EOF'
# shellcheck shell=bash
# Source me (bash or zsh):  . ./env.sh
# Puts the bundle's lib/ first in LD_LIBRARY_PATH and makes the machine's GPU
# runtime reachable: NVIDIA's libcuda (libomptarget dlopens "libcuda.so",
# libompiouring "libcuda.so.1") and AMD's HSA runtime ("libhsa-runtime64.so"
# and ".so.1"). Sets OIU_BUNDLE. OIU_QUIET=1 silences it; OIU_LIBCUDA_DIR=/dir
# and OIU_LIBHSA_DIR=/dir name the library's directory if the search misses it.
# Returns non-zero if the bundle has sm_* (gfx*) programs and no libcuda.so.1
# (libhsa-runtime64.so.1) exists.
OIU_BUNDLE=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd -P)
export OIU_BUNDLE
_oiu_say() { [ "${OIU_QUIET:-0}" = 1 ] || printf 'env.sh: %s\n' "$*" >&2; }
_oiu_path_add() { # VAR DIR first|last: DIR once in the path list VAR
  local rest new="" d
  rest=$(eval "printf '%s' \"\${$1:-}\"")
  while [ -n "$rest" ]; do # split on ':' the same in bash and zsh
    d=${rest%%:*}
    if [ "$d" = "$rest" ]; then rest=""; else rest=${rest#*:}; fi
    [ -n "$d" ] && [ "$d" != "$2" ] && new="${new:+$new:}$d"
  done
  if [ "$3" = first ]; then new="$2${new:+:$new}"; else new="${new:+$new:}$2"; fi
  export "$1=$new"
}
_oiu_path_add LD_LIBRARY_PATH "$OIU_BUNDLE/lib" first

# the bundle's libraries were built against this glibc or older
_oiu_need=$(cat "$OIU_BUNDLE/glibc.txt" 2>/dev/null)
_oiu_have=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{ print $2 }')
if [ -n "$_oiu_need" ] && [ -n "$_oiu_have" ] &&
  [ "$(printf '%s\n%s\n' "$_oiu_need" "$_oiu_have" | sort -V | head -n 1)" != "$_oiu_need" ]; then
  printf 'env.sh: WARNING: this system has glibc %s; the bundle needs %s or newer\n' "$_oiu_have" "$_oiu_need" >&2
fi
unset _oiu_need _oiu_have

_oiu_ldconfig=""
for _oiu_l in "$(command -v ldconfig 2>/dev/null)" /sbin/ldconfig /usr/sbin/ldconfig; do
  [ -n "$_oiu_l" ] && [ -x "$_oiu_l" ] && { _oiu_ldconfig=$_oiu_l; break; }
done
_oiu_known() { # NAME: the path ldconfig's cache gives for NAME (x86-64)
  [ -n "$_oiu_ldconfig" ] || return 0
  "$_oiu_ldconfig" -p 2>/dev/null | awk -v n="$1" '$1 == n && /x86-64/ { print $NF; exit }'
}
# _oiu_driver SONAME OPENED VAR DIR...: finds the machine's vendor library
# SONAME in ldconfig's cache, in $VAR, or in the DIRs; puts its directory
# after lib/ unless the loader's cache knows it; makes OPENED (the name
# libomptarget dlopens, unversioned) resolve to the same file, through a
# symlink beside the bundle where needed. Sets _oiu_found (empty: none).
_oiu_driver() {
  local so=$1 open=$2 var=$3 p via=ldconfig d shim
  shift 3
  p=$(_oiu_known "$so")
  [ -n "$p" ] && [ ! -e "$p" ] && p=""
  d=$(eval "printf '%s' \"\${$var:-}\"")
  if [ -n "$d" ] && [ -e "$d/$so" ]; then p=$d/$so via=$var; fi
  if [ -z "$p" ]; then
    for d in "$@"; do
      if [ -e "$d/$so" ]; then p=$(cd "$d" && pwd -P)/$so via=search; break; fi
    done
  fi
  _oiu_found=$p
  [ -n "$p" ] || return 1
  d=$(dirname "$p")
  [ "$via" = ldconfig ] || _oiu_path_add LD_LIBRARY_PATH "$d" last
  # (a directory outside ldconfig's cache gets its own OPENED even when the
  # cache has one: that one is another copy of the library)
  if [ ! -e "$d/$open" ] && { [ "$via" != ldconfig ] || [ -z "$(_oiu_known "$open")" ]; }; then
    shim=$OIU_BUNDLE/driver
    if ! mkdir -p "$shim" 2>/dev/null || [ ! -w "$shim" ]; then
      shim=$(mktemp -d "${TMPDIR:-/tmp}/oiu-driver.XXXXXX")
    fi
    ln -sfn "$p" "$shim/$open"
    _oiu_path_add LD_LIBRARY_PATH "$shim" last
  fi
  _oiu_say "driver $(readlink -f "$p") (via $via)"
}
# _oiu_glibcxx LIB: warns when LIB needs a newer libstdc++ than lib/ holds
# (lib/ comes first in LD_LIBRARY_PATH; a ROCm built with a newer GCC than
# Debian 12's would then fail to load).
_oiu_glibcxx() {
  local need have
  [ -e "$OIU_BUNDLE/lib/libstdc++.so.6" ] || return 0
  need=$(grep -ao 'GLIBCXX_3\.4\.[0-9]*' "$1" 2>/dev/null | sort -uV | tail -n 1)
  have=$(grep -ao 'GLIBCXX_3\.4\.[0-9]*' "$OIU_BUNDLE/lib/libstdc++.so.6" | sort -uV | tail -n 1)
  [ -n "$need" ] && [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | tail -n 1)" != "$have" ] || return 0
  printf '%s\n' "env.sh: WARNING: $1 needs $need; the bundle's libstdc++ has $have." \
    "  If programs fail with 'GLIBCXX_... not found', preload the system's (newer) one:" \
    "  export LD_PRELOAD=$(_oiu_known libstdc++.so.6)" >&2
}

_oiu_archs=$(tr '\n' ' ' <"$OIU_BUNDLE/archs.txt" 2>/dev/null)
_oiu_say "bundle $OIU_BUNDLE (archs: $_oiu_archs)"
_oiu_rc=0
# NVIDIA: libomptarget dlopens "libcuda.so", libompiouring "libcuda.so.1".
if _oiu_driver libcuda.so.1 libcuda.so OIU_LIBCUDA_DIR /usr/lib/x86_64-linux-gnu \
  /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib64 /usr/lib/wsl/lib /usr/local/cuda/compat; then
  :
elif grep -q '^sm_' "$OIU_BUNDLE/archs.txt" 2>/dev/null; then
  printf '%s\n' "env.sh: ERROR: this bundle has NVIDIA programs ($_oiu_archs)" \
    "  but no libcuda.so.1 (the NVIDIA driver) was found: not in 'ldconfig -p', nor in" \
    "  /usr/lib/x86_64-linux-gnu /usr/local/nvidia/lib64 /usr/lib64 /usr/local/cuda/compat." \
    "  Set OIU_LIBCUDA_DIR=/dir/with/libcuda.so.1 and source env.sh again." >&2
  _oiu_rc=1
fi
# AMD: the node's own ROCm runtime (it must match its kernel driver and know
# its GPUs); libomptarget dlopens "libhsa-runtime64.so", libompiouring ".so.1".
if grep -q '^gfx' "$OIU_BUNDLE/archs.txt" 2>/dev/null; then
  # shellcheck disable=SC2046  # one word per directory
  if _oiu_driver libhsa-runtime64.so.1 libhsa-runtime64.so OIU_LIBHSA_DIR \
    ${ROCM_PATH:+"$ROCM_PATH/lib"} /opt/rocm/lib \
    $(find /opt -maxdepth 2 -path '/opt/rocm-*/lib' 2>/dev/null | sort -rV) \
    /usr/lib/x86_64-linux-gnu /usr/lib64; then
    _oiu_glibcxx "$_oiu_found"
  else
    printf '%s\n' "env.sh: ERROR: this bundle has AMD programs ($_oiu_archs)" \
      "  but no libhsa-runtime64.so.1 (ROCm's HSA runtime) was found: not in 'ldconfig -p'," \
      "  \$ROCM_PATH/lib, /opt/rocm/lib, /opt/rocm-*/lib, /usr/lib/x86_64-linux-gnu, /usr/lib64." \
      "  Set OIU_LIBHSA_DIR=/dir/with/libhsa-runtime64.so.1 and source env.sh again." >&2
    _oiu_rc=1
  fi
fi
unset _oiu_ldconfig _oiu_l _oiu_found _oiu_archs
unset -f _oiu_known _oiu_path_add _oiu_say _oiu_driver _oiu_glibcxx
return $_oiu_rc 2>/dev/null || exit $_oiu_rc
EOF

# ---- README-bundle.txt, build info ----
git_rev=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
git_dirty=$( (git -C "$src" status --porcelain 2>/dev/null || true) | head -n 1)
cat >"$B/README-bundle.txt" <<EOF
omp-iouring run bundle: $name
Made by scripts/bundle.sh on $(date -u +%Y-%m-%dT%H:%MZ) from $build
(source $src, commit $git_rev${git_dirty:+ + uncommitted changes}); offload archs: $(tr '\n' ' ' <"$B/archs.txt")

Needs on the target machine: x86-64 Linux with glibc >= $(cat "$B/glibc.txt"), bash, coreutils
(timeout), and for sm_* bundles the NVIDIA driver (libcuda.so.1, driver >= the
CUDA version the cubins were built with), for gfx* bundles ROCm's HSA runtime
(libhsa-runtime64.so.1, a ROCm that supports the GPU: 6.0 or newer for
gfx942). Nothing else: every other library is in lib/. Executables find it through LD_LIBRARY_PATH (env.sh sets it).

Run every test:
  tar xf $name.tar.xz && cd $name && ./run-tests.sh
  ./run-tests.sh 'printf|lines'       only the tests whose name matches
  ./run-tests.sh -l                   list the tests
  ./run-tests.sh -v -t 600            print failed tests' logs; 600 s timeout
  Logs: \$RESULTS/<test>.log (default ./results), summary in \$RESULTS/summary.txt.
  The last line is "N passed, M failed"; the exit status is non-zero if any failed.
  OMP_TARGET_OFFLOAD=MANDATORY is set: a program that cannot offload fails.

Run one program:
  . ./env.sh; ./bin/hello
  LIBOMPTARGET_IO_URING=1 LIBOMPTARGET_INFO=-1 ./bin/hello

Benchmarks (if bench/run.sh is here; BIN defaults to ./bin):
  . ./env.sh; bench/run.sh

Everything, results in one archive (results.tar.gz):
  ./run-all.sh -t 300

Files:
  bin/           the build's executables (tests, examples, bench)
  lib/           shared libraries (libomptarget, libLLVM, libomp + libomp.so, liburing, ...)
  tests/run.sh   the test runner script the tests call (bench/run.sh: the benchmark table)
  build/         working directories of the tests
  archs.txt      offload archs of the build (env.sh insists on libcuda for sm_*,
                 on libhsa-runtime64 for gfx*)
  glibc.txt      the oldest glibc the bundle runs with
  MANIFEST.txt   where every file came from
  SHA256SUMS     check an unpacked bundle: sha256sum -c --quiet SHA256SUMS
If env.sh cannot find libcuda.so.1: export OIU_LIBCUDA_DIR=/dir/of/libcuda.so.1
If env.sh cannot find libhsa-runtime64.so.1: export OIU_LIBHSA_DIR=/dir/of/it (e.g. /opt/rocm/lib)
EOF

# ---- pack ----
(cd "$B" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs -d '\n' sha256sum) >"$stage/SHA256SUMS"
mv "$stage/SHA256SUMS" "$B/SHA256SUMS"
(cd "$B" && find . -type f -o -type l | sort | sed 's|^\./||') >"$stage/files"
nlib=$(find "$B/lib" -maxdepth 1 \( -type f -o -type l \) | wc -l)
say "staged $(du -sh --apparent-size "$B" | cut -f1) uncompressed: ${#exe_of[@]} executables, $nlib lib/ entries"
say "packing with xz $xz_opts (minutes at -9e)"
# shellcheck disable=SC2086
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner -cf - "$name" |
  xz $xz_opts -c >"$out.part"
mv "$out.part" "$out"
size=$(stat -c %s "$out")
say "$out: $size bytes ($((size / 1000000)) MB), sha256 $(sha256sum "$out" | cut -d' ' -f1)"
if [[ $size -gt $max_bytes ]]; then
  die "$out is over the $max_bytes-byte limit"
fi
exit 0
}
