//! Instruction counts (valgrind's callgrind, through gungraun) of the hot
//! operations, each beside the peer crates doing the same work on the same
//! bytes, so that ratios can be read off one run: identical from run to
//! run, whatever else the machine does. Run with
//! `cargo bench -p benches --bench instructions` (needs valgrind and the
//! `gungraun-runner` of the same version as the `gungraun` crate).

#![allow(clippy::unwrap_used, missing_docs)]
// gungraun's macros write fully qualified paths.
#![allow(unused_qualifications)]
// gungraun hands each benchmark its input by value.
#![allow(clippy::needless_pass_by_value)]

use std::hint::black_box;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use std::time::Duration;

use benches::fixtures::{
    CONNECT_WIRE, PeerMessage2, TOPIC, irsp_peer_parse, irsp_peer_parse_query, irsp_routes,
    message_2, oic_minidom, oic_ours, oic_quick_xml, oic_response_stanza, publish, publish_wire,
    stanza_minidom, stanza_ours,
};
use benches::fixtures::{SIOT_T0, ibb_in_order, siot_is_friend_query, siot_service};
use bytes::BytesMut;
use gungraun::{library_benchmark, library_benchmark_group, main};
use irsp_proto::{Limits, Request, ServerRole, ServiceRoutes};
use oic_ra_proto::stanza::Stanza as OicStanza;
use oic_ra_proto::transport::{IbbTransport, IbbTransportEvent};
use osap_proto::crypto::{PayloadCipher, SessionKey};
use osap_proto::{FrameDecoder, Packet, Publish, Suite};
use siot_proto::provisioning::ProvisioningService;
use siot_proto::stanza::Stanza as SiotStanza;
use siot_proto::{Input, Machine, StanzaMachine};

// MQTT: decode. Inputs are given as leaked slices so that no free of the
// input is measured; what a benchmark builds it hands back, so that its
// drop is not measured either.

fn leak(wire: Vec<u8>) -> &'static [u8] {
    Box::leak(wire.into_boxed_slice())
}

fn with_decoder(wire: Vec<u8>) -> (&'static mut FrameDecoder, &'static [u8]) {
    (Box::leak(Box::new(FrameDecoder::new(1 << 20))), leak(wire))
}

#[library_benchmark]
#[bench::publish_16(args = (publish_wire(16)), setup = with_decoder)]
#[bench::publish_64(args = (publish_wire(64)), setup = with_decoder)]
#[bench::publish_256(args = (publish_wire(256)), setup = with_decoder)]
#[bench::publish_1k(args = (publish_wire(1024)), setup = with_decoder)]
#[bench::publish_4k(args = (publish_wire(4096)), setup = with_decoder)]
#[bench::publish_16k(args = (publish_wire(16 * 1024)), setup = with_decoder)]
#[bench::publish_64k(args = (publish_wire(64 * 1024)), setup = with_decoder)]
#[bench::connect(args = (CONNECT_WIRE.to_vec()), setup = with_decoder)]
fn mqtt_decode_osap(
    (decoder, wire): (&'static mut FrameDecoder, &'static [u8]),
) -> Packet<'static> {
    let (_, raw) = decoder.decode(black_box(wire)).unwrap();
    Packet::from_raw(raw.unwrap()).unwrap()
}

