# usage: gnuplot -c plots/util.gp DATA OUT.png|OUT.svg WxH
#
# Utilization (peak live bytes / peak heap bytes) per trace, a bar per
# policy in each trace's group, and the mean over the traces at the right.
# Rows without a util value (baselines, failed replays) are not drawn.
# DATA: heaplab replay -f csv's results (trace, policy, util).
# Usually run as: heaplab plot util results.csv -o util.png --backend gnuplot
USAGE = "usage: gnuplot -c plots/util.gp DATA OUT.png|OUT.svg WxH"
if (ARGC < 3) { exit error USAGE }
DATA = ARG1
OUT = ARG2
SIZE = ARG3
_dir = ""
do for [i = 1:strlen(ARG0)] { if (ARG0[i:i] eq "/") { _dir = ARG0[1:i] } }
load _dir . "heaplab.gp"

# the traces and policies that have a util value, in order
T = ""
L = ""
stats DATA using (isnan(column("util")) ? 0 : (T = add(T, strcol("trace")), L = add(L, strcol("policy")), 0)) nooutput
if (words(L) == 0) { exit error sprintf("%s: no row has a util value", DATA) }
NT = words(T)
NP = words(L)
eval STYLE_POLICIES
eval KEY_RIGHT
eval BAR_KEY
unset key

# the mean over the traces, per policy
array SUM[NP]
array CNT[NP]
do for [j = 1:NP] { SUM[j] = 0; CNT[j] = 0 }
stats DATA using (isnan(column("util")) ? 0 : (_j = pos(L, strcol("policy")), \
    SUM[_j] = SUM[_j] + column("util"), CNT[_j] = CNT[_j] + 1, 0)) nooutput
NG = NT > 1 ? NT + 1 : NT

BW = 0.84 / NP
x(trace, j) = pos(T, trace) - 1 + (j - (NP + 1) / 2.0) * BW
set boxwidth BW absolute
_xt = ""
do for [i = 1:NT] { _xt = _xt . sprintf('"%s" %d, ', short(word(T, i)), i - 1) }
if (NT > 1) { _xt = _xt . sprintf('"mean" %d', NT) } else { _xt = _xt[1:strlen(_xt) - 2] }
eval "set xtics (" . _xt . ")"
if (NG > 4) { set xtics rotate by 30 right }
set xrange [-0.5:NG - 0.5]
set yrange [0:100]
set format y "%g%%"
set ylabel "utilization (peak live / peak heap)"
set xlabel "trace"
set title "Utilization per trace and policy (higher is better)"
if (NT > 1) { set arrow from NT - 0.5, graph 0 to NT - 0.5, graph 1 nohead lc rgb "black" lw 1 }

set style fill solid 1.0 border lc rgb "black"
plot for [j = 1:NP] DATA using (x(strcol("trace"), j)):(strcol("policy") eq word(L, j) ? 100 * column("util") : NaN) \
        with boxes fs solid 1.0 border lc rgb "black" lc rgb COL[SI[j]], \
     for [j = 1:NP] DATA using (x(strcol("trace"), j)):(strcol("policy") eq word(L, j) ? 100 * column("util") : NaN) \
        with boxes fs transparent pattern PAT[SI[j]] noborder lc rgb "black", \
     for [j = 1:(NT > 1 ? NP : 0)] '+' using (NT + (j - (NP + 1) / 2.0) * BW):(100 * SUM[j] / CNT[j]) every ::0::0 \
        with boxes fs solid 1.0 border lc rgb "black" lc rgb COL[SI[j]], \
     for [j = 1:(NT > 1 ? NP : 0)] '+' using (NT + (j - (NP + 1) / 2.0) * BW):(100 * SUM[j] / CNT[j]) every ::0::0 \
        with boxes fs transparent pattern PAT[SI[j]] noborder lc rgb "black"
