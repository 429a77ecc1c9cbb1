//! Property tests: building then parsing gives the same value for every
//! message type, with hostile parameter values; parsing never panics.

// Test fixtures fail loudly: a fixture that does not build is a bug.
#![allow(clippy::unwrap_used, clippy::panic, clippy::needless_pass_by_value)]

mod common;
use common::routes;

use irsp_proto::{
    AccountAuth, AdditionalParams, DeviceAccount, DeviceData, DeviceName, DeviceNotice,
    DeviceRemoval, Limits, MessageKind, Request, Response, Secret, ServerAddress, ServerRole,
    Status, UserAccount, UserData, UserName, UserRemoval, VerifyCodeReset,
};
use proptest::prelude::*;

/// Text full of what breaks naive query handling: `&`, `=`, `%`, `+`,
/// `#`, `?`, spaces, quotes, non-ASCII and control characters.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        "[&=%+#? a-z0-9'\"<>/\\\\]{0,24}",
        any::<String>(),
        Just("%25%26%3D+".to_owned()),
    ]
}

fn non_empty() -> impl Strategy<Value = String> {
    hostile().prop_filter("non-empty", |s| !s.is_empty())
}

fn user_name() -> impl Strategy<Value = UserName> {
    any::<String>().prop_filter_map("valid user local part", |s| UserName::new(s).ok())
}

fn device_name() -> impl Strategy<Value = DeviceName> {
    any::<String>().prop_filter_map("valid device local part", |s| {
        DeviceName::new(format!("#{s}")).ok()
    })
}

fn auth() -> impl Strategy<Value = AccountAuth> {
    (non_empty(), non_empty()).prop_map(|(appid, token)| AccountAuth {
        appid,
        token: Secret::new(token),
    })
}

fn additional() -> impl Strategy<Value = AdditionalParams> {
    proptest::collection::vec((non_empty(), hostile()), 0..5).prop_map(|pairs| {
        let mut params = AdditionalParams::new();
        for (n, v) in pairs {
            // Reserved and repeated names are refused by construction.
            let _ = params.push(n, v);
        }
        params
    })
}

fn device_account() -> impl Strategy<Value = DeviceAccount> {
    (
        auth(),
        device_name(),
        non_empty(),
        proptest::option::of(hostile()),
        proptest::option::of(hostile()),
        proptest::option::of(hostile()),
        proptest::option::of(hostile()),
        additional(),
    )
        .prop_map(
            |(auth, name, password, verifycode, device_type, vendor, model, additional)| {
                DeviceAccount {
                    auth,
                    name,
                    password: Secret::new(password),
                    verifycode: verifycode.map(Secret::new),
                    device_type,
                    vendor,
                    model,
                    additional,
                }
            },
        )
}

fn user_account() -> impl Strategy<Value = UserAccount> {
    (auth(), user_name(), non_empty()).prop_map(|(auth, name, p)| UserAccount {
        auth,
        name,
        password: Secret::new(p),
    })
}

fn user_data() -> impl Strategy<Value = UserData> {
    (user_name(), hostile()).prop_map(|(userid, data)| UserData { userid, data })
}

fn device_data() -> impl Strategy<Value = DeviceData> {
    (device_name(), hostile()).prop_map(|(deviceid, data)| DeviceData { deviceid, data })
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        user_account().prop_map(Request::RegisterUser),
        device_account().prop_map(Request::RegisterDevice),
        user_account().prop_map(Request::ModifyUser),
        device_account().prop_map(Request::ModifyDevice),
        (auth(), user_name())
            .prop_map(|(auth, name)| Request::RemoveUser(UserRemoval { auth, name })),
        (auth(), device_name())
            .prop_map(|(auth, name)| Request::RemoveDevice(DeviceRemoval { auth, name })),
        (device_name(), hostile()).prop_map(|(deviceid, code)| Request::ResetVerifyCode(
            VerifyCodeReset {
                deviceid,
                verifycode: Secret::new(code)
            }
        )),
        user_data().prop_map(Request::UserUpload),
        device_data().prop_map(Request::DeviceUpload),
        device_name().prop_map(|deviceid| Request::DeviceOnline(DeviceNotice { deviceid })),
        device_name().prop_map(|deviceid| Request::DeviceOffline(DeviceNotice { deviceid })),
        user_data().prop_map(Request::PushToUser),
        device_data().prop_map(Request::PushToDevice),
        user_data().prop_map(Request::ExchangeUser),
        device_data().prop_map(Request::ExchangeDevice),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn url_round_trip(request in request(), plus_as_space in any::<bool>()) {
        let server: ServerAddress = "ms.example.org:8443".parse().unwrap();
        let url = request.to_url(&server, &routes());
        let limits = Limits { plus_as_space, ..Limits::default() };
        let parsed = Request::parse_url(&url, request.kind().receiver(), &routes(), &limits);
        prop_assert_eq!(parsed, Ok(request));
    }

    #[test]
    fn json_round_trip(request in request()) {
        // Secrets serialize redacted, so the JSON never carries them ...
        let json = serde_json::to_string(&request).unwrap();
        let has_secret = matches!(request.kind().number(), 1..=7);
        prop_assert_eq!(json.contains("<redacted>"), has_secret);
        // ... and a redacted document is refused rather than turned into a
        // request with the placeholder as its token.
        match serde_json::from_str::<Request>(&json) {
            Ok(parsed) => prop_assert_eq!((parsed, has_secret), (request, false)),
            Err(_) => prop_assert!(has_secret),
        }
    }

    #[test]
    fn response_round_trip(kind in proptest::sample::select(MessageKind::ALL.to_vec()),
                           status in proptest::sample::select(Status::ALL.to_vec())) {
        match Response::new(kind, status) {
            Ok(response) => {
                let parsed = Response::parse(kind, response.status_code(), response.body().as_bytes(), &Limits::default());
                prop_assert_eq!(parsed, Ok(response));
            }
            Err(_) => prop_assert!(!kind.allowed_statuses().contains(&status)),
        }
    }

    #[test]
    fn parsing_arbitrary_queries_never_panics(path in "/[a-z/.A-Z]{0,20}", query in any::<String>()) {
        for role in [ServerRole::Account, ServerRole::Message, ServerRole::Application] {
            let _ = Request::parse(role, &path, &query, &routes(), &Limits::default());
        }
    }

    #[test]
    fn parsing_arbitrary_bodies_never_panics(code in any::<u16>(), body in any::<Vec<u8>>()) {
        for kind in MessageKind::ALL {
            let _ = Response::parse(kind, code, &body, &Limits::default());
        }
    }
}
