//! The sans-IO Remote Access Endpoint: CRUDN messages (section 7.3.1)
//! carried over XEP-0047 In-Band Bytestream sessions, with request/response
//! correlation, Observe and per-request timeouts.
//!
//! The endpoint is a [`Machine`](crate::Machine) of the family: the runtime's XMPP client
//! hands every received stanza to [`Machine::handle_input`](crate::Machine::handle_input) (or the text to
//! [`StanzaMachine::handle_stanza`](crate::StanzaMachine::handle_stanza)), and [`Input::PeerClosed`](crate::Input::PeerClosed) when the
//! connection ends; it sends what [`Machine::poll_transmit`](crate::Machine::poll_transmit) gives, reads
//! [`Machine::poll_event`](crate::Machine::poll_event), and calls [`Machine::handle_timeout`](crate::Machine::handle_timeout) when
//! [`Machine::poll_timeout`](crate::Machine::poll_timeout) is due. The same endpoint can be an RAE client
//! and an RAE server at once. An unavailable presence from a peer ends its
//! exchanges (section 7.3, Table 4).
//!
//! The endpoint is the CRUDN exchange (requests, correlation, observe,
//! deadlines) over the In-Band Bytestream transport of
//! [`crate::transport`].
//!
//! # The rules of this crate (recorded in `PROFILE.md`)
//!
//! * **One exchange per session.** A client opens a new IBB session (a
//!   fresh random `sid`) for each request, sends the request on it, and
//!   the server answers on the same session (IBB is bidirectional). The
//!   client closes the session when the response has come, so the `sid`
//!   is the correlation token and the `<rest>` payload needs no extra
//!   header.
//! * **Observe.** A `GET` with the header `Observe: 0` registers (the CoAP
//!   option of RFC 7641 written as a header, as 7.3.1 calls Observe an
//!   extended Retrieve). If the first response is a success (2xx), the
//!   session stays open and every later RESPONSE on it is a notification;
//!   the client deregisters by closing the session.
//! * **Message boundary.** A message starts at a new block; every block of
//!   it but the last has exactly the session's block size, and the last
//!   holds the rest (never nothing: a plain XEP-0047 peer refuses an empty
//!   block). A received message is whole at a shorter block, or when its
//!   document's root element closes (found as the blocks arrive, in linear
//!   time). A message that fits in one block is therefore one stanza, as
//!   7.3.1 puts it.
//! * **What a message is.** The bytes of a message are the UTF-8 `<rest>`
//!   document; IBB's own base64 is the base64 7.3.1 asks for. A message
//!   whose bytes do not start with `<` is read as base64 of the document,
//!   for peers that encode twice.
//! * **Errors** follow XEP-0047: a data block for an unknown session gets
//!   `item-not-found`; a missing, duplicated or out-of-order `seq` gets
//!   `unexpected-request` and the session is closed; a block larger than
//!   the session's block size gets `not-acceptable` and the session is
//!   closed; an `<open/>` that asks for `iq` data stanzas, a block size
//!   above the configured maximum or a `sid` in use is refused.

mod config;
mod event;
mod exchange;
mod machine;

pub use config::EndpointConfig;
pub use event::{EndpointEnd, EndpointError, EndpointEvent, Failure, RequestId};
pub(crate) use exchange::Exchanges;
pub use exchange::is_observe;
pub use machine::Endpoint;
