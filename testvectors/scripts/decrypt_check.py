#!/usr/bin/env python3
"""Check that the encrypted vectors decrypt to sender.py's payloads.

Usage: decrypt_check.py data/NAME.json ...   (needs python3-cryptography)
Reads the KM message(s) (handshake KMREQ and EXT KMREQ) from tshark's
srt.km.msg, derives the KEK with PBKDF2-HMAC-SHA1(passphrase, last 8 salt
bytes, 2048), unwraps the SEK(s) (RFC 3394) and AES-CTR-decrypts each data
packet with IV = salt[0..14] XOR (0^10 || seq BE) || 0x0000.
"""
import hashlib
import json
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sender import payload  # noqa: E402

PASS = b"0123456789abcdef"


def pcap_payloads(path):
    raw = open(path, "rb").read()
    off, out = 24, []
    while off < len(raw):
        incl = struct.unpack("<I", raw[off + 8: off + 12])[0]
        frame = raw[off + 16: off + 16 + incl]
        ihl = (frame[14] & 15) * 4
        out.append(frame[14 + ihl + 8:])
        off += 16 + incl
    return out


def main():
    for jpath in sys.argv[1:]:
        pk = json.load(open(jpath))
        pkts = pcap_payloads(jpath[:-5] + ".pcap")
        keys = {}
        salt = None
        for p, raw in zip(pk, pkts):
            km = p["srt"].get("srt.km.msg")
            if km is None:
                continue
            km = bytes.fromhex(km.replace(":", ""))
            kk = km[3] & 3
            salt = km[16:32]
            klen = km[15] * 4
            kek = hashlib.pbkdf2_hmac("sha1", PASS, salt[8:], 2048, klen)
            seks = aes_key_unwrap(kek, km[32:])
            if kk == 3:
                keys[1], keys[2] = seks[:klen], seks[klen:]
            else:
                keys[kk] = seks
        ok = 0
        for p, raw in zip(pk, pkts):
            if raw[0] & 0x80:
                continue
            seq = struct.unpack(">I", raw[0:4])[0]
            w1 = struct.unpack(">I", raw[4:8])[0]
            kk, msgno = (w1 >> 27) & 3, w1 & 0x03FFFFFF
            iv = bytearray(salt[:14] + b"\0\0")
            for i, b in enumerate(struct.pack(">I", seq)):
                iv[10 + i] ^= b
            dec = Cipher(algorithms.AES(keys[kk]), modes.CTR(bytes(iv))).decryptor()
            plain = dec.update(raw[16:]) + dec.finalize()
            assert plain == payload(msgno - 1), f"{jpath} frame {p['frame']}"
            ok += 1
        print(f"{jpath}: {ok} data packets decrypt to sender.py payloads (keys {sorted(keys)})")


if __name__ == "__main__":
    main()
