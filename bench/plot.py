#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Draws the README's benchmark chart from bench/run.sh's CSV.

    bench/plot.py bench.csv docs/bench.png [--title "H200, driver 580"]

Left: printf lines/s against threads (48-byte lines to a file). Right: MB/s at
the largest thread count for every sink and line size. Rows that timed out,
failed or lost lines are drawn hollow / marked, never as if they succeeded.
Needs Debian's python3-matplotlib.
"""
import argparse
import csv
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path):
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r["kind"] == "printf"]


def good(r):
    return r["status"] == "ok" and r["lines_per_s"] and r["lost"] in ("", "0")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("png")
    ap.add_argument("--title", default="omp-iouring printf benchmark")
    a = ap.parse_args()
    rows = load(a.csv)
    configs = list(dict.fromkeys(r["config"] for r in rows))
    colors = {c: plt.cm.tab10(i) for i, c in enumerate(configs)}
    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 6))

    for c in configs:
        pts = sorted((int(r["threads"]), float(r["lines_per_s"]), good(r))
                     for r in rows if r["config"] == c and r["sink"] == "file"
                     and r["bytes"] == "48" and r["lines_per_s"])
        if not pts:
            continue
        left.plot([p[0] for p in pts], [p[1] for p in pts], "-", color=colors[c], label=c)
        for x, y, ok in pts:
            left.plot(x, y, "o", color=colors[c], fillstyle="full" if ok else "none")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("device threads printing at once")
    left.set_ylabel("lines/s (48-byte lines to a file)")
    left.set_title("Scaling (hollow: lines lost or run incomplete)")
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)

    # The sink rows' thread count: the one with rows for the most sinks and sizes.
    combos = defaultdict(set)
    for r in rows:
        combos[int(r["threads"])].add((r["sink"], r["bytes"]))
    top = max(combos, key=lambda t: (len(combos[t]), t))
    groups = [(s, b) for b in ("48", "200") for s in ("devnull", "file", "pipe")]
    by = defaultdict(dict)
    for r in rows:
        if int(r["threads"]) == top and r["MB_per_s"]:
            by[(r["sink"], r["bytes"])][r["config"]] = r
    width = 0.8 / max(1, len(configs))
    for i, c in enumerate(configs):
        xs, ys, marks = [], [], []
        for g, key in enumerate(groups):
            r = by[key].get(c)
            if r:
                xs.append(g + i * width)
                ys.append(float(r["MB_per_s"]))
                marks.append(good(r) or r["sink"] == "devnull" and r["status"] == "ok")
        bars = right.bar(xs, ys, width, color=colors[c], label=c)
        for bar, ok in zip(bars, marks):
            if not ok:
                bar.set_hatch("//")
                bar.set_alpha(0.5)
    right.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))])
    right.set_xticklabels([f"{s}\n{b}-byte" for s, b in groups])
    right.set_yscale("log")
    right.set_ylabel("MB/s")
    right.set_title(f"{top:,} threads (hatched: lines lost or run incomplete)")
    right.grid(True, axis="y", which="both", alpha=0.3)
    fig.suptitle(a.title)
    fig.tight_layout()
    fig.savefig(a.png, dpi=110)
    drawn = sum(1 for key in groups if by[key])
    print(f"plot: {len(configs)} configurations; sinks at {top} threads, {drawn} of {len(groups)} "
          f"sink/size groups drawn; {a.png}")


if __name__ == "__main__":
    main()
