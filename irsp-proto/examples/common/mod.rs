//! What the `decode` and `encode` examples share: the command line and the
//! JSON envelope.

use irsp_proto::{Request, Response, ServerAddress, ServiceRoutes, Status};
use serde::{Deserialize, Serialize};

/// The service URIs the examples use unless `--routes` gives others (the
/// standard leaves them to each deployment).
const DEFAULT_ROUTES: [&str; 5] = [
    "/upload/user",
    "/upload/device",
    "/notify",
    "/push",
    "/exchange",
];

/// One decoded document: a request with the server it is sent to, or a
/// response (with the message it answers when that is known).
#[allow(clippy::large_enum_variant)] // One value per run of the example.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Document {
    /// A request URL.
    Request {
        /// The server address of the URL.
        server: ServerAddress,
        /// The message.
        request: Request,
    },
    /// A response to a known message.
    Response(Response),
    /// A response checked against every table.
    Status {
        /// The status.
        status: Status,
    },
}

/// The options both examples take.
pub(crate) struct Options {
    /// `--routes user,device,notify,push,exchange`.
    pub routes: ServiceRoutes,
    /// `--message N`: the message a response answers.
    #[allow(dead_code)] // Read by `decode` only.
    pub message: Option<u8>,
    /// `--role account|message|application`: who receives the request.
    #[allow(dead_code)] // Read by `decode` only.
    pub role: Option<irsp_proto::ServerRole>,
}

/// Parses the command line.
pub(crate) fn options() -> Result<Options, String> {
    let mut routes = DEFAULT_ROUTES.map(String::from);
    let mut message = None;
    let mut role = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--routes" => {
                let given: Vec<String> = value()?.split(',').map(String::from).collect();
                routes = given
                    .try_into()
                    .map_err(|_| "--routes takes five comma-separated paths".to_owned())?;
            }
            "--message" => {
                message = Some(
                    value()?
                        .parse()
                        .map_err(|_| "--message takes 1 to 15".to_owned())?,
                );
            }
            "--role" => {
                role = Some(match value()?.as_str() {
                    "account" => irsp_proto::ServerRole::Account,
                    "message" => irsp_proto::ServerRole::Message,
                    "application" => irsp_proto::ServerRole::Application,
                    other => return Err(format!("unknown role `{other}`")),
                });
            }
            // Read by example_io::reveal.
            "--reveal" => {}
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    let [u, d, n, p, x] = routes;
    let routes = ServiceRoutes::new(u, d, n, p, x).map_err(|e| e.to_string())?;
    Ok(Options {
        routes,
        message,
        role,
    })
}

/// Reads standard input, bounded.
pub(crate) fn read_stdin() -> Result<String, String> {
    use std::io::Read;
    let mut text = String::new();
    std::io::stdin()
        .take(1 << 20)
        .read_to_string(&mut text)
        .map_err(|e| format!("reading standard input: {e}"))?;
    Ok(text)
}

/// Runs `job`, printing its output, or its error on one line with exit
/// status 1.
/// Runs a job and reports its result.
pub(crate) fn run(job: fn() -> Result<String, String>) -> std::process::ExitCode {
    example_io::report(job())
}
