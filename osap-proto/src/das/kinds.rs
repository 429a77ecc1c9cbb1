//! What a DAS session is configured with.

use core::time::Duration;

use crate::decoder::DEFAULT_MAX_FRAME_LEN;
#[cfg(doc)]
use crate::records::KeyRecord;

/// How a DAS treats device connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DasSessionConfig {
    /// How long a new connection may stay silent before its CONNECT
    /// (default 10 s).
    pub connect_timeout: Duration,
    /// The longest keep-alive accepted, in seconds (default 300); a longer
    /// one is refused with return code 5 (not authorized).
    pub max_keep_alive: u16,
    /// Whether a keep-alive of 0 (no heartbeat) is accepted (default
    /// `false`: a device must keep its heartbeat, section 7).
    pub allow_no_keep_alive: bool,
    /// How long an attribute read or set waits for its answer (default
    /// 10 s); an operation call waits its own `timeout_ms`.
    pub request_timeout: Duration,
    /// The longest frame accepted (default 64 KiB); also the most bytes a
    /// device may send after its CONNECT while the DAS waits for its
    /// store.
    pub max_frame_len: usize,
    /// How long the DAS waits for its store to answer a request (default
    /// 5 s); then it answers CONNACK 3 (server unavailable).
    pub store_timeout: Duration,
    /// How many times the write that accepts a counter may find the record
    /// changed under it (another DAS or the LBS wrote it) before the DAS
    /// answers CONNACK 3 (default 3); each time it reads the record again
    /// and checks the registration anew.
    pub max_conflicts: u8,
    /// This DAS node's number in the deployment, written into the device's
    /// [`KeyRecord::node`] while its session is live here (default `None`:
    /// not written, for a DAS alone).
    pub node: Option<u64>,
}

impl Default for DasSessionConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            max_keep_alive: 300,
            allow_no_keep_alive: false,
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            store_timeout: Duration::from_secs(5),
            max_conflicts: 3,
            node: None,
        }
    }
}
