//! The system keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on
//! Windows), always under a deadline: every call runs on a worker thread, and a keyring
//! that does not answer in time counts as unavailable for the rest of the run. A missing
//! keyring (no session bus, no provider, locked with no way to prompt) fails fast by
//! itself; a wedged one would otherwise hang the program forever.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use keyring_core::{CredentialStore, Entry, Error as KError};

use super::secrets::{SERVICE, Secrets, Unavailable};
use crate::terminal;
use crate::ui::debug;
use crate::vars;

/// Wait for a keyring when nobody could be answering an unlock prompt.
const SHORT_WAIT: Duration = Duration::from_secs(3);
/// Wait when a person at a terminal with a display may be looking at an unlock prompt.
const LONG_WAIT: Duration = Duration::from_secs(60);

/// Set once a call has timed out: later calls fail at once instead of waiting again.
static WEDGED: AtomicBool = AtomicBool::new(false);
/// Set once a call has been answered: the keyring is reached and unlocked, so later
/// calls (those made under the `auth.json` lock) never wait for a person.
static ANSWERED: AtomicBool = AtomicBool::new(false);
/// The platform store, opened on first use.
static STORE: OnceLock<Arc<CredentialStore>> = OnceLock::new();

/// The system keyring as the store's [`Secrets`]. Every instance shares the process's
/// deadline state: once a call has timed out, every later call fails at once.
pub struct Keyring;

impl Secrets for Keyring {
    fn get(&self, service: &str, user: &str) -> Result<Option<String>, Unavailable> {
        let (service, user) = (service.to_owned(), user.to_owned());
        call("read", move || {
            match entry(&service, &user)?.get_password() {
                Ok(s) => Ok(Some(s)),
                Err(KError::NoEntry) => Ok(None),
                // Several items match (another program added one with extra attributes): any
                // readable one is the account's secret.
                Err(KError::Ambiguous(entries)) => {
                    Ok(entries.iter().find_map(|e| e.get_password().ok()))
                }
                Err(e) => Err(e),
            }
        })
    }

    /// Unlocks, besides the item, the Secret Service's default collection, where new
    /// items go.
    fn reach(&self, user: &str) -> Result<(), Unavailable> {
        #[cfg(all(unix, not(target_os = "macos")))]
        call("unlock", unlock_default_collection)?;
        self.get(SERVICE, user).map(|_| ())
    }

    /// Duplicates (items another program added with extra attributes) are replaced.
    fn set(&self, service: &str, user: &str, secret: &str) -> Result<(), Unavailable> {
        let (service, user, secret) = (service.to_owned(), user.to_owned(), secret.to_owned());
        call("write", move || {
            let e = entry(&service, &user)?;
            match e.set_password(&secret) {
                Err(KError::Ambiguous(entries)) => {
                    for dup in entries {
                        dup.delete_credential()?;
                    }
                    e.set_password(&secret)
                }
                other => other,
            }
        })
    }

    fn delete(&self, service: &str, user: &str) -> Result<(), Unavailable> {
        let (service, user) = (service.to_owned(), user.to_owned());
        call("delete", move || {
            match entry(&service, &user)?.delete_credential() {
                Ok(()) | Err(KError::NoEntry) => Ok(()),
                Err(KError::Ambiguous(entries)) => {
                    entries.iter().try_for_each(|e| e.delete_credential())
                }
                Err(e) => Err(e),
            }
        })
    }
}

/// Unlocks the Secret Service's default collection (prompting if need be).
#[cfg(all(unix, not(target_os = "macos")))]
fn unlock_default_collection() -> keyring_core::Result<()> {
    use dbus_secret_service::{EncryptionType, SecretService};
    let failed = |e: dbus_secret_service::Error| KError::PlatformFailure(Box::new(e));
    // No secret crosses this connection: it needs no encryption.
    let service = SecretService::connect(EncryptionType::Plain).map_err(failed)?;
    // No default collection yet: the keyring store makes one when it first writes.
    let Ok(collection) = service.get_default_collection() else {
        return Ok(());
    };
    if collection.is_locked().map_err(failed)? {
        collection.unlock().map_err(failed)?;
    }
    Ok(())
}

