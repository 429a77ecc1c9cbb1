#!/usr/bin/env python3
"""Line and region coverage per crate from `cargo llvm-cov --json
--summary-only`, printed as a table, with a floor per crate: CI fails when
a crate's line coverage drops under its floor.

    python3 .ci/coverage.py target/coverage.json
"""

import json
import sys

# Lines covered, in percent, under which CI fails: what the test suite
# reached when the floors were set, rounded down.
FLOORS = {
    "iot-sansio": 97,
    "osap-proto": 92,
    "iot-xmpp": 92,
    "oic-ra-proto": 92,
    "siot-proto": 94,
    "irsp-proto": 94,
    "iot-store-postgres": 89,
    "iot-xmpp-net": 89,
}


def main(path):
    files = json.load(open(path))["data"][0]["files"]
    totals = {}
    for f in files:
        name = f["filename"]
        crate = next((c for c in FLOORS if f"/{c}/src/" in name), None)
        if crate is None:
            continue
        t = totals.setdefault(crate, [0, 0, 0, 0])
        s = f["summary"]
        t[0] += s["lines"]["covered"]
        t[1] += s["lines"]["count"]
        t[2] += s["regions"]["covered"]
        t[3] += s["regions"]["count"]
    failed = []
    print(f"{'crate':14} {'lines':>16} {'regions':>16} {'floor':>6}")
    for crate, floor in FLOORS.items():
        lc, ln, rc, rn = totals.get(crate, [0, 0, 0, 0])
        lines = 100.0 * lc / ln if ln else 0.0
        regions = 100.0 * rc / rn if rn else 0.0
        print(f"{crate:14} {lines:6.2f}% {lc:4}/{ln:<5} {regions:6.2f}% {rc:4}/{rn:<5} {floor:5}%")
        if lines < floor:
            failed.append(f"{crate}: {lines:.2f}% of lines, under its floor of {floor}%")
    if failed:
        sys.exit("coverage under the floor:\n" + "\n".join(failed))


if __name__ == "__main__":
    main(sys.argv[1])
