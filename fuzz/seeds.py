#!/usr/bin/env python3
"""Regenerates the seed corpora of the fuzz targets (fuzz/seeds/<target>/).

The seeds are the specifications' example messages and the test vectors
the crates' tests already hold, read from the test sources (string
literals and byte arrays), the `<rest>` vector files and the recorded XMPP
logins, and put in the input format of each target (a leading mode or cut
byte, operation bytes before each chunk). Each seed is named by the SHA-1
of its bytes, so running the script again changes nothing unless a source
changed.

    python3 fuzz/seeds.py          # rewrite fuzz/seeds/
    python3 fuzz/seeds.py --check  # fail if fuzz/seeds/ is out of date
"""

import hashlib
import json
import pathlib
import re
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "seeds"

RAW = re.compile(r'r(#*)"(.*?)"\1', re.S)
PLAIN = re.compile(r'(?<![r#\w])"((?:[^"\\]|\\.)*)"', re.S)
BYTES = re.compile(r"&\[((?:\s*(?:0x[0-9a-fA-F]{1,2}|\d{1,3}|b'(?:\\.|[^'])')\s*,?)+)\]")


def unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "\n":  # line continuation: skip the white space after it
                i += 2
                while i < len(s) and s[i] in " \t\n":
                    i += 1
                continue
            out.append({"n": "\n", "r": "\r", "t": "\t", "0": "\0", "\\": "\\", '"': '"', "'": "'"}.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def literals(*paths):
    """Every string literal of the given Rust sources."""
    found = []
    for p in paths:
        text = (ROOT / p).read_text()
        found += [m.group(2) for m in RAW.finditer(text)]
        found += [unescape(m.group(1)) for m in PLAIN.finditer(RAW.sub("", text))]
    return found


def byte_arrays(*paths):
    """Every `&[0x.., b'.', ..]` byte array of the given Rust sources."""
    found = []
    for p in paths:
        for m in BYTES.finditer((ROOT / p).read_text()):
            out = []
            for tok in re.findall(r"0x[0-9a-fA-F]+|\d+|b'(?:\\.|[^'])'", m.group(1)):
                if tok.startswith("b'"):
                    out.append(ord(unescape(tok[2:-1])))
                else:
                    out.append(int(tok, 0))
            if len(out) >= 2 and all(b < 256 for b in out):
                found.append(bytes(out))
    return found


def chunks(ops, data, modulus, limit=200):
    """`data` as the data operations of a target whose operation byte is the
    chunk's length and whose `op % modulus` below 2 (or 4) is a control
    operation: chunk lengths are chosen to be data operations."""
    out, rest = bytearray(), data
    while rest:
        n = min(len(rest), limit)
        while n > 0 and n % modulus < ops:
            n -= 1
        if n == 0:
            # The last few bytes: an operation byte that is a data
            # operation; the target takes what is left.
            n = ops
        out.append(n)
        out += rest[:n]
        rest = rest[n:]
    return bytes(out)


def small_chunks(kind, data):
    """`data` as operations `len << 3 | kind` (chunks of at most 31 bytes)."""
    out = bytearray()
    for i in range(0, len(data), 31):
        piece = data[i : i + 31]
        out.append(len(piece) << 3 | kind)
        out += piece
    return bytes(out)


def main():
    seeds = {}

    def add(target, data):
        if isinstance(data, str):
            data = data.encode()
        if data:
            seeds.setdefault(target, set()).add(bytes(data))

    # IRSP: request URLs and response bodies of clause 8.
    irsp = literals("irsp-proto/tests/vectors.rs", "irsp-proto/tests/errors.rs", "irsp-proto/tests/flow.rs")
    for s in irsp:
        if s.startswith("https://"):
            add("irsp_request", s)
        if s.lstrip().startswith("<error>"):
            for message in (1, 9, 13):
                add("irsp_response", bytes([422 >> 8, 422 & 0xFF, message]) + s.encode())
    for message in range(1, 16):
        add("irsp_response", bytes([0, 200, message]))

    # OSAP: frames of the draft and MQTT 3.1.1, and the examples of CI.
    frames = byte_arrays("osap-proto/tests/vectors.rs", "osap-proto/tests/codec.rs")
    frames += [bytes.fromhex(h) for h in literals("osap-proto/tests/vectors.rs") if re.fullmatch(r"(?:[0-9a-f]{2}){2,}", h)]
    for f in frames:
        add("osap_frame", b"\x00" + f)
        add("osap_frame", b"\x03" + f)
        add("osap_codec", b"\x00" + f)
        add("osap_codec", b"\x05" + f + f)
        add("osap_das_session", small_chunks(0, f))
        add("osap_das_session", small_chunks(1, f))
        add("osap_das_store", bytes([0x0E]) + small_chunks(0, f))
        add("osap_negotiation", bytes([1, 0x0F, 1, 0x0F]) + small_chunks(0, f))
        add("osap_negotiation", bytes([1, 0x0F, 1, 0x0F]) + small_chunks(1, f))
        for mode in (0x00, 0x81):
            add("osap_device_auth", bytes([mode]) + chunks(2, f, 31))
            add("osap_lbs_auth", bytes([mode]) + chunks(2, f, 31))
            add("osap_lbs_connection", bytes([mode]) + chunks(2, f, 23))
    for mode in (0x00, 0x01, 0x02, 0x80, 0x81, 0x85):
        add("osap_lbs_connection", bytes([mode]))
        add("osap_device_auth", bytes([mode, 0]))
        add("osap_lbs_auth", bytes([mode, 0]))

    # XMPP: the stanzas of the specifications, their <rest> documents, RAE
    # identities and Simple IoT elements, and the recorded logins.
    xml_sources = [
        "oic-ra-proto/tests/codec.rs",
        "oic-ra-proto/tests/rest.rs",
        "oic-ra-proto/tests/identity.rs",
        "oic-ra-proto/tests/presence.rs",
        "siot-proto/tests/vectors.rs",
        "siot-proto/tests/codec.rs",
        "iot-xmpp/tests/stanza.rs",
        "iot-xmpp/tests/roster_presence.rs",
    ]
    texts = literals(*xml_sources)
    texts += [p.read_text() for p in sorted((ROOT / "oic-ra-proto/tests/vectors").glob("*.xml"))]
    stanzas = []
    for t in texts:
        s = t.strip()
        if s.startswith("<rest"):
            add("oic_rest", s)
        elif s.startswith(("<iq", "<message", "<presence")):
            stanzas.append(s)
        elif "/OIC/" in s and "<" not in s:
            add("oic_identity", s)
    for s in stanzas:
        add("oic_stanza", s)
        add("xmpp_stream_reader", b"\x00" + s.encode())
        add("xmpp_stream_reader", b"\x07" + s.encode())
        if s.startswith("<presence"):
            add("oic_presence", s)
        if "urn:xmpp:siot:1" in s:
            add("siot_stanza", s)
            # From the thing and the owner, the store answering truly;
            # then from the owner with each of the store's other answers
            # (0x80), and once more with the store timing out (0x40).
            add("siot_provisioning", b"\x00\x00" + s.encode())
            add("siot_provisioning", b"\x01\x00" + s.encode())
            for how in range(4, 9):
                add("siot_provisioning", bytes([0x81, how]) + s.encode())
            add("siot_provisioning", bytes([0xc1, 8]) + s.encode())
            # From the provisioning service, then from a stranger.
            for who in (0, 3):
                add("siot_thing_owner", small_chunks(3, bytes([who]) + s.encode()))
        add("oic_keepalive", b"\x02" + s.encode())
        add("oic_rae", chunks(5, s.encode(), 31))
        if "http://jabber.org/protocol/ibb" in s and len(s) < 256:
            add("oic_ibb_session", bytes([1, len(s)]) + s.encode())
            add("oic_ibb_session", bytes([2, len(s)]) + s.encode())
        add("xmpp_client", chunks(4, s.encode(), 29))
    stream_open = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s' from='localhost' version='1.0'>"
    for name in ("prosody", "ejabberd"):
        lines = (ROOT / "iot-xmpp/tests/transcripts" / f"{name}.txt").read_text().splitlines()
        server = "".join(line[2:] for line in lines if line.startswith("S "))
        add("xmpp_stream_reader", b"\x00" + server.encode())
        add("xmpp_stream_reader", b"\x0d" + server.encode())
        add("xmpp_client", chunks(4, server.encode(), 29))
    add("xmpp_stream_reader", b"\x01" + (stream_open + "".join(stanzas[:20])).encode())
    for i in range(9):
        add("oic_ibb_session", bytes([i, 4, 1, 2, 3, 4]))
    for op in (0, 1, 2):
        add("siot_thing_owner", bytes([op]))
    add("oic_keepalive", bytes([60, 0, 1, 0, 60, 0, 60]))
    add("oic_rae", bytes([0, 1, 2, 3]))
    # With stream management and a reconnection policy (0x60 first): lost,
    # the policy's time, a new transport, and a login.
    # (125 & 0x60: both; 125 % 31 == 1: the transport closes.)
    header = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
              "xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>")
    relogin = (header
               + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
               "<mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>"
               "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcmZj"
               "TkhZSlkxWlZ2V1ZzN2oscz1RU1hDUitRNnNlazhiZjkyLGk9NDA5Ng==</challenge>"
               "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9</success>"
               + header
               + "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/>"
               "</stream:features><resumed xmlns='urn:xmpp:sm:3' h='0' previd='s1'/>")
    add("oic_rae", bytes([125, 0, 4]) + chunks(5, relogin.encode(), 31))
    for i in range(8):
        add("oic_ibb_transport", bytes([i, 3, 0, 1, 2]))
    for s in stanzas:
        if "http://jabber.org/protocol/ibb" in s and len(s) < 64:
            add("oic_ibb_transport", bytes([4, len(s)]) + s.encode())

    # The DAS over a store: a real CONNECT (counter 1), then the store
    # answering each request from its table, a PINGREQ and a DISCONNECT.
    add("osap_das_store", bytes([0x0E, 0x0A, 0, 0x0A, 0, 0x10, 0xC0, 0x00, 0x10, 0xE0, 0x00]))
    add("osap_das_store", bytes([0x0E, 0x0A, 2, 0x0C, 5]))

    # Simple IoT records: a thing's state and the service's records as the
    # durable-state tests write them.
    # Stream management: acknowledgements, requests, stanzas from the
    # server, stanzas sent (op 2), a lost transport (op 1) and a tick (op
    # 0); mode 1 resumes the session on a second connection.
    sm_server = ("<a xmlns='urn:xmpp:sm:3' h='1'/><r xmlns='urn:xmpp:sm:3'/>"
                 "<message from='a@localhost/x' id='x1'/><a xmlns='urn:xmpp:sm:3' h='2'/>")
    for mode in (0, 1):
        add("xmpp_stream_management", bytes([mode, 2, 2, 2]) + chunks(4, sm_server.encode(), 23) + bytes([1]))
        add("xmpp_stream_management", bytes([mode, 2, 0, 0, 0]))
    add("xmpp_stream_management", b"\x01\x02\x01" + chunks(4, b"<resumed xmlns='urn:xmpp:sm:3' h='0' previd='s1'/>", 23))
    add("xmpp_stream_management", b"\x01\x02\x01" + chunks(4, b"<failed xmlns='urn:xmpp:sm:3' h='1'/>", 23))
    add("xmpp_stream_management", b"\x00\x02" + chunks(4, b"<a xmlns='urn:xmpp:sm:3' h='9'/>", 23))

    # SCRAM with channel binding: user, password, server-first and
    # server-final, NUL-separated, each flag and hash; mode 8 and above
    # against the test server.
    rfc_first = b"r=fuzznonce3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4"
    for mode in range(16):
        add("xmpp_scram_plus", bytes([mode]) + b"user\x00pencil\x00" + rfc_first + b"\x00v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")
    add("xmpp_scram_plus", b"\x0aI\xc2\xadX\x00\xe2\x85\xa8\x00\x00")

    # The OSAP records as a store keeps them (0x00: read as records), and
    # nodes beating and devices sent (0x01: the balancer).
    for s in (json.dumps({"key": "ab" * 16, "suite": 4, "epoch": 2, "expires": 86400000,
                          "revoked": False, "last_registration": 7, "node": 1}),
              json.dumps({"code": "4711", "enrolled": {"devid": "dev-SN-1", "master_key": "07" * 16,
                                                       "protocol_type": 1, "suite": 4}}),
              json.dumps({"code": "4711", "enrolled": None}),
              json.dumps({"address": "127.0.0.1:18862", "relay": "127.0.0.1:18872",
                          "sessions": 96, "live_until": 1000})):
        add("osap_records", b"\x00" + s.encode())
    add("osap_records", bytes([1, 1, 1, 3, 50, 2, 1, 0, 50, 0xff, 10, 0, 0, 0xff, 10, 0, 0,
                               2, 2, 9, 60, 0xff, 55, 0, 0]))
    # SRV records (split, then priority, weight, port, target byte each):
    # both services, a zero weight, a `.`; none; only `.`.
    add("xmpp_route", bytes([1, 0, 0, 0, 0, 0x14, 0x66, 1, 0, 5, 0, 10, 0x14, 0x67, 2,
                             0, 5, 0, 30, 0x14, 0x67, 3, 0, 9, 0, 0, 0, 0, 0]))
    add("xmpp_route", b"\x00")
    # Certificates: the test servers' shape (RSA with SHA-256) cut short
    # of its signature, and an ECDSA P-384 one's start.
    add("xmpp_cert_binding", bytes([0x30, 0x1e, 0x30, 0x03, 0x02, 0x01, 0x01, 0x30, 0x0d, 0x06,
                                    0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b,
                                    0x05, 0x00, 0x03, 0x06, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
                                    0x06, 0x07]))
    add("xmpp_cert_binding", bytes([0x30, 0x12, 0x30, 0x00, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                    0x48, 0xce, 0x3d, 0x04, 0x03, 0x03, 0x03, 0x02, 0x00, 0x00]))
    add("xmpp_route", bytes([0, 0, 0, 0, 0, 0, 0, 0]))
    for s in literals("siot-proto/tests/durable.rs"):
        if s.lstrip().startswith(("{", "[")):
            add("siot_records", s)
    add("siot_records", "[]")
    # A registered, claimed thing with a friend and a pending request, as
    # a store holds it: the thing, its owner and its claim index entry.
    add("siot_records", json.dumps([
        {"thing": {"jid": "bulb@example.org", "address": "bulb@example.org/f65dece8",
                   "names": [[None, "Bulb"], ["de", "Birne"]], "key": "TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW",
                   "owner": "owner@example.com", "friends": ["friend@example.net"], "refused": [],
                   "subscribed": True}},
        {"owner": {"jid": "owner@example.com", "things": ["bulb@example.org"],
                   "pending": [["requestor@example.net", ["bulb@example.org"]]]}},
        {"claim": {"index": "7d9c415915e46764332b36a9ca90c086c577fab9a88361913d3ff0bd97775599",
                   "thing": "bulb@example.org"}},
    ]))

    # The structure-aware targets read their input as a sequence of
    # choices (arbitrary's Unstructured); the same examples, read that way,
    # start them off in every branch.
    for target, source in [
        ("osap_typed", "osap_frame"),
        ("xmpp_typed", "oic_stanza"),
        ("oic_typed", "oic_rest"),
        ("siot_typed", "siot_stanza"),
        ("irsp_typed", "irsp_request"),
    ]:
        for data in seeds.get(source, ()):
            add(target, data)

    targets = sorted(p.stem for p in (ROOT / "fuzz/fuzz_targets").glob("*.rs"))
    missing = [t for t in targets if t not in seeds]
    if missing:
        sys.exit(f"no seeds for: {', '.join(missing)}")

    def write(into):
        for target in targets:
            d = into / target
            d.mkdir(parents=True)
            for data in seeds[target]:
                (d / hashlib.sha1(data).hexdigest()).write_bytes(data)

    if "--check" in sys.argv:
        tmp = ROOT / "target" / "seeds-check"
        shutil.rmtree(tmp, ignore_errors=True)
        write(tmp)
        old = {p.relative_to(OUT) for p in OUT.rglob("*") if p.is_file()}
        new = {p.relative_to(tmp) for p in tmp.rglob("*") if p.is_file()}
        if old != new:
            sys.exit("fuzz/seeds/ is out of date: run python3 fuzz/seeds.py")
        print(f"fuzz/seeds/ is up to date ({len(new)} seeds)")
        return
    shutil.rmtree(OUT, ignore_errors=True)
    write(OUT)
    for target in targets:
        size = sum(len(d) for d in seeds[target])
        print(f"{target:22} {len(seeds[target]):4} seeds {size:8} bytes")


if __name__ == "__main__":
    main()
