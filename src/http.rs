//! The HTTP client (SPEC §4, §4a): one ureq agent with rustls and the system trust
//! store, the proxy [`crate::proxy`] chose for the base URL (ureq never reads the
//! environment itself), fixed timeouts, capped bodies, and the mapping from HTTP status to
//! the program's exit codes. Bodies of error responses are always read so the server's
//! reason reaches the user (sanitized and shortened). A failure to connect says which hop
//! failed (the proxy or the server) and, for TLS, what is wrong in words with the fix.

use std::time::Duration;

use serde::de::DeserializeOwned;
use ureq::tls::{RootCerts, TlsConfig};

use crate::error::{Error, Result};
use crate::proxy::{self, Chosen, Kind, Route};
use crate::sanitize;
use crate::secret::Secret;
use crate::ui::debug;

/// Largest response body read, in bytes.
const BODY_LIMIT: u64 = 1 << 20;

/// How a request authenticates.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// `Authorization: Bearer <OAuth access token>`.
    Bearer(&'a Secret),
    /// `Authorization: Api-Key <API key>`.
    ApiKey(&'a Secret),
}

impl Auth<'_> {
    /// The `Authorization` header value: `Bearer <token>` or `Api-Key <key>`.
    pub fn header_value(&self) -> String {
        match self {
            Auth::Bearer(t) => format!("Bearer {}", t.expose()),
            Auth::ApiKey(k) => format!("Api-Key {}", k.expose()),
        }
    }
}

/// A response whose body has been read (up to the cap).
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    /// `Retry-After` in seconds, when the server sent one in that form.
    pub retry_after: Option<Duration>,
}

/// How long a request may take (SPEC §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// To open the connection (through the proxy, when there is one).
    pub connect: Duration,
    /// For the whole request, answer included.
    pub request: Duration,
}

impl Timeouts {
    /// The program's: 10 s to connect, 30 s for the whole request.
    pub const STANDARD: Timeouts = Timeouts {
        connect: Duration::from_secs(10),
        request: Duration::from_secs(30),
    };
}

/// A client for one API base URL.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    /// `host[:port]` of the base.
    host: String,
    /// The proxy, or why the proxy variables cannot be used (then every request fails
    /// with that usage error rather than go direct).
    route: std::result::Result<Route, String>,
}

impl Client {
    /// A client for `base` (`scheme://host[:port]`) with the program's timeouts and the
    /// proxy the environment chooses for it.
    pub fn new(base: &str) -> Client {
        Client::build(base, Timeouts::STANDARD, proxy::route_for_base(base))
    }

    /// A client for `base` whose requests give up after `timeouts` and go by `route`.
    fn build(
        base: &str,
        timeouts: Timeouts,
        mut route: std::result::Result<Route, String>,
    ) -> Client {
        let roots = if system_roots_present() {
            RootCerts::PlatformVerifier
        } else {
            debug!("no system CA bundle found; using the bundled Mozilla roots");
            RootCerts::WebPki
        };
        let via = match &route {
            Ok(Route::Proxy(chosen)) => match chosen.url.to_ureq() {
                Ok(p) => {
                    debug!("connecting to {base} through proxy {}", chosen.describe());
                    Some(p)
                }
                Err(e) => {
                    route = Err(format!("invalid {}: {e}", chosen.var));
                    None
                }
            },
            Ok(Route::Bypass { var }) => {
                debug!("connecting to {base} directly: {var} lists it");
                None
            }
            Ok(Route::Direct) | Err(_) => None,
        };
        let agent = ureq::Agent::config_builder()
            // Always an explicit choice: ureq's own environment rules are not curl's.
            .proxy(via)
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_connect(Some(timeouts.connect))
            .timeout_global(Some(timeouts.request))
            .user_agent(concat!("baseten-rs/", env!("CARGO_PKG_VERSION")))
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .build()
            .new_agent();
        let host = base.split_once("://").map_or(base, |(_, h)| h).to_owned();
        Client {
            agent,
            base: base.to_owned(),
            host,
            route,
        }
    }

