//! The API key that comes from the environment (SPEC §6a, §6c): `BASETEN_API_KEY`, or the
//! first line of the file `BASETEN_API_KEY_FILE` names, the convention of Docker and
//! Kubernetes secrets mounted as files. Either one overrides stored credentials, is never
//! printed and never stored; a file that cannot serve is a usage error naming its path.

use std::io::{BufRead, Read};

use super::env::Env;
use crate::secret::Secret;
use crate::vars::{API_KEY, API_KEY_FILE};

/// Longest key read from a file, in bytes (the same cap as a key on standard input).
const MAX_KEY: u64 = 4096;

/// An API key from the environment, with the variable it came from (status names it).
#[derive(Debug, Clone)]
pub struct EnvKey {
    /// The key itself.
    pub key: Secret,
    /// [`API_KEY`] or [`API_KEY_FILE`].
    pub var: &'static str,
}

/// The variable that is set (not empty), if either is, without reading any file.
pub fn set_var(env: &Env<'_>) -> Option<&'static str> {
    [API_KEY, API_KEY_FILE]
        .into_iter()
        .find(|var| env.get(var).is_some())
}

/// The key from the environment, if any. Both variables set, or a file that is
/// unreadable, empty or holds anything but printable ASCII, is an error (a usage error
/// for the caller) that names the variables or the path and never shows the content.
pub fn from_env(env: &Env<'_>) -> Result<Option<EnvKey>, String> {
    match (env.get(API_KEY), env.get(API_KEY_FILE)) {
        (Some(_), Some(_)) => Err(format!(
            "{API_KEY} and {API_KEY_FILE} are both set: unset one of them"
        )),
        (Some(key), None) => Ok(Some(EnvKey {
            key: Secret::new(key),
            var: API_KEY,
        })),
        (None, Some(path)) => read_key_file(&path).map(|key| {
            Some(EnvKey {
                key,
                var: API_KEY_FILE,
            })
        }),
        (None, None) => Ok(None),
    }
}

/// The first line of `path`, trimmed, which must be a usable API key.
fn read_key_file(path: &str) -> Result<Secret, String> {
    let bad = |what: &str| format!("{API_KEY_FILE} names {path:?}, which {what}");
    let file = std::fs::File::open(path).map_err(|e| bad(&format!("cannot be read: {e}")))?;
    let mut line = Vec::new();
    std::io::BufReader::new(file)
        .take(MAX_KEY + 2)
        .read_until(b'\n', &mut line)
        .map_err(|e| bad(&format!("cannot be read: {e}")))?;
    // Registered for redaction before anything else is said about it.
    let key = Secret::new(String::from_utf8_lossy(&line).trim().to_owned());
    if key.is_empty() {
        return Err(bad("holds no API key on its first line"));
    }
    if key.expose().len() as u64 > MAX_KEY {
        return Err(bad(&format!(
            "holds a first line longer than {MAX_KEY} bytes"
        )));
    }
    if !key.expose().bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad(
            "holds characters an API key cannot have (it must be printable ASCII without spaces)",
        ));
    }
    Ok(key)
}
