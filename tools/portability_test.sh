#!/bin/sh
# The ctest `portability`: the check (tools/portability.sh) on cl/ must pass, and on two broken
# copies of it must fail, each for its own reason: a kernel with 64 KiB of __local memory, and a
# call to a builtin OpenCL 1.2 does not have. The runs share one result cache, so the broken
# copies recompile only the programs that changed.
#
#   tools/portability_test.sh CLAUG-PROGRAMS WORK-DIR
set -eu

[ $# -eq 2 ] || { echo "usage: $0 CLAUG-PROGRAMS WORK-DIR" >&2; exit 2; }
LISTER=$1 W=$2
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="$HERE/portability.sh"
mkdir -p "$W"

echo "=== cl/: must pass ==="
sh "$CHECK" "$LISTER" "$HERE/../cl" "$W/check"

# Runs the check on a copy of cl/ with $2 appended to act.cl; it must fail saying $1.
expect_failure() {
    rm -rf "$W/broken"
    cp -r "$HERE/../cl" "$W/broken"
    printf '%s\n' "$2" >>"$W/broken/act.cl"
    rc=0
    sh "$CHECK" "$LISTER" "$W/broken" "$W/check" >"$W/broken.txt" 2>&1 || rc=$?
    if [ "$rc" != 1 ] || ! grep -q "$1" "$W/broken.txt"; then
        cat "$W/broken.txt"
        echo "portability_test: the check exited $rc on $3, without \"$1\"" >&2
        exit 1
    fi
    echo "=== $3: failed as it must ==="
    sed -n '/^FAILED:/,$p' "$W/broken.txt"
}

expect_failure "bytes of local memory, above 32768" '
__kernel void too_much_local(__global float *y) {
    __local float big[16384];
    big[get_local_id(0)] = y[get_global_id(0)];
    barrier(CLK_LOCAL_MEM_FENCE);
    y[get_global_id(0)] = big[get_local_size(0) - 1 - get_local_id(0)];
}' "a kernel with 64 KiB of __local memory"

expect_failure "compile error: P[0-9]* (act.cl)" '
__kernel void not_in_opencl_1_2(__global float *y) {
    y[get_global_id(0)] = work_group_reduce_add(y[get_global_id(0)]);
}' "a call to work_group_reduce_add (OpenCL 2.0, not 1.2)"
echo "portability_test: passed"
