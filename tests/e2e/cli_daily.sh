#!/usr/bin/env bash
# Smaller things a daily user meets: board names in any case (the image
# gets the table's spelling) and "did you mean"; verify --cert with the CA's
# certificate says so; answering "n" says nothing changed; log --json.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/firmware.sh"

start_daemon
run 0 tinyhsm config --new all
cd "$TMP"
firmware 2048 >fw.bin

run 0 tinyhsm sign --board b-u585i-iot02a --version 1.0.0 fw.bin
has "$TMP/err" "board 'b-u585i-iot02a' is B-U585I-IOT02A"
[ "$(dd if=signed_binary.bin bs=1 skip=32 count=14 status=none)" = B-U585I-IOT02A ] ||
    fail "the header does not name B-U585I-IOT02A"
run 0 tinyhsm verify --cert stsafe_signer_cert.pem --board b-u585i-iot02a signed_binary.bin
has "$TMP/out" "signed_binary.bin: OK"
run 2 tinyhsm sign --board B-U585-IOT02A --version 1.0.0 fw.bin
has "$TMP/err" "unknown board 'B-U585-IOT02A'; did you mean 'B-U585I-IOT02A'?"
run 2 tinyhsm sign --board nucleo-g071 --version 1.0.0 fw.bin
has "$TMP/err" "did you mean 'NUCLEO-G071RB'?"
run 2 tinyhsm sign --board WIDGET --version 1.0.0 fw.bin
grep -q "did you mean" "$TMP/err" && fail "a guess for WIDGET: $(cat "$TMP/err")"
run 1 tinyhsm verify --cert stsafe_signer_cert.pem --board b-u585-iot02a signed_binary.bin
has "$TMP/out" "b-u585-iot02a is not a known board (did you mean B-U585I-IOT02A?)"
ok "board names match in any case (the header gets the table's spelling), else a guess"

run 0 tinyhsm cert ca -o ca.pem
run 1 tinyhsm verify --cert ca.pem signed_binary.bin
has "$TMP/err" "warning: ca.pem is a CA certificate (C=US, O=MyHSM, CN=My_CA), not the signer's"
has "$TMP/err" "give --cert stsafe_signer_cert.pem (and this file as --ca)"
run 0 tinyhsm verify --cert stsafe_signer_cert.pem --ca ca.pem signed_binary.bin
grep -q "CA certificate" "$TMP/err" && fail "the signer's certificate taken for the CA's"
ok "verify --cert with the CA's certificate says it is the CA's"

run 0 tinyhsm cert signer -o before.pem
# shellcheck disable=SC2016
echo n | script -qec "$BIN/tinyhsm config --new signer" /dev/null >answer.txt || true
has answer.txt "Replace the signer key? [y/N]"
has answer.txt "not confirmed; nothing changed"
run 0 tinyhsm cert signer -o after.pem
cmp -s before.pem after.pem || fail "the signer changed after answering n"
ok "answering n says nothing changed, and nothing did"

run 0 tinyhsm log --json
python3 - "$TMP/out" <<'EOF' || fail "log --json: $(cat "$TMP/out")"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["ok"] is True, o
recs = o["records"]
assert o["total"] == len(recs) and len(recs) >= 4, o
assert [r["record"] for r in recs] == list(range(len(recs))), recs
ca = [r for r in recs if r["event"] == "CA_CREATE"]
assert ca and ca[0]["digest"] is None and len(ca[0]["key_id"]) == 16, recs
sign = [r for r in recs if r["event"] == "SIGN_SB10"]  # image mode
assert sign and len(sign[0]["digest"]) == 64 and len(sign[0]["key_id"]) == 16, sign
assert all(r["time"].endswith("Z") and len(r["chain"]) == 64 for r in recs)
EOF
run 0 tinyhsm log --verify --json
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["ok"] and o["failures"] == [] and o["records"] >= 4, o' \
    "$TMP/out" || fail "log --verify --json: $(cat "$TMP/out")"
stop_daemon
run 1 tinyhsm log --json
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["ok"] is False and o["error"], o' \
    "$TMP/out" || fail "log --json without a device: $(cat "$TMP/out")"
ok "log --json: one object, the records or the error"
finish
