# usage: gnuplot -c plots/util.gp DATA OUT.png|OUT.svg|OUT.pdf WxH
#
# Utilization (peak live bytes / peak heap bytes) per trace, a bar per
# series in each trace's group, and the mean at the right.
# The mean averages the same traces for every series: the traces on which
# every series drawn has a value (a row whose status is not ok has none:
# heaplab plot leaves it out, and notes it on the chart).  When that is not
# every trace the group says so: "mean (9 of 11 traces)".  heaplab marks
# those traces in the in_mean column and words the label in chart.tsv (beside
# DATA); without them (a CSV given directly) the script applies the same rule.
# Rows without a util value (baselines, failed replays) are not drawn.
# DATA: heaplab replay -f csv's results (trace, policy, util; heaplab plot
# adds series, style and in_mean).
# Usually run as: heaplab plot util results.csv -o util.png --backend gnuplot
USAGE = "usage: gnuplot -c plots/util.gp DATA OUT.png|OUT.svg|OUT.pdf WxH"
if (ARGC < 3) { exit error USAGE }
DATA = ARG1
OUT = ARG2
SIZE = ARG3
_dir = ""
do for [i = 1:strlen(ARG0)] { if (ARG0[i:i] eq "/") { _dir = ARG0[1:i] } }
load _dir . "heaplab.gp"

# the traces and series that have a util value, in order
eval FIND_SERIES
T = ""
L = ""
stats DATA using (isnan(column("util")) ? 0 : (T = add(T, strcol("trace")), @ADD_SERIES, 0)) nooutput
if (words(L) == 0) { exit error sprintf("%s: no row has a util value", DATA) }
NT = words(T)
NP = words(L)
eval STYLE_POLICIES

# the traces in the mean: heaplab's in_mean, else those where every series has a value
IN_MEAN_COL = 0
stats DATA every ::0::0 using (IN_MEAN_COL = findcol("in_mean", 1), 0) nooutput
array IN[NT]
array CNT_T[NT]
do for [i = 1:NT] { IN[i] = 0; CNT_T[i] = 0 }
stats DATA using (isnan(column("util")) ? 0 : (_i = pos(T, strcol("trace")), CNT_T[_i] = CNT_T[_i] + 1, \
    IN[_i] = IN_MEAN_COL ? strcol(IN_MEAN_COL) eq "1" : 0, 0)) nooutput
NIN = 0
do for [i = 1:NT] { if (!IN_MEAN_COL) { IN[i] = CNT_T[i] == NP }; NIN = NIN + IN[i] }
if (MEAN_LABEL eq "" && NIN > 0) { MEAN_LABEL = NIN == NT ? "mean" : sprintf("mean (%d of %d traces)", NIN, NT) }
MEAN = NT > 1 && NIN > 0 && MEAN_LABEL ne ""
# the mean per series, over those traces
array SUM[NP]
array CNT[NP]
do for [j = 1:NP] { SUM[j] = 0; CNT[j] = 0 }
stats DATA using (isnan(column("util")) || !IN[pos(T, strcol("trace"))] ? 0 : (_j = pos(L, series(0)), \
    SUM[_j] = SUM[_j] + column("util"), CNT[_j] = CNT[_j] + 1, 0)) nooutput
NG = MEAN ? NT + 1 : NT

# the key and the margins: the tic labels lean when there are many groups
KEY_N = NP
KEY_LEN = 0
do for [j = 1:NP] { KEY_LEN = strlen(word(L, j)) > KEY_LEN ? strlen(word(L, j)) : KEY_LEN }
eval KEY_LAYOUT
_tl = MEAN ? strlen(MEAN_LABEL) : 0
do for [i = 1:NT] { _tl = strlen(short(word(T, i))) > _tl ? strlen(short(word(T, i))) : _tl }
AXIS = (NG > 4 ? 0.5 * _tl * 0.52 + 3.0 : 4.0) * FS_PX / H
set bmargin at screen plot_bottom(AXIS)
set tmargin at screen 1 - 2.6 * FS_PX / H
set rmargin at screen PLOT_RIGHT
eval BAR_KEY
eval DRAW_NOTES
unset key

BW = 0.84 / NP
x(trace, j) = pos(T, trace) - 1 + (j - (NP + 1) / 2.0) * BW
set boxwidth BW absolute
_xt = ""
do for [i = 1:NT] { _xt = _xt . sprintf('"%s" %d, ', short(word(T, i)), i - 1) }
if (MEAN) { _xt = _xt . sprintf('"%s" %d', MEAN_LABEL, NT) } else { _xt = _xt[1:strlen(_xt) - 2] }
eval "set xtics (" . _xt . ")"
if (NG > 4) { set xtics rotate by 30 right }
set xrange [-0.5:NG - 0.5]
set yrange [0:100]
set format y "%g%%"
set ylabel "utilization (peak live / peak heap)"
set xlabel "trace"
set title titled("Utilization per trace and policy (higher is better)")
if (MEAN) { set arrow from NT - 0.5, graph 0 to NT - 0.5, graph 1 nohead lc rgb "black" lw 1 }

me(j) = series(0) eq word(L, j)
set style fill solid 1.0 border lc rgb "black"
plot for [j = 1:NP] DATA using (x(strcol("trace"), j)):(me(j) ? 100 * column("util") : NaN) \
        with boxes fs solid 1.0 border lc rgb "black" lc rgb COL[SI[j]], \
     for [j = 1:NP] DATA using (x(strcol("trace"), j)):(me(j) ? 100 * column("util") : NaN) \
        with boxes fs transparent pattern PAT[SI[j]] noborder lc rgb ink(COL[SI[j]]), \
     for [j = 1:(MEAN ? NP : 0)] '+' using (NT + (j - (NP + 1) / 2.0) * BW):(100 * SUM[j] / CNT[j]) every ::0::0 \
        with boxes fs solid 1.0 border lc rgb "black" lc rgb COL[SI[j]], \
     for [j = 1:(MEAN ? NP : 0)] '+' using (NT + (j - (NP + 1) / 2.0) * BW):(100 * SUM[j] / CNT[j]) every ::0::0 \
        with boxes fs transparent pattern PAT[SI[j]] noborder lc rgb ink(COL[SI[j]])
