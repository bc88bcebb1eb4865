//! Token refresh (`baseten auth token` with an expired access token), server-side
//! revocation at `baseten auth logout`, and many logins racing on one store
//! (SPEC §4, §6, §7).

use crate::common;
use crate::routes;
use crate::server;

use std::process::{Command, Stdio};

// Expiries here are written in UTC: the stricter parser, under the usual name.
use common::{Env, Outcome, rfc3339_utc_unix as rfc3339_unix, unix_now};
use routes::{LOGOUT, ME, TOKEN, queue_server, sorted_form};
use serde_json::{Value, json};
use server::{Reply, Server};

const LABEL: &str = "me@example.com";
const PAST: &str = "2001-02-03T04:05:06Z";
const FUTURE: &str = "2099-01-02T03:04:05Z";
const REFRESHED: &str = r#"{"access_token":"access-new","refresh_token":"refresh-new","expires_in":3600,"token_type":"Bearer"}"#;

/// A store for `remote` whose active account `me@example.com` is OAuth with
/// `access-old`/`refresh-old` expiring at `expiry`, next to an API-key account.
fn oauth_store(remote: &str, expiry: &str) -> String {
    let value = common::store_of(
        remote,
        Some(LABEL),
        json!({
            LABEL: {
                "auth_type": "oauth",
                "oauth_credential": {
                    "access_token": "access-old",
                    "refresh_token": "refresh-old",
                    "expiry": expiry,
                }
            },
            "ci-bot": { "auth_type": "api_key", "api_key": "sk-ci-123" }
        }),
    );
    common::pretty(&value)
}

/// `args` pointed at `server` (see [`Env::cmd_at`]).
fn pointed(env: &Env, server: &Server, args: &[&str]) -> Command {
    env.cmd_at(&server.url(), args)
}

fn run(env: &Env, server: &Server, args: &[&str]) -> Outcome {
    common::run(&mut pointed(env, server, args))
}

fn refresh_form(refresh_token: &str) -> Vec<(String, String)> {
    let mut form = vec![
        ("client_id".to_string(), "baseten-cli".to_string()),
        ("grant_type".to_string(), "refresh_token".to_string()),
        ("refresh_token".to_string(), refresh_token.to_string()),
    ];
    form.sort();
    form
}

