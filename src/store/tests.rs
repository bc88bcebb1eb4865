//! The store's rules (SPEC §7), run in-process against a keyring in memory
//! ([`Memory`]) and a temporary config directory: undo, the plain-text fallback, one
//! current copy of every secret, moves of legacy keyring items, pending items, and the
//! changes the commands make. Each test looks at both `auth.json` and the keyring.

use std::cell::Cell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use serde_json::{Value, json};

use super::file::{FileStore, LockWaits};
use super::secrets::{Memory, Op, SERVICE};
use super::*;
use crate::remote::DEFAULT_REMOTE as DEFAULT;

const STAGING: &str = "https://app.staging.baseten.co";
/// The legacy layout's keyring service of the default remote.
const LEGACY: &str = "baseten:https://app.baseten.co";
/// Files written by the official CLI (SPEC §7).
const V1_HOSTS: &str = include_str!("../../tests/fixtures/official-store/v1-hosts.json");
const V1_USERS_NULL: &str = include_str!("../../tests/fixtures/official-store/v1-users-null.json");
const V2_PROFILES: &str = include_str!("../../tests/fixtures/official-store/v2-profiles.json");

/// A config directory and a keyring.
struct Setup {
    dir: tempfile::TempDir,
    keyring: Memory,
}

impl Setup {
    /// No `auth.json`, the keyring holding `items` (`(service, user, secret)`).
    fn new(items: &[(&str, &str, &str)]) -> Setup {
        Setup {
            dir: tempfile::tempdir().expect("a temporary directory"),
            keyring: Memory::with(items),
        }
    }

    /// `auth.json` holding `text`, the keyring holding `items`.
    fn with_file(text: &str, items: &[(&str, &str, &str)]) -> Setup {
        let setup = Setup::new(items);
        std::fs::write(setup.path(), text).expect("auth.json written");
        setup
    }

    /// The store, for a command working on the default remote.
    fn store(&self) -> Store<'_> {
        self.store_on(DEFAULT)
    }

    /// The store, for a command working on `remote`.
    fn store_on(&self, remote: &str) -> Store<'_> {
        let wait = Duration::from_secs(1);
        let waits = LockWaits {
            file: wait,
            refresh: wait,
        };
        let file = FileStore::at(self.dir.path().to_path_buf(), waits);
        Store::new(file, remote, &self.keyring)
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("auth.json")
    }

    /// `auth.json`'s text; `None` when there is none.
    fn text(&self) -> Option<String> {
        std::fs::read_to_string(self.path()).ok()
    }

    /// `auth.json` as JSON.
    fn json(&self) -> Value {
        let text = self.text().expect("auth.json exists");
        serde_json::from_str(&text).expect("auth.json is JSON")
    }

    /// The stored account `name`.
    fn account(&self, name: &str) -> Account {
        let contents = self.store().read().expect("auth.json read");
        let snapshot = Snapshot::new(&contents).expect("auth.json parsed");
        snapshot
            .get(name)
            .expect("decoded")
            .expect("account exists")
    }

    /// The keyring's items, for comparison with [`items`].
    fn items(&self) -> Vec<(String, String, String)> {
        self.keyring.items()
    }
}

/// Keyring items, sorted as [`Memory::items`] lists them.
fn items(list: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = list
        .iter()
        .map(|(s, u, v)| (s.to_string(), u.to_string(), v.to_string()))
        .collect();
    v.sort();
    v
}

fn key(text: &str) -> Credential {
    Credential::ApiKey(Secret::new(text))
}

/// A token pair of unknown expiry.
fn pair(access: &str, refresh: &str) -> OAuthCredential {
    OAuthCredential::new(Secret::new(access), Secret::new(refresh), Expiry::new(None))
}

/// The keyring form of [`pair`].
fn pair_text(access: &str, refresh: &str) -> String {
    format!(
        r#"{{"access_token":"{access}","refresh_token":"{refresh}","expiry":"0001-01-01T00:00:00Z"}}"#
    )
}

/// A profile of the default remote whose secret is in the keyring.
fn in_keyring(auth_type: &str) -> Value {
    json!({"remote_url": DEFAULT, "auth_type": auth_type})
}

/// A file whose profiles are `profiles`, `current` naming the first.
fn file_of(profiles: Value) -> String {
    let current = profiles
        .as_object()
        .and_then(|p| p.keys().next().cloned())
        .unwrap_or_default();
    json!({"version": 1, "current": current, "profiles": profiles}).to_string()
}

/// The message of a change that failed.
fn failure<T>(result: Result<T>) -> String {
    match result {
        Ok(_) => panic!("the change was made"),
        Err(e) => e.to_string(),
    }
}

/// The secret of `name` as the store reads it.
fn api_key_of(setup: &Setup, name: &str) -> String {
    match setup.store().secret(&setup.account(name)) {
        Ok(Credential::ApiKey(key)) => key.expose().to_owned(),
        Ok(Credential::OAuth(_)) => panic!("{name} holds a token pair"),
        Err(e) => panic!("{name} unreadable: {e}"),
    }
}

