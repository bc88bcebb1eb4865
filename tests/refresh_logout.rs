//! Token refresh (`baseten auth token` with an expired access token), server-side
//! revocation at `baseten auth logout`, and many logins racing on one store
//! (SPEC §4, §6, §7).

mod common;
#[path = "common/server.rs"]
mod server;

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use common::{Env, Outcome};
use serde_json::{Value, json};
use server::{Queue, Reply, Request, Server};

const TOKEN: &str = "/v1/users/auth/device/token";
const LOGOUT: &str = "/v1/users/auth/logout";
const ME: &str = "/v1/users/me";
const LABEL: &str = "me@example.com";
const PAST: &str = "2001-02-03T04:05:06Z";
const FUTURE: &str = "2099-01-02T03:04:05Z";
const REFRESHED: &str = r#"{"access_token":"access-new","refresh_token":"refresh-new","expires_in":3600,"token_type":"Bearer"}"#;

/// A store for `remote` whose active account `me@example.com` is OAuth with
/// `access-old`/`refresh-old` expiring at `expiry`, next to an API-key account.
fn oauth_store(remote: &str, expiry: &str) -> String {
    let value = json!({
        "version": 1,
        "hosts": {
            remote: {
                "active_user": LABEL,
                "users": {
                    LABEL: {
                        "auth_type": "oauth",
                        "oauth_credential": {
                            "access_token": "access-old",
                            "refresh_token": "refresh-old",
                            "expiry": expiry,
                        }
                    },
                    "ci-bot": { "auth_type": "api_key", "api_key": "sk-ci-123" }
                }
            }
        }
    });
    common::pretty(&value)
}

fn pointed(env: &Env, server: &Server, args: &[&str]) -> Command {
    let mut cmd = env.cmd(args);
    cmd.env("BASETEN_REMOTE_URL", server.url())
        .env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", server.url())
        .env("BROWSER", "true");
    cmd
}

fn run(env: &Env, server: &Server, args: &[&str]) -> Outcome {
    common::run(&mut pointed(env, server, args))
}

