#!/usr/bin/env bash
# Fetch Debian's LLVM 22.1.8 source tarball and extract some of its members.
#
#   scripts/fetch-llvm-source.sh MEMBER...     e.g. openmp offload libc
#
# The tarball (llvm-toolchain-22_22.1.8.orig.tar.xz) comes from Debian's own
# archive through `apt-get source --download-only --tar-only`, run against a
# PRIVATE apt configuration under $OIU_CACHE/apt: its deb-src entries are
# derived from the machine's apt sources (the URI that serves the release's
# own suite, e.g. "bookworm") with the suites that serve the orig tarball
# (unstable and testing: bookworm-security lists the tarball in its index,
# but its pool answers 404 for it). The system's apt state (/var/lib/apt,
# /var/cache/apt) is never written.
#
# Idempotent: the tarball is kept in $OIU_CACHE/downloads and re-used when its
# sha256 matches; each member is extracted once (stamp src/.extracted-MEMBER).
# MEMBER is a path inside the tarball (openmp, llvm/cmake, ...).
#
# Environment: OIU_CACHE, OIU_SOURCE_SUITES (default "unstable testing"),
# OIU_APT_URI (use this archive URI instead of deriving it).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/common.sh
. "$here/lib/common.sh"

(( $# > 0 )) || die "usage: $0 MEMBER... (e.g. openmp offload libc)"

dl_dir=$OIU_CACHE/downloads
tarball=$dl_dir/$OIU_LLVM_TARBALL
src_dir=$OIU_LLVM_DIR/src

sha_ok() { [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$OIU_LLVM_TARBALL_SHA256" ]]; }

# --- Find the main Debian archive among the machine's own apt sources --------
# Prints "URI<TAB>SIGNED-BY" of the first enabled deb/deb-src entry that serves
# suite $1 (exactly; "bookworm-security" does not count for "bookworm").
find_archive_uri() {
  local suite=$1 f files=()
  [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] && files+=("$f")
  done
  (( ${#files[@]} )) || return 1
  for f in "${files[@]}"; do
    if [[ "$f" == *.sources ]]; then
      # deb822: paragraphs of "Field: value"; continuation lines start with a blank.
      awk -v want="$suite" '
        function flush() {
          if (types ~ /(^| )deb(-src)?( |$)/ && tolower(enabled) != "no") {
            n = split(suites, s, " ")
            for (i = 1; i <= n; i++) if (s[i] == want) {
              split(uris, u, " ")
              if (u[1] != "" && u[1] !~ /^cdrom:/) {
                sb = (signedby ~ /^\//) ? signedby : ""
                printf "%s\t%s\n", u[1], sb; found = 1; exit
              }
            }
          }
          types = uris = suites = signedby = ""; enabled = "yes"; field = ""
        }
        BEGIN { enabled = "yes" }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        /^[ \t]/ { next }   # continuation (e.g. an inline key): ignore
        {
          field = tolower($0); sub(/:.*/, "", field)
          val = $0; sub(/^[^:]*:[ \t]*/, "", val); gsub(/[ \t]+/, " ", val)
          if (field == "types") types = val
          else if (field == "uris") uris = val
          else if (field == "suites") suites = val
          else if (field == "signed-by") signedby = val
          else if (field == "enabled") enabled = val
        }
        END { if (!found) flush() }
      ' "$f"
    else
      # one-line format: deb [opt=val ...] URI SUITE [COMPONENT...]
      awk -v want="$suite" '
        { sub(/#.*/, "") }
        $1 != "deb" && $1 != "deb-src" { next }
        {
          line = $0; opts = ""
          if (match(line, /\[[^]]*\]/)) {
            opts = substr(line, RSTART + 1, RLENGTH - 2)
            line = substr(line, 1, RSTART - 1) " " substr(line, RSTART + RLENGTH)
          }
          n = split(line, w, " ")
          if (n < 3 || w[3] != want || w[2] ~ /^cdrom:/) next
          sb = ""
          m = split(opts, o, " ")
          for (i = 1; i <= m; i++) if (o[i] ~ /^signed-by=\//) { sb = o[i]; sub(/^signed-by=/, "", sb) }
          printf "%s\t%s\n", w[2], sb; exit
        }
      ' "$f"
    fi
  done | head -n 1
}

# --- Fetch the tarball through the private apt configuration -----------------
fetch_tarball() {
  local codename uri signedby line suites apt_dir opts staging listed versions ver t0
  t0=$(now)
  codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
  [[ -n "$codename" ]] || codename=bookworm
  if [[ -n "${OIU_APT_URI:-}" ]]; then
    uri=$OIU_APT_URI signedby=""
  else
    line=$(find_archive_uri "$codename") ||:
    [[ -n "$line" ]] || die "no apt source serving suite '$codename' found in /etc/apt/sources.list{,.d/*.list,.d/*.sources}; set OIU_APT_URI to the Debian archive URI"
    uri=${line%%$'\t'*} signedby=${line#*$'\t'}
  fi
  suites=${OIU_SOURCE_SUITES:-unstable testing}
  say "source: deb-src from $uri (the archive serving '$codename'), suites: $suites"

  apt_dir=$OIU_CACHE/apt
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  {
    echo "# Generated by scripts/fetch-llvm-source.sh from the machine's apt sources."
    for s in $suites; do
      if [[ -n "$signedby" ]]; then
        echo "deb-src [signed-by=$signedby] $uri $s main"
      else
        echo "deb-src $uri $s main"
      fi
    done
  } >"$apt_dir/sources.list"
  opts=(-q
        -o "Dir::Etc::SourceList=$apt_dir/sources.list"
        -o "Dir::Etc::SourceParts=-"
        -o "Dir::State::Lists=$apt_dir/lists"
        -o "Dir::Cache=$apt_dir/cache"
        -o "Dir::Cache::archives=$apt_dir/cache/archives"
        -o "Dir::Cache::pkgcache=$apt_dir/cache/pkgcache.bin"
        -o "Dir::Cache::srcpkgcache=$apt_dir/cache/srcpkgcache.bin")

  say "source: updating the private source index ($apt_dir)"
  run_logged apt-private-update apt-get "${opts[@]}" update

  # The versions of the source package whose orig tarball is the one we want:
  # "VERSION SHA256" for each version that lists a file named $OIU_LLVM_TARBALL.
  listed=$(apt-cache "${opts[@]}" showsrc --only-source "$OIU_LLVM_SRCPKG" 2>/dev/null | awk \
      -v tb="$OIU_LLVM_TARBALL" '
    /^Version:/ { ver = $2; insha = 0; next }
    /^Checksums-Sha256:/ { insha = 1; next }
    /^[^ ]/ { insha = 0; next }
    insha && $3 == tb { print ver, $1 }' | sort -u) ||:
  [[ -n "$listed" ]] || die "no version of source package $OIU_LLVM_SRCPKG in suites '$suites' of $uri has $OIU_LLVM_TARBALL (see $apt_dir/sources.list)"
  versions=$(awk -v sha="$OIU_LLVM_TARBALL_SHA256" '$2 == sha { print $1 }' <<<"$listed" | sort -r -V)
  [[ -n "$versions" ]] || die "sha256 mismatch: the archive's index lists $OIU_LLVM_TARBALL with sha256 $(awk '{print $2}' <<<"$listed" | sort -u | tr '\n' ' ')but the pinned sha256 is $OIU_LLVM_TARBALL_SHA256; refusing to use it"
  say "source: versions carrying $OIU_LLVM_TARBALL: ${versions//$'\n'/ }"
  # apt-get source writes into the current directory. As root, apt downloads
  # as the unprivileged _apt user: give it a staging directory it can write.
  staging=$dl_dir/partial
  rm -rf "$staging"; mkdir -p "$staging"
  if [[ $(id -u) -eq 0 ]] && id _apt >/dev/null 2>&1; then
    chown _apt "$staging"
  fi
  for ver in $versions; do
    say "source: apt-get source --download-only --tar-only $OIU_LLVM_SRCPKG=$ver"
    if (cd "$staging" && apt-get "${opts[@]}" source --download-only --tar-only --only-source \
          "$OIU_LLVM_SRCPKG=$ver" </dev/null >"$OIU_LOG_DIR/apt-source.log" 2>&1) \
       && [[ -f "$staging/$OIU_LLVM_TARBALL" ]]; then
      break
    fi
    warn "download of $OIU_LLVM_SRCPKG=$ver failed (see $OIU_LOG_DIR/apt-source.log)"
    tail -n 5 "$OIU_LOG_DIR/apt-source.log" | sed 's/^/setup:   | /' >&2
  done
  [[ -f "$staging/$OIU_LLVM_TARBALL" ]] || die "could not download $OIU_LLVM_TARBALL from $uri"
  if ! sha_ok "$staging/$OIU_LLVM_TARBALL"; then
    mv -f "$staging/$OIU_LLVM_TARBALL" "$dl_dir/$OIU_LLVM_TARBALL.bad"
    die "sha256 mismatch for $OIU_LLVM_TARBALL: got $(sha256sum "$dl_dir/$OIU_LLVM_TARBALL.bad" | cut -d' ' -f1), expected $OIU_LLVM_TARBALL_SHA256 (file kept as $dl_dir/$OIU_LLVM_TARBALL.bad)"
  fi
  mv -f "$staging/$OIU_LLVM_TARBALL" "$tarball"
  [[ $(id -u) -eq 0 ]] && chown "$(id -u):$(id -g)" "$tarball"
  rm -rf "$staging"
  say "source: $tarball ($(stat -c %s "$tarball") bytes, sha256 OK) in $(elapsed "$t0")"
}

mkdir -p "$dl_dir" "$OIU_LOG_DIR"
if [[ -f "$tarball" ]] && sha_ok "$tarball"; then
  :
else
  [[ -f "$tarball" ]] && { warn "removing $tarball: sha256 mismatch"; rm -f "$tarball"; }
  fetch_tarball
fi

# --- Extract the requested members -------------------------------------------
pending=()
for m in "$@"; do
  m=${m%/}
  stamp=$src_dir/.extracted-${m//\//_}
  if [[ -f "$stamp" ]] && [[ "$(cat "$stamp")" == "$OIU_LLVM_TARBALL_SHA256" ]] && [[ -d "$src_dir/$m" ]]; then
    continue
  fi
  pending+=("$m")
done
if (( ${#pending[@]} == 0 )); then
  say "source: $* already extracted in $src_dir"
  exit 0
fi
t0=$(now)
say "source: extracting ${pending[*]} into $src_dir"
mkdir -p "$src_dir"
members=()
for m in "${pending[@]}"; do
  rm -rf "${src_dir:?}/$m" "$src_dir/.extracted-${m//\//_}"
  members+=("$OIU_LLVM_TARBALL_TOPDIR/$m")
done
run_logged extract tar -xJf "$tarball" -C "$src_dir" --strip-components=1 --no-same-owner "${members[@]}"
for m in "${pending[@]}"; do
  [[ -d "$src_dir/$m" ]] || die "member $m not found in $OIU_LLVM_TARBALL"
  echo "$OIU_LLVM_TARBALL_SHA256" >"$src_dir/.extracted-${m//\//_}"
done
sizes=$(cd "$src_dir" && du -sh "${pending[@]}" | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')
say "source: extracted $sizes in $(elapsed "$t0")"
