//! Secrets (API keys, tokens, device codes, proxy passwords) and the registry that keeps
//! them off stderr: a [`Secret`] registers itself when it is made or read, and no error,
//! warning or diagnostic can then show it, even when a server echoes it back.

use std::fmt;
use std::sync::Mutex;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Every secret this run has seen.
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A secret value. Made with [`Secret::new`] or read with serde, it is registered at once;
/// `Debug` and `Display` show `[redacted]`, and only [`Secret::expose`] gives the value
/// (to send it, store it or print it as a command's result). Serializing writes the value:
/// that is how it reaches `auth.json`, the keyring and `token`'s output.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps and registers `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        register(&value);
        Secret(value)
    }

    /// The value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is the empty string (an absent refresh token, say).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

/// Adds `value` to the registry; values shorter than 4 bytes would redact ordinary text
/// and are left out.
fn register(value: &str) {
    if value.len() >= 4 {
        let mut all = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
        if !all.iter().any(|s| s == value) {
            all.push(value.to_owned());
        }
    }
}

/// `text` with every registered secret replaced by `[redacted]`.
pub fn redact(text: &str) -> String {
    let mut text = text.to_owned();
    for s in SECRETS.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        if text.contains(s.as_str()) {
            text = text.replace(s.as_str(), "[redacted]");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_register_themselves_and_never_print() {
        let made = Secret::new("sk-test-4242");
        let read: Secret = serde_json::from_str("\"tok-read-7\"").unwrap();
        let _short = Secret::new("abc");
        assert_eq!(
            redact("key sk-test-4242 rejected; tok-read-7; abc"),
            "key [redacted] rejected; [redacted]; abc"
        );
        assert_eq!(format!("{made} {read:?}"), "[redacted] [redacted]");
        assert_eq!(serde_json::to_string(&made).unwrap(), "\"sk-test-4242\"");
        assert_eq!(made.expose(), "sk-test-4242");
    }
}
