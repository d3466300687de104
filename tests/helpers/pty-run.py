#!/usr/bin/env python3
"""pty-run.py CMD ARGS...: runs CMD with a new pseudo-terminal as its stdin,
stdout and stderr (a user at a terminal); copies what it wrote to our stdout
and exits with its status. Input: none (the terminal stays open, idle)."""
import os
import pty
import sys

pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        b = os.read(fd, 65536)
    except OSError:
        break
    if not b:
        break
    out += b
_, st = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(st))
