//! The credential store: which accounts exist per remote, which one is active, and where
//! each secret lives. `file` owns `auth.json`; this module owns the rules that say which
//! copy of a secret is current.

pub mod file;

use serde::Serialize;

use crate::error::{Error, Result};
pub use file::{AuthType, Expiry, OAuthCredential};
use file::{FileStore, UserEntry};

/// A stored secret.
pub enum Secret {
    /// An API key, sent as `Authorization: Api-Key <key>`.
    ApiKey(String),
    /// An OAuth token pair, sent as `Authorization: Bearer <access_token>`.
    OAuth(OAuthCredential),
}

impl Secret {
    /// Which kind of account holds this secret.
    pub fn auth_type(&self) -> AuthType {
        match self {
            Secret::ApiKey(_) => AuthType::ApiKey,
            Secret::OAuth(_) => AuthType::OAuth,
        }
    }
}

/// Where an account's secret is kept.
#[derive(Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    Keyring,
    File,
}

impl Storage {
    /// The display name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Storage::Keyring => "keyring",
            Storage::File => "file",
        }
    }
}

/// A stored account with its secret.
pub struct Account {
    pub label: String,
    pub storage: Storage,
    pub secret: Secret,
}

/// The credential store of this machine.
pub struct Store {
    file: FileStore,
}

impl Store {
    /// Locates the store; creates nothing.
    pub fn open() -> Result<Store> {
        Ok(Store {
            file: FileStore::locate()?,
        })
    }

    /// The labels stored for `remote`, in file order, and the active one.
    pub fn accounts(&self, remote: &str) -> Result<(Vec<String>, Option<String>)> {
        let file = self.file.load()?;
        Ok(match file.hosts.get(remote) {
            Some(h) => (h.users.keys().cloned().collect(), h.active().map(str::to_owned)),
            None => (Vec::new(), None),
        })
    }

    /// The active account of `remote` with its secret, if there is one.
    pub fn active(&self, remote: &str) -> Result<Option<Account>> {
        let file = self.file.load()?;
        let Some(host) = file.hosts.get(remote) else {
            return Ok(None);
        };
        let Some(label) = host.active() else {
            return Ok(None);
        };
        let entry = &host.users[label];
        let (secret, storage) = self.read_secret(label, entry)?;
        Ok(Some(Account {
            label: label.to_owned(),
            storage,
            secret,
        }))
    }

    /// The plain-text copy when the entry has one.
    fn read_secret(&self, label: &str, entry: &UserEntry) -> Result<(Secret, Storage)> {
        let secret = match (entry.auth_type, &entry.api_key, &entry.oauth_credential) {
            (AuthType::ApiKey, Some(key), _) => Secret::ApiKey(key.clone()),
            (AuthType::OAuth, _, Some(cred)) => Secret::OAuth(cred.clone()),
            _ => {
                return Err(Error::failure(format!(
                    "no stored secret for account {label:?} in {}; run `baseten auth login` again",
                    self.file.path().display()
                )));
            }
        };
        Ok((secret, Storage::File))
    }

    /// Stores `secret` under `label` for `remote` and makes it the active account,
    /// replacing any earlier credential of that label. Returns where it landed.
    pub fn save(&self, remote: &str, label: &str, secret: &Secret) -> Result<Storage> {
        self.file.update(|file| {
            let host = file.hosts.entry(remote.to_owned()).or_default();
            let entry = host
                .users
                .entry(label.to_owned())
                .or_insert_with(|| UserEntry {
                    auth_type: secret.auth_type(),
                    api_key: None,
                    oauth_credential: None,
                    extra: Default::default(),
                });
            put_plain(entry, secret);
            host.active_user = Some(label.to_owned());
            Ok(())
        })?;
        Ok(Storage::File)
    }

    /// Replaces an OAuth account's token pair with the result of `refresh`, under the
    /// store lock so that two runs never both spend the same single-use refresh token:
    /// `refresh` sees the current pair and returns `None` when it is still good.
    pub fn refresh(
        &self,
        remote: &str,
        label: &str,
        refresh: impl FnOnce(&OAuthCredential) -> Result<Option<OAuthCredential>>,
    ) -> Result<OAuthCredential> {
        self.file.update(|file| {
            let entry = file
                .hosts
                .get_mut(remote)
                .and_then(|h| h.users.get_mut(label))
                .ok_or_else(|| Error::failure(format!("account {label:?} was removed")))?;
            let current = match self.read_secret(label, entry)?.0 {
                Secret::OAuth(c) => c,
                Secret::ApiKey(_) => {
                    return Err(Error::failure(format!("account {label:?} is not an OAuth account")));
                }
            };
            Ok(match refresh(&current)? {
                Some(new) => {
                    put_plain(entry, &Secret::OAuth(new.clone()));
                    new
                }
                None => current,
            })
        })
    }

    /// Makes `label` the active account of `remote`.
    pub fn switch(&self, remote: &str, label: &str) -> Result<()> {
        self.file.update(|file| {
            let host = file
                .hosts
                .get_mut(remote)
                .filter(|h| h.users.contains_key(label))
                .ok_or_else(|| {
                    Error::failure(format!("account {label:?} not found for {remote}"))
                })?;
            host.active_user = Some(label.to_owned());
            Ok(())
        })
    }

    /// Deletes `label`'s credentials for `remote`; the remote is left with no active account.
    pub fn remove(&self, remote: &str, label: &str) -> Result<()> {
        self.file.update(|file| {
            if let Some(host) = file.hosts.get_mut(remote) {
                host.users.shift_remove(label);
                host.active_user = None;
            }
            Ok(())
        })
    }
}

/// Writes the secret into the entry in plain text.
fn put_plain(entry: &mut UserEntry, secret: &Secret) {
    entry.auth_type = secret.auth_type();
    match secret {
        Secret::ApiKey(key) => {
            entry.api_key = Some(key.clone());
            entry.oauth_credential = None;
        }
        Secret::OAuth(cred) => {
            entry.api_key = None;
            entry.oauth_credential = Some(cred.clone());
        }
    }
}
