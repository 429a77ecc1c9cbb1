//! The authentication state machines end to end, device against LBS, in
//! memory: Figures 3 and 4 and section 6, with every suite, and the faults.

#![allow(clippy::unwrap_used, clippy::panic)]

use iot_sansio::testing::Checked;
use std::time::Duration;

use iot_sansio::testing::{Driver, pair, rng};
use osap_proto::auth::{
    AuthConfig, AuthFault, AuthFrame, AuthKind, AuthMessage, AuthRefusal, DeviceAuth,
    DeviceAuthEvent, DeviceDirectory, DirectoryAnswer, DirectoryOp, Enrolled, LbsAuth,
    LbsAuthEvent, MemoryDirectory,
};
use osap_proto::crypto::{CryptoError, MasterKey, SessionKey, VerificationCode};
use osap_proto::{ControlFrame, End, FrameError, Input, Machine, Suite};
use rand_chacha::ChaCha20Rng;

const T0: Duration = Duration::ZERO;

/// The LBS's directory: one in memory, with knobs that make it refuse.
#[derive(Clone)]
struct Directory {
    inner: MemoryDirectory<Duration>,
    /// What each step refuses with, when set.
    refuse_propose: Option<&'static str>,
    conflict_enroll: bool,
    refuse_das: Option<&'static str>,
}

impl Default for Directory {
    fn default() -> Self {
        Self {
            inner: MemoryDirectory::new("das-3.example.net:8883"),
            refuse_propose: None,
            conflict_enroll: false,
            refuse_das: None,
        }
    }
}

impl Directory {
    fn with_device(serial: &str, code: &str) -> Self {
        let mut d = Self::default();
        d.inner.add_device(serial, VerificationCode::new(code));
        d
    }
}

impl DeviceDirectory<Duration> for Directory {
    fn answer_now(&mut self, op: &DirectoryOp<Duration>) -> Option<DirectoryAnswer<Duration>> {
        Some(match op {
            DirectoryOp::ProposeDevid { serial } => DirectoryAnswer::Devid(
                self.refuse_propose
                    .map_or(Ok(format!("devid-{serial}")), Err),
            ),
            DirectoryOp::Enroll { .. } if self.conflict_enroll => DirectoryAnswer::Conflict,
            DirectoryOp::DasAddress { .. } if self.refuse_das.is_some() => {
                DirectoryAnswer::Address(self.refuse_das.map_or(Ok(String::new()), Err))
            }
            _ => self.inner.answer(op),
        })
    }
}

type Device = Checked<DeviceAuth<Duration, ChaCha20Rng>>;
type Lbs = Checked<LbsAuth<Duration, ChaCha20Rng, Directory>>;

struct Run {
    device: Device,
    lbs: Lbs,
}

impl Run {
    fn first(suite: Suite, code: &str, directory: Directory, seed: u64) -> Self {
        let params = AuthConfig::new(1, suite);
        Self {
            device: Checked::new(DeviceAuth::first(
                params.clone(),
                rng(seed),
                "SN-0001",
                VerificationCode::new(code),
            )),
            lbs: Checked::new(LbsAuth::new(T0, params, rng(seed + 1000), directory)),
        }
    }

    /// A reauthentication on a new connection to an LBS with `directory`.
    fn again(devid: String, master: MasterKey, directory: Directory, seed: u64) -> Self {
        let enrolled = Enrolled {
            devid,
            master_key: master,
            protocol_type: 1,
            suite: Suite::Aes128Gcm,
        };
        let params = AuthConfig::refresh(&enrolled);
        Self {
            device: Checked::new(DeviceAuth::reauthenticate(
                params.clone(),
                rng(seed),
                enrolled,
            )),
            lbs: Checked::new(LbsAuth::new(T0, params, rng(seed + 1000), directory)),
        }
    }

    /// Moves frames both ways until nothing moves; returns every frame
    /// with its sender (0 the device, 1 the LBS).
    fn pump_all(&mut self) -> Vec<(usize, Vec<u8>)> {
        let mut frames = Vec::new();
        Driver::new(T0).run(
            &mut [&mut self.device, &mut self.lbs],
            pair(|from, bytes: &Vec<u8>| frames.push((from, bytes.clone()))),
        );
        frames
    }

