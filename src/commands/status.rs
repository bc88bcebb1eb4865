//! `baseten auth status`: offline; what the store (or `BASETEN_API_KEY`) says about the
//! remote.

use serde::Serialize;

use super::{API_KEY_ENV, not_logged_in};
use crate::error::Result;
use crate::output::Report;
use crate::remote::Remote;
use crate::store::{AuthType, Secret, Storage, Store};
use crate::term::debug;
use crate::timestamp;

/// Where the credential in use comes from.
#[derive(Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Store,
    Env,
}

/// The result of `status`.
#[derive(Serialize)]
pub struct StatusReport {
    pub host: String,
    pub user: Option<String>,
    pub auth_type: &'static str,
    pub storage: Option<Storage>,
    pub source: Source,
    pub expires_at: Option<String>,
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

/// Runs `status` for `remote`; `env_key` is `BASETEN_API_KEY` when set.
pub fn run(remote: &Remote, env_key: Option<&str>) -> Result<StatusReport> {
    if env_key.is_some() {
        // The store is consulted only to mention what the variable shadows; a missing or
        // unreadable store must not stop the variable from working.
        let stored = Store::open(&remote.url)
            .and_then(|s| s.read())
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
            stored_user: Some(stored),
        });
    }
    let store = Store::open(&remote.url)?;
    let account = store
        .read()?
        .active(&remote.url)
        .ok_or_else(|| not_logged_in(remote))?;
    // Only OAuth accounts have an expiry, and reading it may mean asking the keyring;
    // status still answers when that fails.
    let expires_at = match account.auth_type {
        AuthType::OAuth => match store.secret(&account) {
            Ok(Secret::OAuth(cred)) => cred.expiry.at.map(timestamp::format),
            Ok(Secret::ApiKey(_)) => None,
            Err(e) => {
                debug!("expiry unknown: {e}");
                None
            }
        },
        AuthType::ApiKey => None,
    };
    Ok(StatusReport {
        host: remote.url.clone(),
        auth_type: account.auth_type.as_str(),
        user: Some(account.name),
        storage: Some(account.storage),
        source: Source::Store,
        expires_at,
        stored_user: None,
    })
}
