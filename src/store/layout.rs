//! The contents of `auth.json` (SPEC §7), in the layout Baseten's official CLI (v0.2 and
//! later) reads and writes: named `profiles`, a `current` profile, and this program's own
//! `active_by_remote` pointers. The earlier `hosts` layout (the official CLI before v0.2,
//! and earlier versions of this program) is read and converted to profiles by
//! [`super::legacy`].
//!
//! Nothing is lost on a rewrite: every value under a key this program does not know is
//! kept as the exact text it was read as (numbers included), and so is every expiry.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;

use indexmap::IndexMap;
use jiff::Timestamp;
use serde::de::{DeserializeOwned, DeserializeSeed, Error as _, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use super::legacy::{self, Hosts};
use crate::origin::{self, Origin};
use crate::remote;
use crate::secret::Secret;

/// Longest profile name accepted, in characters.
pub const MAX_NAME: usize = 256;

/// Go's zero `time.Time`, which the official CLI writes for an unknown expiry.
const GO_ZERO: &str = "0001-01-01T00:00:00Z";

/// The instant [`GO_ZERO`] names.
const GO_ZERO_AT: Timestamp = Timestamp::constant(-62_135_596_800, 0);

/// The top-level key of [`AuthFile::pending_keyring`].
const PENDING: &str = "pending_keyring";

/// The keys of an object this program does not know, with their values' exact text.
pub(super) type Extra = IndexMap<String, Box<RawValue>>;

/// The whole file.
#[derive(Default)]
pub struct AuthFile {
    /// The profile used when none is selected (the official CLI's notion).
    pub current: Option<String>,
    /// Every account, by profile name.
    pub profiles: IndexMap<String, Profile>,
    /// This program's record of each remote's active profile; the official CLI drops
    /// it when it writes, and [`AuthFile::active`] answers sensibly without it.
    pub active_by_remote: IndexMap<String, String>,
    /// This program's record of keyring items (service `baseten-profile`, by profile
    /// name) that a change wrote or is about to delete: should that change be killed,
    /// the next write keeps each one its profile uses and removes the others. Other
    /// tools drop it, which loses only that clean-up.
    pub pending_keyring: Vec<String>,
    /// The legacy `hosts` layout, until [`AuthFile::convert_legacy`] folds it in.
    pub(super) hosts: Option<Hosts>,
    /// Whether the file was read in the legacy layout (and converted in memory).
    pub(super) converted: bool,
    /// Every other top-level key (`version` among them), verbatim.
    extra: Extra,
}

/// One account.
#[derive(Clone)]
pub struct Profile {
    /// The remote the account belongs to, as written (compare with [`Profile::remote`]).
    pub(super) remote_url: String,
    /// `remote_url` normalized, for comparisons.
    pub(super) remote: String,
    /// Which kind of secret the account holds.
    pub auth_type: AuthType,
    /// The API key, only when stored in plain text.
    pub api_key: Option<Secret>,
    /// The OAuth token pair, only when stored in plain text.
    pub oauth_credential: Option<OAuthCredential>,
    /// The keyring item of the legacy layout still holding the secret: a move that
    /// could not be done yet (keyring locked or absent when the file was converted).
    pub legacy_item: Option<legacy::Item>,
    pub(super) extra: Extra,
}

/// Whether an account holds an OAuth credential or an API key.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub enum AuthType {
    /// An OAuth token pair from a browser login.
    #[serde(rename = "oauth")]
    OAuth,
    /// An API key.
    #[serde(rename = "api_key")]
    ApiKey,
}

impl AuthType {
    /// The wire and display name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::OAuth => "oauth",
            AuthType::ApiKey => "api_key",
        }
    }
}

/// An OAuth token pair; also the keyring secret of OAuth accounts, as compact JSON.
#[derive(Clone)]
pub struct OAuthCredential {
    /// The bearer token API calls present.
    pub access_token: Secret,
    /// Empty when the server gave none.
    pub refresh_token: Secret,
    /// When the access token expires.
    pub expiry: Expiry,
    extra: Extra,
}

/// When an access token expires. Keeps the text it was read as, so an expiry nobody
/// changed is written back byte for byte (precision and offset included).
#[derive(Clone, Debug)]
pub struct Expiry {
    /// `None` when unknown (missing, null or Go's zero time).
    pub at: Option<Timestamp>,
    /// The JSON value as read, or as made by [`Expiry::new`]; `None` when missing.
    raw: Option<Box<RawValue>>,
}

