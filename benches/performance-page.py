#!/usr/bin/env python3
"""Writes PERFORMANCE.md and its charts from the latest benchmark run.

Inputs: the output of `cargo bench -p benches --bench instructions`
(gungraun instruction counts, a file named on the command line) and the
criterion results under target/criterion. Outputs: PERFORMANCE.md at the
root and the SVG charts in benches/charts/. Nothing on the page is typed by
hand: run `bash benches/performance-page` to measure and regenerate.

`--table LOG` only prints the instruction table (what CI shows).
"""
import json
import math
import os
import platform
import re
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHARTS = ROOT / "benches" / "charts"

# benchmark function -> (operation, who)
WHO = {
    "mqtt_decode_osap": ("MQTT decode", "osap-proto"),
    "mqtt_decode_mqttrs": ("MQTT decode", "mqttrs"),
    "mqtt_decode_mqttbytes": ("MQTT decode", "mqttbytes"),
    "mqtt_encode_osap": ("MQTT encode", "osap-proto"),
    "mqtt_encode_mqttrs": ("MQTT encode", "mqttrs"),
    "mqtt_encode_mqttbytes": ("MQTT encode", "mqttbytes"),
    "oic_response_ours": ("OIC Response, IBB stanza to JSON", "oic-ra-proto"),
    "oic_response_minidom": ("OIC Response, IBB stanza to JSON", "minidom+xmpp-parsers"),
    "oic_response_quick_xml": ("OIC Response, IBB stanza to JSON", "quick-xml pipeline"),
    "stanza_parse_ours": ("XMPP stanza parse", "iot-xmpp"),
    "stanza_parse_minidom": ("XMPP stanza parse", "minidom+xmpp-parsers"),
    "irsp_parse_ours": ("IRSP Message 2 parse", "irsp-proto"),
    "irsp_parse_url_serde_urlencoded": ("IRSP Message 2 parse", "url+serde_urlencoded"),
    "irsp_parse_serde_urlencoded": ("IRSP Message 2 parse", "serde_urlencoded (query)"),
    "seal_osap": ("OSAP seal (AES-128-GCM)", "osap-proto"),
    "seal_aes_gcm": ("OSAP seal (AES-128-GCM)", "aes-gcm"),
    "siot_is_friend_text": ("Simple IoT is-friend", "siot-proto, from text"),
    "siot_is_friend_parsed": ("Simple IoT is-friend", "siot-proto, from a parsed stanza"),
    "ibb_receive_in_order": ("IBB receive, blocks in order", "oic-ra-proto"),
}
# The first of these in a row is "this project"; the rest are compared to it.
OURS = ["osap-proto", "oic-ra-proto", "iot-xmpp", "irsp-proto", "siot-proto, from text"]
SIZES = {"16": 16, "64": 64, "256": 256, "1k": 1024, "4k": 4096, "16k": 16384, "64k": 65536}


def read_instructions(text):
    """{(operation, case): {who: instructions}} in the order of the run."""
    rows = OrderedDict()
    current = None
    for line in text.splitlines():
        m = re.match(r"^\S+::(\w+)::(\w+) (\w+):", line)
        if m:
            current = (m.group(2), m.group(3))
            continue
        m = re.match(r"^\s+Instructions:\s+(\d+)", line)
        if m and current:
            fn, case = current
            op, who = WHO.get(fn, (fn, fn))
            rows.setdefault((op, case), OrderedDict())[who] = int(m.group(1))
            current = None
    return rows


def instruction_table(rows):
    out = ["| operation | case | this project | peers (ratio ours/peer) |", "|---|---|---|---|"]
    for (op, case), counts in rows.items():
        ours_who = next((w for w in OURS if w in counts), None)
        ours = counts.get(ours_who)
        peers = ", ".join(
            f"{k} {v:,}" + (f" ({ours / v:.2f})" if ours else "")
            for k, v in counts.items()
            if k != ours_who
        )
        out.append(f"| {op} | {case} | {ours:,} | {peers} |" if ours else f"| {op} | {case} | - | {peers} |")
    return "\n".join(out)


