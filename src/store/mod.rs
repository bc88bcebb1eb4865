//! The credential store: which accounts exist per remote, which one is active, and where
//! each secret lives. `file` owns `auth.json`, `keyring` the system keyring; this module
//! owns the rules that combine them (SPEC §7): the keyring first unless told otherwise,
//! a plain-text fallback with a warning, and exactly one current copy of every secret.

pub mod file;
pub mod keyring;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::term::{self, debug};
pub use file::{AuthType, Expiry, OAuthCredential};
use file::{FileStore, UserEntry};

/// The warning printed when a secret has to go to the file instead of the keyring.
const FALLBACK_WARNING: &str =
    "could not store credentials in system keyring, storing in plain text";

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

    /// The keyring form: the key itself, or the token pair as compact JSON.
    fn encode(&self) -> String {
        match self {
            Secret::ApiKey(key) => key.clone(),
            Secret::OAuth(cred) => serde_json::to_string(cred).unwrap_or_default(),
        }
    }

    fn decode(auth_type: AuthType, text: String) -> Option<Secret> {
        match auth_type {
            AuthType::ApiKey => Some(Secret::ApiKey(text)),
            AuthType::OAuth => serde_json::from_str(&text).ok().map(Secret::OAuth),
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

/// A stored account as `auth.json` describes it; the secret is read separately, from
/// the entry kept here when it holds a plain-text copy, else from the keyring.
pub struct Account {
    pub label: String,
    pub auth_type: AuthType,
    pub storage: Storage,
    entry: UserEntry,
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
            Some(h) => (
                h.users.keys().cloned().collect(),
                h.active().map(str::to_owned),
            ),
            None => (Vec::new(), None),
        })
    }

    /// The active account of `remote`, if there is one. Reads only `auth.json`.
    pub fn active(&self, remote: &str) -> Result<Option<Account>> {
        let mut file = self.file.load()?;
        let Some(mut host) = file.hosts.swap_remove(remote) else {
            return Ok(None);
        };
        let Some(label) = host.active().map(str::to_owned) else {
            return Ok(None);
        };
        Ok(host.users.swap_remove(&label).map(|entry| Account {
            auth_type: entry.auth_type,
            storage: storage_of(&entry),
            label,
            entry,
        }))
    }

    /// The account's secret: the plain-text copy when the entry has one, else the keyring.
    pub fn secret(&self, remote: &str, account: &Account) -> Result<Secret> {
        self.read_secret(remote, &account.label, &account.entry)
    }

    /// Reads the secret and marks it as one, so no stderr line can show it.
    fn read_secret(&self, remote: &str, label: &str, entry: &UserEntry) -> Result<Secret> {
        let secret = self.find_secret(remote, label, entry)?;
        match &secret {
            Secret::ApiKey(key) => term::secret(key),
            Secret::OAuth(cred) => {
                term::secret(&cred.access_token);
                term::secret(&cred.refresh_token);
            }
        }
        Ok(secret)
    }

    fn find_secret(&self, remote: &str, label: &str, entry: &UserEntry) -> Result<Secret> {
        match (entry.auth_type, &entry.api_key, &entry.oauth_credential) {
            (AuthType::ApiKey, Some(key), _) => return Ok(Secret::ApiKey(key.clone())),
            (AuthType::OAuth, _, Some(cred)) => return Ok(Secret::OAuth(cred.clone())),
            _ => {}
        }
        let text = keyring::get(&keyring::service(remote), label).map_err(|e| {
            Error::failure(format!(
                "cannot read the credentials of {label:?} from the system keyring: {}",
                e.0
            ))
        })?;
        let text = text.ok_or_else(|| {
            Error::failure(format!(
                "no credentials for {label:?} in the system keyring; run `baseten auth login` again"
            ))
        })?;
        Secret::decode(entry.auth_type, text).ok_or_else(|| {
            Error::failure(format!(
                "the keyring item of {label:?} is not a valid OAuth credential"
            ))
        })
    }

    /// Stores `secret` under `label` for `remote` and makes it the active account,
    /// replacing any earlier credential of that label. Returns where the secret landed.
    pub fn save(
        &self,
        remote: &str,
        label: &str,
        secret: &Secret,
        insecure: bool,
    ) -> Result<Storage> {
        let storage = if insecure {
            Storage::File
        } else {
            self.write_keyring(remote, label, secret)
        };
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
            put(entry, secret, storage);
            host.active_user = Some(label.to_owned());
            Ok(())
        })?;
        if insecure {
            self.forget_keyring_item(remote, label);
        }
        Ok(storage)
    }

    /// Replaces an OAuth account's token pair with the result of `refresh`, under the
    /// store lock so that two runs never both spend the same single-use refresh token:
    /// `refresh` sees the current pair and returns `None` when it is still good. The new
    /// pair goes where the old one was.
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
            let Secret::OAuth(current) = self.read_secret(remote, label, entry)? else {
                return Err(Error::failure(format!(
                    "account {label:?} is not an OAuth account"
                )));
            };
            let Some(new) = refresh(&current)? else {
                return Ok(current);
            };
            let secret = Secret::OAuth(new.clone());
            let storage = match storage_of(entry) {
                Storage::Keyring => self.write_keyring(remote, label, &secret),
                Storage::File => Storage::File,
            };
            put(entry, &secret, storage);
            Ok(new)
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

    /// Deletes `label`'s credentials for `remote` (keyring item and file entry); the
    /// remote is left with no active account. For an OAuth account, `last_use` first gets
    /// its token pair (or why it could not be read), under the lock and only once the
    /// store is known to be writable, so the session can be revoked exactly when the
    /// account really goes.
    pub fn remove(
        &self,
        remote: &str,
        label: &str,
        last_use: impl FnOnce(Result<OAuthCredential>),
    ) -> Result<()> {
        self.file.update(|file| {
            if let Some(host) = file.hosts.get_mut(remote) {
                if let Some(entry) = host.users.get(label)
                    && entry.auth_type == AuthType::OAuth
                {
                    last_use(
                        self.read_secret(remote, label, entry)
                            .and_then(|s| match s {
                                Secret::OAuth(cred) => Ok(cred),
                                Secret::ApiKey(_) => Err(Error::failure("not an OAuth account")),
                            }),
                    );
                }
                host.users.shift_remove(label);
                host.active_user = None;
            }
            Ok(())
        })?;
        self.forget_keyring_item(remote, label);
        Ok(())
    }

    /// Tries the keyring; on failure warns and says the file must hold the secret.
    fn write_keyring(&self, remote: &str, label: &str, secret: &Secret) -> Storage {
        match keyring::set(&keyring::service(remote), label, &secret.encode()) {
            Ok(()) => Storage::Keyring,
            Err(_) => {
                term::warn(FALLBACK_WARNING);
                Storage::File
            }
        }
    }

    /// Best-effort removal of a keyring item that is no longer the current copy.
    fn forget_keyring_item(&self, remote: &str, label: &str) {
        if let Err(e) = keyring::delete(&keyring::service(remote), label) {
            debug!("keyring item of {label:?} not removed: {}", e.0);
        }
    }
}

/// Where an entry's secret is: a plain-text copy wins over the keyring.
fn storage_of(entry: &UserEntry) -> Storage {
    if entry.api_key.is_some() || entry.oauth_credential.is_some() {
        Storage::File
    } else {
        Storage::Keyring
    }
}

/// Records `secret` in the entry: in plain text for [`Storage::File`]; for
/// [`Storage::Keyring`] the entry keeps only the auth type, so the keyring holds the one
/// current copy.
fn put(entry: &mut UserEntry, secret: &Secret, storage: Storage) {
    entry.auth_type = secret.auth_type();
    entry.api_key = None;
    entry.oauth_credential = None;
    if storage == Storage::File {
        match secret {
            Secret::ApiKey(key) => entry.api_key = Some(key.clone()),
            Secret::OAuth(cred) => entry.oauth_credential = Some(cred.clone()),
        }
    }
}