impl Expiry {
    /// An expiry at `at`, or unknown, written as the official CLI writes it (RFC 3339;
    /// Go's zero time for unknown).
    pub fn new(at: Option<Timestamp>) -> Expiry {
        let text = at.map_or_else(|| GO_ZERO.to_owned(), |t| t.to_string());
        Expiry {
            at,
            raw: RawValue::from_string(format!("\"{text}\"")).ok(),
        }
    }

    fn read(raw: Option<Box<RawValue>>) -> Result<Expiry, String> {
        let text: Option<String> = match &raw {
            Some(r) => serde_json::from_str(r.get())
                .map_err(|e| format!("expiry: {}", without_position(&e)))?,
            None => None,
        };
        let at = match text.as_deref() {
            None | Some("") => None,
            Some(s) => {
                let t: Timestamp = s
                    .parse()
                    .map_err(|_| format!("expiry {s:?} is not an RFC 3339 time"))?;
                // Go's zero time means "unknown"; every other instant is real, before
                // 1970 included.
                (t != GO_ZERO_AT).then_some(t)
            }
        };
        Ok(Expiry { at, raw })
    }
}

impl OAuthCredential {
    /// A new token pair from a server response.
    pub fn new(access_token: Secret, refresh_token: Secret, expiry: Expiry) -> Self {
        OAuthCredential {
            access_token,
            refresh_token,
            expiry,
            extra: Extra::new(),
        }
    }

    /// Reads the keyring form (compact JSON).
    pub fn parse(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    /// The keyring form: compact JSON `{"access_token","refresh_token","expiry"}`.
    pub fn encode(&self) -> Result<String, String> {
        serde_json::to_string(self).map_err(|e| e.to_string())
    }
}

/// A remote URL in the form remotes are compared in (SPEC §3); text that is not a
/// valid remote is compared as it is, lower-cased.
pub(super) fn remote_key(url: &str) -> String {
    origin::normalize(url).unwrap_or_else(|_| url.to_ascii_lowercase())
}

/// The profile name of a browser login (the official CLI's rule): the email on the
/// default remote, `<email>:<host without a leading "app." and the port>` elsewhere,
/// with the email cut so the name is at most [`MAX_NAME`] characters; says whether it
/// was cut.
pub fn oauth_profile_name(email: &str, remote: &str) -> (String, bool) {
    let suffix = if remote_key(remote) == remote::DEFAULT_REMOTE {
        String::new()
    } else {
        format!(":{}", host_label(remote))
    };
    let room = MAX_NAME.saturating_sub(suffix.chars().count()).max(1);
    let cut = email.chars().count() > room;
    let email: String = email.chars().take(room).collect();
    (email + &suffix, cut)
}

/// The host of a remote for a profile name, without a leading `app.`:
/// `https://app.staging.baseten.co:8443` → `staging.baseten.co`.
pub(super) fn host_label(remote: &str) -> String {
    // A remote no longer accepted (stored by another tool) is labelled by its text.
    let host = match Origin::parse(remote) {
        Ok(origin) => origin.host.to_string(),
        Err(_) => {
            let rest = remote.split_once("://").map_or(remote, |(_, rest)| rest);
            rest.trim_end_matches('/').to_ascii_lowercase()
        }
    };
    match host.strip_prefix("app.") {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => host,
    }
}

impl Profile {
    /// A new profile of `remote` holding no secret yet.
    pub fn new(remote: &str, auth_type: AuthType) -> Profile {
        Profile {
            remote_url: remote.to_owned(),
            remote: remote_key(remote),
            auth_type,
            api_key: None,
            oauth_credential: None,
            legacy_item: None,
            extra: Extra::new(),
        }
    }

    /// The remote, normalized for comparison.
    pub fn remote(&self) -> &str {
        &self.remote
    }

    /// Whether the profile belongs to `remote` (a normalized URL).
    pub fn is_of(&self, remote: &str) -> bool {
        self.remote == remote
    }

    /// Why the profile's `remote_url` fails the rules of a remote (SPEC §3), if it does.
    pub fn remote_problem(&self) -> Option<String> {
        origin::normalize(&self.remote_url).err()
    }

