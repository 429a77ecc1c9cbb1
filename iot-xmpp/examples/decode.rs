//! Reads one XMPP stanza on standard input and prints it as JSON, a
//! roster query (RFC 6121) explained under `"roster"`. Invalid input gives
//! a one-line error on standard error and exit status 1, a roster query
//! that breaks RFC 6121's rules included; with `--lenient` that query's
//! reading is an `"error"` field instead.
//!
//! ```sh
//! echo "<message to='a@b.org'><body>hi</body></message>" | cargo run -q -p iot-xmpp --features json --example decode
//! ```

use std::process::ExitCode;

use iot_xmpp::roster::{RosterEntry, RosterQuery};
use iot_xmpp::{Stanza, StanzaLimits, json};
use serde_json::json;

fn main() -> ExitCode {
    example_io::run(|input| {
        let s = Stanza::parse(input.trim(), &StanzaLimits::default()).map_err(|e| e.to_string())?;
        let mut out = json::stanza_to_json(&s);
        match RosterQuery::of(&s) {
            Ok(None) => {}
            Ok(Some(query)) => {
                let items: Vec<_> = query
                    .entries
                    .iter()
                    .map(|e| match e {
                        RosterEntry::Item(i) => json!({
                            "jid": i.jid.as_str(),
                            "name": i.name,
                            "subscription": i.subscription.as_str(),
                            "pending_out": i.pending_out,
                            "groups": i.groups,
                        }),
                        RosterEntry::Removed(jid) => {
                            json!({ "jid": jid.as_str(), "removed": true })
                        }
                    })
                    .collect();
                out["roster"] = json!({ "ver": query.ver, "items": items });
            }
            Err(e) => {
                out["roster"] = json!({ "error": example_io::recognised_but_invalid("jabber:iq:roster", &e.to_string())? });
            }
        }
        Ok(out.to_string())
    })
}
