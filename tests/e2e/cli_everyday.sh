#!/usr/bin/env bash
# Everyday use of tinyhsm: --version, help, global options after the
# command, info's status, key id and --json, and finding the board's
# ST-LINK port in a fake sysfs tree.
. "$(dirname "$0")/lib.sh"
cd "$TMP"

# --version: the project's version, the same as tinyhsmd's
run 0 tinyhsm --version
grep -qxE 'tinyhsm [0-9]+\.[0-9]+\.[0-9]+' "$TMP/out" || fail "$(cat "$TMP/out")"
[ "$(cut -d' ' -f2 "$TMP/out")" = "$("$BIN/tinyhsmd" --version | cut -d' ' -f2)" ] ||
    fail "tinyhsm and tinyhsmd disagree on the version"
ok "--version"

# help [COMMAND] is the command's own --help; every one has an example
run 0 tinyhsm help
for cmd in info config sign cert verify decommission pin log; do
    has "$TMP/out" "  $cmd "
done
has "$TMP/out" "Example"
for cmd in info config sign cert verify decommission pin log; do
    run 0 tinyhsm "$cmd" --help
    cp "$TMP/out" "$TMP/want"
    run 0 tinyhsm help "$cmd"
    cmp -s "$TMP/out" "$TMP/want" || fail "help $cmd differs from $cmd --help"
    has "$TMP/out" "Example"
done
run 2 tinyhsm help frobnicate
has "$TMP/err" "tinyhsm help"
tinyhsm help >"$TMP/want"
for opt in --help -h; do
    run 0 tinyhsm help $opt
    cmp -s "$TMP/out" "$TMP/want" || fail "help $opt is not the general help"
done
run 0 tinyhsm decommission --help
has "$TMP/out" "With a PIN set it needs the PIN"
has "$TMP/out" "a device blocked by wrong PINs is decommissioned without it"
ok "help and help COMMAND"

# no command, an unknown or misspelt one: say what to do
run 2 tinyhsm
has "$TMP/err" "tinyhsm help"
has "$TMP/err" "tinyhsm info"
run 2 tinyhsm frobnicate
has "$TMP/err" "unknown command 'frobnicate'"
has "$TMP/err" "Run 'tinyhsm help'"
run 2 tinyhsm sigm
has "$TMP/err" "did you mean 'sign'?"
run 2 tinyhsm -d
has "$TMP/err" "no command given"
run 2 tinyhsm foo
has "$TMP/err" "unknown command 'foo'"
grep -q "did you mean" "$TMP/err" && fail "'foo' is nothing like a command: $(cat "$TMP/err")"
run 2 tinyhsm in
has "$TMP/err" "did you mean 'info'?"
ok "no command and unknown commands; a guess only when it is close"

