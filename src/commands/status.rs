//! `baseten auth status`: offline; what the store (or `BASETEN_API_KEY`) says about the
//! account in use, or with `--all` about every stored account.

use std::collections::HashMap;

use serde::Serialize;

use super::{Source, choose_account, not_logged_in};
use crate::cli::args::{API_KEY_ENV, Selection};
use crate::error::Result;
use crate::output::{ListReport, Report};
use crate::remote::Remote;
use crate::store::{Account, AuthType, Credential, Storage, Store};
use crate::timestamp;
use crate::ui::{self, debug};

/// The result of `status`.
#[derive(Serialize)]
pub struct StatusReport {
    pub host: String,
    pub user: Option<String>,
    pub auth_type: &'static str,
    pub storage: Option<Storage>,
    pub source: Source,
    pub expires_at: Option<String>,
    /// The official CLI's name for `user`.
    pub profile: Option<String>,
    /// The official CLI's name for `host`.
    pub remote_url: String,
    /// Only with `BASETEN_API_KEY`: the stored active account it shadows (or null).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_user: Option<Option<String>>,
}

impl Report for StatusReport {
    fn lines(&self) -> Vec<String> {
        let mut lines = vec![self.host.clone()];
        lines.push(match &self.user {
            Some(user) => format!("  Logged in as {user}"),
            None => format!("  Logged in with {API_KEY_ENV}"),
        });
        lines.push(format!("  Auth type: {}", self.auth_type));
        if let Some(Some(stored)) = &self.stored_user {
            lines.push(format!(
                "  Stored account {stored} is ignored while {API_KEY_ENV} is set"
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

/// One account of `status --all`.
#[derive(Serialize)]
pub struct AccountStatus {
    pub host: String,
    pub user: String,
    pub auth_type: &'static str,
    pub storage: Storage,
    pub expires_at: Option<String>,
    /// Whether it is its remote's active account.
    pub active: bool,
}

/// The result of `status --all`: every stored account, grouped by remote.
pub struct StatusList {
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
            let mut line = format!(
                "  {mark} {} ({}, {}",
                a.user,
                a.auth_type,
                a.storage.as_str()
            );
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
    if selection.env_key_in_use().is_some() {
        // The store is consulted only to mention what the variable shadows; a missing or
        // unreadable store must not stop the variable from working.
        let stored = Store::open(&remote.url)
            .and_then(|s| super::read(&s))
            .map(|snapshot| snapshot.active(&remote.url).map(|a| a.name))
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
        });
    }
    let store = Store::open(&remote.url)?;
    let (account, remote, source) =
        choose_account(&super::read(&store)?, remote, &selection, not_logged_in)?;
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
    })
}

/// Runs `status --all`: every stored account of every remote, grouped by remote in the
/// order remotes first appear. An empty store is a success, said on stderr.
pub fn run_all(remote: &Remote) -> Result<StatusList> {
    let store = Store::open(&remote.url)?;
    let mut all = super::read(&store)?.all();
    if all.is_empty() {
        ui::note("no accounts are stored; run `baseten auth login` to add one");
    }
    // Grouped by remote, remotes in the order they first appear (a map, not a list
    // search per account: the cost stays linear in the number of remotes).
    let mut order: HashMap<String, usize> = HashMap::new();
    for a in &all {
        let next = order.len();
        order.entry(a.remote.clone()).or_insert(next);
    }
    all.sort_by_key(|a| order.get(&a.remote).copied());
    let accounts = all
        .into_iter()
        .map(|a| AccountStatus {
            expires_at: expiry(&store, &a),
            host: a.remote,
            user: a.name,
            auth_type: a.auth_type.as_str(),
            storage: a.storage,
            active: a.active,
        })
        .collect();
    Ok(StatusList { accounts })
}

/// An OAuth account's access-token expiry, RFC 3339; reading it may mean asking the
/// keyring, and status still answers when that fails.
fn expiry(store: &Store, account: &Account) -> Option<String> {
    match account.auth_type {
        AuthType::OAuth => match store.secret(account) {
            Ok(Credential::OAuth(cred)) => cred.expiry.at.map(timestamp::format),
            Ok(Credential::ApiKey(_)) => None,
            Err(e) => {
                debug!("expiry of {:?} unknown: {e}", account.name);
                None
            }
        },
        AuthType::ApiKey => None,
    }
}