    /// The usage error for unusable proxy variables, before anything is sent.
    fn check_route(&self) -> Result<()> {
        match &self.route {
            Err(e) => Err(Error::usage(e.clone())),
            Ok(_) => Ok(()),
        }
    }

    /// `GET base+path`, decoding a 2xx JSON body into `T`.
    pub fn get_json<T: DeserializeOwned>(&self, path: &str, auth: Auth<'_>) -> Result<T> {
        let resp = self.get(path, auth)?;
        self.json(path, &self.success(path, resp)?)
    }

    /// `GET base+path`; returns the response whatever its status.
    pub fn get(&self, path: &str, auth: Auth<'_>) -> Result<Response> {
        self.check_route()?;
        let req = with_auth(self.agent.get(format!("{}{path}", self.base)), auth);
        self.finish("GET", path, req.call())
    }

    /// `POST base+path` with a form body; returns the response whatever its status.
    pub fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        auth: Option<Auth<'_>>,
    ) -> Result<Response> {
        self.check_route()?;
        let mut req = self.agent.post(format!("{}{path}", self.base));
        if let Some(auth) = auth {
            req = with_auth(req, auth);
        }
        self.finish("POST", path, req.send_form(form.iter().copied()))
    }

    /// Reads the body of a sent request, mapping transport failures to errors that name
    /// the host.
    fn finish(
        &self,
        method: &str,
        path: &str,
        sent: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Response> {
        let mut resp = sent.map_err(|e| self.transport(e))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = match resp
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_vec()
        {
            Ok(body) => body,
            // The status alone still says what happened; only a success needs its body.
            Err(e) if !(200..300).contains(&status) => {
                debug!("{method} {}{path} → {status}, body unread: {e}", self.base);
                Vec::new()
            }
            Err(ureq::Error::BodyExceedsLimit(_)) => {
                return Err(Error::failure(format!(
                    "{} {path}: the response is larger than 1 MiB",
                    self.host
                )));
            }
            Err(e) => return Err(self.transport(e)),
        };
        debug!(
            "{method} {}{path} → {status} ({} bytes)",
            self.base,
            body.len()
        );
        Ok(Response {
            status,
            body,
            retry_after,
        })
    }

    /// Passes a 2xx response through; anything else becomes [`Client::status_error`].
    pub fn success(&self, path: &str, resp: Response) -> Result<Response> {
        if (200..300).contains(&resp.status) {
            Ok(resp)
        } else {
            Err(self.status_error(path, &resp))
        }
    }

    /// The error a non-2xx status calls for (SPEC §8), with the server's reason.
    pub fn status_error(&self, path: &str, resp: &Response) -> Error {
        let status = resp.status;
        let message = format!("{} {path}: HTTP {status}{}", self.host, reason(&resp.body));
        match status {
            401 | 403 => Error::Auth(message),
            404 => Error::NotFound(message),
            400..=499 => Error::Rejected(message),
            500..=599 => Error::Server(message),
            _ => Error::failure(message),
        }
    }

    /// Decodes a JSON body strictly, with an error that says what was wrong.
    pub fn json<T: DeserializeOwned>(&self, path: &str, resp: &Response) -> Result<T> {
        serde_json::from_slice(&resp.body).map_err(|e| {
            let what = if resp.body.iter().all(u8::is_ascii_whitespace) {
                "an empty body".to_owned()
            } else if e.is_syntax() || e.is_eof() {
                format!("a body that is not JSON{}", reason(&resp.body))
            } else {
                // serde quotes the offending value, which the server chose.
                format!("unexpected JSON ({})", sanitize::excerpt(&e.to_string()))
            };
            Error::failure(format!("{} {path}: the server sent {what}", self.host))
        })
    }

    fn transport(&self, e: ureq::Error) -> Error {
        let via = match &self.route {
            Ok(Route::Proxy(chosen)) => Some(chosen),
            _ => None,
        };
        Error::failure(sanitize::clean(&describe_failure(&self.host, via, &e)).into_owned())
    }
}

