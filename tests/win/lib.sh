# Shared helpers for the Windows suites (tests/win/win_*.sh): tinyhsm.exe
# under Wine against a real tinyhsmd. Source it; win_start starts things.
#
# One fresh Wine prefix per suite, in the suite's temp dir, headless (no
# DISPLAY, no Mono or Gecko), with its own wineserver, killed at the end.
# COM1 is the pty of a pty_relay (tests/win/pty_relay.c) that forwards to
# tinyhsmd's socket: a Wine whose wineserver holds the pty of a program's
# COM1 too would make tinyhsmd refuse a login on its own pty (two openers;
# see docs/DECISIONS.md).
#   THSM_WIN_EXE: tinyhsm.exe (make windows: build/win/tinyhsm.exe)
#   THSM_WINE:    the wine program (default wine64, else wine)
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
WIN_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

skip() { echo "SKIP: $*"; exit 77; }

# The programs, or a visible skip.
WINE=${THSM_WINE:-}
[ -n "$WINE" ] || WINE=$(command -v wine64 || true)
[ -n "$WINE" ] || { [ -x /usr/lib/wine/wine64 ] && WINE=/usr/lib/wine/wine64; } || true
[ -n "$WINE" ] || WINE=$(command -v wine || true)
[ -n "$WINE" ] || skip "no wine64 (make winedeps installs it)"
WINESERVER=$(command -v wineserver || true)
[ -n "$WINESERVER" ] || { [ -x /usr/lib/wine/wineserver ] && WINESERVER=/usr/lib/wine/wineserver; } ||
    true
[ -n "$WINESERVER" ] || skip "no wineserver (make winedeps installs it)"
[ -x "$BIN/pty_relay" ] || skip "no $BIN/pty_relay (built with the tests)"

need_exe() { # the suites that run tinyhsm.exe
    EXE=${THSM_WIN_EXE:-$BIN/../win/tinyhsm.exe}
    [ -f "$EXE" ] || skip "no tinyhsm.exe at $EXE (make windows)"
    EXE=$(cd "$(dirname "$EXE")" && pwd)/$(basename "$EXE")
}

# Wine's own state stays in the temp dir: prefix, HOME, no display. Wine
# decodes Unix arguments and file names by the locale: UTF-8, also under
# env -i (tests/run_unprivileged.sh), where it would be ASCII.
export WINEPREFIX=$TMP/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" \
    HOME=$TMP/home LC_ALL=C.UTF-8
unset DISPLAY WAYLAND_DISPLAY
mkdir -p "$HOME"
RPID=
win_cleanup() {
    [ -d "$WINEPREFIX" ] && "$WINESERVER" -k 2>/dev/null || true
    [ -n "$RPID" ] && kill -TERM "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null || true
    cleanup
}
trap win_cleanup EXIT

# win_path FILE: the Windows name of a Linux path (drive Z: is /).
win_path() { local p=$1; echo "Z:${p//\//\\}"; }

# win_boot: a fresh prefix; prints how long wineboot took. A Wine that
# cannot boot here (a CI without what it needs) skips, saying why.
win_boot() {
    local t0
    t0=$(date +%s%N)
    "$WINE" wineboot -i >"$TMP/wineboot.log" 2>&1 ||
        skip "Wine cannot boot a prefix here: $(tail -3 "$TMP/wineboot.log" | tr '\n' ' ')"
    echo "# wine prefix booted in $((($(date +%s%N) - t0) / 1000000)) ms"
}

# win_com PTY: COM1 is PTY. Wine keeps the mapping in the registry and
# caches it in wineserver: set it, then restart wineserver.
win_com() {
    "$WINE" reg add 'HKLM\Software\Wine\Ports' /v COM1 /t REG_SZ /d "$1" /f \
        >"$TMP/reg.log" 2>&1 || fail "wine reg add: $(cat "$TMP/reg.log")"
    "$WINESERVER" -k 2>/dev/null || true
    "$WINESERVER" -w
    ln -sfn "$1" "$WINEPREFIX/dosdevices/com1"
}

# win_start [ARG...]: tinyhsmd (start_daemon ARG...), the relay on its
# socket, a fresh prefix with COM1 on the relay's pty.
win_start() {
    start_daemon "$TMP/state" "$@"
    "$BIN/pty_relay" "$TMP/tty.sock" >"$TMP/relay.out" 2>"$TMP/relay.err" &
    RPID=$!
    for _ in $(seq 100); do
        [ -s "$TMP/relay.out" ] && break
        sleep 0.05
    done
    RELAY_PTY=$(head -1 "$TMP/relay.out")
    [ -c "$RELAY_PTY" ] || fail "pty_relay printed no pty: $(cat "$TMP/relay.err")"
    win_boot
    win_com "$RELAY_PTY"
}

# wine_run STATUS PROGRAM ARG...: a Windows program, as run does (stdout
# in $TMP/out, stderr in $TMP/err; the console's CR LF turned into LF).
wine_run() {
    local want=$1 got=0
    shift
    "$WINE" "$@" >"$TMP/out.raw" 2>"$TMP/err.raw" </dev/null || got=$?
    tr -d '\r' <"$TMP/out.raw" >"$TMP/out"
    tr -d '\r' <"$TMP/err.raw" >"$TMP/err"
    if [ "$got" -ne "$want" ]; then
        echo "--- stdout"; cat "$TMP/out"; echo "--- stderr"; cat "$TMP/err"
        fail "wine '$*' exited $got, expected $want"
    fi
}

# win STATUS ARG...: tinyhsm.exe -p COM1 ARG...
win() {
    local want=$1
    shift
    wine_run "$want" "$EXE" -p COM1 "$@"
}

# no_cr FILE...: none of the files has a CR byte.
no_cr() {
    local f
    for f in "$@"; do
        [ "$(tr -dc '\r' <"$f" | wc -c)" = 0 ] || fail "$f has CR bytes"
    done
}
