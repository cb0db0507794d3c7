# usage: gnuplot -c plots/timeline.gp DATA OUT.png|OUT.svg WxH [TRACE]
#
# Heap footprint over time for one trace: the heap bytes (source extent plus
# mapped bytes) of each policy as a line, and the live bytes (requested bytes
# of live blocks, the same under every policy) as a thick black line.
# DATA: heaplab replay --timeline's CSV (trace, policy, op, live_bytes,
# heap_bytes); TRACE: the trace to draw, default the first in DATA.
# Usually run as: heaplab plot timeline timeline.csv -o timeline.png --backend gnuplot
USAGE = "usage: gnuplot -c plots/timeline.gp DATA OUT.png|OUT.svg WxH [TRACE]"
if (ARGC < 3) { exit error USAGE }
DATA = ARG1
OUT = ARG2
SIZE = ARG3
TRACE = ARGC >= 4 ? ARG4 : ""
_dir = ""
do for [i = 1:strlen(ARG0)] { if (ARG0[i:i] eq "/") { _dir = ARG0[1:i] } }
load _dir . "heaplab.gp"

if (TRACE eq "") { stats DATA every ::0::0 using (TRACE = strcol("trace"), 0) nooutput }
# the policies of the trace, in order, and the largest value
L = ""
_max = 0
_n = 0
stats DATA using (strcol("trace") eq TRACE ? (L = add(L, strcol("policy")), _n = _n + 1, \
    _max = column("heap_bytes") > _max ? column("heap_bytes") : _max, \
    _max = column("live_bytes") > _max ? column("live_bytes") : _max) : 0) nooutput
if (words(L) == 0) { exit error sprintf("%s: no rows for trace %s", DATA, TRACE) }
eval STYLE_POLICIES
KEY_EXTRA = "live bytes (requested)"
eval KEY_RIGHT
NP = words(L)
DIV = byte_div(_max)
PI = _n / NP / 8 > 1 ? int(_n / NP / 8) : 1

set title sprintf("Heap footprint over time: %s", short(TRACE))
set xlabel "operations replayed"
set ylabel sprintf("bytes (%s)", byte_unit(_max))
set key title "heap bytes" left
set xrange [0:*]
set yrange [0:*]
mine(i) = strcol("trace") eq TRACE && strcol("policy") eq word(L, i)
plot for [i = 1:NP] DATA using (mine(i) ? column("op") : NaN):(mine(i) ? column("heap_bytes") / DIV : NaN) \
        with linespoints lw 1.5 lc rgb COL[SI[i]] dt DT[SI[i]] pt PT[SI[i]] pi PI title word(L, i), \
     DATA using (mine(1) ? column("op") : NaN):(mine(1) ? column("live_bytes") / DIV : NaN) \
        with lines lw 3.5 lc rgb "black" title "live bytes (requested)"
