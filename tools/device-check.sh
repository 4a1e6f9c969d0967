#!/bin/sh
# The checks of a machine lent for a short while (a GPU server, a cluster node) where nothing can
# be installed: claug's devices, the kernel tests on its device, the benchmark, the tuner, a
# profiled epoch and a short experiment, each under a time limit, in one go.
#
#   tools/device-check.sh pack BUILD_DIR KIT_DIR
#       here: KIT_DIR gets `make bundle DATA=1`'s tarball (claug, its libraries, Fashion-MNIST)
#       and the kernel tests of BUILD_DIR (those whose ctest line has the label kernel).
#   tools/device-check.sh run KIT_DIR OUT_DIR
#       there, in a copy of this source tree (the tests read its tests/ and cl/): unpacks the
#       kit, runs every step, and leaves six files in OUT_DIR, since a lent machine gives back
#       only a few (and none deeper than two folders): summary.txt (a line per step: exit status
#       and seconds; the profile's and the run's figures), machine.txt, bench.json, roofline.svg, tuning.txt (the file `claug tune`
#       saved) and logs.tar.gz (every step's log and the run's report). They are brought up to
#       date after each step, and the running step's log is running.log, so that a command
#       stopped early still gives back what was done.
#
# Each step has a limit (seconds, below), 570 s in all (a step that ignores TERM is killed 5 s
# after its own), so that the whole fits in a 10-minute command with time to unpack. The device
# is claug's default: $CLAUG_DEVICE, else the first GPU. Where the machine has a vendor driver but no ICD file (/etc/OpenCL/vendors), an
# ICD directory naming NVIDIA's libnvidia-opencl.so.1 (from ldconfig's cache, $LD_LIBRARY_PATH or
# the usual driver folders) is made and passed as $OCL_ICD_VENDORS.
set -u

# The limits, which the environment may set (a trial on a CPU, a longer loan).
LIMIT_DEVICES=${LIMIT_DEVICES:-30} LIMIT_TEST=${LIMIT_TEST:-90} LIMIT_TESTS=${LIMIT_TESTS:-150}
LIMIT_BENCH=${LIMIT_BENCH:-135} LIMIT_TUNE=${LIMIT_TUNE:-135} LIMIT_PROFILE=${LIMIT_PROFILE:-40}
LIMIT_RUN=${LIMIT_RUN:-80}

usage() {
    echo "usage: $0 pack BUILD_DIR KIT_DIR | run KIT_DIR OUT_DIR" >&2
    exit 2
}

pack() {
    build=$1 kit=$2
    [ -x "$build/claug" ] || { echo "device-check: $build has no claug: build it first" >&2; exit 2; }
    rm -rf "$kit" && mkdir -p "$kit/tests" || exit 1
    tarball=$(sh tools/bundle.sh "$build" 1 "$kit") || exit 1
    # The test files' ctest lines, as CMakeLists.txt reads them.
    for src in tests/test_*.c; do
        name=$(basename "$src" .c)
        if grep -Eq '^/\* ctest: labels=([a-z0-9]+,)*kernel(,[a-z0-9]+)* timeout=[0-9]+ \*/$' "$src"; then
            [ -x "$build/$name" ] || { echo "device-check: $build has no $name: build the tests first" >&2; exit 2; }
            cp "$build/$name" "$kit/tests/"
        fi
    done
    echo "$tarball"
}

# step NAME LIMIT COMMAND...: the command's output into NAME.log, its status and time into the
# summary, then OUT_DIR brought up to date. The log is OUT_DIR/running.log while the step runs:
# what a command stopped in the middle most needs. A step that ignores TERM is killed 5 s later.
step() {
    name=$1 limit=$2
    shift 2
    t0=$(date +%s)
    timeout -k 5 "$limit" "$@" >"$out/running.log" 2>&1
    rc=$?
    mv "$out/running.log" "$logs/$name.log"
    t1=$(date +%s)
    [ "$rc" = 124 ] && rc="124 (over its limit of $limit s)"
    [ "$rc" = 137 ] && rc="137 (killed 5 s after its limit of $limit s)"
    printf '%-28s rc %s, %s s\n' "$name" "$rc" "$((t1 - t0))" | tee -a "$out/summary.txt"
    for f in "$XDG_CACHE_HOME"/claug/tuning-*.txt; do
        [ -f "$f" ] && cp "$f" "$out/tuning.txt.part" && mv "$out/tuning.txt.part" "$out/tuning.txt"
    done
    tar -C "$logs" -czf "$out/logs.tar.gz.part" . && mv "$out/logs.tar.gz.part" "$out/logs.tar.gz"
}

