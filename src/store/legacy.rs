//! The legacy `hosts` layout of `auth.json` (the official CLI before v0.2, and earlier
//! versions of this program; SPEC §7), all in this file: its types, how they are read
//! and written back, how they become profiles, and how the secrets of its keyring items
//! (service `baseten:<remote>`, account = label) move to the profiles' own items.
//! Elsewhere the layout is only called: `layout` keeps a file's `hosts` and each
//! profile's not yet moved [`Item`], and the store deletes and reads those items and
//! runs `move_items` on every write. Dropping the layout is deleting this file and
//! those lines.

use std::collections::HashSet;

use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Effects;
use super::layout::{
    AuthFile, AuthType, Extra, OAuthCredential, Profile, host_label, non_empty, object, remote_key,
    require, take, without_position, write_extra,
};
use super::secrets::SERVICE;
use crate::origin;
use crate::remote;
use crate::secret::Secret;
use crate::ui::debug;

/// The `hosts` object: the accounts of each remote, by the remote as written there.
pub struct Hosts(IndexMap<String, Host>);

/// A keyring item of the legacy layout: service `baseten:<remote>`, account = label.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct Item {
    /// `baseten:<remote>`.
    pub service: String,
    /// The legacy label.
    pub account: String,
}

/// One remote of the legacy layout: its accounts by label.
struct Host {
    active_user: Option<String>,
    users: IndexMap<String, User>,
    extra: Extra,
}

/// One account of the legacy layout.
struct User {
    auth_type: AuthType,
    api_key: Option<Secret>,
    oauth_credential: Option<OAuthCredential>,
    extra: Extra,
}

/// The keyring service of the legacy layout for the remote `key` (as written there).
fn service(key: &str) -> String {
    format!("baseten:{key}")
}

impl Hosts {
    /// Takes the `hosts` key out of the top-level keys `rest`; `None` when missing or
    /// null.
    pub fn take(rest: &mut Extra) -> Result<Option<Hosts>, String> {
        Ok(take_map(rest, "hosts")?.map(Hosts))
    }
}

