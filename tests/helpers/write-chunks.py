#!/usr/bin/env python3
"""Writes byte chunks to stdout (a terminal), one write each, with a pause
between them so that the reader on the other side of the PTY gets them in
separate reads. The terminal's output processing is switched off first, so
the bytes arrive unchanged. Chunks are given as Python bytes literals, e.g.
  write-chunks.py "b'a\\xe2'" "b'\\x82\\xac'"
"""
import ast, os, sys, termios, time

fd = sys.stdout.fileno()
if os.isatty(fd):
    attrs = termios.tcgetattr(fd)
    attrs[1] &= ~termios.OPOST
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
for arg in sys.argv[1:]:
    os.write(fd, ast.literal_eval(arg))
    time.sleep(0.03)
