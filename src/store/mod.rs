//! The credential store, shared with Baseten's official CLI: which accounts (profiles)
//! exist, which one each remote has active, and where each secret lives. `layout` owns
//! the contents of `auth.json`, `file` the file on disk, `keyring` the system keyring;
//! this module owns the rules that combine them (SPEC §7):
//! - the keyring first unless told otherwise, a plain-text fallback the caller is told
//!   about, and exactly one current copy of every secret;
//! - a change is all or nothing across the file and the keyring: keyring writes made for
//!   a change that cannot be committed are undone, and deletions wait for the commit;
//! - secrets of the legacy layout are moved to their new keyring items on a write (the
//!   old item is deleted only after the new one is written and the file is committed).

pub mod file;
pub mod keyring;
pub mod layout;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::sanitize;
use crate::secret::Secret;
use crate::ui::debug;
use file::{FileStore, Transaction};
use layout::{AuthFile, LegacyItem, Profile};
pub use layout::{AuthType, Expiry, OAuthCredential, oauth_profile_name};

/// Longest profile name accepted, in characters.
const MAX_NAME: usize = 256;

/// A stored credential.
pub enum Credential {
    /// An API key, sent as `Authorization: Api-Key <key>`.
    ApiKey(Secret),
    /// An OAuth token pair, sent as `Authorization: Bearer <access_token>`.
    OAuth(OAuthCredential),
}

impl Credential {
    /// Which kind of account holds this secret.
    pub fn auth_type(&self) -> AuthType {
        match self {
            Credential::ApiKey(_) => AuthType::ApiKey,
            Credential::OAuth(_) => AuthType::OAuth,
        }
    }

    /// The keyring form: the key itself, or the token pair as compact JSON.
    fn encode(&self) -> Result<String, String> {
        match self {
            Credential::ApiKey(key) => Ok(key.expose().to_owned()),
            Credential::OAuth(cred) => cred.encode(),
        }
    }

    fn decode(auth_type: AuthType, text: String) -> Result<Credential, String> {
        match auth_type {
            AuthType::ApiKey => Ok(Credential::ApiKey(Secret::new(text))),
            AuthType::OAuth => OAuthCredential::parse(&text).map(Credential::OAuth),
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

/// What a write of a secret did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Saved {
    pub storage: Storage,
    /// The keyring was wanted but could not take the secret: it went to the file.
    pub fell_back: bool,
}

/// A stored account as `auth.json` describes it. Its secret is read on demand with
/// [`Store::secret`].
#[derive(Clone)]
pub struct Account {
    /// The profile name (the account's label).
    pub name: String,
    /// The account's remote, normalized.
    pub remote: String,
    pub auth_type: AuthType,
    pub storage: Storage,
    /// Whether it is its remote's active account.
    pub active: bool,
    profile: Profile,
}

/// One read of the store: every account, and each remote's active one.
pub struct Snapshot {
    file: AuthFile,
    /// `auth.json`, when it holds plain-text secrets that other users can read.
    pub exposed: Option<std::path::PathBuf>,
}

impl Snapshot {
    /// The account for `profile`; `active` is its remote's active profile name.
    fn account(name: &str, profile: &Profile, active: Option<&str>) -> Account {
        Account {
            active: active == Some(name),
            name: name.to_owned(),
            remote: profile.remote().to_owned(),
            auth_type: profile.auth_type,
            storage: storage_of(profile),
            profile: profile.clone(),
        }
    }

    /// The active account of `remote` (normalized), if there is one.
    pub fn active(&self, remote: &str) -> Option<Account> {
        let name = self.file.active(remote)?;
        self.get(name)
    }

    /// The account named `name`, on whatever remote.
    pub fn get(&self, name: &str) -> Option<Account> {
        let profile = self.file.profiles.get(name)?;
        let active = self.file.active(profile.remote());
        Some(Snapshot::account(name, profile, active))
    }

    /// Fails when `name` belongs to an account of another remote than `remote`.
    pub fn check_free(&self, name: &str, remote: &str) -> Result<()> {
        check_free(&self.file, name, remote)
    }

    /// The accounts of `remote`, in file order.
    pub fn accounts(&self, remote: &str) -> Vec<Account> {
        self.all()
            .into_iter()
            .filter(|a| a.remote == remote)
            .collect()
    }

    /// Every account, in file order.
    pub fn all(&self) -> Vec<Account> {
        // Every remote's active account, worked out in one pass.
        let active = self.file.actives();
        self.file
            .profiles
            .iter()
            .map(|(n, p)| Snapshot::account(n, p, active.get(p.remote()).copied()))
            .collect()
    }
}

/// Checks a profile name (a `--label`, a `--user`, or an email from a server): not
/// empty, at most 256 characters, no control, format or default-ignorable characters.
/// Callers trim first.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("account name must not be empty".into());
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!("account name is longer than {MAX_NAME} characters"));
    }
    if !sanitize::fit_for_name(name) {
        return Err(
            "account name must not contain control, format or default-ignorable characters".into(),
        );
    }
    Ok(())
}

