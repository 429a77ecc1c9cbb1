//! The remote-access resources of section 6.2.2 and Annex A: `oic.ra.xmpp`
//! (the XMPP server and the connection status) and `oic.ra.user` (the
//! account), their JSON representations per the RAML, and an RAE server's
//! handler for them with the CRUDN behaviour of A.1.6 and A.2.6 (retrieve
//! with GET, update with POST; nothing else) and the status transitions of
//! 6.2.1 and Figure 4.

mod handler;
mod repr;

pub use handler::{INTERFACE, RaResources, Requester, ResourceEvent, TransitionError, url_path};
pub use repr::{
    ConnectionStatus, Credential, RaRecord, ResourceError, USER_RT, USER_URI, UserResource,
    XMPP_RT, XMPP_URI, XmppResource, XmppUpdate,
};
