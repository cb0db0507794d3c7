# heaplab.gp - what heaplab's gnuplot scripts share.
#
# Not a chart: each chart script sets USAGE, DATA, OUT, SIZE (WxH) and
# TRACE from its arguments and loads it first.  It
#   - reads the size into W and H;
#   - sets the terminal: pngcairo, svg or pdfcairo by OUT's extension,
#     exactly W x H pixels (a PDF: 7 inches wide, W x H in proportion),
#     fonts and lines scaled to the width so that the chart stays legible
#     when scaled to an A4 text width (as hlplot.py does);
#   - sets the data format: DATA ending in .tsv is tab-separated (what
#     `heaplab plot` hands the scripts), anything else comma-separated
#     (heaplab's own CSVs); the first line names the columns;
#   - reads what heaplab says about the chart (chart.tsv beside DATA; in it
#     for a folder: eval READ_INFO again after setting CHART_DIR): the
#     title (TITLE_SET, "" for the chart's own; titled(default) picks),
#     the notes (NOTE_LINE[1..NOTE_LINES], wrapped; eval DRAW_NOTES puts
#     them under everything, NOTES_H high) and the mean's label (MEAN_LABEL);
#   - defines the styles, the same as hlplot.py's: a style per registry
#     position ($HEAPLAB_POLICIES, set by heaplab plot), then the baselines'
#     greys; colour, point type, dash type, fill pattern (COL, PT, DT, PAT,
#     indexed by style), and INK, the colour hatching shows in on it;
#   - finds the series and style columns (eval FIND_SERIES: series(0) and
#     stylename(0), the policy when the CSV has none);
#   - and lays out the key so that it never clips (eval KEY_LAYOUT, then
#     KEY_SET for a line key, BAR_KEY for bars): right of the plot in as
#     many columns as fit the height; below it when that is wider than 40%
#     of the chart; in a smaller font when even that takes a third of it;
#   - and small helpers: lists of names (add, pos), byte units.
#
# A list is a string of double-quoted names: words(L) of them, word(L, i).

_x = strstrt(SIZE, "x")
if (_x < 2) { exit error USAGE }
W = int(SIZE[1:_x - 1])
H = int(SIZE[_x + 1:])
# a path's file name (recursion as deep as the path has slashes), and its folder
short(s) = strstrt(s, "/") ? short(s[strstrt(s, "/") + 1:]) : s
dirname(s) = strlen(s) > strlen(short(s)) ? s[1:strlen(s) - strlen(short(s)) - 1] : "."
ends(s, e) = strlen(s) >= strlen(e) && s[strlen(s) - strlen(e) + 1:] eq e
SVG = ends(OUT, ".svg")
PDF = ends(OUT, ".pdf")

# a 9-point font on a figure 7 inches wide, like the matplotlib charts;
# FS_PX is its em in W x H units, for placing things by hand
set encoding utf8
if (SVG) {
    FS = W / 56.0
    FS_PX = FS
    set terminal svg size W, H fixed font sprintf("Sans,%.1f", FS) noenhanced background "white" \
        linewidth W / 600.0
} else {
    if (PDF) {
        FS = 9.0
        FS_PX = W / 56.0
        set terminal pdfcairo size 7in, (7.0 * H / W) * 1in font "Sans,9" fontscale 0.7 noenhanced background "white" \
            linewidth 1.4
    } else {
        FS = W / 77.0
        FS_PX = FS * 4 / 3.0
        set terminal pngcairo size W, H font sprintf("Sans,%.1f", FS) noenhanced background "white" \
            linewidth W / 600.0
    }
}
set output OUT
set pointsize (PDF ? 0.8 : W / 700.0)

