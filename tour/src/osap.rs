//! OSAP (draft-wang-open-service-access-protocol-00): a device negotiates a
//! protocol with a load-balance service, as in Figures 1 and 2.

use std::error::Error;
use std::time::Instant;

use osap_proto::{
    ControlFrame, DeviceConfig, DeviceEvent, DeviceNegotiation, LbsConfig, LbsEvent,
    LbsNegotiation, Offer, ProtocolGroup, Suite,
};

/// Prints one control frame: direction, hex and its fields.
fn show(from: &str, to: &str, bytes: &[u8]) {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    println!("  {from} -> {to}: {hex}");
    match ControlFrame::parse(bytes) {
        Ok(f) => println!(
            "      type 0x{:x}, flags 0x{:x} (ECDH mode {}), protocol type {}, group {:?}, version {}.{}.{}, transaction {:?}",
            f.kind,
            f.flags.bits(),
            f.flags.ecdh(),
            f.protocol_type,
            f.protocol_group,
            f.version.form,
            f.version.high,
            f.version.low,
            String::from_utf8_lossy(&f.content),
        ),
        Err(e) => println!("      (not a control frame: {e})"),
    }
}

/// Runs one connection: the device's request, the LBS's answer.
fn connection(
    device: &mut DeviceNegotiation<Instant>,
    lbs_config: &LbsConfig,
    now: Instant,
) -> Result<LbsEvent, Box<dyn Error>> {
    let mut lbs = LbsNegotiation::new(lbs_config.clone(), now);
    while let Some(bytes) = device.poll_transmit() {
        show("device", "LBS", &bytes);
        lbs.handle_input(&bytes, now);
    }
    while let Some(bytes) = lbs.poll_transmit() {
        show("LBS", "device", &bytes);
        device.handle_input(&bytes, now);
    }
    lbs.poll_event()
        .ok_or_else(|| "the LBS reported nothing".into())
}

/// Figure 1, then Figure 2.
pub(crate) fn negotiation() -> Result<(), Box<dyn Error>> {
    println!("== OSAP: device and load-balance service negotiate a protocol (draft section 5)");
    let now = Instant::now();
    let all = ProtocolGroup::ALL;

    println!("-- Figure 1: the LBS supports protocol type 1");
    let mut config = DeviceConfig::new(vec![Offer {
        protocol_type: 1,
        group: all,
    }]);
    config.transaction = b"txn-1".to_vec();
    let mut device = DeviceNegotiation::new(config);
    let lbs_config = LbsConfig::new(vec![Offer {
        protocol_type: 1,
        group: ProtocolGroup::of(&[Suite::Aes128Ecb, Suite::Aes128Cbc, Suite::Aes128Gcm]),
    }]);
    device.start(now);
    let lbs_event = connection(&mut device, &lbs_config, now)?;
    println!("  LBS: {lbs_event:?}");
    println!("  device: {:?}", device.poll_event());

    println!("-- Figure 2: the LBS supports protocol type 2 only, with group (2,4,8)");
    let mut config = DeviceConfig::new(vec![
        Offer {
            protocol_type: 1,
            group: all,
        },
        Offer {
            protocol_type: 2,
            group: all,
        },
    ]);
    config.transaction = b"txn-2".to_vec();
    let mut device = DeviceNegotiation::new(config);
    let lbs_config = LbsConfig::new(vec![Offer {
        protocol_type: 2,
        group: ProtocolGroup::of(&[Suite::Aes128Cbc, Suite::Aes128Gcm, Suite::Reserved8]),
    }]);
    device.start(now);
    let lbs_event = connection(&mut device, &lbs_config, now)?;
    println!("  LBS: {lbs_event:?}");
    let event = device.poll_event();
    println!("  device: {event:?}");
    if let Some(DeviceEvent::Reconnect { .. }) = event {
        println!("  (the connection is closed; the device connects again)");
        device.reconnected(now);
        let lbs_event = connection(&mut device, &lbs_config, now)?;
        println!("  LBS: {lbs_event:?}");
        println!("  device: {:?}", device.poll_event());
    }
    Ok(())
}
