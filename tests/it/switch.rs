//! `baseten auth switch` off a terminal (SPEC §6): changing the active account, and
//! the errors for an unknown name and an empty store.

use crate::common;
use crate::logout::active_user;

use common::{DEFAULT_REMOTE, Env, FIXTURE};
use serde_json::json;

#[test]
fn switch_changes_the_active_user() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "switch", "--user", "ci-bot"]);
    assert_eq!(out.success(), "Switched to ci-bot\n");
    assert_eq!(active_user(&env).as_deref(), Some("ci-bot"));
    assert_eq!(env.run(&["auth", "token"]).success(), "sk-ci-123\n");

    let out = env.run(&["auth", "switch", "--user=me@example.com", "-o", "json"]);
    assert_eq!(
        out.success(),
        common::pretty(&json!({ "profile": "me@example.com", "user": "me@example.com" }))
    );
    assert_eq!(active_user(&env).as_deref(), Some("me@example.com"));

    // Both accounts and their secrets are still there.
    let file = env.auth_json();
    assert_eq!(file["current"], "me@example.com");
    assert_eq!(file["active_by_remote"][DEFAULT_REMOTE], "me@example.com");
    let users = &file["profiles"];
    assert_eq!(users["ci-bot"]["api_key"], "sk-ci-123");
    assert_eq!(
        users["me@example.com"]["oauth_credential"]["access_token"],
        "access-abc"
    );
}

#[test]
fn switch_to_unknown_user_fails() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "switch", "--user", "nobody"]);
    out.failure(1, &["not found", "nobody"]);
    assert_eq!(env.read_auth(), FIXTURE);

    // Accounts are per remote: ci-bot belongs to the default one, not to the one given.
    let out = env.run(&[
        "auth",
        "switch",
        "--user",
        "ci-bot",
        "--remote-url",
        "https://app.staging.baseten.co",
    ]);
    out.failure(
        1,
        &[
            "\"ci-bot\"",
            "https://app.baseten.co",
            "https://app.staging.baseten.co",
        ],
    );
    assert_eq!(env.read_auth(), FIXTURE);
}

#[test]
fn switch_with_nothing_stored_fails() {
    let env = Env::new();
    let out = env.run(&["auth", "switch", "--user", "ci-bot"]);
    out.failure(1, &["not found"]);
    assert!(!env.auth_path().exists());
}