    /// Whether the secret is kept in plain text here.
    pub fn has_plain_secret(&self) -> bool {
        match self.auth_type {
            AuthType::ApiKey => self.api_key.is_some(),
            AuthType::OAuth => self.oauth_credential.is_some(),
        }
    }
}

impl AuthFile {
    /// The active profile of `remote` (SPEC §7): `current` when it is one of the
    /// remote's, else `active_by_remote`'s pointer when it is, else the remote's only
    /// profile.
    pub fn active(&self, remote: &str) -> Option<&str> {
        let is_of = |name: &str| Ok(self.profiles.get(name).is_some_and(|p| p.is_of(remote)));
        let only = || {
            let mut names = self
                .profiles
                .iter()
                .filter(|(_, p)| p.is_of(remote))
                .map(|(n, _)| n.as_str());
            Ok(match (names.next(), names.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            })
        };
        let pointer = pointer(&self.active_by_remote, remote);
        let Ok(active) = choose_active::<Infallible>(self.current.as_deref(), pointer, is_of, only);
        active
    }

    /// The active profile of every remote that has one, by [`AuthFile::active`]'s rule,
    /// in one pass over the profiles and one over the pointers: listing every account
    /// stays linear however many remotes there are.
    pub fn actives(&self) -> HashMap<&str, &str> {
        // Each remote's only profile; `None` once it has a second one.
        let mut only: HashMap<&str, Option<&str>> = HashMap::new();
        for (name, p) in &self.profiles {
            only.entry(p.remote())
                .and_modify(|o| *o = None)
                .or_insert(Some(name));
        }
        // The first pointer of each remote, whatever its spelling.
        let mut pointers: HashMap<String, &str> = HashMap::new();
        for (r, name) in &self.active_by_remote {
            pointers.entry(remote_key(r)).or_insert(name);
        }
        only.into_iter()
            .filter_map(|(remote, only)| {
                let is_of =
                    |name: &str| Ok(self.profiles.get(name).is_some_and(|p| p.is_of(remote)));
                let pointer = pointers.get(remote).copied();
                let Ok(active) =
                    choose_active::<Infallible>(self.current.as_deref(), pointer, is_of, || {
                        Ok(only)
                    });
                active.map(|name| (remote, name))
            })
            .collect()
    }

    /// Makes `name` the active profile of `remote`: `current` and the remote's pointer.
    /// The profile `current` named until now was its own remote's active one and stays
    /// so (through that remote's pointer), so no other remote loses its account.
    pub fn make_active(&mut self, remote: &str, name: &str) {
        if let Some(previous) = self.current.take()
            && let Some(other) = self.profiles.get(&previous).map(|p| p.remote().to_owned())
            && other != remote
        {
            self.point(&other, previous);
        }
        self.current = Some(name.to_owned());
        self.point(remote, name.to_owned());
    }

    /// The profiles whose keyring items a write would have to look at: pending ones,
    /// then those still in a legacy item.
    pub fn keyring_names(&self) -> Vec<String> {
        let mut names = self.pending_keyring.clone();
        names.extend(self.legacy_names());
        names
    }

    /// Whether the next write has work to do beyond the change it carries: converting
    /// the layout, moving legacy items, settling pending items.
    pub fn needs_rewrite(&self) -> bool {
        self.converted || !self.keyring_names().is_empty()
    }

    /// Pins `remote`'s active profile in its pointer, so that adding a profile to the
    /// remote does not take the active one away when it was active only by being the
    /// remote's only profile (SPEC §7).
    pub fn pin_active(&mut self, remote: &str) {
        if let Some(name) = self.active(remote).map(str::to_owned) {
            self.point(remote, name);
        }
    }

    /// Sets `remote`'s pointer, replacing any spelling of it.
    fn point(&mut self, remote: &str, name: String) {
        self.active_by_remote.retain(|r, _| remote_key(r) != remote);
        self.active_by_remote.insert(remote.to_owned(), name);
    }

    /// Removes a profile and every pointer that named it.
    pub fn remove(&mut self, name: &str) -> Option<Profile> {
        if self.current.as_deref() == Some(name) {
            self.current = None;
        }
        self.active_by_remote.retain(|_, n| n != name);
        self.profiles.shift_remove(name)
    }
}

/// SPEC §7's rule for the active profile of a remote: `current` when it is one of the
/// remote's profiles (`is_of`), else the remote's pointer when it is, else (asked last)
/// the remote's only profile. `E` is what looking at a profile may fail with.
fn choose_active<'n, E>(
    current: Option<&'n str>,
    pointer: Option<&'n str>,
    is_of: impl Fn(&str) -> Result<bool, E>,
    only: impl FnOnce() -> Result<Option<&'n str>, E>,
) -> Result<Option<&'n str>, E> {
    for name in [current, pointer].into_iter().flatten() {
        if is_of(name)? {
            return Ok(Some(name));
        }
    }
    only()
}