// ---- login, switch, logout -------------------------------------------------------

#[test]
fn a_login_keeps_the_secret_in_the_keyring_and_only_its_type_in_the_file() {
    let s = Setup::new(&[]);
    let saved = s.store().save(DEFAULT, "a", &key("KEY-a"), false, true);
    assert_eq!(
        saved.ok(),
        Some(Saved {
            storage: Storage::Keyring,
            fell_back: false
        })
    );
    assert_eq!(
        s.json(),
        json!({"version": 1, "current": "a", "profiles": {"a": in_keyring("api_key")},
               "active_by_remote": {DEFAULT: "a"}})
    );
    assert_eq!(s.items(), items(&[(SERVICE, "a", "KEY-a")]));
    assert_eq!(api_key_of(&s, "a"), "KEY-a");
}

#[test]
fn an_oauth_login_stores_the_pair_as_compact_json_in_the_keyring() {
    let s = Setup::new(&[]);
    let cred = Credential::OAuth(pair("ACCESS", "REFRESH"));
    s.store().save(DEFAULT, "me", &cred, false, true).unwrap();
    assert_eq!(s.json()["profiles"]["me"], in_keyring("oauth"));
    assert_eq!(
        s.items(),
        items(&[(SERVICE, "me", &pair_text("ACCESS", "REFRESH"))])
    );
    let Credential::OAuth(read) = s.store().secret(&s.account("me")).unwrap() else {
        panic!("not a token pair");
    };
    assert_eq!(read.access_token.expose(), "ACCESS");
    assert_eq!(read.refresh_token.expose(), "REFRESH");
}

#[test]
fn a_login_without_switching_pins_the_remote_s_implicit_active_account() {
    let s = Setup::with_file(
        &json!({"version": 1, "profiles": {"a": in_keyring("api_key")}}).to_string(),
        &[(SERVICE, "a", "KEY-a")],
    );
    s.store()
        .save(DEFAULT, "b", &key("KEY-b"), false, false)
        .unwrap();
    let file = s.json();
    assert_eq!(file["active_by_remote"], json!({DEFAULT: "a"}));
    assert_eq!(file.get("current"), None);
    assert_eq!(
        file["profiles"],
        json!({"a": in_keyring("api_key"), "b": in_keyring("api_key")})
    );
    assert_eq!(
        s.items(),
        items(&[(SERVICE, "a", "KEY-a"), (SERVICE, "b", "KEY-b")])
    );
}

#[test]
fn a_name_used_on_another_remote_is_refused_and_nothing_changes() {
    let before = file_of(json!({"a": {"remote_url": STAGING, "auth_type": "api_key"}}));
    let s = Setup::with_file(&before, &[(SERVICE, "a", "KEY-staging")]);
    let e = failure(s.store().save(DEFAULT, "a", &key("KEY-a"), false, true));
    assert!(e.contains("already used by an account of"), "{e}");
    assert!(e.contains("choose another with --label"), "{e}");
    // The pending record was committed before the edit failed; it is gone again.
    assert_eq!(s.text().as_deref(), Some(before.as_str()));
    assert_eq!(s.keyring.count(Op::Set), 0);
    assert_eq!(s.items(), items(&[(SERVICE, "a", "KEY-staging")]));
}

#[test]
fn a_switch_sets_current_and_the_remote_s_pointer() {
    let s = Setup::with_file(
        &file_of(json!({"a": in_keyring("api_key"), "b": in_keyring("api_key")})),
        &[(SERVICE, "a", "KEY-a"), (SERVICE, "b", "KEY-b")],
    );
    s.store().switch(DEFAULT, "b").unwrap();
    let file = s.json();
    assert_eq!(file["current"], "b");
    assert_eq!(file["active_by_remote"], json!({DEFAULT: "b"}));
    assert_eq!(
        s.items(),
        items(&[(SERVICE, "a", "KEY-a"), (SERVICE, "b", "KEY-b")])
    );
}

#[test]
fn a_switch_to_an_account_of_another_remote_changes_nothing() {
    let before = file_of(json!({"a": in_keyring("api_key"),
                                "s": {"remote_url": STAGING, "auth_type": "api_key"}}));
    let s = Setup::with_file(&before, &[(SERVICE, "a", "KEY-a")]);
    let e = failure(s.store().switch(DEFAULT, "s"));
    assert!(e.contains("not found for https://app.baseten.co"), "{e}");
    assert_eq!(s.text().as_deref(), Some(before.as_str()));
    assert_eq!(s.items(), items(&[(SERVICE, "a", "KEY-a")]));
}

#[test]
fn a_switch_needs_no_keyring() {
    let s = Setup::with_file(
        &file_of(json!({"a": in_keyring("api_key"), "b": in_keyring("api_key")})),
        &[(SERVICE, "a", "KEY-a"), (SERVICE, "b", "KEY-b")],
    );
    s.keyring.set_unavailable(true);
    s.store().switch(DEFAULT, "b").unwrap();
    assert_eq!(s.json()["current"], "b");
    assert_eq!(s.keyring.count(Op::Reach) + s.keyring.count(Op::Get), 0);
    assert_eq!(
        s.items(),
        items(&[(SERVICE, "a", "KEY-a"), (SERVICE, "b", "KEY-b")])
    );
}

