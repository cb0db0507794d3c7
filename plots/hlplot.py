"""hlplot.py - what heaplab's matplotlib scripts share.

Not a chart: the chart scripts beside it import it (Python finds it in the
script's own folder).  It holds

  - the command line every script takes: DATA OUT.png|OUT.svg WxH [TRACE];
  - reading heaplab's tables: tab-separated (what `heaplab plot` hands the
    scripts) or comma-separated (heaplab's own CSVs), columns by name, rows
    whose status is not "ok" left out, empty cells as NaN;
  - one style per policy - colour, marker, line dashes, bar hatching - so a
    policy looks the same in every chart and the series stay apart when
    printed in greyscale: the 12 colours are 12 grey levels apart (luma,
    0.299 R + 0.587 G + 0.114 B, at least 0.06 from each other) as well as
    12 hues, and each has its own marker shape and fill (o s ^ v p D, filled
    then hollow); chosen by the policy's position in the registry, which
    heaplab plot hands over in $HEAPLAB_POLICIES; glibc is black, the other
    baselines greys;
  - figures of exactly the requested pixel size, drawn 7 inches wide so
    that their 9-point text stays legible when scaled to an A4 text width.

The gnuplot scripts keep the same styles in heaplab.gp.
"""

import csv
import math
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
from matplotlib.ticker import FuncFormatter  # noqa: E402

FIG_WIDTH_IN = 7.0

# colour, marker, filled, dashes, hatch: a style per registry position -
# the first eight are the registry's policies (first-fit, next-fit,
# best-fit, worst-fit, rbtree, tlsf, buddy, pool), the rest go to policies
# added later and then to series that are not registry policies (plugins,
# mm:FILE).  Each colour is its own grey level (luma 152 184 104 120 168 72
# 40 136 24 88 200 56 of 255: 16 apart at least) and its own marker (shape
# and fill).  heaplab.gp has the same table with gnuplot's point types
# (o s ^ v D p filled: 7 5 9 11 13 15, hollow one less; x + *: 2 1 3),
# dash types (DASHES: 1-4) and fill patterns (HATCHES: 0 1 2 4 5 6 7).
PALETTE = [
    ("#F48600", "o", True, "-", "//"),
    ("#82C9ED", "s", True, "--", "\\\\"),
    ("#009D68", "^", True, "-", "\\\\\\\\"),
    ("#FC4C00", "v", True, "-.", "////"),
    ("#E187BC", "p", True, "--", "xx"),
    ("#005C9E", "D", True, "-", "xxxx"),
    ("#521131", "o", False, ":", "//"),
    ("#959232", "s", False, "--", ""),
    ("#250942", "^", False, "-.", "//"),
    ("#1C726F", "v", False, ":", "\\\\"),
    ("#E2CA78", "p", False, "--", "xx"),
    ("#115021", "D", False, "-.", ""),
]
# the baselines: glibc black, the others greys in order of appearance
GREYS = [
    ("#000000", "x", True, ":", ""),
    ("#444444", "+", True, "-.", "\\\\"),
    ("#777777", "^", False, ":", "xx"),
    ("#AAAAAA", "D", False, "-.", "xxxx"),
]
DASHES = ["-", "--", ":", "-."]
HATCHES = ["", "xx", "xxxx", "\\\\", "//", "\\\\\\\\", "////"]
# every style, for series that are not policies (traces)
SEQUENCE = PALETTE + GREYS


# a colour darker than this (luma) gets white hatching and text, not black
DARK = 0.3


def luma(colour):
    """A colour's grey level when printed in greyscale (Rec. 601 luma, 0-1)."""
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b


class Style:
    def __init__(self, colour, marker, filled, dashes, hatch):
        self.colour, self.marker, self.filled = colour, marker, filled
        self.dashes, self.hatch = dashes, hatch

    def astuple(self):
        return (self.colour, self.marker, self.filled, self.dashes, self.hatch)

    def variant(self, k, hatch=True):
        """The k-th variant of this style (k >= 1): the same colour and
        marker shape, the marker's fill flipped, the dashes (and, with
        hatch, the hatching) k steps on."""
        return Style(self.colour, self.marker, not self.filled,
                     DASHES[(DASHES.index(self.dashes) + k) % len(DASHES)],
                     HATCHES[(HATCHES.index(self.hatch) + k) % len(HATCHES)] if hatch else self.hatch)

    def line(self):
        """Keyword arguments for Axes.plot and Axes.errorbar."""
        return dict(color=self.colour, linestyle=self.dashes, marker=self.marker, markersize=5,
                    markerfacecolor=self.colour if self.filled else "white",
                    markeredgecolor=self.colour, linewidth=1.4)

    def bar(self):
        """Keyword arguments for Axes.bar: the colour, hatched in black."""
        return dict(color=self.colour, hatch=self.hatch, edgecolor="black", linewidth=0.5)


def registry():
    """The registry's policy names in registry order: $HEAPLAB_POLICIES,
    which heaplab plot sets (by hand: HEAPLAB_POLICIES="$(heaplab policies)").
    Without it every series is styled in order of appearance."""
    return os.environ.get("HEAPLAB_POLICIES", "").split()


def position_style(i):
    """The style of position i (0-based): the registry's policies, then
    the series after them.  Past the palette the styles come round again
    with the fill flipped and the dashes one step on."""
    s = Style(*PALETTE[i % len(PALETTE)])
    g = i // len(PALETTE)
    return s.variant(g, hatch=False) if g else s


