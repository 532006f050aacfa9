#!/usr/bin/env bash
# Parity with the reference sign.py, both ways. tools/ref_image.sh builds
# images from IMAGE.md the way the reference does (none of our code):
# - for the same firmware, board and version, `tinyhsm sign` writes the same
#   bytes, signature excepted (the reference image gets our signature);
# - `tinyhsm verify` accepts reference images signed with openssl, and the
#   one-NUL images of older tinyhsm, also with --installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/firmware.sh"
REF=$(cd "$(dirname "$0")/tools" && pwd)/ref_image.sh
KEY=$(cd "$(dirname "$0")/../../fuzz" && pwd)/boot_test_key.pem

start_daemon
run 0 tinyhsm config --new all
cd "$TMP"

# our sign == the reference's bytes, apart from the 64 signature bytes
n=0
for case in "B-U585I-IOT02A 1.2.3 1" "B-U585I-IOT02A 10.20.30 512" \
            "NUCLEO-G071RB 0.0.1 513" "NUCLEO-H503RB 4294967295.0.7 9000" \
            "ABCDEFGHIJKLMNO 1.0.0 100"; do
    read -r board version size <<<"$case"
    if [ "$size" -lt 8 ]; then head -c "$size" /dev/urandom >fw.bin; else firmware "$size" >fw.bin; fi
    rm -f ours.bin
    run 0 tinyhsm sign --force --max-size 1000000 --board "$board" --version "$version" \
        -o ours.bin --cert-out c.pem --siggen S.c fw.bin
    tail -c 64 ours.bin >sig.bin
    bash "$REF" -s sig.bin fw.bin "$board" "$version" >ref.bin
    cmp ours.bin ref.bin || fail "sign differs from the reference for $case"
    n=$((n + 1))
done
ok "sign writes the reference's bytes ($n boards, versions and sizes)"

# the version file: the last definition wins, for both
cat >application_version.h <<'H'
#define APP_VERSION_MAJOR 1
#define APP_VERSION_MINOR 2
#define APP_VERSION_BUILD 3
#if 0
#define APP_VERSION_MINOR 5
#endif
H
firmware 2000 >fw.bin
run 0 tinyhsm sign --board B-U585I-IOT02A --version-file application_version.h \
    -o ours.bin --cert-out c.pem --siggen S.c fw.bin
has "$TMP/out" "1.5.3"
tail -c 64 ours.bin >sig.bin
bash "$REF" -s sig.bin fw.bin B-U585I-IOT02A application_version.h >ref.bin
cmp ours.bin ref.bin || fail "version file read differently"
ok "a version file defining a name twice: the last definition, as the reference"

# our verify accepts reference images (two NULs) and older tinyhsm's (one)
openssl pkey -in "$KEY" -pubout -out test_pub.pem
firmware 3000 >fw.bin
bash "$REF" -k "$KEY" fw.bin B-U585I-IOT02A 1.0.0 >ref-1.0.0.bin
bash "$REF" -k "$KEY" fw.bin B-U585I-IOT02A 1.0.1 >ref-1.0.1.bin
bash "$REF" -1 -k "$KEY" fw.bin B-U585I-IOT02A 1.0.2 >old-1.0.2.bin
[ "$(od -An -tx1 -j 20 -N 2 ref-1.0.0.bin | tr -d ' ')" = 0000 ] || fail "helper: two NULs"
[ "$(od -An -tx1 -j 20 -N 2 old-1.0.2.bin | tr -d ' ')" = 00ff ] || fail "helper: one NUL"
for img in ref-1.0.0.bin ref-1.0.1.bin old-1.0.2.bin; do
    run 0 tinyhsm verify --pubkey test_pub.pem "$img"
    has "$TMP/out" "PASS header"
    has "$TMP/out" "PASS signature"
done
run 0 tinyhsm verify --pubkey test_pub.pem --installed ref-1.0.0.bin ref-1.0.1.bin
has "$TMP/out" "PASS update"
run 0 tinyhsm verify --pubkey test_pub.pem --installed ref-1.0.1.bin old-1.0.2.bin
run 1 tinyhsm verify --pubkey test_pub.pem --installed old-1.0.2.bin ref-1.0.1.bin
has "$TMP/out" "update is older than the installed image"
ok "verify accepts reference (two NULs) and older (one NUL) images, --installed too"

# and the reference image signed by the device verifies against its SigGen.c
run 0 tinyhsm sign --board B-U585I-IOT02A --version 3.0.0 -o ours.bin fw.bin
tail -c 64 ours.bin >sig.bin
bash "$REF" -s sig.bin fw.bin B-U585I-IOT02A 3.0.0 >ref.bin
run 0 tinyhsm verify --siggen SigGen.c --board B-U585I-IOT02A ref.bin
ok "a reference image with the device's signature verifies with our SigGen.c"
stop_daemon
finish