#[test]
fn a_logout_removes_the_profile_every_pointer_to_it_and_its_keyring_item() {
    let s = Setup::with_file(
        &json!({"version": 1, "current": "a",
                "profiles": {"a": in_keyring("api_key"), "b": in_keyring("api_key")},
                "active_by_remote": {DEFAULT: "a"}})
        .to_string(),
        &[(SERVICE, "a", "KEY-a"), (SERVICE, "b", "KEY-b")],
    );
    s.store().remove("a").unwrap();
    assert_eq!(
        s.json(),
        json!({"version": 1, "profiles": {"b": in_keyring("api_key")}})
    );
    assert_eq!(s.items(), items(&[(SERVICE, "b", "KEY-b")]));
}

#[test]
fn a_logout_of_a_keyring_account_with_the_keyring_unreachable_changes_nothing() {
    let before = file_of(json!({"a": in_keyring("api_key")}));
    let s = Setup::with_file(&before, &[(SERVICE, "a", "KEY-a")]);
    s.keyring.set_unavailable(true);
    let account = s.account("a");
    let e = failure(s.store().check_removable(&account));
    assert!(e.contains("baseten-profile/a"), "{e}");
    let e = failure(s.store().remove("a"));
    assert!(
        e.contains("cannot remove the keyring item baseten-profile/a"),
        "{e}"
    );
    assert!(e.contains("nothing was changed"), "{e}");
    assert_eq!(s.text().as_deref(), Some(before.as_str()));
    assert_eq!(s.items(), items(&[(SERVICE, "a", "KEY-a")]));
}

#[test]
fn a_logout_of_a_plain_text_account_needs_no_keyring() {
    let s = Setup::with_file(
        &file_of(json!({"a": {"remote_url": DEFAULT, "auth_type": "api_key", "api_key": "K"}})),
        &[],
    );
    s.keyring.set_unavailable(true);
    s.store().check_removable(&s.account("a")).unwrap();
    s.store().remove("a").unwrap();
    assert_eq!(s.json(), json!({"version": 1, "profiles": {}}));
    assert_eq!(s.items(), items(&[]));
}

// ---- undo ---------------------------------------------------------------------------

#[test]
fn a_logout_whose_item_cannot_be_read_under_the_lock_undoes_the_legacy_moves_it_made() {
    let legacy_b = json!({"remote_url": DEFAULT, "auth_type": "api_key",
                          "legacy_keyring": {"service": LEGACY, "account": "b"}});
    let before = file_of(json!({"a": in_keyring("api_key"), "b": legacy_b}));
    let s = Setup::with_file(&before, &[(SERVICE, "a", "KEY-a"), (LEGACY, "b", "KEY-b")]);
    // Reached before the lock, then unreadable under it.
    s.keyring
        .fail_when(|op, service, user| op == Op::Get && service == SERVICE && user == "a");
    let e = failure(s.store().remove("a"));
    assert!(e.contains("baseten-profile/a"), "{e}");
    assert_eq!(s.text().as_deref(), Some(before.as_str()));
    assert_eq!(
        s.items(),
        items(&[(SERVICE, "a", "KEY-a"), (LEGACY, "b", "KEY-b")])
    );
}

#[test]
fn a_plain_text_login_that_cannot_remove_the_keyring_copy_undoes_its_keyring_writes() {
    let legacy_b = json!({"remote_url": DEFAULT, "auth_type": "api_key",
                          "legacy_keyring": {"service": LEGACY, "account": "b"}});
    let before = file_of(json!({"a": in_keyring("api_key"), "b": legacy_b}));
    let s = Setup::with_file(&before, &[(SERVICE, "a", "OLD-a"), (LEGACY, "b", "KEY-b")]);
    // Reached before the lock, then unreadable under it, after `b`'s move.
    s.keyring
        .fail_when(|op, service, user| op == Op::Get && service == SERVICE && user == "a");
    let e = failure(s.store().save(DEFAULT, "a", &key("NEW-a"), true, true));
    assert!(
        e.contains("cannot remove the keyring item baseten-profile/a"),
        "{e}"
    );
    assert_eq!(s.text().as_deref(), Some(before.as_str()));
    assert_eq!(
        s.items(),
        items(&[(SERVICE, "a", "OLD-a"), (LEGACY, "b", "KEY-b")])
    );
}

