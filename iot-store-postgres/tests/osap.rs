//! The OSAP directory in PostgreSQL (feature `osap`): each request of an
//! LBS connection answered from the database, the DAS nodes' heartbeats
//! and the least-loaded live node, and a device's first authentication and
//! refresh through a real LBS machine whose every question is answered by
//! the directory (section 5, Figures 3 and 4).

#![cfg(feature = "osap")]
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::Duration;

use iot_sansio::Machine;
use iot_sansio::store::{Deferred, StoreAnswer, StoreOp, Version};
use iot_sansio::testing::rng;
use iot_store_postgres::osap::{OsapSpaces, PgDirectory};
use osap_proto::auth::{DirectoryAnswer, DirectoryOp, Enrolled};
use osap_proto::crypto::{MasterKey, SessionKey, VerificationCode};
use osap_proto::records::{DasNode, KeyRecord};
use osap_proto::{
    DeviceConnection, DeviceConnectionConfig, DeviceConnectionEvent, DeviceNegotiationConfig,
    Input, LbsConnection, LbsConnectionConfig, LbsConnectionEvent, LbsNegotiationConfig, Offer,
    ProtocolGroup, Suite,
};

const T0: Duration = Duration::from_secs(1_000);

fn das(address: &str, sessions: u64, live_until: Duration) -> DasNode<Duration> {
    DasNode {
        address: address.to_owned(),
        relay: String::new(),
        sessions,
        live_until,
    }
}

