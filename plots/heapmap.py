"""usage: python3 plots/heapmap.py DATA OUT.png|OUT.svg|OUT.pdf WxH [TRACE]

Heap map of one trace, a panel per policy: address (x, proportional to
bytes, the same scale in every panel) against time (y, operations, going
down).  A cell that holds at least one byte of a block in use and at least
one byte of a free block (a header counts with its block; mapped blocks
take no part) is mixed: there the heap has small blocks between free ones.
A malloc-lab solution's bytes between payloads are unknown (its headers,
footers, padding or free blocks: heaplab cannot tell which), never free: a
cell with bytes in use and unknown bytes is payload + unknown, never mixed.
Any other cell shows the state holding most of its bytes: payload in use,
headers (and bookkeeping), free, mapped (the mmapped blocks, laid out after
the heap's end), unknown, or beyond the heap; unknown and payload + unknown
are in the legend only when drawn, and a solution's panel gets a note
(chart.tsv).  The axes show the offsets and the
operations drawn (heaplab plot heapmap --addr LO:HI --ops LO:HI zooms).
DATA: a folder with panels.tsv and raster.txt, the raster heaplab makes
from replay --heapmap's CSV (heaplab plot heapmap --keep-data DATA ...),
with labels.tsv (a panel's title: --label) and chart.tsv (--title) when
heaplab wrote them; TRACE: only for the title.
Usually run as: heaplab plot heapmap heapmap.csv -o heapmap.png
"""
import os

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

import hlplot as hp

# raster.txt's digits: empty (beyond the heap), payload in use, header,
# free, mapped, mixed, unknown, payload + unknown: eight grey levels apart
# (white, 0.91, 0.84, 0.74, 0.64, 0.48, 0.34, black) as well as hues (light
# grey for unknown, a paler payload blue for payload + unknown)
STATES = [("beyond the heap", "#FFFFFF"), ("in use (payload)", "#0072B2"), ("headers", "#000000"),
          ("free", "#E69F00"), ("mapped (mmap)", "#F0E442"), ("mixed (used + free)", "#B5589A"),
          ("unknown (not a payload)", "#E8E8E8"), ("payload + unknown", "#9DC3E6")]
# the legend's order; the unknown states (6, 7) only when a panel has them
LEGEND = [1, 7, 6, 2, 3, 5, 4, 0]
DRAWN_ONLY = {6: "unknown_cells", 7: "payload_unknown_cells"}


def read_raster(path):
    blocks, cur = [], []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("#"):
                continue
            if not line:
                if cur:
                    blocks.append(cur)
                    cur = []
                continue
            cur.append(line.split())
    if cur:
        blocks.append(cur)
    return [np.array(b, dtype=np.uint8) for b in blocks]


def main():
    data, out, size, trace = hp.arguments(__doc__)
    info = hp.chart_info(data)
    panels = hp.read_table(os.path.join(data, "panels.tsv"),
                           ["policy", "op_first", "op_last", "rows", "cols", "offset_first", "bytes",
                            "bytes_per_col"] + list(DRAWN_ONLY.values()))
    rasters = read_raster(os.path.join(data, "raster.txt"))
    if len(rasters) != len(panels):
        raise SystemExit("%s: %d rasters for %d panels" % (data, len(rasters), len(panels)))
    n = len(panels)
    ncols = n if n <= 4 else (n + 1) // 2
    nrows = (n + ncols - 1) // ncols
    first, total = hp.num(panels[0]["offset_first"]), hp.num(panels[0]["bytes"])
    div, unit = hp.byte_unit(total)
    cmap = ListedColormap([c for _, c in STATES])

    fig, axes = hp.figure(size, nrows, ncols, sharex=True, sharey=True)
    for i in range(nrows * ncols):
        ax = axes[i // ncols][i % ncols]
        if i >= n:
            ax.set_visible(False)
            continue
        p, img = panels[i], rasters[i]
        y0, y1 = hp.num(p["op_first"]), hp.num(p["op_last"])
        step = (y1 - y0) / (len(img) - 1) if len(img) > 1 else 1.0
        width = hp.num(p["bytes_per_col"]) * img.shape[1]
        ax.imshow(img, cmap=cmap, vmin=-0.5, vmax=len(STATES) - 0.5, interpolation="nearest", aspect="auto",
                  extent=(first / div, (first + width) / div, y1 + step / 2, y0 - step / 2))
        ax.set_xlim(first / div, (first + total) / div)
        ax.ticklabel_format(axis="x", style="plain", useOffset=False)
        ax.grid(False)
        ax.set_title(info["labels"].get(p["policy"], p["policy"]), fontsize=9)
        if i // ncols == nrows - 1 or i + ncols >= n:
            ax.set_xlabel("address (%s)" % unit)
        if i % ncols == 0:
            ax.set_ylabel("operations (time runs down)")
        ax.ticklabel_format(axis="y", style="plain")
    title = "Heap map"
    if trace:
        title += ": %s" % hp.short(trace)
    hp.title(fig, title, info)
    shown = [i for i in LEGEND if i not in DRAWN_ONLY or any(hp.num(p[DRAWN_ONLY[i]]) > 0 for p in panels)]
    handles = [Patch(facecolor=STATES[i][1], edgecolor="black", linewidth=0.5, label=STATES[i][0]) for i in shown]
    hp.legend(axes[0][0], handles, [h.get_label() for h in handles], below=True)
    hp.save(fig, out, size, info)


if __name__ == "__main__":
    main()