#[test]
fn a_login_whose_auth_json_cannot_be_written_puts_back_the_keyring_item_it_replaced() {
    let s = Setup::with_file(
        &file_of(json!({"a": in_keyring("api_key")})),
        &[(SERVICE, "a", "OLD")],
    );
    // While the item is written, auth.json becomes a directory nothing can replace.
    let path = s.path();
    s.keyring.fail_when(move |op, _, _| {
        if op == Op::Set && path.is_file() {
            let planted = std::fs::remove_file(&path)
                .and_then(|()| std::fs::create_dir(&path))
                .and_then(|()| std::fs::write(path.join("x"), ""));
            assert!(planted.is_ok(), "{planted:?}");
        }
        false
    });
    let e = failure(s.store().save(DEFAULT, "a", &key("NEW"), false, true));
    assert!(e.contains("cannot write"), "{e}");
    assert!(s.path().is_dir());
    let mut left: Vec<String> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["auth.json", "auth.json.lock"]);
    assert_eq!(s.items(), items(&[(SERVICE, "a", "OLD")]));
}

// ---- fallback to plain text --------------------------------------------------------------

#[test]
fn with_the_keyring_unavailable_a_login_falls_back_to_plain_text_and_says_so() {
    let s = Setup::new(&[]);
    s.keyring.set_unavailable(true);
    let saved = s
        .store()
        .save(DEFAULT, "a", &key("KEY-a"), false, true)
        .unwrap();
    assert_eq!(
        saved,
        Saved {
            storage: Storage::File,
            fell_back: true
        }
    );
    assert_eq!(
        s.json()["profiles"]["a"],
        json!({"remote_url": DEFAULT, "auth_type": "api_key", "api_key": "KEY-a"})
    );
    assert_eq!(s.json().get("pending_keyring"), None);
    assert_eq!(s.items(), items(&[]));
    assert_eq!(api_key_of(&s, "a"), "KEY-a");
}

#[test]
fn a_keyring_that_refuses_the_write_sends_the_secret_to_the_file() {
    let s = Setup::new(&[]);
    s.keyring.fail_when(|op, _, _| op == Op::Set);
    let saved = s
        .store()
        .save(DEFAULT, "a", &key("KEY-a"), false, true)
        .unwrap();
    assert!(saved.fell_back);
    assert_eq!(saved.storage, Storage::File);
    assert_eq!(s.json()["profiles"]["a"]["api_key"], "KEY-a");
    assert_eq!(s.json().get("pending_keyring"), None);
    assert_eq!(s.items(), items(&[]));
}

#[test]
fn an_insecure_login_writes_plain_text_without_warning() {
    let s = Setup::new(&[]);
    let saved = s
        .store()
        .save(DEFAULT, "a", &key("KEY-a"), true, true)
        .unwrap();
    assert_eq!(
        saved,
        Saved {
            storage: Storage::File,
            fell_back: false
        }
    );
    assert_eq!(s.json()["profiles"]["a"]["api_key"], "KEY-a");
    assert_eq!(s.keyring.count(Op::Set), 0);
    assert_eq!(s.items(), items(&[]));
}

#[test]
fn an_oauth_pair_falls_back_to_the_profile_s_oauth_credential() {
    let s = Setup::new(&[]);
    s.keyring.set_unavailable(true);
    let cred = Credential::OAuth(pair("ACCESS", "REFRESH"));
    s.store().save(DEFAULT, "me", &cred, false, true).unwrap();
    assert_eq!(
        s.json()["profiles"]["me"],
        json!({"remote_url": DEFAULT, "auth_type": "oauth",
               "oauth_credential": {"access_token": "ACCESS", "refresh_token": "REFRESH",
                                    "expiry": "0001-01-01T00:00:00Z"}})
    );
    assert_eq!(s.items(), items(&[]));
}

#[test]
fn a_keyring_account_cannot_be_read_while_the_keyring_is_unavailable() {
    let s = Setup::with_file(
        &file_of(json!({"a": in_keyring("api_key")})),
        &[(SERVICE, "a", "KEY-a")],
    );
    s.keyring.set_unavailable(true);
    let e = failure(s.store().secret(&s.account("a")));
    assert!(e.contains("cannot read the credentials of \"a\""), "{e}");
    assert_eq!(s.json()["profiles"]["a"], in_keyring("api_key"));
    assert_eq!(s.items(), items(&[(SERVICE, "a", "KEY-a")]));
}

#[test]
fn a_keyring_account_without_an_item_asks_for_a_new_login() {
    let before = file_of(json!({"a": in_keyring("api_key")}));
    let s = Setup::with_file(&before, &[]);
    let e = failure(s.store().secret(&s.account("a")));
    assert!(
        e.contains("no credentials for \"a\" in the system keyring"),
        "{e}"
    );
    assert_eq!(s.text().as_deref(), Some(before.as_str()));
    assert_eq!(s.items(), items(&[]));
}

// ---- one current copy -----------------------------------------------------------------

#[test]
fn a_plain_text_copy_wins_over_a_keyring_item_when_reading() {
    let before =
        file_of(json!({"a": {"remote_url": DEFAULT, "auth_type": "api_key", "api_key": "PLAIN"}}));
    let s = Setup::with_file(&before, &[(SERVICE, "a", "STALE")]);
    assert_eq!(api_key_of(&s, "a"), "PLAIN");
    assert_eq!(s.keyring.count(Op::Get), 0);
    assert_eq!(s.text().as_deref(), Some(before.as_str()));
    assert_eq!(s.items(), items(&[(SERVICE, "a", "STALE")]));
}

