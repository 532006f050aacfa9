#!/usr/bin/env bash
# One version (the VERSION file) everywhere: every program's --version, the
# device's AT+VERSION? (tinyhsmd, or the firmware with THSM_DEVICE=qemu, as
# shown by tinyhsm info), and debian/changelog.
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
want=$(head -n1 "$root/VERSION")
[[ $want =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "VERSION holds '$want'"

for prog in tinyhsm tinyhsmd tinyhsmd-qemu; do
    [ -x "$BIN/$prog" ] || continue # the unprivileged run copies two programs
    run 0 "$BIN/$prog" --version
    [ "$(cat "$TMP/out")" = "$prog $want" ] ||
        fail "$prog --version says '$(cat "$TMP/out")', not '$prog $want'"
    ok "$prog --version says $want"
done

changelog=$(sed -n '1s/^tinyhsm (\([^)]*\)).*/\1/p' "$root/debian/changelog")
[ "$changelog" = "$want" ] ||
    fail "debian/changelog is at '$changelog', VERSION at '$want'"
ok "debian/changelog is at $want"

start_daemon
run 0 tinyhsm info
product=tinyhsmd
[ "$DEVICE" = qemu ] && product=tinyhsm-fw
has "$TMP/out" "Device:  $product $want"
ok "AT+VERSION? of $product says $want"
if [ "$DEVICE" = qemu ]; then
    has "$TMP/out" "made since the device started"
    grep -q "since tinyhsmd started" "$TMP/out" && fail "the firmware's info names tinyhsmd"
else
    has "$TMP/out" "made since tinyhsmd started"
fi
ok "info counts signatures since $product started"
stop_daemon
finish
