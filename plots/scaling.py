"""usage: python3 plots/scaling.py DATA OUT.png|OUT.svg|OUT.pdf WxH

Throughput against the number of live blocks, a line per policy (and
baseline), both axes logarithmic.  A point is the best timed pass
(ops_per_sec); its whisker reaches down to the slowest (ops_per_sec_min).
A linear search shows as a line falling with the live blocks; a constant
time policy stays flat until the caches give out.
DATA: make scaling's CSV (live_blocks, then heaplab replay -f csv's columns:
policy, ops_per_sec, ops_per_sec_min, ...; heaplab plot adds series and
style).
Usually run as: heaplab plot scaling out/scaling.csv -o scaling.png
"""
import math

from matplotlib.ticker import FuncFormatter

import hlplot as hp


def count(v, _):
    """1k, 10k, 1M: how people say numbers of blocks."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return "%g%s" % (v / div, suffix)
    return "%g" % v


def main():
    data, out, size, _ = hp.arguments(__doc__)
    info = hp.chart_info(data)
    rows = [r for r in hp.read_table(data, ["live_blocks", "policy", "ops_per_sec", "ops_per_sec_min"])
            if hp.num(r["ops_per_sec"]) > 0 and hp.num(r["live_blocks"]) > 0]
    if not rows:
        raise SystemExit("%s: no row has an ops_per_sec value" % data)
    policies, style = hp.series_styles(rows)

    fig, axes = hp.figure(size)
    ax = axes[0][0]
    for p in policies:
        pts = sorted((hp.num(r["live_blocks"]), hp.num(r["ops_per_sec"]), hp.num(r["ops_per_sec_min"]))
                     for r in rows if r["series"] == p)
        xs = [v[0] for v in pts]
        best = [v[1] for v in pts]
        worst = [v[1] if math.isnan(v[2]) or v[2] > v[1] else v[2] for v in pts]
        ax.errorbar(xs, best, yerr=[[b - w for b, w in zip(best, worst)], [0] * len(best)], label=p,
                    capsize=2, elinewidth=0.8, **style[p].line())
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(count))
    ax.set_yscale("log")
    ax.set_xlabel("live blocks (heaplab gen steady --live N)")
    ax.set_ylabel("operations per second (log scale)")
    hp.title(ax, "Throughput against live blocks (higher is faster)", info)
    hp.legend(ax)
    hp.save(fig, out, size, info)


if __name__ == "__main__":
    main()
