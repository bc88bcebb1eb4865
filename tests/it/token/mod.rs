//! `baseten auth token` (SPEC §2, §4, §6): API-key and OAuth accounts, not logged in,
//! `BASETEN_API_KEY`, and the refresh of an expired access token (once, even when runs
//! race; the old refresh token kept when no new one comes; a refused or failing refresh
//! leaving the credential as it was).

mod header;

use crate::common;
use crate::env_key::ENV_KEY;
use crate::routes;
use crate::server;

use std::process::Stdio;

use common::{
    API_KEY_ACTIVE, API_KEY_ENV, Env, FIXTURE, LEGACY_NONE_ACTIVE, NONE_ACTIVE, Outcome,
    rfc3339_utc_unix as rfc3339_unix, unix_now,
};
use routes::{TOKEN, pointed, queue_server, sorted_form};
use serde_json::{Value, json};
use server::{Reply, Server};

pub(crate) const LABEL: &str = "me@example.com";

pub(crate) const PAST: &str = "2001-02-03T04:05:06Z";

pub(crate) const FUTURE: &str = "2099-01-02T03:04:05Z";

pub(crate) const REFRESHED: &str = r#"{"access_token":"access-new","refresh_token":"refresh-new","expires_in":3600,"token_type":"Bearer"}"#;

/// A store for `remote` whose active account `me@example.com` is OAuth with
/// `access-old`/`refresh-old` expiring at `expiry`, next to an API-key account.
pub(crate) fn oauth_store(remote: &str, expiry: &str) -> String {
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

pub(crate) fn run(env: &Env, server: &Server, args: &[&str]) -> Outcome {
    common::run(&mut pointed(env, server, args))
}

pub(crate) fn refresh_form(refresh_token: &str) -> Vec<(String, String)> {
    let mut form = vec![
        ("client_id".to_string(), "baseten-cli".to_string()),
        ("grant_type".to_string(), "refresh_token".to_string()),
        ("refresh_token".to_string(), refresh_token.to_string()),
    ];
    form.sort();
    form
}

#[test]
fn token_prints_the_env_key() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run_env(&["auth", "token"], API_KEY_ENV, ENV_KEY);
    assert_eq!(out.success(), format!("{ENV_KEY}\n"));
    let out = env.run_env(&["auth", "token", "-o", "json"], API_KEY_ENV, ENV_KEY);
    let json = out.json();
    out.success();
    assert_eq!(json["token"], ENV_KEY);
    assert_eq!(json["auth_type"], "api_key");
    // Works without any store too.
    let out = Env::new().run_env(&["auth", "token"], API_KEY_ENV, ENV_KEY);
    assert_eq!(out.success(), format!("{ENV_KEY}\n"));
}

#[test]
fn token_api_key_account() {
    let env = Env::with_auth(API_KEY_ACTIVE);
    assert_eq!(env.run(&["auth", "token"]).success(), "sk-ci-123\n");
    let out = env.run(&["auth", "token", "-o", "json"]);
    assert_eq!(
        out.success(),
        common::pretty(&json!({
            "profile": "ci-bot",
            "user": "ci-bot",
            "auth_type": "api_key",
            "token": "sk-ci-123",
            "header": "Api-Key sk-ci-123"
        }))
    );
}

#[test]
fn token_oauth_account() {
    let env = Env::with_auth(FIXTURE);
    assert_eq!(env.run(&["auth", "token"]).success(), "access-abc\n");
    let out = env.run(&["auth", "token", "-o", "jsonl"]);
    assert_eq!(
        out.success(),
        "{\"profile\":\"me@example.com\",\"user\":\"me@example.com\",\"auth_type\":\"oauth\",\
         \"token\":\"access-abc\",\"header\":\"Bearer access-abc\"}\n"
    );
    assert_eq!(env.read_auth(), FIXTURE, "a valid token needs no refresh");
}

#[test]
fn token_not_logged_in() {
    let out = Env::new().run(&["auth", "token"]);
    out.failure(1, &["not logged in"]);
    for fixture in [NONE_ACTIVE, LEGACY_NONE_ACTIVE] {
        let out = Env::with_auth(fixture).run(&["auth", "token"]);
        out.failure(1, &["not logged in"]);
    }
}

fn credential(env: &Env, server: &Server) -> Value {
    let profile = env.profile(LABEL);
    assert_eq!(profile["remote_url"], server.url());
    profile["oauth_credential"].clone()
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
