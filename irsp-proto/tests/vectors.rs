//! Test vectors: every message of clause 8 (Messages 1 to 15) and every row
//! of Tables 1 to 7, in both directions.
//!
//! The printed messages have placeholders ("message server address",
//! "local part of user ID", ...); they are filled in with the examples of
//! clause 3.1 (`www.igrslab.com:8080`, `igrsuser`, `#igrsdevice`) and
//! plain values, and the parameter names, order and paths are as printed.

// Test fixtures fail loudly: a fixture that does not build is a bug.
#![allow(clippy::unwrap_used, clippy::panic, clippy::needless_pass_by_value)]

mod common;
use common::routes;

use irsp_proto::{
    AccountAuth, AdditionalParams, DeviceAccount, DeviceData, DeviceName, DeviceNotice,
    DeviceRemoval, Limits, MessageKind, Request, Response, Secret, ServerAddress, ServerRole,
    Status, UserAccount, UserData, UserName, UserRemoval, VerifyCodeReset,
};

const SERVER: &str = "www.igrslab.com:8080";

fn auth() -> AccountAuth {
    AccountAuth {
        appid: "as01".into(),
        token: Secret::new("tk01"),
    }
}

fn user() -> UserName {
    UserName::new("igrsuser").unwrap()
}

fn device() -> DeviceName {
    DeviceName::new("#igrsdevice").unwrap()
}

/// Builds `request` and checks the exact URL; parses the URL at the
/// receiver and checks the value.
fn vector(request: Request, url: &str) {
    let server: ServerAddress = SERVER.parse().unwrap();
    let kind = request.kind();
    assert_eq!(
        request.to_url(&server, &routes()),
        url,
        "building Message {kind}"
    );
    let parsed = Request::parse_url(url, kind.receiver(), &routes(), &Limits::default())
        .unwrap_or_else(|e| panic!("parsing Message {kind}: {e}"));
    assert_eq!(parsed, request, "parsing Message {kind}");
    assert_eq!(parsed.kind(), kind);
}

fn device_account(optional: bool) -> DeviceAccount {
    DeviceAccount {
        auth: auth(),
        name: device(),
        password: Secret::new("devpass"),
        verifycode: optional.then(|| Secret::new("123456")),
        device_type: optional.then(|| "tv".into()),
        vendor: optional.then(|| "igrs".into()),
        model: optional.then(|| "m1".into()),
        additional: AdditionalParams::new(),
    }
}

#[test]
fn message_1_register_user() {
    vector(
        Request::RegisterUser(UserAccount {
            auth: auth(),
            name: user(),
            password: Secret::new("userpass"),
        }),
        "https://www.igrslab.com:8080/user/register.xml?version=1&appid=as01&token=tk01&name=igrsuser&password=userpass",
    );
}

#[test]
fn message_2_register_device() {
    vector(
        Request::RegisterDevice(device_account(true)),
        "https://www.igrslab.com:8080/device/register?version=1&appid=as01&token=tk01&name=%23igrsdevice&password=devpass&verifycode=123456&type=tv&vendor=igrs&model=m1",
    );
    // verifycode, type, vendor and model are optional.
    vector(
        Request::RegisterDevice(device_account(false)),
        "https://www.igrslab.com:8080/device/register?version=1&appid=as01&token=tk01&name=%23igrsdevice&password=devpass",
    );
}

#[test]
fn message_2_keeps_additional_parameters_in_order() {
    let mut m = device_account(true);
    m.additional.push("zeta", "1").unwrap();
    m.additional.push("alpha", "a&b").unwrap();
    m.additional.push("mid", "").unwrap();
    vector(
        Request::RegisterDevice(m),
        "https://www.igrslab.com:8080/device/register?version=1&appid=as01&token=tk01&name=%23igrsdevice&password=devpass&verifycode=123456&type=tv&vendor=igrs&model=m1&zeta=1&alpha=a%26b&mid=",
    );
}

#[test]
fn message_3_modify_user() {
    vector(
        Request::ModifyUser(UserAccount {
            auth: auth(),
            name: user(),
            password: Secret::new("newpass"),
        }),
        "https://www.igrslab.com:8080/user/modify?version=1&appid=as01&token=tk01&name=igrsuser&password=newpass",
    );
}

