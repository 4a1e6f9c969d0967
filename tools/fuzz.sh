#!/bin/sh
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) in build-fuzz/ and runs
# each for a fixed time on a copy of its committed corpus. Fails on any crash, leak, sanitizer
# report, timeout or out-of-memory, naming the target and the input that caused it; prints the
# executions per target.
#   tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]    (default 40 s; every target)
# Environment: CC (default clang-14), CXX (default CC's clang++), FUZZ_BUILD (default build-fuzz).
set -eu
cd "$(dirname "$0")/.."

seconds=${1:-40}
if [ $# -gt 0 ]; then shift; fi
targets=${*:-idx weights npz json tuning model cli study}
cc=${CC:-clang-14}
cxx=${CXX:-$(echo "$cc" | sed 's/clang/clang++/')}
build=${FUZZ_BUILD:-build-fuzz}

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz: $cc not found; on Debian: apt-get install clang-14 libclang-rt-14-dev" >&2
    exit 1
fi
cmake -S . -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug -DCLAUG_WERROR=ON -DCLAUG_FUZZ=ON >/dev/null
cmake --build "$build" --target fuzz -j "$(nproc)"

# Undefined behaviour stops the run (-fno-sanitize-recover, tests/fuzz/CMakeLists.txt); its
# report should say where it was reached from. Leaks are ASan's default check at every input.
export UBSAN_OPTIONS=print_stacktrace=1
failed=""
summary=""
for t in $targets; do
    # The binary readers get room for real files; text inputs stay small, where mutations bite.
    case $t in
    idx | weights | npz) max_len=65536 ;;
    json | study) max_len=16384 ;;
    *) max_len=4096 ;;
    esac
    dict=""
    if [ -f "tests/fuzz/dict/$t.dict" ]; then dict="-dict=$PWD/tests/fuzz/dict/$t.dict"; fi
    work="$build/fuzz-run/$t"
    rm -rf "$work"
    mkdir -p "$work/corpus"
    # A copy: what the run discovers stays out of the committed corpus.
    cp "tests/fuzz/corpus/$t/"* "$work/corpus/"
    echo "=== fuzz_$t: ${seconds}s ==="
    # -timeout: an input that takes seconds is a hang; -rss_limit_mb stays libFuzzer's 2048.
    if "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$work/" $dict "$work/corpus" >"$work/log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed="$failed $t"
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
    units=$(find "$work/corpus" -type f | wc -l)
    line="fuzz_$t: $status, ${execs:-?} executions (${rate:-?}/s), corpus $(ls "tests/fuzz/corpus/$t" | wc -l) -> $units"
    echo "$line"
    summary="$summary$line
"
    if [ "$status" = FAILED ]; then
        tail -n 60 "$work/log"
        for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$work"/slow-unit-*; do
            if [ -e "$a" ]; then echo "fuzz_$t: reproducer $a (rerun: $build/tests/fuzz/fuzz_$t $a)"; fi
        done
    fi
done

printf '=== libFuzzer summary ===\n%s' "$summary"
if [ -n "$failed" ]; then
    echo "fuzz: failed:$failed (logs in $build/fuzz-run/<target>/log); once fixed, add the reproducer to tests/fuzz/corpus/<target>/" >&2
    exit 1
fi
