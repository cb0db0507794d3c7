# usage: gnuplot -c plots/frag.gp DATA OUT.png|OUT.svg WxH [TRACE]
#
# Fragmentation over time for one trace, a line per policy: internal
# fragmentation ((block bytes - requested bytes) / block bytes) above,
# external fragmentation (1 - largest free block / free bytes) below.
# DATA: heaplab replay --timeline's CSV (trace, policy, op, internal_frag,
# external_frag); TRACE: the trace to draw, default the first in DATA.
# Usually run as: heaplab plot frag timeline.csv -o frag.png --backend gnuplot
USAGE = "usage: gnuplot -c plots/frag.gp DATA OUT.png|OUT.svg WxH [TRACE]"
if (ARGC < 3) { exit error USAGE }
DATA = ARG1
OUT = ARG2
SIZE = ARG3
TRACE = ARGC >= 4 ? ARG4 : ""
_dir = ""
do for [i = 1:strlen(ARG0)] { if (ARG0[i:i] eq "/") { _dir = ARG0[1:i] } }
load _dir . "heaplab.gp"

if (TRACE eq "") { stats DATA every ::0::0 using (TRACE = strcol("trace"), 0) nooutput }
L = ""
_n = 0
stats DATA using (strcol("trace") eq TRACE ? (L = add(L, strcol("policy")), _n = _n + 1) : 0) nooutput
if (words(L) == 0) { exit error sprintf("%s: no rows for trace %s", DATA, TRACE) }
eval STYLE_POLICIES
eval KEY_RIGHT
NP = words(L)
PI = _n / NP / 8 > 1 ? int(_n / NP / 8) : 1
mine(i) = strcol("trace") eq TRACE && strcol("policy") eq word(L, i)

set multiplot title sprintf("Fragmentation over time: %s", short(TRACE)) font sprintf(",%.1f", FS * 1.12)
set lmargin at screen 8 * FS_PX / W
set xrange [0:*]
set yrange [0:*]
set format y "%g%%"

set tmargin at screen 0.91
set bmargin at screen 0.55
set format x ""
set ylabel "internal fragmentation"
plot for [i = 1:NP] DATA using (mine(i) ? column("op") : NaN):(mine(i) ? 100 * column("internal_frag") : NaN) \
    with linespoints lw 1.5 lc rgb COL[SI[i]] dt DT[SI[i]] pt PT[SI[i]] pi PI title word(L, i)

set tmargin at screen 0.51
set bmargin at screen 4 * FS_PX / H
set format x "%g"
set xlabel "operations replayed"
set ylabel "external fragmentation"
unset key
plot for [i = 1:NP] DATA using (mine(i) ? column("op") : NaN):(mine(i) ? 100 * column("external_frag") : NaN) \
    with linespoints lw 1.5 lc rgb COL[SI[i]] dt DT[SI[i]] pt PT[SI[i]] pi PI
unset multiplot
