//! Every way a request can be wrong gives its own typed error.

// Test fixtures fail loudly: a fixture that does not build is a bug.
#![allow(clippy::unwrap_used, clippy::panic, clippy::needless_pass_by_value)]

use irsp_proto::{
    AccountAuth, AdditionalParamError, AdditionalParams, Dispatcher, IdError, Limits, MessageKind,
    Request, RequestError, Secret, ServerRole, ServicePathError, ServiceRoutes, Status,
};

fn routes() -> ServiceRoutes {
    ServiceRoutes::new("/up/user", "/up/device", "/notify", "/push", "/exchange").unwrap()
}

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
    d.dispatch("GET", path, query)
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
        .dispatch("POST", "/user/register.xml", "")
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
        d.dispatch("GET", "/user/register.xml", &long),
        Err(RequestError::QueryTooLong {
            len: long.len(),
            max: 100
        })
    );
    assert_eq!(
        d.dispatch(
            "GET",
            "/user/register.xml",
            &format!("{AUTH}&name=u&password=p&x=1")
        ),
        Err(RequestError::TooManyParameters { max: 5 })
    );
    assert_eq!(
        d.dispatch(
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
