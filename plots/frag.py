"""usage: python3 plots/frag.py DATA OUT.png|OUT.svg|OUT.pdf WxH [TRACE]

Fragmentation over time for one trace, a line per series: internal
fragmentation ((block bytes - requested bytes) / block bytes) above,
external fragmentation (1 - largest free block / free bytes) below.
A panel draws a series only where it has values, and its legend names only
the series it draws (one legend for both panels when they draw the same).
heaplab leaves out the rows of mm:FILE series - it does not know a
solution's block layout, so it has no fragmentation figure for it - and
says so in a note on the chart (chart.tsv beside DATA).
DATA: heaplab replay --timeline's CSV (trace, policy, op, internal_frag,
external_frag; heaplab plot adds series and style); TRACE: the trace to
draw, default the first in DATA.
Usually run as: heaplab plot frag timeline.csv -o frag.png
"""
import math

import hlplot as hp


def main():
    data, out, size, trace = hp.arguments(__doc__)
    info = hp.chart_info(data)
    rows = hp.read_table(data, ["trace", "policy", "op", "internal_frag", "external_frag"])
    trace, rows = hp.one_trace(rows, trace)
    names, style = hp.series_styles(rows)

    fig, axes = hp.figure(size, 2, 1, sharex=True)
    top, bottom = axes[0][0], axes[1][0]
    drawn = {top: [], bottom: []}
    for i, p in enumerate(names):
        s = sorted((hp.num(r["op"]), hp.num(r["internal_frag"]), hp.num(r["external_frag"]))
                   for r in rows if r["series"] == p)
        n = len(s)
        every = max(1, n // 8)
        mark = (min(n - 1, i * every // max(1, len(names))), every)
        ops = [v[0] for v in s]
        for ax, col in ((top, 1), (bottom, 2)):
            ys = [v[col] for v in s]
            if all(math.isnan(y) for y in ys):
                continue  # nothing to draw: no legend entry either (the note says why)
            ax.plot(ops, ys, label=p, markevery=mark, **style[p].line())
            drawn[ax].append(p)
    for ax in (top, bottom):
        ax.set_ylim(bottom=0)
        ax.set_xlim(left=0)
        hp.percent_axis(ax)
    top.set_ylabel("internal fragmentation")
    bottom.set_ylabel("external fragmentation")
    bottom.set_xlabel("operations replayed")
    hp.title(top, "Fragmentation over time: %s" % hp.short(trace), info)
    hp.legend(top)
    if drawn[top] != drawn[bottom]:
        hp.legend(bottom)
    hp.save(fig, out, size, info)


if __name__ == "__main__":
    main()