#[test]
fn moving_a_secret_back_to_the_keyring_removes_the_plain_text_copy() {
    let s = Setup::with_file(
        &file_of(json!({"a": {"remote_url": DEFAULT, "auth_type": "api_key", "api_key": "OLD"}})),
        &[],
    );
    let saved = s
        .store()
        .save(DEFAULT, "a", &key("NEW"), false, true)
        .unwrap();
    assert_eq!(saved.storage, Storage::Keyring);
    assert_eq!(s.json()["profiles"]["a"], in_keyring("api_key"));
    assert_eq!(s.items(), items(&[(SERVICE, "a", "NEW")]));
}

#[test]
fn a_plain_text_write_deletes_the_keyring_item() {
    let s = Setup::with_file(
        &file_of(json!({"a": in_keyring("api_key")})),
        &[(SERVICE, "a", "OLD")],
    );
    s.store()
        .save(DEFAULT, "a", &key("NEW"), true, true)
        .unwrap();
    assert_eq!(s.json()["profiles"]["a"]["api_key"], "NEW");
    assert_eq!(s.json().get("pending_keyring"), None);
    assert_eq!(s.items(), items(&[]));
}

#[test]
fn a_fallback_over_a_keyring_copy_that_cannot_go_changes_nothing() {
    let before = file_of(json!({"a": in_keyring("api_key")}));
    let s = Setup::with_file(&before, &[(SERVICE, "a", "OLD")]);
    s.keyring.set_unavailable(true);
    let e = failure(s.store().save(DEFAULT, "a", &key("NEW"), false, true));
    assert!(
        e.contains("cannot remove the keyring item baseten-profile/a"),
        "{e}"
    );
    assert_eq!(s.text().as_deref(), Some(before.as_str()));
    assert_eq!(s.items(), items(&[(SERVICE, "a", "OLD")]));
}

#[test]
fn a_keyring_copy_that_goes_only_after_the_commit_stays_pending_then_goes() {
    let s = Setup::with_file(
        &file_of(json!({"a": in_keyring("api_key")})),
        &[(SERVICE, "a", "OLD")],
    );
    s.keyring.fail_when(|op, _, _| op == Op::Delete);
    s.store()
        .save(DEFAULT, "a", &key("NEW"), true, true)
        .unwrap();
    assert_eq!(s.json()["profiles"]["a"]["api_key"], "NEW");
    assert_eq!(s.json()["pending_keyring"], json!(["a"]));
    assert_eq!(s.items(), items(&[(SERVICE, "a", "OLD")]));
    // The next write settles it: the profile's copy is the plain one.
    s.keyring.fail_when(|_, _, _| false);
    s.store().switch(DEFAULT, "a").unwrap();
    assert_eq!(s.json().get("pending_keyring"), None);
    assert_eq!(s.json()["profiles"]["a"]["api_key"], "NEW");
    assert_eq!(s.items(), items(&[]));
}

// ---- pending items --------------------------------------------------------------------

#[test]
fn a_keyring_item_is_recorded_as_pending_before_it_is_written() {
    let s = Setup::new(&[]);
    let path = s.path();
    let recorded = Rc::new(Cell::new(false));
    let seen = recorded.clone();
    s.keyring.fail_when(move |op, _, _| {
        if op == Op::Set {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let file: Value = serde_json::from_str(&text).unwrap_or_default();
            seen.set(file["pending_keyring"] == json!(["a"]));
        }
        false
    });
    s.store()
        .save(DEFAULT, "a", &key("KEY-a"), false, true)
        .unwrap();
    assert!(recorded.get(), "the write came before the record");
    assert_eq!(s.json().get("pending_keyring"), None);
    assert_eq!(s.items(), items(&[(SERVICE, "a", "KEY-a")]));
}

#[test]
fn a_pending_item_that_its_profile_uses_is_kept_and_the_record_cleared() {
    let s = Setup::with_file(
        &json!({"version": 1, "current": "a", "profiles": {"a": in_keyring("api_key")},
                "pending_keyring": ["a"]})
        .to_string(),
        &[(SERVICE, "a", "KEY-a")],
    );
    s.store().switch(DEFAULT, "a").unwrap();
    assert_eq!(s.json().get("pending_keyring"), None);
    assert_eq!(s.items(), items(&[(SERVICE, "a", "KEY-a")]));
}

#[test]
fn a_pending_item_that_no_profile_uses_is_deleted_by_the_next_write() {
    let s = Setup::with_file(
        &json!({"version": 1, "current": "a", "profiles": {"a": in_keyring("api_key")},
                "pending_keyring": ["gone"]})
        .to_string(),
        &[(SERVICE, "a", "KEY-a"), (SERVICE, "gone", "ORPHAN")],
    );
    s.store().switch(DEFAULT, "a").unwrap();
    assert_eq!(s.json().get("pending_keyring"), None);
    assert_eq!(s.items(), items(&[(SERVICE, "a", "KEY-a")]));
}

