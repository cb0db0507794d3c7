# usage: gnuplot -c plots/throughput.gp DATA OUT.png|OUT.svg|OUT.pdf WxH
#
# Throughput per trace, a bar per policy in each trace's group, on a log
# scale.  With baseline:glibc rows every bar is relative to glibc's best pass
# on the same trace and grows from 1 (up: faster than glibc, down: slower);
# without any, bars are absolute operations per second.  A bar is the best
# timed pass (ops_per_sec, the number heaplab's table shows); its whisker
# reaches down to the slowest (ops_per_sec_min), in black (white where it
# runs inside one of the darkest bars).
# A row whose status is not ok has no bar (heaplab plot leaves it out and
# notes it on the chart).
# DATA: heaplab replay -f csv's results (trace, policy, ops_per_sec,
# ops_per_sec_min; heaplab plot adds series and style), e.g. replay
# --baseline glibc ... -f csv.
# Usually run as: heaplab plot throughput results.csv -o throughput.png --backend gnuplot
USAGE = "usage: gnuplot -c plots/throughput.gp DATA OUT.png|OUT.svg|OUT.pdf WxH"
if (ARGC < 3) { exit error USAGE }
DATA = ARG1
OUT = ARG2
SIZE = ARG3
_dir = ""
do for [i = 1:strlen(ARG0)] { if (ARG0[i:i] eq "/") { _dir = ARG0[1:i] } }
load _dir . "heaplab.gp"

GLIBC = "baseline:glibc"
best(dummy) = column("ops_per_sec")
# the slowest pass; the best when the CSV has none
worst(dummy) = isnan(column("ops_per_sec_min")) || column("ops_per_sec_min") > best(0) ? \
    best(0) : column("ops_per_sec_min")
eval FIND_SERIES
T = ""
L = ""
stats DATA using (best(0) > 0 ? (T = add(T, strcol("trace")), @ADD_SERIES, 0) : 0) nooutput
if (words(L) == 0) { exit error sprintf("%s: no row has an ops_per_sec value", DATA) }
NT = words(T)
NP = words(L)
# glibc's best pass per trace, and the smallest and largest value drawn
array G[NT]
do for [i = 1:NT] { G[i] = NaN }
stats DATA using (best(0) > 0 && strcol("policy") eq GLIBC ? (G[pos(T, strcol("trace"))] = best(0), 0) : 0) nooutput
NG = 0
do for [i = 1:NT] { NG = NG + !isnan(G[i]) }
RELATIVE = NG > 0
if (RELATIVE && NG < NT) { exit error sprintf("%s: a trace has no %s row to normalise to", DATA, GLIBC) }
d(trace) = RELATIVE ? G[pos(T, trace)] : 1.0
_lo = 1e300
_hi = 0
stats DATA using (best(0) > 0 ? (_v = worst(0) / d(strcol("trace")), _lo = _v < _lo ? _v : _lo, \
    _v = best(0) / d(strcol("trace")), _hi = _v > _hi ? _v : _hi, 0) : 0) nooutput
BASE = RELATIVE ? 1.0 : 10 ** floor(log10(_lo))
_lo = _lo < BASE ? _lo : BASE
_hi = _hi > BASE ? _hi : BASE

eval STYLE_POLICIES
# the key: the bars, then the whisker's meaning
WHISKER = "whisker: slowest to\nbest timed pass"
KEY_N = NP + 2
KEY_LEN = strlen("whisker: slowest to")
do for [j = 1:NP] { KEY_LEN = strlen(word(L, j)) > KEY_LEN ? strlen(word(L, j)) : KEY_LEN }
eval KEY_LAYOUT
_tl = 0
do for [i = 1:NT] { _tl = strlen(short(word(T, i))) > _tl ? strlen(short(word(T, i))) : _tl }
set bmargin at screen plot_bottom((NT > 4 ? 0.5 * _tl * 0.52 + 3.0 : 4.0) * FS_PX / H)
set tmargin at screen 1 - 2.6 * FS_PX / H
set rmargin at screen PLOT_RIGHT
eval BAR_KEY
eval DRAW_NOTES
unset key
# the whisker's entry, in the key's next place
_kx0 = _kx(NP + 1)
_ky0 = _ky(NP + 1) - 0.1 * KEY_STEP
set arrow 900 from screen _kx0 + 1.1 * FS_PX * KEY_SCALE / W, screen _ky0 to screen _kx0 + 1.1 * FS_PX * KEY_SCALE / W, \
    screen _ky0 - 0.7 * KEY_STEP heads size screen 0.006, 90 lc rgb "black" front
set label 900 WHISKER at screen _kx0 + 3 * FS_PX * KEY_SCALE / W, screen _ky0 - 0.35 * KEY_STEP left front font KEY_FONT

BW = 0.84 / NP
x(trace, j) = pos(T, trace) - 1 + (j - (NP + 1) / 2.0) * BW
me(j) = best(0) > 0 && series(0) eq word(L, j)
_xt = ""
do for [i = 1:NT] { _xt = _xt . sprintf('"%s" %d%s', short(word(T, i)), i - 1, i < NT ? ", " : "") }
eval "set xtics (" . _xt . ")"
if (NT > 4) { set xtics rotate by 30 right }
set xrange [-0.5:NT - 0.5]
set logscale y
set yrange [_lo / 1.6:_hi * 1.6]
set xlabel "trace"
if (RELATIVE) {
    set format y "%g×"
    set ylabel "throughput relative to glibc (log scale)"
    set title titled("Throughput relative to glibc (higher is faster)")
    set arrow 901 from graph 0, first 1 to graph 1, first 1 nohead lc rgb "black" lw 1.2 front
} else {
    set format y "%.0e"
    set ylabel "operations per second (log scale)"
    set title titled("Throughput per trace and policy (higher is faster)")
}
# the bar of policy j on this row: from BASE to its value, BW wide
xc(j) = x(strcol("trace"), j)
top(j) = me(j) ? best(0) / d(strcol("trace")) : NaN
low(j) = me(j) ? worst(0) / d(strcol("trace")) : NaN
# a whisker is black, or white where it runs inside a dark bar
whisker(j) = low(j) >= BASE && ink(COL[SI[j]]) eq "white" ? 0xFFFFFF : 0
plot for [j = 1:NP] DATA using (xc(j)):(top(j)):(xc(j) - BW / 2):(xc(j) + BW / 2):(BASE):(top(j)) \
        with boxxyerror fs solid 1.0 border lc rgb "black" lc rgb COL[SI[j]], \
     for [j = 1:NP] DATA using (xc(j)):(top(j)):(xc(j) - BW / 2):(xc(j) + BW / 2):(BASE):(top(j)) \
        with boxxyerror fs transparent pattern PAT[SI[j]] noborder lc rgb ink(COL[SI[j]]), \
     for [j = 1:NP] DATA using (xc(j)):(low(j)):(0):(top(j) - low(j)):(whisker(j)) \
        with vectors heads size screen 0.004, 90 lc rgb variable lw 0.8