/// The first pointer of `remote` (normalized) in `active_by_remote`, whatever its
/// spelling there.
fn pointer<'n>(active_by_remote: &'n IndexMap<String, String>, remote: &str) -> Option<&'n str> {
    active_by_remote
        .iter()
        .find(|(r, _)| remote_key(r) == remote)
        .map(|(_, n)| n.as_str())
}

// ---- reading ------------------------------------------------------------------------

/// What is wrong with a file that does not decode. A syntax error carries its
/// position in the file; a value of the wrong shape is named by its path instead (its
/// value was decoded on its own, so serde's position would be within the value).
pub fn describe(e: &serde_json::Error) -> String {
    if e.classify() == serde_json::error::Category::Data {
        without_position(e)
    } else {
        e.to_string()
    }
}

/// The error without the position serde adds, for an error within a value decoded on
/// its own (the position would be within that value, not the file).
pub(super) fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&position).unwrap_or(&text).to_owned()
}

/// Takes `key` out of `obj` and decodes it; a missing key and `null` are both `None`.
pub(super) fn take<T: DeserializeOwned>(obj: &mut Extra, key: &str) -> Result<Option<T>, String> {
    field(obj.shift_remove(key).as_deref(), key)
}

/// Like [`take`], for a key that must be there.
pub(super) fn require<T: DeserializeOwned>(obj: &mut Extra, key: &str) -> Result<T, String> {
    take(obj, key)?.ok_or_else(|| format!("missing {key}"))
}

/// An empty string means "none", as the official CLI writes it.
pub(super) fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

/// Decodes an object field by field: `build` takes the known keys out and keeps the rest.
pub(super) fn object<'de, D, T>(
    d: D,
    build: impl FnOnce(Extra) -> Result<T, String>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    build(Extra::deserialize(d)?).map_err(D::Error::custom)
}

/// `auth.json` as read, each profile still the text it was read as: a command decodes
/// only the profiles it looks at, so reading one account of a large store costs little
/// more than scanning the file once (SPEC §7). The text is borrowed from the file.
#[derive(Default)]
pub struct Parsed<'a> {
    current: Option<String>,
    /// Every profile, by name.
    profiles: Profiles<'a>,
    active_by_remote: IndexMap<String, String>,
    pending_keyring: Vec<String>,
    hosts: Option<Hosts>,
    converted: bool,
    extra: Extra,
}

impl<'a> Parsed<'a> {
    /// Reads `text` in one pass: every value is checked to be JSON, the top-level keys
    /// are decoded, the profiles are kept as text. The error says what is wrong (and,
    /// for a syntax error, where).
    pub fn parse(text: &'a str) -> Result<Parsed<'a>, String> {
        let Top { profiles, mut rest } = serde_json::from_str(text).map_err(|e| describe(&e))?;
        Ok(Parsed {
            current: non_empty(take(&mut rest, "current")?),
            profiles: profiles.unwrap_or_default(),
            active_by_remote: take(&mut rest, "active_by_remote")?.unwrap_or_default(),
            pending_keyring: take(&mut rest, PENDING)?.unwrap_or_default(),
            hosts: Hosts::take(&mut rest)?,
            converted: false,
            extra: rest,
        })
    }

    /// Every profile decoded: the whole file, to change it or to list every account.
    pub fn decode(self) -> Result<AuthFile, String> {
        let profiles = self
            .profiles
            .iter()
            .map(|(name, entry)| Ok((name.clone().into_owned(), entry.decode(name)?)))
            .collect::<Result<_, String>>()?;
        Ok(AuthFile {
            current: self.current,
            profiles,
            active_by_remote: self.active_by_remote,
            pending_keyring: self.pending_keyring,
            hosts: self.hosts,
            converted: self.converted,
            extra: self.extra,
        })
    }

    /// The file with the legacy layout converted to profiles ([`AuthFile::convert_legacy`];
    /// `working` is the remote the command works on), as a command that only reads sees
    /// it; a file in the profiles layout is returned as it is.
    pub fn converted(self, working: &str) -> Result<Parsed<'a>, String> {
        if self.hosts.is_none() {
            return Ok(self);
        }
        let mut file = self.decode()?;
        file.convert_legacy(working);
        let profiles = file
            .profiles
            .into_iter()
            .map(|(name, p)| (Cow::Owned(name), Entry::Decoded(Box::new(p))))
            .collect();
        Ok(Parsed {
            current: file.current,
            profiles,
            active_by_remote: file.active_by_remote,
            pending_keyring: file.pending_keyring,
            hosts: None,
            converted: true,
            extra: file.extra,
        })
    }

