#!/usr/bin/env python3
"""Reduce a raw loopback capture to a small stored test vector.

Usage: postfilter.py RAW.pcap OUT_BASE PORT[,PORT...] [options]

Keeps every SRT control packet and a selection of data packets, writes
OUT_BASE.pcap (libpcap format, via tshark -F pcap) and OUT_BASE.json (tshark's
JSON dissection of that stored pcap, reduced to frame number + "srt" layer).

Data packet selection (all counted in capture order):
  --head N      the first N data packets (default 20)
  --tail N      the last N data packets (default 0)
  --rexmit N    the first N data packets with R = 1 (default 0)
  --kk-switch N N data packets before and after the first change of the KK
                field between two encrypted data packets (default 0)
"""
import argparse
import json
import subprocess
import sys


def tshark(args):
    return subprocess.run(
        ["tshark", *args], check=True, capture_output=True, text=True
    ).stdout


def decode_args(ports):
    out = []
    for p in ports:
        out += ["-d", f"udp.port=={p},srt"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("out_base")
    ap.add_argument("ports")
    ap.add_argument("--head", type=int, default=20)
    ap.add_argument("--tail", type=int, default=0)
    ap.add_argument("--rexmit", type=int, default=0)
    ap.add_argument("--kk-switch", type=int, default=0)
    a = ap.parse_args()
    ports = a.ports.split(",")
    dec = decode_args(ports)

    rows = tshark(
        ["-r", a.raw, *dec, "-Y", "srt", "-T", "fields", "-E", "separator=,",
         "-e", "frame.number", "-e", "srt.iscontrol", "-e", "srt.msg.rexmit",
         "-e", "srt.msg.enc"]
    ).splitlines()
    keep = set()
    data = []  # (frame, rexmit, kk)
    for line in rows:
        f = line.split(",")
        frame = int(f[0])
        if f[1] == "1":
            keep.add(frame)
        else:
            data.append((frame, f[2], f[3]))
    keep.update(fr for fr, _, _ in data[: a.head])
    if a.tail:
        keep.update(fr for fr, _, _ in data[-a.tail:])
    if a.rexmit:
        keep.update([fr for fr, r, _ in data if r == "1"][: a.rexmit])
    if a.kk_switch:
        enc = [(fr, kk) for fr, _, kk in data if kk not in ("0", "")]
        for i in range(1, len(enc)):
            if enc[i][1] != enc[i - 1][1]:
                lo = max(0, i - a.kk_switch)
                keep.update(fr for fr, _ in enc[lo: i + a.kk_switch])
                break
        else:
            sys.exit(f"{a.raw}: no KK switch found")

    frames = ",".join(str(x) for x in sorted(keep))
    subprocess.run(
        ["tshark", "-r", a.raw, "-Y", f"frame.number in {{{frames}}}",
         "-F", "pcap", "-w", a.out_base + ".pcap"],
        check=True, capture_output=True,
    )
    dump = json.loads(tshark(
        ["-r", a.out_base + ".pcap", *dec, "-T", "json", "-J", "frame srt",
         "--no-duplicate-keys"]
    ))
    out = []
    for pkt in dump:
        layers = pkt["_source"]["layers"]
        srt = layers.get("srt")
        if srt is None:
            sys.exit(f"{a.out_base}: frame without srt layer")
        # The data payload is already in the pcap; keep only its length.
        d = srt.get("data")
        if isinstance(d, dict):
            d.pop("data.data", None)
        out.append({"frame": int(layers["frame"]["frame.number"]), "srt": srt})
    with open(a.out_base + ".json", "w") as fh:
        fh.write("[\n")
        fh.write(",\n".join(json.dumps(p, separators=(",", ":")) for p in out))
        fh.write("\n]\n")
    print(f"{a.out_base}: {len(out)} packets kept of {len(rows)}")


if __name__ == "__main__":
    main()
