//! Reads one XMPP stanza on standard input and prints it as JSON, with the
//! meaning of its `urn:xmpp:siot:1` element (or subscription presence)
//! under `"siot"`. Invalid input gives a one-line error on standard error
//! and exit status 1, an element of the namespace that breaks its rules
//! included; with `--lenient` that element's reading is an `"error"`
//! field instead. A claim or registration key prints as `"<redacted>"`
//! unless `--reveal` is given (then `decode | encode` gives the stanza
//! back).
//!
//! ```sh
//! echo "<iq type='get' id='q1'><pending-friend-query xmlns='urn:xmpp:siot:1'/></iq>" \
//!     | cargo run -q -p siot-proto --example decode
//! ```

use std::process::ExitCode;

use serde_json::{Value, json};
use siot_proto::payload::SiotPayload;
use siot_proto::roster::SubscriptionRequest;
use siot_proto::stanza::{Stanza, json};

fn meaning(p: &SiotPayload) -> Value {
    let items = |items: &[siot_proto::payload::FriendItem]| -> Vec<Value> {
        items
            .iter()
            .map(|i| json!({ "jid": i.jid.as_str(), "friend": i.friend }))
            .collect()
    };
    let fields = match p {
        SiotPayload::Register { key, names } => json!({
            "key": key.expose(),
            "names": names.iter().map(|n| json!({ "lang": n.lang, "text": n.text })).collect::<Vec<_>>(),
        }),
        SiotPayload::Claim { name, key } => json!({ "name": name, "key": key.expose() }),
        SiotPayload::Claimed { jid }
        | SiotPayload::Owner { jid }
        | SiotPayload::IsFriendQuery { jid } => {
            json!({ "jid": jid.as_str() })
        }
        SiotPayload::IsFriendResult { friend } => json!({ "friend": friend.as_str() }),
        SiotPayload::PendingFriendNotification | SiotPayload::PendingFriendQuery => json!({}),
        SiotPayload::PendingFriendRequests { jids } => {
            json!({ "jids": jids.iter().map(|j| j.as_str()).collect::<Vec<_>>() })
        }
        SiotPayload::FriendStateUpdate { items: i }
        | SiotPayload::FriendshipStates { items: i } => {
            json!({ "items": items(i) })
        }
    };
    json!({ p.name(): fields })
}

fn decode(input: &str) -> Result<String, String> {
    let s = Stanza::parse(input.trim(), &siot_proto::stanza_limits()).map_err(|e| e.to_string())?;
    let siot = match SiotPayload::from_stanza(&s) {
        Ok(Some(p)) => meaning(&p),
        Ok(None) => match SubscriptionRequest::of(&s) {
            Some(r) => json!({ "presence": r.as_str() }),
            None => Value::Null,
        },
        Err(e) => {
            json!({ "error": example_io::recognised_but_invalid("urn:xmpp:siot:1", &e.to_string())? })
        }
    };
    let mut out = json!({ "stanza": json::stanza_to_json(&s), "siot": siot });
    // The key a thing shows is a secret: `--reveal` prints it.
    example_io::redact(&mut out, &["key"]);
    Ok(out.to_string())
}

fn main() -> ExitCode {
    example_io::run(decode)
}
