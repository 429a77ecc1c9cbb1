//! Feeds arbitrary request URLs to the IRSP request parser of each server
//! role, and checks that whatever parses builds back to a URL that parses
//! to the same message.
#![no_main]

use irsp_proto::{Limits, Request, ServerAddress, ServerRole, ServiceRoutes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(url) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(routes) = ServiceRoutes::new("/up/user", "/up/device", "/notify", "/push", "/exchange")
    else {
        return;
    };
    let limits = Limits::default();
    for role in [
        ServerRole::Account,
        ServerRole::Message,
        ServerRole::Application,
    ] {
        let Ok(request) = Request::parse_url(url, role, &routes, &limits) else {
            continue;
        };
        let Ok(server) = "fuzz.example:443".parse::<ServerAddress>() else {
            return;
        };
        let rebuilt = request.to_url(&server, &routes);
        let again = Request::parse_url(&rebuilt, role, &routes, &limits);
        assert_eq!(again.as_ref(), Ok(&request), "{rebuilt}");
    }
});
