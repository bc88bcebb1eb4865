//! The Baseten management API endpoints of SPEC §4 as typed calls.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result};
use crate::net::client::{Auth, Client, Response};
use crate::remote::Remote;
use crate::sanitize;
use crate::secret::Secret;
use crate::ui;

/// The OAuth client id of this program.
const CLIENT_ID: &str = "baseten-cli";
const AUTHORIZE: &str = "/v1/users/auth/device/authorize";
const TOKEN: &str = "/v1/users/auth/device/token";
const ME: &str = "/v1/users/me";
const LOGOUT: &str = "/v1/users/auth/logout";

/// Who a credential belongs to. Any field may be null or absent.
#[derive(Deserialize)]
pub struct Me {
    /// The account's id on the platform.
    pub user_id: Option<String>,
    /// The e-mail address it logs in with.
    pub email: Option<String>,
    /// The person's display name.
    pub name: Option<String>,
    /// The workspace the credential acts in.
    pub workspace_name: Option<String>,
}

/// The answer to starting a device flow (RFC 8628 §3.2).
#[derive(Deserialize)]
pub struct DeviceAuthorization {
    /// What the token polls present: a secret.
    pub device_code: Secret,
    /// The code the person types on the verification page.
    pub user_code: String,
    /// The page where the person enters the code.
    pub verification_uri: String,
    /// The same page with the code filled in, when the server offers it.
    pub verification_uri_complete: Option<String>,
    /// Seconds as any JSON number (`600`, `600.0`).
    #[serde(deserialize_with = "duration")]
    pub expires_in: Duration,
    /// The wait between polls the server asked for, when it named one.
    #[serde(default, deserialize_with = "optional_duration")]
    pub interval: Option<Duration>,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Deserialize)]
pub struct TokenResponse {
    /// The bearer token API calls present.
    pub access_token: Secret,
    /// The token that gets a new access token, when the server issued one.
    pub refresh_token: Option<Secret>,
    /// Whole seconds; a fraction (`3600.0`, `3599.5`) is rounded down.
    #[serde(default, deserialize_with = "optional_whole_seconds")]
    pub expires_in: Option<u64>,
    /// `Bearer`: required by RFC 6749, otherwise unused.
    #[allow(dead_code)]
    pub token_type: String,
}

/// An RFC 6749 §5.2 / RFC 8628 §3.5 error body.
#[derive(Deserialize)]
struct OAuthError {
    error: String,
    error_description: Option<String>,
}

/// What one device-flow poll said.
pub enum Poll {
    /// The user approved: tokens.
    Token(TokenResponse),
    /// `authorization_pending`.
    Pending,
    /// `slow_down`, or HTTP 429 with the wait its `Retry-After` asked for.
    SlowDown {
        /// The wait `Retry-After` asked for, when it was given.
        retry_after: Option<Duration>,
    },
    /// A connection failure or 5xx: worth another try after a longer wait.
    Retry(Error),
}

/// The management API at one base URL.
pub struct Api {
    http: Client,
}

impl Api {
    /// A client for the management API of `remote`; a usage error when no request may
    /// be sent there (unusable proxy variables), before anything is sent.
    pub fn new(remote: &Remote) -> Result<Api> {
        let endpoint = remote.endpoint().map_err(Error::usage)?;
        ui::debug!("management API {}", endpoint.base);
        Ok(Api {
            http: Client::new(endpoint),
        })
    }

    /// `GET /v1/users/me`.
    pub fn me(&self, auth: Auth<'_>) -> Result<Me> {
        self.http.get_json(ME, auth)
    }

    /// `GET /v1/users/me` for the credential of `whose` (a profile, or the variable it
    /// came from): a 401/403 says whose credential the server rejected (SPEC §6b).
    pub fn whoami(&self, auth: Auth<'_>, whose: &str) -> Result<Me> {
        let resp = self.http.get(ME, auth)?;
        if let 401 | 403 = resp.status {
            return Err(Error::Auth(format!(
                "the server rejected the credential of {whose} ({}); run `baseten auth login`",
                resp.status
            )));
        }
        self.http.json(ME, &self.http.success(ME, resp)?)
    }

    /// Starts a device flow.
    pub fn authorize(&self) -> Result<DeviceAuthorization> {
        let resp = self
            .http
            .post_form(AUTHORIZE, &[("client_id", CLIENT_ID)], None)?;
        let auth: DeviceAuthorization = self
            .http
            .json(AUTHORIZE, &self.http.success(AUTHORIZE, resp)?)?;
        if auth.device_code.is_empty()
            || auth.user_code.is_empty()
            || auth.verification_uri.is_empty()
        {
            return Err(Error::failure(format!(
                "{AUTHORIZE}: the server sent an incomplete device authorization"
            )));
        }
        Ok(auth)
    }

