"""hlplot.py - what heaplab's matplotlib scripts share.

Not a chart: the chart scripts beside it import it (Python finds it in the
script's own folder).  It holds

  - the command line every script takes: DATA OUT.png|OUT.svg|OUT.pdf WxH
    [TRACE];
  - reading heaplab's tables: tab-separated (what `heaplab plot` hands the
    scripts) or comma-separated (heaplab's own CSVs), columns by name, rows
    whose status is not "ok" left out, empty cells as NaN; a row's series
    (its legend text) and style name are its policy unless heaplab gave
    them (the series and style columns);
  - what heaplab says about the chart besides its data (chart.tsv beside
    DATA, or in it when DATA is a folder: key<TAB>value lines): the title
    (--title), notes to print on the chart, the mean's label;
  - one style per policy - colour, marker, line dashes, bar hatching - so a
    policy looks the same in every chart and the series stay apart when
    printed in greyscale: the 12 colours are 12 grey levels apart (luma,
    0.299 R + 0.587 G + 0.114 B, at least 0.06 from each other) as well as
    12 hues, and each has its own marker shape and fill (o s ^ v p D, filled
    then hollow); chosen by the policy's position in the registry, which
    heaplab plot hands over in $HEAPLAB_POLICIES; glibc is black, the other
    baselines greys;
  - figures of exactly the requested pixel size, drawn 7 inches wide so
    that their 9-point text stays legible when scaled to an A4 text width
    (a PDF is that figure, 7 inches wide);
  - legends that never clip: right of the plot, in more columns when the
    entries do not fit its height, below it when that grows too wide, in a
    smaller font as a last resort; and the notes under the plot, wrapped.
    With HEAPLAB_PLOT_CHECK=1 in the environment a script fails when a
    legend or a note reaches outside the figure (the tests use it).

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
# the first nine are the registry's policies (first-fit, next-fit,
# best-fit, worst-fit, rbtree, tlsf, buddy, pool, pack), the rest go to
# policies added later and then to series that are not registry policies
# (plugins, mm:FILE).  Each colour is its own grey level (luma 152 184 104 120 168 72
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
        """Keyword arguments for Axes.bar: the colour, hatched in black (in
        white on the darkest colours, where black would not show)."""
        return dict(color=self.colour, hatch=self.hatch, edgecolor=self.ink(), linewidth=0.5)

    def ink(self):
        """The colour that shows on this one: black, or white on dark colours."""
        return "black" if luma(self.colour) >= DARK else "white"


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
    if os.path.splitext(a[1])[1] not in (".png", ".svg", ".pdf"):
        sys.exit("%s: the chart is written as .png, .svg or .pdf" % a[1])
    return a[0], a[1], (int(m.group(1)), int(m.group(2))), (a[3] if len(a) == 4 else None)


def read_table(path, required):
    """The rows of a heaplab table as dicts (cells as strings).  Tab- or
    comma-separated, told apart by the header line.  A row without series
    and style columns (heaplab's own CSVs) gets its policy for both."""
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
    for r in rows:
        if "policy" in r:
            r.setdefault("series", r["policy"])
            r.setdefault("style", r["policy"])
    return [r for r in rows if r.get("status", "ok") in ("ok", None)]


def chart_info(data):
    """What heaplab says about the chart besides its data: chart.tsv in
    DATA (a folder) or beside it, when there is one.  A dict: title (or
    None), notes (a list), mean_label (or None), labels (policy -> label,
    the heap map's labels.tsv)."""
    folder = data if os.path.isdir(data) else os.path.dirname(data)
    info = {"title": None, "notes": [], "mean_label": None, "labels": {}}
    path = os.path.join(folder, "chart.tsv")
    if os.path.isfile(path):
        with open(path, newline="") as f:
            for r in csv.DictReader(f, delimiter="\t"):
                if r["key"] == "note":
                    info["notes"].append(r["value"])
                elif r["key"] in ("title", "mean_label"):
                    info[r["key"]] = r["value"]
    path = os.path.join(folder, "labels.tsv")
    if os.path.isfile(path):
        with open(path, newline="") as f:
            info["labels"] = {r["policy"]: r["label"] for r in csv.DictReader(f, delimiter="\t")}
    return info


def series_styles(rows):
    """The series in order of appearance and a Style per series: the style
    of its style name (its policy, or a variant for a second series of the
    same policy)."""
    names = unique(r["series"] for r in rows)
    key = {}
    for r in rows:
        key.setdefault(r["series"], r["style"])
    by_key = styles([key[n] for n in names])
    return names, {n: by_key[key[n]] for n in names}


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
        "svg.fonttype": "none", "svg.hashsalt": "heaplab", "pdf.fonttype": 42,
    })
    # a hundredth of a pixel more: Agg truncates the size to whole pixels
    fig, axes = plt.subplots(nrows, ncols, figsize=((w + 0.01) / dpi, (h + 0.01) / dpi), dpi=dpi,
                             layout="constrained", squeeze=False, **kw)
    fig.heaplab_legends = []  # legend(): placed by place() when saved
    fig.heaplab_check = []  # what place() put in: HEAPLAB_PLOT_CHECK looks at it
    return fig, axes


