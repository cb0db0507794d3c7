#!/bin/sh
# sweep-engines.sh - heaplab sweep's engines on one plan (tests/check_sweep.c runs it).
#
#   sweep-engines.sh local|parallel|resume|slurm-script|slurm HEAPLAB SRCDIR
#
# Every case makes the same plan of 28 cells from the bundled traces (a few
# seconds in all), runs it locally (-j 2) as the reference, then runs it its
# own way and checks that `heaplab merge --plan` of the two result folders
# agree in every deterministic column, no cell missing or twice:
#   local         the reference itself, against each cell replayed directly
#                 with `heaplab replay` (the sweep adds nothing but columns)
#   parallel      the command `sweep emit parallel` prints, run by GNU parallel,
#                 on its own and with --sshloginfile naming this machine (':')
#   resume        the same, killed by its own job once half the cells have a
#                 result (a temporary file left behind as a killed cell
#                 leaves one), then started again: --resume-failed and the
#                 cells' own skip finish it
#   slurm-script  the sbatch script: bash -n, and one array task by hand
#                 (SLURM_ARRAY_TASK_ID=1) runs exactly that task's cells
#   slurm         a single-node Slurm started here (slurmctld -D, slurmd -D,
#                 munged, a generated slurm.conf): the script submits the
#                 array and the dependent merge job; waits on squeue, with a
#                 deadline, then compares the merge job's output
# Exit status 0 passed, 1 failed (with what differs), 77 skipped (with why).
set -eu