def read_criterion():
    """[(group, function, value, mean ns)] from target/criterion."""
    found = []
    base = ROOT / "target" / "criterion"
    for bench in sorted(base.glob("**/new/benchmark.json")):
        meta = json.loads(bench.read_text())
        est = json.loads((bench.parent / "estimates.json").read_text())
        found.append((meta["group_id"], meta.get("function_id") or "", meta.get("value_str") or "",
                      est["mean"]["point_estimate"]))
    return found


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


# Criterion benchmark names: this project's, and the peers it is compared
# with; anything else is a benchmark of this project alone.
CRITERION_OURS = ["osap-proto", "irsp-proto", "oic-ra-proto", "from_text", "Aes128Gcm"]
CRITERION_PEERS = {"mqttrs", "mqttbytes", "url+serde_urlencoded", "minidom+xmpp-parsers",
                   "raw aes-gcm", "parsed"}


def criterion_table(results):
    groups = OrderedDict()
    for group, function, value, ns in results:
        if value.isdigit():
            # A size swept (things registered): one row per size.
            key, who = (group, value), function
        elif value:
            # One operation over several variants (cipher suites).
            key, who = (group, function), value
        else:
            key, who = (group, ""), function
        groups.setdefault(key, OrderedDict())[who] = ns
    rows = sorted(groups.items(), key=lambda kv: (kv[0][0], int(kv[0][1]) if kv[0][1].isdigit() else 0, kv[0][1]))
    out = ["| benchmark | case | this project | peers (ratio ours/peer) |", "|---|---|---|---|"]
    for (group, case), times in rows:
        ours_who = next((w for w in CRITERION_OURS if w in times), None)
        if ours_who:
            peers = ", ".join(f"{k} {fmt_time(v)} ({times[ours_who] / v:.2f})"
                              for k, v in times.items() if k in CRITERION_PEERS)
            label = " ".join(x for x in (case, "" if ours_who.endswith("-proto") else ours_who) if x)
            out.append(f"| {group} | {label} | {fmt_time(times[ours_who])} | {peers} |")
        for who, ns in times.items():
            if who != ours_who and who not in CRITERION_PEERS:
                out.append(f"| {group} | {' '.join(x for x in (case, who) if x)} | {fmt_time(ns)} | |")
    return "\n".join(out)