def title(target, default, info):
    """The title: --title when heaplab was given one, else the chart's own.
    target: an Axes (set_title) or a Figure (suptitle)."""
    text = info["title"] if info["title"] else default
    if hasattr(target, "suptitle"):
        target.suptitle(text)
    else:
        target.set_title(text)


def legend(ax, handles=None, labels=None, title=None, below=False):
    """A legend for ax (with below, for the whole figure, under the plots),
    placed when the chart is saved (see place()): only the entries given,
    the series drawn (default: those ax draws with a label)."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.figure.heaplab_legends.append((ax, list(handles), list(labels), title, below))


def percent_axis(ax, axis="y"):
    fmt = FuncFormatter(lambda v, _: "%g%%" % round(v * 100, 6))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _wrap(text, width):
    import textwrap
    return textwrap.wrap(text, max(20, width), break_long_words=True, break_on_hyphens=False) or [""]


def _inside(fig, artist, renderer):
    bb = artist.get_window_extent(renderer)
    w, h = fig.bbox.width, fig.bbox.height
    return bb.x0 >= -1 and bb.y0 >= -1 and bb.x1 <= w + 1 and bb.y1 <= h + 1


def _notes(fig, size, notes):
    """The notes under everything, in 7-point text wrapped to the figure's
    width; the fraction of the height they take."""
    w, h = size
    dpi = w / FIG_WIDTH_IN
    note_pt = 7.0
    lines = []
    for n in notes:
        lines += _wrap("Note: " + n, int(w / (note_pt * dpi / 72 * 0.56)))
    line_px = note_pt * dpi / 72 * 1.35
    height = (len(lines) * line_px + (0.3 * line_px if lines else 0)) / h
    for i, text in enumerate(lines):
        fig.heaplab_check.append(fig.text(0.01, height - (i + 1) * line_px / h, text, fontsize=note_pt,
                                          ha="left", va="bottom", color="#222222"))
    return height


def _right(fig, size, bottom, fontsize):
    """Each legend right of its plot, in as many columns as it needs to
    fit its plot's share of the height; True when they all fit the figure
    and are no wider than 40% of it, else none is left."""
    w, h = size
    renderer = fig.canvas.get_renderer()
    specs = fig.heaplab_legends
    room = h * (1 - bottom) * 0.96 / len(specs)  # stacked panels share the height
    ncols = [1] * len(specs)
    for _ in range(5):
        made = [ax.legend(hs, ls, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, title=ttl,
                          frameon=False, handlelength=2.6, ncol=nc, fontsize=fontsize, title_fontsize=fontsize)
                for (ax, hs, ls, ttl, _), nc in zip(specs, ncols)]
        fig.canvas.draw()
        heights = [lg.get_window_extent(renderer).height for lg in made]
        grow = [i for i, (ht, spec) in enumerate(zip(heights, specs)) if ht > room and ncols[i] < len(spec[1])]
        if not grow:
            break
        for i in grow:
            ncols[i] = min(len(specs[i][1]), max(ncols[i] + 1, math.ceil(ncols[i] * heights[i] / room)))
        for lg in made:
            lg.remove()
    fits = max(lg.get_window_extent(renderer).width for lg in made) <= 0.4 * w and \
        max(heights) <= room and all(_inside(fig, lg, renderer) for lg in made)
    if fits:
        fig.heaplab_check += made
    else:
        for lg in made:
            lg.remove()
    return fits


def _below(fig, size, bottom, fontsize):
    """One legend under the plots holding every legend's entries once, in
    as many columns as fit the width; the fraction of the height it takes."""
    w, h = size
    renderer = fig.canvas.get_renderer()
    handles, labels = [], []
    for _, hs, ls, _, _ in fig.heaplab_legends:
        for hd, lb in zip(hs, ls):
            if lb not in labels:
                handles.append(hd)
                labels.append(lb)
    ncol = len(labels)
    while True:
        lg = fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, bottom), frameon=False,
                        handlelength=2.4, ncol=ncol, fontsize=fontsize, columnspacing=1.2,
                        bbox_transform=fig.transFigure)
        fig.canvas.draw()
        bb = lg.get_window_extent(renderer)
        if bb.width <= w * 0.98 or ncol == 1:
            return lg, bb.height / h
        lg.remove()
        ncol = max(1, min(ncol - 1, int(ncol * w * 0.98 / bb.width)))


def place(fig, size, notes=()):
    """Put the legends and the notes in place so that none clips: a legend
    right of its plot, in as many columns as its entries need to fit the
    plot's height; when that is wider than 40% of the figure (or the chart
    asked for it), one legend below the plots (every legend's entries,
    once each) in as many columns as fit the width; when even that is
    taller than a third of the figure, all of it again in a smaller font.
    The notes go under everything."""
    bottom = _notes(fig, size, notes)
    engine = fig.get_layout_engine()
    engine.set(rect=(0, bottom, 1, 1 - bottom))
    if not fig.heaplab_legends:
        return
    below = any(spec[4] for spec in fig.heaplab_legends)
    for fontsize in (8, 7, 6):
        if not below and _right(fig, size, bottom, fontsize):
            return
        lg, height = _below(fig, size, bottom, fontsize)
        if height <= 1 / 3 or fontsize == 6:
            engine.set(rect=(0, bottom + height + 0.01, 1, 1 - bottom - height - 0.01))
            fig.heaplab_check.append(lg)
            return
        lg.remove()


def check(fig):
    """With HEAPLAB_PLOT_CHECK=1: fail when a legend or a note reaches
    outside the figure (what place() promises)."""
    if os.environ.get("HEAPLAB_PLOT_CHECK") != "1":
        return
    renderer = fig.canvas.get_renderer()
    for a in fig.heaplab_check:
        if not _inside(fig, a, renderer):
            sys.exit("HEAPLAB_PLOT_CHECK: %s reaches outside the figure: %s"
                     % (type(a).__name__, a.get_window_extent(renderer)))


def save(fig, out, size, info=None):
    """Place the legends and notes (place()), and write the chart; an SVG
    says its pixel size in its width and height."""
    w, h = size
    dpi = w / FIG_WIDTH_IN
    place(fig, size, info["notes"] if info else ())
    if out.endswith(".svg"):
        import io
        buf = io.StringIO()
        fig.savefig(buf, format="svg", dpi=dpi, metadata={"Date": None})
        text = re.sub(r'(<svg[^>]*?)width="[^"]*" height="[^"]*"',
                      r'\1width="%d" height="%d"' % (w, h), buf.getvalue(), count=1)
        with open(out, "w") as f:
            f.write(text)
    elif out.endswith(".pdf"):
        fig.savefig(out, format="pdf", dpi=dpi, metadata={"CreationDate": None})
    else:
        fig.savefig(out, dpi=dpi, metadata={"Software": None}, pil_kwargs={"optimize": True})
    check(fig)
    plt.close(fig)


if __name__ == "__main__":
    main()
