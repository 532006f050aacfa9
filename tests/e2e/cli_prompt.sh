#!/usr/bin/env bash
# The PIN prompt on a terminal: typed PINs work (with erase), nothing is
# echoed, and Ctrl-C at the prompt stops tinyhsm with the terminal's echo
# back on (it used to stay off after the process died).
. "$(dirname "$0")/lib.sh"
start_daemon
run 0 tinyhsm config --new all
TINYHSM_NEW_PIN=typed-pin-1 run 0 tinyhsm pin set

# prompt.py KEYS: runs "tinyhsm info" needing a PIN on a new pty, types KEYS
# after the prompt; prints the exit status, ECHO after the exit, the output.
cat >"$TMP/prompt.py" <<'EOF'
import os, pty, sys, termios, time
keys = sys.argv[2].encode().decode('unicode_escape').encode('latin-1')
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], 'pin', 'change', '--new-pin-file',
                           os.environ['NEWPIN']])
out = b''
end = time.time() + 30
while b'PIN: ' not in out and time.time() < end:
    try:
        out += os.read(fd, 1024)
    except OSError:
        break
os.write(fd, keys)
while time.time() < end:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
echo = bool(termios.tcgetattr(fd)[3] & termios.ECHO)
code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
print(code, 'echo' if echo else 'noecho')
sys.stdout.write(out.decode('latin-1'))
EOF
echo good-pin-22 >"$TMP/new.txt"
unset TINYHSM_PIN
export NEWPIN=$TMP/new.txt

python3 "$TMP/prompt.py" "$BIN/tinyhsm" 'typed-pin-1\x03' >"$TMP/out"
head -1 "$TMP/out" | grep -q '^130 echo$' ||
    fail "Ctrl-C at the prompt: $(head -1 "$TMP/out") (want 130 echo)"
grep -q typed "$TMP/out" && fail "the PIN was echoed"
ok "Ctrl-C at the PIN prompt stops tinyhsm and leaves the echo on"

python3 "$TMP/prompt.py" "$BIN/tinyhsm" 'typed-pin-X\x7f1\r' >"$TMP/out"
head -1 "$TMP/out" | grep -q '^0 echo$' ||
    fail "typed PIN with an erase: $(cat "$TMP/out")"
grep -q typed "$TMP/out" && fail "the PIN was echoed"
TINYHSM_PIN=good-pin-22 run 0 tinyhsm info
ok "a typed PIN (with an erased character) works and is not echoed"
finish