    /// The `current` profile name.
    pub fn current(&self) -> Option<&str> {
        self.current.as_deref()
    }

    /// The profile `name`, decoded.
    pub fn profile(&self, name: &str) -> Result<Option<Profile>, String> {
        self.entry(name).map(|e| e.decode(name)).transpose()
    }

    /// The profile `name` as read. A name given twice in the file has its last value, as
    /// in a map; looking a few names up costs less than indexing every name.
    fn entry(&self, name: &str) -> Option<&Entry<'a>> {
        self.profiles
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e)
    }

    /// Every profile, each name once with the value [`Parsed::entry`] finds, in no
    /// particular order.
    fn distinct(&self) -> impl Iterator<Item = (&str, &Entry<'a>)> {
        let mut seen = HashSet::new();
        self.profiles
            .iter()
            .rev()
            .filter(move |(n, _)| seen.insert(n.as_ref()))
            .map(|(n, e)| (n.as_ref(), e))
    }

    /// Whether any profile keeps its secret in plain text.
    pub fn has_plain_secret(&self) -> Result<bool, String> {
        for (name, entry) in self.distinct() {
            if entry.decode(name)?.has_plain_secret() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// [`AuthFile::active`], looking only at the remotes of the profiles it needs.
    pub fn active(&self, remote: &str) -> Result<Option<&str>, String> {
        let is_of = |name: &str| Ok(self.entry(name).is_some_and(|e| e.remote() == remote));
        let only = || {
            let mut only = None;
            for (name, entry) in self.distinct() {
                if entry.remote() == remote {
                    if only.is_some() {
                        return Ok(None);
                    }
                    only = Some(name);
                }
            }
            Ok(only)
        };
        let pointer = pointer(&self.active_by_remote, remote);
        choose_active(self.current.as_deref(), pointer, is_of, only)
    }
}

/// A profile as read: its shape checked and its remote known, its secrets and unknown
/// keys still text until it is decoded.
enum Entry<'a> {
    Text(ProfileText<'a>),
    /// A profile made by converting the legacy layout.
    Decoded(Box<Profile>),
}

/// A profile of the file, checked but not decoded.
struct ProfileText<'a> {
    remote_url: Cow<'a, str>,
    auth_type: AuthType,
    api_key: Option<&'a RawValue>,
    oauth_credential: Option<&'a RawValue>,
    legacy_keyring: Option<&'a RawValue>,
    /// Every other key, in file order.
    extra: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl Entry<'_> {
    /// The profile's remote, normalized.
    fn remote(&self) -> Cow<'_, str> {
        match self {
            Entry::Text(t) => Cow::Owned(remote_key(&t.remote_url)),
            Entry::Decoded(p) => Cow::Borrowed(p.remote()),
        }
    }

    /// The profile `name`, decoded.
    fn decode(&self, name: &str) -> Result<Profile, String> {
        let t = match self {
            Entry::Text(t) => t,
            Entry::Decoded(p) => return Ok(Profile::clone(p)),
        };
        let decoded = (|| {
            Ok(Profile {
                remote: remote_key(&t.remote_url),
                remote_url: t.remote_url.clone().into_owned(),
                auth_type: t.auth_type,
                api_key: field(t.api_key, "api_key")?,
                oauth_credential: field(t.oauth_credential, "oauth_credential")?,
                legacy_item: field(t.legacy_keyring, "legacy_keyring")?,
                extra: t
                    .extra
                    .iter()
                    .map(|(k, v)| (k.clone().into_owned(), (*v).to_owned()))
                    .collect(),
            })
        })();
        decoded.map_err(|e: String| format!("profiles {name:?}: {e}"))
    }
}

/// Decodes the value `raw` of `key`; a missing key and `null` are both `None`.
fn field<T: DeserializeOwned>(raw: Option<&RawValue>, key: &str) -> Result<Option<T>, String> {
    match raw {
        None => Ok(None),
        Some(raw) => serde_json::from_str::<Option<T>>(raw.get())
            .map_err(|e| format!("{key}: {}", without_position(&e))),
    }
}

