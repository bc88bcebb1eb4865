//! The HTTP client (SPEC §4): one ureq agent with rustls and the system trust store,
//! proxies from the environment, fixed timeouts, capped bodies, and the mapping from
//! HTTP status to the program's exit codes. Bodies of error responses are always read so
//! the server's reason reaches the user (sanitized and shortened).

use std::time::Duration;

use serde::de::DeserializeOwned;
use ureq::tls::{RootCerts, TlsConfig};

use crate::error::{Error, Result};
use crate::term::{self, debug};

/// Largest response body read, in bytes.
const BODY_LIMIT: u64 = 1 << 20;
/// Longest server text quoted in an error message.
const EXCERPT: usize = 200;

/// How a request authenticates.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// `Authorization: Bearer <OAuth access token>`.
    Bearer(&'a str),
    /// `Authorization: Api-Key <API key>`.
    ApiKey(&'a str),
}

/// A response whose body has been read (up to the cap).
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A client for one API base URL.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    host: String,
}

impl Client {
    /// A client for `base` (`scheme://host[:port]`).
    pub fn new(base: &str) -> Client {
        let roots = if system_roots_present() {
            RootCerts::PlatformVerifier
        } else {
            debug!("no system CA bundle found; using the bundled Mozilla roots");
            RootCerts::WebPki
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(30)))
            .user_agent(concat!("baseten-rs/", env!("CARGO_PKG_VERSION")))
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .build()
            .new_agent();
        let host = base.split_once("://").map_or(base, |(_, h)| h).to_owned();
        Client {
            agent,
            base: base.to_owned(),
            host,
        }
    }

    /// `GET base+path`, decoding a 2xx JSON body into `T`.
    pub fn get_json<T: DeserializeOwned>(&self, path: &str, auth: Auth<'_>) -> Result<T> {
        let req = with_auth(self.agent.get(format!("{}{path}", self.base)), auth);
        let resp = self.finish("GET", path, req.call())?;
        self.json(path, &self.success(path, resp)?)
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
        Ok(Response { status, body })
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
                format!("unexpected JSON ({e})")
            };
            Error::failure(format!("{} {path}: the server sent {what}", self.host))
        })
    }

    fn transport(&self, e: ureq::Error) -> Error {
        let why = match e {
            ureq::Error::Timeout(_) => "timed out".to_owned(),
            ureq::Error::HostNotFound => "host not found".to_owned(),
            ureq::Error::ConnectionFailed => "connection failed".to_owned(),
            other => other.to_string(),
        };
        Error::failure(format!("cannot reach {}: {}", self.host, term::clean(&why)))
    }
}

fn with_auth<B>(req: ureq::RequestBuilder<B>, auth: Auth<'_>) -> ureq::RequestBuilder<B> {
    match auth {
        Auth::Bearer(t) => req.header("Authorization", format!("Bearer {t}")),
        Auth::ApiKey(k) => req.header("Authorization", format!("Api-Key {k}")),
    }
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
    // Whitespace (newlines included) becomes single spaces before other controls go.
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = term::clean(&text);
    match text.char_indices().nth(EXCERPT) {
        _ if text.is_empty() => String::new(),
        Some((cut, _)) => format!(": {}…", &text[..cut]),
        None => format!(": {text}"),
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
    use super::reason;

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