def svg_chart(path, title, xlabel, ylabel, series, xlog=True):
    """A line chart: series is {name: [(x, y)]}."""
    w, h, left, right, top, bottom = 640, 360, 70, 170, 40, 50
    xs = [x for pts in series.values() for x, _ in pts]
    ys = [y for pts in series.values() for _, y in pts]
    if not xs:
        return False
    fx = (lambda v: math.log2(v)) if xlog else (lambda v: v)
    x0, x1 = fx(min(xs)), fx(max(xs))
    y1 = max(ys) * 1.1
    px = lambda v: left + (fx(v) - x0) / ((x1 - x0) or 1) * (w - left - right)
    py = lambda v: h - bottom - v / y1 * (h - top - bottom)
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
             f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
             f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="black"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="black"/>',
             f'<text x="{(left + w - right) / 2}" y="{h - 12}" text-anchor="middle">{xlabel}</text>',
             f'<text x="16" y="{(top + h - bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 {(top + h - bottom) / 2})">{ylabel}</text>']
    for i in range(5):
        v = y1 * i / 4
        parts.append(f'<line x1="{left - 4}" y1="{py(v):.1f}" x2="{w - right}" y2="{py(v):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{v:,.0f}</text>')
    for x in sorted(set(xs)):
        label = f"{x // 1024} Ki" if x >= 1024 and x % 1024 == 0 and x < 10**6 and "B" in xlabel else f"{x:,}"
        parts.append(f'<text x="{px(x):.1f}" y="{h - bottom + 16}" text-anchor="middle">{label}</text>')
    for i, (name, pts) in enumerate(series.items()):
        c = colours[i % len(colours)]
        pts = sorted(pts)
        d = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        parts.append(f'<polyline points="{d}" fill="none" stroke="{c}" stroke-width="2"/>')
        for x, y in pts:
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{c}"/>')
        parts.append(f'<rect x="{w - right + 12}" y="{top + 18 * i}" width="12" height="12" fill="{c}"/>')
        parts.append(f'<text x="{w - right + 30}" y="{top + 18 * i + 10}">{name}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")
    return True


def machine():
    def run(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"
    cpu = "unknown"
    for line in run("lscpu").splitlines():
        if line.startswith("Model name:"):
            cpu = line.split(":", 1)[1].strip()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return [f"- CPU: {cpu}, {os.cpu_count()} cores; memory {mem:.0f} GiB; {platform.system()} {platform.release()}",
            f"- {run('rustc', '--version')}; {run('valgrind', '--version')}",
            f"- commit {run('git', '-C', str(ROOT), 'rev-parse', '--short', 'HEAD')}, measured {run('date', '-u', '+%Y-%m-%d %H:%M UTC')}"]


def main(argv):
    if len(argv) == 3 and argv[1] == "--table":
        rows = read_instructions(Path(argv[2]).read_text())
        if not rows:
            print("no instruction counts found")
            return 1
        print(instruction_table(rows))
        return 0
    if len(argv) != 2:
        print(__doc__)
        return 2
    rows = read_instructions(Path(argv[1]).read_text())
    if not rows:
        print("no instruction counts found")
        return 1
    CHARTS.mkdir(parents=True, exist_ok=True)
    publish = OrderedDict()
    for (op, case), counts in rows.items():
        m = re.match(r"publish_(\w+)$", case)
        if op == "MQTT decode" and m and m.group(1) in SIZES:
            for who, n in counts.items():
                publish.setdefault(who, []).append((SIZES[m.group(1)], n))
    svg_chart(CHARTS / "publish-decode.svg", "PUBLISH decode: instructions per packet",
              "payload size (bytes)", "instructions", publish)
    siot = OrderedDict()
    for group, function, value, ns in read_criterion():
        if group == "siot_is_friend_query":
            siot.setdefault({"parsed": "from a parsed stanza", "from_text": "from text"}.get(function, function),
                            []).append((int(value), ns))
    have_siot = svg_chart(CHARTS / "siot-is-friend.svg", "Simple IoT is-friend: time per query",
                          "things registered", "nanoseconds", siot)
    criterion = read_criterion()
    page = ["# Performance", "",
            "Generated by `bash benches/performance-page` from its own benchmark run; do not edit by hand.",
            "Instruction counts come from valgrind's callgrind through gungraun: they are identical from run",
            "to run, so the ratios can be trusted on a shared machine. Times come from criterion and move with",
            "the machine's load. Each operation runs on the same bytes for every crate; inputs are built and",
            "outputs freed outside the measurement. Sources: `benches/benches/instructions.rs` (instructions)",
            "and the other files of `benches/benches/` (time).", "",
            "## Machine", "", *machine(), "",
            "## Instructions per operation", "", instruction_table(rows), "",
            "![PUBLISH decode against payload size](benches/charts/publish-decode.svg)", ""]
    notes = Path(__file__).with_name("notes.md")
    if notes.exists():
        page += ["### What the rows cost, and why", "", notes.read_text().rstrip(), ""]
    if have_siot:
        page += ["![Simple IoT is-friend against number of things](benches/charts/siot-is-friend.svg)", ""]
    page += ["## Time per operation (criterion, mean)", "",
             criterion_table(criterion) if criterion else "No criterion results under target/criterion.", ""]
    (ROOT / "PERFORMANCE.md").write_text("\n".join(page))
    print(f"wrote {ROOT / 'PERFORMANCE.md'} and {CHARTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
