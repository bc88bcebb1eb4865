//! `baseten auth logout`: revoke the active OAuth session on the server (best effort)
//! and forget the active account of the remote.

use serde::Serialize;

use super::usable;
use crate::api::Api;
use crate::error::{Error, Result};
use crate::output::Report;
use crate::remote::Remote;
use crate::store::Store;
use crate::term;

/// The result of `logout`.
#[derive(Serialize)]
pub struct LogoutReport {
    pub user: String,
}

impl Report for LogoutReport {
    fn lines(&self) -> Vec<String> {
        vec![format!("Logged out {}", self.user)]
    }
}

/// Runs `logout` for the active account of `remote`. An OAuth session is revoked with
/// the stored token (never `BASETEN_API_KEY`), refreshed first if it has expired; a
/// failed revocation is a warning, and the account is removed all the same.
pub fn run(remote: &Remote) -> Result<LogoutReport> {
    let store = Store::open()?;
    let account = store
        .active(&remote.url)?
        .ok_or_else(|| Error::failure(format!("no active user for {}", remote.url)))?;
    store.remove(&remote.url, &account.label, |cred| {
        let api = Api::new(&remote.api);
        let revoked = cred
            .and_then(|cred| usable(&api, cred))
            .and_then(|cred| api.revoke(&cred.access_token));
        if let Err(e) = revoked {
            term::warn(&format!("could not revoke the session on the server: {e}"));
        }
    })?;
    Ok(LogoutReport {
        user: account.label,
    })
}
