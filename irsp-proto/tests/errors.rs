//! Every way a request can be wrong gives its own typed error.

// Test fixtures fail loudly: a fixture that does not build is a bug.
#![allow(clippy::unwrap_used, clippy::panic, clippy::needless_pass_by_value)]

mod common;
use common::routes;

use irsp_proto::{
    AccountAuth, AdditionalParamError, AdditionalParams, Dispatcher, IdError, Limits, MessageKind,
    Peer, Request, RequestError, Secret, SenderPolicy, ServerRole, ServicePathError, ServiceRoutes,
    Status,
};

fn message_server() -> Dispatcher {
    Dispatcher::new(ServerRole::Message, routes()).accept_account_server(AccountAuth {
        appid: "as01".into(),
        token: Secret::new("tk01"),
    })
}

fn dispatch(role: ServerRole, path: &str, query: &str) -> Result<Request, RequestError> {
    let d = if role == ServerRole::Message {
        message_server()
    } else {
        Dispatcher::new(role, routes())
    };
    // Parsing is what these tests check: the peer sends every message.
    d.with_sender_policy(SenderPolicy::Decide(|_, _| true))
        .dispatch(&Peer::unknown("test"), "GET", path, query)
}

const AUTH: &str = "version=1&appid=as01&token=tk01";

fn register_user(extra: &str) -> Result<Request, RequestError> {
    dispatch(
        ServerRole::Message,
        "/user/register.xml",
        &format!("{AUTH}{extra}"),
    )
}

#[test]
fn the_valid_request_these_tests_break() {
    assert!(register_user("&name=u&password=p").is_ok());
}

#[test]
fn method() {
    let e = message_server()
        .dispatch(
            &Peer::server(ServerRole::Account, "as"),
            "POST",
            "/user/register.xml",
            "",
        )
        .unwrap_err();
    assert_eq!(
        e,
        RequestError::Method {
            method: "POST".into()
        }
    );
    assert_eq!(e.http_status(), 405);
    assert_eq!(e.response(), None);
}

#[test]
fn url_shape() {
    let r = routes();
    let l = Limits::default();
    let parse = |url: &str| Request::parse_url(url, ServerRole::Message, &r, &l);
    for (url, reason) in [
        ("http://a.b:1/user/remove", "scheme is not https"),
        ("https://a.b:1", "no path after the server address"),
        (
            "https://a.b/user/remove",
            "server address is not domain:port",
        ),
        (
            "https://a.b:1/user/remove?name=u#frag",
            "a request URL has no fragment",
        ),
    ] {
        assert_eq!(parse(url), Err(RequestError::Url { reason }), "{url}");
    }
}

#[test]
fn unknown_path_and_wrong_receiver() {
    let e = dispatch(ServerRole::Message, "/user/register", "").unwrap_err();
    assert_eq!(
        e,
        RequestError::UnknownPath {
            path: "/user/register".into()
        }
    );
    assert_eq!(e.http_status(), 404);
    // The printed paths are exact: no `.xml` on device registration.
    assert!(matches!(
        dispatch(ServerRole::Message, "/device/register.xml", ""),
        Err(RequestError::UnknownPath { .. })
    ));
    assert_eq!(
        dispatch(ServerRole::Application, "/user/register.xml", AUTH),
        Err(RequestError::WrongReceiver {
            message: MessageKind::RegisterUser,
            role: ServerRole::Application
        })
    );
    assert_eq!(
        dispatch(ServerRole::Message, "/modifyVerifyCode.xml", ""),
        Err(RequestError::WrongReceiver {
            message: MessageKind::ResetVerifyCode,
            role: ServerRole::Message
        })
    );
    assert_eq!(
        dispatch(ServerRole::ExternalApplication, "/push", ""),
        Err(RequestError::WrongReceiver {
            message: MessageKind::PushToUser,
            role: ServerRole::ExternalApplication
        })
    );
}

