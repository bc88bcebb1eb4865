//! The leaf commands. Each takes the resolved arguments, does its work and returns a
//! typed result for the output layer; none of them prints results itself.

pub mod login;
pub mod logout;
pub mod oauth;
pub mod status;
pub mod switch;
pub mod token;

use serde::Serialize;

use crate::cli::args::{API_KEY_ENV, PROFILE_ENV, Selection};
use crate::error::{Error, Result};
use crate::remote::Remote;
use crate::store::{Account, Snapshot, Store};
use crate::ui;

/// Where the credential a command used came from (status JSON `source`).
#[derive(Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A stored account: the active one, or one named by `--user`.
    Store,
    /// `BASETEN_API_KEY`.
    Env,
    /// A stored account named by `BASETEN_PROFILE`.
    ProfileEnv,
}

/// The stored account a command acts on (SPEC §6a), with the remote to talk to about
/// it: `--user`, else `BASETEN_PROFILE`, else the active account of `remote` (`none`
/// says why there is none). A named account brings its own remote unless one was given
/// explicitly, and then it must belong to that one. `BASETEN_API_KEY` is the caller's
/// to weigh: it involves no stored account.
fn choose_account(
    snapshot: &Snapshot,
    remote: &Remote,
    selection: &Selection,
    none: fn(&Remote) -> Error,
) -> Result<(Account, Remote, Source)> {
    let (name, source, from) = match (&selection.user, &selection.profile_env) {
        (Some(name), _) => (name, Source::Store, "--user"),
        (None, Some(name)) => (name, Source::ProfileEnv, PROFILE_ENV),
        (None, None) => {
            let account = snapshot.active(&remote.url).ok_or_else(|| none(remote))?;
            account.check_remote()?;
            return Ok((account, remote.clone(), Source::Store));
        }
    };
    let account = snapshot
        .get(name)
        .ok_or_else(|| Error::failure(format!("account {name:?} (from {from}) not found")))?;
    if remote.explicit && account.remote != remote.url {
        return Err(Error::failure(format!(
            "account {name:?} belongs to {}, not to {}",
            account.remote, remote.url
        )));
    }
    account.check_remote()?;
    let remote = remote.of_account(&account.remote);
    Ok((account, remote, source))
}

/// The warning for a secret that had to go to the file instead of the keyring.
const FALLBACK_WARNING: &str =
    "could not store credentials in system keyring, storing in plain text";

/// The error for a remote without an active account (SPEC §6: status, token, switch).
fn not_logged_in(remote: &Remote) -> Error {
    Error::failure(format!(
        "not logged in to {}; run `baseten auth login` or set {API_KEY_ENV}",
        remote.url
    ))
}

/// The names of the stored accounts, one per line, for shell completions: read from
/// `auth.json` alone (no keyring, no network, no secret).
pub fn account_names() -> Result<String> {
    let store = crate::store::Store::open(crate::remote::DEFAULT_REMOTE)?;
    Ok(store
        .read()?
        .all()
        .into_iter()
        .map(|a| a.name + "\n")
        .collect())
}

/// Reads the store, warning (once per run) when `auth.json` holds plain-text secrets
/// that other users can read.
fn read(store: &Store) -> Result<Snapshot> {
    static WARNED: std::sync::Once = std::sync::Once::new();
    let snapshot = store.read()?;
    if let Some(path) = &snapshot.exposed {
        WARNED.call_once(|| {
            ui::warn(&format!(
                "{} holds plain-text credentials and is readable by other users; run \
                 `chmod 600` on it",
                path.display()
            ));
        });
    }
    Ok(snapshot)
}

/// Says so when a secret went to the file because the keyring could not take it.
fn warn_if_fell_back(saved: crate::store::Saved) {
    if saved.fell_back {
        ui::warn(FALLBACK_WARNING);
    }
}
