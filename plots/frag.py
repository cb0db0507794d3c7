"""usage: python3 plots/frag.py DATA OUT.png|OUT.svg WxH [TRACE]

Fragmentation over time for one trace, a line per policy: internal
fragmentation ((block bytes - requested bytes) / block bytes) above,
external fragmentation (1 - largest free block / free bytes) below.
DATA: heaplab replay --timeline's CSV (trace, policy, op, internal_frag,
external_frag); TRACE: the trace to draw, default the first in DATA.
Usually run as: heaplab plot frag timeline.csv -o frag.png
"""
import hlplot as hp


def main():
    data, out, size, trace = hp.arguments(__doc__)
    rows = hp.read_table(data, ["trace", "policy", "op", "internal_frag", "external_frag"])
    trace, rows = hp.one_trace(rows, trace)
    policies = hp.unique(r["policy"] for r in rows)
    style = hp.styles(policies)

    fig, axes = hp.figure(size, 2, 1, sharex=True)
    top, bottom = axes[0][0], axes[1][0]
    for i, p in enumerate(policies):
        s = sorted((hp.num(r["op"]), hp.num(r["internal_frag"]), hp.num(r["external_frag"]))
                   for r in rows if r["policy"] == p)
        n = len(s)
        every = max(1, n // 8)
        mark = (min(n - 1, i * every // max(1, len(policies))), every)
        ops = [v[0] for v in s]
        top.plot(ops, [v[1] for v in s], label=p, markevery=mark, **style[p].line())
        bottom.plot(ops, [v[2] for v in s], label=p, markevery=mark, **style[p].line())
    for ax in (top, bottom):
        ax.set_ylim(bottom=0)
        ax.set_xlim(left=0)
        hp.percent_axis(ax)
    top.set_ylabel("internal fragmentation")
    bottom.set_ylabel("external fragmentation")
    bottom.set_xlabel("operations replayed")
    top.set_title("Fragmentation over time: %s" % hp.short(trace))
    hp.legend_right(top)
    hp.save(fig, out, size)


if __name__ == "__main__":
    main()