/// The contents of `raw` when it is a JSON string without escapes (the common case,
/// read without decoding it again; the parser has already refused control characters).
fn plain_string(raw: &RawValue) -> Option<&str> {
    let inner = raw.get().strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then_some(inner)
}

/// Reads a profile object in the one pass over the file: each value's text, then the
/// two every profile needs checked. `Err` says what is wrong with it.
fn profile_text<'de, A: MapAccess<'de>>(
    mut m: A,
) -> Result<Result<ProfileText<'de>, String>, A::Error> {
    let (mut remote_url, mut auth_type) = (None, None);
    let (mut api_key, mut oauth_credential, mut legacy_keyring) = (None, None, None);
    let mut extra = Vec::new();
    while let Some(key) = m.next_key_seed(BorrowedStr)? {
        let value: &'de RawValue = m.next_value()?;
        match key.as_ref() {
            "remote_url" => remote_url = Some(value),
            "auth_type" => auth_type = Some(value),
            "api_key" => api_key = Some(value),
            "oauth_credential" => oauth_credential = Some(value),
            "legacy_keyring" => legacy_keyring = Some(value),
            _ => extra.push((key, value)),
        }
    }
    let checked = (|| {
        let remote_url = match remote_url.filter(|r| r.get() != "null") {
            None => return Err("missing remote_url".to_owned()),
            Some(raw) => match plain_string(raw) {
                Some(url) => Cow::Borrowed(url),
                None => BorrowedStr
                    .deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
                    .map_err(|e| format!("remote_url: {}", without_position(&e)))?,
            },
        };
        let auth_type = match auth_type.and_then(plain_string) {
            Some("api_key") => AuthType::ApiKey,
            Some("oauth") => AuthType::OAuth,
            _ => field(auth_type, "auth_type")?.ok_or("missing auth_type")?,
        };
        Ok(ProfileText {
            remote_url,
            auth_type,
            api_key,
            oauth_credential,
            legacy_keyring,
            extra,
        })
    })();
    Ok(checked)
}

/// The top level of `auth.json` in one pass: the profiles as text, every other key as
/// its value's text.
struct Top<'a> {
    profiles: Option<Profiles<'a>>,
    rest: Extra,
}

/// The `profiles` object's entries, in file order.
type Profiles<'a> = Vec<(Cow<'a, str>, Entry<'a>)>;

impl<'de> Deserialize<'de> for Top<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(TopVisitor)
    }
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Top<'de>, A::Error> {
        let mut top = Top {
            profiles: None,
            rest: Extra::new(),
        };
        while let Some(key) = m.next_key_seed(BorrowedStr)? {
            if key == "profiles" {
                top.profiles = m.next_value::<Option<ProfilesText<'de>>>()?.map(|p| p.0);
            } else {
                top.rest.insert(key.into_owned(), m.next_value()?);
            }
        }
        Ok(top)
    }
}

/// [`Profiles`], decoded as a value of [`Top`].
struct ProfilesText<'a>(Profiles<'a>);

impl<'de> Deserialize<'de> for ProfilesText<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ProfilesVisitor)
    }
}

struct ProfilesVisitor;

impl<'de> Visitor<'de> for ProfilesVisitor {
    type Value = ProfilesText<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object of profiles under \"profiles\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<ProfilesText<'de>, A::Error> {
        let mut profiles = Profiles::new();
        while let Some(name) = m.next_key_seed(BorrowedStr)? {
            let wrong =
                |why: &dyn std::fmt::Display| A::Error::custom(format!("profiles {name:?}: {why}"));
            let text = m.next_value::<Checked<'de>>().map_err(|e| wrong(&e))?;
            let text = text.0.map_err(|why| wrong(&why))?;
            profiles.push((name, Entry::Text(text)));
        }
        Ok(ProfilesText(profiles))
    }
}

/// A profile object as [`profile_text`] reads it.
struct Checked<'a>(Result<ProfileText<'a>, String>);

impl<'de> Deserialize<'de> for Checked<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Checked<'de>, A::Error> {
        profile_text(m).map(Checked)
    }
}

/// A JSON string, borrowed from the text when it holds no escapes.
struct BorrowedStr;

