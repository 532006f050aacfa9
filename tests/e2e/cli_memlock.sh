#!/usr/bin/env bash
# Under the usual 8 MiB memory-lock limit, the PIN works: set it, then log in
# three times with the right PIN (the limit binds only a non-root user, so
# make check also runs this as one).
. "$(dirname "$0")/lib.sh"
lim=8388608
prlimit --memlock=$lim:$lim "$BIN/tinyhsmd" --state "$TMP/state" --link "$TMP/tty" \
    >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
DPID=$!
for _ in $(seq 100); do [ -s "$TMP/daemon.out" ] && break; sleep 0.05; done
[ -s "$TMP/daemon.out" ] || fail "tinyhsmd did not start: $(cat "$TMP/daemon.err")"
export TINYHSM_PORT=$TMP/tty
run 0 tinyhsm config --new all
TINYHSM_NEW_PIN=pin-under-limit run 0 tinyhsm pin set
mkdir "$TMP/w" && cd "$TMP/w"
{ printf '\000\040\000\040\001\202\000\010'; head -c 992 /dev/urandom; } >fw.bin # a vector table sign accepts
for i in 1 2 3; do
    TINYHSM_PIN=pin-under-limit run 0 tinyhsm sign --board B-U585I-IOT02A \
        --version 1.0.$i fw.bin
done
ok "PIN set and three logins under an 8 MiB memlock limit ($(id -un))"
stop_daemon
finish
