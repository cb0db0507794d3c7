# usage: gnuplot -c plots/frag.gp DATA OUT.png|OUT.svg|OUT.pdf WxH [TRACE]
#
# Fragmentation over time for one trace, a line per series: internal
# fragmentation ((block bytes - requested bytes) / block bytes) above,
# external fragmentation (1 - largest free block / free bytes) below.
# A panel draws a series only where it has values, and its key names only
# the series it draws (one key for both panels when they draw the same).
# heaplab leaves out the rows of mm:FILE series - it does not know a
# solution's block layout, so it has no fragmentation figure for it - and
# says so in a note on the chart (chart.tsv beside DATA).
# DATA: heaplab replay --timeline's CSV (trace, policy, op, internal_frag,
# external_frag; heaplab plot adds series and style); TRACE: the trace to
# draw, default the first in DATA.
# Usually run as: heaplab plot frag timeline.csv -o frag.png --backend gnuplot
USAGE = "usage: gnuplot -c plots/frag.gp DATA OUT.png|OUT.svg|OUT.pdf WxH [TRACE]"
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
L = ""
_n = 0
stats DATA using (strcol("trace") eq TRACE ? (@ADD_SERIES, _n = _n + 1) : 0) nooutput
if (words(L) == 0) { exit error sprintf("%s: no rows for trace %s", DATA, TRACE) }
eval STYLE_POLICIES
NP = words(L)
PI = _n / NP / 8 > 1 ? int(_n / NP / 8) : 1
mine(i) = strcol("trace") eq TRACE && series(0) eq word(L, i)
# which series have a value in each panel: only those are drawn and keyed
array HAS_I[NP]
array HAS_E[NP]
do for [i = 1:NP] { HAS_I[i] = 0; HAS_E[i] = 0 }
stats DATA using (strcol("trace") eq TRACE ? (_j = pos(L, series(0)), \
    HAS_I[_j] = HAS_I[_j] || !isnan(column("internal_frag")), \
    HAS_E[_j] = HAS_E[_j] || !isnan(column("external_frag")), 0) : 0) nooutput
NI = 0
NE = 0
SAME = 1
KEY_LEN = 0
do for [i = 1:NP] { NI = NI + HAS_I[i]; NE = NE + HAS_E[i]; SAME = SAME && HAS_I[i] == HAS_E[i]; \
    KEY_LEN = strlen(word(L, i)) > KEY_LEN ? strlen(word(L, i)) : KEY_LEN }

# the panels: above, the title; below, the x axis, the key (when it goes
# there) and the notes
TOP = 1 - 2.8 * FS_PX / H
AXIS = 3.8 * FS_PX / H
GAP = 0.04
PH = (TOP - NOTES_H - AXIS - GAP) / 2
KEY_N = NI > NE ? NI : NE
KEY_ROOM = SAME ? 2 * PH + GAP : PH
eval KEY_LAYOUT
if (!SAME && KEY_MODE == 2) { KEY_MODE = 1 }
BOTTOM = plot_bottom(AXIS)
PH = (TOP - BOTTOM - GAP) / 2

set multiplot title titled(sprintf("Fragmentation over time: %s", short(TRACE))) font sprintf(",%.1f", FS * 1.12)
eval DRAW_NOTES
set lmargin at screen 8 * FS_PX / W
set xrange [0:*]
set yrange [0:*]
set format y "%g%%"

set tmargin at screen TOP
set bmargin at screen TOP - PH
set format x ""
set ylabel "internal fragmentation"
eval KEY_SET
if (KEY_MODE == 1) { set key at screen KEY_X, screen TOP }
if (NI == 0) { set label 1 "no internal fragmentation figure to draw" at graph 0.5, graph 0.5 center }
plot for [i = 1:NP] DATA using (mine(i) && HAS_I[i] ? column("op") : NaN):(mine(i) ? 100 * column("internal_frag") : NaN) \
    with linespoints lw 1.5 lc rgb COL[SI[i]] dt DT[SI[i]] pt PT[SI[i]] pi PI title (HAS_I[i] ? word(L, i) : "")
unset label 1
unset label

set tmargin at screen BOTTOM + PH
set bmargin at screen BOTTOM
set format x "%g"
set xlabel "operations replayed"
set ylabel "external fragmentation"
if (SAME) { unset key } else { set key at screen KEY_X, screen BOTTOM + PH }
if (NE == 0) { set label 1 "no external fragmentation figure to draw" at graph 0.5, graph 0.5 center }
plot for [i = 1:NP] DATA using (mine(i) && HAS_E[i] ? column("op") : NaN):(mine(i) ? 100 * column("external_frag") : NaN) \
    with linespoints lw 1.5 lc rgb COL[SI[i]] dt DT[SI[i]] pt PT[SI[i]] pi PI title (HAS_E[i] ? word(L, i) : "")
unset multiplot
