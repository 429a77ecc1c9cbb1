//! The byte trace that `XMPP_TRACE` turns on: each line names the
//! connection by its local port and the time since the first trace line
//! of the process, so that the connections of several sessions (and the
//! ones a session resumes on) can be told apart.

use std::sync::OnceLock;
use std::time::Instant;

/// Whether, and for which connection, bytes are printed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Trace {
    /// The connection's local port, when tracing.
    port: Option<u16>,
}

impl Trace {
    /// Traces the connection from local port `port` when `XMPP_TRACE` is
    /// set in the environment.
    pub(crate) fn from_env(port: Option<u16>) -> Self {
        let on = std::env::var_os("XMPP_TRACE").is_some();
        Self {
            port: on.then(|| port.unwrap_or(0)),
        }
    }

    /// Bytes written to the server.
    pub(crate) fn sent(self, bytes: &[u8]) {
        self.line("->", bytes);
    }

    /// Bytes read from the server.
    pub(crate) fn received(self, bytes: &[u8]) {
        self.line("<-", bytes);
    }

    fn line(self, direction: &str, bytes: &[u8]) {
        static START: OnceLock<Instant> = OnceLock::new();
        if let Some(port) = self.port {
            let since = START.get_or_init(Instant::now).elapsed();
            eprintln!(
                "[{:>4}.{:03} :{port}] {direction} {}",
                since.as_secs(),
                since.subsec_millis(),
                String::from_utf8_lossy(bytes)
            );
        }
    }
}
