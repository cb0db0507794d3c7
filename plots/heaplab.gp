# heaplab.gp - what heaplab's gnuplot scripts share.
#
# Not a chart: each chart script sets USAGE, DATA, OUT, SIZE (WxH) and
# TRACE from its arguments and loads it first.  It
#   - reads the size into W and H;
#   - sets the terminal: pngcairo or svg by OUT's extension, exactly W x H
#     pixels, fonts and lines scaled to the width so that the chart stays
#     legible when scaled to an A4 text width (as hlplot.py does);
#   - sets the data format: DATA ending in .tsv is tab-separated (what
#     `heaplab plot` hands the scripts), anything else comma-separated
#     (heaplab's own CSVs); the first line names the columns;
#   - defines the styles, the same as hlplot.py's: a style per registry
#     position ($HEAPLAB_POLICIES, set by heaplab plot), then the baselines'
#     greys; colour, point type, dash type, fill pattern (COL, PT, DT, PAT,
#     indexed by style);
#   - and small helpers: lists of names (add, pos), byte units, a bar key.
#
# A list is a string of double-quoted names: words(L) of them, word(L, i).

_x = strstrt(SIZE, "x")
if (_x < 2) { exit error USAGE }
W = int(SIZE[1:_x - 1])
H = int(SIZE[_x + 1:])
# a path's file name (recursion as deep as the path has slashes)
short(s) = strstrt(s, "/") ? short(s[strstrt(s, "/") + 1:]) : s
SVG = strlen(OUT) > 4 && OUT[strlen(OUT) - 3:] eq ".svg"

# a 9-point font on a figure 7 inches wide, like the matplotlib charts;
# FS_PX is its em in pixels, for placing things by hand
set encoding utf8
if (SVG) {
    FS = W / 56.0
    FS_PX = FS
    set terminal svg size W, H fixed font sprintf("Sans,%.1f", FS) noenhanced background "white" \
        linewidth W / 600.0
} else {
    FS = W / 77.0
    FS_PX = FS * 4 / 3.0
    set terminal pngcairo size W, H font sprintf("Sans,%.1f", FS) noenhanced background "white" \
        linewidth W / 600.0
}
set output OUT
set pointsize W / 700.0

if (strlen(DATA) > 4 && DATA[strlen(DATA) - 3:] eq ".tsv") {
    set datafile separator "\t"
} else {
    set datafile separator comma
}
set datafile columnheaders
set border lw 1
set grid lt 1 dt 1 lc rgb "#DDDDDD" lw 0.6
set title font sprintf(",%.1f", FS * 1.12)
set grid noxtics
set tics nomirror
set key noautotitle

isnan(v) = v != v

# ---- lists of names ----------------------------------------------------------
add(L, s) = strstrt(L, sprintf("\"%s\"", s)) ? L : L . sprintf(" \"%s\"", s)
pos(L, s) = _pos(L, s, 1)
_pos(L, s, i) = i > words(L) ? 0 : word(L, i) eq s ? i : _pos(L, s, i + 1)

# ---- styles (keep in step with hlplot.py's PALETTE, GREYS and styles()) ----------
# A style per registry position (the registry's policy names, in order, are
# $HEAPLAB_POLICIES, which heaplab plot sets), then the baselines' greys;
# slots past NSTYLE are made for variants.  The 12 colours are 12 grey
# levels apart as well as 12 hues (hlplot.py says how).  Point types: o s ^
# v D p filled 7 5 9 11 13 15, hollow one less; x + * 2 1 3.  Dash types 1-4
# are hlplot.py's DASHES; fill patterns: 0 none, 1 crosshatch, 2 dense
# crosshatch, 4 \, 5 /, 6 dense \, 7 dense / (hlplot.py's HATCHES, in order).
REG = system('printf "%s" "$HEAPLAB_POLICIES"')
NREG = words(REG)
NPAL = 12
GREY = NPAL + 1
NSTYLE = NPAL + 4
NSLOT = NSTYLE + 256
array COL[NSLOT] = ["#F48600", "#82C9ED", "#009D68", "#FC4C00", "#E187BC", "#005C9E", "#521131", "#959232", \
                    "#250942", "#1C726F", "#E2CA78", "#115021", \
                    "#000000", "#444444", "#777777", "#AAAAAA"]
array PT[NSLOT] = [7, 5, 9, 11, 15, 13, 6, 4, 8, 10, 14, 12, 2, 1, 8, 12]
array DT[NSLOT] = [1, 2, 1, 4, 2, 1, 3, 2, 4, 3, 2, 4, 3, 4, 3, 4]
array PAT[NSLOT] = [5, 4, 6, 7, 1, 2, 5, 0, 5, 4, 1, 0, 0, 4, 1, 2]
# luma (0.299 R + 0.587 G + 0.114 B) of a "#RRGGBB" colour, 0-1; hatching
# and text on a colour darker than 0.3 are white, else black
_hex(c) = int(sprintf("0x%s", c))
luma(c) = (0.299 * _hex(c[2:3]) + 0.587 * _hex(c[4:5]) + 0.114 * _hex(c[6:7])) / 255.0
ink(c) = luma(c) < 0.3 ? "white" : "black"
# for series that are not policies (traces): every style, one after the other
array SEQ[NSTYLE]
do for [i = 1:NSTYLE] { SEQ[i] = i }