async fn directory(test: &str) -> Option<PgDirectory<Duration>> {
    let store = common::store(test).await?;
    Some(PgDirectory::new(
        store,
        OsapSpaces::new(&common::space(test)),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_is_answered_from_the_database() {
    let Some(directory) = directory("osap_requests").await else {
        return;
    };
    let code = VerificationCode::new("4711");
    assert!(matches!(
        directory.add_device("SN-1", code.clone()).await,
        StoreAnswer::Stored(_)
    ));
    // A device already there is left as it is.
    assert_eq!(
        directory
            .add_device("SN-1", VerificationCode::new("other"))
            .await,
        StoreAnswer::Conflict
    );
    let device = DirectoryOp::Device {
        serial: "SN-1".into(),
    };
    let DirectoryAnswer::Device(Some(entry)) = directory.answer(T0, &device).await else {
        panic!("SN-1 is known");
    };
    assert_eq!(entry.record.code, code);
    assert_eq!(entry.record.enrolled, None);
    let unknown = DirectoryOp::Device {
        serial: "SN-9".into(),
    };
    assert_eq!(
        directory.answer(T0, &unknown).await,
        DirectoryAnswer::Device(None)
    );
    let propose = DirectoryOp::ProposeDevid {
        serial: "SN-1".into(),
    };
    assert_eq!(
        directory.answer(T0, &propose).await,
        DirectoryAnswer::Devid(Ok("dev-SN-1".into()))
    );

    // Enrolment over the version read; a second one from the same read,
    // or one for an unknown serial number, conflicts.
    let enrolled = Enrolled {
        devid: "dev-SN-1".into(),
        master_key: MasterKey::from_bytes([7; 16]),
        protocol_type: 1,
        suite: Suite::Aes128Gcm,
    };
    let enroll = |serial: &str| DirectoryOp::Enroll {
        serial: serial.into(),
        expected: entry.version,
        enrolled: enrolled.clone(),
    };
    assert_eq!(
        directory.answer(T0, &enroll("SN-1")).await,
        DirectoryAnswer::Stored
    );
    assert_eq!(
        directory.answer(T0, &enroll("SN-1")).await,
        DirectoryAnswer::Conflict
    );
    assert_eq!(
        directory.answer(T0, &enroll("SN-9")).await,
        DirectoryAnswer::Conflict
    );
    for (devid, expected) in [
        ("dev-SN-1", Some(enrolled.clone())),
        ("dev-SN-9", None),
        // Not a devid the directory gives.
        ("SN-1", None),
    ] {
        let op = DirectoryOp::Enrolled {
            devid: devid.into(),
        };
        assert_eq!(
            directory.answer(T0, &op).await,
            DirectoryAnswer::Enrolled(expected),
            "{devid}"
        );
    }

    // The sessionkey records, shared with the DAS.
    let record = KeyRecord::new(SessionKey::from_bytes([9; 16]), Suite::Aes128Gcm, 1, None);
    let put = StoreOp::Put {
        key: "dev-SN-1".to_owned(),
        expected: Version::ABSENT,
        record: record.clone(),
    };
    assert_eq!(
        directory.answer(T0, &DirectoryOp::Key(put)).await,
        DirectoryAnswer::Key(StoreAnswer::Stored(Version::FIRST))
    );
    let StoreAnswer::Found(found) = directory
        .answer_key(&StoreOp::Get("dev-SN-1".to_owned()))
        .await
    else {
        panic!("the record is there");
    };
    assert_eq!(found.record, record);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_go_to_the_least_loaded_live_node_and_never_a_dead_one() {
    let Some(directory) = directory("osap_nodes").await else {
        return;
    };
    let address = DirectoryOp::DasAddress {
        devid: "dev-SN-1".into(),
    };
    assert_eq!(
        directory.answer(T0, &address).await,
        DirectoryAnswer::Unavailable
    );
    let lease = T0 + Duration::from_secs(1);
    let StoreAnswer::Stored(v1) = directory
        .announce(1, Version::ABSENT, das("das-1:8883", 2, lease))
        .await
    else {
        panic!("node 1 announced");
    };
    assert!(matches!(
        directory
            .announce(2, Version::ABSENT, das("das-2:8883", 0, lease))
            .await,
        StoreAnswer::Stored(_)
    ));
    // A heartbeat from a stale version (another process with the node's
    // number) is refused.
    assert_eq!(
        directory
            .announce(1, Version::ABSENT, das("elsewhere", 0, lease))
            .await,
        StoreAnswer::Conflict
    );
    // The nodes were read when none was live: read again after a while.
    let later = T0 + iot_store_postgres::osap::NODES_READ;
    let mut sent = Vec::new();
    for _ in 0..4 {
        let DirectoryAnswer::Address(Ok(to)) = directory.answer(later, &address).await else {
            panic!("a live node");
        };
        sent.push(to);
    }
    assert_eq!(
        sent,
        ["das-2:8883", "das-2:8883", "das-1:8883", "das-2:8883"]
    );
    // Node 1 keeps beating, node 2 stops: past node 2's lease every device
    // goes to node 1.
    let next = lease + Duration::from_secs(1);
    assert!(matches!(
        directory.announce(1, v1, das("das-1:8883", 3, next)).await,
        StoreAnswer::Stored(_)
    ));
    let DirectoryAnswer::Address(Ok(to)) = directory.answer(lease, &address).await else {
        panic!("node 1 is live");
    };
    assert_eq!(to, "das-1:8883");
    let StoreAnswer::Found(node) = directory.node(2).await else {
        panic!("node 2's record stays");
    };
    assert!(!node.record.is_live(lease));
    // Past every lease, none.
    assert_eq!(
        directory.answer(next, &address).await,
        DirectoryAnswer::Unavailable
    );
}

/// Runs an LBS connection and a device against each other in memory, the
/// LBS's questions answered by `directory`, until the device is sent to a
/// DAS; returns what the device learned.
async fn authenticate(
    directory: &PgDirectory<Duration>,
    mut device: DeviceConnection<Duration, rand_chacha::ChaCha20Rng>,
    seed: u64,
) -> (Option<Enrolled>, Option<String>) {
    let offer = Offer {
        protocol_type: 1,
        group: ProtocolGroup::ALL,
    };
    let mut lbs = LbsConnection::new(
        T0,
        LbsConnectionConfig::new(LbsNegotiationConfig::new(vec![offer])),
        rng(seed),
        Deferred,
    );
    device.start(T0);
    let (mut enrolled, mut address) = (None, None);
    for _ in 0..64 {
        while let Some(bytes) = device.poll_transmit() {
            lbs.handle_input(T0, Input::Data(&bytes));
        }
        while let Some(event) = lbs.poll_event() {
            if let LbsConnectionEvent::Directory(request) = event {
                let answer = directory.answer(T0, &request.op).await;
                lbs.provide(T0, request.id, answer).unwrap();
            }
        }
        while let Some(bytes) = lbs.poll_transmit() {
            device.handle_input(T0, Input::Data(&bytes));
        }
        while let Some(event) = device.poll_event() {
            match event {
                DeviceConnectionEvent::Enrolled(e) => enrolled = Some(e),
                DeviceConnectionEvent::DasAddress(a) => address = Some(a),
                DeviceConnectionEvent::Ended(end) => panic!("the device's connection ended: {end}"),
                _ => {}
            }
        }
        if address.is_some() {
            break;
        }
    }
    (enrolled, address)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_enrols_and_refreshes_through_the_directory() {
    let Some(directory) = directory("osap_lbs").await else {
        return;
    };
    let code = VerificationCode::new("2468");
    assert!(matches!(
        directory.add_device("SN-7", code.clone()).await,
        StoreAnswer::Stored(_)
    ));
    assert!(matches!(
        directory
            .announce(
                1,
                Version::ABSENT,
                das("das-1:8883", 0, T0 + Duration::from_secs(60))
            )
            .await,
        StoreAnswer::Stored(_)
    ));
    let config = || {
        DeviceConnectionConfig::new(DeviceNegotiationConfig::new(vec![Offer {
            protocol_type: 1,
            group: ProtocolGroup::ALL,
        }]))
    };
    let first = DeviceConnection::first(config(), rng(1), "SN-7", code);
    let (enrolled, address) = authenticate(&directory, first, 2).await;
    let enrolled = enrolled.expect("the device enrolled");
    assert_eq!(enrolled.devid, "dev-SN-7");
    assert_eq!(address.as_deref(), Some("das-1:8883"));
    let StoreAnswer::Found(first_key) = directory
        .answer_key(&StoreOp::Get("dev-SN-7".to_owned()))
        .await
    else {
        panic!("the LBS stored the sessionkey");
    };
    assert_eq!(first_key.record.epoch, 1);

    // A refresh finds the enrolment from the devid and issues epoch 2.
    let again = DeviceConnection::reauthenticate(config(), rng(3), enrolled);
    let (_, address) = authenticate(&directory, again, 4).await;
    assert_eq!(address.as_deref(), Some("das-1:8883"));
    let StoreAnswer::Found(second_key) = directory
        .answer_key(&StoreOp::Get("dev-SN-7".to_owned()))
        .await
    else {
        panic!("the sessionkey record is there");
    };
    assert_eq!(second_key.record.epoch, 2);
    assert_ne!(second_key.record.key, first_key.record.key);
}