/// What went wrong reaching `host` (`name[:port]`), through `via` when a proxy is used,
/// in words: which hop failed, and for TLS what is wrong and the fix.
fn describe_failure(host: &str, via: Option<&Chosen>, e: &ureq::Error) -> String {
    use std::io::ErrorKind as K;
    let name = host_name(host);
    let through = via.map_or_else(String::new, |c| format!(" through proxy {}", c.describe()));
    let proxy_down = |why: &str| match via {
        Some(c) => format!(
            "cannot reach proxy {} (from {}): {why}",
            c.url.address(),
            c.var
        ),
        None => format!("cannot reach {host}: {why}"),
    };
    match e {
        ureq::Error::Io(io) => {
            if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return tls_failure(name, host, tls);
            }
            let message = io
                .get_ref()
                .map_or_else(|| io_words(io.kind()), |i| i.to_string());
            match io.kind() {
                // Only the first hop is ever connected to directly, so a refused or
                // unreachable connection is the proxy's when there is one.
                K::ConnectionRefused
                | K::HostUnreachable
                | K::NetworkUnreachable
                | K::NetworkDown
                | K::AddrNotAvailable => proxy_down(&io_words(io.kind())),
                K::Other | K::InvalidData | K::PermissionDenied | K::InvalidInput
                    if via.is_some_and(|c| c.url.kind.is_socks()) =>
                {
                    socks_failure(host, via, &message)
                }
                K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted => {
                    format!("{host} closed the connection{through}")
                }
                _ => format!("cannot reach {host}{through}: {message}"),
            }
        }
        ureq::Error::Rustls(tls) => tls_failure(name, host, tls),
        ureq::Error::Timeout(_) => format!("cannot reach {host}{through}: timed out"),
        ureq::Error::ConnectionFailed => proxy_down("connection failed"),
        ureq::Error::HostNotFound => match via {
            // A SOCKS5 proxy (local names) is handed an address looked up here: the
            // missing name is the server's when the proxy's own name resolves.
            Some(c) if c.url.kind == Kind::Socks5 && proxy_resolves(c) => {
                format!("cannot reach {host}{through}: host not found")
            }
            Some(_) => proxy_down("host not found"),
            None => format!("cannot reach {host}: host not found"),
        },
        ureq::Error::ConnectProxyFailed(reason) => {
            // ureq says `proxy server responded 502/502`: the code, then words for it.
            let answer = reason
                .strip_prefix("proxy server responded ")
                .and_then(|r| r.get(..3))
                .and_then(|code| code.parse::<u16>().ok())
                .map(|code| {
                    let words = ureq::http::StatusCode::from_u16(code)
                        .ok()
                        .and_then(|c| c.canonical_reason())
                        .unwrap_or("");
                    format!("{code} {words}").trim_end().to_owned()
                });
            match (via, answer) {
                (Some(c), Some(a)) if a.starts_with("407") => format!(
                    "proxy {} (from {}) wants a user name and password ({a}); put them in {} as user:password@",
                    c.url.address(),
                    c.var,
                    c.var
                ),
                (Some(c), Some(a)) => format!(
                    "proxy {} (from {}) could not connect to {host}: it answered {a}",
                    c.url.address(),
                    c.var
                ),
                (Some(c), None) => format!(
                    "proxy {} (from {}) could not connect to {host}: {reason}",
                    c.url.address(),
                    c.var
                ),
                (None, _) => format!("cannot reach {host}: {reason}"),
            }
        }
        ureq::Error::Tls(why) => format!("TLS with {host} failed{through}: {why}"),
        other => format!("cannot reach {host}{through}: {other}"),
    }
}

/// A SOCKS handshake error from ureq: the proxy's refusal to reach the server, or a
/// problem with the proxy itself.
fn socks_failure(host: &str, via: Option<&Chosen>, message: &str) -> String {
    const TARGET: &[&str] = &[
        "general SOCKS server failure",
        "connection not allowed by ruleset",
        "network unreachable",
        "host unreachable",
        "connection refused",
        "TTL expired",
    ];
    let (address, var) = via.map_or(("?".into(), "?"), |c| (c.url.address(), c.var));
    if TARGET.contains(&message) {
        format!("SOCKS5 proxy {address} (from {var}) could not connect to {host}: {message}")
    } else if message == "password authentication failed" || message == "no acceptable auth methods"
    {
        format!(
            "SOCKS5 proxy {address} (from {var}) refused the login: {message}; check the user name and password in {var}"
        )
    } else {
        format!("SOCKS5 proxy {address} (from {var}) failed: {message}")
    }
}

