#!/bin/sh
# Runs the kernel tests under oclgrind, an OpenCL device simulator that reports out-of-bounds
# accesses, data races between work-items, barrier divergence and API misuse. Fails on any such
# report, on a failed check, or when a test ran on another device. (--uninitialized is not
# used: oclgrind 21.10 aborts those kernels on LLVM's freeze instruction.)
#
# Usage: tools/oclgrind-tests.sh BUILD_DIR [TEST...]
#   BUILD_DIR holds the built tests (e.g. build/); TESTS below run unless some are named.
#
# CLAUG_TEST_TINY makes the tests keep a few small shapes: the simulator is thousands of times
# slower than a device. Oclgrind's device is typed GPU, so the defaults pick the GPU kernels;
# test_conv forces both shapes of the convolution itself (register tiles and local-memory
# tiles), whatever the device. test_backprop is left out: its finite differences over every
# parameter take minutes here, and its kernels are all covered below.
set -eu

build=${1:?usage: tools/oclgrind-tests.sh BUILD_DIR [TEST...]}
shift
command -v oclgrind >/dev/null 2>&1 || { echo "oclgrind-tests: oclgrind is not installed (apt-get install oclgrind)" >&2; exit 1; }

TESTS="test_act test_pool test_loss test_dropout test_optim test_normalize test_augment test_dense test_conv"
[ $# -gt 0 ] && TESTS="$*"
out="$build/oclgrind"
rm -rf "$out"
mkdir -p "$out"

failed=""
for t in $TESTS; do
    start=$(date +%s)
    # The device spec names the simulator, so a test that missed it exits 2 instead of passing
    # on PoCL. A program cache of its own leaves the suite's untouched.
    rc=0
    CLAUG_TEST_TINY=1 CLAUG_DEVICE=oclgrind XDG_CACHE_HOME="$out/cache" \
        oclgrind --data-races --check-api --log "$out/$t.log" "$build/$t" >"$out/$t.out" 2>&1 || rc=$?
    secs=$(($(date +%s) - start))
    if [ "$rc" != 0 ] || [ -s "$out/$t.log" ]; then
        echo "oclgrind-tests: $t FAILED (exit $rc, ${secs}s)"
        tail -n 20 "$out/$t.out"
        [ -s "$out/$t.log" ] && head -n 60 "$out/$t.log"
        failed="$failed $t"
    else
        echo "oclgrind-tests: $t passed (${secs}s)"
    fi
done

if [ -n "$failed" ]; then
    echo "oclgrind-tests: FAILED:$failed (reports and output in $out/)" >&2
    exit 1
fi
echo "oclgrind-tests: all passed"
