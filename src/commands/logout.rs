//! `baseten auth logout`: revoke the active OAuth session on the server (best effort)
//! and forget the active account of the remote.

use serde::Serialize;

use super::choose_account;
use crate::api::Api;
use crate::cli::args::Selection;
use crate::error::{Error, Result};
use crate::output::{ListReport, Report};
use crate::remote::Remote;
use crate::session::usable_without_saving;
use crate::store::{Account, AuthType, Credential, Store};
use crate::ui;

/// The result of `logout`: the removed profile, under both names of SPEC §2.
#[derive(Serialize)]
pub struct LogoutReport {
    /// The removed account's name.
    pub profile: String,
    /// The same as `profile`.
    pub user: String,
}

impl Report for LogoutReport {
    fn lines(&self) -> Vec<String> {
        vec![format!("Logged out {}", self.profile)]
    }
}

/// The error for nothing to log out, in the official CLI's words (SPEC §6).
fn no_current_profile(remote: &Remote) -> Error {
    if remote.explicit {
        Error::failure(format!(
            "no current profile for {}: it has no active account; name one with --profile",
            remote.url
        ))
    } else {
        Error::failure("no current profile; name the account to log out with --profile")
    }
}

/// Runs `logout` for the account named by `--user`, else the current profile (the
/// active account of `remote` when one was given). The selection carries no variable:
/// `BASETEN_API_KEY` has nothing to log out, and `BASETEN_PROFILE` does not apply.
pub fn run(remote: &Remote, selection: Selection) -> Result<LogoutReport> {
    let store = Store::open(&remote.url)?;
    let (account, remote, _) = choose_account(
        &super::read(&store.read()?)?,
        remote,
        &selection,
        no_current_profile,
    )?;
    log_out(&store, account, &remote)
}

/// The result of `logout --all`: every account logged out, in store order.
pub struct LogoutList {
    /// One report per account logged out.
    pub accounts: Vec<LogoutReport>,
}

impl ListReport for LogoutList {
    type Item = LogoutReport;

    fn items(&self) -> &[LogoutReport] {
        &self.accounts
    }

    fn lines(&self) -> Vec<String> {
        self.accounts.iter().flat_map(Report::lines).collect()
    }
}

/// Runs `logout --all`: every stored account of every remote, one after the other, each
/// as a single logout would. An empty store is a success, said on stderr. When one
/// account cannot go, the run stops there and says which ones went before it.
pub fn run_all(remote: &Remote) -> Result<LogoutList> {
    let store = Store::open(&remote.url)?;
    let all = super::read(&store.read()?)?.all()?;
    if all.is_empty() {
        ui::note("no accounts are stored; there is nothing to log out");
    }
    let mut accounts: Vec<LogoutReport> = Vec::with_capacity(all.len());
    for account in all {
        let own = remote.of_account(&account.remote);
        match log_out(&store, account, &own) {
            Ok(report) => accounts.push(report),
            Err(e) => {
                if !accounts.is_empty() {
                    let names: Vec<&str> = accounts.iter().map(|a| a.profile.as_str()).collect();
                    ui::warn(&format!(
                        "logged out before the failure: {}",
                        names.join(", ")
                    ));
                }
                return Err(e);
            }
        }
    }
    Ok(LogoutList { accounts })
}

/// Logs `account` out. An OAuth session is revoked with the stored token (never
/// `BASETEN_API_KEY`), refreshed first if it has expired; a failed revocation is a
/// warning, and the account is removed all the same. The server is called before the
/// store is locked, and only once the store is known to be writable and the keyring
/// holding the secret to answer, so the session is revoked exactly when the account can
/// really go.
fn log_out(store: &Store<'_>, account: Account, remote: &Remote) -> Result<LogoutReport> {
    store.check_removable(&account)?;
    if account.auth_type == AuthType::OAuth {
        let revoked = store.secret(&account).and_then(|secret| match secret {
            Credential::OAuth(cred) => {
                let api = Api::new(remote)?;
                api.revoke(&usable_without_saving(&api, cred)?.access_token)
            }
            Credential::ApiKey(_) => Ok(()),
        });
        if let Err(e) = revoked {
            ui::warn(&format!(
                "could not revoke the session of {} on the server: {e}",
                account.name
            ));
        }
    }
    store.remove(&account.name)?;
    Ok(LogoutReport {
        profile: account.name.clone(),
        user: account.name,
    })
}
