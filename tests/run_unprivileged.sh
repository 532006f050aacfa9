#!/usr/bin/env bash
# The end-to-end suites (tests/e2e: *.sh and e2e_*; tests/pkcs11) again, as a normal user
# with the usual 8 MiB memory-lock limit, against each build directory given
# (make check: the sanitized one and a non-sanitized RelWithDebInfo one).
# As root they run as nobody, from a world-readable copy (the checkout may
# be private); as a normal user, as that user.
# The Windows suites (tests/win) run once, with the first build's programs
# and $THSM_WIN_EXE (tinyhsm.exe, when built), in a Wine prefix of nobody's.
# Usage: tests/run_unprivileged.sh BUILD_DIR...
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-2}
lim=8388608
stage=$(mktemp -d "${TMPDIR:-/tmp}/thsm-e2e-user-XXXXXX")
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"
mkdir -p "$stage/src" "$stage/logs"
# the suites read scripts/, fuzz/ seeds and more: the sources, without builds
tar -C "$src" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$stage/src" -xf -
mkdir -m 1777 "$stage/tmp"

as_user() { # CMD...: runs CMD as the unprivileged user, memlock limited
    if [ "$(id -u)" = 0 ]; then
        prlimit --memlock=$lim:$lim setpriv --reuid=nobody \
            --regid="$(id -g nobody)" --clear-groups -- "$@"
    else
        prlimit --memlock=$lim:$lim "$@"
    fi
}

suites=()
n=0
for build in "$@"; do
    n=$((n + 1))
    bin=$stage/bin$n
    mkdir "$bin"
    cp "$build"/bin/tinyhsm "$build"/bin/tinyhsmd "$build"/bin/tinyhsmd-qemu \
        "$build"/bin/e2e_* "$bin/"
    # the PKCS#11 module and its tests (tests/pkcs11), when built
    cp "$build"/lib/libtinyhsm-pkcs11.so "$build"/bin/p11_* "$bin/" 2>/dev/null || true
    for t in "$bin"/e2e_* "$bin"/p11_*; do
        [ -e "$t" ] && suites+=("$(basename "$build") $bin $t")
    done
    for t in "$stage"/src/tests/e2e/*.sh "$stage"/src/tests/pkcs11/*.sh; do
        [ "$(basename "$t")" = lib.sh ] || suites+=("$(basename "$build") $bin bash $t")
    done
done
# the packaging tests (tests/deb) once, with the first build's programs
for t in "$stage"/src/tests/deb/*.sh; do suites+=("deb $stage/bin1 bash $t"); done
cp "$1"/bin/pty_relay "$stage/bin1/" 2>/dev/null || true
[ -f "${THSM_WIN_EXE:-}" ] && cp "$THSM_WIN_EXE" "$stage/bin1/tinyhsm.exe"
for t in "$stage"/src/tests/win/win_*.sh; do suites+=("win $stage/bin1 bash $t"); done
chmod -R a+rX "$stage"

run_one() { # BUILD BIN CMD...
    local name=$1 bin=$2 log rc=0
    shift 2
    log=$stage/logs/$name.$(basename "${@: -1}").log
    as_user env -i PATH="$PATH" HOME="$stage/tmp" TMPDIR="$stage/tmp" \
        THSM_BIN="$bin" THSM_WIN_EXE="$bin/tinyhsm.exe" "$@" >"$log" 2>&1 || rc=$?
    if [ "$rc" = 0 ]; then
        echo "user e2e: PASS $name $(basename "${@: -1}")"
    elif [ "$rc" = 77 ]; then # the suite says why (needs root, ...)
        echo "user e2e: SKIP $name $(basename "${@: -1}"): $(grep -m1 -i skip "$log")"
    else
        echo "user e2e: FAIL $name $(basename "${@: -1}")"
        cat "$log"
        return 1
    fi
}
export -f run_one as_user
export stage lim

echo "user e2e: ${#suites[@]} suites as $( [ "$(id -u)" = 0 ] && echo nobody || id -un), memlock 8 MiB"
rc=0
printf '%s\n' "${suites[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}' \
    | tee "$stage/summary" || rc=1
pass=$(grep -c '^user e2e: PASS' "$stage/summary" || true)
skip=$(grep -c '^user e2e: SKIP' "$stage/summary" || true)
fail=$((${#suites[@]} - pass - skip))
echo "unprivileged: $pass passed, $skip skipped, $fail failed"
[ "$rc" = 0 ] && [ "$fail" = 0 ]