impl<'de> DeserializeSeed<'de> for BorrowedStr {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for BorrowedStr {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

impl<'de> Deserialize<'de> for OAuthCredential {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        object(d, |mut o| {
            Ok(OAuthCredential {
                access_token: require(&mut o, "access_token")?,
                refresh_token: take(&mut o, "refresh_token")?.unwrap_or_default(),
                expiry: Expiry::read(o.shift_remove("expiry"))?,
                extra: o,
            })
        })
    }
}

// ---- writing ------------------------------------------------------------------------

/// Writes the known keys first (in the official CLI's order), then the unknown ones.
pub(super) fn write_extra<M: SerializeMap>(m: &mut M, extra: &Extra) -> Result<(), M::Error> {
    for (k, v) in extra {
        m.serialize_entry(k, v)?;
    }
    Ok(())
}

impl Serialize for AuthFile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self.extra.get("version") {
            Some(v) => m.serialize_entry("version", v)?,
            None => m.serialize_entry("version", &1)?,
        }
        if let Some(current) = &self.current {
            m.serialize_entry("current", current)?;
        }
        m.serialize_entry("profiles", &self.profiles)?;
        if !self.active_by_remote.is_empty() {
            m.serialize_entry("active_by_remote", &self.active_by_remote)?;
        }
        if !self.pending_keyring.is_empty() {
            m.serialize_entry(PENDING, &self.pending_keyring)?;
        }
        if let Some(hosts) = &self.hosts {
            m.serialize_entry("hosts", hosts)?;
        }
        for (k, v) in self.extra.iter().filter(|(k, _)| *k != "version") {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Serialize for Profile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("remote_url", &self.remote_url)?;
        m.serialize_entry("auth_type", &self.auth_type)?;
        if let Some(key) = &self.api_key {
            m.serialize_entry("api_key", key)?;
        }
        if let Some(cred) = &self.oauth_credential {
            m.serialize_entry("oauth_credential", cred)?;
        }
        if let Some(item) = &self.legacy_item {
            m.serialize_entry("legacy_keyring", item)?;
        }
        write_extra(&mut m, &self.extra)?;
        m.end()
    }
}

impl Serialize for OAuthCredential {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("access_token", &self.access_token)?;
        m.serialize_entry("refresh_token", &self.refresh_token)?;
        if let Some(raw) = &self.expiry.raw {
            m.serialize_entry("expiry", raw)?;
        }
        write_extra(&mut m, &self.extra)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> AuthFile {
        Parsed::parse(text).unwrap().decode().unwrap()
    }

    fn rewrite(text: &str) -> String {
        let file = read(text);
        serde_json::to_string_pretty(&file).unwrap()
    }