/// The credential store of this machine.
pub struct Store {
    file: FileStore,
    /// The remote the command works on; decides `current` when a legacy file is read.
    working: String,
}

/// Keyring effects of a change in progress: writes to undo if the change is not
/// committed, deletions to do once it is.
#[derive(Default)]
struct Effects {
    /// `(profile name, previous secret)` of every keyring item written.
    written: Vec<(String, Option<String>)>,
    /// `(service, account)` of every keyring item to delete after the commit.
    delete: Vec<(String, String)>,
}

impl Store {
    /// Locates the store for a command working on `remote` (normalized); creates nothing.
    pub fn open(remote: &str) -> Result<Store> {
        Ok(Store {
            file: FileStore::locate()?,
            working: remote.to_owned(),
        })
    }

    /// Reads `auth.json` once.
    pub fn read(&self) -> Result<Snapshot> {
        let loaded = self.file.load(&self.working)?;
        Ok(Snapshot {
            file: loaded.file,
            exposed: loaded.exposed,
        })
    }

    /// The account's secret: the plain-text copy when the profile has one, else its
    /// keyring item, else (not yet moved) its legacy keyring item.
    pub fn secret(&self, account: &Account) -> Result<Credential> {
        self.find_secret(&account.name, &account.profile)
    }

    fn find_secret(&self, name: &str, profile: &Profile) -> Result<Credential> {
        match (
            profile.auth_type,
            &profile.api_key,
            &profile.oauth_credential,
        ) {
            (AuthType::ApiKey, Some(key), _) => return Ok(Credential::ApiKey(key.clone())),
            (AuthType::OAuth, _, Some(cred)) => return Ok(Credential::OAuth(cred.clone())),
            _ => {}
        }
        let unreadable = |e: keyring::Unavailable| {
            Error::failure(format!(
                "cannot read the credentials of {name:?} from the system keyring: {}",
                e.0
            ))
        };
        let mut text = keyring::get(keyring::SERVICE, name).map_err(unreadable)?;
        if text.is_none()
            && let Some(item) = &profile.legacy_item
        {
            text = keyring::get(&item.service, &item.account).map_err(unreadable)?;
        }
        let text = text.ok_or_else(|| {
            Error::failure(format!(
                "no credentials for {name:?} in the system keyring; run `baseten auth login` again"
            ))
        })?;
        Credential::decode(profile.auth_type, text).map_err(|e| {
            Error::failure(format!(
                "the keyring item of {name:?} is not a valid OAuth credential: {e}"
            ))
        })
    }