# highlight NAME PATTERN: the lines of NAME.log that match (grep -E) into the summary, indented,
# so that the figures show in the summary and on the terminal.
highlight() {
    grep -E "$2" "$logs/$1.log" 2>/dev/null | sed 's/^ */    /' | tee -a "$out/summary.txt"
}

# The driver library NVIDIA's ICD file would name, or nothing.
nvidia_opencl() {
    for l in ldconfig /sbin/ldconfig /usr/sbin/ldconfig; do
        lib=$("$l" -p 2>/dev/null | awk '/libnvidia-opencl\.so\.1/ { print $NF; exit }')
        [ -n "$lib" ] && { echo "$lib"; return; }
    done
    old_ifs=$IFS
    IFS=:
    for d in ${LD_LIBRARY_PATH:-} /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64 \
        /usr/lib; do
        [ -e "$d/libnvidia-opencl.so.1" ] && { IFS=$old_ifs; echo "$d/libnvidia-opencl.so.1"; return; }
    done
    IFS=$old_ifs
}

run() {
    kit=$1 out=$2
    mkdir -p "$out" || exit 1
    rm -f "$out/summary.txt" "$out/machine.txt" "$out/bench.json" "$out/roofline.svg" "$out/tuning.txt" \
        "$out/logs.tar.gz" "$out/running.log"
    : >"$out/summary.txt"
    work=$(mktemp -d) || exit 1
    trap 'rm -rf "$work"' EXIT
    logs="$work/logs"
    mkdir -p "$logs" || exit 1
    tar -xzf "$kit"/claug-*.tar.gz -C "$work" || exit 1
    bundle=$(echo "$work"/claug-*)
    export LD_LIBRARY_PATH="$bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    claug="$bundle/bin/claug"
    # The tests' data is the bundle's too: the machine may have none of its own.
    export XDG_CACHE_HOME="$work/cache" CLAUG_SOURCE_DIR="$PWD" CLAUG_TEST_TMP="$work/test-tmp" CLAUG_BIN="$claug" \
        CLAUG_DATA="$bundle/share/fashion-mnist"
    if ! ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1 && [ -z "${OCL_ICD_VENDORS:-}" ]; then
        lib=$(nvidia_opencl)
        if [ -n "$lib" ]; then
            mkdir -p "$work/vendors" && echo "$lib" >"$work/vendors/nvidia.icd"
            export OCL_ICD_VENDORS="$work/vendors"
            echo "no /etc/OpenCL/vendors/*.icd: OCL_ICD_VENDORS names $lib" | tee -a "$out/summary.txt"
        else
            echo "no /etc/OpenCL/vendors/*.icd and no libnvidia-opencl.so.1: only \$OCL_ICD_VENDORS could add a driver" |
                tee -a "$out/summary.txt"
        fi
    fi
    { uname -a; sed -n 's/^PRETTY_NAME=//p' /etc/os-release; ldd --version | head -n 1; nvidia-smi -L; "$claug" --version; } \
        >"$out/machine.txt" 2>&1
    step devices "$LIMIT_DEVICES" "$claug" devices
    tests_end=$(($(date +%s) + LIMIT_TESTS))
    for t in "$kit"/tests/test_*; do
        [ -e "$t" ] || continue
        left=$((tests_end - $(date +%s)))
        if [ "$left" -le 0 ]; then
            echo "$(basename "$t"): not run, the tests' $LIMIT_TESTS s are spent" | tee -a "$out/summary.txt"
            continue
        fi
        step "$(basename "$t")" "$((left < LIMIT_TEST ? left : LIMIT_TEST))" "$t"
    done
    step bench "$LIMIT_BENCH" "$claug" bench --json "$out/bench.json" --svg "$out/roofline.svg"
    step tune "$LIMIT_TUNE" "$claug" tune
    # One plain epoch with the device time per layer: kernel time against wall time says how much
    # of the epoch is launch overhead and host work.
    step profile "$LIMIT_PROFILE" "$claug" train --epochs 1 --profile
    highlight profile 'kernel time by layer|^Median epoch'
    step run "$LIMIT_RUN" "$claug" run --epochs 2 --out "$logs/run"
    highlight run 'validation accuracy|seconds per epoch|images per second'
}

abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac }

[ $# = 3 ] || usage
a=$(abs "$2") b=$(abs "$3")
cd "$(dirname "$0")/.." || exit 1
case $1 in
pack) pack "$a" "$b" ;;
run) run "$a" "$b" ;;
*) usage ;;
esac
