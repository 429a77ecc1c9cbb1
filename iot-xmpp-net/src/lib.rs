#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![allow(clippy::print_stderr)]

#[cfg(feature = "tokio")]
pub mod asynch;
mod blocking;
mod connector;
#[cfg(feature = "dns")]
pub mod dns;
mod error;
mod resilient;
pub mod route;
mod session;
mod tls;
mod trace;

pub use blocking::Transport;
pub use connector::Connector;
pub use error::NetError;
pub use resilient::{Resilience, ResilientSession};
pub use session::Session;
pub use tls::{Roots, server_end_point};

/// What a read gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// This many bytes.
    Data(usize),
    /// The peer closed the transport.
    Closed,
    /// Nothing before the wait ended.
    Timeout,
}