def styles(names):
    """A Style per name.  A registry policy gets the style of its registry
    position; a variant of it ("tlsf:sl=4" after "tlsf" or another tlsf
    variant) that style's next variant (same colour and marker shape, other
    fill, dashes and hatching).  glibc is black, the other baselines greys.
    Any other name (a plugin, mm:FILE) gets the next style after the
    registry's, in order of appearance."""
    reg = {n: i for i, n in enumerate(registry())}
    out, variants, others, greys = {}, {}, 0, 0
    for n in names:
        if n in out:
            continue
        if n.startswith("baseline:"):
            if n == "baseline:glibc":
                out[n] = Style(*GREYS[0])
            else:
                out[n] = Style(*GREYS[1 + greys % (len(GREYS) - 1)])
                greys += 1
            continue
        base = n.split(":", 1)[0]
        if base in reg:
            k = variants.get(base, 0)
            variants[base] = k + 1
            s = position_style(reg[base])
            out[n] = s.variant(k) if k else s
        else:
            out[n] = position_style(len(reg) + others)
            others += 1
    return out


def sequence(names):
    """A Style per name, one after the other (for traces)."""
    return {n: Style(*SEQUENCE[i % len(SEQUENCE)]) for i, n in enumerate(names)}


def usage(doc):
    sys.stderr.write(doc.strip().splitlines()[0] + "\n")
    sys.exit(2)


def arguments(doc):
    """DATA, OUT, (width, height), TRACE or None from sys.argv."""
    a = sys.argv[1:]
    if len(a) not in (3, 4):
        usage(doc)
    m = re.fullmatch(r"(\d+)[xX](\d+)", a[2])
    if not m:
        usage(doc)
    if os.path.splitext(a[1])[1] not in (".png", ".svg"):
        sys.exit("%s: the chart is written as .png or .svg" % a[1])
    return a[0], a[1], (int(m.group(1)), int(m.group(2))), (a[3] if len(a) == 4 else None)


def read_table(path, required):
    """The rows of a heaplab table as dicts (cells as strings).  Tab- or
    comma-separated, told apart by the header line."""
    try:
        f = open(path, newline="")
    except OSError as e:
        sys.exit("%s: cannot open: %s" % (path, e.strerror))
    with f:
        head = f.readline()
        f.seek(0)
        rows = list(csv.DictReader(f, delimiter="\t" if "\t" in head else ","))
    if not rows:
        sys.exit("%s: no rows" % path)
    missing = [c for c in required if c not in rows[0]]
    if missing:
        sys.exit("%s: missing column %s" % (path, missing[0]))
    return [r for r in rows if r.get("status", "ok") in ("ok", None)]


def num(s):
    """A cell as a float; NaN when empty (not available)."""
    try:
        return float(s)
    except (TypeError, ValueError):
        return math.nan


def unique(values):
    """The distinct values in order of first appearance."""
    seen, out = set(), []
    for v in values:
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


def one_trace(rows, trace):
    """The rows of `trace` (default: the first trace in the rows)."""
    if trace is None:
        trace = rows[0]["trace"]
    picked = [r for r in rows if r["trace"] == trace]
    if not picked:
        sys.exit("no rows for trace %s" % trace)
    return trace, picked


def short(trace):
    """A trace as a reader wants to see it: its file name."""
    return os.path.basename(trace)


def byte_unit(largest):
    """(divisor, name) that keeps the largest value between 1 and 2048."""
    for div, name in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if largest >= 2 * div:
            return div, name
    return 1, "bytes"


def main():
    """python3 plots/hlplot.py NAME...: each name's style as the charts draw
    it, a line each (name, colour, marker, filled, dashes, hatch, luma;
    tab-separated), for checking them."""
    for n, s in styles(sys.argv[1:]).items():
        print("\t".join([n] + [str(v) for v in s.astuple()] + ["%.4f" % luma(s.colour)]))


def figure(size, nrows=1, ncols=1, **kw):
    """A figure of exactly size = (width, height) pixels and its axes."""
    w, h = size
    dpi = w / FIG_WIDTH_IN
    plt.rcParams.update({
        "font.size": 9, "axes.titlesize": 10, "figure.titlesize": 11, "legend.fontsize": 8,
        "axes.labelsize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8, "hatch.linewidth": 0.6,
        "axes.grid": True, "grid.color": "#DDDDDD", "grid.linewidth": 0.6, "axes.axisbelow": True,
        "svg.fonttype": "none", "svg.hashsalt": "heaplab",
    })
    # a hundredth of a pixel more: Agg truncates the size to whole pixels
    fig, axes = plt.subplots(nrows, ncols, figsize=((w + 0.01) / dpi, (h + 0.01) / dpi), dpi=dpi,
                             layout="constrained", squeeze=False, **kw)
    return fig, axes


def legend_right(ax_or_fig, handles=None, labels=None, title=None):
    """The legend outside the data, to the right of the axes."""
    kw = dict(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, title=title,
              frameon=False, handlelength=2.6)
    if handles is not None:
        return ax_or_fig.legend(handles, labels, **kw)
    return ax_or_fig.legend(**kw)


def percent_axis(ax, axis="y"):
    fmt = FuncFormatter(lambda v, _: "%g%%" % round(v * 100, 6))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def save(fig, out, size):
    """Write the chart; an SVG says its pixel size in its width and height."""
    w, h = size
    dpi = w / FIG_WIDTH_IN
    if out.endswith(".svg"):
        import io
        buf = io.StringIO()
        fig.savefig(buf, format="svg", dpi=dpi, metadata={"Date": None})
        text = re.sub(r'(<svg[^>]*?)width="[^"]*" height="[^"]*"',
                      r'\1width="%d" height="%d"' % (w, h), buf.getvalue(), count=1)
        with open(out, "w") as f:
            f.write(text)
    else:
        fig.savefig(out, dpi=dpi, metadata={"Software": None}, pil_kwargs={"optimize": True})
    plt.close(fig)


if __name__ == "__main__":
    main()
