//! The leaf commands. Each takes the resolved arguments, does its work and returns a
//! typed result for the output layer; none of them prints results itself.

pub mod login;
pub mod logout;
pub mod status;
pub mod switch;
pub mod token;

use crate::api::{Api, TokenResponse};
use crate::error::{Error, Result};
use crate::remote::Remote;
use crate::store::{Account, Expiry, OAuthCredential, Store};
use crate::timestamp;

/// Name of the environment variable that overrides stored credentials.
pub const API_KEY_ENV: &str = "BASETEN_API_KEY";

/// Seconds before the recorded expiry at which an access token counts as expired.
const EXPIRY_MARGIN: i64 = 10;

/// The active account of the remote, or the "not logged in" error.
fn require_active(store: &Store, remote: &Remote) -> Result<Account> {
    store
        .active(&remote.url)?
        .ok_or_else(|| not_logged_in(remote))
}

/// The error for a remote without an active account (SPEC §6).
fn not_logged_in(remote: &Remote) -> Error {
    Error::failure(format!(
        "not logged in to {}; run `baseten auth login` or set {API_KEY_ENV}",
        remote.url
    ))
}

/// A stored credential from a token response; a refresh that returns no new refresh
/// token keeps the `previous` one.
fn credential_from(token: TokenResponse, previous: Option<&str>) -> OAuthCredential {
    OAuthCredential {
        access_token: token.access_token,
        refresh_token: token
            .refresh_token
            .or_else(|| previous.map(str::to_owned))
            .unwrap_or_default(),
        expiry: Expiry(
            token
                .expires_in
                .map(|s| timestamp::now().saturating_add(i64::try_from(s).unwrap_or(i64::MAX))),
        ),
        extra: Default::default(),
    }
}

fn is_expired(cred: &OAuthCredential) -> bool {
    cred.expiry
        .0
        .is_some_and(|t| timestamp::now() >= t.saturating_sub(EXPIRY_MARGIN))
}

/// `cred`, or a refreshed pair when it has expired (not saved: for a credential that is
/// about to be discarded).
fn usable(api: &Api, cred: OAuthCredential) -> Result<OAuthCredential> {
    if !is_expired(&cred) {
        return Ok(cred);
    }
    refresh_with(api, &cred)
}

/// Trades `cred`'s refresh token for a new pair.
fn refresh_with(api: &Api, cred: &OAuthCredential) -> Result<OAuthCredential> {
    if cred.refresh_token.is_empty() {
        return Err(Error::Auth(
            "the access token expired and there is no refresh token; run `baseten auth login` again"
                .into(),
        ));
    }
    let token = api.refresh(&cred.refresh_token)?;
    Ok(credential_from(token, Some(&cred.refresh_token)))
}

/// `cred`, or when it has expired a refreshed pair, saved before it is returned.
fn fresh(
    store: &Store,
    remote: &Remote,
    label: &str,
    cred: OAuthCredential,
) -> Result<OAuthCredential> {
    if !is_expired(&cred) {
        return Ok(cred);
    }
    store.refresh(&remote.url, label, |current| {
        if !is_expired(current) {
            return Ok(None); // another run refreshed it while we waited for the lock
        }
        refresh_with(&Api::new(&remote.api), current).map(Some)
    })
}