# every message starts with "tinyhsm:", never with the path of the program
# bad options: one line that names the option and the nearest valid one,
# then the hint to --help
one_error() { # WANT...: the first line of stderr holds each, the second is the hint
    [ "$(wc -l <"$TMP/err")" -eq 2 ] || fail "not two lines: $(cat "$TMP/err")"
    head -1 "$TMP/err" | grep -q "^tinyhsm: " || fail "no 'tinyhsm:': $(cat "$TMP/err")"
    grep -qF "$BIN" "$TMP/err" && fail "argv[0] in: $(cat "$TMP/err")"
    for want; do head -1 "$TMP/err" | grep -qF -- "$want" || fail "lacks '$want': $(cat "$TMP/err")"; done
    sed -n 2p "$TMP/err" | grep -q "^Try 'tinyhsm .*help'" || fail "no hint: $(cat "$TMP/err")"
}
run 2 tinyhsm -x
one_error "unknown option '-x'"
run 2 tinyhsm --prot /dev/null info
one_error "unknown option '--prot'" "did you mean '--port'?"
run 2 tinyhsm -p
one_error "option '-p' needs a value"
run 2 tinyhsm config --new all --yes --ca-cuntry US
one_error "config: unknown option '--ca-cuntry'" "did you mean '--ca-country'?" 
has "$TMP/err" "Try 'tinyhsm config --help'"
run 2 tinyhsm config --new all --ca-country
one_error "option '--ca-country' needs a value"
run 2 tinyhsm config --new all --ca
one_error "option '--ca' is ambiguous" "'--ca-country'" "'--ca-days'"
run 2 tinyhsm config --yes=1
one_error "option '--yes' takes no value"
run 2 tinyhsm sign --bord X fw.bin
one_error "sign: unknown option '--bord'" "did you mean '--board'?"
run 2 tinyhsm sign -o
one_error "sign: option '-o' needs a value"
run 2 tinyhsm verify --sigen S.c img.bin
one_error "verify: unknown option '--sigen'" "did you mean '--siggen'?"
run 2 tinyhsm cert ca --dre
one_error "cert: unknown option '--dre'" "did you mean '--der'?"
run 2 tinyhsm info --jsn
one_error "info: unknown option '--jsn'" "did you mean '--json'?"
run 2 tinyhsm log --verfy
one_error "log: unknown option '--verfy'" "did you mean '--verify'?"
run 2 tinyhsm pin set --new-pin-fil
one_error "pin: option '--new-pin-file' needs a value"
run 2 tinyhsm decommission --yess
one_error "decommission: unknown option '--yess'" "did you mean '--yes'?"
run 2 tinyhsm log --frobnicate
one_error "log: unknown option '--frobnicate'"
grep -q "did you mean" "$TMP/err" && fail "a far-fetched guess: $(cat "$TMP/err")"
ok "bad options: one line naming the option, a close guess, the hint"

# --help COMMAND is that command's help; --version takes nothing after it
run 0 tinyhsm sign --help
cp "$TMP/out" "$TMP/want"
run 0 tinyhsm --help sign
cmp -s "$TMP/out" "$TMP/want" || fail "--help sign is not sign's help"
run 0 tinyhsm --help
has "$TMP/out" "Commands:"
run 2 tinyhsm --help sign verify
has "$TMP/err" "help takes one command"
run 2 tinyhsm --help frobnicate
has "$TMP/err" "unknown command 'frobnicate'"
run 2 tinyhsm --version extra
has "$TMP/err" "tinyhsm: --version takes no argument, not 'extra'"
[ ! -s "$TMP/out" ] || fail "--version extra printed: $(cat "$TMP/out")"
ok "--help COMMAND, and --version alone"

# the install puts the original scripts' wrappers on PATH (cmake --install
# writes its manifest into the build tree: skipped where that is read-only)
if [ -f "$BIN/../cmake_install.cmake" ] && [ -w "$BIN/.." ]; then
    cmake --install "$BIN/.." --prefix "$TMP/inst" --component scripts >/dev/null
    for s in tinyhsm-sign tinyhsm-config; do
        [ -x "$TMP/inst/bin/$s" ] || fail "$s not installed in bin"
        PATH=$TMP/inst/bin:$PATH run 0 "$s" --help
        has "$TMP/out" "with the variables of the original"
    done
    [ -x "$TMP/inst/share/tinyhsm/scripts/sign.sh" ] || fail "the old place is gone"
    PATH=$TMP/inst/bin:$PATH run 2 tinyhsm-sign fw.bin
    has "$TMP/err" "tinyhsm-sign: set BOARD"
    PATH=$TMP/inst/bin:$PATH run 0 tinyhsm-config --help
    has "$TMP/out" "SIGNER_DURATION"
    ok "make install puts tinyhsm-sign and tinyhsm-config in bin"
else
    echo "skip - install: $BIN/.. is not a writable build tree"
fi

# global options after the command, in every form
start_daemon
run 0 tinyhsm info
has "$TMP/out" "CA certificate
  none yet (create one with: tinyhsm config --new all)"
has "$TMP/out" "Signer certificate
  none yet (create one with: tinyhsm config --new all)"
