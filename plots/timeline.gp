# usage: gnuplot -c plots/timeline.gp DATA OUT.png|OUT.svg|OUT.pdf WxH [TRACE]
#
# Heap footprint over time for one trace: the heap bytes (source extent plus
# mapped bytes) of each series as a line, and the live bytes (requested bytes
# of live blocks, the same under every policy) as a thick black line.  An
# mm:FILE series' heap bytes are the solution's heap (mem_heapsize), which
# heaplab knows as it knows a policy's.
# DATA: heaplab replay --timeline's CSV (trace, policy, op, live_bytes,
# heap_bytes; heaplab plot adds series and style); TRACE: the trace to draw,
# default the first in DATA.
# Usually run as: heaplab plot timeline timeline.csv -o timeline.png --backend gnuplot
USAGE = "usage: gnuplot -c plots/timeline.gp DATA OUT.png|OUT.svg|OUT.pdf WxH [TRACE]"
if (ARGC < 3) { exit error USAGE }
DATA = ARG1
OUT = ARG2
SIZE = ARG3
TRACE = ARGC >= 4 ? ARG4 : ""
_dir = ""
do for [i = 1:strlen(ARG0)] { if (ARG0[i:i] eq "/") { _dir = ARG0[1:i] } }
load _dir . "heaplab.gp"

eval FIND_SERIES
if (TRACE eq "") { stats DATA every ::0::0 using (TRACE = strcol("trace"), 0) nooutput }
# the series of the trace, in order, and the largest value
L = ""
_max = 0
_n = 0
stats DATA using (strcol("trace") eq TRACE ? (@ADD_SERIES, _n = _n + 1, \
    _max = column("heap_bytes") > _max ? column("heap_bytes") : _max, \
    _max = column("live_bytes") > _max ? column("live_bytes") : _max) : 0) nooutput
if (words(L) == 0) { exit error sprintf("%s: no rows for trace %s", DATA, TRACE) }
eval STYLE_POLICIES
NP = words(L)
DIV = byte_div(_max)
PI = _n / NP / 8 > 1 ? int(_n / NP / 8) : 1

LIVE = "live bytes (requested)"
KEY_N = NP + 1
KEY_LEN = strlen(LIVE)
do for [i = 1:NP] { KEY_LEN = strlen(word(L, i)) > KEY_LEN ? strlen(word(L, i)) : KEY_LEN }
KEY_TITLE = "heap bytes"
eval KEY_LAYOUT
eval KEY_SET
set bmargin at screen plot_bottom(4.0 * FS_PX / H)
set tmargin at screen 1 - 2.6 * FS_PX / H
eval DRAW_NOTES

set title titled(sprintf("Heap footprint over time: %s", short(TRACE)))
set xlabel "operations replayed"
set ylabel sprintf("bytes (%s)", byte_unit(_max))
set xrange [0:*]
set yrange [0:*]
mine(i) = strcol("trace") eq TRACE && series(0) eq word(L, i)
plot for [i = 1:NP] DATA using (mine(i) ? column("op") : NaN):(mine(i) ? column("heap_bytes") / DIV : NaN) \
        with linespoints lw 1.5 lc rgb COL[SI[i]] dt DT[SI[i]] pt PT[SI[i]] pi PI title word(L, i), \
     DATA using (mine(1) ? column("op") : NaN):(mine(1) ? column("live_bytes") / DIV : NaN) \
        with lines lw 3.5 lc rgb "black" title LIVE
