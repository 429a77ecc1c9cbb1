//! Where a client connection's login is.

use jid::FullJid;

use crate::sasl::ScramClient;

/// Where the login is.
#[derive(Debug)]
pub(super) enum Step {
    /// `start` not called yet.
    Idle,
    /// Waiting for the header and the features of a stream.
    Features,
    /// `<starttls/>` sent.
    Proceed,
    /// `<proceed/>` read: the runtime starts TLS.
    Tls,
    /// SCRAM: waiting for the server-first challenge.
    ServerFirst(Box<ScramClient>),
    /// SCRAM: client-final sent, waiting for the server-final (in a
    /// challenge or with the success).
    ServerFinal(Box<ScramClient>),
    /// SCRAM verified in a challenge; or PLAIN sent: waiting for success.
    Success,
    /// The bind request (this id) sent.
    Bind(String),
    /// The legacy session request sent, after binding to this JID.
    Session(FullJid),
    /// `<resume/>` sent for the session bound to this JID (XEP-0198).
    Resume(FullJid),
    /// Logged in.
    Online,
    /// `</stream:stream>` sent, waiting for the server's.
    Closing,
    /// Ended.
    Done,
}

/// What the login waits for at `step`, for the fault's report.
pub(super) fn expected(step: &Step) -> &'static str {
    match step {
        Step::Features => "<stream:features>",
        Step::Proceed => "<proceed/>",
        Step::ServerFirst(_) => "a SASL challenge",
        Step::ServerFinal(_) => "SASL success",
        Step::Success => "SASL success",
        Step::Bind(_) => "the bind result",
        Step::Session(_) => "the session result",
        Step::Resume(_) => "<resumed/> or <failed/>",
        Step::Idle | Step::Tls | Step::Online | Step::Closing | Step::Done => "nothing",
    }
}
