#!/usr/bin/env bash
# make deb's package in a throwaway root: `dpkg --root` (as a normal user
# with --force-not-root; the only maintainer script is dh_installsysusers',
# which runs `systemd-sysusers --root=$DPKG_ROOT`, so with
# --force-script-chrootless it creates _tinyhsm and tinyhsm in the
# throwaway root's /etc, and nothing needs a chroot). The installed tinyhsmd and tinyhsm provision and sign
# against a state in a temporary HOME; a newer build (the sources copied,
# VERSION bumped) upgrades them and keeps every key and log record; remove
# and purge take the package's files and never the user's state.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/e2e/tools/firmware.sh"
TMP=$(mktemp -d)
DPID=
trap '[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null; rm -rf "$TMP"' EXIT
PASSED=0
fail() { echo "FAIL: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
ok() { PASSED=$((PASSED + 1)); echo "ok $PASSED - $*"; }

old=$(head -n1 "$src/VERSION")
new=${old%.*}.$((${old##*.} + 1))

# The package, and a newer build of it from a copy with the version bumped.
bash "$src/scripts/deb.sh" "$TMP/a" >/dev/null
mkdir "$TMP/src2"
tar -C "$src" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$TMP/src2" -xf -
echo "$new" >"$TMP/src2/VERSION"
{ printf 'tinyhsm (%s) unstable; urgency=medium\n\n  * Test build.\n\n' "$new"
  printf ' -- TinyHSM developers <tinyhsm@example.org>  %s\n\n' "$(date -R)"
  cat "$src/debian/changelog"; } >"$TMP/src2/debian/changelog"
bash "$TMP/src2/scripts/deb.sh" "$TMP/b" >/dev/null
arch=$(dpkg --print-architecture)
deb_a=$TMP/a/tinyhsm_${old}_$arch.deb
deb_b=$TMP/b/tinyhsm_${new}_$arch.deb
[ -f "$deb_a" ] && [ -f "$deb_b" ] || fail "no $deb_a or $deb_b"
ok "make deb builds tinyhsm_${old}_$arch.deb (and $new from a copy)"
if command -v lintian >/dev/null; then
    lintian "$deb_a" >"$TMP/lintian" 2>&1 || true
    ! grep '^E:' "$TMP/lintian" || fail "lintian reports errors"
    grep '^[WI]:' "$TMP/lintian" || true # listed for the record
    ok "lintian: no errors ($(grep -c '^W:' "$TMP/lintian" || true) warnings)"
fi

root=$TMP/root
mkdir -p "$root/etc" "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg_r() { # the libraries it depends on are the host's, not in the root
    HOME=$TMP dpkg --root="$root" --log="$TMP/dpkg.log" --force-not-root \
        --force-depends --force-bad-path --force-script-chrootless "$@" >"$TMP/dpkg.out" 2>&1 ||
        { cat "$TMP/dpkg.out"; fail "dpkg $*"; }
}
installed_version() { dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Version}' tinyhsm; }

dpkg_r -i "$deb_a"
[ "$(installed_version)" = "$old" ] || fail "installed version $(installed_version)"
for f in usr/bin/tinyhsm usr/bin/tinyhsmd usr/bin/tinyhsm-sign usr/bin/tinyhsm-config \
         usr/share/man/man1/tinyhsm.1.gz usr/share/man/man8/tinyhsmd.8.gz \
         usr/share/bash-completion/completions/tinyhsm \
         usr/lib/systemd/user/tinyhsmd.socket usr/lib/systemd/user/tinyhsmd.service \
         usr/lib/systemd/system/tinyhsmd.socket usr/lib/systemd/system/tinyhsmd.service \
         usr/lib/sysusers.d/tinyhsm.conf \
         usr/share/doc/tinyhsm/README.md.gz usr/share/doc/tinyhsm/copyright; do
    [ -e "$root/$f" ] || fail "the package lacks /$f"
done
ok "dpkg -i installs the programs, man pages, completion, units and docs"
grep -q '^_tinyhsm:x:[0-9]*:[0-9]*:[^:]*:/var/lib/tinyhsm:/usr/sbin/nologin$' "$root/etc/passwd" ||
    fail "no system user _tinyhsm: $(cat "$root/etc/passwd")"
grep -q '^tinyhsm:x:[0-9]*:$' "$root/etc/group" || fail "no group tinyhsm: $(cat "$root/etc/group")"
ok "the package creates the system user _tinyhsm and the group tinyhsm (sysusers.d)"

# The user: a HOME with the default state directory, a private runtime dir.
export HOME=$TMP/home XDG_RUNTIME_DIR=$TMP/run
unset TINYHSM_PORT TINYHSM_STATE XDG_STATE_HOME
mkdir -p "$HOME" && mkdir -m 0700 "$XDG_RUNTIME_DIR"
state=$HOME/.local/state/tinyhsm
start() {
    : >"$TMP/d.out"
    "$root/usr/bin/tinyhsmd" >"$TMP/d.out" 2>"$TMP/d.err" &
    DPID=$!
    for _ in $(seq 100); do [ -s "$TMP/d.out" ] && return; sleep 0.05; done
    cat "$TMP/d.err"; fail "the installed tinyhsmd did not start"
}
stop() { kill -TERM "$DPID"; wait "$DPID" || fail "tinyhsmd exited $?"; DPID=; }
thsm() { "$root/usr/bin/tinyhsm" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null ||
             { cat "$TMP/out" "$TMP/err"; fail "tinyhsm $*"; }; }
signer() { thsm info; grep '^Signer key id:' "$TMP/out"; }

cd "$TMP" # sign writes the certificate and SigGen.c here
firmware 4096 >"$TMP/fw.bin"
start
thsm config --new all
thsm sign --board B-U585I-IOT02A --version 1.0.0 -o "$TMP/s1.bin" "$TMP/fw.bin"
key=$(signer)
thsm log && log_before=$(cat "$TMP/out")
stop
[ -d "$state" ] && [ -n "$(ls "$state")" ] || fail "no state in $state"
ok "the installed tinyhsmd and tinyhsm provision and sign ($key)"

dpkg_r -i "$deb_b"
[ "$(installed_version)" = "$new" ] || fail "upgrade left version $(installed_version)"
thsm --version && grep -qx "tinyhsm $new" "$TMP/out" || fail "upgraded tinyhsm: $(cat "$TMP/out")"
start
[ "$(signer)" = "$key" ] || fail "the upgrade lost the signer key"
thsm log
head -n "$(wc -l <<<"$log_before")" "$TMP/out" | diff - <(echo "$log_before") ||
    fail "the upgrade changed the audit log"
thsm log --verify
thsm sign --board B-U585I-IOT02A --version 1.0.1 -o "$TMP/s2.bin" "$TMP/fw.bin"
stop
ok "upgrade to $new keeps the keys and the audit log, and signs"

sums() { (cd "$state" && find . -type f -exec sha256sum {} + | sort); }
before=$(sums)
dpkg_r -r tinyhsm
[ ! -e "$root/usr/bin/tinyhsm" ] || fail "dpkg -r left /usr/bin/tinyhsm"
[ "$(sums)" = "$before" ] || fail "dpkg -r changed the user's state"
ok "dpkg -r removes the programs and keeps the user's state"

dpkg_r -i "$deb_b"
dpkg_r --purge tinyhsm
# the system user and group stay, as Debian's do (a uid freed for reuse
# could hand the service's files to someone else)
left=$(cd "$root" && find . ! -type d ! -path './var/lib/dpkg/*' \
    ! -path './etc/passwd' ! -path './etc/group' ! -path './etc/shadow' \
    ! -path './etc/gshadow' ! -path './etc/.pwd.lock')
[ -z "$left" ] || fail "purge left: $left"
[ "$(sums)" = "$before" ] || fail "dpkg --purge changed the user's state"
ok "dpkg --purge removes every file of the package and no user state"
echo "$PASSED passed, 0 failed"
