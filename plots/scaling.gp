# usage: gnuplot -c plots/scaling.gp DATA OUT.png|OUT.svg|OUT.pdf WxH
#
# Throughput against the number of live blocks, a line per policy (and
# baseline), both axes logarithmic.  A point is the best timed pass
# (ops_per_sec); its whisker reaches down to the slowest (ops_per_sec_min).
# A linear search shows as a line falling with the live blocks; a constant
# time policy stays flat until the caches give out.
# heaplab plot hands over each series' rows together, in live_blocks order,
# so that a series' points are joined by its line.
# DATA: make scaling's CSV (live_blocks, then heaplab replay -f csv's columns:
# policy, ops_per_sec, ops_per_sec_min, ...; heaplab plot adds series and
# style).
# Usually run as: heaplab plot scaling out/scaling.csv -o scaling.png --backend gnuplot
USAGE = "usage: gnuplot -c plots/scaling.gp DATA OUT.png|OUT.svg|OUT.pdf WxH"
if (ARGC < 3) { exit error USAGE }
DATA = ARG1
OUT = ARG2
SIZE = ARG3
_dir = ""
do for [i = 1:strlen(ARG0)] { if (ARG0[i:i] eq "/") { _dir = ARG0[1:i] } }
load _dir . "heaplab.gp"

best(dummy) = column("ops_per_sec")
# the slowest pass; the best when the CSV has none
worst(dummy) = isnan(column("ops_per_sec_min")) || column("ops_per_sec_min") > best(0) ? \
    best(0) : column("ops_per_sec_min")
ok(dummy) = best(0) > 0 && column("live_blocks") > 0
eval FIND_SERIES
L = ""
stats DATA using (ok(0) ? (@ADD_SERIES, 0) : 0) nooutput
if (words(L) == 0) { exit error sprintf("%s: no row has an ops_per_sec value", DATA) }
NP = words(L)
eval STYLE_POLICIES
KEY_N = NP
KEY_LEN = 0
do for [j = 1:NP] { KEY_LEN = strlen(word(L, j)) > KEY_LEN ? strlen(word(L, j)) : KEY_LEN }
eval KEY_LAYOUT
eval KEY_SET
set bmargin at screen plot_bottom(4.0 * FS_PX / H)
set tmargin at screen 1 - 2.6 * FS_PX / H
eval DRAW_NOTES
me(j) = ok(0) && series(0) eq word(L, j)

set logscale xy
set format x "%.0s%c"
set format y "%.0e"
_x0 = 1e300
_x1 = 0
_y0 = 1e300
_y1 = 0
stats DATA using (ok(0) ? (_x0 = column("live_blocks") < _x0 ? column("live_blocks") : _x0, \
    _x1 = column("live_blocks") > _x1 ? column("live_blocks") : _x1, \
    _y0 = worst(0) < _y0 ? worst(0) : _y0, _y1 = best(0) > _y1 ? best(0) : _y1, 0) : 0) nooutput
set xrange [_x0 / 1.6:_x1 * 1.6]
set yrange [_y0 / 1.6:_y1 * 1.6]
set xlabel "live blocks (heaplab gen steady --live N)"
set ylabel "operations per second (log scale)"
set title titled("Throughput against live blocks (higher is faster)")
set bars small
# a line through each series' points (its rows come together, in order),
# and a whisker from each point down to the slowest pass
plot for [j = 1:NP] DATA using "live_blocks":(me(j) ? best(0) : NaN) \
        with linespoints lw 1.5 lc rgb COL[SI[j]] dt DT[SI[j]] pt PT[SI[j]] title word(L, j), \
     for [j = 1:NP] DATA using "live_blocks":(me(j) ? best(0) : NaN):(me(j) ? worst(0) : NaN):(me(j) ? best(0) : NaN) \
        with yerrorbars lc rgb COL[SI[j]] lw 1 pt PT[SI[j]] notitle
