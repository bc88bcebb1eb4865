//! The leaf commands. Each takes the resolved arguments, does its work and returns a
//! typed result for the output layer; none of them prints results itself.

pub mod login;
pub mod logout;
pub mod status;
pub mod switch;
pub mod token;
pub mod version;
pub mod whoami;

use serde::Serialize;

use crate::cli::args::Selection;
use crate::error::{Error, Result};
use crate::net::client::Auth;
use crate::remote::Remote;
use crate::secret::Secret;
use crate::store::{Account, AuthType, Contents, Snapshot};
use crate::ui;
use crate::vars::{API_KEY as API_KEY_ENV, PROFILE as PROFILE_ENV};

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

/// The stored account a command acts on (SPEC §3, §6a), with the remote to talk to
/// about it: `--user`, else `BASETEN_PROFILE`, else [`working_account`] (`none` says why
/// there is none). A named account brings its own remote unless one was given
/// explicitly, and then it must belong to that one. `BASETEN_API_KEY` is the caller's
/// to weigh: it involves no stored account.
fn choose_account(
    snapshot: &Snapshot<'_>,
    remote: &Remote,
    selection: &Selection,
    none: fn(&Remote) -> Error,
) -> Result<(Account, Remote, Source)> {
    let (name, source, from) = match (&selection.user, &selection.profile_env) {
        (Some(name), _) => (name, Source::Store, "--user"),
        (None, Some(name)) => (name, Source::ProfileEnv, PROFILE_ENV),
        (None, None) => {
            let account = working_account(snapshot, remote)?.ok_or_else(|| none(remote))?;
            account.check_remote()?;
            let remote = remote.of_account(&account.remote);
            return Ok((account, remote, Source::Store));
        }
    };
    let account = snapshot
        .get(name)?
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

/// The account a command uses when none is named (SPEC §3): the given remote's active
/// account when a remote was given, else the current profile, on whatever remote it
/// lives. Other profiles are never tried.
fn working_account(snapshot: &Snapshot<'_>, remote: &Remote) -> Result<Option<Account>> {
    if remote.explicit {
        snapshot.active(&remote.url)
    } else {
        snapshot.current()
    }
}

/// Orders accounts by remote, remotes in the order they first appear, accounts of one
/// remote in their own order (`status --all`, the `switch` menu). Linear in the number
/// of accounts.
fn group_by_remote<T>(accounts: &mut [T], remote: impl Fn(&T) -> &str) {
    let mut first: std::collections::HashMap<String, usize> = Default::default();
    for (i, a) in accounts.iter().enumerate() {
        first.entry(remote(a).to_owned()).or_insert(i);
    }
    accounts.sort_by_cached_key(|a| first.get(remote(a)).copied());
}

/// How a secret of an account of `auth_type` is sent.
fn auth_of(auth_type: AuthType, secret: &Secret) -> Auth<'_> {
    match auth_type {
        AuthType::ApiKey => Auth::ApiKey(secret),
        AuthType::OAuth => Auth::Bearer(secret),
    }
}

/// The error when [`working_account`] finds none (SPEC §6: status, token, whoami,
/// switch).
fn not_logged_in(remote: &Remote) -> Error {
    let whom = if remote.explicit {
        format!("not logged in to {}", remote.url)
    } else {
        "not logged in (no current profile)".to_owned()
    };
    Error::failure(format!(
        "{whom}; run `baseten auth login` or set {API_KEY_ENV}"
    ))
}

/// The names of the stored accounts, one per line, for shell completions: read from
/// `auth.json` alone (no keyring, no network, no secret).
pub fn account_names() -> Result<String> {
    let store = crate::store::Store::open(crate::remote::DEFAULT_REMOTE)?;
    Ok(Snapshot::new(&store.read()?)?
        .all()?
        .into_iter()
        .map(|a| a.name + "\n")
        .collect())
}

/// Parses what was read of the store, warning (once per run) when `auth.json` holds
/// plain-text secrets that other users can read.
fn read(contents: &Contents) -> Result<Snapshot<'_>> {
    static WARNED: std::sync::Once = std::sync::Once::new();
    let snapshot = Snapshot::new(contents)?;
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
