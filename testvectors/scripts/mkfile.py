#!/usr/bin/env python3
"""Write the file-mode test input: SIZE bytes, byte j = j % 251.

Usage: mkfile.py PATH SIZE
"""
import sys

path, size = sys.argv[1], int(sys.argv[2])
with open(path, "wb") as fh:
    fh.write(bytes(j % 251 for j in range(size)))
