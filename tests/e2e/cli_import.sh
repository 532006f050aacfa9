#!/usr/bin/env bash
# tinyhsm import signer: an existing P-256 key (made with openssl) moves into
# the device; images it signs verify with the original public key (openssl
# and tinyhsm verify); bad key files, no PIN and no confirmation each change
# nothing; the -d trace never shows the private key; info shows the origin.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/firmware.sh"

hex_at() { od -An -v -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }
key_id() { tinyhsm info --json | grep -o '"signer_key_id":"[0-9A-F]*"'; }
# the private scalar of a PEM key, as hex (lower case) and as base64
scalar_hex() {
    openssl pkey -in "$1" -text -noout 2>/dev/null |
        sed -n '/^priv:/,/^pub:/p' | grep -v '^p' | tr -d ' :\n' |
        sed 's/^00\(.\{64\}\)$/\1/'
}
pub_xy() { openssl pkey -in "$1" -pubout -outform DER | tail -c 64 | od -An -v -tx1 | tr -d ' \n'; }
# openssl's verdict on the signature at the end of a SECUREBOOT10 image
openssl_ok() { # IMAGE PUBKEY_PEM
    local size r s
    size=$(($(stat -c %s "$1") - 64))
    r=$(hex_at "$1" "$size" 32)
    s=$(hex_at "$1" $((size + 32)) 32)
    printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' "$r" "$s" >"$TMP/sig.cnf"
    openssl asn1parse -genconf "$TMP/sig.cnf" -out "$TMP/sig.der" -noout
    head -c "$size" "$1" >"$TMP/signed_part.bin"
    openssl dgst -sha256 -verify "$2" -signature "$TMP/sig.der" "$TMP/signed_part.bin" >/dev/null
}

