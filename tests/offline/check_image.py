#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks the linked AMDGPU code objects of an OpenMP offload program: every
C stdio function its device code calls must resolve to the device library's
definition (device-rtl/), not to LLVM DeviceRTL's AMDGPU stubs (vprintf
returns -1 and prints nothing; its printf calls that vprintf).

  check_image.py --tools DIR --ours DIR --archs gfx90a,gfx942
                 [--expect-stub NAME,...] EXE OBJECT...

What the program calls comes from its own objects: each holds the device
bitcode of every arch, whose undefined symbols are the functions it needs.
What they resolved to comes from the linked image of each arch (extracted
from EXE): after device LTO the functions are inlined, but the image's DWARF
still names each inlined or out-of-line function and the file it was
declared in. A stdio function counts as ours when code of a function of that
name declared under --ours is in the image. Also checked: an image of every
arch is present, and no symbol is left undefined for the HSA loader.

--expect-stub: the program is known to use the stubs for exactly these
names; pass only if the check finds exactly those (shows it can fail).
Exit 0 pass, 1 fail, 77 skipped (LLVM tools missing).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

TRIPLE = "amdgcn-amd-amdhsa"
# The C stdio and POSIX I/O functions a target region may call (and the
# device library's names for vprintf/vfprintf). Besides DeviceRTL's stubs, a
# GPU libc linked in (LLVM's has printf, fopen, fwrite, ... over RPC) would
# show here as code declared elsewhere.
STDIO = set("""printf fprintf vprintf vfprintf __oiu_vprintf __oiu_vfprintf
puts fputs fputc putc putchar fwrite fflush setvbuf setbuf fread fgets fgetc
getc getchar ungetc fopen fdopen freopen fclose fseek fseeko ftell ftello
rewind fgetpos fsetpos feof ferror clearerr fileno perror remove rename
tmpfile scanf fscanf sscanf vscanf vfscanf vsscanf snprintf vsnprintf sprintf
vsprintf dprintf vdprintf getline getdelim
open close read write pread pwrite lseek fsync fdatasync unlink mkdir rmdir
stat fstat lstat creat openat fopen64 freopen64 fseeko64 ftello64 open64
lseek64 pread64 pwrite64 stat64 fstat64 lstat64""".split())