#[test]
fn limits() {
    let small = Limits {
        max_query_len: 100,
        max_params: 5,
        max_value_len: 8,
        ..Limits::default()
    };
    let d = message_server().with_limits(small);
    let long = format!("{AUTH}&name=u&password={}", "p".repeat(100));
    assert_eq!(
        d.dispatch(
            &Peer::server(ServerRole::Account, "as"),
            "GET",
            "/user/register.xml",
            &long
        ),
        Err(RequestError::QueryTooLong {
            len: long.len(),
            max: 100
        })
    );
    assert_eq!(
        d.dispatch(
            &Peer::server(ServerRole::Account, "as"),
            "GET",
            "/user/register.xml",
            &format!("{AUTH}&name=u&password=p&x=1")
        ),
        Err(RequestError::TooManyParameters { max: 5 })
    );
    assert_eq!(
        d.dispatch(
            &Peer::server(ServerRole::Account, "as"),
            "GET",
            "/user/register.xml",
            &format!("{AUTH}&name=u&password=123456789")
        ),
        Err(RequestError::ValueTooLong {
            name: "password".into(),
            len: 9,
            max: 8
        })
    );
}

#[test]
fn encoding() {
    assert_eq!(
        register_user("&name=u&password=a b"),
        Err(RequestError::InvalidCharacter {
            offset: 49,
            byte: b' '
        })
    );
    assert_eq!(
        register_user("&name=u&password=%G1"),
        Err(RequestError::BadPercentEncoding { offset: 48 })
    );
    assert_eq!(
        register_user("&name=u&password=%C3%28"),
        Err(RequestError::NotUtf8 {
            name: "password".into()
        })
    );
    assert_eq!(
        register_user("&name=u&&password=p"),
        Err(RequestError::MalformedParameter { offset: 39 })
    );
}

#[test]
fn parameters() {
    assert_eq!(
        register_user("&name=u&password=p&name=v"),
        Err(RequestError::DuplicateParameter {
            name: "name".into()
        })
    );
    assert_eq!(
        register_user("&name=u&password=p&type=tv"),
        Err(RequestError::UnknownParameter {
            message: MessageKind::RegisterUser,
            name: "type".into()
        })
    );
    assert_eq!(
        register_user("&name=u"),
        Err(RequestError::MissingParameter {
            message: MessageKind::RegisterUser,
            name: "password"
        })
    );
    assert_eq!(
        register_user("&name=u&password="),
        Err(RequestError::EmptyParameter {
            message: MessageKind::RegisterUser,
            name: "password"
        })
    );
    assert_eq!(
        dispatch(
            ServerRole::Message,
            "/user/remove",
            "appid=as01&token=tk01&name=u"
        ),
        Err(RequestError::MissingParameter {
            message: MessageKind::RemoveUser,
            name: "version"
        })
    );
    assert_eq!(
        dispatch(
            ServerRole::Message,
            "/user/remove",
            "version=2&appid=as01&token=tk01&name=u"
        ),
        Err(RequestError::Version { found: "2".into() })
    );
    assert_eq!(
        register_user("&name=%23dev&password=p"),
        Err(RequestError::InvalidId {
            name: "name",
            reason: IdError::UserStartsWithHash
        })
    );
    assert_eq!(
        dispatch(
            ServerRole::Message,
            "/device/remove",
            "version=1&appid=as01&token=tk01&name=dev"
        ),
        Err(RequestError::InvalidId {
            name: "name",
            reason: IdError::DeviceWithoutHash
        })
    );
    // Message 7 has no version, appid or token.
    assert_eq!(
        dispatch(
            ServerRole::Account,
            "/modifyVerifyCode.xml",
            "version=1&deviceid=%23d&verifycode="
        ),
        Err(RequestError::UnknownParameter {
            message: MessageKind::ResetVerifyCode,
            name: "version".into()
        })
    );
}

#[test]
fn notification_type_and_addressee() {
    assert_eq!(
        dispatch(
            ServerRole::Application,
            "/notify",
            "deviceid=%23d&type=asleep"
        ),
        Err(RequestError::NotificationType {
            found: "asleep".into()
        })
    );
    assert_eq!(
        dispatch(
            ServerRole::Message,
            "/push",
            "userid=u&deviceid=%23d&data=x"
        ),
        Err(RequestError::Addressee {
            path: "/push".into()
        })
    );
    assert_eq!(
        dispatch(ServerRole::Application, "/exchange", "data=x"),
        Err(RequestError::Addressee {
            path: "/exchange".into()
        })
    );
    assert_eq!(
        dispatch(ServerRole::Message, "/push", "userid=u"),
        Err(RequestError::MissingParameter {
            message: MessageKind::PushToUser,
            name: "data"
        })
    );
}

