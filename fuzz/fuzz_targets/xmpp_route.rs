//! The order in which a domain's SRV targets are tried (RFC 2782, RFC 6120
//! 3.2, XEP-0368): arbitrary records of both services and arbitrary
//! randomness give every usable record once, by priority, or the
//! fall-back when there is none, or "no service" when every record says
//! `.`; never a panic, and at most `MAX_SRV_RECORDS` endpoints.
#![no_main]

use iot_xmpp::stream::Tls;
use iot_xmpp_net::route::{self, Endpoint, MAX_SRV_RECORDS, NoService, SrvRecord};
use libfuzzer_sys::fuzz_target;
use rand_core::SeedableRng;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    // Seven bytes a record: priority, weight, port, and the target (0 is
    // `.`, otherwise a host named by the byte).
    let records: Vec<SrvRecord> = rest
        .chunks_exact(7)
        .map(|r| SrvRecord {
            priority: u16::from_be_bytes([r[0], r[1]]),
            weight: u16::from_be_bytes([r[2], r[3]]),
            port: u16::from_be_bytes([r[4], r[5]]),
            target: if r[6] == 0 {
                ".".into()
            } else {
                format!("h{}.example.", r[6])
            },
        })
        .collect();
    let at = usize::from(split).min(records.len());
    let (starttls, direct) = records.split_at(at);
    let mut seed = [0u8; 32];
    for (s, d) in seed.iter_mut().zip(rest.iter().rev()) {
        *s = *d;
    }
    let mut rng = rand_chacha::ChaCha8Rng::from_seed(seed);
    let got = route::endpoints("example.net", starttls, direct, &mut rng);
    let usable: Vec<(&SrvRecord, Tls)> = starttls
        .iter()
        .map(|r| (r, Tls::StartTls))
        .chain(direct.iter().map(|r| (r, Tls::Direct)))
        .filter(|(r, _)| r.target != ".")
        .collect();
    match got {
        Err(NoService) => assert!(!records.is_empty() && usable.is_empty()),
        Ok(endpoints) if records.is_empty() => {
            assert_eq!(endpoints, [Endpoint::fallback("example.net")]);
        }
        Ok(endpoints) => {
            assert_eq!(endpoints.len(), usable.len().min(MAX_SRV_RECORDS));
            // By priority: each endpoint's record is one of the usable
            // ones, and the priorities never go down.
            let mut left = usable.clone();
            let mut last = 0u16;
            for e in &endpoints {
                // Of equal records, the one of the lowest priority.
                let i = left
                    .iter()
                    .enumerate()
                    .filter(|(_, (r, tls))| {
                        r.port == e.port
                            && *tls == e.tls
                            && r.target.trim_end_matches('.') == e.host
                    })
                    .min_by_key(|(_, (r, _))| r.priority)
                    .map(|(i, _)| i)
                    .expect("an endpoint comes from a record");
                let (r, _) = left.swap_remove(i);
                assert!(r.priority >= last);
                last = r.priority;
            }
            // What was left out has no lower priority than what was kept.
            assert!(left.iter().all(|(r, _)| r.priority >= last));
        }
    }
});
