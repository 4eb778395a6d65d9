#!/usr/bin/env python3
"""Check that a receiver's output is exactly sender.py's packets 0..COUNT-1.

Usage: checkstream.py FILE COUNT   (prints a warning, never fails the run)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sender import payload  # noqa: E402

path, count = sys.argv[1], int(sys.argv[2])
got = open(path, "rb").read()
want = b"".join(payload(i) for i in range(count))
if got == want:
    print(f"{path}: all {count} payloads received intact", file=sys.stderr)
else:
    print(f"WARNING {path}: received {len(got)} bytes, expected {len(want)}"
          f" ({'prefix ok' if want.startswith(got) else 'content differs'})",
          file=sys.stderr)
