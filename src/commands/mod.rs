//! The leaf commands. Each takes the resolved arguments, does its work and returns a
//! typed result for the output layer; none of them prints results itself.

pub mod logout;
pub mod status;
pub mod switch;
pub mod token;

use crate::error::{Error, Result};
use crate::remote::Remote;
use crate::store::{Account, Store};

/// Name of the environment variable that overrides stored credentials.
pub const API_KEY_ENV: &str = "BASETEN_API_KEY";

/// The active account of the remote, or the "not logged in" error.
fn require_active(store: &Store, remote: &Remote) -> Result<Account> {
    store.active(&remote.url)?.ok_or_else(|| not_logged_in(remote))
}

/// The error for a remote without an active account (SPEC §6).
fn not_logged_in(remote: &Remote) -> Error {
    Error::failure(format!(
        "not logged in to {}; run `baseten auth login` or set {API_KEY_ENV}",
        remote.url
    ))
}