def run(tool, *args):
    r = subprocess.run([tool, *args], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{os.path.basename(tool)} {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def extract(tools, path, arch, out):
    """The arch's embedded offload image of path (object: bitcode; executable: code object)."""
    if os.path.exists(out):
        os.unlink(out)
    run(tools["llvm-offload-binary"], path, f"--image=file={out},triple={TRIPLE},arch={arch}")
    return os.path.exists(out) and os.path.getsize(out) > 0


def called(tools, objects, arch, tmp):
    """stdio functions the device code of the objects calls, for arch."""
    names = set()
    for i, obj in enumerate(objects):
        bc = os.path.join(tmp, f"obj{i}.{arch}.bc")
        if not extract(tools, obj, arch, bc):
            continue  # no device code for this arch in that object
        for line in run(tools["llvm-nm"], "--undefined-only", bc).splitlines():
            name = line.split()[-1]
            if name in STDIO:
                names.add(name)
    return names


DIE = re.compile(r"^(0x[0-9a-f]+):\s+(DW_TAG_\w+)")
ATTR = re.compile(r"^\s+(DW_AT_\w+)\s+\((.*)\)\s*$")


def definitions(tools, image, ours):
    """Names of stdio functions whose code, declared under ours, is in the image;
    and the files every other stdio function with code there was declared in."""
    text = run(tools["llvm-dwarfdump"], "--debug-info", image)
    dies, cur = {}, None
    for line in text.splitlines():
        m = DIE.match(line)
        if m:
            cur = dies.setdefault(int(m.group(1), 16), {"tag": m.group(2)})
            continue
        m = ATTR.match(line)
        if m and cur is not None:
            cur.setdefault(m.group(1), m.group(2))
    if not dies:
        return None, None

    def origin(d):  # the declaration a concrete DIE stands for
        for key in ("DW_AT_abstract_origin", "DW_AT_specification"):
            if key in d:
                return dies.get(int(d[key].split()[0], 16), {})
        return d

    ok, other = set(), {}
    for d in dies.values():
        if d["tag"] not in ("DW_TAG_subprogram", "DW_TAG_inlined_subroutine"):
            continue
        if d["tag"] == "DW_TAG_subprogram" and "DW_AT_low_pc" not in d and "DW_AT_ranges" not in d:
            continue  # a declaration or abstract instance: no code of its own
        o = origin(d)
        name = o.get("DW_AT_name", d.get("DW_AT_name", "")).strip('"')
        if name not in STDIO:
            continue
        decl = o.get("DW_AT_decl_file", d.get("DW_AT_decl_file", "")).strip('()"')
        if decl.startswith(ours.rstrip("/") + "/"):
            ok.add(name)
        else:
            other.setdefault(name, decl or "?")
    return ok, other


def undefined_dynamic(tools, image):
    out = run(tools["llvm-readelf"], "--dyn-syms", "--wide", image)
    und = []
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 8 and f[6] == "UND" and f[7:]:
            und.append(f[7])
    return und


def check_arch(tools, args, arch, tmp):
    """Problems of one arch's image: {name: why} for stdio names, plus general ones."""
    image = os.path.join(tmp, f"image.{arch}.elf")
    if not extract(tools, args.exe, arch, image):
        return {}, [f"no {arch} image in {args.exe}"], set()
    general = [f"{s} is undefined (left to the HSA loader, which will refuse the image)"
               for s in undefined_dynamic(tools, image)]
    need = called(tools, args.objects, arch, tmp)
    if not need:
        general.append(f"its objects call no stdio function for {arch}: nothing was checked")
    ok, other = definitions(tools, image, args.ours)
    if ok is None:
        return {}, general + ["the image has no DWARF: build with -g (RelWithDebInfo)"], need
    bad = {}
    for n in sorted(need - ok):
        if n in other:
            bad[n] = f"resolves to code declared in {other[n]}"
        elif n == "vprintf" or n == "vfprintf":
            bad[n] = ("resolves to LLVM DeviceRTL's stub (no debug info, prints nothing): "
                      "compile with -include omp_iouring/device_names.h")
        else:
            bad[n] = "no code of the device library's definition in the image (DeviceRTL stub?)"
    return bad, general, need


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tools", required=True, help="directory of llvm-offload-binary, llvm-nm, ...")
    ap.add_argument("--ours", required=True, help="source directory of the device library")
    ap.add_argument("--archs", required=True, help="comma-separated AMDGPU archs the image must hold")
    ap.add_argument("--expect-stub", default="", help="names known to resolve to stubs")
    ap.add_argument("exe")
    ap.add_argument("objects", nargs="+")
    args = ap.parse_args()
    tools = {t: os.path.join(args.tools, t)
             for t in ("llvm-offload-binary", "llvm-nm", "llvm-dwarfdump", "llvm-readelf")}
    missing = [p for p in tools.values() if not os.access(p, os.X_OK)]
    if missing:
        print(f"SKIP: no {', '.join(missing)} (the LLVM 22 tools inspect the image)")
        return 77
    expect = set(filter(None, args.expect_stub.split(",")))
    failed = False
    name = os.path.basename(args.exe)
    with tempfile.TemporaryDirectory(prefix="oiu-image.") as tmp:
        for arch in args.archs.split(","):
            bad, general, need = check_arch(tools, args, arch, tmp)
            for g in general:
                print(f"{name} {arch}: FAIL: {g}")
            for n, why in bad.items():
                print(f"{name} {arch}: {'stub (expected)' if n in expect else 'FAIL'}: {n} {why}")
            good = sorted(need - set(bad))
            if good:
                print(f"{name} {arch}: ours: {' '.join(good)}")
            if general or set(bad) != expect:
                failed = True
                if expect and set(bad) != expect:
                    print(f"{name} {arch}: FAIL: expected stubs for {sorted(expect)}, found {sorted(bad)}")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
