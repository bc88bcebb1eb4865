//! The credential store, shared with Baseten's official CLI: which accounts (profiles)
//! exist, which one each remote has active, and where each secret lives. `layout` owns
//! the contents of `auth.json` (`legacy` its earlier layout, with the moves of that
//! layout's keyring items), `file` the file on disk, `secrets` what a keyring does
//! for the store (`keyring` is the system's); this module owns the rules that combine
//! them (SPEC §7), and `tests` checks them against a keyring in memory:
//! - the keyring first unless told otherwise, a plain-text fallback the caller is told
//!   about, and exactly one current copy of every secret;
//! - a change is all or nothing across the file and the keyring, and every part of it
//!   happens under the `auth.json` lock: keyring items are recorded as pending before
//!   they are written (so a killed run's are settled by the next write), writes made for
//!   a change that cannot be committed are undone, a current copy that must go is checked
//!   to be reachable before the commit (else nothing changes), and deletions follow it;
//! - a refreshed token pair is saved only over the pair it replaces, where no undo can
//!   bring back the spent one;
//! - secrets of the legacy layout are moved to their new keyring items on a write (the
//!   old item is deleted only after the new one is written and the file is committed).

pub mod file;
pub mod keyring;
pub mod layout;
pub mod legacy;
pub mod secrets;
#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::sanitize;
use crate::secret::Secret;
use crate::ui::debug;
pub use file::Contents;
use file::{FileStore, Transaction};
use layout::{AuthFile, Parsed, Profile};
pub use layout::{AuthType, Expiry, OAuthCredential, oauth_profile_name};

use layout::MAX_NAME;
use secrets::{SERVICE, Secrets, Unavailable};

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
    /// In the system keyring.
    Keyring,
    /// In plain text in `auth.json`.
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
    /// Where the secret went.
    pub storage: Storage,
    /// The keyring was wanted but could not take the secret: it went to the file.
    pub fell_back: bool,
}

/// The warning for a secret that had to go to the file instead of the keyring.
const FALLBACK_WARNING: &str =
    "could not store credentials in system keyring, storing in plain text";

impl Saved {
    /// Says so when the secret went to the file because the keyring could not take it.
    pub fn warn_if_fell_back(self) {
        if self.fell_back {
            crate::ui::warn(FALLBACK_WARNING);
        }
    }
}

/// A stored account as `auth.json` describes it. Its secret is read on demand with
/// [`Store::secret`].
#[derive(Clone)]
pub struct Account {
    /// The profile name (the account's label).
    pub name: String,
    /// The account's remote, normalized.
    pub remote: String,
    /// Which kind of secret it holds.
    pub auth_type: AuthType,
    /// Where its secret is kept.
    pub storage: Storage,
    /// Whether it is its remote's active account.
    pub active: bool,
    profile: Profile,
}

/// One read of the store: every account, and each remote's active one. Only the
/// accounts a command looks at are decoded.
pub struct Snapshot<'a> {
    contents: &'a Contents,
    file: Parsed<'a>,
    /// `auth.json`, when it holds plain-text secrets that other users can read.
    pub exposed: Option<std::path::PathBuf>,
}

