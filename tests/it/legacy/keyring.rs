//! Legacy keyring items against a real Secret Service (SPEC §7): read in place, moved
//! once on the first write (or later, when the keyring was absent then), and removed by
//! logout with the profile's own item. `#[ignore]`d like every test that needs the private
//! keyring of `tests/with-secret-service.sh`; the helpers are those of
//! `keyring/secret_service.rs`.
#![cfg(all(unix, not(target_os = "macos")))]

use crate::common;
use crate::keyring::secret_service::Kr;

use serde_json::json;

/// A legacy account `base` (made unique) whose `secret` is in its legacy keyring item,
/// converted to the profiles layout by a write made without a session bus: the secret
/// could not be moved and stays where it was. Returns the account's name.
fn converted_without_keyring(kr: &Kr, base: &str, secret: &str) -> String {
    let name = kr.name(base);
    kr.store_legacy(&name, secret);
    write_legacy_account(kr, &name);
    let switch = ["auth", "switch", "--user", &name];
    common::run(&mut kr.env.cmd_at(&kr.remote(), &switch)).success();
    name
}

/// `auth.json` in the legacy layout with keyring-stored API-key account `name` active.
fn write_legacy_account(kr: &Kr, name: &str) {
    kr.write_legacy_users(name, json!({ name: { "auth_type": "api_key" } }));
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn a_legacy_item_is_read_in_place_and_moved_once_on_the_first_write() {
    let kr = Kr::new();
    let name = kr.name("legacy");
    kr.store_legacy(&name, "sk-legacy");
    write_legacy_account(&kr, &name);
    let file = kr.env.read_auth();

    assert_eq!(kr.token(), "sk-legacy");
    assert_eq!(kr.env.read_auth(), file, "a read wrote the file");
    assert_eq!(kr.lookup(&name), None, "a read moved the item");

    kr.run(&["auth", "switch", "--user", &name]).success();
    assert_eq!(kr.lookup(&name).as_deref(), Some("sk-legacy"));
    assert_eq!(
        kr.lookup_legacy(&name),
        None,
        "the legacy item is still there"
    );
    let after = kr.env.auth_json();
    assert!(after.get("hosts").is_none(), "{after:#}");
    assert_eq!(
        kr.entry(&name),
        json!({"remote_url": kr.remote(), "auth_type": "api_key"})
    );
    kr.run(&["auth", "switch", "--user", &name]).success();
    assert_eq!(kr.item_count(&name), 1);
    assert_eq!(kr.token(), "sk-legacy");
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn a_legacy_item_waits_for_a_keyring_that_was_absent_at_the_first_write() {
    let kr = Kr::new();
    let name = converted_without_keyring(&kr, "waits", "sk-waits");
    let after = kr.env.auth_json();
    assert!(after.get("hosts").is_none(), "{after:#}");
    assert_eq!(
        kr.entry(&name)["legacy_keyring"],
        json!({"service": kr.legacy_service(), "account": name})
    );
    assert_eq!(kr.lookup_legacy(&name).as_deref(), Some("sk-waits"));
    // Still readable, through the legacy item.
    assert_eq!(kr.token(), "sk-waits");

    // A later write with the keyring moves it.
    kr.run(&["auth", "switch", "--user", &name]).success();
    assert_eq!(kr.lookup(&name).as_deref(), Some("sk-waits"));
    assert_eq!(kr.lookup_legacy(&name), None);
    assert!(kr.entry(&name).get("legacy_keyring").is_none());
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn logout_removes_the_item_and_a_legacy_one() {
    let kr = Kr::new();
    // Converted without a keyring, so the secret is still in the legacy item.
    let name = converted_without_keyring(&kr, "bye", "sk-bye");
    kr.run(&["auth", "logout"]).success();
    assert_eq!(kr.lookup_legacy(&name), None);
    assert_eq!(kr.lookup(&name), None);
    assert!(kr.entry(&name).is_null());
}
