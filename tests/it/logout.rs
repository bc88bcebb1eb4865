//! `baseten auth logout` (SPEC §4, §6): API-key accounts (no request), OAuth accounts
//! (revocation with the stored token, refreshing an expired one first, and the account
//! removed even when revocation fails), one remote at a time, `--json`, and `--all`
//! (streamed, every session revoked).

use crate::common;
use crate::routes;
use crate::server;
use crate::token::{FUTURE, LABEL, PAST, REFRESHED, oauth_store, refresh_form, run};

use common::{
    API_KEY_ACTIVE, DEFAULT_REMOTE, Env, LEGACY_NONE_ACTIVE, NONE_ACTIVE, Outcome, assert_fields,
    stored_status,
};
#[cfg(unix)]
use routes::requests_to;
use routes::{LOGOUT, TOKEN, pointed, queue_server, sorted_form};
use serde_json::{Value, json};
use server::{Reply, Server};

/// Three remotes: API keys on two of them, OAuth sessions on two, all in plain text.
#[cfg(unix)]
fn many_remotes(server: &str) -> String {
    common::pretty(&json!({
        "version": 1,
        "current": "oauth-a",
        "profiles": {
            "key-a": { "remote_url": DEFAULT_REMOTE, "auth_type": "api_key", "api_key": "KEY-a" },
            "oauth-a": { "remote_url": server, "auth_type": "oauth", "oauth_credential": {
                "access_token": "ACCESS-a", "refresh_token": "R-a", "expiry": "2099-01-01T00:00:00Z" } },
            "key-b": { "remote_url": "http://127.0.0.1:9", "auth_type": "api_key", "api_key": "KEY-b" },
            "oauth-b": { "remote_url": server, "auth_type": "oauth", "oauth_credential": {
                "access_token": "ACCESS-b", "refresh_token": "R-b", "expiry": "2099-01-01T00:00:00Z" } }
        },
        "active_by_remote": { "http://127.0.0.1:9": "key-b" }
    }))
}