    /// Unknown values keep their exact text, numbers included.
    #[test]
    fn unknown_values_keep_their_text() {
        let input = r#"{"version":1,"big":123456789012345678901234567890,"f":1.10,"e":1E+2,
            "profiles":{"p":{"remote_url":"https://app.baseten.co","auth_type":"api_key",
            "x":[1.0,-0,{"n":1e-7}]}}}"#;
        let out = rewrite(input);
        for kept in [
            "123456789012345678901234567890",
            "1.10",
            "1E+2",
            "[1.0,-0,{\"n\":1e-7}]",
        ] {
            assert!(out.contains(kept), "{kept} lost: {out}");
        }
        assert_eq!(rewrite(&out), out);
    }

    /// Found by fuzzing an earlier reader: long numbers changed on every rewrite.
    #[test]
    fn unknown_numbers_survive_rewrites() {
        let input = format!("{{\"\": {}0 }}", "1".repeat(87));
        let once = rewrite(&input);
        assert_eq!(rewrite(&once), once);
        assert!(once.contains(&format!("{}0", "1".repeat(87))));
    }

    /// An expiry is written back as it was read, whatever its precision and offset.
    #[test]
    fn expiry_text_is_kept() {
        for (text, at) in [
            (
                "2031-05-06T07:08:09.987654321+02:00",
                Some(Timestamp::constant(1_935_810_489, 987_654_321)),
            ),
            ("0001-01-01T00:00:00Z", None),
            ("1969-12-31T23:59:59Z", Some(Timestamp::constant(-1, 0))),
        ] {
            let c = OAuthCredential::parse(&format!(
                r#"{{"access_token":"a","refresh_token":"r","expiry":"{text}"}}"#
            ))
            .unwrap();
            assert_eq!(c.expiry.at, at, "{text}");
            let encoded = c.encode().unwrap();
            assert!(encoded.contains(text), "{encoded}");
        }
        let c = OAuthCredential::parse(r#"{"access_token":"a","expiry":null}"#).unwrap();
        assert_eq!(c.expiry.at, None);
        assert_eq!(
            c.encode().unwrap(),
            r#"{"access_token":"a","refresh_token":"","expiry":null}"#
        );
    }

    /// An expiry that is not a date with an offset is refused, not taken as unknown.
    #[test]
    fn expiry_must_be_a_dated_instant() {
        for bad in [
            "2026-01-02",
            "2026-13-02T03:04:05Z",
            "2026-01-02T03:04:05",
            "soon",
        ] {
            let text = format!(r#"{{"access_token":"a","expiry":"{bad}"}}"#);
            assert!(OAuthCredential::parse(&text).is_err(), "{bad}");
        }
    }

    #[test]
    fn profile_names_follow_the_official_rule() {
        let name = |e, r| oauth_profile_name(e, r).0;
        assert_eq!(name("me@x.com", "https://app.baseten.co"), "me@x.com");
        assert_eq!(
            name("me@x.com", "https://app.staging.baseten.co"),
            "me@x.com:staging.baseten.co"
        );
        assert_eq!(
            name("me@x.com", "http://127.0.0.1:8080"),
            "me@x.com:127.0.0.1"
        );
        assert_eq!(name("me@x.com", "http://[::1]:80"), "me@x.com:::1");
    }

    #[test]
    fn a_long_email_is_cut_so_the_name_fits() {
        let email = format!("{}@x.com", "a".repeat(300));
        let (name, cut) = oauth_profile_name(&email, "http://127.0.0.1:8080");
        assert!(cut);
        assert_eq!(name.chars().count(), MAX_NAME);
        assert!(name.ends_with("a:127.0.0.1"), "{name}");
        let (name, cut) = oauth_profile_name(&"é".repeat(256), remote::DEFAULT_REMOTE);
        assert!(!cut);
        assert_eq!(name.chars().count(), MAX_NAME);
    }

    /// A name given twice is one profile with its last value, whether the file is read
    /// for a look at one account or decoded whole for a change.
    #[test]
    fn a_name_given_twice_has_its_last_value() {
        let text = r#"{"profiles":{
              "a":{"remote_url":"https://x.example.com","auth_type":"api_key"},
              "b":{"remote_url":"https://x.example.com","auth_type":"api_key"},
              "a":{"remote_url":"https://y.example.com","auth_type":"oauth"}}}"#;
        let parsed = Parsed::parse(text).unwrap();
        let a = parsed.profile("a").unwrap().unwrap();
        assert_eq!(
            (a.remote(), a.auth_type),
            ("https://y.example.com", AuthType::OAuth)
        );
        assert_eq!(parsed.active("https://y.example.com"), Ok(Some("a")));
        assert_eq!(parsed.active("https://x.example.com"), Ok(Some("b")));
        let file = parsed.decode().unwrap();
        let names: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(file.profiles["a"].remote(), "https://y.example.com");
    }

    #[test]
    fn active_follows_current_then_pointer_then_only_profile() {
        let mut f = read(
            r#"{"profiles":{
              "a":{"remote_url":"https://app.baseten.co","auth_type":"api_key"},
              "b":{"remote_url":"https://app.baseten.co","auth_type":"api_key"},
              "c":{"remote_url":"https://x.example.com/","auth_type":"api_key"}}}"#,
        );
        let default = remote::DEFAULT_REMOTE;
        assert_eq!(f.active(default), None);
        assert_eq!(f.active("https://x.example.com"), Some("c"));
        f.active_by_remote.insert(default.into(), "b".into());
        assert_eq!(f.active(default), Some("b"));
        f.current = Some("c".into());
        assert_eq!(f.active(default), Some("b"));
        f.current = Some("a".into());
        assert_eq!(f.active(default), Some("a"));
        // Activating on another remote keeps this remote's account active.
        f.make_active("https://x.example.com", "c");
        assert_eq!(f.active(default), Some("a"));
        assert_eq!(f.active("https://x.example.com"), Some("c"));
        f.make_active(default, "a");
        f.remove("a");
        assert_eq!(f.current, None);
        assert_eq!(f.active(default), Some("b"));
        // A pointer under another spelling of the remote counts; every remote at once.
        f.active_by_remote.clear();
        f.profiles.insert("d".into(), f.profiles["b"].clone());
        f.active_by_remote
            .insert("HTTPS://App.Baseten.co:443/".into(), "d".into());
        let all = f.actives();
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(all[default], "d");
        assert_eq!(all["https://x.example.com"], "c");
    }
}
