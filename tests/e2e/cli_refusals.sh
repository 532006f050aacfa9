#!/usr/bin/env bash
# tinyhsm sign refuses bad input with a clear message and writes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/firmware.sh"

start_daemon
run 0 tinyhsm config --new all
mkdir "$TMP/work" && cd "$TMP/work"
firmware 4000 >fw.bin
: >empty.bin
echo old >signed_binary.bin
echo old >stsafe_signer_cert.pem
echo old >SigGen.c

# refuse STATUS MESSAGE-PART ARGS...: nothing written, old outputs intact
refuse() {
    local status=$1 msg=$2
    shift 2
    run "$status" tinyhsm sign "$@"
    has "$TMP/err" "$msg"
    for f in signed_binary.bin stsafe_signer_cert.pem SigGen.c; do
        [ "$(cat "$f")" = old ] || fail "$f was changed by a refused sign ($*)"
    done
    [ -z "$(ls -A | grep -v -e '^fw.bin$' -e '^empty.bin$' -e '^big.bin$' -e '^signed_binary.bin$' \
        -e '^stsafe_signer_cert.pem$' -e '^SigGen.c$' -e '^v[0-9]*.h$' || true)" ] ||
        fail "a refused sign left files: $(ls -A)"
    ok "refused: $*"
}

refuse 2 "15" --board B-U585I-IOT02A-XYZ --max-size 100000 --version 1.0.0 fw.bin
refuse 2 "board" --board "$(printf 'B\tX')" --max-size 100000 --version 1.0.0 fw.bin
refuse 2 "unknown board" --board NO-SUCH-BOARD --version 1.0.0 fw.bin
refuse 2 "version" --board B-U585I-IOT02A --version 1.2 fw.bin
refuse 2 "version" --board B-U585I-IOT02A --version 1.2.3.4 fw.bin
refuse 2 "version" --board B-U585I-IOT02A --version a.b.c fw.bin
refuse 2 "version" --board B-U585I-IOT02A --version 1234567.1234567.1 fw.bin
refuse 2 "version" --board B-U585I-IOT02A fw.bin
refuse 2 "version" --board B-U585I-IOT02A --version 1.0.0 --version-file v.h fw.bin
refuse 1 "nope.h" --board B-U585I-IOT02A --version-file nope.h fw.bin
printf '#define APP_VERSION_MAJOR 1\n#define APP_VERSION_MINOR 2\n' >v1.h
refuse 1 "APP_VERSION_BUILD" --board B-U585I-IOT02A --version-file v1.h fw.bin
refuse 1 "empty" --board B-U585I-IOT02A --version 1.0.0 empty.bin
refuse 1 "no-such-fw" --board B-U585I-IOT02A --version 1.0.0 no-such-fw.bin
head -c 46593 /dev/zero >big.bin   # 512 + 47104 > 47104
refuse 1 "47104" --board NUCLEO-G071RB --version 1.0.0 big.bin
refuse 1 "1024" --board B-U585I-IOT02A --max-size 1024 --version 1.0.0 fw.bin
refuse 2 "board" --version 1.0.0 fw.bin
rm big.bin

# the largest image that fits is accepted
firmware 46592 >fits.bin
run 0 tinyhsm sign --board NUCLEO-G071RB --version 1.0.0 -o fits.img \
    --cert-out fits.pem --siggen fits.c fits.bin
[ "$(stat -c %s fits.img)" -eq $((47104 + 64)) ] || fail "max-size image"
rm fits.bin fits.img fits.pem fits.c
ok "an image of exactly the maximum size is accepted"

# device not provisioned: say which config command to run
run 0 tinyhsm decommission --yes
refuse 1 "tinyhsm config --new all" --board B-U585I-IOT02A --version 1.0.0 fw.bin
run 0 tinyhsm config --new all

# device unreachable
TINYHSM_PORT=$TMP/absent refuse 1 "absent" --board B-U585I-IOT02A --version 1.0.0 fw.bin

# port busy
flock -n "$TMP/tty" sleep 3 &
holder=$!
sleep 0.5
refuse 1 "busy" --board B-U585I-IOT02A --version 1.0.0 fw.bin
wait $holder
stop_daemon
finish