    /// Stores `secret` as profile `name` of `remote`, replacing any earlier credential
    /// of that profile, and makes it the remote's active account when `activate`. A name
    /// that belongs to another remote is refused and nothing changes.
    pub fn save(
        &self,
        remote: &str,
        name: &str,
        secret: &Credential,
        insecure: bool,
        activate: bool,
    ) -> Result<Saved> {
        self.change(|file, fx| {
            check_free(file, name, remote)?;
            let saved = if insecure {
                Saved {
                    storage: Storage::File,
                    fell_back: false,
                }
            } else {
                self.write_keyring(fx, name, secret)
            };
            let profile = file
                .profiles
                .entry(name.to_owned())
                .or_insert_with(|| Profile::new(remote, secret.auth_type()));
            put(fx, name, profile, secret, saved.storage);
            if activate {
                file.make_active(remote, name);
            }
            Ok(saved)
        })
    }

    /// Replaces an OAuth account's token pair after a refresh, where the old pair was
    /// (keyring or file). The account must still exist.
    pub fn replace_oauth(&self, name: &str, cred: OAuthCredential) -> Result<Saved> {
        let secret = Credential::OAuth(cred);
        self.change(|file, fx| {
            let profile = file
                .profiles
                .get_mut(name)
                .filter(|p| p.auth_type == AuthType::OAuth)
                .ok_or_else(|| Error::failure(format!("account {name:?} was removed")))?;
            let saved = match storage_of(profile) {
                Storage::Keyring => self.write_keyring(fx, name, &secret),
                Storage::File => Saved {
                    storage: Storage::File,
                    fell_back: false,
                },
            };
            put(fx, name, profile, &secret, saved.storage);
            Ok(saved)
        })
    }

    /// Makes `name` the active account of `remote`.
    pub fn switch(&self, remote: &str, name: &str) -> Result<()> {
        self.change(|file, _| {
            if !file.profiles.get(name).is_some_and(|p| p.is_of(remote)) {
                return Err(Error::failure(format!(
                    "account {name:?} not found for {remote}"
                )));
            }
            file.make_active(remote, name);
            Ok(())
        })
    }

    /// Deletes the account `name`: its profile, every pointer to it, and (after the
    /// file is committed) its keyring items.
    pub fn remove(&self, name: &str) -> Result<()> {
        self.change(|file, fx| {
            if let Some(profile) = file.remove(name) {
                fx.delete.push((keyring::SERVICE.into(), name.to_owned()));
                if let Some(item) = profile.legacy_item {
                    fx.delete.push((item.service, item.account));
                }
            }
            Ok(())
        })
    }

    /// Fails unless the store could be written now; see [`FileStore::check_writable`].
    pub fn check_writable(&self) -> Result<()> {
        self.file.check_writable()
    }

    /// Serializes refreshes of one account across processes; see
    /// [`FileStore::lock_account`].
    pub fn lock_account(&self, name: &str) -> Result<std::fs::File> {
        self.file.lock_account(name)
    }

    /// Runs `edit` on the file under the lock, moves legacy keyring secrets, commits,
    /// and only then deletes keyring items; if anything fails before the commit, the
    /// keyring items written are put back as they were.
    fn change<T>(&self, edit: impl FnOnce(&mut AuthFile, &mut Effects) -> Result<T>) -> Result<T> {
        let mut tx: Transaction<'_> = self.file.begin(&self.working)?;
        let mut fx = Effects::default();
        let out = edit(&mut tx.file, &mut fx).and_then(|out| {
            move_legacy_items(&mut tx.file, &mut fx);
            tx.commit().map(|()| out)
        });
        match out {
            Ok(out) => {
                for (service, account) in fx.delete {
                    if let Err(e) = keyring::delete(&service, &account) {
                        debug!("keyring item {service}/{account} not removed: {}", e.0);
                    }
                }
                Ok(out)
            }
            Err(e) => {
                undo(fx.written);
                Err(e)
            }
        }
    }

