//! Secrets (API keys, tokens, device codes, proxy passwords) and the registry that keeps
//! them off stderr: a [`Secret`] registers itself when it is made or read, and no error,
//! warning or diagnostic can then show it, even when a server echoes it back.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Mutex;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Every secret this run has seen, as a set (SPEC §7 linear cost: registering one is
/// logarithmic however many accounts the store holds), with the distinct lengths so a
/// message is redacted by looking up its substrings rather than by scanning every secret.
static SECRETS: Mutex<Registry> = Mutex::new(Registry {
    values: BTreeSet::new(),
    lengths: BTreeSet::new(),
});

struct Registry {
    values: BTreeSet<String>,
    lengths: BTreeSet<usize>,
}

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
        if all.values.insert(value.to_owned()) {
            all.lengths.insert(value.len());
        }
    }
}

/// `text` with every registered secret replaced by `[redacted]`: at each position the
/// longest secret that starts there is replaced. The cost is the text's length times the
/// number of distinct secret lengths, whatever the number of secrets.
pub fn redact(text: &str) -> String {
    let all = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let found = all
            .lengths
            .iter()
            .rev()
            .filter_map(|&n| rest.get(..n))
            .find(|candidate| all.values.contains(*candidate));
        match found {
            Some(secret) => {
                out.push_str("[redacted]");
                rest = &rest[secret.len()..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
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

    #[test]
    fn the_longest_secret_at_a_position_wins_and_text_around_survives() {
        let _inner = Secret::new("long-key");
        let _outer = Secret::new("long-key-and-more");
        let _again = Secret::new("long-key");
        assert_eq!(
            redact("é long-key-and-more, long-key; long-ke ✓"),
            "é [redacted], [redacted]; long-ke ✓"
        );
    }
}
