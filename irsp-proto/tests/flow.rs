//! The client and server flows, the extension point of 8.8, and secrets.

// Test fixtures fail loudly: a fixture that does not build is a bug.
#![allow(clippy::unwrap_used, clippy::panic, clippy::needless_pass_by_value)]

mod common;
use common::routes;

use irsp_proto::{
    AccountAuth, ClientExchange, DeviceAccount, DeviceData, DeviceName, Dispatcher, Outcome, Peer,
    Request, ResponseError, Secret, ServerRole, Status, ThirdPartyGateway, UserAccount, UserName,
};

fn credentials() -> AccountAuth {
    AccountAuth {
        appid: "as01".into(),
        token: Secret::new("token-value-123"),
    }
}

fn register_user() -> Request {
    Request::RegisterUser(UserAccount {
        auth: credentials(),
        name: UserName::new("igrsuser").unwrap(),
        password: Secret::new("password-value-456"),
    })
}

#[test]
fn client_and_server_agree() {
    let server =
        Dispatcher::new(ServerRole::Message, routes()).accept_account_server(credentials());
    for status in [
        Status::Ok,
        Status::BadRequest,
        Status::IdExisted,
        Status::InternalError,
    ] {
        let exchange = ClientExchange::new(register_user());
        let target = exchange.target(&routes());
        let (path, query) = target.split_once('?').unwrap();
        let peer = Peer::server(ServerRole::Account, "as");
        let received = server.dispatch(&peer, "GET", path, query).unwrap();
        assert_eq!(&received, exchange.request());
        let response = server.respond(&received, status).unwrap();
        let outcome = exchange
            .handle_response(response.status_code(), response.body().as_bytes())
            .unwrap();
        let expected = if status == Status::Ok {
            Outcome::Success
        } else {
            Outcome::Refused(status)
        };
        assert_eq!(outcome, expected);
    }
    // The server cannot answer a registration with 422 (Table 1).
    assert_eq!(
        server.respond(&register_user(), Status::IdNotExisted),
        Err(ResponseError::StatusNotAllowed {
            message: irsp_proto::MessageKind::RegisterUser,
            code: 422
        })
    );
}

#[test]
fn client_refuses_a_response_its_table_does_not_list() {
    let exchange = ClientExchange::new(register_user());
    let body = Status::IdNotExisted.body();
    assert_eq!(
        exchange.clone().handle_response(422, body.as_bytes()),
        Err(ResponseError::StatusNotAllowed {
            message: irsp_proto::MessageKind::RegisterUser,
            code: 422
        })
    );
    assert_eq!(
        exchange.clone().handle_response(404, b""),
        Err(ResponseError::UnknownStatus { code: 404 })
    );
    assert_eq!(
        exchange.handle_response(200, b"<ok/>"),
        Err(ResponseError::BodyOnSuccess)
    );
}

#[test]
fn secrets_never_print() {
    let mut device = DeviceAccount {
        auth: credentials(),
        name: DeviceName::new("#d").unwrap(),
        password: Secret::new("password-value-456"),
        verifycode: Some(Secret::new("verify-value-789")),
        device_type: None,
        vendor: None,
        model: None,
        additional: Default::default(),
    };
    device.additional.push("k", "v").unwrap();
    for request in [register_user(), Request::RegisterDevice(device)] {
        let debug = format!("{request:?}");
        let json = serde_json::to_string(&request).unwrap();
        for secret in ["token-value-123", "password-value-456", "verify-value-789"] {
            assert!(!debug.contains(secret), "{debug}");
            assert!(!json.contains(secret), "{json}");
        }
        assert!(json.contains("\"token\":\"<redacted>\""));
        // The wire form does carry them, percent-encoded.
        assert!(request.query().contains("token-value-123"));
    }
}

/// A gateway for a third party whose format (unknown to this crate, 8.8.3
/// is missing) is `deviceid|data` lines.
struct PipeGateway;

impl ThirdPartyGateway for PipeGateway {
    type Outbound = String;
    type Inbound = String;
    type Error = String;

    fn outbound(&mut self, request: &Request) -> Result<String, String> {
        match request {
            Request::ExchangeDevice(m) => Ok(format!("{}|{}", m.deviceid, m.data)),
            other => Err(format!("message {} is not forwarded", other.kind())),
        }
    }

    fn inbound(&mut self, inbound: String) -> Result<Request, String> {
        let (id, data) = inbound.split_once('|').ok_or("no separator")?;
        Ok(Request::ExchangeDevice(DeviceData {
            deviceid: DeviceName::new(id).map_err(|e| e.to_string())?,
            data: data.into(),
        }))
    }
}

#[test]
fn third_party_gateway_extension_point() {
    let mut gw = PipeGateway;
    let request = Request::ExchangeDevice(DeviceData {
        deviceid: DeviceName::new("#cam").unwrap(),
        data: "snapshot".into(),
    });
    let out = gw.outbound(&request).unwrap();
    assert_eq!(out, "#cam|snapshot");
    assert_eq!(gw.inbound(out).unwrap(), request);
    assert!(gw.outbound(&register_user()).is_err());
    assert!(gw.inbound("nohash|x".into()).is_err());
}
