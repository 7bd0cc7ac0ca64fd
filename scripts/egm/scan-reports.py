#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Find kernel reports (WARNING, BUG, KASAN, lockdep, ...) in a console log.

usage: scan-reports.py CONFIG LOG KNOWN-REPORTS-FILE

Prints each report not explained by a line of KNOWN-REPORTS-FILE
("CONFIG REGEX reason...", where REGEX has no spaces and matches the
report's first line) and exits 1 when there is one.  A report runs from
its first line to the kernel's "---[ end trace" marker, or to the next
report.  Explained reports are listed as such, so they stay visible.
"""
import os
import re
import sys

# Lines that match START but report nothing.
BENIGN = re.compile(r"kmemleak: (Kernel memory leak detector initialized|"
                    r"Automatic memory scanning thread started)")
START = re.compile(os.environ.get(
    "EGM_KERNEL_REPORTS",
    r"WARNING:|BUG:|Oops|KASAN|UBSAN|kmemleak|possible (circular|recursive) locking"))


def main():
    cfg, log, known_path = sys.argv[1:4]
    known = []
    try:
        with open(known_path) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                parts = line.split(None, 2)
                if len(parts) == 3 and parts[0] in (cfg, "all"):
                    known.append((re.compile(parts[1]), parts[2]))
    except OSError:
        pass

    with open(log, errors="replace") as f:
        lines = f.read().splitlines()

    unexplained = 0
    i = 0
    while i < len(lines):
        if not START.search(lines[i]) or BENIGN.search(lines[i]):
            i += 1
            continue
        j = i + 1
        # A "Call Trace:" belongs to the report above it, if there is one.
        while j < len(lines) and "---[ end trace" not in lines[j] \
                and not (START.search(lines[j]) and
                         "Call Trace:" not in lines[j]):
            j += 1
        block = lines[i:j + 1]
        reason = next((r for rx, r in known if rx.search(block[0])), None)
        if reason:
            print(f"  known report (not egm-core): {block[0].strip()} -- {reason}")
        else:
            unexplained += 1
            print(f"  kernel report at line {i + 1}:")
            for b in block[:30]:
                print(f"    {b}")
        i = j + 1
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
