//! Golden inputs (SPEC §7): `auth.json` files written by Baseten's official CLI itself
//! (`tests/fixtures/official-store/`, see its README), read and rewritten by this
//! program. The v0.2 `profiles` files are this program's own layout; the v0.1 `hosts`
//! files are read as profiles and converted on the first write.

mod common;

use common::{DEFAULT_REMOTE, Env};
use serde_json::{Value, json};

const STAGING: &str = "https://app.staging.baseten.co";
const V1_HOSTS: &str = include_str!("fixtures/official-store/v1-hosts.json");
const V1_USERS_NULL: &str = include_str!("fixtures/official-store/v1-users-null.json");
const V2_PROFILES: &str = include_str!("fixtures/official-store/v2-profiles.json");
const V2_CURRENT_REMOVED: &str = include_str!("fixtures/official-store/v2-current-removed.json");

/// `status -o json` for `remote`, which must succeed.
#[track_caller]
fn status(env: &Env, remote: &str) -> Value {
    let out = env.run(&["auth", "status", "-o", "json", "--remote-url", remote]);
    let json = out.json();
    out.success();
    json
}

/// `token` for `remote`, which must succeed; the secret without its newline.
#[track_caller]
fn token(env: &Env, remote: &str) -> String {
    let out = env.run(&["auth", "token", "--remote-url", remote]);
    out.success().trim_end_matches('\n').to_owned()
}

#[test]
fn v2_profiles_are_read_as_written() {
    let env = Env::with_auth(V2_PROFILES);
    let s = status(&env, DEFAULT_REMOTE);
    assert_eq!(s["user"], "me@example.com");
    assert_eq!(s["auth_type"], "oauth");
    assert_eq!(s["storage"], "file");
    assert_eq!(
        common::rfc3339_unix(s["expires_at"].as_str().expect("expires_at")),
        common::rfc3339_unix("2031-05-06T07:08:09+02:00")
    );
    assert_eq!(token(&env, DEFAULT_REMOTE), "ACCESS-me2");
    // The staging remote's only profile is its active one.
    let s = status(&env, STAGING);
    assert_eq!(s["user"], "me@example.com:staging.baseten.co");
    assert_eq!(token(&env, STAGING), "ACCESS-stg2");
    assert_eq!(env.read_auth(), V2_PROFILES, "reads changed the file");
}

#[test]
fn v2_a_switch_changes_only_the_pointers() {
    let env = Env::with_auth(V2_PROFILES);
    let out = env.run(&["auth", "switch", "--user", "ci-bot"]);
    assert_eq!(out.success(), "Switched to ci-bot\n");
    let mut expected: Value = serde_json::from_str(V2_PROFILES).unwrap();
    expected["current"] = json!("ci-bot");
    expected["active_by_remote"] = json!({ DEFAULT_REMOTE: "ci-bot" });
    assert_eq!(env.auth_json(), expected);
    // Every credential is written back as it was read, expiry text included.
    let text = env.read_auth();
    for kept in [
        "\"2031-05-06T07:08:09.987654321+02:00\"",
        "\"2030-01-02T03:04:05.5Z\"",
    ] {
        assert!(text.contains(kept), "{kept} lost: {text}");
    }
    assert_eq!(token(&env, DEFAULT_REMOTE), "KEY-ci-bot-2");
    // The staging remote is untouched.
    assert_eq!(token(&env, STAGING), "ACCESS-stg2");
}

