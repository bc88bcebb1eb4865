//! `auth.json`: its schema (interoperable with the reference CLI, unknown keys kept at
//! every level), where it lives, and how it changes: every read-modify-write runs under
//! an exclusive lock on a sibling lock file and lands by temp file + fsync + rename, so
//! parallel runs lose nothing and a crash never leaves a truncated file.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::term::debug;
use crate::timestamp;

/// Largest `auth.json` read; a real one is a few KiB.
const MAX_FILE: u64 = 16 << 20;

/// How long a writer waits for another process's lock before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// The whole file.
#[derive(Serialize, Deserialize)]
pub struct AuthFile {
    #[serde(default = "version_one")]
    pub version: u32,
    #[serde(default)]
    pub hosts: IndexMap<String, HostEntry>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn version_one() -> u32 {
    1
}

impl Default for AuthFile {
    fn default() -> Self {
        AuthFile {
            version: 1,
            hosts: IndexMap::new(),
            extra: Map::new(),
        }
    }
}

/// One remote's accounts.
#[derive(Serialize, Deserialize, Default)]
pub struct HostEntry {
    /// The active account's label; other clients may write `""` for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_user: Option<String>,
    #[serde(default)]
    pub users: IndexMap<String, UserEntry>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl HostEntry {
    /// The active label, if it names a stored account.
    pub fn active(&self) -> Option<&str> {
        self.active_user
            .as_deref()
            .filter(|u| self.users.contains_key(*u))
    }
}

/// Whether an account holds an OAuth credential or an API key.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub enum AuthType {
    #[serde(rename = "oauth")]
    OAuth,
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

/// One account. The secret fields are present only when it is stored in plain text.
#[derive(Serialize, Deserialize)]
pub struct UserEntry {
    pub auth_type: AuthType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_credential: Option<OAuthCredential>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An OAuth token pair; also the keyring secret of OAuth accounts, as compact JSON.
#[derive(Serialize, Deserialize, Clone, PartialEq)]
pub struct OAuthCredential {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: String,
    #[serde(default)]
    pub expiry: Expiry,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// When an access token expires, in Unix seconds; `None` when unknown (written as Go's
/// zero time so the reference CLI reads it back the same way).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Expiry(pub Option<i64>);

impl Serialize for Expiry {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.0 {
            Some(t) => s.serialize_str(&timestamp::format(t)),
            None => s.serialize_str(timestamp::ZERO),
        }
    }
}

impl<'de> Deserialize<'de> for Expiry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = Option::<String>::deserialize(d)?.unwrap_or_default();
        if s.is_empty() || s == timestamp::ZERO {
            return Ok(Expiry(None));
        }
        match timestamp::parse(&s) {
            Some(t) if t > 0 => Ok(Expiry(Some(t))),
            Some(_) => Ok(Expiry(None)),
            None => Err(serde::de::Error::custom("expiry is not an RFC 3339 time")),
        }
    }
}

/// The location of `auth.json` and its lock file.
pub struct FileStore {
    dir: PathBuf,
    path: PathBuf,
}

impl FileStore {
    /// Finds the config directory (SPEC §7). Does not create it.
    pub fn locate() -> Result<FileStore> {
        let dir = config_dir()?;
        Ok(FileStore {
            path: dir.join("auth.json"),
            dir,
        })
    }

