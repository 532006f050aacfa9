#!/usr/bin/env bash
# make bench: each figure is the median of RUNS runs, measured side by side in
# one run on this machine, and labelled with the transport it went over.
# Prints a table and writes bench/results.json. QUICK=1: one run, small
# sizes, short PKCS#11 runs (make check runs it so that a broken bench fails).
set -euo pipefail
BIN=$(cd "${1:-build-bench/bin}" && pwd)
LIB=$(cd "$BIN/../lib" 2>/dev/null && pwd || true)
QUICK=${QUICK:-0}
[ "$QUICK" = 1 ] && RUNS=1 || RUNS=${RUNS:-5}
OUT=${BENCH_JSON:-$PWD/bench/results.json}
[ "$QUICK" = 1 ] && OUT=${BENCH_JSON:-$(mktemp)} # a quick run is no result
TMP=$(mktemp -d)
DPID=
cleanup() {
    [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null || true
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
    [ -s "$TMP/pty" ] || { cat "$TMP/log"; echo "bench: tinyhsmd did not start" >&2; exit 1; }
}
stop_daemon() { kill -TERM "$DPID"; wait "$DPID" || true; DPID=; : >"$TMP/pty"; }
hsm() { TINYHSM_NO_PIN_WARNING=1 "$BIN/tinyhsm" --port "$TMP/tty" "$@"; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
cores=$(nproc)
if [ "$QUICK" = 1 ]; then
    SIZES="1"; TRIPS=200; PACED=5; P11_S=0.5
else
    SIZES="1 64"; TRIPS=2000; PACED=50; P11_S=3
fi

for _ in $(seq "$RUNS"); do "$BIN/thsm_bench" limit; done >"$TMP/limit"
limit_signs=$(json signs_per_s <"$TMP/limit" | median)
limit_sha=$(json sha256_mb_per_s <"$TMP/limit" | median)

start_daemon
for _ in $(seq "$RUNS"); do secs hsm config --new all --yes; done >"$TMP/prov"
provision_s=$(median <"$TMP/prov")
# the link makes the client use the socket beside it (as tinyhsm does)
for _ in $(seq "$RUNS"); do "$BIN/thsm_bench" device "$TMP/tty" "$TRIPS"; done >"$TMP/dev"
dev_rate=$(json round_trips_per_s <"$TMP/dev" | median)
dev_p50=$(json p50_us <"$TMP/dev" | median)
dev_p99=$(json p99_us <"$TMP/dev" | median)

# end to end against openssl with a local key, on the same files. BENCH is
# no known board: --max-size is then ours to give (a known board's is its
# flash).
openssl ecparam -name prime256v1 -genkey -noout -out "$TMP/key.pem"
for mib in $SIZES; do
    { printf '\000\040\000\040\001\202\000\010'; head -c $(((mib << 20) - 8)) /dev/urandom; } >"$TMP/fw$mib.bin"
    for _ in $(seq "$RUNS"); do
        secs hsm sign --board BENCH --max-size $((128 << 20)) \
            --version 1.0.0 -o "$TMP/s.bin" --cert-out "$TMP/c.pem" \
            --siggen "$TMP/S.c" "$TMP/fw$mib.bin"
    done >"$TMP/sign$mib"
    [ -s "$TMP/s.bin" ] || { echo "bench: tinyhsm sign failed" >&2; exit 1; }
    for _ in $(seq "$RUNS"); do
        secs openssl dgst -sha256 -sign "$TMP/key.pem" -out "$TMP/o.sig" "$TMP/fw$mib.bin"
    done >"$TMP/ossl$mib"
done
big=${SIZES##* }
# verification of the largest image (last signed above) against plain hashing
for _ in $(seq "$RUNS"); do
    secs "$BIN/tinyhsm" verify --siggen "$TMP/S.c" --max-size $((128 << 20)) "$TMP/s.bin"
done >"$TMP/verify"
"$BIN/tinyhsm" verify --siggen "$TMP/S.c" --max-size $((128 << 20)) "$TMP/s.bin" >/dev/null
for _ in $(seq "$RUNS"); do secs openssl dgst -sha256 "$TMP/s.bin"; done >"$TMP/dgst"
image_mb=$(calc %.1f "$(stat -c %s "$TMP/s.bin") / 1000000")
stop_daemon

# image mode against digest mode (issue 18), and both at 115200 baud
IMAGE_JSON=$TMP/image.json RUNS=$RUNS bash "$(dirname "$0")/image_mode.sh" "$BIN" \
    >"$TMP/image.txt"

# the pty itself (not the socket beside its link), paced like a 115200-baud
# UART: 10 bits a byte, both ways
start_daemon --baud 115200
"$BIN/thsm_bench" link "$(head -1 "$TMP/pty")" "$PACED" >"$TMP/link"
stop_daemon
link_rate=$(json round_trips_per_s <"$TMP/link")
link_bytes=$(json bytes_per_signature <"$TMP/link")
link_model=$(calc %.0f "115200 / 10 / $link_bytes")

# PKCS#11: C_Sign (CKM_ECDSA) through the module, and through SoftHSM2 in
# the same run, at 1, 2 and 8 threads. The device has a PIN, as in use.
THREADS="1 2 8"
P11_PIN=bench-pin-1
MODULE=$LIB/libtinyhsm-pkcs11.so
SOFTHSM=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
[ -r "$MODULE" ] || { echo "bench: no module at $MODULE" >&2; exit 1; }
start_daemon
TINYHSM_NEW_PIN=$P11_PIN hsm pin set </dev/null >/dev/null
p11_rate() { # MODULE THREADS
    for _ in $(seq "$RUNS"); do "$BIN/thsm_bench" pkcs11 "$1" "$P11_PIN" "$2" "$P11_S"; done |
        json sign_per_s | median
}
declare -A p11 soft
for t in $THREADS; do p11[$t]=$(TINYHSM_PORT=$TMP/tty p11_rate "$MODULE" "$t"); done
stop_daemon
have_soft=0
if [ -r "$SOFTHSM" ] && command -v softhsm2-util >/dev/null && command -v pkcs11-tool >/dev/null; then
    have_soft=1
    mkdir "$TMP/tokens"
    export SOFTHSM2_CONF=$TMP/softhsm2.conf
    echo "directories.tokendir = $TMP/tokens" >"$SOFTHSM2_CONF"
    softhsm2-util --init-token --free --label bench --pin "$P11_PIN" --so-pin bench-so-pin >/dev/null
    pkcs11-tool --module "$SOFTHSM" --login --pin "$P11_PIN" --keypairgen \
        --key-type EC:prime256v1 --label signer >/dev/null 2>&1
    for t in $THREADS; do soft[$t]=$(p11_rate "$SOFTHSM" "$t"); done
else
    for t in $THREADS; do soft[$t]=null; done
fi
ratio_of() { [ "$2" = null ] && echo null || calc %.2f "$1 / $2"; }

s1=$(median <"$TMP/sign1"); o1=$(median <"$TMP/ossl1")
sb=$(median <"$TMP/sign$big"); ob=$(median <"$TMP/ossl$big")
ratio() { calc %.2f "$1 / $2"; }
pct=$(calc %.1f "100 * $dev_rate / $limit_signs")
v=$(median <"$TMP/verify"); d=$(median <"$TMP/dgst")
verify_mbs=$(calc %.0f "$image_mb / $v"); dgst_mbs=$(calc %.0f "$image_mb / $d")

cat <<TABLE
TinyHSM benchmark — $cpu, $cores cores, median of $RUNS runs$([ "$QUICK" = 1 ] && echo " (QUICK: not a result)")

  in-process P-256 sign (limit)        $limit_signs signatures/s
  in-process SHA-256, 64 MiB           $limit_sha MB/s
  AT+SIGNER_SIGN, Unix socket          $dev_rate round trips/s ($pct% of the limit)
    latency                            p50 ${dev_p50} us, p99 ${dev_p99} us
  tinyhsm sign (socket), 1 MiB         ${s1} s vs openssl dgst -sign ${o1} s: $(ratio "$s1" "$o1")x
$([ "$big" = 1 ] || echo "  tinyhsm sign (socket), $big MiB        ${sb} s vs openssl dgst -sign ${ob} s: $(ratio "$sb" "$ob")x")
  tinyhsm verify, $big MiB image         $verify_mbs MB/s (${v} s) vs openssl dgst -sha256 $dgst_mbs MB/s (${d} s)
$(cat "$TMP/image.txt")
  tinyhsm config --new all (socket)    ${provision_s} s
  pty paced at 115200 baud             $link_bytes bytes/signature, $link_rate signatures/s (model: $link_model/s)

  C_Sign CKM_ECDSA, signatures/s   threads   TinyHSM module (socket)   SoftHSM2   ratio
TABLE
for t in $THREADS; do
    printf '                                   %7s   %23s   %8s   %5s\n' "$t" "${p11[$t]}" \
        "${soft[$t]}" "$(ratio_of "${p11[$t]}" "${soft[$t]}")"
done
[ "$have_soft" = 1 ] || echo "  (SoftHSM2 not installed: apt-get install softhsm2 opensc)"

keyed() { # NAME: {"1": x, "2": y, "8": z} from the array NAME
    local -n a=$1
    local sep= t
    printf '{'
    for t in $THREADS; do printf '%s"%s": %s' "$sep" "$t" "${a[$t]}"; sep=', '; done
    printf '}'
}
declare -A ratios
for t in $THREADS; do ratios[$t]=$(ratio_of "${p11[$t]}" "${soft[$t]}"); done

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
  "socket_round_trips_per_s": $dev_rate, "socket_p50_us": $dev_p50,
  "socket_p99_us": $dev_p99, "socket_percent_of_limit": $pct,
  "sign_1mib_s": $s1, "openssl_1mib_s": $o1, "ratio_1mib": $(ratio "$s1" "$o1"),
  "sign_${big}mib_s": $sb, "openssl_${big}mib_s": $ob, "ratio_${big}mib": $(ratio "$sb" "$ob"),
  "verify_${big}mib_s": $v, "verify_mb_per_s": $verify_mbs,
  "openssl_dgst_${big}mib_s": $d, "openssl_dgst_mb_per_s": $dgst_mbs,
  "provision_s": $provision_s,
  "pty_115200_bytes_per_signature": $link_bytes,
  "pty_115200_signatures_per_s": $link_rate,
  "pty_115200_model_signatures_per_s": $link_model,
  "pkcs11_sign_per_s": $(keyed p11),
  "softhsm2_sign_per_s": $(keyed soft),
  "pkcs11_ratio_to_softhsm2": $(keyed ratios),
  "image_mode": $(cat "$TMP/image.json")$fw_member
}
JSON
echo "Wrote $OUT"