impl<'a> Snapshot<'a> {
    /// Parses what [`Store::read`] read.
    pub fn new(contents: &'a Contents) -> Result<Snapshot<'a>> {
        let file = contents.parse()?;
        let exposed = contents.exposed(&file)?;
        Ok(Snapshot {
            contents,
            file,
            exposed,
        })
    }

    /// The account for `profile`.
    fn account(name: String, profile: Profile, active: bool) -> Account {
        Account {
            active,
            name,
            remote: profile.remote().to_owned(),
            auth_type: profile.auth_type,
            storage: storage_of(&profile),
            profile,
        }
    }

    /// A profile that does not decode makes the file corrupt.
    fn checked<T>(&self, decoded: Result<T, String>) -> Result<T> {
        decoded.map_err(|e| self.contents.corrupt(&e))
    }

    /// The active account of `remote` (normalized), if there is one.
    pub fn active(&self, remote: &str) -> Result<Option<Account>> {
        match self.checked(self.file.active(remote))? {
            Some(name) => self.get(name),
            None => Ok(None),
        }
    }

    /// The current profile (auth.json `current`), when it names a stored account.
    pub fn current(&self) -> Result<Option<Account>> {
        match self.file.current() {
            Some(name) => self.get(name),
            None => Ok(None),
        }
    }

    /// The account named `name`, on whatever remote.
    pub fn get(&self, name: &str) -> Result<Option<Account>> {
        let Some(profile) = self.checked(self.file.profile(name))? else {
            return Ok(None);
        };
        let active = self.checked(self.file.active(profile.remote()))? == Some(name);
        Ok(Some(Snapshot::account(name.to_owned(), profile, active)))
    }

    /// Fails when `name` belongs to an account of another remote than `remote`.
    pub fn check_free(&self, name: &str, remote: &str) -> Result<()> {
        match self.checked(self.file.profile(name))? {
            Some(other) => name_taken(name, &other, remote),
            None => Ok(()),
        }
    }

    /// The accounts of `remote`, in file order.
    pub fn accounts(self, remote: &str) -> Result<Vec<Account>> {
        let mut all = self.all()?;
        all.retain(|a| a.remote == remote);
        Ok(all)
    }

    /// Every account, in file order.
    pub fn all(self) -> Result<Vec<Account>> {
        let file = self.file.decode().map_err(|e| self.contents.corrupt(&e))?;
        // Every remote's active account, worked out in one pass.
        let active: std::collections::HashSet<String> =
            file.actives().into_values().map(str::to_owned).collect();
        Ok(file
            .profiles
            .into_iter()
            .map(|(n, p)| {
                let is_active = active.contains(&n);
                Snapshot::account(n, p, is_active)
            })
            .collect())
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
pub struct Store<'k> {
    file: FileStore,
    /// The remote the command works on; decides `current` when a legacy file is read.
    working: String,
    /// The keyring: the system's ([`Store::open`]), or one in memory in unit tests.
    secrets: &'k dyn Secrets,
}

/// The keyring item a change is about.
#[derive(Clone, Copy)]
enum Item<'a> {
    /// The change may write the item of this profile.
    Write(&'a str),
    /// The change may delete the item of this profile.
    Delete(&'a str),
    /// The change writes or deletes no item by itself (legacy moves aside).
    Nothing,
}

/// Keyring effects of a change in progress, every one made while the `auth.json` lock
/// is held.
struct Effects<'k> {
    /// The keyring the effects are made in.
    keyring: &'k dyn Secrets,
    /// Why the keyring could not be reached before the lock was taken; the change then
    /// makes no keyring call.
    unreachable: Option<String>,
    /// `(profile name, previous secret)` of every keyring item written, for an undo.
    written: Vec<(String, Option<String>)>,
    /// Keyring items to delete once the file is committed.
    deletes: Vec<Delete>,
}

/// A keyring item a change removes.
struct Delete {
    service: String,
    account: String,
    /// It held the profile's current copy: the change does not happen unless it goes.
    must: bool,
}

/// What saving a refreshed token pair did.
pub enum Refreshed {
    /// The new pair is the account's.
    Saved(Saved),
    /// A login or refresh that landed meanwhile holds this pair: the new one was not
    /// kept.
    Superseded(OAuthCredential),
}

/// What a refresh prepared before spending its refresh token: space for the new
/// `auth.json` when the file has to change.
pub struct RefreshPlan {
    reserved: Option<file::Reserved>,
}

/// Room reserved beyond the current size of `auth.json` for a refreshed pair.
const REFRESH_ROOM: u64 = 64 << 10;

impl Store<'static> {
    /// Locates the store for a command working on `remote` (normalized), its secrets in
    /// the system keyring; creates nothing.
    pub fn open(remote: &str) -> Result<Store<'static>> {
        Ok(Store::new(FileStore::locate()?, remote, &keyring::Keyring))
    }
}