/// Whether the proxy's own host name resolves (only asked after a failed look-up).
fn proxy_resolves(c: &Chosen) -> bool {
    use std::net::ToSocketAddrs;
    (c.url.host.as_str(), c.url.port)
        .to_socket_addrs()
        .is_ok_and(|mut a| a.next().is_some())
}

/// An I/O error kind in words.
fn io_words(kind: std::io::ErrorKind) -> String {
    use std::io::ErrorKind as K;
    match kind {
        K::ConnectionRefused => "connection refused".into(),
        K::HostUnreachable => "host unreachable".into(),
        K::NetworkUnreachable => "network unreachable".into(),
        K::NetworkDown => "network down".into(),
        K::AddrNotAvailable => "address not available".into(),
        K::TimedOut => "timed out".into(),
        other => other.to_string(),
    }
}

/// `name` of `name[:port]` / `[v6][:port]`.
fn host_name(host: &str) -> &str {
    match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    }
}

/// A TLS failure with `name` in words, with what to do about it.
fn tls_failure(name: &str, host: &str, e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    const OWN_CA: &str = "if your network uses its own CA, set SSL_CERT_FILE to its certificate";
    let untrusted =
        |why: &str| format!("the certificate of {name} is not trusted ({why}); {OWN_CA}");
    let date = |t: &rustls::pki_types::UnixTime| {
        i64::try_from(t.as_secs())
            .ok()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
            .map_or_else(|| "a date out of range".to_owned(), |t| t.to_string())
    };
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => untrusted("unknown issuer"),
            C::BadSignature => untrusted("bad signature"),
            C::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
                Some(webpki::Error::CaUsedAsEndEntity) => {
                    untrusted("it is a CA certificate, not one issued to the server")
                }
                Some(webpki::Error::UnknownIssuer) => untrusted("unknown issuer"),
                _ => untrusted(&other.to_string()),
            },
            C::Expired => format!(
                "the certificate of {name} has expired; if this computer's clock is right, the server needs a new certificate"
            ),
            C::ExpiredContext { not_after, .. } => format!(
                "the certificate of {name} expired on {}; if this computer's clock is right, the server needs a new certificate",
                date(not_after)
            ),
            C::NotValidYet => {
                format!("the certificate of {name} is not valid yet; check this computer's clock")
            }
            C::NotValidYetContext { not_before, .. } => format!(
                "the certificate of {name} is not valid until {}; check this computer's clock",
                date(not_before)
            ),
            C::NotValidForName => {
                format!("the certificate of {name} is for another host name; check the remote URL")
            }
            C::NotValidForNameContext { presented, .. } => {
                // webpki writes each as `DnsName("host")` or `IpAddress(1.2.3.4)`.
                let bare = |n: &String| -> String {
                    let inner = n
                        .split_once('(')
                        .and_then(|(_, rest)| rest.strip_suffix(')'))
                        .unwrap_or(n);
                    inner.trim_matches('"').to_owned()
                };
                let names: Vec<String> = presented.iter().take(3).map(bare).collect();
                let more = if presented.len() > 3 { ", …" } else { "" };
                format!(
                    "the certificate of {name} is for another host ({}{more}); check the remote URL",
                    names.join(", ")
                )
            }
            C::Revoked => format!("the certificate of {name} has been revoked"),
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                format!("the certificate of {name} is not meant for a server")
            }
            other => untrusted(&format!("{other:?}")),
        },
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. } => format!(
            "{host} did not answer with TLS (plain HTTP on an https port?); check the scheme and port of the URL"
        ),
        rustls::Error::NoCertificatesPresented => {
            format!("{name} presented no certificate")
        }
        rustls::Error::AlertReceived(alert) => {
            format!("the TLS handshake with {host} failed: the server sent {alert:?}")
        }
        rustls::Error::PeerIncompatible(_) => {
            format!("{host} offers no TLS version or cipher this program supports")
        }
        other => format!("the TLS handshake with {host} failed: {other}"),
    }
}

