# usage: gnuplot -c plots/heapmap.gp DATA OUT.png|OUT.svg|OUT.pdf WxH [TRACE]
#
# Heap map of one trace, a panel per policy: address (x, proportional to
# bytes, the same scale in every panel) against time (y, operations, going
# down).  A cell that holds at least one byte of a block in use and at least
# one byte of a free block (a header counts with its block; mapped blocks
# take no part) is mixed: there the heap has small blocks between free ones.
# A malloc-lab solution's bytes between payloads are unknown (its headers,
# footers, padding or free blocks: heaplab cannot tell which), never free: a
# cell with bytes in use and unknown bytes is payload + unknown, never mixed.
# Any other cell shows the state holding most of its bytes: payload in use,
# headers (and bookkeeping), free, mapped (the mmapped blocks, laid out after
# the heap's end), unknown, or beyond the heap; unknown and payload + unknown
# are in the legend only when drawn, and a solution's panel gets a note
# (chart.tsv).  The axes show the offsets and the
# operations drawn (heaplab plot heapmap --addr LO:HI --ops LO:HI zooms).
# DATA: a folder with panels.tsv and raster.txt, the raster heaplab makes
# from replay --heapmap's CSV (heaplab plot heapmap --keep-data DATA ...),
# with labels.tsv (a panel's title: --label) and chart.tsv (--title) when
# heaplab wrote them; TRACE: only for the title.
# Usually run as: heaplab plot heapmap heapmap.csv -o heapmap.png --backend gnuplot
USAGE = "usage: gnuplot -c plots/heapmap.gp DATA OUT.png|OUT.svg|OUT.pdf WxH [TRACE]"
if (ARGC < 3) { exit error USAGE }
DATA = ARG1
OUT = ARG2
SIZE = ARG3
TRACE = ARGC >= 4 ? ARG4 : ""
_dir = ""
do for [i = 1:strlen(ARG0)] { if (ARG0[i:i] eq "/") { _dir = ARG0[1:i] } }
load _dir . "heaplab.gp"

PANELS = DATA . "/panels.tsv"
RASTER = DATA . "/raster.txt"
CHART_DIR = DATA
eval READ_INFO
set datafile separator "\t"
stats PANELS using 0 nooutput
N = STATS_records
array PN[N]
array Y0[N]
array Y1[N]
array NR[N]
array BPC[N]
_i = 0
# UNKNOWN, USED_UNKNOWN: the cells drawn in those states, all panels
UNKNOWN = 0
USED_UNKNOWN = 0
stats PANELS using (_i = _i + 1, PN[_i] = strcol("policy"), Y0[_i] = column("op_first"), Y1[_i] = column("op_last"), \
    NR[_i] = column("rows"), BPC[_i] = column("bytes_per_col"), TOTAL = column("bytes"), \
    X0 = column("offset_first"), UNKNOWN = UNKNOWN + column("unknown_cells"), \
    USED_UNKNOWN = USED_UNKNOWN + column("payload_unknown_cells"), 0) nooutput
DIV = byte_div(TOTAL)
_set_label(i) = i > N ? 0 : (PN[i] eq _p ? (PN[i] = _l, 0) : _set_label(i + 1))
# a panel's title: its label (labels.tsv, --label), else its policy
LABELS = DATA . "/labels.tsv"
if (system("test -f '" . _sq(LABELS) . "' && echo 1") eq "1") {
    stats LABELS using (_p = strcol("policy"), _l = strcol("label"), _set_label(1), 0) nooutput
}

# raster.txt's digits: empty (beyond the heap), payload in use, header,
# free, mapped, mixed, unknown, payload + unknown: eight grey levels apart
# (white, 0.91, 0.84, 0.74, 0.64, 0.48, 0.34, black) as well as hues (light
# grey for unknown, a paler payload blue for payload + unknown)
array SNAME[8] = ["beyond the heap", "in use (payload)", "headers", "free", "mapped (mmap)", "mixed (used + free)", \
    "unknown (not a payload)", "payload + unknown"]
array SCOL[8] = ["#FFFFFF", "#0072B2", "#000000", "#E69F00", "#F0E442", "#B5589A", "#E8E8E8", "#9DC3E6"]
# cell value v is drawn in palette band [v, v + 1) of cbrange [0:8]
set palette defined (0 "#FFFFFF", 1 "#FFFFFF", 1 "#0072B2", 2 "#0072B2", 2 "#000000", 3 "#000000", \
    3 "#E69F00", 4 "#E69F00", 4 "#F0E442", 5 "#F0E442", 5 "#B5589A", 6 "#B5589A", 6 "#E8E8E8", 7 "#E8E8E8", \
    7 "#9DC3E6", 8 "#9DC3E6")
set cbrange [0:8]
unset colorbox

