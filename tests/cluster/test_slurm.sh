#!/usr/bin/env bash
# Runs examples/slurm as a user would, on a private single-node Slurm started
# for this test on loopback (munged, slurmctld, slurmd; state, logs and sockets
# in a temporary folder; its own slurm.conf through SLURM_CONF), over a folder
# pair with a corrupt and an unpaired case: submit.sh, wait for the merge job,
# compare results.json with one evaluate-folder run (same bytes); then re-run
# one shard alone as the README says and merge again. Every daemon started here
# is stopped on exit. Skips (exit 77) where Slurm or munge is not installed or
# cannot start.
# Usage: test_slurm.sh MASKLENS_CLI SOURCE_DIR
set -uo pipefail
cli=$(realpath "$1")
source_dir=$(realpath "$2")
# shellcheck source=tests/cluster/common.sh
. "$source_dir/tests/cluster/common.sh"

for tool in munged mungekey slurmctld slurmd sbatch squeue scontrol; do
    command -v "$tool" >/dev/null || skip "$tool not found (Debian: apt-get install slurm-wlm munge)"
done
[ "$(id -u)" -eq 0 ] || skip "starting slurmd needs root"

work=$(mktemp -d "${TMPDIR:-/tmp}/masklens-slurm.XXXXXX")
chmod 755 "$work"
daemons=()
jobs=() # submitted here, cancelled on exit
cleanup() {
    if [ ${#daemons[@]} -gt 0 ]; then
        [ ${#jobs[@]} -gt 0 ] && scancel --quiet "${jobs[@]}" >/dev/null 2>&1
        local pid
        for pid in "${daemons[@]}"; do
            kill "$pid" 2>/dev/null
        done
        for pid in "${daemons[@]}"; do
            wait "$pid" 2>/dev/null
        done
    fi
    rm -rf "$work"
}
trap cleanup EXIT

show_logs() {
    local log
    for log in "$work"/state/*.log; do
        echo "--- $log"
        tail -n 30 "$log"
    done
}

# --- munge -----------------------------------------------------------------
mkdir -p "$work/state/munge" "$work/state/ctld" "$work/state/d"
chmod 700 "$work/state/munge"
mungekey --create --keyfile="$work/state/munge/munge.key" >/dev/null 2>&1 ||
    skip "mungekey cannot create a key"
munged --foreground --force --socket="$work/state/munge/socket" \
    --key-file="$work/state/munge/munge.key" --pid-file="$work/state/munge/munged.pid" \
    --seed-file="$work/state/munge/seed" --log-file="$work/state/munged.log" >"$work/state/munged.out" 2>&1 &
daemons+=($!)
for _ in $(seq 50); do
    [ -S "$work/state/munge/socket" ] && break
    sleep 0.1
done
[ -S "$work/state/munge/socket" ] || {
    show_logs
    skip "munged did not start"
}

# --- slurm -----------------------------------------------------------------
host=$(hostname -s)
port=$((20000 + RANDOM % 20000))
export SLURM_CONF="$work/slurm.conf"
# CPUs=32 is more than this machine may have (config_overrides accepts it):
# the example's --cpus-per-task=8 then runs unchanged, four tasks at a time.
cat >"$SLURM_CONF" <<CONF
ClusterName=masklenstest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/state/munge/socket
StateSaveLocation=$work/state/ctld
SlurmdSpoolDir=$work/state/d
SlurmctldPidFile=$work/state/slurmctld.pid
SlurmdPidFile=$work/state/slurmd.pid
SlurmctldLogFile=$work/state/slurmctld.log
SlurmdLogFile=$work/state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=32 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -i >"$work/state/slurmctld.out" 2>&1 &
daemons+=($!)
slurmd -D -N "$host" >"$work/state/slurmd.out" 2>&1 &
daemons+=($!)
ready=""
for _ in $(seq 100); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
        ready=1
        break
    fi
    sleep 0.2
done
if [ -z "$ready" ]; then
    show_logs
    sinfo 2>&1
    skip "Slurm did not start (see the logs above)"
fi
echo "slurm: node $host up on 127.0.0.1:$port"

# wait_for JOBID: until the job (every task of an array) has left the queue.
wait_for() {
    for _ in $(seq 600); do
        [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0
        sleep 0.2
    done
    squeue
    show_logs
    fail "job $1 still queued after 120 s"
}

# exit_code JOBID: "E:S" as scontrol reports it (MinJobAge keeps the record).
exit_code() {
    scontrol show job "$1" | sed -n 's/.*[^a-zA-Z]ExitCode=\([0-9:]*\).*/\1/p' | head -n 1
}

# --- the recipe ------------------------------------------------------------
data=$work/data
make_folders "$data/preds" "$data/labels"
export MASKLENS_CLI="$cli"
mkdir -p "$work/run"
cd "$work/run" || fail "no run folder"
shards=4 # 10 pairs: shards of 3, 3, 2, 2 cases
submitted=$("$source_dir/examples/slurm/submit.sh" "$data/preds" "$data/labels" "$shards") ||
    fail "submit.sh failed: $submitted"
echo "$submitted"
array=$(sed -n 's/^array job: \([0-9]*\).*/\1/p' <<<"$submitted")
merge=$(sed -n 's/^merge job: \([0-9]*\).*/\1/p' <<<"$submitted")
if [ -z "$array" ] || [ -z "$merge" ]; then
    fail "no job ids in submit.sh's output"
fi
jobs+=("$array" "$merge")
wait_for "$merge"
ls logs shards
[ -f results.json ] || {
    cat logs/* 2>/dev/null
    show_logs
    fail "the merge job wrote no results.json"
}
for k in $(seq 1 "$shards"); do
    [ -f "logs/masklens_${array}_$k.out" ] || fail "no log logs/masklens_${array}_$k.out for task $k"
done
# The corrupt case: its shard and the merge exit 1, the others 0.
[ "$(exit_code "$merge")" = "1:0" ] || fail "merge job exit code $(exit_code "$merge"), expected 1:0"
failed_tasks=0
for k in $(seq 1 "$shards"); do
    code=$(exit_code "${array}_$k")
    echo "task $k: exit code $code"
    [ "$code" = "1:0" ] && failed_tasks=$((failed_tasks + 1))
done
[ "$failed_tasks" -eq 1 ] || fail "$failed_tasks tasks exited 1, expected 1 (the shard with the corrupt case)"
grep -q "unpaired target: case_12.npy" logs/masklens_"${array}"_1.out ||
    fail "shard 1's log does not list the unpaired target"
cat "logs/masklens-merge_$merge.out"
grep -q "failed: case_10" "logs/masklens-merge_$merge.out" || fail "the merge log does not name the failed case"

# The same evaluation in one process: the same bytes.
"$cli" evaluate-folder "$data/preds" "$data/labels" --metrics all --nsd-tolerance 1 --threads 8 \
    --quiet -o single.json 2>/dev/null
[ $? -eq 1 ] || fail "the single run should exit 1 (one corrupt case)"
cmp single.json results.json || fail "results.json differs from a single run"
echo "results.json equals a single run"

# Re-running one shard alone, as the README says; then merging again.
rm shards/3.json results.json
rerun=$(sbatch --parsable --array=3 "$source_dir/examples/slurm/evaluate_array.sh" \
    "$data/preds" "$data/labels" "$shards") || fail "sbatch --array=3 failed"
merge=$(sbatch --parsable --dependency="afterany:$rerun" "$source_dir/examples/slurm/merge.sh" "$shards") ||
    fail "sbatch merge.sh failed"
jobs+=("$rerun" "$merge")
wait_for "$merge"
[ -f "logs/masklens_${rerun}_3.out" ] || fail "no log for the re-run task"
cmp single.json results.json || fail "results.json after re-running shard 3 differs from a single run"
echo "re-running shard 3 alone and merging again: the same bytes"
echo "PASSED"