#[test]
fn unauthenticated() {
    for query in [
        "version=1&appid=as01&token=wrong&name=u&password=p",
        "version=1&appid=other&token=tk01&name=u&password=p",
    ] {
        let e = dispatch(ServerRole::Message, "/user/register.xml", query).unwrap_err();
        assert_eq!(e, RequestError::Unauthenticated);
        assert_eq!(e.http_status(), 400);
        assert_eq!(e.response(), Some(Status::BadRequest));
    }
    // With no account server registered, none is accepted.
    let open = Dispatcher::new(ServerRole::Message, routes());
    assert_eq!(
        open.dispatch(
            &Peer::server(ServerRole::Account, "as"),
            "GET",
            "/user/remove",
            "version=1&appid=as01&token=tk01&name=u"
        ),
        Err(RequestError::Unauthenticated)
    );
}

#[test]
fn route_configuration() {
    assert!(matches!(
        ServiceRoutes::new("up", "/d", "/n", "/p", "/x"),
        Err(ServicePathError::Invalid { .. })
    ));
    assert!(matches!(
        ServiceRoutes::new("/u?x", "/d", "/n", "/p", "/x"),
        Err(ServicePathError::Invalid { .. })
    ));
    assert_eq!(
        ServiceRoutes::new("/same", "/d", "/n", "/p", "/same"),
        Err(ServicePathError::Conflict {
            role: ServerRole::Application,
            path: "/same".into(),
            first: MessageKind::UserUpload,
            second: MessageKind::ExchangeUser
        })
    );
    assert_eq!(
        ServiceRoutes::new("/u", "/d", "/n", "/user/modify", "/x"),
        Err(ServicePathError::Conflict {
            role: ServerRole::Message,
            path: "/user/modify".into(),
            first: MessageKind::ModifyUser,
            second: MessageKind::PushToUser
        })
    );
    // Different servers may use the same path.
    assert!(ServiceRoutes::new("/u", "/d", "/n", "/svc", "/svc").is_ok());
}

