#!/usr/bin/env python3
"""Reads the output of `cargo bench -p benches --bench instructions` on
standard input and prints the instruction counts as a table: one row per
operation, this project beside each peer, with the ratio ours/peer. It
reports; it does not judge."""
import re
import sys
from collections import OrderedDict

# benchmark function -> (operation family, who)
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
    "irsp_parse_ours": ("IRSP Message 2 parse", "irsp-proto"),
    "irsp_parse_url_serde_urlencoded": ("IRSP Message 2 parse", "url+serde_urlencoded"),
    "irsp_parse_serde_urlencoded": ("IRSP Message 2 parse", "serde_urlencoded (query)"),
    "seal_osap": ("OSAP seal (AES-128-GCM)", "osap-proto"),
    "seal_aes_gcm": ("OSAP seal (AES-128-GCM)", "aes-gcm"),
}
OURS = {"osap-proto", "oic-ra-proto", "irsp-proto"}


def main():
    rows = OrderedDict()
    current = None
    for line in sys.stdin:
        m = re.match(r"^\S+::(\w+)::(\w+) (\w+):", line)
        if m:
            current = (m.group(2), m.group(3))
            continue
        m = re.match(r"^\s+Instructions:\s+(\d+)", line)
        if m and current:
            fn, case = current
            family, who = WHO.get(fn, (fn, fn))
            rows.setdefault((family, case), OrderedDict())[who] = int(m.group(1))
            current = None
    if not rows:
        print("no instruction counts found")
        return 1
    print("| operation | case | this project | peers (ratio ours/peer) |")
    print("|---|---|---|---|")
    for (family, case), counts in rows.items():
        ours = next((v for k, v in counts.items() if k in OURS), None)
        peers = ", ".join(
            f"{k} {v:,}" + (f" ({ours / v:.2f})" if ours else "")
            for k, v in counts.items()
            if k not in OURS
        )
        print(f"| {family} | {case} | {ours:,} | {peers} |" if ours else f"| {family} | {case} | - | {peers} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
