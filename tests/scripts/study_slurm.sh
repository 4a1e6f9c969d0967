#!/bin/sh
# A one-node Slurm cluster started here (munged, slurmctld, slurmd; state, spool, sockets and
# ports of its own under WORKDIR), the study as a 4-task job array with --shard slurm, then
# --collect: the summary equals a one-process study's. The daemons are stopped by their pids.
# Usage: study_slurm.sh CLAUG WORKDIR (as root, as in CI)
set -eu
. "$(dirname "$0")/cluster_common.sh"
need munged mungekey slurmctld slurmd sbatch squeue
study_setup "$1" "$2"
T=$work/slurm
mkdir -p "$T/state" "$T/spool"
chmod 755 "$T"
pids=""
stop() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    # slurmctld saves its state before it exits: wait (up to 10 s) so none outlives the test.
    for p in $pids; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    done
}
trap stop EXIT
mungekey --create --keyfile="$T/munge.key"
munged --socket="$T/munge.sock" --key-file="$T/munge.key" --pid-file="$T/munged.pid" \
       --log-file="$T/munged.log" --seed-file="$T/munge.seed"
pids="$(cat "$T/munged.pid")"
host=$(hostname -s)
# Ports of the test's own (17817, 17818), so a real Slurm on the machine is left alone.
cat >"$T/slurm.conf" <<CONF
ClusterName=claugtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=17817
SlurmdPort=17818
AuthType=auth/munge
AuthInfo=socket=$T/munge.sock
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=claugtest Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$T/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
# The daemons write their pid files once started.
i=0
while { [ ! -s "$T/slurmctld.pid" ] || [ ! -s "$T/slurmd.pid" ]; } && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
pids="$(cat "$T/slurmd.pid") $(cat "$T/slurmctld.pid") $pids"
cat >"$T/study.sbatch" <<JOB
#!/bin/sh
#SBATCH --job-name=claug-study
#SBATCH --output=$T/task-%a.log
exec "$claug" $study_args --out "$work/slurm-study" --shard slurm
JOB
# Wait for the node to register, then submit; poll the queue (sbatch --wait polls every 30 s+).
i=0
until sbatch --parsable --array=0-3 "$T/study.sbatch" >"$T/jobid" 2>"$T/sbatch.err"; do
    i=$((i + 1))
    [ $i -lt 60 ] || { cat "$T/sbatch.err" "$T/slurmctld.log" >&2; exit 1; }
    sleep 0.5
done
job=$(cat "$T/jobid")
i=0
while [ -n "$(squeue -h -j "$job" 2>/dev/null)" ]; do
    i=$((i + 1))
    [ $i -lt 600 ] || { echo "$0: job $job did not finish in 300 s" >&2; exit 1; }
    sleep 0.5
done
# Each task ran its own shard: task t says "Shard t/4 done".
for t in 0 1 2 3; do
    grep -q "Shard $t/4 done" "$T/task-$t.log" || { echo "$0: task $t:" >&2; cat "$T/task-$t.log" >&2; exit 1; }
done
"$claug" study --collect "$work/slurm-study" >"$work/collect.log" 2>"$work/collect.err" || {
    cat "$work/collect.err" "$T"/task-*.log >&2
    exit 1
}
if [ -s "$work/collect.err" ]; then
    echo "$0: cells missing after the array job:" >&2
    cat "$work/collect.err" "$T"/task-*.log >&2
    exit 1
fi
same_summary "$work/slurm-study"
echo "Slurm: a 4-task job array with --shard slurm + --collect equals one process"