#[test]
fn pending_items_stay_recorded_while_the_keyring_is_unreachable() {
    let s = Setup::with_file(
        &json!({"version": 1, "current": "a", "profiles": {"a": in_keyring("api_key")},
                "pending_keyring": ["gone"]})
        .to_string(),
        &[(SERVICE, "a", "KEY-a"), (SERVICE, "gone", "ORPHAN")],
    );
    s.keyring.set_unavailable(true);
    s.store()
        .save(DEFAULT, "b", &key("KEY-b"), false, false)
        .unwrap();
    let file = s.json();
    assert_eq!(file["pending_keyring"], json!(["gone"]));
    assert_eq!(file["profiles"]["b"]["api_key"], "KEY-b");
    assert_eq!(
        s.items(),
        items(&[(SERVICE, "a", "KEY-a"), (SERVICE, "gone", "ORPHAN")])
    );
}

#[test]
fn a_pending_item_that_cannot_be_deleted_stays_recorded() {
    let s = Setup::with_file(
        &json!({"version": 1, "current": "a", "profiles": {"a": in_keyring("api_key")},
                "pending_keyring": ["gone"]})
        .to_string(),
        &[(SERVICE, "a", "KEY-a"), (SERVICE, "gone", "ORPHAN")],
    );
    s.keyring
        .fail_when(|op, _, user| op == Op::Delete && user == "gone");
    s.store().switch(DEFAULT, "a").unwrap();
    assert_eq!(s.json()["pending_keyring"], json!(["gone"]));
    assert_eq!(
        s.items(),
        items(&[(SERVICE, "a", "KEY-a"), (SERVICE, "gone", "ORPHAN")])
    );
}

#[test]
fn a_logout_whose_delete_fails_after_the_commit_leaves_the_item_pending() {
    let s = Setup::with_file(
        &file_of(json!({"a": in_keyring("api_key")})),
        &[(SERVICE, "a", "KEY-a")],
    );
    s.keyring.fail_when(|op, _, _| op == Op::Delete);
    s.store().remove("a").unwrap();
    assert_eq!(
        s.json(),
        json!({"version": 1, "profiles": {}, "pending_keyring": ["a"]})
    );
    assert_eq!(s.items(), items(&[(SERVICE, "a", "KEY-a")]));
    s.keyring.fail_when(|_, _, _| false);
    s.store()
        .save(DEFAULT, "b", &key("KEY-b"), false, true)
        .unwrap();
    assert_eq!(s.json().get("pending_keyring"), None);
    assert_eq!(s.items(), items(&[(SERVICE, "b", "KEY-b")]));
}

// ---- refresh --------------------------------------------------------------------------

/// Refreshes `name`'s pair `old` into `new` as the `token` command does.
fn refresh(s: &Setup, name: &str, old: &OAuthCredential, new: OAuthCredential) -> Refreshed {
    let store = s.store();
    let plan = store.prepare_refresh(&s.account(name)).unwrap();
    store.save_refresh(plan, name, old, new).unwrap()
}

#[test]
fn a_refresh_of_a_keyring_account_changes_only_its_keyring_item() {
    let before = file_of(json!({"me": in_keyring("oauth")}));
    let s = Setup::with_file(&before, &[(SERVICE, "me", &pair_text("A1", "R1"))]);
    let out = refresh(&s, "me", &pair("A1", "R1"), pair("A2", "R2"));
    assert!(matches!(
        out,
        Refreshed::Saved(Saved {
            storage: Storage::Keyring,
            fell_back: false
        })
    ));
    assert_eq!(s.text().as_deref(), Some(before.as_str()));
    assert_eq!(s.items(), items(&[(SERVICE, "me", &pair_text("A2", "R2"))]));
}

#[test]
fn a_refresh_of_a_plain_text_account_rewrites_its_oauth_credential() {
    let plain = json!({"remote_url": DEFAULT, "auth_type": "oauth",
                       "oauth_credential": {"access_token": "A1", "refresh_token": "R1"}});
    let s = Setup::with_file(&file_of(json!({"me": plain})), &[]);
    let out = refresh(&s, "me", &pair("A1", "R1"), pair("A2", "R2"));
    assert!(matches!(
        out,
        Refreshed::Saved(Saved {
            storage: Storage::File,
            ..
        })
    ));
    assert_eq!(
        s.json()["profiles"]["me"]["oauth_credential"],
        json!({"access_token": "A2", "refresh_token": "R2", "expiry": "0001-01-01T00:00:00Z"})
    );
    assert_eq!(s.keyring.count(Op::Set), 0);
    assert_eq!(s.items(), items(&[]));
}

#[test]
fn a_refresh_that_lost_the_race_keeps_the_pair_that_landed() {
    let before = file_of(json!({"me": in_keyring("oauth")}));
    let s = Setup::with_file(&before, &[(SERVICE, "me", &pair_text("A9", "R9"))]);
    let out = refresh(&s, "me", &pair("A1", "R1"), pair("A2", "R2"));
    let Refreshed::Superseded(current) = out else {
        panic!("the stale refresh was saved");
    };
    assert_eq!(current.access_token.expose(), "A9");
    assert_eq!(s.text().as_deref(), Some(before.as_str()));
    assert_eq!(s.items(), items(&[(SERVICE, "me", &pair_text("A9", "R9"))]));
}

