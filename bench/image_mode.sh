#!/usr/bin/env bash
# bench/image_mode.sh BIN: tinyhsm sign of a 1 MiB firmware on tinyhsmd in
# image mode (the image streamed, the device hashes it) and in digest mode
# (a relay hides the device's IMAGE= field, as on the original board);
# median of RUNS runs, and the modelled time of both on a 115200-baud UART
# (10 bits a byte: 11520 bytes/s, bytes of both directions, round trips not
# counted). Prints table lines; writes a JSON object to $IMAGE_JSON.
set -euo pipefail
BIN=$(cd "$1" && pwd)
RUNS=${RUNS:-5}
OUT=${IMAGE_JSON:-/dev/null}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
DPID= RELAY=
cleanup() {
    [ -n "$RELAY" ] && kill "$RELAY" 2>/dev/null || true
    [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); calc '%.4f\n' "$t1 - $t0"; }

"$BIN/tinyhsmd" --state "$TMP/state" --link "$TMP/tty" >"$TMP/pty" 2>"$TMP/log" &
DPID=$!
for _ in $(seq 100); do [ -s "$TMP/pty" ] && break; sleep 0.05; done
export TINYHSM_NO_PIN_WARNING=1
"$BIN/tinyhsm" --port "$TMP/tty" config --new all --yes >/dev/null
python3 "$HERE/../tests/e2e/tools/hide_image.py" "$TMP/tty.sock" "$TMP/hidden" &
RELAY=$!
for _ in $(seq 100); do [ -s "$TMP/hidden" ] && break; sleep 0.05; done
{ printf '\000\040\000\040\001\202\000\010'; head -c $(((1 << 20) - 8)) /dev/urandom; } >"$TMP/fw.bin"
sign() { # PORT
    "$BIN/tinyhsm" --port "$1" sign --board BENCH --max-size $((128 << 20)) \
        --version 1.0.0 -o "$TMP/s.bin" --cert-out "$TMP/c.pem" \
        --siggen "$TMP/S.c" "$TMP/fw.bin"
}
for _ in $(seq "$RUNS"); do secs sign "$TMP/tty"; done >"$TMP/image"
for _ in $(seq "$RUNS"); do secs sign "$(cat "$TMP/hidden")"; done >"$TMP/digest"
# what the image mode sent, to count the bytes on the wire
"$BIN/tinyhsm" -d --port "$TMP/tty" sign --board BENCH --max-size $((128 << 20)) \
    --version 1.0.0 -o "$TMP/s.bin" --cert-out "$TMP/c.pem" --siggen "$TMP/S.c" \
    "$TMP/fw.bin" 2>"$TMP/trace" >/dev/null
[ -s "$TMP/s.bin" ] || { echo "bench: image mode sign failed" >&2; exit 1; }
image_s=$(median <"$TMP/image") digest_s=$(median <"$TMP/digest")
signed=$(($(stat -c %s "$TMP/s.bin") - 64))
# request lines with CR LF; each answer "OK" CR LF CR LF (6 bytes), the
# signature's about 160
wire() { # the trace lines of one mode's signing requests
    awk '/ <- AT\+(IMG_|SIGNER_SIGN)/ { sub(/^.* <- /, ""); n += length($0) + 2;
         if ($0 ~ /^AT\+(IMG_END|SIGNER_SIGN)/) n += 160; else n += 6 }
         END { print n }'
}
image_bytes=$(wire <"$TMP/trace")
digest_bytes=$(printf 'TinyHSM <- AT+SIGNER_SIGN HASH=%064d\n' 0 | wire)
image_uart=$(calc %.1f "$image_bytes / 11520")
digest_uart=$(calc %.2f "$digest_bytes / 11520")
per_mib=$(calc %.1f "$image_bytes / 11520 * 1048576 / $signed")
cat <<TABLE
  tinyhsm sign 1 MiB, image mode       ${image_s} s (socket; the device hashes $signed bytes)
  tinyhsm sign 1 MiB, digest mode      ${digest_s} s (socket, through a relay hiding IMAGE=)
  at 115200 baud (model)               image mode $image_bytes bytes: ${image_uart} s (${per_mib} s/MiB); digest mode $digest_bytes bytes: ${digest_uart} s
TABLE
cat >"$OUT" <<JSON
{"runs": $RUNS, "signed_bytes": $signed, "image_mode_1mib_s": $image_s,
   "digest_mode_1mib_s": $digest_s, "image_mode_wire_bytes": $image_bytes,
   "digest_mode_wire_bytes": $digest_bytes,
   "image_mode_115200_s": $image_uart, "image_mode_115200_s_per_mib": $per_mib,
   "digest_mode_115200_s": $digest_uart}
JSON
