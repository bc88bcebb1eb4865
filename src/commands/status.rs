//! `baseten auth status`: offline; what the store (or `BASETEN_API_KEY`) says about the
//! account in use, or with `--all` about every stored account.

use serde::Serialize;

use super::{Source, choose_account, not_logged_in, working_account};
use crate::cli::args::Selection;
use crate::cli::env_key::EnvKey;
use crate::error::Result;
use crate::output::{ListReport, Report};
use crate::remote::Remote;
use crate::store::{Account, AuthType, Credential, Storage, Store};
use crate::ui::{self, debug};

/// The result of `status`.
#[derive(Serialize)]
pub struct StatusReport {
    /// The remote the credential belongs to.
    pub host: String,
    /// The stored account in use; null for a key from the environment.
    pub user: Option<String>,
    /// `api_key` or `oauth`.
    pub auth_type: &'static str,
    /// Where the secret is kept; null for a key from the environment.
    pub storage: Option<Storage>,
    /// Where the credential in use came from.
    pub source: Source,
    /// When an OAuth access token expires (RFC 3339); null for an API key.
    pub expires_at: Option<String>,
    /// The official CLI's name for `user`.
    pub profile: Option<String>,
    /// The official CLI's name for `host`.
    pub remote_url: String,
    /// Only with a key from the environment: the stored account it shadows (or null).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_user: Option<Option<String>>,
    /// The variable the key came from, when it came from the environment.
    #[serde(skip)]
    pub env_var: Option<&'static str>,
}

impl Report for StatusReport {
    fn lines(&self) -> Vec<String> {
        let mut lines = vec![self.host.clone()];
        lines.push(match (&self.user, self.env_var) {
            (_, Some(var)) => format!("  Logged in with {var}"),
            (Some(user), None) => format!("  Logged in as {user}"),
            (None, None) => "  Logged in".to_owned(),
        });
        lines.push(format!("  Auth type: {}", self.auth_type));
        if let (Some(Some(stored)), Some(var)) = (&self.stored_user, self.env_var) {
            lines.push(format!(
                "  Stored account {stored} is ignored while {var} is set"
            ));
        }
        if let Some(storage) = self.storage {
            lines.push(format!("  Storage: {}", storage.as_str()));
        }
        if let Some(at) = &self.expires_at {
            lines.push(format!("  Token expires: {at}"));
        }
        lines
    }
}

/// One account of `status --all`: a stored one, or the key from the environment
/// (`user`, `profile` and `storage` null), which is in use wherever it applies.
#[derive(Serialize)]
pub struct AccountStatus {
    /// The account's remote.
    pub host: String,
    /// The account's name; null for the key from the environment.
    pub user: Option<String>,
    /// `api_key` or `oauth`.
    pub auth_type: &'static str,
    /// Where the secret is kept; null for the key from the environment.
    pub storage: Option<Storage>,
    /// When an OAuth access token expires (RFC 3339); null for an API key.
    pub expires_at: Option<String>,
    /// Whether it is its remote's active account.
    pub active: bool,
    /// The official CLI's name for `user`.
    pub profile: Option<String>,
    /// The official CLI's name for `host`.
    pub remote_url: String,
    /// The variable the key came from, for the key from the environment.
    #[serde(skip)]
    pub env_var: Option<&'static str>,
}

/// The result of `status --all`: every stored account, grouped by remote.
pub struct StatusList {
    /// The accounts, in output order.
    pub accounts: Vec<AccountStatus>,
}

impl ListReport for StatusList {
    type Item = AccountStatus;

    fn items(&self) -> &[AccountStatus] {
        &self.accounts
    }

    /// `gh auth status` style: each remote, then one line per account, the active one
    /// marked with `*`.
    fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (i, a) in self.accounts.iter().enumerate() {
            if i == 0 || self.accounts[i - 1].host != a.host {
                lines.push(a.host.clone());
            }
            let mark = if a.active { '*' } else { ' ' };
            let (name, storage) = match (&a.user, a.storage, a.env_var) {
                (Some(user), Some(storage), _) => (user.as_str(), storage.as_str()),
                (_, _, var) => (var.unwrap_or_default(), "env"),
            };
            let mut line = format!("  {mark} {name} ({}, {storage}", a.auth_type);
            if let Some(at) = &a.expires_at {
                line.push_str(&format!(", expires {at}"));
            }
            line.push(')');
            if a.active {
                line.push_str(" active");
            }
            lines.push(line);
        }
        lines
    }
}

