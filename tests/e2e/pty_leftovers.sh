#!/usr/bin/env bash
# The pty serves each opener only its own requests: what a former opener
# wrote and nobody read is dropped when it goes (issue 16, finding 6).
. "$(dirname "$0")/lib.sh"
start_daemon
pty=$(cat "$TMP/daemon.out") # the pty itself: no socket beside it
run 0 tinyhsm -p "$pty" info
cp "$TMP/out" "$TMP/info.want"

# a flooder that never reads, killed while the pty holds its requests
for round in 1 2 3; do
    timeout 2 sh -c "yes AT+HSM_STATUS? > '$pty'" || true
    run 0 tinyhsm -p "$pty" info
    cmp -s "$TMP/out" "$TMP/info.want" ||
        { diff "$TMP/info.want" "$TMP/out" || true; fail "round $round: info after a flooder differs"; }
    run 0 tinyhsm -p "$pty" info --json
    has "$TMP/out" '"ok":true'
done
ok "a killed flooder's unread requests are not served to the next opener"

# the same through the link, closed and reopened right away: the next
# opener's own first request is still answered
for _ in $(seq 20); do
    run 0 tinyhsm -p "$pty" info
done
ok "openers one after another keep their first request"
finish