#[cfg(unix)]
#[test]
fn logout_all_revokes_every_session_and_removes_every_account() {
    let server = queue_server(&[("POST", LOGOUT, Reply::json(200, "{}"))]);
    let env = Env::with_auth(&many_remotes(&server.url()));
    let mut cmd = env.cmd(&["auth", "logout", "--all"]);
    cmd.env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", server.url());
    let out = common::run(&mut cmd);
    assert_eq!(
        out.success(),
        "Logged out key-a\nLogged out oauth-a\nLogged out key-b\nLogged out oauth-b\n"
    );
    let revoked: Vec<_> = requests_to(&server.requests(), LOGOUT)
        .iter()
        .map(|r| r.header("authorization").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(revoked, ["Bearer ACCESS-a", "Bearer ACCESS-b"]);
    let file = env.auth_json();
    assert_eq!(file["profiles"], json!({}), "{file:#}");
    for secret in ["KEY-a", "KEY-b", "ACCESS-a", "R-b"] {
        assert!(
            !env.read_auth().contains(secret),
            "{secret} left in auth.json"
        );
    }
    // Nothing left: an empty store is no error, and says so on stderr.
    let out = env.run(&["auth", "logout", "--all"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:#?}");
    assert!(out.stderr.contains("nothing to log out"), "{out:#?}");
    let out = env.run(&["auth", "logout", "--all", "-o", "json"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "[]\n"), "{out:#?}");
}

#[cfg(unix)]
#[test]
fn logout_all_is_a_streamed_command() {
    let server = queue_server(&[("POST", LOGOUT, Reply::json(500, "{}"))]);
    let env = Env::with_auth(&many_remotes(&server.url()));
    let mut cmd = env.cmd(&["auth", "logout", "--all", "--jq", ".profile"]);
    cmd.env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", server.url());
    let out = common::run(&mut cmd);
    // A failed revocation warns and the account goes all the same (SPEC §6).
    assert_eq!(out.code, 0, "{out:#?}");
    assert_eq!(
        out.stdout,
        "\"key-a\"\n\"oauth-a\"\n\"key-b\"\n\"oauth-b\"\n"
    );
    assert!(out.stderr.contains("warning: could not revoke"), "{out:#?}");
    out.assert_no_secrets(&["ACCESS-a", "ACCESS-b", "R-a", "R-b"]);

    let env = Env::with_auth(&many_remotes("http://127.0.0.1:9"));
    let out = env.run(&["auth", "logout", "--all", "-o", "json"]);
    let json = out.json();
    out.assert_code(0);
    assert_eq!(json[0], json!({"profile": "key-a", "user": "key-a"}));
    assert_eq!(json.as_array().map(Vec::len), Some(4));

    let out = env.run(&["auth", "logout", "--all", "--user", "x"]);
    out.failure(2, &["--all and --user"]);
}

/// The active account of the default remote in `auth.json` (SPEC §7's rule).
pub(crate) fn active_user(env: &Env) -> Option<String> {
    env.active(DEFAULT_REMOTE)
}

#[test]
fn logout_api_key_account() {
    let env = Env::with_auth(API_KEY_ACTIVE);
    let out = env.run(&["auth", "logout"]);
    assert_eq!(out.success(), "Logged out ci-bot\n");

    let file = env.auth_json();
    assert!(file["profiles"].get("ci-bot").is_none(), "{file:#}");
    // No pointer names the removed account any more.
    assert!(
        file.get("current").is_none_or(|c| c != "ci-bot"),
        "{file:#}"
    );
    assert!(
        file["active_by_remote"]
            .as_object()
            .into_iter()
            .flatten()
            .all(|(_, n)| n != "ci-bot"),
        "{file:#}"
    );
    assert!(file["profiles"].get("laptop").is_some(), "{file:#}");
    assert_eq!(
        common::active_of(&file, "https://app.staging.baseten.co").as_deref(),
        Some("staging-bot")
    );
    assert!(!env.read_auth().contains("sk-ci-123"));

    // The remote's only remaining account is now its active one (SPEC §7), but there is
    // no current profile: without a remote given, nothing is logged in (SPEC §3).
    assert_eq!(active_user(&env).as_deref(), Some("laptop"));
    let out = env.run(&[
        "auth",
        "status",
        "--remote-url",
        DEFAULT_REMOTE,
        "-o",
        "json",
    ]);
    assert_fields(&out, stored_status("laptop", "oauth", Value::Null));
    env.run(&["auth", "status"])
        .failure(1, &["not logged in", "no current profile"]);
}

#[test]
fn logout_json() {
    let env = Env::with_auth(API_KEY_ACTIVE);
    let out = env.run(&["auth", "logout", "-o", "jsonl"]);
    assert_eq!(
        out.success(),
        "{\"profile\":\"ci-bot\",\"user\":\"ci-bot\"}\n"
    );
}

#[test]
fn logout_with_no_active_user_names_the_remote() {
    for fixture in [NONE_ACTIVE, LEGACY_NONE_ACTIVE] {
        let env = Env::with_auth(fixture);
        let out = env.run(&["auth", "logout"]);
        out.failure(1, &["no current profile", "--profile"]);
        let out = env.run(&["auth", "logout", "--remote-url", DEFAULT_REMOTE]);
        out.failure(1, &["no current profile", DEFAULT_REMOTE, "--profile"]);
        assert_eq!(env.read_auth(), fixture);
    }

    let env = Env::new();
    let remote = "https://app.example.com";
    let out = env.run(&["auth", "logout", "--remote-url", remote]);
    out.failure(1, &["no current profile", remote]);
    assert!(!env.auth_path().exists());
}

#[test]
fn logout_only_touches_its_remote() {
    let env = Env::with_auth(API_KEY_ACTIVE);
    let remote = "https://app.staging.baseten.co";
    let out = env.run(&["auth", "logout", "--remote-url", remote]);
    assert_eq!(out.success(), "Logged out staging-bot\n");
    assert_eq!(active_user(&env).as_deref(), Some("ci-bot"));
    assert_eq!(env.run(&["auth", "token"]).success(), "sk-ci-123\n");
}

/// Asserts a successful logout of [`LABEL`] that warned on stderr.
#[track_caller]
fn assert_logged_out_with_a_warning(out: &Outcome) {
    out.assert_code(0);
    assert_eq!(out.stdout, format!("Logged out {LABEL}\n"));
    assert!(
        out.stderr.lines().any(|l| l.starts_with("warning:")),
        "{out:#?}"
    );
}

/// Asserts `label` is gone from the store, that no pointer names it any more, and that
/// `server`'s remote now has its only remaining account active (SPEC §7); returns the
/// parsed `auth.json`.
#[track_caller]
fn assert_removed(env: &Env, server: &Server, label: &str) -> Value {
    let auth = env.auth_json();
    assert!(auth["profiles"].get(label).is_none(), "{auth:#}");
    assert!(auth.get("current").is_none_or(|c| c != label), "{auth:#}");
    assert!(
        auth["active_by_remote"]
            .as_object()
            .into_iter()
            .flatten()
            .all(|(_, n)| n != label),
        "{auth:#}"
    );
    let left = common::profiles_of(&auth, &server.url());
    assert_eq!(left.len(), 1, "{auth:#}");
    assert_eq!(
        common::active_of(&auth, &server.url()).as_ref(),
        Some(&left[0])
    );
    auth
}

#[test]
fn logout_revokes_with_the_stored_token_even_when_baseten_api_key_is_set() {
    let server = queue_server(&[("POST", LOGOUT, Reply::json(200, "{}"))]);
    let env = Env::with_auth(&oauth_store(&server.url(), FUTURE));
    let out = common::run(
        pointed(&env, &server, &["auth", "logout"]).env("BASETEN_API_KEY", "sk-env-999"),
    );
    out.assert_code(0);
    assert_eq!(out.stdout, format!("Logged out {LABEL}\n"));
    assert!(!out.stderr.contains("sk-env-999") && !out.stderr.contains("access-old"));

    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let r = &requests[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", LOGOUT));
    assert_eq!(r.header("authorization"), Some("Bearer access-old"));
    for (name, value) in &r.headers {
        assert!(!value.contains("sk-env-999"), "env key in header {name}");
    }

    let auth = assert_removed(&env, &server, LABEL);
    assert_eq!(auth["profiles"]["ci-bot"]["api_key"], "sk-ci-123");
    // The remote's remaining account is now the active one.
    let out = run(&env, &server, &["auth", "status", "--jq", ".user"]);
    assert_eq!(out.success(), "\"ci-bot\"\n");
}

#[test]
fn logout_with_a_failing_revocation_warns_and_still_removes_the_account() {
    let server = queue_server(&[("POST", LOGOUT, Reply::json(500, r#"{"error":"internal"}"#))]);
    let env = Env::with_auth(&oauth_store(&server.url(), FUTURE));
    let out = run(&env, &server, &["auth", "logout"]);
    assert_logged_out_with_a_warning(&out);
    assert_eq!(server.requests().len(), 1);
    assert_removed(&env, &server, LABEL);
}

#[test]
fn logout_with_an_unreachable_server_warns_and_still_removes_the_account() {
    // The remote (the account's `remote_url`) is a live server that must see nothing;
    // the API base is a closed port.
    let server = queue_server(&[]);
    let env = Env::with_auth(&oauth_store(&server.url(), FUTURE));
    let out = common::run(pointed(&env, &server, &["auth", "logout"]).env(
        "BASETEN_MANAGEMENT_API_URL_OVERRIDE",
        format!("http://{}", common::closed_port()),
    ));
    assert_logged_out_with_a_warning(&out);
    assert!(server.requests().is_empty());
    assert_removed(&env, &server, LABEL);
}

#[test]
fn logout_of_an_expired_token_refreshes_then_revokes_the_new_one() {
    let server = queue_server(&[
        ("POST", TOKEN, Reply::json(200, REFRESHED)),
        ("POST", LOGOUT, Reply::json(204, "")),
    ]);
    let env = Env::with_auth(&oauth_store(&server.url(), PAST));
    let out = run(&env, &server, &["auth", "logout"]);
    out.assert_code(0);
    assert_eq!(out.stdout, format!("Logged out {LABEL}\n"));
    assert!(!out.stderr.contains("warning:"), "{out:#?}");
    let requests = server.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, [TOKEN, LOGOUT]);
    assert_eq!(sorted_form(&requests[0]), refresh_form("refresh-old"));
    assert_eq!(
        requests[1].header("authorization"),
        Some("Bearer access-new")
    );
    assert_removed(&env, &server, LABEL);
    assert!(!env.read_auth().contains("access-new") && !env.read_auth().contains("refresh-new"));
}

#[test]
fn logout_of_an_api_key_account_makes_no_request() {
    let server = queue_server(&[("POST", LOGOUT, Reply::json(200, "{}"))]);
    let env = Env::with_auth(&oauth_store(&server.url(), FUTURE));
    // Make the API-key account active first.
    let out = run(&env, &server, &["auth", "switch", "--user", "ci-bot"]);
    out.assert_code(0);
    let out = run(&env, &server, &["auth", "logout", "-o", "json"]);
    out.assert_code(0);
    assert_eq!(out.json(), json!({"profile": "ci-bot", "user": "ci-bot"}));
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
    let auth = assert_removed(&env, &server, "ci-bot");
    assert!(!env.read_auth().contains("sk-ci-123"));
    // The OAuth account stays.
    assert_eq!(
        auth["profiles"][LABEL]["oauth_credential"]["access_token"],
        "access-old"
    );
}

#[test]
fn logout_without_an_active_account_fails() {
    let server = queue_server(&[]);
    let env = Env::new();
    let out = run(&env, &server, &["auth", "logout"]);
    out.failure(1, &["no current profile", &server.url()]);
    assert!(server.requests().is_empty());
}

#[test]
fn logout_when_the_refresh_before_revocation_fails_warns_and_still_removes() {
    let server = queue_server(&[
        (
            "POST",
            TOKEN,
            Reply::json(400, r#"{"error":"invalid_grant"}"#),
        ),
        ("POST", LOGOUT, Reply::json(200, "{}")),
    ]);
    let env = Env::with_auth(&oauth_store(&server.url(), PAST));
    let out = run(&env, &server, &["auth", "logout"]);
    assert_logged_out_with_a_warning(&out);
    // The expired token is not sent for revocation either way.
    for r in server.requests() {
        assert_ne!(r.header("authorization"), Some("Bearer access-old"));
    }
    assert_removed(&env, &server, LABEL);
}
