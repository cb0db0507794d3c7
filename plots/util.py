"""usage: python3 plots/util.py DATA OUT.png|OUT.svg|OUT.pdf WxH

Utilization (peak live bytes / peak heap bytes) per trace, a bar per
series in each trace's group, and the mean at the right.
The mean averages the same traces for every series: the traces on which
every series drawn has a value (a row whose status is not ok has none:
heaplab plot leaves it out, and notes it on the chart).  When that is not
every trace the group says so: "mean (9 of 11 traces)".  heaplab marks
those traces in the in_mean column and words the label in chart.tsv (beside
DATA); without them (a CSV given directly) the script applies the same rule.
Rows without a util value (baselines, failed replays) are not drawn.
DATA: heaplab replay -f csv's results (trace, policy, util; heaplab plot
adds series, style and in_mean).
Usually run as: heaplab plot util results.csv -o util.png
"""
import math

import hlplot as hp


def main():
    data, out, size, _ = hp.arguments(__doc__)
    info = hp.chart_info(data)
    rows = [r for r in hp.read_table(data, ["trace", "policy", "util"]) if not math.isnan(hp.num(r["util"]))]
    if not rows:
        raise SystemExit("%s: no row has a util value" % data)
    traces = hp.unique(r["trace"] for r in rows)
    names, style = hp.series_styles(rows)
    util = {(r["trace"], r["series"]): hp.num(r["util"]) for r in rows}
    if "in_mean" in rows[0]:
        in_mean = {r["trace"] for r in rows if r["in_mean"] == "1"}
    else:
        in_mean = {t for t in traces if all((t, p) in util for p in names)}
    label = info["mean_label"]
    if label is None and in_mean:
        label = "mean" if len(in_mean) == len(traces) else "mean (%d of %d traces)" % (len(in_mean), len(traces))
    mean = len(traces) > 1 and bool(in_mean) and bool(label)
    groups = traces + (["mean"] if mean else [])

    fig, axes = hp.figure(size)
    ax = axes[0][0]
    width = 0.84 / len(names)
    for j, p in enumerate(names):
        xs, ys = [], []
        for g, t in enumerate(groups):
            if t == "mean" and g == len(traces):
                vals = [util[(u, p)] for u in traces if u in in_mean]
                v = sum(vals) / len(vals)
            else:
                v = util.get((t, p), math.nan)
            xs.append(g + (j - (len(names) - 1) / 2) * width)
            ys.append(v)
        ax.bar(xs, ys, width, label=p, **style[p].bar())
    ax.set_xticks(range(len(groups)))
    ticks = [hp.short(t) for t in traces] + ([label] if mean else [])
    ax.set_xticklabels(ticks, rotation=30 if len(groups) > 4 else 0, ha="right" if len(groups) > 4 else "center")
    if mean:
        ax.axvline(len(traces) - 0.5, color="black", linewidth=0.8)
    ax.set_xlim(-0.5, len(groups) - 0.5)
    ax.set_ylim(0, 1)
    hp.percent_axis(ax)
    ax.set_ylabel("utilization (peak live / peak heap)")
    ax.set_xlabel("trace")
    hp.title(ax, "Utilization per trace and policy (higher is better)", info)
    hp.legend(ax)
    hp.save(fig, out, size, info)


if __name__ == "__main__":
    main()
