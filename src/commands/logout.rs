//! `baseten auth logout`: revoke the active OAuth session on the server (best effort)
//! and forget the active account of the remote.

use serde::Serialize;

use super::fresh;
use crate::api::Api;
use crate::error::{Error, Result};
use crate::output::Report;
use crate::remote::Remote;
use crate::store::{AuthType, Secret, Store};
use crate::term;

/// The result of `logout`.
#[derive(Serialize)]
pub struct LogoutReport {
    pub user: String,
}

impl Report for LogoutReport {
    fn text(&self) -> String {
        format!("Logged out {}", self.user)
    }
}

/// Runs `logout` for the active account of `remote`. Revocation always uses the stored
/// token, never `BASETEN_API_KEY`.
pub fn run(remote: &Remote) -> Result<LogoutReport> {
    let store = Store::open()?;
    let account = store
        .active(&remote.url)?
        .ok_or_else(|| Error::failure(format!("no active user for {}", remote.url)))?;
    if account.auth_type == AuthType::OAuth {
        let revoked = store
            .secret(&remote.url, &account)
            .and_then(|secret| match secret {
                Secret::OAuth(cred) => {
                    let cred = fresh(&store, remote, &account.label, cred)?;
                    Api::new(&remote.api).revoke(&cred.access_token)
                }
                Secret::ApiKey(_) => Ok(()),
            });
        if let Err(e) = revoked {
            term::warn(&format!("could not revoke the session on the server: {e}"));
        }
    }
    store.remove(&remote.url, &account.label)?;
    Ok(LogoutReport {
        user: account.label,
    })
}
