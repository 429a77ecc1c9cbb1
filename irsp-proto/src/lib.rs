//! Sans-IO codec for the IGRS remote access service platform (IRSP),
//! ISO/IEC 14543-5-9:2017.
//!
//! IRSP is the server side of IGRS remote access: account servers, message
//! servers and application servers of one or more access systems (ASs)
//! exchange HTTP requests whose parameters travel in the query string
//! (clause 8, Messages 1 to 15), and answer with a status code and, on
//! failure, an `<error>` XML body (Tables 1 to 7).
//!
//! # Layers
//!
//! * **Codecs** build and parse each message as a request URL and each
//!   response as a status code and body, enforcing which status codes a
//!   message may answer with.
//! * **Flows** pair a sent request with its response and dispatch incoming
//!   requests on a server; they do no I/O, so any HTTP stack can carry them.
//!
//! # How to drive this crate
//!
//! IRSP has no long-lived session: every exchange is one HTTPS request and
//! its response, carried by the runtime's HTTP stack, which also owns the
//! connection's deadlines. So the crate has no state machine of the
//! family's [`iot_sansio::Machine`] kind: a client builds the request with
//! [`ClientExchange::new`] and [`ClientExchange::target`] and reads the
//! answer with [`ClientExchange::handle_response`]; a server hands each
//! request's method, path and query to [`Dispatcher::dispatch`] and answers
//! with [`Dispatcher::respond`]. Neither does I/O, reads a clock or keeps
//! state between exchanges.
//!
//! Choices the standard leaves open (transport, encoding, limits, the
//! printed paths kept as printed, the missing 8.8.3 and clause 9) are
//! recorded in the crate's `PROFILE.md`, shown here as [`profile`].
//!
//! # Example
//!
//! An account server registers a device with a message server (Message 2,
//! 8.2.1) and reads the answer:
//!
//! ```
//! use irsp_proto::{
//!     AccountAuth, ClientExchange, DeviceAccount, DeviceName, Dispatcher, Outcome, Peer, Request,
//!     Secret, ServerRole, ServiceRoutes, Status,
//! };
//!
//! let routes = ServiceRoutes::new("/up/user", "/up/device", "/notify", "/push", "/exchange")?;
//! let register = Request::RegisterDevice(DeviceAccount {
//!     auth: AccountAuth { appid: "account-1".into(), token: Secret::new("t0ken") },
//!     name: DeviceName::new("#igrsdevice")?,
//!     password: Secret::new("p&ss word"),
//!     verifycode: Some(Secret::new("1234")),
//!     device_type: Some("tv".into()),
//!     vendor: None,
//!     model: None,
//!     additional: Default::default(),
//! });
//!
//! // Account server side: send the request.
//! let exchange = ClientExchange::new(register);
//! let target = exchange.target(&routes);
//!
//! // Message server side: dispatch it and answer.
//! let server = Dispatcher::new(ServerRole::Message, routes.clone()).accept_account_server(
//!     AccountAuth { appid: "account-1".into(), token: Secret::new("t0ken") },
//! );
//! let (path, query) = target.split_once('?').unwrap();
//! // The peer as the runtime's TLS authenticated it: an account server.
//! let peer = Peer::server(ServerRole::Account, "as.igrs.com");
//! let received = server.dispatch(&peer, "GET", path, query)?;
//! assert_eq!(&received, exchange.request());
//! let answer = server.respond(&received, Status::Ok)?;
//!
//! // Account server side: read the answer.
//! let outcome = exchange.handle_response(answer.status_code(), answer.body().as_bytes())?;
//! assert_eq!(outcome, Outcome::Success);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Modules of the crate
//!
//! * identifiers ([`UserId`], [`DeviceId`], [`UserName`], [`DeviceName`],
//!   [`ServerAddress`]) of clause 3.1;
//! * [`MessageKind`], [`ServerRole`] and [`Status`]: the vocabulary every
//!   other module uses (a leaf module);
//! * [`Request`], the fifteen messages, and their bodies;
//! * [`Response`], the answers of Tables 1 to 7;
//! * [`route`] and [`check_route`] ([`ServerLocation`], [`ForbiddenRoute`]),
//!   the routing rules of 8.1 and 8.7, and [`ServiceRoutes`], the service
//!   paths of Messages 8 to 15;
//! * [`Dispatcher`] and [`ClientExchange`], the server and client flows;
//! * [`ThirdPartyGateway`], the extension point for 8.8.
#![forbid(unsafe_code)]
// No function over 80 lines (clippy.toml): each reads in one screen.
#![warn(clippy::too_many_lines)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The examples of the crate's README, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

#[doc = include_str!("../PROFILE.md")]
pub mod profile {}

mod error;
mod flow;
mod id;
mod kind;
mod message;
mod query;
mod response;
mod routing;
mod secret;

pub use error::{RequestError, ResponseError};
pub use flow::{ClientExchange, Dispatcher, Outcome, Peer, SenderPolicy, ThirdPartyGateway};
pub use id::{DeviceId, DeviceName, Domain, IdError, ServerAddress, UserId, UserName};
pub use kind::{MessageKind, ServerRole, Status};
pub use message::{
    AccountAuth, AdditionalParamError, AdditionalParams, DeviceAccount, DeviceData, DeviceNotice,
    DeviceRemoval, Request, UserAccount, UserData, UserRemoval, VerifyCodeReset,
};
pub use query::Limits;
pub use response::Response;
pub use routing::{
    ForbiddenRoute, Route, ServerLocation, ServicePath, ServicePathError, ServiceRoutes,
    check_route, route,
};
pub use secret::{REDACTED, Secret};