if (ends(DATA, ".tsv")) {
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

# eval STYLE_POLICIES: SI[i] = the style of the i-th name of list LS (the
# style names; the series' labels, list L, when LS is ""), as hlplot.py's
# styles(): a registry policy the style of its registry position, each
# further variant of it (NAME:key=value) that style's next variant; glibc
# black, other baselines greys; any other name the next style after the
# registry's
LS = ""
STYLE_POLICIES = 'if (LS eq "") { LS = L }; array SI[words(LS)]; array _st_VC[NREG + 1]; do for [i = 1:NREG + 1] { _st_VC[i] = 0 }; ' . \
    '_st_others = 0; _st_greys = 0; ' . \
    'do for [i = 1:words(LS)] { _st_n = word(LS, i); ' . \
    'if (_st_n eq "baseline:glibc") { SI[i] = GREY } else { if (_st_n[1:9] eq "baseline:") { ' . \
    'SI[i] = GREY + 1 + _st_greys % 3; _st_greys = _st_greys + 1 } else { _st_r = pos(REG, base(_st_n)); ' . \
    'if (_st_r > 0) { _st_p = _st_r; eval POSITION_STYLE; if (_st_VC[_st_r] > 0) { _st_b = _st_s; _st_k = _st_VC[_st_r]; _st_h = 1; eval NEW_VARIANT }; ' . \
    '_st_VC[_st_r] = _st_VC[_st_r] + 1 } else { _st_p = NREG + 1 + _st_others; _st_others = _st_others + 1; eval POSITION_STYLE }; ' . \
    'SI[i] = _st_s } } }'
STYLE_SEQUENCE = 'array SI[words(L)]; do for [i = 1:words(L)] { SI[i] = SEQ[(i - 1) % NSTYLE + 1] }'

# ---- the series columns -----------------------------------------------------------
# eval FIND_SERIES: SERIES_COL and STYLE_COL, the columns of a series' label
# and style name in DATA (what heaplab plot adds), or the policy column's
# in a CSV without them; series(0) and stylename(0) read them.  ADD_SERIES,
# inside a using expression, adds the row's series to L and its style name
# to LS.
findcol(name, i) = i > 40 ? 0 : columnhead(i) eq name ? i : findcol(name, i + 1)
FIND_SERIES = 'SERIES_COL = 0; STYLE_COL = 0; _pcol = 0; stats DATA every ::0::0 using (SERIES_COL = findcol("series", 1), ' . \
    'STYLE_COL = findcol("style", 1), _pcol = findcol("policy", 1), 0) nooutput; ' . \
    'SERIES_COL = SERIES_COL ? SERIES_COL : _pcol; STYLE_COL = STYLE_COL ? STYLE_COL : _pcol'
series(dummy) = strcol(SERIES_COL)
stylename(dummy) = strcol(STYLE_COL)
quoted(s) = sprintf(" \"%s\"", s)
ADD_SERIES = '(strstrt(L, quoted(series(0))) ? 0 : (L = L . quoted(series(0)), LS = LS . quoted(stylename(0))))'

# ---- what heaplab says about the chart: chart.tsv ------------------------------------
# its path quoted for the shell, to ask whether it is there
_sq(s) = strstrt(s, "'") ? s[1:strstrt(s, "'") - 1] . "'\\''" . _sq(s[strstrt(s, "'") + 1:]) : s
CHART_DIR = dirname(DATA)
NOTE_MAX = 64
array NOTE_LINE[NOTE_MAX]
# the notes' font, their line height and the characters a line holds
NOTE_FS = FS * 7.0 / 9.0
NOTE_STEP = 1.35 * FS_PX * 7.0 / 9.0 / H
NOTE_CHARS = int(W / (FS_PX * 7.0 / 9.0 * 0.56))
READ_INFO = 'TITLE_SET = ""; MEAN_LABEL = ""; NOTE_LINES = 0; _cf = CHART_DIR . "/chart.tsv"; ' . \
    'if (system("test -f ''" . _sq(_cf) . "'' && echo 1") eq "1") { ' . \
    '  set datafile separator "\t"; ' . \
    '  stats _cf using ((strcol(1) eq "title" ? (TITLE_SET = strcol(2), 0) : 0), ' . \
    '    (strcol(1) eq "mean_label" ? (MEAN_LABEL = strcol(2), 0) : 0), (strcol(1) eq "note" ? wrap_note(strcol(2)) : 0), 0) nooutput; ' . \
    '  if (ends(DATA, ".tsv")) { set datafile separator "\t" } else { set datafile separator comma } }; ' . \
    'NOTES_H = NOTE_LINES ? (NOTE_LINES + 0.4) * NOTE_STEP : 0'
# a note, wrapped into NOTE_LINE[]: word by word (recursion a word deep)
wrap_note(s) = (_wl = "Note:", _wrap(s . " ", 1), 0)
_wrap(s, i) = i > strlen(s) ? (_push(_wl), 0) : \
    (_sp = strstrt(s[i:], " "), _w = s[i:i + _sp - 2], \
     strlen(_wl) + 1 + strlen(_w) > NOTE_CHARS ? (_push(_wl), _wl = _w) : (_wl = _wl . " " . _w), \
     _wrap(s, i + _sp))
_push(line) = NOTE_LINES < NOTE_MAX ? (NOTE_LINES = NOTE_LINES + 1, NOTE_LINE[NOTE_LINES] = line, 0) : 0
titled(default) = TITLE_SET ne "" ? TITLE_SET : default
# eval DRAW_NOTES: the notes as labels under everything
DRAW_NOTES = 'NOTE_FONT = sprintf(",%.1f", NOTE_FS); do for [i = 1:NOTE_LINES] { set label 3000 + i NOTE_LINE[i] at screen 0.01, ' . \
    'screen NOTES_H - (i - 0.3) * NOTE_STEP left front font NOTE_FONT textcolor rgb "#222222" }'
if (DATA ne "-") { eval READ_INFO } else { TITLE_SET = ""; MEAN_LABEL = ""; NOTE_LINES = 0; NOTES_H = 0 }

# ---- units ---------------------------------------------------------------------
# DIV and UNIT for byte values up to `largest`
byte_div(largest) = largest >= 2 * 2**30 ? 2**30 : largest >= 2 * 2**20 ? 2**20 : largest >= 2 * 2**10 ? 2**10 : 1
byte_unit(largest) = largest >= 2 * 2**30 ? "GiB" : largest >= 2 * 2**20 ? "MiB" : \
                     largest >= 2 * 2**10 ? "KiB" : "bytes"
percent(v) = sprintf("%g%%", v * 100)

# ---- the key -------------------------------------------------------------------------
# eval KEY_LAYOUT with KEY_N (entries), KEY_LEN (characters of the longest),
# KEY_TITLE (a title line, "" for none), KEY_ROOM (the height the key may
# take right of the plot, a fraction: default the chart's less the notes):
#   KEY_MODE 1, right: the plot ends at screen PLOT_RIGHT, the key starts at
#     KEY_X, top KEY_Y, in KEY_COLS columns of KEY_ROWS;
#   KEY_MODE 2, below: the key is KEY_H high above the notes, centred, in
#     KEY_COLS columns; the plot starts at screen PLOT_BOTTOM_KEY or higher
#     (KEY_BELOW_H is what the key and the notes take).
# KEY_FS: the key's font (9, 7.5 or 6.5 points on the 7-inch figure);
# KEY_STEP its line height, KEY_COLW a column's width (fractions).
KEY_TITLE = ""
KEY_ROOM = 0
KEY_LAYOUT = '_room = KEY_ROOM > 0 ? KEY_ROOM : 0.92 - NOTES_H; KEY_MODE = 0; ' . \
    'do for [_f = 1:3] { if (KEY_MODE == 0) { KEY_SCALE = _f == 1 ? 8.0 / 9.0 : _f == 2 ? 7.0 / 9.0 : 6.0 / 9.0; ' . \
    '  KEY_FS = FS * KEY_SCALE; KEY_STEP = 1.45 * FS_PX * KEY_SCALE / H; ' . \
    '  KEY_COLW = ((KEY_LEN * 0.6 + 5.0) * FS_PX * KEY_SCALE) / W; _tl = KEY_TITLE ne "" ? 1 : 0; ' . \
    '  KEY_ROWS = int(_room / KEY_STEP) - _tl; KEY_ROWS = KEY_ROWS < 1 ? 1 : KEY_ROWS; ' . \
    '  KEY_COLS = int((KEY_N + KEY_ROWS - 1) / KEY_ROWS); KEY_ROWS = int((KEY_N + KEY_COLS - 1) / KEY_COLS); ' . \
    '  if (KEY_COLS * KEY_COLW <= 0.4) { KEY_MODE = 1; KEY_X = 1 - KEY_COLS * KEY_COLW - 0.01; ' . \
    '    KEY_Y = 0.95; PLOT_RIGHT = KEY_X - 0.01; KEY_BELOW_H = NOTES_H } else { ' . \
    '    KEY_COLS = int(0.98 / KEY_COLW); KEY_COLS = KEY_COLS < 1 ? 1 : KEY_COLS > KEY_N ? KEY_N : KEY_COLS; ' . \
    '    KEY_ROWS = int((KEY_N + KEY_COLS - 1) / KEY_COLS); KEY_H = (KEY_ROWS + _tl + 0.4) * KEY_STEP; ' . \
    '    if (KEY_H <= 1.0 / 3 || _f == 3) { KEY_MODE = 2; KEY_X = (1 - KEY_COLS * KEY_COLW) / 2; ' . \
    '      KEY_Y = NOTES_H + KEY_H; PLOT_RIGHT = 1 - 2.5 * FS_PX / W; KEY_BELOW_H = NOTES_H + KEY_H } } } }'
# eval KEY_SET after KEY_LAYOUT: gnuplot's key where KEY_LAYOUT put it
KEY_SET = 'set rmargin at screen PLOT_RIGHT; KEY_FONT = sprintf(",%.1f", KEY_FS); ' . \
    'if (KEY_MODE == 1) { set key at screen KEY_X, screen KEY_Y left top Left reverse samplen 3 spacing 1.1 ' . \
    '  vertical maxrows KEY_ROWS width 0 font KEY_FONT } else { ' . \
    '  set key at screen KEY_X, screen KEY_Y left top Left reverse samplen 3 spacing 1.1 horizontal ' . \
    '  maxcols KEY_COLS maxrows KEY_ROWS + 1 width 0 font KEY_FONT }; ' . \
    'if (KEY_TITLE ne "") { set key title KEY_TITLE left }'
# the lowest the plot may reach: above the key and notes, leaving `axis`
# (a fraction) for the x tic labels and the x label
plot_bottom(axis) = KEY_BELOW_H + axis

# ---- a key for bars: colour and hatch, drawn by hand where KEY_LAYOUT says ------------
# eval BAR_KEY after KEY_LAYOUT and SI: a swatch and a name for each of list L
_kx(i) = KEY_MODE == 1 ? KEY_X + int((i - 1) / KEY_ROWS) * KEY_COLW : KEY_X + ((i - 1) % KEY_COLS) * KEY_COLW
_ky(i) = KEY_MODE == 1 ? KEY_Y - ((i - 1) % KEY_ROWS) * KEY_STEP : KEY_Y - int((i - 1) / KEY_COLS) * KEY_STEP
BAR_KEY = 'KEY_FONT = sprintf(",%.1f", KEY_FS); do for [i = 1:words(L)] { _x0 = _kx(i); _y0 = _ky(i) - 0.1 * KEY_STEP; ' . \
    'set object 1000 + 2 * i rect from screen _x0, screen _y0 - KEY_STEP * 0.7 ' . \
    'to screen _x0 + 2.2 * FS_PX * KEY_SCALE / W, screen _y0 fc rgb COL[SI[i]] fs solid 1.0 border lc "black" front; ' . \
    'set object 1001 + 2 * i rect from screen _x0, screen _y0 - KEY_STEP * 0.7 ' . \
    'to screen _x0 + 2.2 * FS_PX * KEY_SCALE / W, screen _y0 fc rgb ink(COL[SI[i]]) fs transparent pattern PAT[SI[i]] noborder front; ' . \
    'set label 1000 + i word(L, i) at screen _x0 + 3 * FS_PX * KEY_SCALE / W, screen _y0 - KEY_STEP * 0.35 left front ' . \
    'font KEY_FONT }'
