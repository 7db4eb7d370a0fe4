#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Registers per thread of every kernel in a program's sm_XX image (.nv.info
REGCOUNT), which the device library's hungriest reachable function sets.

    check_registers.py --tools DIR --arch sm_90 --max N [--over] PROGRAM
Exit 0 when every kernel has at most N (or, with --over, when one has more:
the control built without the cap shows the check can fail)."""
import argparse
import os
import struct
import subprocess
import sys
import tempfile


def regcounts(image):
    data = open(image, "rb").read()
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]

    def name(table, off):
        return data[table + off:data.index(b"\0", table + off)].decode()

    strs = secs[shstrndx][4]
    symtab = next(s for s in secs if s[1] == 2)
    symstr = secs[symtab[6]][4]
    syms = [name(symstr, struct.unpack_from("<I", data, symtab[4] + i * 24)[0])
            for i in range(symtab[5] // 24)]
    out = {}
    for s in secs:
        if name(strs, s[0]) != ".nv.info":
            continue
        p, end = s[4], s[4] + s[5]
        while p < end:
            fmt, attr = data[p], data[p + 1]
            if fmt == 4:  # EIFMT_SVAL: 16-bit size, then the value
                size = struct.unpack_from("<H", data, p + 2)[0]
                if attr == 0x2F:  # EIATTR_REGCOUNT: symbol index, registers
                    sym, regs = struct.unpack_from("<II", data, p + 4)
                    out[syms[sym]] = regs
                p += 4 + size
            elif fmt in (2, 3):
                p += 4
            elif fmt == 1:
                p += 2
            else:
                break
    return {k: v for k, v in out.items() if k.startswith("__omp_offloading")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tools", required=True)
    ap.add_argument("--arch", required=True)
    ap.add_argument("--max", type=int, required=True)
    ap.add_argument("--over", action="store_true")
    ap.add_argument("program")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, "image")
        subprocess.run([os.path.join(a.tools, "llvm-offload-binary"), a.program,
                        f"--image=file={image},triple=nvptx64-nvidia-cuda,arch={a.arch}"], check=True)
        kernels = regcounts(image)
    if not kernels:
        print("no kernels found")
        return 1
    top = max(kernels.values())
    for k, v in sorted(kernels.items(), key=lambda kv: -kv[1]):
        print(f"{v:4d} {k}")
    print(f"{os.path.basename(a.program)}: {len(kernels)} kernels, most registers {top} (limit {a.max})")
    return 0 if (top > a.max) == a.over else 1


if __name__ == "__main__":
    sys.exit(main())
