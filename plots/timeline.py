"""usage: python3 plots/timeline.py DATA OUT.png|OUT.svg|OUT.pdf WxH [TRACE]

Heap footprint over time for one trace: the heap bytes (source extent plus
mapped bytes) of each series as a line, and the live bytes (requested bytes
of live blocks, the same under every policy) as a thick black line.  An
mm:FILE series' heap bytes are the solution's heap (mem_heapsize), which
heaplab knows as it knows a policy's.
DATA: heaplab replay --timeline's CSV (trace, policy, op, live_bytes,
heap_bytes; heaplab plot adds series and style); TRACE: the trace to draw,
default the first in DATA.
Usually run as: heaplab plot timeline timeline.csv -o timeline.png
"""
import math

import hlplot as hp


def main():
    data, out, size, trace = hp.arguments(__doc__)
    info = hp.chart_info(data)
    rows = hp.read_table(data, ["trace", "policy", "op", "live_bytes", "heap_bytes"])
    trace, rows = hp.one_trace(rows, trace)
    policies, style = hp.series_styles(rows)
    series = {p: sorted((hp.num(r["op"]), hp.num(r["heap_bytes"]), hp.num(r["live_bytes"]))
                        for r in rows if r["series"] == p) for p in policies}
    largest = max((max(v[1], v[2]) for s in series.values() for v in s
                   if not math.isnan(max(v[1], v[2]))), default=1)
    div, unit = hp.byte_unit(largest)

    fig, axes = hp.figure(size)
    ax = axes[0][0]
    for i, p in enumerate(policies):
        s = series[p]
        n = len(s)
        # about eight markers a line, staggered so that lines on top of each
        # other still show every marker
        every = max(1, n // 8)
        ax.plot([v[0] for v in s], [v[1] / div for v in s], label=p,
                markevery=(min(n - 1, i * every // max(1, len(policies))), every), **style[p].line())
    live = series[policies[0]]
    ax.plot([v[0] for v in live], [v[2] / div for v in live], color="black", linewidth=2.6,
            label="live bytes (requested)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("operations replayed")
    ax.set_ylabel("bytes (%s)" % unit)
    hp.title(ax, "Heap footprint over time: %s" % hp.short(trace), info)
    hp.legend(ax, title="heap bytes")
    hp.save(fig, out, size, info)


if __name__ == "__main__":
    main()