case_=$1
heaplab=$2
src=$3

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/heaplab-sweep-XXXXXX")
work=$(cd "$work" && pwd -P)
daemons=""
cleanup() {
    for p in $daemons; do kill "$p" 2>/dev/null || true; done
    for p in $daemons; do
        # our daemons, by pid: wait until each is gone before removing its folder
        while kill -0 "$p" 2>/dev/null; do wait "$p" 2>/dev/null || true; done
    done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
cd "$work"
mkdir traces
cp "$src"/traces/*.rep traces/

# 7 traces x 2 presets x 2 mmap thresholds = 28 cells of 5 rows (+ glibc when this build has baselines)
"$heaplab" sweep plan -p first-fit -p best-fit -p tlsf --param tlsf:sl=4,32 --preset linux,malloclab \
    --mmap-threshold 64k,128k --repeat 1 -o plan 'traces/*.rep' 2>/dev/null
cells=$("$heaplab" sweep list --ids plan | wc -l)
[ "$cells" -eq 28 ] || fail "the plan has $cells cells, expected 28"

# the deterministic columns of a merged CSV: everything but the timings, the
# resident-set figures and the perf index (python3 reads the quoting)
deterministic() {
    python3 - "$1" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
skip = {'ops_per_sec', 'ops_per_sec_median', 'ops_per_sec_min', 'p50_ns', 'p99_ns', 'peak_rss_bytes',
        'rss_after_bytes', 'perf_index'}
keep = [i for i, name in enumerate(rows[0]) if name not in skip]
for r in rows:
    print('\t'.join(r[i] for i in keep))
EOF
}

# the merged file has every cell of the plan once: merge --plan exits 0 only then
merge_checked() { # DIR OUT
    "$heaplab" merge --plan plan -o "$2" "$1" 2>merge.err || { cat merge.err >&2; fail "merge of $1 failed"; }
    n=$(python3 -c 'import csv,sys; print(len({r["cell"] for r in csv.DictReader(open(sys.argv[1]))}))' "$2")
    [ "$n" -eq "$cells" ] || fail "$2 has $n cells, the plan $cells"
}

same_as() { # A.csv B.csv
    deterministic "$1" >a.tsv
    deterministic "$2" >b.tsv
    cmp -s a.tsv b.tsv || { diff a.tsv b.tsv | head -20 >&2; fail "$1 and $2 differ in a deterministic column"; }
    [ "$(wc -l <a.tsv)" -gt "$cells" ] || fail "$1 has too few rows"
}

"$heaplab" sweep local plan -j 2 --results local 2>local.err || { cat local.err >&2; fail "sweep local failed"; }
grep -q "28 cells: 28 run, 0 already done, 0 failed" local.err || { cat local.err >&2; fail "sweep local's summary"; }
merge_checked local local.csv

case $case_ in
local)
    # each cell replayed directly: the same rows, the sweep's columns aside
    printf 'trace,policy\n' >direct.csv
    "$heaplab" sweep list plan | while read -r id line; do
        eval "set -- $line"
        "$heaplab" replay "$@" -f csv 2>/dev/null | tail -n +2 >>direct.csv
    done
    python3 - local.csv direct.csv <<'EOF' || fail "a row of the sweep differs from heaplab replay's"
import csv, sys
merged = list(csv.reader(open(sys.argv[1], newline='')))
direct = list(csv.reader(open(sys.argv[2], newline='')))[1:]
head = merged[0]
skip = {'ops_per_sec', 'ops_per_sec_median', 'ops_per_sec_min', 'p50_ns', 'p99_ns', 'peak_rss_bytes',
        'rss_after_bytes', 'perf_index'}
n = head.index('status') + 1
keep = [i for i in range(n) if head[i] not in skip]
assert len(merged) - 1 == len(direct), (len(merged) - 1, len(direct))
for m, d in zip(merged[1:], direct):
    assert [m[i] for i in keep] == [d[i] for i in keep], (m, d)
EOF
    # a second run finds every result there and runs nothing
    "$heaplab" sweep local plan -j 2 --results local 2>again.err
    grep -q "28 cells: 0 run, 28 already done" again.err || { cat again.err >&2; fail "a second sweep local re-ran cells"; }
    ;;
parallel)
    command -v parallel >/dev/null || skip "GNU parallel is not installed (Debian: parallel; scripts/install-deps)"
    cmd=$("$heaplab" sweep emit parallel plan -j 2 --results par)
    sh -c "$cmd" >par.out 2>&1 || { cat par.out >&2; fail "parallel: $cmd"; }
    [ "$(tail -n +2 par/parallel.joblog | wc -l)" -eq "$cells" ] || fail "parallel's job log has not $cells jobs"
    merge_checked par par.csv
    same_as local.csv par.csv
    # through parallel's remote-host path (--sshloginfile, --workdir), with this machine as the host
    printf ':\n' >hosts
    cmd=$("$heaplab" sweep emit parallel plan --sshloginfile hosts --results host)
    case $cmd in *"--sshloginfile hosts --workdir $work "*) ;; *) fail "no --workdir in: $cmd" ;; esac
    sh -c "$cmd" >host.out 2>&1 || { cat host.out >&2; fail "parallel: $cmd"; }
    merge_checked host host.csv
    same_as local.csv host.csv
    ;;
resume)
    command -v parallel >/dev/null || skip "GNU parallel is not installed (Debian: parallel; scripts/install-deps)"
    half=$((cells / 2))
    # heaplab behind a wrapper that, once half the cells have a result, kills
    # the whole run (parallel and every job of its process group) once
    cat >heaplab-killer <<EOF
#!/bin/sh
"$heaplab" "\$@"
rc=\$?
if [ ! -e killed ] && [ "\$(ls kill/*.csv 2>/dev/null | wc -l)" -ge $half ]; then
    : >killed
    kill -TERM -\$(cat run.pgid)
fi
exit \$rc
EOF
    chmod +x heaplab-killer
    cmd=$("$heaplab" sweep emit parallel plan -j 1 --results kill --heaplab "$work/heaplab-killer")
    # a process group of its own, so the kill reaches parallel and its jobs only
    setsid -w sh -c 'echo $$ >run.pgid; exec sh -c "$0"' "$cmd" >kill1.out 2>&1 || true
    [ -e killed ] || fail "the run was not killed half-way"
    done1=$(ls kill/*.csv | wc -l)
    [ "$done1" -ge "$half" ] && [ "$done1" -lt "$cells" ] || fail "$done1 of $cells cells done when killed"
    # what a cell killed in its write leaves: a hidden temporary file, never a result
    : >"kill/.$("$heaplab" sweep list --ids plan | tail -1).99999.tmp"
    "$heaplab" merge --plan plan -o partial.csv kill 2>partial.err && fail "a merge with cells missing exited 0"
    grep -q "of $cells cells of plan have no result" partial.err || { cat partial.err >&2; fail "missing cells not named"; }
    sh -c "$cmd" >kill2.out 2>&1 || { cat kill2.out >&2; fail "the resumed run failed"; }
    merge_checked kill kill.csv
    same_as local.csv kill.csv
    # the resumed run ran only what was missing
    ran2=$(grep -c ": done in " kill2.out || true)
    [ "$ran2" -le $((cells - done1)) ] || fail "the resumed run ran $ran2 cells, $((cells - done1)) were missing"
    ;;
slurm-script | slurm)
    "$heaplab" sweep emit slurm plan -o sweep.sbatch --per-task 4 --limit 3 --mem 64M --time 5 --results slurm \
        --merged slurm.csv 2>/dev/null
    bash -n sweep.sbatch || fail "the sbatch script does not parse (bash -n)"
    grep -q '^#SBATCH --array=0-6%3$' sweep.sbatch || fail "the script's --array is not 0-6%3"
    if [ "$case_" = slurm-script ]; then
        SLURM_ARRAY_TASK_ID=1 bash sweep.sbatch 2>task.err || { cat task.err >&2; fail "task 1 by hand"; }
        "$heaplab" sweep list --ids plan | sed -n '5,8p' | sed 's|.*|slurm/&.csv|' | sort >want
        ls slurm/*.csv | sort >got
        cmp -s want got || { diff want got >&2; fail "task 1 did not run exactly cells 4-7"; }
        SLURM_ARRAY_TASK_ID=6 bash sweep.sbatch 2>task.err || { cat task.err >&2; fail "the last task by hand"; }
        [ "$(ls slurm/*.csv | wc -l)" -eq 8 ] || fail "the last task (cells 24-27) did not run"
        echo "ok: $case_"
        exit 0
    fi
    [ "$(id -u)" -eq 0 ] || skip "a single-node Slurm needs root"
    for p in slurmctld slurmd munged sbatch squeue sinfo; do
        command -v "$p" >/dev/null ||
            skip "$p is not installed (Debian: slurmctld slurmd slurm-client munge; not in scripts/install-deps)"
    done
    s=$work/slurm-node
    mkdir -p "$s/state" "$s/spool"
    head -c 1024 /dev/urandom >"$s/munge.key"
    chmod 600 "$s/munge.key"
    munged -F --force --key-file="$s/munge.key" --socket="$s/munge.sock" --pid-file="$s/munged.pid" \
        --seed-file="$s/munge.seed" --log-file="$s/munged.log" >"$s/munged.out" 2>&1 &
    daemons="$daemons $!"
    host=$(hostname -s)
    port=$((20000 + $$ % 10000 * 2)) # the controller even, the node odd: two runs never share one
    mem=$(awk '/^MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)
    cat >"$s/slurm.conf" <<EOF
ClusterName=heaplabtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$s/munge.sock
StateSaveLocation=$s/state
SlurmdSpoolDir=$s/spool
SlurmctldPidFile=$s/slurmctld.pid
SlurmdPidFile=$s/slurmd.pid
SlurmctldLogFile=$s/slurmctld.log
SlurmdLogFile=$s/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
MpiDefault=none
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    export SLURM_CONF="$s/slurm.conf"
    # munged's socket, then the controller, then the node: each waited for by polling, with a deadline
    deadline=$(($(date +%s) + 60))
    until [ -S "$s/munge.sock" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || skip "munged did not start here: $(tail -2 "$s/munged.log" 2>/dev/null)"
        sleep 0.1
    done
    slurmctld -D -i >"$s/slurmctld.out" 2>&1 &
    daemons="$daemons $!"
    slurmd -D -N "$host" >"$s/slurmd.out" 2>&1 &
    daemons="$daemons $!"
    until sinfo -h -o %T 2>/dev/null | grep -q idle; do
        [ "$(date +%s)" -lt "$deadline" ] ||
            skip "the single-node Slurm did not come up here: $(tail -n 3 "$s"/slurm*.log "$s"/slurm*.out 2>/dev/null)"
        sleep 0.2
    done
    bash sweep.sbatch >submit.out 2>&1 || { cat submit.out >&2; fail "bash sweep.sbatch (submission) failed"; }
    jobs=$(sed -n 's/.*array job \([0-9]*\) .*merge job \([0-9]*\) .*/\1,\2/p' submit.out)
    [ -n "$jobs" ] || { cat submit.out >&2; fail "the submission did not name its jobs"; }
    deadline=$(($(date +%s) + 300))
    while [ -n "$(squeue -h -j "$jobs" 2>/dev/null)" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || { squeue >&2; fail "the Slurm jobs did not finish in 300 s"; }
        sleep 0.5
    done
    [ -s slurm.csv ] || { cat slurm/slurm-*.out >&2 || true; fail "the merge job wrote no slurm.csv"; }
    ! grep -q "no result" slurm/slurm-merge-*.out || { cat slurm/slurm-merge-*.out >&2; fail "cells missing"; }
    merge_checked slurm slurm2.csv
    cmp -s slurm.csv slurm2.csv || fail "the merge job's output differs from a merge of the same results"
    same_as local.csv slurm.csv
    ;;
*)
    fail "unknown case $case_"
    ;;
esac
echo "ok: $case_"