/// Runs `status` for the account `selection` picks (SPEC §6, §6a).
pub fn run(remote: &Remote, selection: Selection) -> Result<StatusReport> {
    if let Some(env) = selection.env_key_in_use() {
        // The store is consulted only to mention the account the variable shadows; a
        // missing or unreadable store must not stop the variable from working.
        let stored = Store::open(&remote.url)
            .and_then(|s| s.read())
            .and_then(|contents| working_account(&super::read(&contents)?, remote))
            .map(|account| account.map(|a| a.name))
            .unwrap_or_else(|e| {
                debug!("store not read: {e}");
                None
            });
        return Ok(StatusReport {
            host: remote.url.clone(),
            user: None,
            auth_type: AuthType::ApiKey.as_str(),
            storage: None,
            source: Source::Env,
            expires_at: None,
            profile: None,
            remote_url: remote.url.clone(),
            stored_user: Some(stored),
            env_var: Some(env.var),
        });
    }
    let store = Store::open(&remote.url)?;
    let (account, remote, source) = choose_account(
        &super::read(&store.read()?)?,
        remote,
        &selection,
        not_logged_in,
    )?;
    Ok(StatusReport {
        host: remote.url.clone(),
        auth_type: account.auth_type.as_str(),
        expires_at: expiry(&store, &account),
        user: Some(account.name.clone()),
        storage: Some(account.storage),
        source,
        profile: Some(account.name),
        remote_url: remote.url,
        stored_user: None,
        env_var: None,
    })
}

/// Runs `status --all`: the key from the environment when one is set (it comes first,
/// on the remote it applies to), then every stored account of every remote, grouped by
/// remote in the order remotes first appear. An empty store is a success, said on
/// stderr. With a key from the environment, a store that cannot be found or read (a
/// scratch image without a config directory) leaves the key as the only account.
pub fn run_all(remote: &Remote, env: Option<EnvKey>) -> Result<StatusList> {
    let mut accounts: Vec<AccountStatus> = Vec::new();
    if let Some(env) = &env {
        accounts.push(AccountStatus {
            host: remote.url.clone(),
            user: None,
            auth_type: AuthType::ApiKey.as_str(),
            storage: None,
            expires_at: None,
            active: true,
            profile: None,
            remote_url: remote.url.clone(),
            env_var: Some(env.var),
        });
    }
    let stored = Store::open(&remote.url).and_then(|store| {
        let all = super::read(&store.read()?)?.all()?;
        Ok(all
            .into_iter()
            .map(|a| AccountStatus {
                expires_at: expiry(&store, &a),
                auth_type: a.auth_type.as_str(),
                storage: Some(a.storage),
                active: a.active,
                profile: Some(a.name.clone()),
                remote_url: a.remote.clone(),
                host: a.remote,
                user: Some(a.name),
                env_var: None,
            })
            .collect::<Vec<_>>())
    });
    match stored {
        Ok(stored) if stored.is_empty() && env.is_none() => {
            ui::note("no accounts are stored; run `baseten auth login` to add one");
        }
        Ok(stored) => accounts.extend(stored),
        Err(e) if env.is_some() => debug!("store not read: {e}"),
        Err(e) => return Err(e),
    }
    super::group_by_remote(&mut accounts, |a| &a.host);
    Ok(StatusList { accounts })
}

/// An OAuth account's access-token expiry, RFC 3339; reading it may mean asking the
/// keyring, and status still answers when that fails.
fn expiry(store: &Store<'_>, account: &Account) -> Option<String> {
    match account.auth_type {
        AuthType::OAuth => match store.secret(account) {
            // Whole seconds, whatever precision the store holds.
            Ok(Credential::OAuth(cred)) => cred.expiry.at.map(|t| format!("{t:.0}")),
            Ok(Credential::ApiKey(_)) => None,
            Err(e) => {
                debug!("expiry of {:?} unknown: {e}", account.name);
                None
            }
        },
        AuthType::ApiKey => None,
    }
}
