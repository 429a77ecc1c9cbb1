#!/usr/bin/env python3
"""Writes RELIABILITY.md (to stdout) from the figures of the last OSAP fault
test run (target/reliability/last.json, written by
osap-proto/examples/osap_fault.rs). Run through `bash .ci/reliability`,
which runs the test first; the page is never edited by hand."""

import datetime
import json
import sys


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "target/reliability/last.json"
    with open(path) as f:
        run = json.load(f)
    load, figures, checks, machine = run["load"], run["figures"], run["checks"], run["machine"]
    when = datetime.datetime.fromtimestamp(int(run["date"]), datetime.timezone.utc)
    out = []
    w = out.append
    w("# Reliability")
    w("")
    w("<!-- Written by .ci/reliability.py from the last fault-test run; regenerate with")
    w("     `bash .ci/reliability`. Do not edit by hand. -->")
    w("")
    w("The OSAP platform as separate processes over one PostgreSQL database, under a")
    w("killed node: `osap-proto/examples/osap_fault.rs` runs it and checks it, and")
    w("`.ci/run` runs it on every change. This page is from its last run here.")
    w("")
    w(f"**Result: {'passed' if run['passed'] else 'FAILED'}**, "
      f"{when:%Y-%m-%d %H:%M} UTC.")
    w("")
    w("## The load")
    w("")
    w(f"- {load['lbs_processes']} LBS process and {load['das_processes']} DAS processes "
      "(`osap_node`), sharing one PostgreSQL database through `iot-store-postgres`.")
    w(f"- {load['devices']} simulated devices in one tokio process, over loopback: each "
      "enrols (first authentication, P-384 ECDH), is sent to the least-loaded live DAS, "
      "registers, and reports events one after another (the next once the last is "
      "acknowledged, so the platform runs at what it can take).")
    w(f"- Measured phases of {load['phase_seconds']} s with two DAS processes and with one; "
      f"{load['events_produced']} events produced in all.")
    w("")
    w("## The faults injected")
    w("")
    for fault in run["faults"]:
        w(f"- **{fault['kind']}** of {fault['target']}, holding {fault['sessions']} device "
          f"sessions: {fault['connections_lost']} connections lost; every device registered "
          f"again (refresh at the LBS, redirect, registration at the surviving DAS) "
          f"{fault['recovered_seconds']:.2} s after the kill. The devices wait 1.2 to 1.8 s "
          "before going back to the LBS, by when the killed node's lease in the store "
          "(1 s) has passed.")
    w(f"- A registration CONNECT captured on its way to one DAS and replayed at the "
      f"other: answered `{checks['replayed_connect']}` (refused).")
    w("")
    w("## What was lost and duplicated")
    w("")
    w("| | |")
    w("|---|---|")
    w(f"| events produced (queued by the devices) | {load['events_produced']} |")
    w(f"| events stored (once each, by devid and event number) | {checks['events_stored']} |")
    w(f"| **events lost** | **{checks['events_lost']}** |")
    w(f"| events stored that no device produced | {checks['events_not_produced']} |")
    w(f"| duplicates (sent again after the kill, refused by the store) | "
      f"{checks['duplicates_refused']} |")
    w(f"| events a full device queue refused | {checks['queue_overflows']} |")
    w(f"| devices the locator placed on the killed node once they were back | "
      f"{checks['locator_on_killed_node']} |")
    w(f"| devices sent to the dead node after its lease | {checks['sent_to_dead_node']} |")
    w(f"| DAS connections refused | {checks['das_connections_refused']} |")
    w(f"| locator entries left after every device left | "
      f"{checks['locator_entries_after_leaving']} |")
    w("")
    w("## Figures")
    w("")
    w("| | |")
    w("|---|---|")
    w(f"| registrations per second (enrolment at the LBS included) | "
      f"{figures['registrations_per_second']:.0f} |")
    w(f"| events per second, two DAS processes | {figures['events_per_second_two_das']:.0f} |")
    w(f"| events per second, one DAS process | {figures['events_per_second_one_das']:.0f} |")
    w(f"| database round trips per registration at the DAS (the record read, the counter written) | "
      f"{figures['round_trips_per_registration']:.2f} |")
    w(f"| database round trips per event (written if absent) | {figures['round_trips_per_event']:.2f} |")
    w(f"| event latency p50 (send to acknowledgement) | {figures['latency_ms_p50']:.1f} ms |")
    w(f"| event latency p99 | {figures['latency_ms_p99']:.1f} ms |")
    w("")
    w("Every process, the database and the devices share the machine below, so the "
      "rates are those of the whole platform on it, not of one DAS: with two cores, "
      "a second DAS process adds no cores, and the event rate is bound by the machine, "
      "not by the number of DAS processes.")
    w("")
    w("## The machine")
    w("")
    w(f"- CPU: {machine['cpu']}, {machine['cores']} cores available")
    w(f"- Linux {machine['kernel']}")
    w(f"- Build: {machine['profile']} profile")
    w("")
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
