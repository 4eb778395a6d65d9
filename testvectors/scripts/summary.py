#!/usr/bin/env python3
"""Print packet counts per SRT packet kind for each stored vector.

Usage: summary.py [data/NAME.json ...]   (default: every data/*.json)
"""
import glob
import json
import os
import sys
from collections import Counter

NAMES = {0: "HANDSHAKE", 1: "KEEPALIVE", 2: "ACK", 3: "NAK", 4: "CGWARNING",
         5: "SHUTDOWN", 6: "ACKACK", 7: "DROPREQ", 8: "PEERERROR", 0x7FFF: "EXT"}
HS = {"1": "INDUCTION", "0": "WAVEAHAND", "-1": "CONCLUSION", "-2": "AGREEMENT"}


def first(v):
    return v[0] if isinstance(v, list) else v


def kind(s):
    if s["srt.iscontrol"] == "0":
        k = "DATA"
        if s.get("srt.msg.rexmit") == "1":
            k += " R=1"
        kk = s.get("srt.msg.enc", "0")
        if kk != "0":
            k += f" KK={kk}"
        return k
    t = int(s["srt.type"], 16)
    name = NAMES.get(t, hex(t))
    if t == 0:
        rt = s.get("srt.hs.reqtype", "?")
        name += " " + HS.get(rt, "REJECT " + rt)
    elif t == 2:
        name += " light" if "srt.rtt" not in s and s.get("srt.ackno") == "0" else \
            (" full" if "srt.bufavail" in s and "srt.rate" in s else " small")
    elif t == 0x7FFF:
        name += " subtype " + first(s.get("srt.exttype", "?"))
    return name


files = sys.argv[1:] or sorted(glob.glob(os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "data", "*.json")))
for f in files:
    pk = json.load(open(f))
    c = Counter(kind(p["srt"]) for p in pk)
    print(os.path.basename(f)[:-5] + ": " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
