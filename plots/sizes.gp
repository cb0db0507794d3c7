# usage: gnuplot -c plots/sizes.gp DATA OUT.png|OUT.svg|OUT.pdf WxH
#
# Request sizes of one or more traces: a histogram with a bin per power of
# two (left) and the cumulative distribution (right), sizes on a log scale.
# Zero-byte requests have no place on a log scale and are not drawn.
# DATA: trace, size, count rows - what `heaplab plot sizes TRACE.rep...`
# extracts from the traces (--keep-data keeps it), and series: a trace's
# key text (its file name, or what --label made it).
# Usually run as: heaplab plot sizes TRACE.rep... -o sizes.png --backend gnuplot
USAGE = "usage: gnuplot -c plots/sizes.gp DATA OUT.png|OUT.svg|OUT.pdf WxH"
if (ARGC < 3) { exit error USAGE }
DATA = ARG1
OUT = ARG2
SIZE = ARG3
_dir = ""
do for [i = 1:strlen(ARG0)] { if (ARG0[i:i] eq "/") { _dir = ARG0[1:i] } }
load _dir . "heaplab.gp"

L = ""
_top = 1
stats DATA using (column("size") >= 1 ? (L = add(L, strcol("trace")), \
    _top = column("size") > _top ? column("size") : _top, 0) : 0) nooutput
if (words(L) == 0) { exit error sprintf("%s: no request of 1 byte or more", DATA) }
NT = words(L)
array TOTAL[NT]
array DISTINCT[NT]
do for [i = 1:NT] { TOTAL[i] = 0; DISTINCT[i] = 0 }
stats DATA using (column("size") >= 1 ? (_i = pos(L, strcol("trace")), TOTAL[_i] = TOTAL[_i] + column("count"), \
    DISTINCT[_i] = DISTINCT[_i] + 1, 0) : 0) nooutput
eval STYLE_SEQUENCE
# the key shows the series column (heaplab's labels), else file names
SCOL = 0
stats DATA every ::0::0 using (SCOL = findcol("series", 1), 0) nooutput
array LABEL[NT]
do for [i = 1:NT] { LABEL[i] = short(word(L, i)) }
if (SCOL) { stats DATA using (column("size") >= 1 ? (LABEL[pos(L, strcol("trace"))] = strcol(SCOL), 0) : 0) nooutput }
_names = L
L = ""
do for [i = 1:NT] { L = L . quoted(LABEL[i]) }
KEY_N = NT
KEY_LEN = 5
do for [i = 1:NT] { KEY_LEN = strlen(LABEL[i]) > KEY_LEN ? strlen(LABEL[i]) : KEY_LEN }
KEY_TITLE = "trace"
eval KEY_LAYOUT
BOTTOM = plot_bottom(4 * FS_PX / H)

me(i) = column("size") >= 1 && strcol("trace") eq word(_names, i)
bin(s) = 2 ** floor(log(s) / log(2) + 1e-9)

# the histogram's bins, one block per trace (index i - 1)
set yrange [0:*]
set table $BINS
plot for [i = 1:NT] DATA using (me(i) ? bin(column("size")) : NaN):(column("count")) smooth frequency
unset table

# size ticks: powers of two with K = 1024 and M = 1024 K
_k1 = int(log(_top) / log(2)) + 1
_step = _k1 > 16 ? 4 : 2
_xt = ""
do for [k = 0:_k1:_step] { _xt = _xt . sprintf('%s"%s" %.0f', k ? ", " : "", \
    k < 10 ? sprintf("%d", 2**k) : k < 20 ? sprintf("%dK", 2**(k - 10)) : sprintf("%dM", 2**(k - 20)), 2.0**k) }
eval "set xtics (" . _xt . ")"
set logscale x 2
set xrange [1:2.0**_k1]
set mxtics default

set multiplot title titled("Request sizes (malloc, calloc, memalign, realloc)") font sprintf(",%.1f", FS * 1.12)
eval DRAW_NOTES
set lmargin at screen 7 * FS_PX / W
set tmargin at screen 1 - 4.8 * FS_PX / H
set bmargin at screen BOTTOM
_mid = 7 * FS_PX / W + (PLOT_RIGHT - 7 * FS_PX / W - 6 * FS_PX / W) / 2
set rmargin at screen _mid
set xlabel "request size (bytes; K = 1024)"
set ylabel "requests per power-of-two bin"
set title "Histogram"
set yrange [0:*]
unset key
set datafile separator whitespace
set datafile nocolumnheaders
if (NT == 1) {
    plot $BINS index 0 using ($1 * sqrt(2)):2:($1):($1 * 2):(0):2 with boxxyerror \
            fs solid 1.0 border lc rgb "black" lc rgb COL[SI[1]], \
         $BINS index 0 using ($1 * sqrt(2)):2:($1):($1 * 2):(0):2 with boxxyerror \
            fs transparent pattern PAT[SI[1]] noborder lc rgb ink(COL[SI[1]])
} else {
    plot for [i = 1:NT] $BINS index (i - 1) using ($1 * sqrt(2)):2:($1):($1 * 2):(0):2 with boxxyerror fs empty \
        lw 1.6 dt DT[SI[i]] lc rgb COL[SI[i]]
}

if (DATA[strlen(DATA) - 3:] eq ".tsv") { set datafile separator "\t" } else { set datafile separator comma }
set datafile columnheaders
set lmargin at screen _mid + 6 * FS_PX / W
set rmargin at screen PLOT_RIGHT
set title "Cumulative distribution"
set ylabel "requests of this size or smaller"
set yrange [0:102]
set format y "%g%%"
eval KEY_SET
# steps and a marker every eighth distinct size; the key shows both
plot for [i = 1:NT] DATA using "size":(me(i) ? 100 * column("count") / TOTAL[i] : NaN) smooth cumulative \
        with steps lw 1.6 dt DT[SI[i]] lc rgb COL[SI[i]], \
     for [i = 1:NT] DATA using "size":(me(i) ? 100 * column("count") / TOTAL[i] : NaN) smooth cumulative \
        with points pt PT[SI[i]] lc rgb COL[SI[i]] pi (DISTINCT[i] > 16 ? int(DISTINCT[i] / 8) : 1), \
     for [i = 1:NT] NaN with linespoints lw 1.6 dt DT[SI[i]] pt PT[SI[i]] lc rgb COL[SI[i]] title LABEL[i]
unset multiplot
