#!/usr/bin/env bash
# make bench-fw: the firmware's footprint and cost under QEMU. Prints a table
# and writes bench/fw-results.json (committed: it depends on the build, not on
# this machine's speed).
#
# Footprint: text, data and bss of the ELF (flash = text + data, RAM = data +
# bss, which includes the reserved stack and the mbedTLS pool); the stack
# high-water mark and the pool's peak use, as the firmware reports them in
# fw-stats.txt after each session, over provisioning, signing and PIN use.
# Instructions: the longest request of a session, in SysTick ticks, under
# QEMU -icount shift=0 (one instruction per virtual nanosecond; the AN505
# core clock is 20 MHz, so a tick is 50 instructions). A rough guide only:
# QEMU counts instructions, not the cycles of a real Cortex-M33.
# Image mode: all the requests of a 1 MiB signature in image mode less those
# of the same signature in digest mode, per MiB: framing, base64 decoding
# and SHA-256 of every byte streamed.
set -euo pipefail
BIN=$(cd "${1:-build/bin}" && pwd)
FW=$(cd "$(dirname "${2:-build/fw/tinyhsm-fw.elf}")" && pwd)/$(basename "${2:-build/fw/tinyhsm-fw.elf}")
OUT=${BENCH_FW_JSON:-$PWD/bench/fw-results.json}
RELAY_PY=$(cd "$(dirname "$0")/.." && pwd)/tests/e2e/tools/hide_image.py
TMP=$(mktemp -d)
DPID=
cleanup() {
    [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
cd "$TMP" # tinyhsm sign also writes SigGen.c and the certificate here

stat_of() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" "$TMP/state/fw-stats.txt"; }
hsm() { "$BIN/tinyhsm" --port "$TMP/tty" "$@" >/dev/null 2>&1; }

start() {
    : >"$TMP/pty"
    "$BIN/tinyhsmd-qemu" --icount --firmware "$FW" --state "$TMP/state" \
        --link "$TMP/tty" >"$TMP/pty" 2>"$TMP/log" &
    DPID=$!
    for _ in $(seq 100); do [ -s "$TMP/pty" ] && break; sleep 0.05; done
    [ -s "$TMP/pty" ] || { cat "$TMP/log"; exit 1; }
}

# session NAME CMD...: runs one client session (on $PORT when set), keeps
# the worst figures, its longest request and all its requests' ticks.
stack_max=0 pool_max=0
session() {
    local name=$1
    shift
    "$BIN/tinyhsm" --port "${PORT:-$TMP/tty}" "$@" >/dev/null 2>&1 ||
        { echo "bench-fw: $* failed" >&2; exit 1; }
    [ -z "${RELAY:-}" ] || { kill "$RELAY"; wait "$RELAY" || true; RELAY=; }
    sleep 0.2 # the firmware writes fw-stats.txt after the session ends
    local s p t
    s=$(stat_of stack_used) p=$(stat_of pool_max) t=$(stat_of busy_max_ticks)
    [ "$s" -gt "$stack_max" ] && stack_max=$s
    [ "$p" -gt "$pool_max" ] && pool_max=$p
    eval "ticks_$name=$t total_$name=$(stat_of busy_total_ticks)"
}

read -r text data bss _ < <(arm-none-eabi-size "$FW" | tail -1)
sym() { arm-none-eabi-nm -S "$FW" | awk -v n="$1" -v f="$2" '$NF ~ n {print $f}'; }
stack_size=$((16#$(sym '^__stack_top$' 1) - 16#$(sym '^__stack_limit$' 1)))
pool_size=$((16#$(sym '^pool\.' 2)))

head -c 65536 /dev/urandom >"$TMP/fw.bin"
start
session provision config --new all
session sign sign --force --board B-U585I-IOT02A --version 1.0.0 -o "$TMP/s.bin" "$TMP/fw.bin"
TINYHSM_NEW_PIN=bench-pin-1 session pin pin set
TINYHSM_PIN=bench-pin-1 session sign_pin sign --force --board B-U585I-IOT02A \
    --version 1.0.1 -o "$TMP/s.bin" "$TMP/fw.bin"
session log log --verify
# 1 MiB signed in image mode and in digest mode (a relay hides IMAGE=): the
# difference of all the requests' ticks is what streaming costs the firmware
# (framing, base64 and SHA-256 of every byte)
{ printf '\000\040\000\040\001\202\000\010'; head -c $(((1 << 20) - 8)) /dev/urandom; } >"$TMP/mib.bin"
mib_sign() { echo sign --board BENCH --max-size $((128 << 20)) --version "$1" \
    -o "$TMP/m.bin" --cert-out "$TMP/c.pem" --siggen "$TMP/S.c" "$TMP/mib.bin"; }
TINYHSM_PIN=bench-pin-1 session image $(mib_sign 2.0.0)
python3 "$RELAY_PY" "$TMP/tty" "$TMP/hidden" &
RELAY=$!
for _ in $(seq 100); do [ -s "$TMP/hidden" ] && break; sleep 0.05; done
TINYHSM_PIN=bench-pin-1 PORT=$(cat "$TMP/hidden") session digest $(mib_sign 2.0.1)
kill -TERM "$DPID"; wait "$DPID" || true; DPID=

insn() { echo $(($1 * 1000000000 / $(stat_of tick_hz))); }
flash=$((text + data)) ram=$((data + bss))
sign_insn=$(insn "$ticks_sign") pin_insn=$(insn "$ticks_sign_pin")
prov_insn=$(insn "$ticks_provision")

printf '%-44s %12s\n' "Firmware (QEMU mps2-an505, Cortex-M33)" ""
printf '%-44s %12s\n' "flash: text + data (target 256 KiB)" "$flash B"
printf '%-44s %12s\n' "RAM: data + bss (target 64 KiB)" "$ram B"
printf '%-44s %12s\n' "  of which reserved stack" "$stack_size B"
printf '%-44s %12s\n' "  of which mbedTLS pool" "$pool_size B"
printf '%-44s %12s\n' "stack high-water mark" "$stack_max B"
printf '%-44s %12s\n' "mbedTLS pool peak" "$pool_max B"
printf '%-44s %12s\n' "instructions per signature (-icount)" "$sign_insn"
printf '%-44s %12s\n' "instructions per PIN login (PBKDF2)" "$pin_insn"
printf '%-44s %12s\n' "instructions, longest provisioning request" "$prov_insn"
signed=$(($(stat -c %s "$TMP/m.bin") - 64))
echo "bench-fw: all requests: image mode $total_image ticks, digest mode $total_digest" >&2
stream_insn=$(($(insn $((total_image - total_digest))) * 1048576 / signed))
printf '%-44s %12s\n' "instructions per MiB streamed (image mode)" "$stream_insn"

cat >"$OUT" <<EOF
{
  "firmware": "$(basename "$FW")",
  "machine": "qemu mps2-an505 (Cortex-M33), QEMU $(qemu-system-arm --version | head -1 | awk '{print $4}')",
  "text_bytes": $text,
  "data_bytes": $data,
  "bss_bytes": $bss,
  "flash_bytes": $flash,
  "ram_bytes": $ram,
  "stack_reserved_bytes": $stack_size,
  "stack_high_water_bytes": $stack_max,
  "mbedtls_pool_bytes": $pool_size,
  "mbedtls_pool_peak_bytes": $pool_max,
  "instructions_per_signature": $sign_insn,
  "instructions_per_pin_login": $pin_insn,
  "instructions_longest_provisioning_request": $prov_insn,
  "instructions_per_mib_streamed": $stream_insn
}
EOF
echo "wrote $OUT"
