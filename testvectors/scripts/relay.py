#!/usr/bin/env python3
"""Deterministic lossy UDP relay for SRT, loopback only.

Usage: relay.py LISTEN_PORT TARGET_PORT MODE

Listens on 127.0.0.1:LISTEN_PORT (the SRT caller connects here) and forwards
every datagram to 127.0.0.1:TARGET_PORT (the SRT listener) from one ephemeral
socket; replies go back to the caller's address. Only packets travelling
caller -> listener are impaired, except in mode `dropreq`.

MODE
  nak      Count the caller's *original* data packets (bit 31 of byte 0 is 0
           and the R flag, bit 26 of word 1, is 0) from n = 0. Drop those with
           n % 50 in {25, 26, 27} (a burst of 3 -> NAK range) and n % 50 == 40
           (a single loss -> single NAK entry). Retransmissions (R = 1) and
           control packets always pass.
  dropreq  Same data drops as `nak`, and additionally every LOSSREPORT (control
           type 3) going listener -> caller is held for 600 ms before it is
           forwarded; by then the receiver has given the packets up (latency
           120 ms) and acknowledged past them, so the sender answers the late
           NAK with DROPREQ.
  pass     Forward everything unchanged.
"""
import heapq
import select
import socket
import sys
import time

LOOP = "127.0.0.1"


def is_data(p: bytes) -> bool:
    return len(p) >= 16 and (p[0] & 0x80) == 0


def is_rexmit(p: bytes) -> bool:
    return (p[4] & 0x04) != 0


def ctrl_type(p: bytes) -> int:
    return ((p[0] & 0x7F) << 8) | p[1]


def main() -> None:
    listen_port = int(sys.argv[1])
    target_port = int(sys.argv[2])
    mode = sys.argv[3]
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    front.bind((LOOP, listen_port))
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    back.bind((LOOP, 0))
    caller = None
    n = 0
    dropped = 0
    delayed = []  # heap of (due, seq, payload)
    seq = 0
    while True:
        timeout = None
        if delayed:
            timeout = max(0.0, delayed[0][0] - time.monotonic())
        r, _, _ = select.select([front, back], [], [], timeout)
        now = time.monotonic()
        while delayed and delayed[0][0] <= now:
            _, _, p = heapq.heappop(delayed)
            if caller is not None:
                front.sendto(p, caller)
        if front in r:
            p, addr = front.recvfrom(65536)
            caller = addr
            if mode in ("nak", "dropreq") and is_data(p) and not is_rexmit(p):
                k = n % 50
                n += 1
                if k in (25, 26, 27, 40):
                    dropped += 1
                    continue
            back.sendto(p, (LOOP, target_port))
        if back in r:
            p, _ = back.recvfrom(65536)
            if caller is None:
                continue
            if mode == "dropreq" and not is_data(p) and ctrl_type(p) == 3:
                seq += 1
                heapq.heappush(delayed, (now + 0.6, seq, p))
                continue
            front.sendto(p, caller)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