    /// Moves frames both ways until nothing moves; returns every frame
    /// the LBS sent.
    fn pump(&mut self) -> Vec<Vec<u8>> {
        self.pump_all()
            .into_iter()
            .filter(|(from, _)| *from == 1)
            .map(|(_, b)| b)
            .collect()
    }

    fn device_events(&mut self) -> Vec<DeviceAuthEvent> {
        std::iter::from_fn(|| self.device.poll_event()).collect()
    }

    fn lbs_events(&mut self) -> Vec<LbsAuthEvent<Duration>> {
        std::iter::from_fn(|| self.lbs.poll_event()).collect()
    }
}

/// Runs a first authentication to the end; returns devid, masterkey and
/// sessionkey as the device saw them.
fn first_authentication(suite: Suite) -> (Run, String, MasterKey, SessionKey) {
    let mut run = Run::first(suite, "4711", Directory::with_device("SN-0001", "4711"), 1);
    run.device.start(T0);
    run.pump();
    let events = run.device_events();
    let [
        DeviceAuthEvent::Enrolled(Enrolled {
            devid, master_key, ..
        }),
        DeviceAuthEvent::SessionKey(session),
        DeviceAuthEvent::DasAddress(address),
    ] = events.as_slice()
    else {
        panic!("{suite:?}: {events:?}");
    };
    assert_eq!(address, "das-3.example.net:8883");
    let lbs = run.lbs_events();
    assert_eq!(lbs.len(), 2, "{lbs:?}");
    assert_eq!(
        lbs[0],
        LbsAuthEvent::Enrolled {
            devid: devid.clone()
        }
    );
    let kept = run.lbs.directory().inner.enrolled(devid).unwrap();
    assert_eq!(
        (&kept.master_key, kept.protocol_type, kept.suite),
        (master_key, 1, suite)
    );
    // Both sides hold the same sessionkey: the LBS stored it, for the DAS,
    // before the redirect.
    let stored = run
        .lbs
        .directory()
        .inner
        .keys()
        .record(devid)
        .unwrap()
        .record;
    assert_eq!(
        (&stored.key, stored.suite, stored.epoch),
        (session, suite, 1)
    );
    assert!(
        matches!(&lbs[1], LbsAuthEvent::Redirected { address, .. } if address == "das-3.example.net:8883")
    );
    assert_eq!(run.device.poll_timeout(), None);
    assert_eq!(run.lbs.poll_timeout(), None);
    (run, devid.clone(), master_key.clone(), session.clone())
}

#[test]
fn figure_3_first_authentication_with_every_suite() {
    for suite in [Suite::Aes128Gcm, Suite::Aes128Cbc, Suite::Aes128Ecb] {
        first_authentication(suite);
    }
}

