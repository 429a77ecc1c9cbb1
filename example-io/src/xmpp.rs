//! The XMPP servers the workspace's interoperability tests and examples
//! run against, as `.ci/prosody` and `.ci/ejabberd` start them on
//! loopback, and how to reach them with `iot-xmpp-net`.

use std::net::TcpStream;
use std::time::Duration;

use iot_xmpp_net::{Connector, NetError, Roots};

/// The servers: name and address.
pub const TEST_SERVERS: [(&str, &str); 2] = [
    ("Prosody", "127.0.0.1:15222"),
    ("ejabberd", "127.0.0.1:15223"),
];

/// The test servers that answer. Outside CI, a missing one is skipped
/// with a message on standard error; under `CI=true` it panics, so that
/// CI never skips an interoperability test.
///
/// # Panics
///
/// Under `CI=true`, when a server does not listen.
#[must_use]
pub fn test_servers() -> Vec<(&'static str, &'static str)> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    TEST_SERVERS
        .into_iter()
        .filter(|(name, addr)| {
            let up = TcpStream::connect(addr).is_ok();
            let start = format!("`bash .ci/{}` starts it", name.to_lowercase());
            assert!(up || !ci, "{name} does not listen on {addr}: {start}");
            if !up {
                eprintln!("skipping {name}: nothing listens on {addr} ({start})");
            }
            up
        })
        .collect()
}

/// The certificate of the test servers, the one `.ci/xmpp-cert` made in
/// `$XMPP_CERT_DIR` (default `/tmp/xmpp-cert`).
#[must_use]
pub fn test_roots() -> Roots {
    let dir = std::env::var("XMPP_CERT_DIR").unwrap_or_else(|_| "/tmp/xmpp-cert".into());
    Roots::PemFile(format!("{dir}/localhost.crt").into())
}

/// A connector to the test server at `addr`, trusting its certificate
/// (made for `localhost`, the accounts' domain), a login taking up to
/// 10 s.
///
/// # Errors
///
/// [`NetError::Certificate`], naming the file, when the certificate is
/// not there (`bash .ci/xmpp-cert` makes it).
pub fn test_connector(addr: &str) -> Result<Connector, NetError> {
    Ok(Connector::new(&test_roots())?
        .address(addr)
        .wait(Duration::from_secs(10)))
}

/// The `--server ADDR` argument of the workspace's XMPP examples (default
/// `127.0.0.1:15222`, the Prosody of `.ci/prosody`).
#[must_use]
pub fn server_arg() -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--server")
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| TEST_SERVERS[0].1.into())
}
