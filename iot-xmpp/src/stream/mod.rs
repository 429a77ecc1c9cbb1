//! The XML stream of RFC 6120 (section 4) as a client reads and writes
//! it: the incremental [`StreamReader`], and the client connection.

mod reader;

pub use reader::{STREAMS_NS, StreamHeader, StreamItem, StreamReadError, StreamReader};
