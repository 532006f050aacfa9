#!/usr/bin/env python3
"""hide_image.py UPSTREAM NAMEFILE: a pty (its path written to NAMEFILE;
tinyhsm trusts a link to a pty only from tinyhsmd) that relays every
request to the device at UPSTREAM (a tinyhsmd socket, or the pty of
tinyhsmd-qemu) and every answer back, with the IMAGE= field taken out of
AT+HSM_STATUS? answers: the device then looks like one without image mode
(the original board's digest mode). Runs until killed."""
import os
import re
import select
import socket
import stat
import sys
import tty

upstream, namefile = sys.argv[1], sys.argv[2]
if stat.S_ISSOCK(os.stat(upstream).st_mode):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(upstream)
    up_fd, send = s.fileno(), s.sendall
else:
    up_fd = os.open(upstream, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(up_fd)
    send = lambda b: os.write(up_fd, b)
master, slave = os.openpty()
tty.setraw(slave)  # kept open: the pty lives between clients
with open(namefile + ".tmp", "w") as f:
    f.write(os.ttyname(slave))
os.rename(namefile + ".tmp", namefile)
answers = b""
while True:
    ready, _, _ = select.select([master, up_fd], [], [])
    if master in ready:
        send(os.read(master, 65536))
    if up_fd in ready:
        got = os.read(up_fd, 65536)
        if not got:
            break
        answers += got
        while b"\r\n\r\n" in answers:
            one, answers = answers.split(b"\r\n\r\n", 1)
            os.write(master, re.sub(rb" IMAGE=\S*", b"", one) + b"\r\n\r\n")