    /// Writes `secret` to profile `name`'s keyring item, remembering what was there for
    /// an undo; says where the secret must go when the keyring cannot take it.
    fn write_keyring(&self, fx: &mut Effects, name: &str, secret: &Credential) -> Saved {
        let written = keyring::get(keyring::SERVICE, name).and_then(|previous| {
            // Our own JSON cannot fail to encode; if it did, the file would take it.
            let text = secret.encode().map_err(keyring::Unavailable)?;
            keyring::set(keyring::SERVICE, name, &text)?;
            fx.written.push((name.to_owned(), previous));
            Ok(())
        });
        match written {
            Ok(()) => Saved {
                storage: Storage::Keyring,
                fell_back: false,
            },
            Err(_) => Saved {
                storage: Storage::File,
                fell_back: true,
            },
        }
    }
}

/// Records `secret` in the profile (one current copy): in plain text for
/// [`Storage::File`], whose keyring items then go after the commit; for
/// [`Storage::Keyring`] the profile keeps only the auth type. A legacy item, if the
/// profile still had one, is no longer current either way.
fn put(fx: &mut Effects, name: &str, profile: &mut Profile, secret: &Credential, storage: Storage) {
    profile.auth_type = secret.auth_type();
    profile.api_key = None;
    profile.oauth_credential = None;
    if let Some(LegacyItem { service, account }) = profile.legacy_item.take() {
        fx.delete.push((service, account));
    }
    if storage == Storage::File {
        match secret {
            Credential::ApiKey(key) => profile.api_key = Some(key.clone()),
            Credential::OAuth(cred) => profile.oauth_credential = Some(cred.clone()),
        }
        fx.delete.push((keyring::SERVICE.into(), name.to_owned()));
    }
}

/// Moves the secret of every profile still in a legacy keyring item to the profile's
/// own item. The legacy item is deleted after the commit; a profile whose move fails
/// (keyring locked or absent) keeps pointing at its legacy item for a later write.
fn move_legacy_items(file: &mut AuthFile, fx: &mut Effects) {
    for (name, profile) in file.profiles.iter_mut() {
        let Some(item) = profile.legacy_item.clone() else {
            continue;
        };
        let moved = keyring::get(keyring::SERVICE, name).and_then(|current| {
            if current.is_none()
                && let Some(secret) = keyring::get(&item.service, &item.account)?
            {
                keyring::set(keyring::SERVICE, name, &secret)?;
                fx.written.push((name.clone(), None));
            }
            Ok(())
        });
        match moved {
            Ok(()) => {
                profile.legacy_item = None;
                fx.delete.push((item.service, item.account));
            }
            Err(e) => {
                debug!("keyring item of {name:?} not moved yet: {}", e.0);
                return; // the keyring is unavailable: the other moves would fail too
            }
        }
    }
}

/// Fails when `name` belongs to an account of another remote than `remote`: names are
/// unique across remotes (SPEC §7).
fn check_free(file: &AuthFile, name: &str, remote: &str) -> Result<()> {
    match file.profiles.get(name) {
        Some(other) if !other.is_of(remote) => Err(Error::failure(format!(
            "the name {name:?} is already used by an account of {}; choose another with --label",
            other.remote()
        ))),
        _ => Ok(()),
    }
}

/// Puts keyring items back as they were before a change that was not committed.
fn undo(written: Vec<(String, Option<String>)>) {
    for (name, previous) in written.into_iter().rev() {
        let restored = match &previous {
            Some(text) => keyring::set(keyring::SERVICE, &name, text),
            None => keyring::delete(keyring::SERVICE, &name),
        };
        if let Err(e) = restored {
            debug!("keyring item of {name:?} not restored: {}", e.0);
        }
    }
}

/// Where a profile's secret is: a plain-text copy wins over the keyring.
fn storage_of(profile: &Profile) -> Storage {
    if profile.has_plain_secret() {
        Storage::File
    } else {
        Storage::Keyring
    }
}