#[test]
fn a_refreshed_pair_the_keyring_refuses_goes_to_the_file_with_the_stale_item_pending() {
    let s = Setup::with_file(
        &file_of(json!({"me": in_keyring("oauth")})),
        &[(SERVICE, "me", &pair_text("A1", "R1"))],
    );
    s.keyring
        .fail_when(|op, _, _| op == Op::Set || op == Op::Delete);
    let out = refresh(&s, "me", &pair("A1", "R1"), pair("A2", "R2"));
    assert!(matches!(
        out,
        Refreshed::Saved(Saved {
            storage: Storage::File,
            fell_back: true
        })
    ));
    let file = s.json();
    assert_eq!(
        file["profiles"]["me"]["oauth_credential"]["access_token"],
        "A2"
    );
    assert_eq!(file["pending_keyring"], json!(["me"]));
    assert_eq!(s.items(), items(&[(SERVICE, "me", &pair_text("A1", "R1"))]));
    // The next write removes the stale copy: the file's is the current one.
    s.keyring.fail_when(|_, _, _| false);
    s.store().switch(DEFAULT, "me").unwrap();
    assert_eq!(s.json().get("pending_keyring"), None);
    assert_eq!(s.items(), items(&[]));
}

// ---- the legacy layout ------------------------------------------------------------------

/// A legacy file whose account `me` of the default remote has its secret in the
/// legacy keyring item.
fn legacy_keyring_file() -> String {
    json!({"version": 1, "hosts": {DEFAULT: {"active_user": "me",
           "users": {"me": {"auth_type": "api_key"}}}}})
    .to_string()
}

#[test]
fn the_official_v1_file_is_converted_to_profiles_on_the_first_write() {
    let s = Setup::with_file(V1_HOSTS, &[]);
    s.store().switch(DEFAULT, "me@example.com").unwrap();
    let file = s.json();
    assert_eq!(file.get("hosts"), None);
    assert_eq!(file["current"], "me@example.com");
    let profiles = file["profiles"].as_object().unwrap();
    let names: Vec<&str> = profiles.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "ci-bot",
            "me@example.com",
            "me@example.com:staging.baseten.co"
        ]
    );
    assert_eq!(profiles["ci-bot"]["api_key"], "KEY-ci-bot-1");
    assert_eq!(
        profiles["me@example.com"]["oauth_credential"]["expiry"],
        "2031-05-06T07:08:09.987654321+02:00"
    );
    assert_eq!(
        profiles["me@example.com:staging.baseten.co"]["remote_url"],
        STAGING
    );
    assert_eq!(
        file["active_by_remote"][STAGING],
        "me@example.com:staging.baseten.co"
    );
    // Plain-text secrets stay where they are: nothing to move.
    assert_eq!(s.keyring.count(Op::Set), 0);
    assert_eq!(s.items(), items(&[]));
}

#[test]
fn reading_a_legacy_file_changes_neither_the_file_nor_the_keyring() {
    let s = Setup::with_file(&legacy_keyring_file(), &[(LEGACY, "me", "KEY-me")]);
    assert_eq!(api_key_of(&s, "me"), "KEY-me");
    assert!(s.account("me").active);
    assert_eq!(s.text(), Some(legacy_keyring_file()));
    assert_eq!(s.items(), items(&[(LEGACY, "me", "KEY-me")]));
}

#[test]
fn a_write_moves_a_legacy_keyring_secret_to_its_profile_item_and_deletes_the_old_one() {
    let s = Setup::with_file(&legacy_keyring_file(), &[(LEGACY, "me", "KEY-me")]);
    s.store().switch(DEFAULT, "me").unwrap();
    assert_eq!(
        s.json(),
        json!({"version": 1, "current": "me", "profiles": {"me": in_keyring("api_key")},
               "active_by_remote": {DEFAULT: "me"}})
    );
    assert_eq!(s.items(), items(&[(SERVICE, "me", "KEY-me")]));
    assert_eq!(api_key_of(&s, "me"), "KEY-me");
}

#[test]
fn a_legacy_secret_that_cannot_be_moved_stays_readable_and_moves_on_a_later_write() {
    let s = Setup::with_file(&legacy_keyring_file(), &[(LEGACY, "me", "KEY-me")]);
    s.keyring.set_unavailable(true);
    s.store().switch(DEFAULT, "me").unwrap();
    let legacy_me = json!({"remote_url": DEFAULT, "auth_type": "api_key",
                           "legacy_keyring": {"service": LEGACY, "account": "me"}});
    assert_eq!(s.json().get("hosts"), None);
    assert_eq!(s.json()["profiles"]["me"], legacy_me);
    assert_eq!(s.items(), items(&[(LEGACY, "me", "KEY-me")]));
    s.keyring.set_unavailable(false);
    assert_eq!(api_key_of(&s, "me"), "KEY-me");
    s.store().switch(DEFAULT, "me").unwrap();
    assert_eq!(s.json()["profiles"]["me"], in_keyring("api_key"));
    assert_eq!(s.items(), items(&[(SERVICE, "me", "KEY-me")]));
}