#[test]
fn message_4_modify_device() {
    let mut m = device_account(true);
    m.additional.push("location", "living room").unwrap();
    vector(
        Request::ModifyDevice(m),
        "https://www.igrslab.com:8080/device/modify?version=1&appid=as01&token=tk01&name=%23igrsdevice&password=devpass&verifycode=123456&type=tv&vendor=igrs&model=m1&location=living%20room",
    );
}

#[test]
fn message_5_remove_user() {
    vector(
        Request::RemoveUser(UserRemoval {
            auth: auth(),
            name: user(),
        }),
        "https://www.igrslab.com:8080/user/remove?version=1&appid=as01&token=tk01&name=igrsuser",
    );
}

#[test]
fn message_6_remove_device() {
    vector(
        Request::RemoveDevice(DeviceRemoval {
            auth: auth(),
            name: device(),
        }),
        "https://www.igrslab.com:8080/device/remove?version=1&appid=as01&token=tk01&name=%23igrsdevice",
    );
}

#[test]
fn message_7_reset_verify_code() {
    vector(
        Request::ResetVerifyCode(VerifyCodeReset {
            deviceid: device(),
            verifycode: Secret::new("654321"),
        }),
        "https://www.igrslab.com:8080/modifyVerifyCode.xml?deviceid=%23igrsdevice&verifycode=654321",
    );
    // "new device verification code or empty"
    vector(
        Request::ResetVerifyCode(VerifyCodeReset {
            deviceid: device(),
            verifycode: Secret::new(""),
        }),
        "https://www.igrslab.com:8080/modifyVerifyCode.xml?deviceid=%23igrsdevice&verifycode=",
    );
}

fn user_data() -> UserData {
    UserData {
        userid: user(),
        data: "subscribe news".into(),
    }
}

fn device_data() -> DeviceData {
    DeviceData {
        deviceid: device(),
        data: "alarm=smoke".into(),
    }
}

#[test]
fn messages_8_and_9_upload() {
    vector(
        Request::UserUpload(user_data()),
        "https://www.igrslab.com:8080/upload/user?userid=igrsuser&data=subscribe%20news",
    );
    vector(
        Request::DeviceUpload(device_data()),
        "https://www.igrslab.com:8080/upload/device?deviceid=%23igrsdevice&data=alarm%3Dsmoke",
    );
}

#[test]
fn messages_10_and_11_online_offline() {
    vector(
        Request::DeviceOnline(DeviceNotice { deviceid: device() }),
        "https://www.igrslab.com:8080/notify?deviceid=%23igrsdevice&type=online",
    );
    vector(
        Request::DeviceOffline(DeviceNotice { deviceid: device() }),
        "https://www.igrslab.com:8080/notify?deviceid=%23igrsdevice&type=offline",
    );
}

#[test]
fn messages_12_and_13_push() {
    vector(
        Request::PushToUser(user_data()),
        "https://www.igrslab.com:8080/push?userid=igrsuser&data=subscribe%20news",
    );
    vector(
        Request::PushToDevice(device_data()),
        "https://www.igrslab.com:8080/push?deviceid=%23igrsdevice&data=alarm%3Dsmoke",
    );
}

#[test]
fn messages_14_and_15_exchange() {
    vector(
        Request::ExchangeUser(user_data()),
        "https://www.igrslab.com:8080/exchange?userid=igrsuser&data=subscribe%20news",
    );
    vector(
        Request::ExchangeDevice(device_data()),
        "https://www.igrslab.com:8080/exchange?deviceid=%23igrsdevice&data=alarm%3Dsmoke",
    );
}

#[test]
fn senders_and_receivers_are_those_of_clause_8() {
    use MessageKind as K;
    use ServerRole as R;
    let expected = [
        (K::RegisterUser, R::Account, R::Message, 1),
        (K::RegisterDevice, R::Account, R::Message, 1),
        (K::ModifyUser, R::Account, R::Message, 2),
        (K::ModifyDevice, R::Account, R::Message, 2),
        (K::RemoveUser, R::Account, R::Message, 3),
        (K::RemoveDevice, R::Account, R::Message, 3),
        (K::ResetVerifyCode, R::Message, R::Account, 4),
        (K::UserUpload, R::Message, R::Application, 5),
        (K::DeviceUpload, R::Message, R::Application, 5),
        (K::DeviceOnline, R::Message, R::Application, 5),
        (K::DeviceOffline, R::Message, R::Application, 5),
        (K::PushToUser, R::Application, R::Message, 6),
        (K::PushToDevice, R::Application, R::Message, 6),
        (K::ExchangeUser, R::Application, R::Application, 7),
        (K::ExchangeDevice, R::Application, R::Application, 7),
    ];
    for (n, (kind, from, to, table)) in expected.into_iter().enumerate() {
        assert_eq!(usize::from(kind.number()), n + 1);
        assert_eq!(MessageKind::from_number(kind.number()), Some(kind));
        assert_eq!(
            (kind.sender(), kind.receiver(), kind.table()),
            (from, to, table),
            "{kind}"
        );
    }
    assert_eq!(MessageKind::from_number(0), None);
    assert_eq!(MessageKind::from_number(16), None);
}

