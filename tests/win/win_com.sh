#!/usr/bin/env bash
# The raw serial path under Wine, without tinyhsm.exe: a small mingw program
# (com_probe.c) opens COM1, sets 115200 8N1, writes AT+VERSION? and reads
# tinyhsmd's answer through the relay. Then the Linux tinyhsm logs in
# through the same relay: one socket session per opener of the pty.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../e2e/tools/firmware.sh"
CC_WIN=$(command -v x86_64-w64-mingw32-gcc || true)
[ -n "$CC_WIN" ] || skip "no x86_64-w64-mingw32-gcc (make winedeps installs it)"
"$CC_WIN" -std=c11 -Wall -Wextra -Werror -O1 -o "$TMP/com_probe.exe" \
    "$WIN_SRC/com_probe.c" || fail "com_probe.c does not build"
win_start
wine_run 0 "$TMP/com_probe.exe"
has "$TMP/out" "OK tinyhsmd "
ok "a Windows program on COM1 reads tinyhsmd's AT+VERSION? answer"

wine_run 0 "$TMP/com_probe.exe" COM1
wine_run 0 "$TMP/com_probe.exe" '\\.\COM1'
has "$TMP/out" "OK tinyhsmd "
ok "again after a close, and as \\\\.\\COM1"

wine_run 1 "$TMP/com_probe.exe" COM7
has "$TMP/err" "CreateFile failed"
ok "an unmapped COM7 fails to open"

# The relay keeps tinyhsmd's login rule: each opener its own session.
run 0 tinyhsm -p "$RELAY_PTY" config --new all
TINYHSM_NEW_PIN=relay-pin run 0 tinyhsm -p "$RELAY_PTY" pin set
cd "$TMP"
firmware 2000 >fw.bin
sign() { tinyhsm -p "$RELAY_PTY" sign --board NUCLEO-G071RB --version 1.0.0 -o s.bin fw.bin; }
TINYHSM_PIN=relay-pin run 0 sign
run 1 sign
has "$TMP/err" "PIN"
ok "through the relay a login lasts one opener: the next one needs the PIN"
finish