# the legend along the bottom, centred, in the order used, payload +
# unknown, unknown (those two only when drawn), headers, free, mixed,
# mapped, beyond; in as many rows as the width needs, the notes under it
array LORDER[8]
NL = 0
do for [_t in "2 8 7 3 4 6 5 1"] {
    _s = int(_t)
    if ((_s != 7 || UNKNOWN > 0) && (_s != 8 || USED_UNKNOWN > 0)) { NL = NL + 1; LORDER[NL] = _s }
}
_cw = 0
do for [_k = 1:NL] {
    s = LORDER[_k]
    _cw = (4.2 + strlen(SNAME[s]) * 0.6) * FS_PX / W > _cw ? (4.2 + strlen(SNAME[s]) * 0.6) * FS_PX / W : _cw
}
_cols = int(0.98 / _cw) < 6 ? int(0.98 / _cw) : 6
_cols = _cols < 1 ? 1 : _cols
_rows = int((NL + _cols - 1) / _cols)
_x0 = (1 - _cols * _cw) / 2
LEGEND_H = (_rows * 1.5 + 0.3) * FS_PX / H
do for [_k = 1:NL] {
    s = LORDER[_k]
    _x = _x0 + ((_k - 1) % _cols) * _cw
    _y = NOTES_H + LEGEND_H - (int((_k - 1) / _cols) + 1) * 1.5 * FS_PX / H
    set object 2000 + s rect from screen _x, screen _y + 0.1 * FS_PX / H to screen _x + 2.2 * FS_PX / W, \
        screen _y + 0.9 * FS_PX / H fc rgb SCOL[s] fs solid 1.0 border lc rgb "black"
    set label 2000 + s SNAME[s] at screen _x + 3 * FS_PX / W, screen _y + 0.5 * FS_PX / H left
}
eval DRAW_NOTES

# the layout hlplot.py uses: up to 4 panels in a row, else two rows
NCOL = N <= 4 ? N : int((N + 1) / 2)
NROW = int((N + NCOL - 1) / NCOL)
LEFT = 8 * FS_PX / W
RIGHT = 1 - 1.5 * FS_PX / W
TOP = 1 - 3 * FS_PX / H
BOTTOM = NOTES_H + LEGEND_H + 4.0 * FS_PX / H
GAPX = 1.5 * FS_PX / W
GAPY = 4.5 * FS_PX / H
PW = (RIGHT - LEFT - (NCOL - 1) * GAPX) / NCOL
PH = (TOP - BOTTOM - (NROW - 1) * GAPY - 1.6 * NROW * FS_PX / H) / NROW

set multiplot title titled(TRACE eq "" ? "Heap map" : sprintf("Heap map: %s", short(TRACE))) \
    font sprintf(",%.1f", FS * 1.12)
set datafile separator whitespace
set datafile nocolumnheaders
unset key
unset grid
set tics out nomirror
# the offsets drawn, in the unit of their span
set xrange [X0 / DIV:(X0 + TOTAL) / DIV]
# about four address ticks a panel, at 1, 2 or 5 times a power of ten
_raw = TOTAL / DIV / (NCOL > 2 ? 3.0 : 5.0)
_mag = 10 ** floor(log10(_raw))
_n = _raw / _mag
_step = _mag * (_n < 1.5 ? 1 : _n < 3.5 ? 2 : _n < 7.5 ? 5 : 10)
set xtics floor(X0 / DIV / _step) * _step, _step
do for [i = 1:N] {
    _c = (i - 1) % NCOL
    _r = int((i - 1) / NCOL)
    set lmargin at screen LEFT + _c * (PW + GAPX)
    set rmargin at screen LEFT + _c * (PW + GAPX) + PW
    set tmargin at screen TOP - _r * (PH + GAPY + 1.6 * FS_PX / H) - 1.6 * FS_PX / H
    set bmargin at screen TOP - _r * (PH + GAPY + 1.6 * FS_PX / H) - 1.6 * FS_PX / H - PH
    STEP = NR[i] > 1 ? (Y1[i] - Y0[i]) / (NR[i] - 1.0) : 1.0
    set yrange [Y1[i] + STEP / 2:Y0[i] - STEP / 2]
    set title PN[i] font sprintf(",%.1f", FS)
    if (_c == 0) {
        set format y "%.0f"
        set ylabel "operations (time runs down)"
    } else {
        set format y ""
        unset ylabel
    }
    if (_r == NROW - 1 || i + NCOL > N) {
        set format x "%.10g"
        set xlabel sprintf("address (%s)", byte_unit(TOTAL)) offset 0, 0.4
    } else {
        set format x ""
        unset xlabel
    }
    plot RASTER index (i - 1) matrix using ((X0 + ($1 + 0.5) * BPC[i]) / DIV):(Y0[i] + $2 * STEP):($3 + 0.5) with image
    unset object
    unset label
}
unset multiplot
