//! The XML stream of RFC 6120 (section 4) as a client reads and writes
//! it: the incremental [`StreamReader`], and the client connection.

mod client;
mod config;
mod core;
mod document;
mod error;
mod header;
mod reader;
mod sm;
mod step;
mod wire;

pub use client::Client;
pub use config::{
    ClientConfig, ClientEnd, ClientError, ClientEvent, ClientFault, ClientRefusal, Tls,
};
pub use core::ClientCore;
pub use document::DocumentEnd;
pub use error::StreamReadError;
pub use header::StreamHeader;
pub use reader::{StreamItem, StreamReader};
pub use sm::{Resumption, SM_NS, StreamManagement};
