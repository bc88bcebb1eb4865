//! The leaf commands. Each takes the resolved arguments, does its work and returns a
//! typed result for the output layer; none of them prints results itself.

pub mod login;
pub mod logout;
pub mod oauth;
pub mod status;
pub mod switch;
pub mod token;

use crate::error::{Error, Result};
use crate::remote::Remote;
use crate::store::{Account, Snapshot};
use crate::term;

/// Name of the environment variable that overrides stored credentials.
pub const API_KEY_ENV: &str = "BASETEN_API_KEY";

/// The warning for a secret that had to go to the file instead of the keyring.
const FALLBACK_WARNING: &str =
    "could not store credentials in system keyring, storing in plain text";

/// The active account of the remote, or the "not logged in" error.
fn require_active(snapshot: &Snapshot, remote: &Remote) -> Result<Account> {
    snapshot
        .active(&remote.url)
        .ok_or_else(|| not_logged_in(remote))
}

/// The error for a remote without an active account (SPEC §6).
fn not_logged_in(remote: &Remote) -> Error {
    Error::failure(format!(
        "not logged in to {}; run `baseten auth login` or set {API_KEY_ENV}",
        remote.url
    ))
}

/// Says so when a secret went to the file because the keyring could not take it.
fn warn_if_fell_back(saved: crate::store::Saved) {
    if saved.fell_back {
        term::warn(FALLBACK_WARNING);
    }
}