fn with_auth<B>(req: ureq::RequestBuilder<B>, auth: Auth<'_>) -> ureq::RequestBuilder<B> {
    req.header("Authorization", auth.header_value())
}

/// The server's reason for an error, as `: <text>`: the usual JSON error fields when
/// present, else a short excerpt of the body; always sanitized.
pub fn reason(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Fields {
        error: Option<serde_json::Value>,
        error_description: Option<String>,
        message: Option<String>,
        detail: Option<serde_json::Value>,
    }
    let text = match serde_json::from_slice::<Fields>(body) {
        Ok(f) => [
            f.error
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)),
            f.error_description,
            f.message,
            f.detail
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(": "),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    match sanitize::excerpt(&text) {
        text if text.is_empty() => text,
        text => format!(": {text}"),
    }
}

/// Whether the machine has a CA bundle for the platform verifier to use; a `FROM
/// scratch` image has none, and then the bundled roots are the only option.
fn system_roots_present() -> bool {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        let probe = openssl_probe::probe();
        probe.cert_file.is_some() || !probe.cert_dir.is_empty()
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::time::Instant;

    #[test]
    fn the_program_uses_the_spec_timeouts() {
        assert_eq!(Timeouts::STANDARD.connect, Duration::from_secs(10));
        assert_eq!(Timeouts::STANDARD.request, Duration::from_secs(30));
    }

    /// A server on loopback that reads one request, then has `answer` write to the
    /// connection (or hold it) until the client gives up.
    fn server(answer: fn(&mut std::net::TcpStream)) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                answer(&mut s);
            }
        });
        format!("http://{addr}")
    }

    /// A request to `base` with a 300 ms whole-request timeout: its error, and whether
    /// it came well before the program's own 30 s.
    fn give_up(base: &str) -> Error {
        let short = Timeouts {
            connect: Duration::from_millis(300),
            request: Duration::from_millis(300),
        };
        let client = Client::build(base, short, Ok(Route::Direct));
        let started = Instant::now();
        let e = client
            .get_json::<serde_json::Value>("/v1/users/me", Auth::ApiKey(&Secret::new("k")))
            .expect_err("a timeout");
        assert!(started.elapsed() < Timeouts::STANDARD.request, "{e}");
        e
    }

    #[test]
    fn a_server_that_never_answers_is_given_up_on_at_the_request_timeout() {
        let base = server(|_| std::thread::sleep(Duration::from_secs(60)));
        let e = give_up(&base);
        assert_eq!(e.exit_code(), 1);
        assert!(e.to_string().contains("timed out"), "{e}");
        assert!(
            e.to_string().contains(base.trim_start_matches("http://")),
            "{e}"
        );
    }

    #[test]
    fn a_server_that_drips_its_answer_is_given_up_on_at_the_request_timeout() {
        let base = server(|s| {
            let head =
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n";
            let _ = s.write_all(head.as_bytes());
            for _ in 0..100 {
                if s.write_all(b" ").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let e = give_up(&base);
        assert_eq!(e.exit_code(), 1);
        assert!(e.to_string().contains("timed out"), "{e}");
    }

    #[test]
    fn reason_prefers_json_fields_and_sanitizes() {
        let r = reason(br#"{"error":"invalid_grant","error_description":"bad \u001b[31mcode"}"#);
        assert_eq!(r, ": invalid_grant: bad [31mcode");
        assert_eq!(
            reason(b"<html>\n<b>Oops</b></html>"),
            ": <html> <b>Oops</b></html>"
        );
        assert_eq!(reason(b""), "");
        assert_eq!(reason(&[b'x'; 500]).chars().count(), 2 + 200 + 1);
    }
}