grep -q "AT+\|ERROR" "$TMP/out" && fail "protocol words in info: $(cat "$TMP/out")"
ok "info on a new device says how to create the CA and signer"
real=$TINYHSM_PORT
export TINYHSM_PORT=$TMP/not-the-port
run 0 tinyhsm info -p "$real" -d
has "$TMP/out" "Device:  tinyhsmd"
has "$TMP/err" "AT+VERSION?"
run 0 tinyhsm info --port="$real" --debug
has "$TMP/err" "AT+VERSION?"
run 0 tinyhsm info --port "$real"
[ ! -s "$TMP/err" ] || fail "no -d, yet a trace: $(cat "$TMP/err")"
run 0 tinyhsm info "-p$real"
run 2 tinyhsm info -p
has "$TMP/err" "-p needs a value"
run 2 tinyhsm info --pin-file
# after "--" nothing is a global option
run 2 tinyhsm info -p "$real" -- -d
has "$TMP/err" "unexpected argument '-d'"
export TINYHSM_PORT=$real
ok "-p, --port, -d, --debug after the command; '--' ends them"

# a value that looks like a global option stays with its option
run 0 tinyhsm config --new all --ca-cn -d
has "$TMP/out" "CN=-d"
grep -q '^TinyHSM ' "$TMP/err" && fail "-d was taken as --debug"
run 0 tinyhsm cert signer -o -p
[ -s ./-p ] || fail "cert -o -p did not write ./-p"
run 0 tinyhsm cert ca --output -d
[ -s ./-d ] || fail "cert --output -d did not write ./-d"
ok "option values that look like global options"

# info: the signer key id is the device's: SHA-256 of the point, 8 bytes
keyid() {
    openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
        tail -c 65 | sha256sum | cut -c1-16 | tr a-f A-F
}
id=$(keyid ./-p)
run 0 tinyhsm info
has "$TMP/out" "Signer key id: $id"
grep -qE "EXPIRED|NOT YET VALID" "$TMP/out" && fail "a fresh certificate flagged"
has "$TMP/out" "PIN:         not set"
has "$TMP/out" "Signatures:  0 made"
has "$TMP/out" "chain intact"
ok "info: signer key id, status of a fresh device"

# a firmware whose vector table suits the board (SP in SRAM, reset in flash)
printf '\x00\x00\x04\x20\x01\x84\x00\x08' >fw.bin
head -c 4088 /dev/urandom >>fw.bin
echo 'goodpin1' >good.pin
echo 'wrongpin' >bad.pin
TINYHSM_NEW_PIN=goodpin1 run 0 tinyhsm pin set
run 1 tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 fw.bin
[ ! -e signed_binary.bin ] || fail "signed without the PIN"
run 0 tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 fw.bin --pin-file good.pin
[ -s signed_binary.bin ] || fail "sign --pin-file F wrote no image"
run 0 tinyhsm sign --pin-file=good.pin --board B-U585I-IOT02A --version 1.0.1 -o v101.bin fw.bin
ok "--pin-file after the command"

run 1 tinyhsm config --new signer --yes --pin-file bad.pin
run 0 tinyhsm info
has "$TMP/out" "PIN:         set, 4 tries left"
has "$TMP/out" "Signatures:  2 made"
run 0 tinyhsm info --json
has "$TMP/out" '"signer_key_id":"'"$id"'"'
has "$TMP/out" '"pin":"set","blocked":false,"tries_left":4,"signatures_since_start":2'
has "$TMP/out" '"log_intact":true'
[ "$(wc -l <"$TMP/out")" -eq 1 ] || fail "--json is not one line"
ok "info: tries left and signatures, as text and JSON"

for wait in 1 2 4 8; do # the device's doubling wait after wrong PINs
    sleep $wait
    run 1 tinyhsm config --new signer --yes --pin-file bad.pin
done
run 0 tinyhsm info
has "$TMP/out" "PIN:         BLOCKED"
has "$TMP/out" "The device is BLOCKED"
has "$TMP/out" "tinyhsm decommission --yes"
run 0 tinyhsm info --json
has "$TMP/out" '"pin":"blocked","blocked":true,"tries_left":0'
ok "info says plainly that the device is blocked"

