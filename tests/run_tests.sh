#!/usr/bin/env bash
# make test: the fast tests (ctest labels unit, core and e2e, not slow) of
# an ASan + UBSan build, configured when missing, with THSM_QUICK=1 (fewer
# rounds of repeated cases). No package installs, no firmware.
#   tests/run_tests.sh BUILD_DIR JOBS [TEST] [CASE]
# TEST: a ctest regex, whatever the label (make test TEST=unit.test_device);
# CASE: one cmocka test case by name or pattern (make test
# CASE=test_kdf_failure_spends_no_try), run in the programs whose source
# names it.
set -eu
build=$1 jobs=$2 test=${3:-} case=${4:-}
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang \
        -DCMAKE_BUILD_TYPE=Debug -DTHSM_SANITIZE=ON
fi
cmake --build "$build" -j"$jobs"
args=(--output-on-failure -j"$jobs")
if [ -n "$case" ]; then
    # The programs whose source has the case (* and ? match anything).
    word=$(printf '%s' "$case" | sed 's/[*?]/[A-Za-z0-9_]*/g')
    names=()
    for src in $(grep -lE "\\b${word}\\b" "$root"/tests/unit/test_*.c \
                 "$root"/tests/e2e/e2e_*.c 2>/dev/null); do
        name=$(basename "$src" .c)
        case $name in
        test_*) names+=("unit\\.$name") ;;
        e2e_*) names+=("e2e\\.${name#e2e_}") ;;
        esac
    done
    if [ ${#names[@]} -eq 0 ]; then
        echo "no cmocka test case matches '$case' in tests/unit or tests/e2e" >&2
        exit 2
    fi
    test=${test:-^($(IFS='|'; echo "${names[*]}"))\$}
    export CMOCKA_TEST_FILTER=$case
fi
if [ -n "$test" ]; then
    args+=(-R "$test")
else
    args+=(-L '^(unit|core|e2e)$' -LE '^slow$')
    export THSM_QUICK=1 # fewer rounds of the repeated cases (tests/e2e/lib.sh)
fi
cd "$build" && exec ctest "${args[@]}"
