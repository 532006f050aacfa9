#!/usr/bin/env bash
# make bench: each figure is the median of RUNS runs, measured side by side in
# one run on this machine. Prints a table and writes bench/results.json.
set -euo pipefail
BIN=$(cd "${1:-build-bench/bin}" && pwd)
RUNS=${RUNS:-5}
OUT=${BENCH_JSON:-$PWD/bench/results.json}
TMP=$(mktemp -d)
DPID=
cleanup() {
    [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
json() { sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); calc '%.4f\n' "$t1 - $t0"; }

start_daemon() { # [extra args]
    "$BIN/tinyhsmd" --state "$TMP/state" --link "$TMP/tty" "$@" >"$TMP/pty" 2>"$TMP/log" &
    DPID=$!
    for _ in $(seq 100); do [ -s "$TMP/pty" ] && break; sleep 0.05; done
}
stop_daemon() { kill -TERM "$DPID"; wait "$DPID" || true; DPID=; : >"$TMP/pty"; }
hsm() { "$BIN/tinyhsm" --port "$TMP/tty" "$@"; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
cores=$(nproc)

for _ in $(seq "$RUNS"); do "$BIN/thsm_bench" limit; done >"$TMP/limit"
limit_signs=$(json signs_per_s <"$TMP/limit" | median)
limit_sha=$(json sha256_mb_per_s <"$TMP/limit" | median)

start_daemon
for _ in $(seq "$RUNS"); do secs hsm config --new all --yes; done >"$TMP/prov"
provision_s=$(median <"$TMP/prov")
for _ in $(seq "$RUNS"); do "$BIN/thsm_bench" device "$TMP/tty" 2000; done >"$TMP/dev"
dev_rate=$(json round_trips_per_s <"$TMP/dev" | median)
dev_p50=$(json p50_us <"$TMP/dev" | median)
dev_p99=$(json p99_us <"$TMP/dev" | median)

# end to end against openssl with a local key, on the same files
openssl ecparam -name prime256v1 -genkey -noout -out "$TMP/key.pem"
for mib in 1 64; do
    { printf '\000\040\000\040\001\202\000\010'; head -c $(((mib << 20) - 8)) /dev/urandom; } >"$TMP/fw$mib.bin"
    for _ in $(seq "$RUNS"); do
        secs hsm sign --board B-U585I-IOT02A --max-size $((128 << 20)) \
            --version 1.0.0 -o "$TMP/s.bin" --cert-out "$TMP/c.pem" \
            --siggen "$TMP/S.c" "$TMP/fw$mib.bin"
    done >"$TMP/sign$mib"
    for _ in $(seq "$RUNS"); do
        secs openssl dgst -sha256 -sign "$TMP/key.pem" -out "$TMP/o.sig" "$TMP/fw$mib.bin"
    done >"$TMP/ossl$mib"
done
# verification of the 64 MiB image (last signed above) against plain hashing
for _ in $(seq "$RUNS"); do
    secs "$BIN/tinyhsm" verify --siggen "$TMP/S.c" --max-size $((128 << 20)) "$TMP/s.bin"
done >"$TMP/verify"
for _ in $(seq "$RUNS"); do secs openssl dgst -sha256 "$TMP/s.bin"; done >"$TMP/dgst"
image_mb=$(calc %.1f "$(stat -c %s "$TMP/s.bin") / 1000000")
stop_daemon

start_daemon --baud 115200
hsm config --new all --yes >/dev/null
"$BIN/thsm_bench" link "$TMP/tty" 50 >"$TMP/link"
stop_daemon
link_rate=$(json round_trips_per_s <"$TMP/link")
link_bytes=$(json bytes_per_signature <"$TMP/link")

s1=$(median <"$TMP/sign1"); o1=$(median <"$TMP/ossl1")
s64=$(median <"$TMP/sign64"); o64=$(median <"$TMP/ossl64")
ratio() { calc %.2f "$1 / $2"; }
pct=$(calc %.1f "100 * $dev_rate / $limit_signs")
v=$(median <"$TMP/verify"); d=$(median <"$TMP/dgst")
verify_mbs=$(calc %.0f "$image_mb / $v"); dgst_mbs=$(calc %.0f "$image_mb / $d")

cat <<TABLE
TinyHSM benchmark — $cpu, $cores cores, median of $RUNS runs

  in-process P-256 sign (limit)      $limit_signs signatures/s
  in-process SHA-256, 64 MiB         $limit_sha MB/s
  AT+SIGNER_SIGN over the pty        $dev_rate round trips/s ($pct% of the limit)
    latency                          p50 ${dev_p50} us, p99 ${dev_p99} us
  tinyhsm sign, 1 MiB                ${s1} s vs openssl dgst -sign ${o1} s: $(ratio "$s1" "$o1")x
  tinyhsm sign, 64 MiB               ${s64} s vs openssl dgst -sign ${o64} s: $(ratio "$s64" "$o64")x
  tinyhsm verify, 64 MiB image       $verify_mbs MB/s (${v} s) vs openssl dgst -sha256 $dgst_mbs MB/s (${d} s)
  tinyhsm config --new all           ${provision_s} s
  115200-baud link                   $link_bytes bytes/signature, $link_rate signatures/s
TABLE

# the firmware's figures (make bench-fw), when measured, go in the same file
fw_member=
if [ -f "$PWD/bench/fw-results.json" ]; then
    fw_member=",
  \"firmware\": $(cat "$PWD/bench/fw-results.json")"
fi
cat >"$OUT" <<JSON
{
  "cpu": "$cpu", "cores": $cores, "runs": $RUNS,
  "limit_signs_per_s": $limit_signs, "limit_sha256_mb_per_s": $limit_sha,
  "device_round_trips_per_s": $dev_rate, "device_p50_us": $dev_p50,
  "device_p99_us": $dev_p99, "device_percent_of_limit": $pct,
  "sign_1mib_s": $s1, "openssl_1mib_s": $o1, "ratio_1mib": $(ratio "$s1" "$o1"),
  "sign_64mib_s": $s64, "openssl_64mib_s": $o64, "ratio_64mib": $(ratio "$s64" "$o64"),
  "verify_64mib_s": $v, "verify_mb_per_s": $verify_mbs,
  "openssl_dgst_64mib_s": $d, "openssl_dgst_mb_per_s": $dgst_mbs,
  "provision_s": $provision_s,
  "link_115200_bytes_per_signature": $link_bytes,
  "link_115200_signatures_per_s": $link_rate$fw_member
}
JSON
echo "Wrote $OUT"
