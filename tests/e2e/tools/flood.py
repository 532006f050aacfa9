#!/usr/bin/env python3
"""flood.py SOCKET SECONDS [REQUEST]: sends REQUEST (default AT+SIGNER_SIGN
without a login) as fast as the device answers, for SECONDS, keeping up to
64 requests in flight; prints "<answers> <refused> <seconds>" (a device
that drops the client ends it early)."""
import socket
import sys
import time

path, seconds = sys.argv[1], float(sys.argv[2])
req = (sys.argv[3] if len(sys.argv) > 3 else
       "AT+SIGNER_SIGN HASH=" + "00" * 32).encode() + b"\r\n"
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
window, sent, answers, refused, buf = 64, 0, 0, 0, b""
start = time.monotonic()
try:
    while time.monotonic() - start < seconds:
        while sent - answers < window:
            s.sendall(req)
            sent += 1
        got = s.recv(65536)
        if not got:
            break  # the device dropped us: what it answered counts
        buf += got
        while b"\r\n\r\n" in buf:
            ans, buf = buf.split(b"\r\n\r\n", 1)
            answers += 1
            refused += ans.startswith(b"ERROR")
except (BrokenPipeError, ConnectionResetError):
    pass
elapsed = time.monotonic() - start
print(answers, refused, "%.2f" % elapsed)
