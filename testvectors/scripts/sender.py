#!/usr/bin/env python3
"""Deterministic UDP source for srt-live-transmit (loopback only).

Packet i (i = 0, 1, 2, ...) is exactly 1316 bytes:
  bytes 0..4   : i as a big-endian u32
  bytes 4..1316: byte k = (i + k) & 0xFF   (k = index inside the payload)

Usage: sender.py PORT COUNT BURST GAP_MS [PAUSE_AFTER PAUSE_MS]
Sends COUNT packets to 127.0.0.1:PORT in bursts of BURST packets separated
by GAP_MS milliseconds. If PAUSE_AFTER is given, after that many packets it
sleeps PAUSE_MS milliseconds (an idle period, e.g. for keepalives).
"""
import socket
import struct
import sys
import time

PAYLOAD_LEN = 1316


def payload(i: int) -> bytes:
    head = struct.pack(">I", i & 0xFFFFFFFF)
    body = bytes(((i + k) & 0xFF) for k in range(4, PAYLOAD_LEN))
    return head + body


def main() -> None:
    port = int(sys.argv[1])
    count = int(sys.argv[2])
    burst = int(sys.argv[3])
    gap = int(sys.argv[4]) / 1000.0
    pause_after = int(sys.argv[5]) if len(sys.argv) > 5 else -1
    pause = int(sys.argv[6]) / 1000.0 if len(sys.argv) > 6 else 0.0
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    i = 0
    while i < count:
        for _ in range(burst):
            if i >= count:
                break
            s.sendto(payload(i), ("127.0.0.1", port))
            i += 1
            if i == pause_after:
                time.sleep(pause)
        time.sleep(gap)


if __name__ == "__main__":
    main()