fn queue_server(routes: &[(&str, &str, Reply)]) -> Server {
    let queue = Queue::new();
    for (method, path, reply) in routes {
        queue.push(method, path, reply.clone());
    }
    Server::start(queue.handler())
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

fn sorted_form(r: &Request) -> Vec<(String, String)> {
    let mut form = r.form();
    form.sort();
    form
}

fn credential(env: &Env, server: &Server) -> Value {
    env.auth_json()["hosts"][server.url()]["users"][LABEL]["oauth_credential"].clone()
}

/// Seconds since the Unix epoch of a `YYYY-MM-DDTHH:MM:SS[.f]Z` timestamp.
fn rfc3339_unix(s: &str) -> i64 {
    let num = |r: std::ops::Range<usize>| -> i64 {
        s.get(r)
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("not RFC 3339 UTC: {s:?}"))
    };
    assert!(
        s.len() >= 20 && s.ends_with('Z') && &s[10..11] == "T",
        "not RFC 3339 UTC: {s:?}"
    );
    let (y, mo, d) = (num(0..4), num(5..7), num(8..10));
    let (h, mi, se) = (num(11..13), num(14..16), num(17..19));
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((mo + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    days * 86_400 + h * 3600 + mi * 60 + se
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// A loopback URL nothing listens on.
fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    url
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
    let auth = env.auth_json();
    assert_eq!(
        auth["hosts"][server.url()]["users"]["ci-bot"]["api_key"],
        "sk-ci-123"
    );
    assert_eq!(auth["hosts"][server.url()]["active_user"], LABEL);

    // The new token is used from now on: no second refresh, old refresh token not reused.
    let out = run(&env, &server, &["auth", "token", "-o", "json"]);
    out.assert_code(0);
    assert_eq!(
        out.json(),
        json!({"user": LABEL, "auth_type": "oauth", "token": "access-new"})
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

    let auth = env.auth_json();
    let host = &auth["hosts"][server.url()];
    assert!(host["users"].get(LABEL).is_none(), "{auth:#}");
    assert!(
        host.get("active_user").is_none_or(Value::is_null),
        "{auth:#}"
    );
    assert_eq!(host["users"]["ci-bot"]["api_key"], "sk-ci-123");
    let out = run(&env, &server, &["auth", "status"]);
    out.assert_code(1);
}

#[test]
fn logout_with_a_failing_revocation_warns_and_still_removes_the_account() {
    let server = queue_server(&[("POST", LOGOUT, Reply::json(500, r#"{"error":"internal"}"#))]);
    let env = Env::with_auth(&oauth_store(&server.url(), FUTURE));
    let out = run(&env, &server, &["auth", "logout"]);
    out.assert_code(0);
    assert_eq!(out.stdout, format!("Logged out {LABEL}\n"));
    assert!(
        out.stderr.lines().any(|l| l.starts_with("warning:")),
        "{out:#?}"
    );
    assert_eq!(server.requests().len(), 1);
    let auth = env.auth_json();
    let host = &auth["hosts"][server.url()];
    assert!(host["users"].get(LABEL).is_none(), "{auth:#}");
    assert!(host.get("active_user").is_none_or(Value::is_null));
}

#[test]
fn logout_with_an_unreachable_server_warns_and_still_removes_the_account() {
    // The remote (the store key) is a live server that must see nothing; the API base
    // is a closed port.
    let server = queue_server(&[]);
    let env = Env::with_auth(&oauth_store(&server.url(), FUTURE));
    let out = common::run(
        pointed(&env, &server, &["auth", "logout"])
            .env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", closed_port_url()),
    );
    out.assert_code(0);
    assert_eq!(out.stdout, format!("Logged out {LABEL}\n"));
    assert!(
        out.stderr.lines().any(|l| l.starts_with("warning:")),
        "{out:#?}"
    );
    assert!(server.requests().is_empty());
    let auth = env.auth_json();
    assert!(auth["hosts"][server.url()]["users"].get(LABEL).is_none());
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
    let auth = env.auth_json();
    assert!(auth["hosts"][server.url()]["users"].get(LABEL).is_none());
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
    assert_eq!(out.json(), json!({"user": "ci-bot"}));
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
    let auth = env.auth_json();
    let host = &auth["hosts"][server.url()];
    assert!(host["users"].get("ci-bot").is_none(), "{auth:#}");
    assert!(host.get("active_user").is_none_or(Value::is_null));
    assert!(!env.read_auth().contains("sk-ci-123"));
    // The OAuth account stays.
    assert_eq!(
        host["users"][LABEL]["oauth_credential"]["access_token"],
        "access-old"
    );
}

#[test]
fn logout_without_an_active_account_fails() {
    let server = queue_server(&[]);
    let env = Env::new();
    let out = run(&env, &server, &["auth", "logout"]);
    out.failure(1, &["no active user", &server.url()]);
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
            let mut child = pointed(
                &env,
                &server,
                &[
                    "auth",
                    "login",
                    "--with-api-key",
                    "--label",
                    &label,
                    "--insecure-storage",
                ],
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn baseten");
            let mut stdin = child.stdin.take().expect("stdin");
            // A child that exits early shows up in its outcome below.
            let _ = stdin.write_all(format!("sk-bot-{i}\n").as_bytes());
            drop(stdin);
            child
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = Outcome::from_output(child.wait_with_output().expect("wait"));
        assert_eq!(out.code, 0, "login bot-{i}: {out:#?}");
        assert_eq!(out.stdout, "Logged in as bot@example.com (W)\n");
    }
    assert_eq!(server.requests().len(), N);
    let auth = env.auth_json();
    let users = auth["hosts"][server.url()]["users"]
        .as_object()
        .expect("users");
    assert_eq!(users.len(), N, "{auth:#}");
    for i in 0..N {
        let entry = &users[&format!("bot-{i}")];
        assert_eq!(entry["auth_type"], "api_key");
        assert_eq!(entry["api_key"], format!("sk-bot-{i}"));
    }
    let active = auth["hosts"][server.url()]["active_user"]
        .as_str()
        .expect("an active user");
    assert!(users.contains_key(active));
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
    out.assert_code(0);
    assert_eq!(out.stdout, format!("Logged out {LABEL}\n"));
    assert!(
        out.stderr.lines().any(|l| l.starts_with("warning:")),
        "{out:#?}"
    );
    // The expired token is not sent for revocation either way.
    for r in server.requests() {
        assert_ne!(r.header("authorization"), Some("Bearer access-old"));
    }
    let auth = env.auth_json();
    let host = &auth["hosts"][server.url()];
    assert!(host["users"].get(LABEL).is_none(), "{auth:#}");
    assert!(host.get("active_user").is_none_or(Value::is_null));
}
