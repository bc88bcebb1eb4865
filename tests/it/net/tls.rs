//! TLS failures in words (SPEC §4a) against a real TLS server with certificates made by
//! the test (`common/tls.rs`): untrusted, a CA certificate served as the server's own,
//! expired, for another host, and plain HTTP on an https port; and https requests
//! through the test proxies (`HTTPS_PROXY` for https, `HTTP_PROXY` never, `ALL_PROXY`
//! only when `HTTPS_PROXY` is unset).

use crate::common;
use crate::proxy_server::{Proxy, Seen};
use crate::tls_server::{Ca, TlsServer};

use std::path::PathBuf;

use common::{Env, Outcome};

const KEY: &str = "sk-tls-test-5521";

const ME_BODY: &str =
    r#"{"user_id":"u-2","email":"tls@example.com","name":"Tls","workspace_name":"Certs"}"#;

const LOGGED_IN: &str = "Logged in as tls@example.com (Certs) as profile ci\n";

/// A test world: its temp dir, the CA the binary trusts (in `SSL_CERT_FILE`).
struct World {
    env: Env,
    ca: Ca,
    trust: PathBuf,
}

impl World {
    fn new() -> World {
        let env = Env::new();
        let ca = Ca::new("baseten test CA");
        let trust = ca.write_pem(env.root(), "ca.pem");
        World { env, ca, trust }
    }

    /// A server with a valid certificate for 127.0.0.1 and localhost.
    fn good_server(&self) -> TlsServer {
        TlsServer::start(self.ca.issue(&["127.0.0.1", "localhost"], false), ME_BODY)
    }

    /// An API-key login against `url`, trusting `trust`, with extra variables.
    fn login_trusting(&self, trust: &PathBuf, url: &str, vars: &[(&str, &str)]) -> Outcome {
        let mut cmd = self.env.cmd_at(url, &common::api_key_login_args("ci"));
        cmd.env("SSL_CERT_FILE", trust).env_remove("SSL_CERT_DIR");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        common::run_with_stdin(&mut cmd, &format!("{KEY}\n"))
    }

    fn login(&self, url: &str, vars: &[(&str, &str)]) -> Outcome {
        self.login_trusting(&self.trust, url, vars)
    }
}

#[test]
fn a_trusted_certificate_logs_in() {
    let w = World::new();
    let server = w.good_server();
    let out = w.login(&server.url(), &[]);
    assert_eq!(out.success(), LOGGED_IN);
    assert_eq!(server.served(), 1);
}

#[test]
fn an_unknown_issuer_is_not_trusted_and_the_fix_is_named() {
    let w = World::new();
    let server = w.good_server();
    let other = Ca::new("some other CA").write_pem(w.env.root(), "other.pem");
    let out = w.login_trusting(&other, &server.url(), &[]);
    out.failure(1, &[]);
    assert_eq!(
        out.stderr,
        "error: the certificate of 127.0.0.1 is not trusted (unknown issuer); \
         if your network uses its own CA, set SSL_CERT_FILE to its certificate\n"
    );
    assert_eq!(server.served(), 0);
}

#[test]
fn a_ca_certificate_served_as_the_servers_own_is_not_trusted() {
    let w = World::new();
    let server = TlsServer::start(w.ca.as_identity(), ME_BODY);
    let out = w.login(&server.url(), &[]);
    out.failure(1, &[]);
    assert_eq!(
        out.stderr,
        "error: the certificate of 127.0.0.1 is not trusted (it is a CA certificate, \
         not one issued to the server); if your network uses its own CA, set SSL_CERT_FILE \
         to its certificate\n"
    );
}

#[test]
fn an_expired_certificate_says_when() {
    let w = World::new();
    let server = TlsServer::start(w.ca.issue(&["127.0.0.1"], true), ME_BODY);
    let out = w.login(&server.url(), &[]);
    out.failure(1, &[]);
    assert_eq!(
        out.stderr,
        "error: the certificate of 127.0.0.1 expired on 2021-01-01T00:00:00Z; if this \
         computer's clock is right, the server needs a new certificate\n"
    );
}

