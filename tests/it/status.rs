//! `baseten auth status` on a store (SPEC §2, §6): API-key and OAuth accounts, expiry
//! in RFC 3339 (null for the zero expiry), not logged in, and one remote at a time.

use crate::common;

use common::{
    API_KEY_ACTIVE, API_KEY_ENV, Env, FIXTURE, LEGACY_NONE_ACTIVE, NONE_ACTIVE, Outcome,
    assert_fields, stored_status,
};
use serde_json::Value;

#[track_caller]
fn assert_not_logged_in(out: &Outcome) {
    out.failure(1, &["not logged in", "baseten auth login", API_KEY_ENV]);
}

/// Runs `auth status` (text) and asserts it starts with the default remote,
/// `Logged in as <user>` and `Auth type: <auth_type>`, and that a later line says the
/// secret lives in the file. Returns the outcome.
#[track_caller]
fn assert_status_text(env: &Env, user: &str, auth_type: &str) -> Outcome {
    let out = env.run(&["auth", "status"]);
    let lines: Vec<&str> = out.success().lines().collect();
    assert_eq!(
        lines[..3],
        [
            "https://app.baseten.co",
            &format!("  Logged in as {user}"),
            &format!("  Auth type: {auth_type}")
        ]
    );
    // It also says where the secret lives.
    assert!(lines[3..].iter().any(|l| l.contains("file")), "{lines:?}");
    out
}

#[test]
fn status_api_key_account() {
    let env = Env::with_auth(API_KEY_ACTIVE);
    let out = assert_status_text(&env, "ci-bot", "api_key");
    assert!(!out.stdout.contains("sk-ci-123"));

    let out = env.run(&["auth", "status", "-o", "json"]);
    assert_fields(&out, stored_status("ci-bot", "api_key", Value::Null));
    assert!(!out.stdout.contains("sk-ci-123"));
}

#[test]
fn status_oauth_account_with_expiry() {
    let env = Env::with_auth(FIXTURE);
    let out = assert_status_text(&env, "me@example.com", "oauth");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[3..]
            .iter()
            .any(|l| l.contains("2099-01-02T03:04:05Z")),
        "{lines:?}"
    );
    assert!(!out.stdout.contains("access-abc") && !out.stdout.contains("refresh-abc"));

    let out = env.run(&["auth", "status", "--output", "json"]);
    assert_fields(
        &out,
        stored_status("me@example.com", "oauth", "2099-01-02T03:04:05Z".into()),
    );
}

#[test]
fn status_oauth_expiry_offset_is_rfc3339() {
    let env = Env::with_auth(&FIXTURE.replace("2099-01-02T03:04:05Z", "2099-01-02T05:04:05+02:00"));
    let out = env.run(&["auth", "status", "--jq", ".expires_at"]);
    let stdout = out.success();
    // The same instant, in RFC 3339 (UTC or with the offset).
    assert!(
        stdout == "\"2099-01-02T03:04:05Z\"\n" || stdout == "\"2099-01-02T05:04:05+02:00\"\n",
        "{stdout}"
    );
}

#[test]
fn status_oauth_zero_expiry_is_null() {
    let env = Env::with_auth(API_KEY_ACTIVE);
    env.run(&["auth", "switch", "--user", "laptop"]).success();
    let out = env.run(&["auth", "status", "-o", "json"]);
    assert_fields(&out, stored_status("laptop", "oauth", Value::Null));
    let text = env.run(&["auth", "status"]);
    assert!(!text.success().contains("0001-01-01"), "{text:#?}");
}

#[test]
fn status_per_remote() {
    let env = Env::with_auth(API_KEY_ACTIVE);
    let remote = "https://app.staging.baseten.co";
    let out = env.run(&["auth", "status", "--remote-url", remote]);
    assert!(
        out.success()
            .starts_with("https://app.staging.baseten.co\n  Logged in as staging-bot\n")
    );
    let out = env.run(&[
        "auth",
        "status",
        "--remote-url",
        "https://app.other.example",
    ]);
    assert_not_logged_in(&out);
}

#[test]
fn status_not_logged_in() {
    // No auth.json at all, a remote without an active account, and a missing directory.
    let empty = Env::new();
    assert_not_logged_in(&empty.run(&["auth", "status"]));
    assert_not_logged_in(&empty.run(&["auth", "status", "-o", "json"]));
    assert!(!empty.auth_path().exists());

    for fixture in [NONE_ACTIVE, LEGACY_NONE_ACTIVE] {
        let none = Env::with_auth(fixture);
        assert_not_logged_in(&none.run(&["auth", "status"]));
        assert_eq!(none.read_auth(), fixture);
    }

    let missing = Env::new();
    let mut cmd = missing.cmd(&["auth", "status"]);
    cmd.env("BASETEN_CONFIG_DIR", missing.root().join("absent"));
    assert_not_logged_in(&common::run(&mut cmd));
    assert!(!missing.root().join("absent").exists());
}
