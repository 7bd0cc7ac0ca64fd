#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Verify the records written by payload.elf in a raw image of guest RAM.

The image must start at guest physical 0 (as a memory-backend-file does
when it backs all guest RAM), so guest physical X is at file offset
OFFSET + X.  Exits 0 only if all 62 records (2..63 MiB) are intact.
"""
import argparse
import struct
import sys

MAGIC = b"EGM-DEMO"
XOR = 0xE6E6E6E6
FIRST_MIB, END_MIB = 2, 64
REC_LEN = 64
MIB = 1 << 20


def expected(index):
    return MAGIC + struct.pack("<II", index, index ^ XOR) + b"\xa5" * 48


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("image", help="file holding guest RAM from phys 0")
    ap.add_argument("offset", nargs="?", default="0",
                    help="file offset of guest phys 0 (default 0)")
    args = ap.parse_args()
    base = int(args.offset, 0)

    total = END_MIB - FIRST_MIB
    found = 0
    # Read only the 64-byte records: works on huge files and char devices.
    with open(args.image, "rb") as f:
        for index in range(FIRST_MIB, END_MIB):
            phys = index * MIB
            f.seek(base + phys)
            rec = f.read(REC_LEN)
            if rec == expected(index):
                found += 1
                status = "ok"
            elif len(rec) < REC_LEN:
                status = "MISSING (short read, image too small)"
            elif rec[:8] != MAGIC:
                status = "MISSING (magic %r)" % rec[:8]
            else:
                idx, csum = struct.unpack_from("<II", rec, 8)
                status = "BAD (index %d, csum %#x)" % (idx, csum)
            print("record %2d @ phys %#09x file %#09x: %s"
                  % (index, phys, base + phys, status))
    print("pattern: %d/%d records found" % (found, total))
    return 0 if found == total else 1


if __name__ == "__main__":
    sys.exit(main())