#[library_benchmark]
#[bench::publish_16(args = (publish_wire(16)), setup = leak)]
#[bench::publish_64(args = (publish_wire(64)), setup = leak)]
#[bench::publish_256(args = (publish_wire(256)), setup = leak)]
#[bench::publish_1k(args = (publish_wire(1024)), setup = leak)]
#[bench::publish_4k(args = (publish_wire(4096)), setup = leak)]
#[bench::publish_16k(args = (publish_wire(16 * 1024)), setup = leak)]
#[bench::publish_64k(args = (publish_wire(64 * 1024)), setup = leak)]
#[bench::connect(args = (CONNECT_WIRE.to_vec()), setup = leak)]
fn mqtt_decode_mqttrs(wire: &'static [u8]) -> Option<mqttrs::Packet<'static>> {
    mqttrs::decode_slice(black_box(wire)).unwrap()
}

fn bytes_mut(wire: Vec<u8>) -> BytesMut {
    BytesMut::from(&wire[..])
}

#[library_benchmark]
#[bench::publish_16(args = (publish_wire(16)), setup = bytes_mut)]
#[bench::publish_64(args = (publish_wire(64)), setup = bytes_mut)]
#[bench::publish_256(args = (publish_wire(256)), setup = bytes_mut)]
#[bench::publish_1k(args = (publish_wire(1024)), setup = bytes_mut)]
#[bench::publish_4k(args = (publish_wire(4096)), setup = bytes_mut)]
#[bench::publish_16k(args = (publish_wire(16 * 1024)), setup = bytes_mut)]
#[bench::publish_64k(args = (publish_wire(64 * 1024)), setup = bytes_mut)]
#[bench::connect(args = (CONNECT_WIRE.to_vec()), setup = bytes_mut)]
fn mqtt_decode_mqttbytes(mut stream: BytesMut) -> (mqttbytes::v4::Packet, BytesMut) {
    let packet = mqttbytes::v4::read(black_box(&mut stream), 1 << 20).unwrap();
    (packet, stream)
}

// MQTT: encode a PUBLISH with a 64-byte payload, the packet built and the
// output buffer reserved outside the measurement; the packet is leaked and
// the buffer handed back, so that freeing them is not measured either.

static PAYLOAD_64: [u8; 64] = [0xa5; 64];

fn osap_publish() -> (&'static Publish<'static>, BytesMut) {
    let Packet::Publish(p) = publish(&PAYLOAD_64) else {
        unreachable!()
    };
    (Box::leak(Box::new(p)), BytesMut::with_capacity(128))
}

fn mqttbytes_publish() -> (&'static mqttbytes::v4::Publish, BytesMut) {
    let mut p =
        mqttbytes::v4::Publish::new(TOPIC, mqttbytes::QoS::AtLeastOnce, PAYLOAD_64.to_vec());
    p.pkid = 7;
    (Box::leak(Box::new(p)), BytesMut::with_capacity(128))
}

fn mqttrs_publish() -> (mqttrs::Packet<'static>, [u8; 128]) {
    let p = mqttrs::Packet::Publish(mqttrs::Publish {
        dup: false,
        qospid: mqttrs::QosPid::AtLeastOnce(mqttrs::Pid::try_from(7).unwrap()),
        retain: false,
        topic_name: TOPIC,
        payload: &PAYLOAD_64,
    });
    (p, [0u8; 128])
}

#[library_benchmark]
#[bench::publish_64(setup = osap_publish)]
fn mqtt_encode_osap((packet, mut out): (&'static Publish<'static>, BytesMut)) -> BytesMut {
    black_box(packet).encode(&mut out).unwrap();
    out
}

#[library_benchmark]
#[bench::publish_64(setup = mqttbytes_publish)]
fn mqtt_encode_mqttbytes(
    (packet, mut out): (&'static mqttbytes::v4::Publish, BytesMut),
) -> BytesMut {
    black_box(packet).write(&mut out).unwrap();
    out
}

#[library_benchmark]
#[bench::publish_64(setup = mqttrs_publish)]
fn mqtt_encode_mqttrs((packet, mut out): (mqttrs::Packet<'static>, [u8; 128])) -> usize {
    mqttrs::encode_slice(black_box(&packet), &mut out).unwrap()
}

library_benchmark_group!(
    name = mqtt;
    benchmarks = mqtt_decode_osap, mqtt_decode_mqttrs, mqtt_decode_mqttbytes,
        mqtt_encode_osap, mqtt_encode_mqttbytes, mqtt_encode_mqttrs
);

// OIC RA: the printed Response example from an IBB data stanza to JSON.

#[library_benchmark]
#[bench::response(oic_response_stanza())]
fn oic_response_ours(xml: String) -> bool {
    black_box(oic_ours(black_box(&xml))).is_object()
}

#[library_benchmark]
#[bench::response(oic_response_stanza())]
fn oic_response_minidom(xml: String) -> bool {
    black_box(oic_minidom(black_box(&xml))).is_object()
}

#[library_benchmark]
#[bench::response(oic_response_stanza())]
fn oic_response_quick_xml(xml: String) -> bool {
    black_box(oic_quick_xml(black_box(&xml))).is_object()
}

library_benchmark_group!(
    name = oic;
    benchmarks = oic_response_ours, oic_response_minidom, oic_response_quick_xml
);

// XMPP: the IBB stanza of the OIC row read into a stanza, its JIDs
// prepared.

#[library_benchmark]
#[bench::ibb_message(oic_response_stanza())]
fn stanza_parse_ours(xml: String) -> usize {
    stanza_ours(black_box(&xml))
}

#[library_benchmark]
#[bench::ibb_message(oic_response_stanza())]
fn stanza_parse_minidom(xml: String) -> usize {
    stanza_minidom(black_box(&xml))
}

library_benchmark_group!(
    name = xmpp;
    benchmarks = stanza_parse_ours, stanza_parse_minidom
);

// IRSP: Message 2 from its URL to a typed message.

fn message_2_url() -> String {
    message_2().to_url(&"www.igrslab.com:8080".parse().unwrap(), &irsp_routes())
}

fn message_2_query() -> String {
    message_2_url().split_once('?').unwrap().1.to_owned()
}

fn leak_str(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn with_routes(url: String) -> (&'static str, &'static ServiceRoutes) {
    (leak_str(url), Box::leak(Box::new(irsp_routes())))
}

// The inputs are leaked and the messages handed back, so that only the
// reading is measured, for every crate.

#[library_benchmark]
#[bench::message_2(args = (message_2_url()), setup = with_routes)]
fn irsp_parse_ours((url, routes): (&'static str, &'static ServiceRoutes)) -> Request {
    let limits = Limits::default();
    Request::parse_url(black_box(url), ServerRole::Message, routes, &limits).unwrap()
}

#[library_benchmark]
#[bench::message_2(args = (message_2_url()), setup = leak_str)]
fn irsp_parse_url_serde_urlencoded(url: &'static str) -> PeerMessage2 {
    irsp_peer_parse(black_box(url))
}

#[library_benchmark]
#[bench::message_2(args = (message_2_query()), setup = leak_str)]
fn irsp_parse_serde_urlencoded(query: &'static str) -> PeerMessage2 {
    irsp_peer_parse_query(black_box(query))
}

library_benchmark_group!(
    name = irsp;
    benchmarks = irsp_parse_ours, irsp_parse_url_serde_urlencoded, irsp_parse_serde_urlencoded
);

// OSAP: sealing a business payload under the sessionkey, the cipher made
// once per sessionkey (outside the measurement) on both sides, and every
// input handed back so that its drop is not measured. Raw aes-gcm appends
// its tag to the buffer, as a sealed payload carries it.

type Sealing = (PayloadCipher, Vec<u8>, rand_chacha::ChaCha20Rng, Vec<u8>);

fn osap_cipher(len: usize) -> Sealing {
    let cipher = PayloadCipher::new(Suite::Aes128Gcm, SessionKey::from_bytes([7; 16]));
    // A running RNG: its block buffer is filled, as on a steady path (a
    // ChaCha block serves about twenty nonces).
    let mut rng = iot_sansio::testing::rng(1);
    rand_core::RngCore::next_u32(&mut rng);
    (cipher, vec![0x42; len], rng, Vec::with_capacity(len + 28))
}

fn raw_cipher(len: usize) -> (Aes128Gcm, Vec<u8>) {
    let mut buffer = Vec::with_capacity(len + 16);
    buffer.resize(len, 0x42);
    (Aes128Gcm::new_from_slice(&[7; 16]).unwrap(), buffer)
}

#[library_benchmark]
#[bench::seal_64(args = (64), setup = osap_cipher)]
#[bench::seal_1k(args = (1024), setup = osap_cipher)]
fn seal_osap((cipher, plain, mut rng, mut out): Sealing) -> Sealing {
    cipher
        .seal_into(b"dev/1/event", black_box(&plain), &mut rng, &mut out)
        .unwrap();
    (cipher, plain, rng, out)
}

#[library_benchmark]
#[bench::seal_64(args = (64), setup = raw_cipher)]
#[bench::seal_1k(args = (1024), setup = raw_cipher)]
fn seal_aes_gcm((cipher, mut buffer): (Aes128Gcm, Vec<u8>)) -> (Aes128Gcm, Vec<u8>) {
    let nonce = [1u8; 12];
    let tag = cipher
        .encrypt_in_place_detached(&Nonce::from(nonce), b"dev/1/event", black_box(&mut buffer))
        .unwrap();
    buffer.extend_from_slice(&tag);
    (cipher, buffer)
}

library_benchmark_group!(
    name = osap_seal;
    benchmarks = seal_osap, seal_aes_gcm
);

// Simple IoT: the provisioning service answers an is-friend query, given
// the parsed stanza or its text; the answer is handed back unserialised.

type Service = &'static mut ProvisioningService<Duration>;

fn siot_parsed(n: usize) -> (Service, &'static SiotStanza) {
    (
        Box::leak(Box::new(siot_service(n))),
        Box::leak(Box::new(siot_is_friend_query(n))),
    )
}

fn siot_text(n: usize) -> (Service, &'static str) {
    (
        Box::leak(Box::new(siot_service(n))),
        leak_str(siot_is_friend_query(n).to_xml()),
    )
}

#[library_benchmark]
#[bench::things_1k(args = (1_000), setup = siot_parsed)]
#[bench::things_100k(args = (100_000), setup = siot_parsed)]
fn siot_is_friend_parsed((ps, query): (Service, &'static SiotStanza)) -> SiotStanza {
    ps.handle_input(SIOT_T0, Input::Data(black_box(query)));
    ps.poll_transmit().unwrap()
}

#[library_benchmark]
#[bench::things_1k(args = (1_000), setup = siot_text)]
#[bench::things_100k(args = (100_000), setup = siot_text)]
fn siot_is_friend_text((ps, text): (Service, &'static str)) -> SiotStanza {
    ps.handle_stanza(SIOT_T0, black_box(text)).unwrap();
    ps.poll_transmit().unwrap()
}

// OIC: the IBB receive path, blocks arriving in order (the common case
// the reorder window must not slow down): each block read, checked and
// appended, and the message handed over once whole.

#[library_benchmark]
#[bench::blocks_16(args = (16), setup = ibb_in_order)]
fn ibb_receive_in_order(
    (mut transport, stanzas): (IbbTransport<Duration>, Vec<OicStanza>),
) -> (
    IbbTransport<Duration>,
    Vec<OicStanza>,
    Option<IbbTransportEvent>,
) {
    for stanza in &stanzas {
        transport.take(Duration::ZERO, black_box(stanza));
    }
    let message = transport.poll_event();
    (transport, stanzas, message)
}

library_benchmark_group!(
    name = ibb;
    benchmarks = ibb_receive_in_order
);

library_benchmark_group!(
    name = siot;
    benchmarks = siot_is_friend_parsed, siot_is_friend_text
);

main!(
    library_benchmark_groups = mqtt,
    oic,
    xmpp,
    irsp,
    osap_seal,
    ibb,
    siot
);