#[test]
fn v2_without_current_each_remote_has_its_only_profile_active() {
    let env = Env::with_auth(V2_CURRENT_REMOVED);
    assert_eq!(status(&env, DEFAULT_REMOTE)["user"], "ci-bot");
    assert_eq!(token(&env, DEFAULT_REMOTE), "KEY-ci-bot-2");
    assert_eq!(
        status(&env, STAGING)["user"],
        "me@example.com:staging.baseten.co"
    );
    assert_eq!(env.read_auth(), V2_CURRENT_REMOVED);

    // Removing the default remote's account leaves the other remote's as it was.
    let out = env.run(&["auth", "logout"]);
    assert_eq!(out.success(), "Logged out ci-bot\n");
    let file = env.auth_json();
    assert!(file["profiles"].get("ci-bot").is_none(), "{file:#}");
    assert_eq!(
        env.profile("me@example.com:staging.baseten.co"),
        serde_json::from_str::<Value>(V2_CURRENT_REMOVED).unwrap()["profiles"]["me@example.com:staging.baseten.co"]
    );
    env.run(&["auth", "status"]).failure(1, &["not logged in"]);
}

#[test]
fn v1_hosts_are_read_as_profiles() {
    let env = Env::with_auth(V1_HOSTS);
    let s = status(&env, DEFAULT_REMOTE);
    assert_eq!(s["user"], "ci-bot", "active_user is the active account");
    assert_eq!(s["auth_type"], "api_key");
    assert_eq!(token(&env, DEFAULT_REMOTE), "KEY-ci-bot-1");
    // The staging label is taken by the default remote's account: it gets the host.
    let s = status(&env, STAGING);
    assert_eq!(s["user"], "me@example.com:staging.baseten.co");
    assert_eq!(s["expires_at"], Value::Null, "the zero time is unknown");
    assert_eq!(token(&env, STAGING), "ACCESS-stg");
    assert_eq!(env.read_auth(), V1_HOSTS, "reads changed the file");
}

#[test]
fn v1_hosts_are_converted_to_profiles_on_the_first_write() {
    let env = Env::with_auth(V1_HOSTS);
    let out = env.run(&["auth", "switch", "--user", "me@example.com"]);
    assert_eq!(out.success(), "Switched to me@example.com\n");
    let file = env.auth_json();
    assert!(file.get("hosts").is_none(), "{file:#}");
    assert_eq!(file["version"], 1);
    assert_eq!(file["current"], "me@example.com");
    assert_eq!(
        env.profile_names(DEFAULT_REMOTE),
        ["ci-bot", "me@example.com"]
    );
    assert_eq!(
        env.profile_names(STAGING),
        ["me@example.com:staging.baseten.co"]
    );
    assert_eq!(
        env.profile("ci-bot"),
        json!({ "remote_url": DEFAULT_REMOTE, "auth_type": "api_key",
                "api_key": "KEY-ci-bot-1" })
    );
    assert_eq!(
        env.profile("me@example.com"),
        json!({ "remote_url": DEFAULT_REMOTE, "auth_type": "oauth", "oauth_credential": {
            "access_token": "ACCESS-me", "refresh_token": "REFRESH-me",
            "expiry": "2031-05-06T07:08:09.987654321+02:00" } })
    );
    assert_eq!(
        env.profile("me@example.com:staging.baseten.co"),
        json!({ "remote_url": STAGING, "auth_type": "oauth", "oauth_credential": {
            "access_token": "ACCESS-stg", "refresh_token": "REFRESH-stg",
            "expiry": "0001-01-01T00:00:00Z" } })
    );
    // Each remote keeps its active account through the conversion.
    assert_eq!(
        env.active(STAGING).as_deref(),
        Some("me@example.com:staging.baseten.co")
    );
    assert_eq!(token(&env, DEFAULT_REMOTE), "ACCESS-me");
    assert_eq!(token(&env, STAGING), "ACCESS-stg");
}

#[test]
fn v1_null_users_and_empty_active_user_are_an_empty_store() {
    let env = Env::with_auth(V1_USERS_NULL);
    env.run(&["auth", "status"]).failure(1, &["not logged in"]);
    env.run(&["auth", "switch", "--user", "gone"])
        .failure(1, &["not found"]);
    env.run(&["auth", "logout"]).failure(1, &["no active user"]);
    assert_eq!(env.read_auth(), V1_USERS_NULL);
}