# JSON strings are escaped: a CN with a quote and a backslash
run 0 tinyhsm decommission --yes
run 0 tinyhsm config --new all --ca-cn 'Q"uo\te'
run 0 tinyhsm info --json
has "$TMP/out" '"subject":"C=US, O=MyHSM, CN=Q\"uo\\te"'
has "$TMP/out" '"status":{"pin":"none","blocked":false,"tries_left":null'
if command -v python3 >/dev/null; then
    python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ca"]["subject"].endswith("CN=Q\"uo\\te")' \
        <"$TMP/out" || fail "python cannot read info --json"
fi
grep -Eq '"not_before":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z","not_after":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"' \
    "$TMP/out" || fail "JSON times are not ISO 8601 UTC: $(cat "$TMP/out")"
has "$TMP/out" '"validity":"valid"'
run 2 tinyhsm info --jsno
ok "info --json escapes strings; times are ISO 8601 UTC"
stop_daemon

# Finding the board: no -p, no TINYHSM_PORT, nothing at the default port
mkdir -p "$TMP/rt"
# fake_tty ROOT BUSPORT NAME VENDOR PRODUCT: a USB ACM tty, laid out as Linux does
fake_tty() {
    local usb=$1/devices/pci0000:00/usb1/$2
    mkdir -p "$usb/$2:1.1/tty/$3" "$1/class/tty"
    echo "$4" >"$usb/idVendor"
    echo "$5" >"$usb/idProduct"
    ln -s "../../../$2:1.1" "$usb/$2:1.1/tty/$3/device"
    ln -s "../../devices/pci0000:00/usb1/$2/$2:1.1/tty/$3" "$1/class/tty/$3"
}
nodev() {
    env -u TINYHSM_PORT XDG_RUNTIME_DIR="$TMP/rt" TINYHSM_SYSFS_ROOT="$1" \
        "$BIN/tinyhsm" info >"$TMP/out" 2>"$TMP/err" </dev/null || echo $?
}
fake_tty "$TMP/sys1" 1-1 ttyACM90 2341 0043   # an Arduino
fake_tty "$TMP/sys1" 1-2 ttyACM91 0483 374e   # the board's STLINK-V3E
[ "$(nodev "$TMP/sys1")" = 1 ] || fail "no board at /dev/ttyACM91, yet success"
has "$TMP/err" "using the board's ST-LINK port /dev/ttyACM91"
has "$TMP/err" "/dev/ttyACM91:"
ok "one ST-LINK board: its port is chosen and named"

cp -a "$TMP/sys1" "$TMP/sys2"
fake_tty "$TMP/sys2" 1-3 ttyACM92 0483 374b   # a second one
[ "$(nodev "$TMP/sys2")" = 1 ] || fail "two boards: not exit 1"
has "$TMP/err" "2 ST-LINK boards are attached"
has "$TMP/err" "  /dev/ttyACM91"
has "$TMP/err" "  /dev/ttyACM92"
has "$TMP/err" "tinyhsm -p /dev/ttyACM91 info"
ok "several boards: listed, and -p asked for"

[ "$(nodev "$TMP/nothing")" = 1 ] || fail "no board, no daemon: not exit 1"
has "$TMP/err" "is tinyhsmd running?"
TINYHSM_PORT=$TMP/gone TINYHSM_SYSFS_ROOT=$TMP/sys1 run 1 tinyhsm info
grep -q ttyACM "$TMP/err" && fail "a board was used instead of TINYHSM_PORT"
ok "no board: the old advice; an explicit TINYHSM_PORT is never replaced"

# a running tinyhsmd at the default port wins over a board
: >"$TMP/daemon.out"
env -u TINYHSM_PORT XDG_RUNTIME_DIR="$TMP/rt" "$BIN/tinyhsmd" --state "$TMP/state2" \
    >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
DPID=$!
for _ in $(seq 100); do [ -s "$TMP/daemon.out" ] && break; sleep 0.05; done
[ -z "$(nodev "$TMP/sys2")" ] || fail "tinyhsmd at the default port not used"
has "$TMP/out" "Device:  tinyhsmd"
grep -q ST-LINK "$TMP/err" && fail "looked for a board while tinyhsmd runs"
stop_daemon
ok "tinyhsmd at the default port comes first"
finish
