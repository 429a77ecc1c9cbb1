//! What the IRSP tests share.

use irsp_proto::ServiceRoutes;

/// The service paths every test deploys: the texts name them only as
/// "user uploading message service URI" and so on (clause 8), so they
/// are a deployment's choice.
pub(crate) fn routes() -> ServiceRoutes {
    ServiceRoutes::new(
        "/upload/user",
        "/upload/device",
        "/notify",
        "/push",
        "/exchange",
    )
    .unwrap()
}
