//! `baseten auth logout`: revoke the active OAuth session on the server (best effort)
//! and forget the active account of the remote.

use serde::Serialize;

use super::choose_account;
use super::oauth::usable_without_saving;
use crate::api::Api;
use crate::cli::args::Selection;
use crate::error::{Error, Result};
use crate::output::Report;
use crate::remote::Remote;
use crate::store::{AuthType, Credential, Store};
use crate::ui;

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

/// Runs `logout` for the account named by `--user` or `BASETEN_PROFILE`, else the
/// active account of `remote` (`BASETEN_API_KEY` has nothing to log out). An OAuth session is revoked with
/// the stored token (never `BASETEN_API_KEY`), refreshed first if it has expired; a
/// failed revocation is a warning, and the account is removed all the same. The server
/// is called before the store is locked, and only once the store is known to be
/// writable and the keyring holding the secret to answer, so the session is revoked
/// exactly when the account can really go.
pub fn run(remote: &Remote, selection: Selection) -> Result<LogoutReport> {
    let store = Store::open(&remote.url)?;
    let none = |r: &Remote| Error::failure(format!("no active user for {}", r.url));
    let (account, remote, _) = choose_account(&super::read(&store)?, remote, &selection, none)?;
    store.check_removable(&account)?;
    if account.auth_type == AuthType::OAuth {
        let api = Api::new(&remote.api);
        let revoked = store.secret(&account).and_then(|secret| match secret {
            Credential::OAuth(cred) => api.revoke(&usable_without_saving(&api, cred)?.access_token),
            Credential::ApiKey(_) => Ok(()),
        });
        if let Err(e) = revoked {
            ui::warn(&format!("could not revoke the session on the server: {e}"));
        }
    }
    store.remove(&account.name)?;
    Ok(LogoutReport { user: account.name })
}