/// The entry for an account, labelled the way the reference CLI labels its items.
fn entry(service: &str, user: &str) -> keyring_core::Result<Entry> {
    let store = match STORE.get() {
        Some(s) => s,
        None => {
            let opened = open_store()?;
            STORE.get_or_init(|| opened)
        }
    };
    let label = format!("Password for '{user}' on '{service}'");
    let mut modifiers = HashMap::new();
    if cfg!(all(unix, not(target_os = "macos"))) {
        modifiers.insert("label", label.as_str());
    }
    Entry::new_in_store_with_modifiers(store, service, user, &modifiers)
}

#[cfg(all(unix, not(target_os = "macos")))]
fn open_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(dbus_secret_service_keyring_store::Store::new()?)
}

#[cfg(target_os = "macos")]
fn open_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(windows)]
fn open_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()?)
}

/// Runs `op` on a worker thread and waits for it at most the deadline; after one call
/// has timed out, every later call fails at once.
fn call<T: Send + 'static>(
    what: &str,
    op: impl FnOnce() -> keyring_core::Result<T> + Send + 'static,
) -> Result<T, Unavailable> {
    if WEDGED.load(Ordering::Relaxed) {
        return Err(Unavailable("the keyring did not answer earlier".into()));
    }
    let wait = deadline();
    let result = match call_within(wait, op)? {
        Waited::Answered(r) => {
            ANSWERED.store(true, Ordering::Relaxed);
            r.map_err(|e| Unavailable(describe(&e)))
        }
        Waited::TimedOut => {
            WEDGED.store(true, Ordering::Relaxed);
            Err(Unavailable(format!("no answer within {}s", wait.as_secs())))
        }
    };
    if let Err(Unavailable(why)) = &result {
        debug!("keyring {what} failed: {why}");
    }
    result
}

/// What waiting for a worker thread gave.
enum Waited<T> {
    Answered(T),
    TimedOut,
}

/// Runs `op` on a worker thread and waits at most `wait` for its answer; a thread that
/// does not answer is left behind (it ends with the process).
fn call_within<T: Send + 'static>(
    wait: Duration,
    op: impl FnOnce() -> T + Send + 'static,
) -> Result<Waited<T>, Unavailable> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("keyring".into())
        .spawn(move || {
            let _ = tx.send(op());
        })
        .map_err(|e| Unavailable(format!("cannot start a keyring thread: {e}")))?;
    Ok(match rx.recv_timeout(wait) {
        Ok(v) => Waited::Answered(v),
        Err(_) => Waited::TimedOut,
    })
}

/// Error text without the secret-bearing payloads some variants carry.
fn describe(e: &KError) -> String {
    match e {
        KError::BadEncoding(_) => "the stored item is not UTF-8".into(),
        KError::BadDataFormat(_, _) => "the stored item is malformed".into(),
        KError::Ambiguous(items) => format!("{} items match", items.len()),
        other => other.to_string(),
    }
}

/// How long to wait for the keyring: long only when someone may be answering a prompt.
fn deadline() -> Duration {
    let display = cfg!(any(target_os = "macos", windows))
        || vars::DISPLAYS
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
    wait_for(
        display,
        terminal::stdin_is_terminal() && !ANSWERED.load(Ordering::Relaxed),
    )
}

/// The wait for a keyring (SPEC §7): 3 s unless a person at a terminal with a display
/// may be looking at an unlock prompt.
fn wait_for(display: bool, terminal: bool) -> Duration {
    if display && terminal {
        LONG_WAIT
    } else {
        SHORT_WAIT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_short_unless_someone_can_answer_a_prompt() {
        assert_eq!(wait_for(false, false), Duration::from_secs(3));
        assert_eq!(wait_for(true, false), Duration::from_secs(3));
        assert_eq!(wait_for(false, true), Duration::from_secs(3));
        assert_eq!(wait_for(true, true), Duration::from_secs(60));
    }

    #[test]
    fn a_call_that_never_answers_is_abandoned_at_the_deadline() {
        let never = || loop {
            std::thread::park();
        };
        let waited = call_within(Duration::from_millis(20), never).ok();
        assert!(matches!(waited, Some(Waited::TimedOut)));
        let waited = call_within(Duration::from_secs(60), || 7).ok();
        assert!(matches!(waited, Some(Waited::Answered(7))));
    }
}
