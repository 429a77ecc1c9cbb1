//! Where an XMPP domain's client service is: the order in which a client
//! tries the endpoints a domain's SRV records name (RFC 6120 3.2, RFC
//! 2782, XEP-0368). Pure: the records come from whatever resolver the
//! runtime has ([`crate::dns`] with the `dns` feature), the randomness of
//! the weighted choice from the caller.

use iot_xmpp::stream::Tls;
use rand_core::RngCore;

/// The SRV service of XMPP clients over STARTTLS (RFC 6120 3.2.1).
pub const STARTTLS_SERVICE: &str = "_xmpp-client._tcp";
/// The SRV service of XMPP clients over direct TLS (XEP-0368).
pub const DIRECT_TLS_SERVICE: &str = "_xmpps-client._tcp";
/// The port of the fall-back: the domain's own addresses, STARTTLS (RFC
/// 6120 3.2.2).
pub const CLIENT_PORT: u16 = 5222;
/// How many SRV records of a domain are tried at most, those of the
/// lowest priorities first: the weighted ordering costs the square of
/// their number, and a DNS answer may hold thousands.
pub const MAX_SRV_RECORDS: usize = 32;

/// One SRV record of a domain's client service (RFC 2782).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvRecord {
    /// Lower is tried first.
    pub priority: u16,
    /// Among records of one priority, the share of first choices.
    pub weight: u16,
    /// The port of the target.
    pub port: u16,
    /// The host; `.` says the service is not offered.
    pub target: String,
}

/// A host and port to try, and whether TLS starts with the first byte
/// there (XEP-0368) or after STARTTLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The host name (or an address literal).
    pub host: String,
    /// The port.
    pub port: u16,
    /// [`Tls::Direct`] for a `_xmpps-client` record, otherwise
    /// [`Tls::StartTls`].
    pub tls: Tls,
}

impl Endpoint {
    /// The fall-back endpoint of a domain: itself, port 5222, STARTTLS
    /// (RFC 6120 3.2.2).
    #[must_use]
    pub fn fallback(domain: &str) -> Self {
        Self {
            host: domain.to_owned(),
            port: CLIENT_PORT,
            tls: Tls::StartTls,
        }
    }
}

/// The domain's records say it offers no client service: every record
/// found has the target `.` (RFC 2782).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoService;

/// The endpoints to try for `domain`, in order, from the records of its
/// `_xmpp-client._tcp` (`starttls`) and `_xmpps-client._tcp` (`direct`)
/// services, either list empty when the lookup found none.
///
/// Records of both services are ordered together (XEP-0368): by priority,
/// lowest first, and within a priority by RFC 2782's weighted random
/// choice with `rng`. Records with the target `.` are left out. With no
/// record at all the domain itself is tried at port 5222 with STARTTLS
/// (RFC 6120 3.2.2). At most [`MAX_SRV_RECORDS`] records are used.
///
/// # Errors
///
/// [`NoService`] when records were found and every one has the target
/// `.`.
pub fn endpoints(
    domain: &str,
    starttls: &[SrvRecord],
    direct: &[SrvRecord],
    rng: &mut impl RngCore,
) -> Result<Vec<Endpoint>, NoService> {
    if starttls.is_empty() && direct.is_empty() {
        return Ok(vec![Endpoint::fallback(domain)]);
    }
    let mut records: Vec<(&SrvRecord, Tls)> = starttls
        .iter()
        .map(|r| (r, Tls::StartTls))
        .chain(direct.iter().map(|r| (r, Tls::Direct)))
        .filter(|(r, _)| host_of(&r.target).is_some())
        .collect();
    if records.is_empty() {
        return Err(NoService);
    }
    // Stable: among equal priorities the lists' order is kept, zero
    // weights are moved first below.
    records.sort_by_key(|(r, _)| r.priority);
    records.truncate(MAX_SRV_RECORDS);
    let mut ordered = Vec::with_capacity(records.len());
    for group in records.chunk_by(|a, b| a.0.priority == b.0.priority) {
        let mut group: Vec<&(&SrvRecord, Tls)> = group.iter().collect();
        group.sort_by_key(|(r, _)| r.weight != 0);
        while !group.is_empty() {
            let total: u32 = group.iter().map(|(r, _)| u32::from(r.weight)).sum();
            let pick = if total == 0 {
                0
            } else {
                rng.next_u32() % (total + 1)
            };
            let mut running = 0;
            let at = group
                .iter()
                .position(|(r, _)| {
                    running += u32::from(r.weight);
                    running >= pick
                })
                .unwrap_or(0);
            let (record, tls) = group.remove(at);
            ordered.push(Endpoint {
                host: host_of(&record.target).unwrap_or_default().to_owned(),
                port: record.port,
                tls: *tls,
            });
        }
    }
    Ok(ordered)
}

