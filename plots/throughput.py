"""usage: python3 plots/throughput.py DATA OUT.png|OUT.svg|OUT.pdf WxH

Throughput per trace, a bar per policy in each trace's group, on a log
scale.  With baseline:glibc rows every bar is relative to glibc's best pass
on the same trace and grows from 1 (up: faster than glibc, down: slower);
without any, bars are absolute operations per second.  A bar is the best
timed pass (ops_per_sec, the number heaplab's table shows); its whisker
reaches down to the slowest (ops_per_sec_min), in black (white where it
runs inside one of the darkest bars).
A row whose status is not ok has no bar (heaplab plot leaves it out and
notes it on the chart).
DATA: heaplab replay -f csv's results (trace, policy, ops_per_sec,
ops_per_sec_min; heaplab plot adds series and style), e.g. replay
--baseline glibc ... -f csv.
Usually run as: heaplab plot throughput results.csv -o throughput.png
"""
import math

from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

import hlplot as hp

GLIBC = "baseline:glibc"


def main():
    data, out, size, _ = hp.arguments(__doc__)
    info = hp.chart_info(data)
    rows = [r for r in hp.read_table(data, ["trace", "policy", "ops_per_sec", "ops_per_sec_min"])
            if hp.num(r["ops_per_sec"]) > 0]
    if not rows:
        raise SystemExit("%s: no row has an ops_per_sec value" % data)
    traces = hp.unique(r["trace"] for r in rows)
    policies, style = hp.series_styles(rows)
    glibc = {r["trace"]: hp.num(r["ops_per_sec"]) for r in rows if r["policy"] == GLIBC}
    relative = bool(glibc)
    if relative and len(glibc) < len(traces):
        raise SystemExit("%s: trace %s has no %s row to normalise to"
                         % (data, next(t for t in traces if t not in glibc), GLIBC))
    value = {}
    for r in rows:
        best = hp.num(r["ops_per_sec"])
        worst = hp.num(r["ops_per_sec_min"])
        if math.isnan(worst) or worst > best:
            worst = best
        d = glibc[r["trace"]] if relative else 1.0
        value[(r["trace"], r["series"])] = (best / d, worst / d)
    lows = [v[1] for v in value.values()]
    highs = [v[0] for v in value.values()]
    base = 1.0 if relative else 10 ** math.floor(math.log10(min(lows)))

    fig, axes = hp.figure(size)
    ax = axes[0][0]
    width = 0.84 / len(policies)
    for j, p in enumerate(policies):
        xs, best, worst = [], [], []
        for g, t in enumerate(traces):
            if (t, p) in value:
                xs.append(g + (j - (len(policies) - 1) / 2) * width)
                best.append(value[(t, p)][0])
                worst.append(value[(t, p)][1])
        ax.bar(xs, [b - base for b in best], width, bottom=base, label=p, **style[p].bar())
        # a whisker is black, or white where it runs inside a dark bar
        for white in (False, True):
            pick = [i for i in range(len(xs)) if (worst[i] >= base and style[p].ink() == "white") == white]
            if pick:
                ax.errorbar([xs[i] for i in pick], [best[i] for i in pick],
                            yerr=[[best[i] - worst[i] for i in pick], [0] * len(pick)], fmt="none",
                            ecolor="white" if white else "black", elinewidth=0.8, capsize=1.5)
    ax.set_yscale("log")
    lo, hi = min(lows + [base]), max(highs + [base])
    ax.set_ylim(lo / 1.6, hi * 1.6)
    if relative:
        ax.axhline(1.0, color="black", linewidth=0.9)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: "%g\u00d7" % v))
        ax.set_ylabel("throughput relative to glibc (log scale)")
        hp.title(ax, "Throughput relative to glibc (higher is faster)", info)
    else:
        ax.set_ylabel("operations per second (log scale)")
        hp.title(ax, "Throughput per trace and policy (higher is faster)", info)
    ax.set_xticks(range(len(traces)))
    ax.set_xticklabels([hp.short(t) for t in traces], rotation=30 if len(traces) > 4 else 0,
                       ha="right" if len(traces) > 4 else "center")
    ax.set_xlim(-0.5, len(traces) - 0.5)
    ax.set_xlabel("trace")
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([0], [0], color="black", linewidth=0.8, marker="_", markersize=6))
    labels.append("whisker: slowest to\nbest timed pass")
    hp.legend(ax, handles, labels)
    hp.save(fig, out, size, info)


if __name__ == "__main__":
    main()
