# Shared by the study's fan-out tests (sourced): the tools check and the tiny study both run.
# A missing tool is a skip (exit 77) on a developer's machine and a failure where
# CLAUG_REQUIRE_CLUSTER=1 (CI installs them).
need() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 && continue
        echo "$0: $tool is not installed (Debian: sh tools/install-deps.sh parallel slurmctld slurmd munge)" >&2
        [ "${CLAUG_REQUIRE_CLUSTER:-}" = 1 ] && exit 1
        exit 77
    done
}

# study_setup CLAUG WORK: the mini data set and the uninterrupted one-process reference.
study_setup() {
    claug=$1 work=$2
    rm -rf "$work"
    mkdir -p "$work"
    sh "$(dirname "$0")/mini_data.sh" "${CLAUG_DATA:-/usr/share/datasets/fashion-mnist}" "$work/data" 1000 200
    study_args="study --data $work/data --sizes 100,200 --seeds 2 --epochs 1 --seed 5 -q"
    # shellcheck disable=SC2086
    "$claug" $study_args --out "$work/one" >"$work/one.log"
}

# same_summary DIR: DIR's summary files equal the reference's, byte for byte.
same_summary() {
    for f in summary.json summary.csv report.md study.svg; do
        cmp "$work/one/$f" "$1/$f" || { echo "$0: $1/$f differs from the one-process study's" >&2; exit 1; }
    done
}
