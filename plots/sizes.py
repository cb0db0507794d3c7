"""usage: python3 plots/sizes.py DATA OUT.png|OUT.svg|OUT.pdf WxH

Request sizes of one or more traces: a histogram with a bin per power of
two (left) and the cumulative distribution (right), sizes on a log scale.
Zero-byte requests have no place on a log scale and are not drawn.
DATA: trace, size, count rows - what `heaplab plot sizes TRACE.rep...`
extracts from the traces (--keep-data keeps it), and series: a trace's
legend text (its file name, or what --label made it).
Usually run as: heaplab plot sizes TRACE.rep... -o sizes.png
"""
import math

import hlplot as hp


def size_label(v):
    """16, 256, 4K, 1M: powers of two as allocator people write them."""
    for div, suffix in ((1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")):
        if v >= div:
            return "%d%s" % (v // div, suffix)
    return "%d" % v


def main():
    data, out, size, _ = hp.arguments(__doc__)
    info = hp.chart_info(data)
    rows = [r for r in hp.read_table(data, ["trace", "size", "count"]) if hp.num(r["size"]) >= 1]
    if not rows:
        raise SystemExit("%s: no request of 1 byte or more" % data)
    traces = hp.unique(r["trace"] for r in rows)
    style = hp.sequence(traces)
    label = {r["trace"]: r.get("series") or hp.short(r["trace"]) for r in rows}
    top = max(hp.num(r["size"]) for r in rows)
    edges = [2.0 ** k for k in range(0, int(math.log2(top)) + 2)]

    fig, axes = hp.figure(size, 1, 2)
    hist, cdf = axes[0][0], axes[0][1]
    for t in traces:
        pts = sorted((hp.num(r["size"]), hp.num(r["count"])) for r in rows if r["trace"] == t)
        total = sum(c for _, c in pts)
        s = style[t]
        if len(traces) == 1:
            hist.hist([v for v, _ in pts], bins=edges, weights=[c for _, c in pts], color=s.colour,
                      hatch=s.hatch, edgecolor=s.ink(), linewidth=0.5, label=label[t])
        else:
            hist.hist([v for v, _ in pts], bins=edges, weights=[c for _, c in pts], histtype="step",
                      color=s.colour, linestyle=s.dashes, linewidth=1.6, label=label[t])
        xs, ys, run = [], [], 0
        for v, c in pts:
            run += c
            xs.append(v)
            ys.append(run / total)
        line = s.line()
        line["markevery"] = max(1, len(xs) // 8) if len(xs) > 16 else 1
        cdf.step(xs, ys, where="post", label=label[t], **line)
    ticks = [2.0 ** k for k in range(0, len(edges), 4 if len(edges) > 17 else 2)]
    for ax in (hist, cdf):
        ax.set_xscale("log", base=2)
        ax.set_xlim(1, edges[-1])
        ax.set_xticks(ticks)
        ax.set_xticklabels([size_label(t) for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("request size (bytes; K = 1024)")
    hist.set_ylabel("requests per power-of-two bin")
    hist.set_title("Histogram")
    cdf.set_ylim(0, 1.02)
    hp.percent_axis(cdf)
    cdf.set_ylabel("requests of this size or smaller")
    cdf.set_title("Cumulative distribution")
    hp.title(fig, "Request sizes (malloc, calloc, memalign, realloc)", info)
    hp.legend(cdf, title="trace")
    hp.save(fig, out, size, info)


if __name__ == "__main__":
    main()