flip_pt(p) = p >= 4 ? (p % 2 ? p - 1 : p + 1) : p
dt_step(d, k) = (d - 1 + k) % 4 + 1
_hatch_i(p) = p < 3 ? p : p - 1
_hatch_p(j) = j < 3 ? j : j + 1
pat_step(p, k) = _hatch_p((_hatch_i(p) + k) % 7)
# a policy's base name: without parameters
base(n) = strstrt(n, ":") ? n[1:strstrt(n, ":") - 1] : n

# eval NEW_VARIANT with _st_b (a slot) and _st_k (>= 1): slot _st_s becomes the
# _st_k-th variant of _st_b - its colour and marker shape, the fill flipped, the
# dashes (and with _st_h, the fill pattern) _st_k steps on
_st_slot = NSTYLE
NEW_VARIANT = '_st_slot = _st_slot < NSLOT ? _st_slot + 1 : NSTYLE + 1; _st_s = _st_slot; COL[_st_s] = COL[_st_b]; ' . \
    'PT[_st_s] = flip_pt(PT[_st_b]); DT[_st_s] = dt_step(DT[_st_b], _st_k); PAT[_st_s] = _st_h ? pat_step(PAT[_st_b], _st_k) : PAT[_st_b]'
# eval POSITION_STYLE with _st_p (a 1-based position: the registry's policies,
# then the series after them): its slot in _st_s; past the palette the styles
# come round again with the fill flipped and the dashes one step on
POSITION_STYLE = 'if (_st_p <= NPAL) { _st_s = _st_p } else { _st_b = (_st_p - 1) % NPAL + 1; _st_k = (_st_p - 1) / NPAL; _st_h = 0; ' . \
    'eval NEW_VARIANT }'

# eval STYLE_POLICIES: SI[i] = the style of the i-th name of list L, as
# hlplot.py's styles(): a registry policy the style of its registry
# position, each further variant of it (NAME:key=value) that style's next
# variant; glibc black, other baselines greys; any other name the next
# style after the registry's
STYLE_POLICIES = 'array SI[words(L)]; array _st_VC[NREG + 1]; do for [i = 1:NREG + 1] { _st_VC[i] = 0 }; ' . \
    '_st_others = 0; _st_greys = 0; ' . \
    'do for [i = 1:words(L)] { _st_n = word(L, i); ' . \
    'if (_st_n eq "baseline:glibc") { SI[i] = GREY } else { if (_st_n[1:9] eq "baseline:") { ' . \
    'SI[i] = GREY + 1 + _st_greys % 3; _st_greys = _st_greys + 1 } else { _st_r = pos(REG, base(_st_n)); ' . \
    'if (_st_r > 0) { _st_p = _st_r; eval POSITION_STYLE; if (_st_VC[_st_r] > 0) { _st_b = _st_s; _st_k = _st_VC[_st_r]; _st_h = 1; eval NEW_VARIANT }; ' . \
    '_st_VC[_st_r] = _st_VC[_st_r] + 1 } else { _st_p = NREG + 1 + _st_others; _st_others = _st_others + 1; eval POSITION_STYLE }; ' . \
    'SI[i] = _st_s } } }'
STYLE_SEQUENCE = 'array SI[words(L)]; do for [i = 1:words(L)] { SI[i] = SEQ[(i - 1) % NSTYLE + 1] }'

# ---- units ---------------------------------------------------------------------
# DIV and UNIT for byte values up to `largest`
byte_div(largest) = largest >= 2 * 2**30 ? 2**30 : largest >= 2 * 2**20 ? 2**20 : largest >= 2 * 2**10 ? 2**10 : 1
byte_unit(largest) = largest >= 2 * 2**30 ? "GiB" : largest >= 2 * 2**20 ? "MiB" : \
                     largest >= 2 * 2**10 ? "KiB" : "bytes"
percent(v) = sprintf("%g%%", v * 100)

# ---- the key, right of the plot ---------------------------------------------------
# eval KEY_RIGHT after setting L: the plot ends at screen x PLOT_RIGHT, the
# key starts at KEY_X, wide enough for the longest name of L and KEY_EXTRA
KEY_EXTRA = ""
KEY_RIGHT = '_len = strlen(KEY_EXTRA); ' . \
    'do for [i = 1:words(L)] { _len = strlen(word(L, i)) > _len ? strlen(word(L, i)) : _len }; ' . \
    'KEY_X = 1 - (_len * 0.56 + 4.5) * FS_PX / W; KEY_X = KEY_X < 0.55 ? 0.55 : KEY_X; PLOT_RIGHT = KEY_X - 0.01; ' . \
    'set rmargin at screen PLOT_RIGHT; set key at screen KEY_X, screen 0.96 left top Left reverse samplen 3 spacing 1.1'

# ---- a key for bars: colour and hatch, drawn by hand right of the plot --------------
# eval BAR_KEY after KEY_RIGHT and SI
KEY_STEP = 1.5 * FS_PX / H
BAR_KEY = 'do for [i = 1:words(L)] { _y = 0.95 - (i - 1) * KEY_STEP; ' . \
    'set object 1000 + 2 * i rect from screen KEY_X, screen _y - KEY_STEP * 0.7 ' . \
    'to screen KEY_X + 2.2 * FS_PX / W, screen _y fc rgb COL[SI[i]] fs solid 1.0 border lc "black" front; ' . \
    'set object 1001 + 2 * i rect from screen KEY_X, screen _y - KEY_STEP * 0.7 ' . \
    'to screen KEY_X + 2.2 * FS_PX / W, screen _y fc rgb "black" fs transparent pattern PAT[SI[i]] noborder front; ' . \
    'set label 1000 + i word(L, i) at screen KEY_X + 3 * FS_PX / W, screen _y - KEY_STEP * 0.35 left front }'