    /// Asks once whether the user has approved the device code.
    pub fn poll(&self, device_code: &Secret) -> Result<Poll> {
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code.expose()),
            ("client_id", CLIENT_ID),
        ];
        let resp = match self.http.post_form(TOKEN, &form, None) {
            Ok(resp) => resp,
            Err(e) => return Ok(Poll::Retry(e)),
        };
        if resp.status == 429 {
            // Too many requests: slow down (RFC 8628 §3.5) whatever the body says.
            return Ok(Poll::SlowDown {
                retry_after: resp.retry_after,
            });
        }
        if (400..500).contains(&resp.status) {
            let err = self.oauth_error(&resp)?;
            return match err.error.as_str() {
                "authorization_pending" => Ok(Poll::Pending),
                "slow_down" => Ok(Poll::SlowDown { retry_after: None }),
                "access_denied" => Err(Error::Auth("authorization was denied".into())),
                "expired_token" => Err(expired()),
                // Any other error: the server's words, with the exit code its status
                // calls for (SPEC §8: 401/403 → 3, other 4xx → 5).
                _ => Err(match resp.status {
                    401 | 403 => Error::Auth(describe(&err)),
                    _ => Error::Rejected(describe(&err)),
                }),
            };
        }
        match self.http.success(TOKEN, resp) {
            Ok(resp) => Ok(Poll::Token(self.token(&resp)?)),
            Err(e @ Error::Server(_)) => Ok(Poll::Retry(e)),
            Err(e) => Err(e),
        }
    }

    /// Trades a refresh token for a new token pair. A refused refresh token is an
    /// authentication failure: the user has to log in again.
    pub fn refresh(&self, refresh_token: &Secret) -> Result<TokenResponse> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", CLIENT_ID),
        ];
        let resp = self.http.post_form(TOKEN, &form, None)?;
        if resp.status == 400 {
            let err = self.oauth_error(&resp)?;
            return Err(Error::Auth(format!(
                "the session could not be refreshed ({}); run `baseten auth login` again",
                describe(&err)
            )));
        }
        let resp = self.http.success(TOKEN, resp)?;
        self.token(&resp)
    }

    /// Revokes the OAuth session the access token belongs to.
    pub fn revoke(&self, access_token: &Secret) -> Result<()> {
        let resp = self
            .http
            .post_form(LOGOUT, &[], Some(Auth::Bearer(access_token)))?;
        self.http.success(LOGOUT, resp).map(drop)
    }

    fn token(&self, resp: &Response) -> Result<TokenResponse> {
        let token: TokenResponse = self.http.json(TOKEN, resp)?;
        if token.access_token.is_empty() {
            return Err(Error::failure(format!(
                "{TOKEN}: the server sent an empty access token"
            )));
        }
        Ok(token)
    }

    /// The RFC 6749 error body of a 4xx; without one, the generic status mapping.
    fn oauth_error(&self, resp: &Response) -> Result<OAuthError> {
        self.http
            .json(TOKEN, resp)
            .map_err(|_| self.http.status_error(TOKEN, resp))
    }
}

/// Longest duration a server may name (about 31 years); anything above is refused.
const MAX_SECONDS: f64 = 1e9;

/// Seconds as a JSON number, integer or not, non-negative and finite.
fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let secs = f64::deserialize(d)?;
    if secs.is_finite() && (0.0..=MAX_SECONDS).contains(&secs) {
        Ok(secs)
    } else {
        Err(serde::de::Error::custom(format!(
            "{secs} is not a number of seconds"
        )))
    }
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    seconds(d).map(Duration::from_secs_f64)
}

fn optional_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    #[derive(Deserialize)]
    struct Secs(#[serde(deserialize_with = "duration")] Duration);
    Ok(Option::<Secs>::deserialize(d)?.map(|s| s.0))
}

fn optional_whole_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    struct Secs(#[serde(deserialize_with = "seconds")] f64);
    // In range by `seconds`, so the conversion is exact for the whole part.
    Ok(Option::<Secs>::deserialize(d)?.map(|s| s.0.floor() as u64))
}

/// The error for a device code that ran out of time.
pub fn expired() -> Error {
    Error::Auth("the device code expired; run `baseten auth login` again".into())
}

/// `error: description`, as a short, sanitized excerpt.
fn describe(err: &OAuthError) -> String {
    let text = match &err.error_description {
        Some(d) if !d.is_empty() => format!("{}: {d}", err.error),
        _ => err.error.clone(),
    };
    sanitize::excerpt(&text)
}
