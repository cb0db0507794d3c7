# usage: gnuplot -c plots/styles.gp "NAME..."
#
# Not a chart: each series name's style as the charts draw it (heaplab.gp's
# STYLE_POLICIES), a line each on stdout - name, colour, point type, dash
# type, fill pattern, the colour's luma (its grey level, 0-1) -
# tab-separated, for checking them.  The registry's policy names come from
# $HEAPLAB_POLICIES, as in the charts.
USAGE = 'usage: gnuplot -c plots/styles.gp "NAME..."'
if (ARGC < 1) { exit error USAGE }
L = ARG1
DATA = "-"
OUT = "/dev/null"
SIZE = "800x600"
_dir = ""
do for [i = 1:strlen(ARG0)] { if (ARG0[i:i] eq "/") { _dir = ARG0[1:i] } }
load _dir . "heaplab.gp"
unset output

if (words(L) > 0) { eval STYLE_POLICIES }
set print "-"
do for [i = 1:words(L)] {
    print sprintf("%s\t%s\t%d\t%d\t%d\t%.4f", word(L, i), COL[SI[i]], PT[SI[i]], DT[SI[i]], PAT[SI[i]], \
        luma(COL[SI[i]]))
}