#[test]
fn figure_4_refresh_after_disconnect() {
    let (run, devid, master, first_session) = first_authentication(Suite::Aes128Gcm);
    // The connection drops; the device comes back on a new one.
    let directory = run.lbs.directory().clone();
    let mut again = Run::again(devid.clone(), master, directory, 2);
    again.device.start(T0);
    again.pump();
    let events = again.device_events();
    let [
        DeviceAuthEvent::SessionKey(session),
        DeviceAuthEvent::DasAddress(_),
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_ne!(*session, first_session, "the sessionkey is refreshed");
    assert!(matches!(
        again.lbs_events().as_slice(),
        [LbsAuthEvent::Redirected { .. }]
    ));
    // The refreshed sessionkey is the devid's next epoch, its counters
    // afresh.
    let stored = again
        .lbs
        .directory()
        .inner
        .keys()
        .record(&devid)
        .unwrap()
        .record;
    assert_eq!(
        (&stored.key, stored.epoch, stored.last_registration),
        (session, 2, None)
    );
}

#[test]
fn refresh_with_an_unknown_devid_or_wrong_masterkey_is_refused() {
    let (run, devid, _, _) = first_authentication(Suite::Aes128Gcm);
    for (id, key) in [
        (devid, MasterKey::from_bytes([9; 16])),
        ("devid-nobody".to_owned(), MasterKey::from_bytes([9; 16])),
    ] {
        let directory = run.lbs.directory().clone();
        let mut again = Run::again(id, key, directory, 3);
        again.device.start(T0);
        again.pump();
        assert_eq!(
            again.device_events(),
            [DeviceAuthEvent::Ended(End::Refused(AuthRefusal::ByLbs))]
        );
        assert_eq!(
            again.lbs_events(),
            [LbsAuthEvent::Ended(End::Refused(AuthRefusal::BadProof))]
        );
    }
}

#[test]
fn wrong_code_and_unknown_serial_look_the_same_to_the_device() {
    let mut wrong = Run::first(
        Suite::Aes128Gcm,
        "0000",
        Directory::with_device("SN-0001", "4711"),
        5,
    );
    wrong.device.start(T0);
    let wrong_bytes = wrong.pump();
    let mut unknown = Run::first(
        Suite::Aes128Gcm,
        "4711",
        Directory::with_device("SN-9999", "4711"),
        5,
    );
    unknown.device.start(T0);
    let unknown_bytes = unknown.pump();
    assert_eq!(
        wrong_bytes, unknown_bytes,
        "the refusals are byte for byte the same"
    );
    assert_eq!(
        wrong.device_events(),
        [DeviceAuthEvent::Ended(End::Refused(AuthRefusal::ByLbs))]
    );
    assert_eq!(
        unknown.device_events(),
        [DeviceAuthEvent::Ended(End::Refused(AuthRefusal::ByLbs))]
    );
    // Only the operator's log tells them apart.
    assert_eq!(
        wrong.lbs_events(),
        [LbsAuthEvent::Ended(End::Refused(
            AuthRefusal::WrongVerificationCode
        ))]
    );
    assert_eq!(
        unknown.lbs_events(),
        [LbsAuthEvent::Ended(End::Refused(
            AuthRefusal::UnknownDevice
        ))]
    );
}

/// Starts a first authentication and returns the LBS's ECDH response.
fn ecdh_response(run: &mut Run) -> Vec<u8> {
    run.device.start(T0);
    let request = run.device.poll_transmit().unwrap();
    run.lbs.handle_input(T0, Input::Data(&request));
    run.lbs.poll_transmit().unwrap()
}

fn rewrite(bytes: &[u8], edit: impl FnOnce(&mut AuthFrame)) -> Vec<u8> {
    let mut frame = AuthFrame::from_control(&ControlFrame::parse(bytes).unwrap()).unwrap();
    edit(&mut frame);
    let mut out = Vec::new();
    frame.encode(&mut out).unwrap();
    out
}

#[test]
fn tampered_ciphertext_is_refused() {
    for suite in [Suite::Aes128Gcm, Suite::Aes128Cbc, Suite::Aes128Ecb] {
        let mut run = Run::first(suite, "4711", Directory::with_device("SN-0001", "4711"), 6);
        let response = ecdh_response(&mut run);
        let tampered = rewrite(&response, |f| {
            if let AuthMessage::EcdhResponse {
                sealed_public_key, ..
            } = &mut f.message
            {
                sealed_public_key[20] ^= 0x40;
            }
        });
        run.device.handle_input(T0, Input::Data(&tampered));
        assert_eq!(
            run.device_events(),
            [DeviceAuthEvent::Ended(End::PeerFault(AuthFault::Crypto {
                field: "LBS public key",
                error: CryptoError::Authentication
            }))],
            "{suite:?}"
        );
    }
}

#[test]
fn replayed_response_is_refused() {
    // A DAS response from one connection ...
    let (mut old, _, _, _) = first_authentication(Suite::Aes128Gcm);
    let _ = old.pump();
    let mut record = Run::first(
        Suite::Aes128Gcm,
        "4711",
        Directory::with_device("SN-0001", "4711"),
        1,
    );
    record.device.start(T0);
    let captured = record.pump();
    let old_ecdh_response = captured[0].clone();
    // ... replayed to a device in another exchange.
    let mut run = Run::first(
        Suite::Aes128Gcm,
        "4711",
        Directory::with_device("SN-0001", "4711"),
        7,
    );
    let _fresh = ecdh_response(&mut run);
    run.device.handle_input(T0, Input::Data(&old_ecdh_response));
    assert_eq!(
        run.device_events(),
        [DeviceAuthEvent::Ended(End::PeerFault(
            AuthFault::NonceMismatch
        ))]
    );
    // With the nonce rewritten to the current one, the sealed key no longer
    // opens: the nonce is bound into it.
    let mut run = Run::first(
        Suite::Aes128Gcm,
        "4711",
        Directory::with_device("SN-0001", "4711"),
        7,
    );
    let fresh = ecdh_response(&mut run);
    let current = AuthFrame::from_control(&ControlFrame::parse(&fresh).unwrap())
        .unwrap()
        .nonce;
    let forged = rewrite(&old_ecdh_response, |f| f.nonce = current);
    run.device.handle_input(T0, Input::Data(&forged));
    assert!(matches!(
        run.device_events().as_slice(),
        [DeviceAuthEvent::Ended(End::PeerFault(AuthFault::Crypto {
            error: CryptoError::Authentication,
            ..
        }))]
    ));
}

#[test]
fn reordered_and_duplicated_frames_are_refused() {
    // The device gets a DAS response when it waits for the ECDH response.
    let mut run = Run::first(
        Suite::Aes128Gcm,
        "4711",
        Directory::with_device("SN-0001", "4711"),
        8,
    );
    let response = ecdh_response(&mut run);
    let reordered = rewrite(&response, |f| {
        f.message = AuthMessage::DasResponse {
            result: osap_proto::auth::AuthResult::Accepted,
            sealed_address: vec![0; 40],
        }
    });
    run.device.handle_input(T0, Input::Data(&reordered));
    assert_eq!(
        run.device_events(),
        [DeviceAuthEvent::Ended(End::PeerFault(
            AuthFault::UnexpectedMessage {
                expected: AuthKind::EcdhResponse,
                got: AuthKind::DasResponse
            }
        ))]
    );
    // The LBS gets the ECDH request twice.
    let mut run = Run::first(
        Suite::Aes128Gcm,
        "4711",
        Directory::with_device("SN-0001", "4711"),
        9,
    );
    run.device.start(T0);
    let request = run.device.poll_transmit().unwrap();
    let mut twice = request.clone();
    twice.extend_from_slice(&request);
    run.lbs.handle_input(T0, Input::Data(&twice));
    assert_eq!(
        run.lbs_events(),
        [LbsAuthEvent::Ended(End::PeerFault(
            AuthFault::UnexpectedMessage {
                expected: AuthKind::ApplyDevidRequest,
                got: AuthKind::EcdhRequest
            }
        ))]
    );
    // After the outcome, more input changes nothing.
    let (mut done, _, _, _) = first_authentication(Suite::Aes128Gcm);
    done.device.handle_input(T0, Input::Data(&response));
    assert_eq!(done.device_events(), []);
}

#[test]
fn silence_until_timeout_and_disconnect() {
    let mut run = Run::first(
        Suite::Aes128Gcm,
        "4711",
        Directory::with_device("SN-0001", "4711"),
        10,
    );
    run.device.start(T0);
    let deadline = run.device.poll_timeout().unwrap();
    run.device
        .handle_timeout(deadline - Duration::from_millis(1));
    assert_eq!(run.device_events(), []);
    run.device.handle_timeout(deadline);
    assert_eq!(run.device_events(), [DeviceAuthEvent::Ended(End::TimedOut)]);
    assert_eq!(run.lbs.poll_timeout(), Some(Duration::from_secs(10)));
    run.lbs.handle_timeout(Duration::from_secs(10));
    assert_eq!(run.lbs_events(), [LbsAuthEvent::Ended(End::TimedOut)]);

    let mut run = Run::first(
        Suite::Aes128Gcm,
        "4711",
        Directory::with_device("SN-0001", "4711"),
        11,
    );
    let _ = ecdh_response(&mut run);
    run.device.handle_input(T0, Input::PeerClosed);
    assert_eq!(
        run.device_events(),
        [DeviceAuthEvent::Ended(End::PeerClosed)]
    );
}

#[test]
fn reserved_and_mismatched_messages() {
    let mut run = Run::first(
        Suite::Aes128Gcm,
        "4711",
        Directory::with_device("SN-0001", "4711"),
        12,
    );
    let response = ecdh_response(&mut run);
    for reserved in [0x3, 0x5] {
        let mut frame = ControlFrame::parse(&response).unwrap().into_owned();
        frame.kind = reserved;
        assert!(matches!(
            AuthFrame::from_control(&frame),
            Err(FrameError::Malformed {
                field: "control message type",
                ..
            })
        ));
    }
    let other_suite = rewrite(&response, |f| f.suite = Suite::Aes128Cbc);
    run.device.handle_input(T0, Input::Data(&other_suite));
    assert_eq!(
        run.device_events(),
        [DeviceAuthEvent::Ended(End::PeerFault(
            AuthFault::ProtocolMismatch
        ))]
    );
    // Original mode (flags 0x1) is not authentication.
    let mut frame = ControlFrame::parse(&response).unwrap().into_owned();
    frame.flags = osap_proto::ControlFlags::ORIGINAL;
    assert!(AuthFrame::from_control(&frame).is_err());
}

#[test]
fn auth_frames_round_trip() {
    let mut run = Run::first(
        Suite::Aes128Cbc,
        "4711",
        Directory::with_device("SN-0001", "4711"),
        13,
    );
    run.device.start(T0);
    let frames: Vec<Vec<u8>> = run.pump_all().into_iter().map(|(_, b)| b).collect();
    let kinds: Vec<u8> = frames.iter().map(|b| b[0] >> 4).collect();
    assert_eq!(kinds, [0x1, 0x2, 0x7, 0x8, 0x9, 0xa, 0xb]);
    for bytes in frames {
        let frame = AuthFrame::from_control(&ControlFrame::parse(&bytes).unwrap()).unwrap();
        let mut again = Vec::new();
        frame.encode(&mut again).unwrap();
        assert_eq!(again, bytes);
        let json = serde_json::to_string(&frame).unwrap();
        assert_eq!(serde_json::from_str::<AuthFrame>(&json).unwrap(), frame);
    }
}

/// The worked example of `PROFILE.md`, section 8.
#[test]
fn profile_worked_example() {
    let frame = AuthFrame {
        protocol_type: 1,
        suite: Suite::Aes128Gcm,
        version: osap_proto::ProtocolVersion::DEFAULT,
        nonce: [0xab; 16],
        message: AuthMessage::EcdhRequest {
            serial: "SN-1".into(),
            sealed_public_key: vec![0xcd; 125],
        },
    };
    let mut wire = Vec::new();
    frame.encode(&mut wire).unwrap();
    assert_eq!(wire.len(), 161);
    assert_eq!(
        wire[..10],
        [0x13, 0x9e, 0x01, 0x01, 0x04, 0x00, 0x13, 0x01, 0x01, 0x00]
    );
    assert_eq!(wire[10..26], [0xab; 16]);
    assert_eq!(
        wire[26..37],
        [
            0x01, 0x00, 0x04, b'S', b'N', b'-', b'1', 0x02, 0x00, 0x7d, 0xcd
        ]
    );
    assert_eq!(
        AuthFrame::from_control(&ControlFrame::parse(&wire).unwrap()).unwrap(),
        frame
    );
}

#[test]
fn a_devid_is_kept_only_once_the_device_confirms_it() {
    let mut run = Run::first(
        Suite::Aes128Gcm,
        "4711",
        Directory::with_device("SN-0001", "4711"),
        7,
    );
    run.device.start(T0);
    // The device's confirmation (0x9) is lost.
    let is_confirm = |bytes: &[u8]| {
        ControlFrame::parse(bytes)
            .ok()
            .and_then(|c| AuthFrame::from_control(&c).ok())
            .is_some_and(|f| f.message.kind() == AuthKind::ApplyDevidConfirm)
    };
    Driver::new(T0).run(
        &mut [&mut run.device, &mut run.lbs],
        |from, bytes: Vec<u8>| (!(from == 0 && is_confirm(&bytes))).then_some((1 - from, bytes)),
    );
    // The DAS request that followed is out of turn and ends the exchange;
    // nothing was registered and no sessionkey issued.
    let lbs = run.lbs_events();
    assert!(
        lbs.iter().all(|e| matches!(e, LbsAuthEvent::Ended(_))),
        "{lbs:?}"
    );
    assert!(run.lbs.directory().inner.is_empty(), "no devid kept");
}

#[test]
fn directory_refusals_end_the_authentication_with_their_reason() {
    for (setup, reason) in [
        (
            Directory {
                refuse_propose: Some("no devid left"),
                ..Directory::with_device("SN-0001", "4711")
            },
            "no devid left",
        ),
        (
            Directory {
                conflict_enroll: true,
                ..Directory::with_device("SN-0001", "4711")
            },
            "enrolled on another connection meanwhile",
        ),
        (
            Directory {
                refuse_das: Some("no DAS for this device"),
                ..Directory::with_device("SN-0001", "4711")
            },
            "no DAS for this device",
        ),
    ] {
        let mut run = Run::first(Suite::Aes128Gcm, "4711", setup, 3);
        run.device.start(T0);
        run.pump();
        let lbs = run.lbs_events();
        assert_eq!(
            lbs.last(),
            Some(&LbsAuthEvent::Ended(End::Refused(AuthRefusal::Directory(
                reason
            )))),
            "{lbs:?}"
        );
        let device = run.device_events();
        assert_eq!(
            device.last(),
            Some(&DeviceAuthEvent::Ended(End::Refused(AuthRefusal::ByLbs))),
            "{device:?}"
        );
    }
}

/// A device public key that opens under the sharekey (the verification
/// code is right) but is not an uncompressed P-384 point (compressed, off
/// the curve, the identity, cut short) is refused as what it is, not as a
/// wrong code; the device learns only that the LBS refused.
#[test]
fn an_invalid_device_public_key_is_refused_as_such() {
    use osap_proto::auth::AuthKind;
    use osap_proto::crypto::{EcdhKeyPair, ShareKey, ShareKeyParams, open, seal};
    let valid = EcdhKeyPair::from_scalar(&[7u8; 48]).unwrap().public_key();
    let mut compressed = vec![0x02 | (valid[96] & 1)];
    compressed.extend_from_slice(&valid[1..49]);
    let mut off_curve = valid.to_vec();
    off_curve[96] ^= 1;
    for bad in [compressed, off_curve, vec![0x00], valid[..96].to_vec()] {
        let mut run = Run::first(
            Suite::Aes128Gcm,
            "4711",
            Directory::with_device("SN-0001", "4711"),
            9,
        );
        run.device.start(T0);
        let request = run.device.poll_transmit().unwrap();
        let share = ShareKey::derive(
            &VerificationCode::new("4711"),
            "SN-0001",
            &ShareKeyParams::default(),
        );
        let forged = rewrite(&request, |frame| {
            let aad = AuthFrame::aad(AuthKind::EcdhRequest, &frame.nonce);
            let AuthMessage::EcdhRequest {
                sealed_public_key, ..
            } = &mut frame.message
            else {
                panic!("not the ECDH request")
            };
            // The device's own key opens: the code is right.
            open(Suite::Aes128Gcm, share.expose(), &aad, sealed_public_key).unwrap();
            *sealed_public_key =
                seal(Suite::Aes128Gcm, share.expose(), &aad, &bad, &mut rng(3)).unwrap();
        });
        run.lbs.handle_input(T0, Input::Data(&forged));
        assert_eq!(
            run.lbs_events(),
            [LbsAuthEvent::Ended(End::Refused(
                AuthRefusal::InvalidPublicKey
            ))],
            "{bad:02x?}"
        );
        let refusal = run.lbs.poll_transmit().unwrap();
        run.device.handle_input(T0, Input::Data(&refusal));
        assert_eq!(
            run.device_events(),
            [DeviceAuthEvent::Ended(End::Refused(AuthRefusal::ByLbs))]
        );
    }
}
