#!/usr/bin/env python3
"""flood.py LINK SECONDS [REQUEST]: sends REQUEST (default AT+SIGNER_SIGN
without a login) as fast as the device answers, for SECONDS, keeping up to
64 requests in flight (1 on a pty: the relay of tinyhsmd-qemu is not
built for floods); prints "<answers> <refused> <seconds>"
(a device that drops the client ends it early). LINK is a tinyhsmd socket
or a pty (tinyhsmd-qemu has no socket)."""
import os
import socket
import stat
import sys
import time
import tty

path, seconds = sys.argv[1], float(sys.argv[2])
req = (sys.argv[3] if len(sys.argv) > 3 else
       "AT+SIGNER_SIGN HASH=" + "00" * 32).encode() + b"\r\n"
if stat.S_ISSOCK(os.stat(path).st_mode):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    send, recv, window = s.sendall, lambda: s.recv(65536), 64
else:
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    send, recv, window = (lambda b: os.write(fd, b)), lambda: os.read(fd, 65536), 1
sent, answers, refused, buf = 0, 0, 0, b""
start = time.monotonic()
try:
    while time.monotonic() - start < seconds:
        while sent - answers < window:
            send(req)
            sent += 1
        got = recv()
        if not got:
            break  # the device dropped us: what it answered counts
        buf += got
        while b"\r\n\r\n" in buf:
            ans, buf = buf.split(b"\r\n\r\n", 1)
            answers += 1
            refused += ans.startswith(b"ERROR")
except (BrokenPipeError, ConnectionResetError, OSError):
    pass
print(answers, refused, "%.2f" % (time.monotonic() - start))
