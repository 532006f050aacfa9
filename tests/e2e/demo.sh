#!/usr/bin/env bash
# make demo's script runs to completion on a fresh state.
. "$(dirname "$0")/lib.sh"
DEMO_OUT=$TMP/demo bash "$(dirname "$0")/../../scripts/demo.sh" "$BIN" >"$TMP/demo.log" 2>&1 ||
    { cat "$TMP/demo.log"; fail "demo failed"; }
has "$TMP/demo.log" "Demo complete"
has "$TMP/demo.log" "(rejected, as it should be)"
[ -s "$TMP/demo/signed_binary.bin" ] || fail "no image"
ok "demo runs end to end"
finish
