-- Prosody for the interoperability tests only: host `localhost`, client
-- port @PORT@ on loopback, STARTTLS required with the certificate of
-- .ci/xmpp-cert, direct TLS (XEP-0368) on port @TLSPORT@, passwords kept
-- hashed so SCRAM is offered. @DIR@, @PORT@, @TLSPORT@ and @CERT@ are
-- filled in by .ci/prosody.
run_as_root = true
pidfile = "@DIR@/prosody.pid"
data_path = "@DIR@/data"
certificates = "@DIR@/certs"
plugin_paths = {}
interfaces = { "127.0.0.1" }
c2s_ports = { @PORT@ }
c2s_direct_tls_ports = { @TLSPORT@ }
s2s_ports = {}
http_ports = {}
https_ports = {}
c2s_require_encryption = true
allow_unencrypted_plain_auth = false
authentication = "internal_hashed"
storage = "internal"
log = { { levels = { min = "info" }, to = "file", filename = "@DIR@/prosody.log" } }
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "posix", "smacks" }
modules_disabled = { "s2s" }
ssl = { certificate = "@CERT@/localhost.crt"; key = "@CERT@/localhost.key"; }
VirtualHost "localhost"
    ssl = { certificate = "@CERT@/localhost.crt"; key = "@CERT@/localhost.key"; }
-- The domain of the transport's DNS tests (found through SRV records).
VirtualHost "example.test"
    ssl = { certificate = "@CERT@/localhost.crt"; key = "@CERT@/localhost.key"; }
