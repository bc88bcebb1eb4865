//! The HTTP client (SPEC §4, §4a): one ureq agent with rustls and the system trust
//! store, the proxy route resolved for the base URL (ureq never reads the environment
//! itself), fixed timeouts, capped bodies, and the mapping from HTTP status to the
//! program's exit codes. Bodies of error responses are always read so the server's
//! reason reaches the user (sanitized and shortened); [`super::failure`] words a failure
//! to connect.

use std::time::Duration;

use serde::de::DeserializeOwned;
use ureq::tls::{RootCerts, TlsConfig};

use crate::error::{Error, Result};
use crate::net::proxy::Route;
use crate::net::{Endpoint, failure};
use crate::origin::Origin;
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
    /// The HTTP status code.
    pub status: u16,
    /// The body, cut at the cap.
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
    base: Origin,
    /// `host[:port]` of the base, as messages name it.
    host: String,
    route: Route,
}

impl Client {
    /// A client for `endpoint` with the program's timeouts.
    pub fn new(endpoint: &Endpoint) -> Client {
        Client::build(endpoint, Timeouts::STANDARD)
    }

    /// A client for `endpoint` whose requests give up after `timeouts`.
    fn build(endpoint: &Endpoint, timeouts: Timeouts) -> Client {
        let Endpoint { base, route } = endpoint;
        let roots = if system_roots_present() {
            RootCerts::PlatformVerifier
        } else {
            debug!("no system CA bundle found; using the bundled Mozilla roots");
            RootCerts::WebPki
        };
        let via = match route {
            Route::Proxy(chosen) => {
                debug!("connecting to {base} through proxy {}", chosen.describe());
                Some(chosen.proxy.clone())
            }
            Route::Bypass { var } => {
                debug!("connecting to {base} directly: {var} lists it");
                None
            }
            Route::Direct => None,
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
        Client {
            agent,
            host: base.authority(),
            base: base.clone(),
            route: route.clone(),
        }
    }

    /// `GET base+path`, decoding a 2xx JSON body into `T`.
    pub fn get_json<T: DeserializeOwned>(&self, path: &str, auth: Auth<'_>) -> Result<T> {
        let resp = self.get(path, auth)?;
        self.json(path, &self.success(path, resp)?)
    }

    /// `GET base+path`; returns the response whatever its status.
    pub fn get(&self, path: &str, auth: Auth<'_>) -> Result<Response> {
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
            Route::Proxy(chosen) => Some(chosen),
            _ => None,
        };
        Error::failure(sanitize::clean(&failure::describe(&self.base, via, &e)).into_owned())
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
        let endpoint = Endpoint {
            base: Origin::parse(base).unwrap(),
            route: Route::Direct,
        };
        let client = Client::build(&endpoint, short);
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
