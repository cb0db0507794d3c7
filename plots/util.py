"""usage: python3 plots/util.py DATA OUT.png|OUT.svg WxH

Utilization (peak live bytes / peak heap bytes) per trace, a bar per
policy in each trace's group, and the mean over the traces at the right.
Rows without a util value (baselines, failed replays) are not drawn.
DATA: heaplab replay -f csv's results (trace, policy, util).
Usually run as: heaplab plot util results.csv -o util.png
"""
import math

import hlplot as hp


def main():
    data, out, size, _ = hp.arguments(__doc__)
    rows = [r for r in hp.read_table(data, ["trace", "policy", "util"]) if not math.isnan(hp.num(r["util"]))]
    if not rows:
        raise SystemExit("%s: no row has a util value" % data)
    traces = hp.unique(r["trace"] for r in rows)
    policies = hp.unique(r["policy"] for r in rows)
    style = hp.styles(policies)
    util = {(r["trace"], r["policy"]): hp.num(r["util"]) for r in rows}
    groups = traces + (["mean"] if len(traces) > 1 else [])

    fig, axes = hp.figure(size)
    ax = axes[0][0]
    width = 0.84 / len(policies)
    for j, p in enumerate(policies):
        xs, ys = [], []
        for g, t in enumerate(groups):
            if t == "mean":
                vals = [util[(u, p)] for u in traces if (u, p) in util]
                v = sum(vals) / len(vals) if vals else math.nan
            else:
                v = util.get((t, p), math.nan)
            xs.append(g + (j - (len(policies) - 1) / 2) * width)
            ys.append(v)
        ax.bar(xs, ys, width, label=p, **style[p].bar())
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([hp.short(t) for t in groups], rotation=30 if len(groups) > 4 else 0,
                       ha="right" if len(groups) > 4 else "center")
    if len(traces) > 1:
        ax.axvline(len(traces) - 0.5, color="black", linewidth=0.8)
    ax.set_xlim(-0.5, len(groups) - 0.5)
    ax.set_ylim(0, 1)
    hp.percent_axis(ax)
    ax.set_ylabel("utilization (peak live / peak heap)")
    ax.set_xlabel("trace")
    ax.set_title("Utilization per trace and policy (higher is better)")
    hp.legend_right(ax)
    hp.save(fig, out, size)


if __name__ == "__main__":
    main()