#[test]
fn additional_parameters() {
    let mut p = AdditionalParams::new();
    assert_eq!(p.push("", "x"), Err(AdditionalParamError::EmptyName));
    assert_eq!(
        p.push("model", "x"),
        Err(AdditionalParamError::Reserved("model".into()))
    );
    p.push("a", "1").unwrap();
    assert_eq!(
        p.push("a", "2"),
        Err(AdditionalParamError::Duplicate("a".into()))
    );
    assert!(serde_json::from_str::<AdditionalParams>(r#"[["token","x"]]"#).is_err());
}

#[test]
fn message_7_from_a_peer_that_is_not_a_message_server_is_refused() {
    let account = Dispatcher::new(ServerRole::Account, routes());
    let query = "deviceid=%23igrsdevice&verifycode=654321";
    // The message server that 8.2.4 names as its sender is served.
    let ok = account.dispatch(
        &Peer::server(ServerRole::Message, "ms1.igrs.com"),
        "GET",
        "/modifyVerifyCode.xml",
        query,
    );
    assert!(matches!(ok, Ok(Request::ResetVerifyCode(_))), "{ok:?}");
    // Anyone else, or anyone unauthenticated, is refused with 403 and no
    // IRSP body.
    for peer in [
        Peer::unknown("203.0.113.7"),
        Peer::server(ServerRole::Application, "app.igrs.com"),
        Peer::server(ServerRole::Account, "as.igrs.com"),
        Peer::server(ServerRole::ExternalApplication, "third.example"),
    ] {
        let e = account
            .dispatch(&peer, "GET", "/modifyVerifyCode.xml", query)
            .unwrap_err();
        assert_eq!(
            e,
            RequestError::Forbidden {
                message: MessageKind::ResetVerifyCode,
                peer: peer.role
            }
        );
        assert_eq!((e.http_status(), e.response()), (403, None));
    }
}

#[test]
fn each_role_sends_only_its_messages() {
    // An application server accepts uploads and notices only from message
    // servers (8.3.1, 8.3.2) and exchanges only from application servers.
    let app = Dispatcher::new(ServerRole::Application, routes());
    let upload = ("/upload/device", "deviceid=%23d1&data=x");
    let notice = ("/notify", "deviceid=%23d1&type=online");
    for (path, query) in [upload, notice] {
        assert!(
            app.dispatch(&Peer::server(ServerRole::Message, "ms"), "GET", path, query)
                .is_ok()
        );
        for wrong in [ServerRole::Account, ServerRole::Application] {
            assert!(matches!(
                app.dispatch(&Peer::server(wrong, "x"), "GET", path, query),
                Err(RequestError::Forbidden { .. })
            ));
        }
        assert!(matches!(
            app.dispatch(&Peer::unknown("anyone"), "GET", path, query),
            Err(RequestError::Forbidden { peer: None, .. })
        ));
    }
    // A message server takes Message 1 only from the account server,
    // whatever credentials the query carries.
    let ms = message_server();
    let register = "version=1&appid=as01&token=tk01&name=u&password=p";
    assert!(
        ms.dispatch(
            &Peer::server(ServerRole::Account, "as"),
            "GET",
            "/user/register.xml",
            register
        )
        .is_ok()
    );
    assert!(matches!(
        ms.dispatch(
            &Peer::server(ServerRole::Application, "app"),
            "GET",
            "/user/register.xml",
            register
        ),
        Err(RequestError::Forbidden {
            message: MessageKind::RegisterUser,
            ..
        })
    ));
    // A policy of the caller's.
    let lenient = Dispatcher::new(ServerRole::Application, routes()).with_sender_policy(
        SenderPolicy::Decide(|_, peer| peer.name.ends_with(".igrs.com")),
    );
    assert!(
        lenient
            .dispatch(&Peer::unknown("ms9.igrs.com"), "GET", upload.0, upload.1)
            .is_ok()
    );
    assert!(
        lenient
            .dispatch(&Peer::unknown("evil.example"), "GET", upload.0, upload.1)
            .is_err()
    );
}

/// A peer's CR and LF never reach an error text raw: a parameter named
/// `x\r\nSet-Cookie: ...` would start a header or a log line of its own.
#[test]
fn error_texts_escape_control_characters() {
    use irsp_proto::ResponseError;
    let injected = "x\r\nSet-Cookie: a=b";
    let errors: Vec<String> = vec![
        RequestError::Method {
            method: injected.into(),
        }
        .to_string(),
        RequestError::UnknownPath {
            path: injected.into(),
        }
        .to_string(),
        RequestError::Version {
            found: injected.into(),
        }
        .to_string(),
        RequestError::NotificationType {
            found: injected.into(),
        }
        .to_string(),
        RequestError::Addressee {
            path: injected.into(),
        }
        .to_string(),
        ResponseError::MalformedBody {
            reason: injected.into(),
        }
        .to_string(),
        ResponseError::CodeMismatch {
            status: 400,
            body: injected.into(),
        }
        .to_string(),
        ResponseError::Detail {
            code: 400,
            detail: injected.into(),
        }
        .to_string(),
    ];
    for text in errors {
        assert!(!text.chars().any(char::is_control), "{text:?}");
        assert!(text.contains(r"x\u{d}\u{a}Set-Cookie: a=b"), "{text}");
    }
    // Through the parser: a parameter name with CR LF given twice.
    let url = "https://ms.igrs.com:443/user/remove?version=1&appid=a&token=t&name=u&x%0D%0ASet-Cookie=1&x%0D%0ASet-Cookie=2";
    let err =
        Request::parse_url(url, ServerRole::Message, &routes(), &Limits::default()).unwrap_err();
    assert!(matches!(&err, RequestError::DuplicateParameter { name } if name.contains('\r')));
    let err = err.to_string();
    assert!(!err.chars().any(char::is_control), "{err:?}");
}