#[test]
fn a_legacy_move_whose_write_fails_keeps_the_legacy_item_and_the_pointer() {
    let s = Setup::with_file(&legacy_keyring_file(), &[(LEGACY, "me", "KEY-me")]);
    s.keyring.fail_when(|op, _, _| op == Op::Set);
    s.store().switch(DEFAULT, "me").unwrap();
    let file = s.json();
    assert_eq!(
        file["profiles"]["me"]["legacy_keyring"],
        json!({"service": LEGACY, "account": "me"})
    );
    assert_eq!(file.get("pending_keyring"), None);
    assert_eq!(s.items(), items(&[(LEGACY, "me", "KEY-me")]));
}

#[test]
fn a_legacy_move_never_overwrites_an_item_the_profile_already_has() {
    let s = Setup::with_file(
        &legacy_keyring_file(),
        &[(LEGACY, "me", "OLD-me"), (SERVICE, "me", "NEW-me")],
    );
    assert_eq!(api_key_of(&s, "me"), "NEW-me");
    s.store().switch(DEFAULT, "me").unwrap();
    assert_eq!(s.json()["profiles"]["me"], in_keyring("api_key"));
    assert_eq!(s.items(), items(&[(SERVICE, "me", "NEW-me")]));
}

#[test]
fn a_login_over_a_legacy_account_replaces_its_secret_and_deletes_the_legacy_item() {
    let s = Setup::with_file(&legacy_keyring_file(), &[(LEGACY, "me", "OLD")]);
    s.store()
        .save(DEFAULT, "me", &key("NEW"), false, true)
        .unwrap();
    assert_eq!(s.json()["profiles"]["me"], in_keyring("api_key"));
    assert_eq!(s.json().get("hosts"), None);
    assert_eq!(s.items(), items(&[(SERVICE, "me", "NEW")]));
}

#[test]
fn a_logout_of_a_legacy_account_deletes_both_of_its_items() {
    let legacy_me = json!({"remote_url": DEFAULT, "auth_type": "api_key",
                           "legacy_keyring": {"service": LEGACY, "account": "me"}});
    let s = Setup::with_file(
        &file_of(json!({"me": legacy_me})),
        &[(LEGACY, "me", "KEY-me"), (SERVICE, "me", "HALF-MOVED")],
    );
    s.store().remove("me").unwrap();
    assert_eq!(s.json(), json!({"version": 1, "profiles": {}}));
    assert_eq!(s.items(), items(&[]));
}

#[test]
fn a_legacy_label_taken_by_another_remote_gets_the_host_label() {
    let text = json!({"version": 1,
        "profiles": {"me": {"remote_url": STAGING, "auth_type": "api_key", "api_key": "S"}},
        "hosts": {DEFAULT: {"active_user": "me", "users": {"me": {"auth_type": "api_key"}}}}})
    .to_string();
    let s = Setup::with_file(&text, &[(LEGACY, "me", "KEY-me")]);
    s.store().switch(STAGING, "me").unwrap();
    let file = s.json();
    assert_eq!(file["profiles"]["me:baseten.co"], in_keyring("api_key"));
    assert_eq!(file["active_by_remote"][DEFAULT], "me:baseten.co");
    assert_eq!(file["profiles"]["me"]["api_key"], "S");
    assert_eq!(s.items(), items(&[(SERVICE, "me:baseten.co", "KEY-me")]));
}

#[test]
fn the_official_file_with_null_users_converts_to_no_profiles() {
    let s = Setup::with_file(V1_USERS_NULL, &[]);
    s.store()
        .save(DEFAULT, "a", &key("KEY-a"), false, true)
        .unwrap();
    assert_eq!(
        s.json(),
        json!({"version": 1, "current": "a", "profiles": {"a": in_keyring("api_key")},
               "active_by_remote": {DEFAULT: "a"}})
    );
    assert_eq!(s.items(), items(&[(SERVICE, "a", "KEY-a")]));
}

#[test]
fn a_login_into_the_official_v2_file_keeps_its_accounts_and_plain_copies() {
    let s = Setup::with_file(V2_PROFILES, &[]);
    s.store()
        .save(DEFAULT, "ci-bot", &key("KEY-ci-bot-3"), false, false)
        .unwrap();
    let file = s.json();
    assert_eq!(file["current"], "me@example.com");
    assert_eq!(file["profiles"]["ci-bot"], in_keyring("api_key"));
    assert_eq!(
        file["profiles"]["me@example.com"]["oauth_credential"]["access_token"],
        "ACCESS-me2"
    );
    assert_eq!(s.items(), items(&[(SERVICE, "ci-bot", "KEY-ci-bot-3")]));
}