fn credential(env: &Env, server: &Server) -> Value {
    let profile = env.profile(LABEL);
    assert_eq!(profile["remote_url"], server.url());
    profile["oauth_credential"].clone()
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
fn rfc3339_helper_is_right() {
    assert_eq!(rfc3339_unix("1970-01-01T00:00:00Z"), 0);
    assert_eq!(rfc3339_unix("2026-01-02T03:04:05Z"), 1_767_323_045);
}

#[test]
fn token_refreshes_an_expired_access_token_once_and_saves_the_new_pair() {
    let server = queue_server(&[("POST", TOKEN, Reply::json(200, REFRESHED))]);
    let env = Env::with_auth(&oauth_store(&server.url(), PAST));
    let out = run(&env, &server, &["auth", "token"]);
    assert_eq!(out.success(), "access-new\n");

    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let r = &requests[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", TOKEN));
    assert_eq!(sorted_form(r), refresh_form("refresh-old"));
    assert_eq!(
        r.header("user-agent"),
        Some(concat!("baseten-rs/", env!("CARGO_PKG_VERSION")))
    );

    let cred = credential(&env, &server);
    assert_eq!(cred["access_token"], "access-new");
    assert_eq!(cred["refresh_token"], "refresh-new");
    let expiry = rfc3339_unix(cred["expiry"].as_str().expect("expiry"));
    let now = unix_now();
    assert!(
        (now + 3600 - 30..=now + 3600 + 5).contains(&expiry),
        "expiry {cred}"
    );
    // The other account is untouched.
    assert_eq!(env.profile("ci-bot")["api_key"], "sk-ci-123");
    assert_eq!(env.active(&server.url()).as_deref(), Some(LABEL));

    // The new token is used from now on: no second refresh, old refresh token not reused.
    let out = run(&env, &server, &["auth", "token", "-o", "json"]);
    out.assert_code(0);
    assert_eq!(
        out.json(),
        json!({"profile": LABEL, "user": LABEL, "auth_type": "oauth", "token": "access-new",
               "header": "Bearer access-new"})
    );
    assert_eq!(server.requests().len(), 1, "{:#?}", server.requests());
}

#[test]
fn a_refresh_without_a_new_refresh_token_keeps_the_old_one() {
    let server = queue_server(&[(
        "POST",
        TOKEN,
        Reply::json(
            200,
            r#"{"access_token":"access-new","expires_in":3600,"token_type":"Bearer"}"#,
        ),
    )]);
    let env = Env::with_auth(&oauth_store(&server.url(), PAST));
    assert_eq!(
        run(&env, &server, &["auth", "token"]).success(),
        "access-new\n"
    );
    let cred = credential(&env, &server);
    assert_eq!(cred["access_token"], "access-new");
    assert_eq!(cred["refresh_token"], "refresh-old");
}

#[test]
fn an_unexpired_token_is_printed_without_a_request() {
    let server = queue_server(&[("POST", TOKEN, Reply::json(200, REFRESHED))]);
    let env = Env::with_auth(&oauth_store(&server.url(), FUTURE));
    let before = env.read_auth_bytes();
    assert_eq!(
        run(&env, &server, &["auth", "token"]).success(),
        "access-old\n"
    );
    assert!(server.requests().is_empty());
    assert_eq!(env.read_auth_bytes(), before);
}

#[test]
fn a_refused_refresh_exits_3_and_leaves_the_credential_untouched() {
    let server = queue_server(&[(
        "POST",
        TOKEN,
        Reply::json(
            400,
            r#"{"error":"invalid_grant","error_description":"refresh token revoked"}"#,
        ),
    )]);
    let env = Env::with_auth(&oauth_store(&server.url(), PAST));
    let before = env.read_auth_bytes();
    let out = run(&env, &server, &["auth", "token"]);
    out.failure(3, &[]);
    assert!(!out.stderr.contains("refresh-old") && !out.stderr.contains("access-old"));
    assert_eq!(env.read_auth_bytes(), before);
    assert_eq!(server.requests().len(), 1);
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
fn sixty_four_concurrent_api_key_logins_lose_no_account() {
    const N: usize = 64;
    let server = queue_server(&[(
        "GET",
        ME,
        Reply::json(
            200,
            r#"{"user_id":"u-1","email":"bot@example.com","name":"Bot","workspace_name":"W"}"#,
        ),
    )]);
    let env = Env::new();
    let children: Vec<_> = (0..N)
        .map(|i| {
            let label = format!("bot-{i}");
            // A child that exits early shows up in its outcome below.
            common::spawn_with_stdin(
                &mut pointed(&env, &server, &common::api_key_login_args(&label)),
                format!("sk-bot-{i}\n").as_bytes(),
            )
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = Outcome::from_output(child.wait_with_output().expect("wait"));
        assert_eq!(out.code, 0, "login bot-{i}: {out:#?}");
        assert_eq!(
            out.stdout,
            format!("Logged in as bot@example.com (W) as profile bot-{i}\n")
        );
    }
    assert_eq!(server.requests().len(), N);
    let auth = env.auth_json();
    let users = auth["profiles"].as_object().expect("profiles");
    assert_eq!(users.len(), N, "{auth:#}");
    for i in 0..N {
        let entry = &users[&format!("bot-{i}")];
        assert_eq!(entry["remote_url"], server.url());
        assert_eq!(entry["auth_type"], "api_key");
        assert_eq!(entry["api_key"], format!("sk-bot-{i}"));
    }
    // The last login to land made itself active: both pointers name it.
    let active = auth["current"].as_str().expect("a current profile");
    assert!(users.contains_key(active));
    assert_eq!(auth["active_by_remote"][server.url()], active);
}

#[test]
fn concurrent_token_runs_refresh_once_and_never_reuse_the_old_refresh_token() {
    const N: usize = 8;
    // The first refresh succeeds; any later one (a reused refresh token) is refused.
    let server = queue_server(&[
        ("POST", TOKEN, Reply::json(200, REFRESHED)),
        (
            "POST",
            TOKEN,
            Reply::json(400, r#"{"error":"invalid_grant"}"#),
        ),
    ]);
    let env = Env::with_auth(&oauth_store(&server.url(), PAST));
    let children: Vec<_> = (0..N)
        .map(|_| {
            pointed(&env, &server, &["auth", "token"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn baseten")
        })
        .collect();
    for child in children {
        let out = Outcome::from_output(child.wait_with_output().expect("wait"));
        assert_eq!(out.success(), "access-new\n");
    }
    assert_eq!(server.requests().len(), 1, "{:#?}", server.requests());
    assert_eq!(credential(&env, &server)["refresh_token"], "refresh-new");
}

#[test]
fn token_with_a_failing_refresh_server_exits_6_and_keeps_the_credential() {
    let server = queue_server(&[("POST", TOKEN, Reply::json(503, r#"{"error":"down"}"#))]);
    let env = Env::with_auth(&oauth_store(&server.url(), PAST));
    let before = env.read_auth_bytes();
    let out = run(&env, &server, &["auth", "token"]);
    out.failure(6, &[]);
    assert_eq!(env.read_auth_bytes(), before);
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