impl<'k> Store<'k> {
    /// The store of `file` for a command working on `remote`, keeping secrets in
    /// `secrets` when not in the file.
    fn new(file: FileStore, remote: &str, secrets: &'k dyn Secrets) -> Store<'k> {
        Store {
            file,
            working: remote.to_owned(),
            secrets,
        }
    }

    /// Reads `auth.json` once; [`Snapshot::new`] parses it.
    pub fn read(&self) -> Result<Contents> {
        self.file.read(&self.working)
    }

    /// Reads and decodes the whole of `auth.json`, for the checks before a change.
    fn load(&self) -> Result<AuthFile> {
        Ok(self.file.load(&self.working)?.file)
    }

    /// The account's secret: the plain-text copy when the profile has one, else its
    /// keyring item, else (not yet moved) its legacy keyring item. Refused for an
    /// account whose remote fails the rules of a remote (SPEC §7).
    pub fn secret(&self, account: &Account) -> Result<Credential> {
        account.check_remote()?;
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
        let unreadable = |e: Unavailable| {
            Error::failure(format!(
                "cannot read the credentials of {name:?} from the system keyring: {}",
                e.0
            ))
        };
        let mut text = self.secrets.get(SERVICE, name).map_err(unreadable)?;
        if text.is_none()
            && let Some(item) = &profile.legacy_item
        {
            text = self
                .secrets
                .get(&item.service, &item.account)
                .map_err(unreadable)?;
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
    /// that belongs to another remote is refused and nothing changes; so is a plain-text
    /// write replacing a keyring copy that cannot be removed.
    pub fn save(
        &self,
        remote: &str,
        name: &str,
        secret: &Credential,
        insecure: bool,
        activate: bool,
    ) -> Result<Saved> {
        let item = if insecure {
            Item::Delete(name)
        } else {
            Item::Write(name)
        };
        self.change(item, |file, fx| {
            check_free(file, name, remote)?;
            let saved = if insecure {
                Saved {
                    storage: Storage::File,
                    fell_back: false,
                }
            } else {
                write_keyring(fx, name, secret)
            };
            let was_keyring = file
                .profiles
                .get(name)
                .is_some_and(|p| storage_of(p) == Storage::Keyring);
            if !file.profiles.contains_key(name) {
                file.pin_active(remote);
            }
            let profile = file
                .profiles
                .entry(name.to_owned())
                .or_insert_with(|| Profile::new(remote, secret.auth_type()));
            put(fx, name, profile, secret, saved.storage, was_keyring);
            if activate {
                file.make_active(remote, name);
            }
            Ok(saved)
        })
    }

    /// Prepares saving a refreshed pair of `account` before its refresh token is spent
    /// (SPEC §7 Refresh): a keyring account whose file needs no rewrite changes only its
    /// keyring item; otherwise the new `auth.json` gets its disk space now, and a store
    /// that cannot take it fails here.
    pub fn prepare_refresh(&self, account: &Account) -> Result<RefreshPlan> {
        let rewrite = account.storage == Storage::File || self.load()?.needs_rewrite();
        let reserved = if rewrite {
            Some(self.file.reserve(self.file.size() + REFRESH_ROOM)?)
        } else {
            None
        };
        Ok(RefreshPlan { reserved })
    }

    /// Saves `new`, the refresh of `old`, where the account's pair is, provided the
    /// account still holds `old` (compare-and-swap under the lock); otherwise returns
    /// the pair it holds now. Nothing is ever undone back to `old`: it is spent.
    pub fn save_refresh(
        &self,
        plan: RefreshPlan,
        name: &str,
        old: &OAuthCredential,
        new: OAuthCredential,
    ) -> Result<Refreshed> {
        let mut tx = match plan.reserved {
            Some(reserved) => self.file.begin_reserved(&self.working, reserved)?,
            None => self.file.begin_unreserved(&self.working)?,
        };
        let removed = || Error::failure(format!("account {name:?} was removed"));
        let profile = tx
            .file
            .profiles
            .get(name)
            .filter(|p| p.auth_type == AuthType::OAuth)
            .ok_or_else(removed)?;
        let Credential::OAuth(current) = self.find_secret(name, profile)? else {
            return Err(removed());
        };
        if current.access_token != old.access_token || current.refresh_token != old.refresh_token {
            return Ok(Refreshed::Superseded(current));
        }
        let secret = Credential::OAuth(new);
        let keyring = storage_of(profile) == Storage::Keyring;
        if keyring && !tx.file.needs_rewrite() {
            let stored = secret
                .encode()
                .map_err(Unavailable)
                .and_then(|text| self.secrets.set(SERVICE, name, &text));
            if stored.is_ok() {
                return Ok(Refreshed::Saved(Saved {
                    storage: Storage::Keyring,
                    fell_back: false,
                }));
            }
        }
        let mut fx = Effects::new(self.secrets, None);
        let item = if keyring {
            Item::Write(name)
        } else {
            Item::Nothing
        };
        self.apply(&mut tx, &mut fx, item, |file, fx| {
            let saved = if keyring {
                write_keyring(fx, name, &secret)
            } else {
                Saved {
                    storage: Storage::File,
                    fell_back: false,
                }
            };
            if let Some(profile) = file.profiles.get_mut(name) {
                // The stale keyring copy goes on a later write if it cannot go now.
                put(fx, name, profile, &secret, saved.storage, false);
            }
            if saved.fell_back {
                file.pending_keyring.push(name.to_owned());
            }
            Ok(Refreshed::Saved(saved))
        })
    }

    /// Makes `name` the active account of `remote`.
    pub fn switch(&self, remote: &str, name: &str) -> Result<()> {
        self.change(Item::Nothing, |file, _| {
            if !file.profiles.get(name).is_some_and(|p| p.is_of(remote)) {
                return Err(Error::failure(format!(
                    "account {name:?} not found for {remote}"
                )));
            }
            file.make_active(remote, name);
            Ok(())
        })
    }

    /// Deletes the account `name`: its profile, every pointer to it, and its keyring
    /// items. When the keyring holding its current copy cannot be reached, nothing
    /// changes.
    pub fn remove(&self, name: &str) -> Result<()> {
        self.change(Item::Delete(name), |file, fx| {
            if let Some(profile) = file.remove(name) {
                let must = storage_of(&profile) == Storage::Keyring;
                fx.delete(SERVICE, name, must);
                if let Some(item) = profile.legacy_item {
                    fx.delete(&item.service, &item.account, must);
                }
            }
            Ok(())
        })
    }

    /// Fails unless `account` could be removed now: the store is writable and, for a
    /// secret in the keyring, the keyring answers. Checked before the server is told
    /// anything, so a logout that cannot happen revokes nothing.
    pub fn check_removable(&self, account: &Account) -> Result<()> {
        self.file.check_writable()?;
        if account.storage == Storage::Keyring {
            self.secrets
                .reach(&account.name)
                .map_err(|e| cannot_remove(SERVICE, &account.name, &e.0))?;
        }
        Ok(())
    }

    /// Serializes refreshes of one account across processes; see
    /// [`FileStore::lock_account`].
    pub fn lock_account(&self, name: &str) -> Result<file::AccountLock> {
        self.file.lock_account(name)
    }

    /// Reaches the keyring first when the change is about to use it (so no call under
    /// the lock waits for a person), takes the lock, and runs the change; if anything
    /// fails, the keyring items written are put back before the lock is released.
    fn change<T>(
        &self,
        item: Item<'_>,
        edit: impl FnOnce(&mut AuthFile, &mut Effects<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut fx = Effects::new(self.secrets, self.reach_keyring(item)?);
        let mut tx: Transaction<'_> = self.file.begin(&self.working)?;
        let out = self.apply(&mut tx, &mut fx, item, edit);
        if out.is_err() {
            fx.undo();
        }
        out
    }

    /// Reaches the keyring when `item` or the file's pending items and legacy moves
    /// need it; says why it cannot be reached.
    fn reach_keyring(&self, item: Item<'_>) -> Result<Option<String>> {
        let name = match item {
            Item::Write(name) | Item::Delete(name) => name.to_owned(),
            Item::Nothing => match self.load()?.keyring_names().into_iter().next() {
                Some(name) => name,
                None => return Ok(None),
            },
        };
        Ok(self.secrets.reach(&name).err().map(|e| e.0))
    }

    /// The steps of a change under the lock: settle the items a killed run left
    /// pending; record the items this change may write, then edit and move legacy
    /// secrets; check the copies that must go can go; commit; delete. On failure the
    /// file is put back as it was (written items are left for the caller to undo).
    fn apply<T>(
        &self,
        tx: &mut Transaction<'_>,
        fx: &mut Effects<'_>,
        item: Item<'_>,
        edit: impl FnOnce(&mut AuthFile, &mut Effects<'_>) -> Result<T>,
    ) -> Result<T> {
        let out = apply_steps(tx, fx, item, edit);
        if out.is_err()
            && let Err(e) = tx.restore()
        {
            debug!("auth.json not restored: {e}");
        }
        out
    }
}

/// [`Store::apply`]'s steps, up to the first failure.
fn apply_steps<T>(
    tx: &mut Transaction<'_>,
    fx: &mut Effects<'_>,
    item: Item<'_>,
    edit: impl FnOnce(&mut AuthFile, &mut Effects<'_>) -> Result<T>,
) -> Result<T> {
    let mut pending = settle_pending(&mut tx.file, fx);
    record_writes(tx, fx, item, &pending)?;
    let out = edit(&mut tx.file, fx)?;
    legacy::move_items(&mut tx.file, fx);
    pending.append(&mut tx.file.pending_keyring);
    for d in fx.deletes.iter().filter(|d| d.must) {
        let reached = match &fx.unreachable {
            Some(why) => Err(why.clone()),
            None => fx.keyring.get(&d.service, &d.account).map_err(|e| e.0),
        };
        reached.map_err(|why| cannot_remove(&d.service, &d.account, &why))?;
        if d.service == SERVICE {
            pending.push(d.account.clone());
        }
    }
    tx.file.pending_keyring = pending;
    tx.commit()?;
    delete_items(tx, fx);
    Ok(out)
}

/// Before any keyring write: commits the file with the items this change may write
/// (`item`'s, and the legacy moves') recorded as pending beside `pending`, so a kill
/// after a write leaves them for the next write to settle.
fn record_writes(
    tx: &mut Transaction<'_>,
    fx: &Effects<'_>,
    item: Item<'_>,
    pending: &[String],
) -> Result<()> {
    if fx.unreachable.is_some() {
        return Ok(());
    }
    let mut writes = tx.file.legacy_names();
    if let Item::Write(name) = item {
        writes.push(name.to_owned());
    }
    if writes.is_empty() {
        return Ok(());
    }
    tx.file.pending_keyring = pending.iter().cloned().chain(writes).collect();
    tx.commit()?;
    tx.file.pending_keyring.clear();
    Ok(())
}

/// After the commit: deletes the change's keyring items, and clears the pending
/// records of the current copies that went. One that does not go (the keyring stopped
/// answering since it was checked, or answered too late to know) stays recorded, so the
/// next write removes it: the change is not undone, as the item may be gone already.
fn delete_items(tx: &mut Transaction<'_>, fx: &Effects<'_>) {
    if fx.unreachable.is_some() {
        return;
    }
    let mut gone = Vec::new();
    for d in &fx.deletes {
        match fx.keyring.delete(&d.service, &d.account) {
            Ok(()) if d.must => gone.push(d.account.as_str()),
            Ok(()) => {}
            Err(e) => debug!(
                "keyring item {}/{} not removed: {}",
                d.service, d.account, e.0
            ),
        }
    }
    if !gone.is_empty() {
        tx.file
            .pending_keyring
            .retain(|n| !gone.contains(&n.as_str()));
        if let Err(e) = tx.commit() {
            debug!("pending keyring items not cleared: {e}");
        }
    }
}

impl<'k> Effects<'k> {
    /// No effects yet, in `keyring`; `unreachable` says why the keyring could not be
    /// reached before the lock was taken.
    fn new(keyring: &'k dyn Secrets, unreachable: Option<String>) -> Effects<'k> {
        Effects {
            keyring,
            unreachable,
            written: Vec::new(),
            deletes: Vec::new(),
        }
    }

    /// Puts keyring items back as they were before a change that was not committed.
    fn undo(&self) {
        for (name, previous) in self.written.iter().rev() {
            let restored = match previous {
                Some(text) => self.keyring.set(SERVICE, name, text),
                None => self.keyring.delete(SERVICE, name),
            };
            if let Err(e) = restored {
                debug!("keyring item of {name:?} not restored: {}", e.0);
            }
        }
    }

    /// Removes the item `service`/`account` once the file is committed.
    fn delete(&mut self, service: &str, account: &str, must: bool) {
        self.deletes.push(Delete {
            service: service.to_owned(),
            account: account.to_owned(),
            must,
        });
    }
}

impl Account {
    /// Fails when the account's `remote_url` fails the rules of a remote (SPEC §7): no
    /// secret may be sent to it.
    pub fn check_remote(&self) -> Result<()> {
        match self.profile.remote_problem() {
            None => Ok(()),
            Some(rule) => Err(Error::failure(format!(
                "account {:?} is refused: its remote_url in auth.json {rule}",
                self.name
            ))),
        }
    }
}

/// The error for a keyring item that holds a current copy and cannot be removed.
fn cannot_remove(service: &str, account: &str, why: &str) -> Error {
    Error::failure(format!(
        "cannot remove the keyring item {service}/{account}: {why}; nothing was changed"
    ))
}

/// Writes `secret` to profile `name`'s keyring item, remembering what was there for
/// an undo; says where the secret must go when the keyring cannot take it.
fn write_keyring(fx: &mut Effects<'_>, name: &str, secret: &Credential) -> Saved {
    let written = match &fx.unreachable {
        Some(why) => Err(Unavailable(why.clone())),
        None => fx.keyring.get(SERVICE, name).and_then(|previous| {
            // Our own JSON cannot fail to encode; if it did, the file would take it.
            let text = secret.encode().map_err(Unavailable)?;
            fx.keyring.set(SERVICE, name, &text)?;
            fx.written.push((name.to_owned(), previous));
            Ok(())
        }),
    };
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

/// Under the lock, before a change: the items a killed change left pending are kept
/// when their profile's current copy is in the keyring, and removed otherwise. Returns
/// the ones that could not be settled (the keyring is unreachable).
fn settle_pending(file: &mut AuthFile, fx: &Effects<'_>) -> Vec<String> {
    let names = std::mem::take(&mut file.pending_keyring);
    if fx.unreachable.is_some() {
        return names;
    }
    names
        .into_iter()
        .filter(|name| {
            let used = file
                .profiles
                .get(name)
                .is_some_and(|p| storage_of(p) == Storage::Keyring);
            !used && fx.keyring.delete(SERVICE, name).is_err()
        })
        .collect()
}

/// Records `secret` in the profile (one current copy): in plain text for
/// [`Storage::File`], whose keyring items then go after the commit (and must go when
/// `was_keyring`: they held the current copy); for [`Storage::Keyring`] the profile
/// keeps only the auth type. A legacy item, if the profile still had one, is no longer
/// current either way.
fn put(
    fx: &mut Effects<'_>,
    name: &str,
    profile: &mut Profile,
    secret: &Credential,
    storage: Storage,
    was_keyring: bool,
) {
    profile.auth_type = secret.auth_type();
    profile.api_key = None;
    profile.oauth_credential = None;
    let must = was_keyring && storage == Storage::File;
    if let Some(item) = profile.legacy_item.take() {
        fx.delete(&item.service, &item.account, must);
    }
    if storage == Storage::File {
        match secret {
            Credential::ApiKey(key) => profile.api_key = Some(key.clone()),
            Credential::OAuth(cred) => profile.oauth_credential = Some(cred.clone()),
        }
        fx.delete(SERVICE, name, must);
    }
}

/// Fails when `name` belongs to an account of another remote than `remote`: names are
/// unique across remotes (SPEC §7).
fn check_free(file: &AuthFile, name: &str, remote: &str) -> Result<()> {
    match file.profiles.get(name) {
        Some(other) => name_taken(name, other, remote),
        None => Ok(()),
    }
}

/// Fails when `other`, the profile named `name`, is not one of `remote`'s.
fn name_taken(name: &str, other: &Profile, remote: &str) -> Result<()> {
    if other.is_of(remote) {
        return Ok(());
    }
    Err(Error::failure(format!(
        "the name {name:?} is already used by an account of {}; choose another with --label",
        other.remote()
    )))
}

/// Where a profile's secret is: a plain-text copy wins over the keyring.
fn storage_of(profile: &Profile) -> Storage {
    if profile.has_plain_secret() {
        Storage::File
    } else {
        Storage::Keyring
    }
}
