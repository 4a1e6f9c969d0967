#!/bin/sh
# GNU parallel runs a study as three shards writing into one directory at once; --collect's
# summary equals a one-process study's. Usage: study_parallel.sh CLAUG WORKDIR
set -eu
. "$(dirname "$0")/cluster_common.sh"
need parallel
study_setup "$1" "$2"
# shellcheck disable=SC2086
parallel --will-cite --halt now,fail=1 "$claug" $study_args --out "$work/par" --shard {}/3 ::: 0 1 2
[ ! -e "$work/par/summary.json" ] || { echo "$0: a shard wrote the summary" >&2; exit 1; }
"$claug" study --collect "$work/par" >"$work/collect.log"
same_summary "$work/par"
echo "GNU parallel: 3 shards + --collect equal one process"
