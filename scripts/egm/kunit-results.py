#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge one kunit.py --json result for egm-core.

usage: kunit-results.py CONFIG RESULTS.json SKIPS-FILE RECORD-FILE

Prints per-suite counts and a "kunit-CONFIG: N passed, N failed, N skipped"
line, writes "PASSED FAILED SKIPPED NAME" to RECORD-FILE, and exits non-zero
when a test failed, when no test ran, or when a test was skipped without a
documented reason.  The skips file has one line per allowed skip:
"CONFIG SUITE.CASE reason...", '#' starts a comment.
"""
import json
import sys


def walk(group, path, out):
    name = group.get("name", "")
    here = path + [name] if name else path
    for case in group.get("test_cases", []):
        out.append((".".join(here[-1:]), case["name"], case["status"]))
    for sub in group.get("sub_groups", []):
        walk(sub, here, out)


def main():
    cfg, json_path, skips_path, record = sys.argv[1:5]
    try:
        with open(json_path) as f:
            data = json.load(f)
    except (OSError, ValueError) as err:
        print(f"kunit-{cfg}: no results ({err})")
        print(f"kunit-{cfg}: 0 passed, 1 failed")
        with open(record, "w") as f:
            f.write(f"0 1 0 kunit-{cfg}\n")
        return 1

    allowed = {}
    try:
        with open(skips_path) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    c, test, reason = (line.split(None, 2) + [""])[:3]
                    if c == cfg and reason:
                        allowed[test] = reason
    except OSError:
        pass

    cases = []
    walk(data, [], cases)
    suites = {}
    bad = []
    for suite, case, status in cases:
        counts = suites.setdefault(suite, [0, 0, 0])
        if status == "PASS":
            counts[0] += 1
        elif status == "SKIP":
            counts[2] += 1
            reason = allowed.get(f"{suite}.{case}")
            if reason:
                print(f"  skipped {suite}.{case}: {reason}")
            else:
                bad.append(f"{suite}.{case} skipped without a documented reason")
        else:
            counts[1] += 1
            bad.append(f"{suite}.{case} {status}")

    passed = sum(c[0] for c in suites.values())
    failed = sum(c[1] for c in suites.values())
    skipped = sum(c[2] for c in suites.values())
    for suite, (p, f, s) in sorted(suites.items()):
        print(f"  {cfg:10s} {suite:24s} {p:4d} passed {f:3d} failed {s:3d} skipped")
    for b in bad:
        print(f"  FAIL: {b}")
    if not cases:
        bad.append("no test ran")
        print(f"  FAIL: no test ran")
    undocumented = sum(1 for b in bad if "skipped without" in b)
    print(f"kunit-{cfg}: {passed} passed, {failed + undocumented + (0 if cases else 1)} failed, {skipped} skipped")
    with open(record, "w") as f:
        f.write(f"{passed} {failed + undocumented + (0 if cases else 1)} {skipped} kunit-{cfg}\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