#[test]
fn a_certificate_for_another_host_names_it() {
    let w = World::new();
    let server = TlsServer::start(w.ca.issue(&["other.example"], false), ME_BODY);
    let out = w.login(&server.url(), &[]);
    out.failure(1, &[]);
    assert_eq!(
        out.stderr,
        "error: the certificate of 127.0.0.1 is for another host (other.example); \
         check the remote URL\n"
    );
}

#[test]
fn plain_http_on_an_https_port_is_named() {
    let w = World::new();
    let (addr, _stop) = crate::tls_server::plain_http_server();
    let out = w.login(&format!("https://{addr}"), &[]);
    out.failure(1, &[]);
    assert_eq!(
        out.stderr,
        format!(
            "error: {addr} did not answer with TLS (plain HTTP on an https port?); \
             check the scheme and port of the URL\n"
        )
    );
}

#[test]
fn https_proxy_carries_https_requests() {
    let w = World::new();
    let server = w.good_server();
    let px = Proxy::connect();
    let out = w.login(&server.url(), &[("HTTPS_PROXY", &px.addr())]);
    assert_eq!(out.success(), LOGGED_IN);
    assert_eq!(px.targets(), [server.addr().to_string()]);
}

#[test]
fn http_proxy_alone_is_not_used_for_https() {
    let w = World::new();
    let server = w.good_server();
    let px = Proxy::connect();
    let out = w.login(&server.url(), &[("HTTP_PROXY", &px.addr())]);
    assert_eq!(out.success(), LOGGED_IN);
    assert_eq!(px.seen(), []);
    assert_eq!(server.served(), 1);
}

#[test]
fn socks5h_in_all_proxy_does_not_hide_https_proxy() {
    let w = World::new();
    let server = w.good_server();
    let px = Proxy::connect();
    let socks = Proxy::socks5();
    let out = w.login(
        &server.url(),
        &[
            ("ALL_PROXY", &format!("socks5h://{}", socks.addr())),
            ("HTTPS_PROXY", &format!("http://{}", px.addr())),
        ],
    );
    assert_eq!(out.success(), LOGGED_IN);
    assert_eq!(px.targets(), [server.addr().to_string()]);
    assert_eq!(socks.seen(), []);
}

#[test]
fn socks5h_in_all_proxy_carries_https_and_the_name() {
    let w = World::new();
    let server = w.good_server();
    let socks = Proxy::socks5();
    let url = format!("https://localhost:{}", server.port());
    let out = w.login(
        &url,
        &[("ALL_PROXY", &format!("socks5h://{}", socks.addr()))],
    );
    assert_eq!(out.success(), LOGGED_IN);
    assert_eq!(
        socks.seen(),
        [Seen {
            target: format!("localhost:{}", server.port()),
            by_name: true,
            auth: None,
        }]
    );
}

#[test]
fn a_tls_failure_through_a_proxy_is_the_servers() {
    let w = World::new();
    let server = TlsServer::start(w.ca.issue(&["127.0.0.1"], true), ME_BODY);
    let px = Proxy::connect();
    let out = w.login(&server.url(), &[("HTTPS_PROXY", &px.addr())]);
    out.failure(1, &[]);
    assert_eq!(
        out.stderr,
        "error: the certificate of 127.0.0.1 expired on 2021-01-01T00:00:00Z; if this \
         computer's clock is right, the server needs a new certificate\n"
    );
    assert_eq!(px.targets(), [server.addr().to_string()]);
}

#[test]
fn no_proxy_with_a_port_applies_to_https() {
    let w = World::new();
    let server = w.good_server();
    let px = Proxy::connect();
    let list = format!("example.com, localhost:{}", server.port());
    let url = format!("https://localhost:{}", server.port());
    let out = w.login(&url, &[("HTTPS_PROXY", &px.addr()), ("NO_PROXY", &list)]);
    assert_eq!(out.success(), LOGGED_IN);
    assert_eq!(px.seen(), []);
}