cd "$TMP"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem 2>/dev/null
openssl pkey -in key.pem -pubout -out key.pub.pem
openssl ecparam -name prime256v1 -genkey -out sec1.pem 2>/dev/null # with EC PARAMETERS
openssl pkey -in sec1.pem -pubout -out sec1.pub.pem
echo "old laptop passphrase" >pass.txt
chmod 600 pass.txt
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -aes-256-cbc -pass file:pass.txt -out enc.pem 2>/dev/null
openssl pkey -in enc.pem -passin file:pass.txt -pubout -out enc.pub.pem
echo "not it" >wrong.txt
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.pem 2>/dev/null
printf 'garbage\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' >garbage.pem
firmware 4096 >fw.bin
grep -q "BEGIN ENCRYPTED PRIVATE KEY" enc.pem || fail "openssl wrote no encrypted PEM"
hex=$(scalar_hex key.pem)
[ ${#hex} -eq 64 ] || fail "cannot read the test key's scalar ($hex)"

start_daemon
run 0 tinyhsm config --new all
before=$(key_id)
run 1 tinyhsm import signer key.pem --yes
has "$TMP/err" "needs a PIN on the device"
has "$TMP/err" "tinyhsm pin set"
[ "$(key_id)" = "$before" ] || fail "imported without a PIN"
ok "no PIN set: refused, the signer key unchanged"

TINYHSM_NEW_PIN=import-pin-1 run 0 tinyhsm pin set
export TINYHSM_PIN=import-pin-1
run 2 tinyhsm import signer key.pem
has "$TMP/err" "replaces the signer key"
has "$TMP/err" "--yes"
run 2 tinyhsm import key.pem --yes
has "$TMP/err" "signer"
run 2 tinyhsm import signer --yes
has "$TMP/err" "key file is missing"
[ "$(key_id)" = "$before" ] || fail "a usage error changed the key"
ok "without --yes and no terminal, or with bad arguments: usage error, nothing changed"

run 1 tinyhsm import signer missing.pem --yes
has "$TMP/err" "missing.pem: No such file"
run 1 tinyhsm import signer garbage.pem --yes
has "$TMP/err" "holds no private key"
run 1 tinyhsm import signer rsa.pem --yes
has "$TMP/err" "holds a key of type RSA"
has "$TMP/err" "P-256"
run 1 tinyhsm import signer p384.pem --yes
has "$TMP/err" "secp384r1"
run 1 tinyhsm import signer enc.pem --yes
has "$TMP/err" "encrypted"
has "$TMP/err" "--passphrase-file"
run 1 tinyhsm import signer enc.pem --passphrase-file wrong.txt --yes
has "$TMP/err" "wrong passphrase"
run 1 tinyhsm import signer key.pem --cert missing.crt --yes
openssl req -new -x509 -key sec1.pem -subj /CN=other -days 10 -out other.crt 2>/dev/null
run 1 tinyhsm import signer key.pem --cert other.crt --yes
has "$TMP/err" "not the certificate of this key"
openssl req -new -x509 -key key.pem -subj /CN=big -days 10 -out big.crt \
    -addext "nsComment=$(head -c 500 /dev/zero | tr '\0' x)" 2>/dev/null
run 1 tinyhsm import signer key.pem --cert big.crt --yes
has "$TMP/err" "takes certificates of at most 750"
[ "$(key_id)" = "$before" ] || fail "a refused import changed the key"
run 0 tinyhsm info --json
has "$TMP/out" '"signer_key_origin":"generated"'
ok "missing, garbage, RSA, P-384, encrypted without or with a wrong passphrase, a foreign or oversize certificate: refused, nothing changed"

tinyhsm -d import signer key.pem --yes >"$TMP/out" 2>trace.txt ||
    { cat trace.txt; fail "import failed"; }
has "$TMP/out" "The signer key is now the imported key"
has trace.txt "AT+SIGNER_IMPORT KEY=****"
upper=$(echo "$hex" | tr a-f A-F)
b64=$(echo "$hex" | xxd -r -p | base64)
for s in "$hex" "$upper" "$b64" "${hex:0:16}" "${upper:0:16}"; do
    grep -qF -- "$s" trace.txt "$TMP/out" && fail "the trace shows the private key"
done
run 0 tinyhsm log
has "$TMP/out" "SIGNER_IMPORT"
grep -qiF "${hex:0:16}" "$TMP/out" && fail "the log shows the private key"
ok "import: done, the -d trace and the log never show the scalar (hex or base64)"

run 0 tinyhsm info
has "$TMP/out" "Signer key origin: imported"
run 0 tinyhsm info --json
has "$TMP/out" '"signer_key_origin":"imported"'
run 0 tinyhsm cert signer -o signer.pem
run 0 tinyhsm cert ca -o ca.pem
openssl verify -CAfile ca.pem signer.pem >/dev/null || fail "issued cert does not chain"
[ "$(openssl x509 -in signer.pem -noout -pubkey)" = "$(cat key.pub.pem)" ] ||
    fail "the signer certificate is not for the imported key"
stop_daemon
start_daemon
run 0 tinyhsm info
has "$TMP/out" "Signer key origin: imported"
ok "info and --json say imported, also after a restart; the device's CA issued a certificate for the key"

run 0 tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 --siggen SigGen.c -o img1.bin fw.bin
openssl_ok img1.bin key.pub.pem || fail "openssl rejects the image with the original key"
run 0 tinyhsm verify --pubkey key.pub.pem img1.bin
qx=$(grep 'SigGen_Qx\[' SigGen.c | grep -o '0x[0-9a-fA-F][0-9a-fA-F]' | tr -d '\n' | sed 's/0x//g')
qy=$(grep 'SigGen_Qy\[' SigGen.c | grep -o '0x[0-9a-fA-F][0-9a-fA-F]' | tr -d '\n' | sed 's/0x//g')
[ "${qx}${qy}" = "$(pub_xy key.pem)" ] || fail "SigGen.c does not hold the imported key"
ok "signed with the imported key: openssl and tinyhsm verify accept it with the original public key; SigGen.c holds it"

# a key with the certificate of its own (outside) CA, which does not chain
# to the device's CA
openssl req -new -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout oldca.key -subj "/CN=Old CA" -days 30 -out oldca.crt 2>/dev/null
openssl req -new -key sec1.pem -subj "/C=US/O=Old/CN=Old_Signer" -out sec1.csr 2>/dev/null
openssl x509 -req -in sec1.csr -CA oldca.crt -CAkey oldca.key -CAcreateserial \
    -days 30 -out sec1.crt 2>/dev/null
run 0 tinyhsm import signer sec1.pem --cert sec1.crt --yes
has "$TMP/out" "its certificate is the one given"
run 0 tinyhsm cert signer -o got.pem
cmp -s <(openssl x509 -in got.pem -outform DER) <(openssl x509 -in sec1.crt -outform DER) ||
    fail "the device does not hold the given certificate"
rm -f stsafe_signer_cert.pem SigGen.c # another key: sign guards them
run 0 tinyhsm sign --board B-U585I-IOT02A --version 1.0.1 -o img2.bin fw.bin
openssl_ok img2.bin sec1.pub.pem || fail "openssl rejects the image signed with the SEC1 key"
run 0 tinyhsm verify --pubkey sec1.pub.pem img2.bin
run 0 tinyhsm log
has "$TMP/out" "SIGNER_CERT_SET"
ok "SEC1 key with its own CA's certificate: kept as given, sign accepts it for the imported key"

run 0 tinyhsm import signer enc.pem --passphrase-file pass.txt --yes
rm -f stsafe_signer_cert.pem SigGen.c
run 0 tinyhsm sign --board B-U585I-IOT02A --version 1.0.2 -o img3.bin fw.bin
openssl_ok img3.bin enc.pub.pem || fail "the encrypted PEM's key does not verify"
ok "encrypted PEM with --passphrase-file"

# on a terminal: the passphrase is asked without echo, then the
# confirmation; anything but "yes" changes nothing
cat >"$TMP/term.py" <<'PY'
import os, pty, select, signal, sys
# term.py ARGV... -- WAIT SEND [WAIT SEND...]: runs ARGV on a new pty,
# answers each WAIT text with SEND; prints the exit status and the output.
# A child silent for 60 s is killed: a failure, never a hang.
i = sys.argv.index('--')
argv, talk = sys.argv[1:i], sys.argv[i + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b''
def more():
    global out
    if not select.select([fd], [], [], 60)[0]:
        os.kill(pid, signal.SIGKILL)
        return False
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        return False
    out += chunk
    return bool(chunk)
for wait, send in zip(talk[0::2], talk[1::2]):
    while wait.encode() not in out and more():
        pass
    os.write(fd, send.encode().decode('unicode_escape').encode())
while more():
    pass
_, status = os.waitpid(pid, 0)
print(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128)
sys.stdout.write(out.decode('latin-1'))
PY
run 0 tinyhsm import signer key.pem --yes # not enc.pem's key
before=$(key_id)
python3 "$TMP/term.py" "$BIN/tinyhsm" import signer key.pem -- "Type yes" 'no\n' >term.out
[ "$(head -1 term.out)" = 1 ] || { cat term.out; fail "'no' did not refuse"; }
has term.out "replaces the signer key"
has term.out "not confirmed: nothing was changed"
[ "$(key_id)" = "$before" ] || fail "imported without a yes"
python3 "$TMP/term.py" "$BIN/tinyhsm" import signer enc.pem -- \
    "Passphrase" 'old laptop passphrase\n' "Type yes" 'yes\n' >term.out
[ "$(head -1 term.out)" = 0 ] || { cat term.out; fail "typed passphrase and yes: no import"; }
grep -qF "old laptop" term.out && fail "the passphrase was echoed"
[ "$(key_id)" != "$before" ] || fail "typed yes: the key did not change"
ok "on a terminal: the passphrase asked without echo; only 'yes' imports"

run 0 tinyhsm config --new signer --yes
run 0 tinyhsm info --json
has "$TMP/out" '"signer_key_origin":"generated"'
ok "a new generated signer is generated again"
stop_daemon
finish