/// The host a target names, without its final dot; `None` for `.` (or
/// an empty target).
fn host_of(target: &str) -> Option<&str> {
    let host = target.strip_suffix('.').unwrap_or(target);
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generator that gives the values it was made with, then zeros.
    struct Fixed(Vec<u32>);

    impl RngCore for Fixed {
        fn next_u32(&mut self) -> u32 {
            if self.0.is_empty() {
                0
            } else {
                self.0.remove(0)
            }
        }
        fn next_u64(&mut self) -> u64 {
            u64::from(self.next_u32())
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(0);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            dest.fill(0);
            Ok(())
        }
    }

    fn srv(priority: u16, weight: u16, port: u16, target: &str) -> SrvRecord {
        SrvRecord {
            priority,
            weight,
            port,
            target: target.into(),
        }
    }

    fn hosts(endpoints: &[Endpoint]) -> Vec<(&str, u16, Tls)> {
        endpoints
            .iter()
            .map(|e| (e.host.as_str(), e.port, e.tls))
            .collect()
    }

    #[test]
    fn no_record_falls_back_to_the_domain_at_5222_with_starttls() {
        let got = endpoints("example.net", &[], &[], &mut Fixed(vec![])).unwrap();
        assert_eq!(hosts(&got), [("example.net", CLIENT_PORT, Tls::StartTls)]);
    }

    #[test]
    fn a_dot_target_everywhere_is_no_service() {
        let dot = [srv(0, 0, 0, ".")];
        assert_eq!(
            endpoints("example.net", &dot, &[], &mut Fixed(vec![])),
            Err(NoService)
        );
        assert_eq!(
            endpoints("example.net", &dot, &dot, &mut Fixed(vec![])),
            Err(NoService)
        );
        // A dot for one service, a host for the other: the host.
        let got = endpoints(
            "example.net",
            &dot,
            &[srv(0, 0, 5223, "tls.example.net.")],
            &mut Fixed(vec![]),
        )
        .unwrap();
        assert_eq!(hosts(&got), [("tls.example.net", 5223, Tls::Direct)]);
    }

    #[test]
    fn priorities_order_both_services_together() {
        let starttls = [
            srv(20, 0, 5222, "b.example.net."),
            srv(5, 0, 5222, "a.example.net."),
        ];
        let direct = [srv(10, 0, 5223, "c.example.net.")];
        let got = endpoints("example.net", &starttls, &direct, &mut Fixed(vec![])).unwrap();
        assert_eq!(
            hosts(&got),
            [
                ("a.example.net", 5222, Tls::StartTls),
                ("c.example.net", 5223, Tls::Direct),
                ("b.example.net", 5222, Tls::StartTls),
            ]
        );
    }

    /// RFC 2782: within a priority, a uniform number in [0, sum of the
    /// weights] picks the first record whose running sum reaches it, zero
    /// weights first.
    #[test]
    fn weights_choose_within_a_priority() {
        let records = [
            srv(1, 10, 1, "ten."),
            srv(1, 0, 2, "zero."),
            srv(1, 30, 3, "thirty."),
        ];
        // Running sums in order zero, ten, thirty: 0, 10, 40.
        // 11 falls to "thirty"; then (0, 10): 11 % 11 = 0 picks "zero";
        // then "ten" alone.
        let got = endpoints("d", &records, &[], &mut Fixed(vec![11, 11, 0])).unwrap();
        assert_eq!(
            got.iter().map(|e| e.host.as_str()).collect::<Vec<_>>(),
            ["thirty", "zero", "ten"]
        );
        // 0 picks the zero weight first (its running sum, 0, reaches 0).
        let got = endpoints("d", &records, &[], &mut Fixed(vec![0, 10, 0])).unwrap();
        assert_eq!(
            got.iter().map(|e| e.host.as_str()).collect::<Vec<_>>(),
            ["zero", "ten", "thirty"]
        );
    }

    /// Over many draws the first choice follows the weights.
    #[test]
    fn first_choices_follow_the_weights() {
        let records = [srv(0, 1, 1, "light."), srv(0, 3, 2, "heavy.")];
        let mut heavy = 0;
        for draw in 0..400u32 {
            let got = endpoints("d", &records, &[], &mut Fixed(vec![draw % 5])).unwrap();
            heavy += usize::from(got[0].host == "heavy");
        }
        // Draws 0..=4, uniform: 0 and 1 reach "light" (running sum 1),
        // 2, 3 and 4 "heavy".
        assert_eq!(heavy, 240);
    }

    #[test]
    fn at_most_the_lowest_priorities_are_kept() {
        let many: Vec<SrvRecord> = (0..100u16)
            .rev()
            .map(|p| srv(p, 0, p, &format!("h{p}.")))
            .collect();
        let got = endpoints("d", &many, &[], &mut Fixed(vec![])).unwrap();
        assert_eq!(got.len(), MAX_SRV_RECORDS);
        assert!(
            got.iter()
                .enumerate()
                .all(|(i, e)| usize::from(e.port) == i)
        );
    }
}