    /// Reads the file; a missing file is an empty store. Never writes. Anything but a
    /// regular file of sane size (a FIFO, a device, a directory) is refused unread.
    pub fn load(&self) -> Result<AuthFile> {
        debug!("reading {}", self.path.display());
        let mut f = match nonblocking_options().read(true).open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(AuthFile::default()),
            Err(e) => return Err(self.error("cannot read", e)),
        };
        let meta = match f.metadata() {
            Ok(m) if m.is_file() && m.len() <= MAX_FILE => m,
            Ok(m) if m.is_file() => {
                return Err(Error::failure(format!(
                    "{} is larger than {} MiB",
                    self.path.display(),
                    MAX_FILE >> 20
                )));
            }
            Ok(_) => {
                return Err(Error::failure(format!(
                    "{} is not a regular file",
                    self.path.display()
                )));
            }
            Err(e) => return Err(self.error("cannot read", e)),
        };
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)
            .map_err(|e| self.error("cannot read", e))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Error::failure(format!("{} is not valid UTF-8", self.path.display())))?;
        let file: AuthFile = serde_json::from_str(text)
            .map_err(|e| Error::failure(format!("{} is corrupt: {e}", self.path.display())))?;
        self.warn_if_exposed(&file, &meta);
        Ok(file)
    }

    /// Runs `change` on the current contents under the lock and saves the result
    /// atomically. The temp file is created before `change` runs, so a store that cannot
    /// be written fails before `change` does anything it cannot take back (a refresh
    /// spends a single-use token). Nothing is written when `change` fails.
    pub fn update<T>(&self, change: impl FnOnce(&mut AuthFile) -> Result<T>) -> Result<T> {
        create_private_dir(&self.dir)
            .map_err(|e| Error::failure(format!("cannot create {}: {e}", self.dir.display())))?;
        let _lock = self.lock()?;
        let mut file = self.load()?;
        let (tmp_path, tmp) = self.create_temp()?;
        let result = change(&mut file).and_then(|out| {
            self.save(&file, tmp, &tmp_path)
                .map_err(|e| self.error("cannot write", e))?;
            Ok(out)
        });
        if result.is_err() {
            let _ = fs::remove_file(&tmp_path);
        }
        result
    }

    /// Takes the exclusive lock on `auth.json.lock`; released when the handle drops (or
    /// the process dies, so a killed run never leaves a stale lock behind).
    fn lock(&self) -> Result<File> {
        let path = self.dir.join("auth.json.lock");
        let lock = private_options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::failure(format!("cannot open {}: {e}", path.display())))?;
        let start = Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            match lock.try_lock() {
                Ok(()) => return Ok(lock),
                Err(fs::TryLockError::WouldBlock) if start.elapsed() < LOCK_WAIT => {
                    if pause == Duration::from_millis(5) {
                        debug!("waiting for the lock on {}", path.display());
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Error::failure(format!(
                        "timed out after {}s waiting for the lock on {}; is another baseten running?",
                        LOCK_WAIT.as_secs(),
                        path.display()
                    )));
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(Error::failure(format!(
                        "cannot lock {}: {e}",
                        path.display()
                    )));
                }
            }
        }
    }

    /// Creates the temp file beside `auth.json`, clearing leftovers of killed runs first
    /// (under the lock, any temp file is one).
    fn create_temp(&self) -> Result<(PathBuf, File)> {
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let name = e.file_name();
                let name = name.to_string_lossy();
                if name.starts_with("auth.json.") && name.ends_with(".tmp") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        let tmp = self
            .dir
            .join(format!("auth.json.{}.tmp", std::process::id()));
        let f = private_options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .and_then(|f| set_private(&f).map(|()| f))
            .map_err(|e| Error::failure(format!("cannot write in {}: {e}", self.dir.display())))?;
        Ok((tmp, f))
    }

    /// Writes the file into the temp file, syncs it and renames it into place.
    fn save(&self, file: &AuthFile, mut tmp: File, tmp_path: &Path) -> std::io::Result<()> {
        let mut text = serde_json::to_string_pretty(file).map_err(std::io::Error::other)?;
        text.push('\n');
        tmp.write_all(text.as_bytes())?;
        tmp.sync_all()?;
        drop(tmp);
        fs::rename(tmp_path, &self.path)?;
        // Make the rename itself durable; not every platform can open a directory.
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    fn error(&self, what: &str, e: std::io::Error) -> Error {
        Error::failure(format!("{what} {}: {e}", self.path.display()))
    }

    /// Plain-text secrets in a file others can read deserve a warning (once per run);
    /// the next write replaces the file with a 0600 one.
    fn warn_if_exposed(&self, file: &AuthFile, meta: &fs::Metadata) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            static WARNED: std::sync::Once = std::sync::Once::new();
            let has_secret = file
                .hosts
                .values()
                .flat_map(|h| h.users.values())
                .any(|u| u.api_key.is_some() || u.oauth_credential.is_some());
            if has_secret && meta.permissions().mode() & 0o077 != 0 {
                WARNED.call_once(|| {
                    crate::term::warn(&format!(
                        "{} holds plain-text credentials and is readable by other users; \
                         run `chmod 600` on it",
                        self.path.display()
                    ));
                });
            }
        }
        #[cfg(not(unix))]
        let _ = (file, meta);
    }
}

/// `BASETEN_CONFIG_DIR`, else the platform config directory + `baseten`.
fn config_dir() -> Result<PathBuf> {
    let env = |name| std::env::var_os(name).filter(|v: &std::ffi::OsString| !v.is_empty());
    if let Some(dir) = env("BASETEN_CONFIG_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let base = if cfg!(windows) {
        env("APPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| Path::new(&h).join("Library/Application Support"))
    } else {
        env("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| env("HOME").map(|h| Path::new(&h).join(".config")))
    };
    base.map(|b| b.join("baseten")).ok_or_else(|| {
        Error::failure("cannot find a config directory: HOME is not set; set BASETEN_CONFIG_DIR")
    })
}

/// Open options that create files readable by the owner only.
fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o
}

/// Open options that do not block on a FIFO (the file type is checked right after).
fn nonblocking_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut o, libc::O_NONBLOCK);
    o
}

/// Forces mode 0600 whatever the umask did.
fn set_private(f: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = f;
    Ok(())
}

/// Creates the directory (and parents) with mode 0700 when missing.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::AuthFile;

    /// Found by the `auth_file` fuzz target: a long number under an unknown key changed
    /// its last digit on every rewrite until floats were parsed exactly.
    #[test]
    fn unknown_numbers_survive_rewrites() {
        let input = format!("{{\"\": {}0 }}", "1".repeat(87));
        let once: AuthFile = serde_json::from_str(&input).unwrap();
        let written = serde_json::to_string(&once).unwrap();
        let twice: AuthFile = serde_json::from_str(&written).unwrap();
        assert_eq!(serde_json::to_string(&twice).unwrap(), written);
        assert_eq!(once.extra[""], twice.extra[""]);
    }

    /// Unknown keys at every level come back out of a rewrite.
    #[test]
    fn unknown_keys_are_kept_at_every_level() {
        let input = r#"{"version":1,"top":[1,{"a":null}],"hosts":{"h":{"hx":"y",
            "users":{"u":{"auth_type":"api_key","ux":true,"oauth_credential":null}}}}}"#;
        let file: AuthFile = serde_json::from_str(input).unwrap();
        let out: serde_json::Value = serde_json::to_value(&file).unwrap();
        assert_eq!(out["top"], serde_json::json!([1, {"a": null}]));
        assert_eq!(out["hosts"]["h"]["hx"], "y");
        assert_eq!(out["hosts"]["h"]["users"]["u"]["ux"], true);
    }
}