impl AuthFile {
    /// The profiles whose secret is still in a legacy keyring item.
    pub fn legacy_names(&self) -> Vec<String> {
        self.profiles
            .iter()
            .filter(|(_, p)| p.legacy_item.is_some())
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Folds the legacy `hosts` layout into profiles (SPEC §7): label L of remote R
    /// becomes profile L, or `L:<host label>` when another remote holds L; `active_user`
    /// becomes the remote's pointer; `current`, when unset, becomes the active profile
    /// of the default remote, else of `working` (the remote the command works on). A
    /// profile whose secret is in the legacy keyring item remembers that item.
    pub fn convert_legacy(&mut self, working: &str) {
        let Some(hosts) = self.hosts.take() else {
            return;
        };
        self.converted = true;
        // The default remote goes first, so its accounts keep their bare names.
        let mut hosts: Vec<(String, Host)> = hosts.0.into_iter().collect();
        hosts.sort_by_cached_key(|(r, _)| remote_key(r) != remote::DEFAULT_REMOTE);
        // The remotes that have a pointer, normalized once.
        let mut pointed: HashSet<String> = self
            .active_by_remote
            .keys()
            .map(|r| remote_key(r))
            .collect();
        // Per-remote unknown keys have no place in the profiles layout.
        for (
            key,
            Host {
                active_user, users, ..
            },
        ) in hosts
        {
            let remote = remote_key(&key);
            let stored_url = origin::normalize(&key).unwrap_or_else(|_| key.clone());
            let mut active = None;
            for (label, user) in users {
                let name = self.free_name(&label, &remote, &key);
                if active_user.as_deref() == Some(label.as_str()) {
                    active = Some(name.clone());
                }
                if self.profiles.contains_key(&name) {
                    continue; // the same account, already in the profiles layout
                }
                let mut profile = Profile {
                    remote: remote.clone(),
                    remote_url: stored_url.clone(),
                    auth_type: user.auth_type,
                    api_key: user.api_key,
                    oauth_credential: user.oauth_credential,
                    legacy_item: None,
                    extra: user.extra,
                };
                if !profile.has_plain_secret() {
                    profile.legacy_item = Some(Item {
                        service: service(&key),
                        account: label,
                    });
                }
                self.profiles.insert(name, profile);
            }
            if let Some(name) = active
                && pointed.insert(remote.clone())
            {
                self.active_by_remote.insert(remote, name);
            }
        }
        if self.current.is_none() {
            self.current = self
                .active(remote::DEFAULT_REMOTE)
                .or_else(|| self.active(working))
                .map(str::to_owned);
        }
    }

    /// The profile name for legacy label `label` of `remote`: the label itself unless a
    /// profile of another remote has it, else `label:<host label>` (numbered if needed).
    fn free_name(&self, label: &str, remote: &str, key: &str) -> String {
        let free = |n: &str| self.profiles.get(n).is_none_or(|p| p.is_of(remote));
        if free(label) {
            return label.to_owned();
        }
        let base = format!("{label}:{}", host_label(key));
        let mut name = base.clone();
        let mut n = 2;
        while !free(&name) {
            name = format!("{base}:{n}");
            n += 1;
        }
        name
    }
}

/// Moves the secret of every profile still in a legacy keyring item to the profile's
/// own item. The legacy item is deleted after the commit; a profile whose move fails
/// (keyring locked or absent) keeps pointing at its legacy item for a later write.
pub(super) fn move_items(file: &mut AuthFile, fx: &mut Effects<'_>) {
    if fx.unreachable.is_some() {
        return;
    }
    for (name, profile) in file.profiles.iter_mut() {
        let Some(item) = profile.legacy_item.clone() else {
            continue;
        };
        let moved = fx.keyring.get(SERVICE, name).and_then(|current| {
            if current.is_none()
                && let Some(secret) = fx.keyring.get(&item.service, &item.account)?
            {
                fx.keyring.set(SERVICE, name, &secret)?;
                fx.written.push((name.clone(), None));
            }
            Ok(())
        });
        match moved {
            Ok(()) => {
                profile.legacy_item = None;
                fx.delete(&item.service, &item.account, false);
            }
            Err(e) => {
                debug!("keyring item of {name:?} not moved yet: {}", e.0);
                return; // the keyring is unavailable: the other moves would fail too
            }
        }
    }
}

// ---- reading and writing ----------------------------------------------------------

/// Like [`take`] for an object of named entries, naming the entry that fails.
fn take_map<T: DeserializeOwned>(
    obj: &mut Extra,
    key: &str,
) -> Result<Option<IndexMap<String, T>>, String> {
    let Some(entries) = take::<Extra>(obj, key)? else {
        return Ok(None);
    };
    entries
        .into_iter()
        .map(|(name, raw)| {
            serde_json::from_str(raw.get())
                .map(|v| (name.clone(), v))
                .map_err(|e| format!("{key} {name:?}: {}", without_position(&e)))
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

impl<'de> Deserialize<'de> for Host {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        object(d, |mut o| {
            Ok(Host {
                active_user: non_empty(take(&mut o, "active_user")?),
                users: take_map(&mut o, "users")?.unwrap_or_default(),
                extra: o,
            })
        })
    }
}

impl<'de> Deserialize<'de> for User {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        object(d, |mut o| {
            Ok(User {
                auth_type: require(&mut o, "auth_type")?,
                api_key: take(&mut o, "api_key")?,
                oauth_credential: take(&mut o, "oauth_credential")?,
                extra: o,
            })
        })
    }
}

impl Serialize for Hosts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Serialize for Host {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(active) = &self.active_user {
            m.serialize_entry("active_user", active)?;
        }
        m.serialize_entry("users", &self.users)?;
        write_extra(&mut m, &self.extra)?;
        m.end()
    }
}

impl Serialize for User {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("auth_type", &self.auth_type)?;
        if let Some(key) = &self.api_key {
            m.serialize_entry("api_key", key)?;
        }
        if let Some(cred) = &self.oauth_credential {
            m.serialize_entry("oauth_credential", cred)?;
        }
        write_extra(&mut m, &self.extra)?;
        m.end()
    }
}