/// The rows of Tables 1 to 7 as printed: status code and message content.
const TABLES: [(u8, &[(u16, &str)]); 7] = [
    (
        1,
        &[
            (200, ""),
            (
                400,
                "<error> <code>400</code> <detail>bad request</detail> </error>",
            ),
            (
                421,
                "<error> <code>421</code> <detail>id existed</detail> </error>",
            ),
            (
                500,
                "<error> <code>500</code> <detail>server internal error</detail> </error>",
            ),
        ],
    ),
    (
        2,
        &[
            (200, ""),
            (
                400,
                "<error> <code>400</code> <detail>bad request</detail> </error>",
            ),
            (
                422,
                "<error> <code>422</code> <detail>id not existed</detail> </error>",
            ),
            (
                500,
                "<error> <code>500</code> <detail>server internal error</detail> </error>",
            ),
        ],
    ),
    (
        3,
        &[
            (200, ""),
            (
                400,
                "<error> <code>400</code> <detail>bad request</detail> </error>",
            ),
            (
                422,
                "<error> <code>422</code> <detail>id not existed</detail> </error>",
            ),
            (
                500,
                "<error> <code>500</code> <detail>server internal error</detail> </error>",
            ),
        ],
    ),
    (
        4,
        &[
            (200, ""),
            (
                400,
                "<error> <code>400</code> <detail>bad request</detail> </error>",
            ),
            (
                422,
                "<error> <code>422</code> <detail>id not existed</detail> </error>",
            ),
            (
                500,
                "<error> <code>500</code> <detail>server internal error</detail> </error>",
            ),
        ],
    ),
    (
        5,
        &[
            (200, ""),
            (
                400,
                "<error> <code>400</code> <detail>bad request</detail> </error>",
            ),
            (
                500,
                "<error> <code>500</code> <detail>server internal error</detail> </error>",
            ),
        ],
    ),
    (
        6,
        &[
            (200, ""),
            (
                400,
                "<error> <code>400</code> <detail>bad request</detail> </error>",
            ),
            (
                422,
                "<error> <code>422</code> <detail>id not existed</detail> </error>",
            ),
            (
                500,
                "<error> <code>500</code> <detail>server internal error</detail> </error>",
            ),
        ],
    ),
    (
        7,
        &[
            (200, ""),
            (
                400,
                "<error> <code>400</code> <detail>bad request</detail> </error>",
            ),
            (
                500,
                "<error> <code>500</code> <detail>server internal error</detail> </error>",
            ),
        ],
    ),
];

#[test]
fn every_row_of_tables_1_to_7_both_ways() {
    let limits = Limits::default();
    for kind in MessageKind::ALL {
        let (_, rows) = TABLES[usize::from(kind.table()) - 1];
        // Printed -> value.
        for &(code, printed) in rows {
            let response = Response::parse(kind, code, printed.as_bytes(), &limits)
                .unwrap_or_else(|e| panic!("Message {kind}, Table {}, {code}: {e}", kind.table()));
            assert_eq!(response.status_code(), code);
            // Value -> bytes: the printed content without the white space
            // between elements.
            assert_eq!(response.body(), printed.replace("> <", "><"));
            assert_eq!(Response::new(kind, response.status()), Ok(response));
        }
        // Exactly the table's codes are legal.
        let legal: Vec<u16> = rows.iter().map(|r| r.0).collect();
        let allowed: Vec<u16> = kind.allowed_statuses().iter().map(|s| s.code()).collect();
        assert_eq!(allowed, legal, "Message {kind}");
        for status in Status::ALL {
            if !legal.contains(&status.code()) {
                assert_eq!(
                    Response::parse(kind, status.code(), status.body().as_bytes(), &limits),
                    Err(irsp_proto::ResponseError::StatusNotAllowed {
                        message: kind,
                        code: status.code()
                    })
                );
            }
        }
    }
}
