//! A hostile or broken server (SPEC §4, §5, §8 and the "Hardening" issue): terminal
//! escapes in everything the server sends, secrets echoed back in error bodies, bodies of
//! the wrong shape or size, and servers that are not there (servers that hang or drip are
//! given up on at the request timeout: `src/net/client.rs` tests that, with short timeouts, and
//! pins the program's 10 s / 30 s). Every failure
//! must be one clean `error:` line with the documented exit code, and no secret may ever
//! reach stdout or stderr (except `token`'s stdout, which prints the secret by design).

use crate::common;
use crate::routes;
use crate::server;

#[cfg(unix)]
use std::io::Read;
#[cfg(unix)]
use std::process::Command;
#[cfg(unix)]
use std::thread;
use std::time::{Duration, Instant};

use common::{Env, Outcome};
use routes::{AUTHORIZE, LOGOUT, ME, ME_BODY, TOKEN, queue_server, web_login};
use serde_json::{Value, json};
use server::{Reply, Server};

const KEY: &str = "sk-hostile-key-0123456789";

const DEVICE_CODE: &str = "dc-secret-device-code-5151";

const ACCESS: &str = "at-secret-access-token-7777";

const REFRESH: &str = "rt-secret-refresh-token-8888";

const NEW_ACCESS: &str = "at-secret-new-access-9999";

const NEW_REFRESH: &str = "rt-secret-new-refresh-6666";

/// `login --with-api-key --insecure-storage --label k <extra>` with [`KEY`] on stdin.
fn login_key(env: &Env, url: &str, extra: &[&str]) -> Outcome {
    let mut args = common::api_key_login_args("k").to_vec();
    args.extend_from_slice(extra);
    common::run_with_stdin(&mut env.cmd_at(url, &args), &format!("{KEY}\n"))
}

/// The control characters of `s` other than `\n`.
fn controls(s: &str) -> Vec<char> {
    s.chars().filter(|c| c.is_control() && *c != '\n').collect()
}

/// Asserts neither stdout nor stderr has a control character other than `\n`.
#[track_caller]
fn assert_clean(out: &Outcome) {
    assert_eq!(
        controls(&out.stdout),
        [],
        "control chars on stdout: {out:#?}"
    );
    assert_eq!(
        controls(&out.stderr),
        [],
        "control chars on stderr: {out:#?}"
    );
}

/// Asserts a failure: exit `code`, nothing on stdout, and stderr exactly one line
/// `error: …` containing every one of `needles`, free of control characters.
#[track_caller]
fn assert_one_line_error(out: &Outcome, code: i32, needles: &[&str]) {
    out.failure(code, needles);
    assert_eq!(out.stderr.lines().count(), 1, "not one line: {out:#?}");
    assert!(out.stderr.ends_with('\n'), "{out:#?}");
    assert_clean(out);
}

/// A store holding one plain-text OAuth account `me@example.com` for `remote`, active,
/// with the given token pair and expiry.
fn oauth_store(remote: &str, access: &str, refresh: &str, expiry: &str) -> String {
    let profiles = json!({ "me@example.com": {
        "auth_type": "oauth",
        "oauth_credential": {
            "access_token": access,
            "refresh_token": refresh,
            "expiry": expiry,
        }
    }});
    common::store_of(remote, Some("me@example.com"), profiles).to_string()
}

/// [`routes::device_server`] with the authorize answer as JSON.
fn device_server(
    authorize: Value,
    poll: impl Fn(usize) -> Reply + Send + Sync + 'static,
    me: &str,
) -> Server {
    routes::device_server(&authorize.to_string(), me, poll)
}

/// A device authorization for [`DEVICE_CODE`] with the given user code and verification
/// URI, no complete URI, a lifetime of 60 s and interval 1 s.
fn authorize_with(user_code: &str, verification_uri: &str) -> Value {
    json!({
        "device_code": DEVICE_CODE,
        "user_code": user_code,
        "verification_uri": verification_uri,
        "expires_in": 60,
        "interval": 1,
    })
}

/// A plain device authorization with interval 1 s.
fn authorize_body() -> Value {
    let mut body = authorize_with("WDJB-MJHT", "https://app.example.test/device");
    body["verification_uri_complete"] =
        "https://app.example.test/device?user_code=WDJB-MJHT".into();
    body
}

fn token_ok() -> Reply {
    Reply::json(
        200,
        &json!({
            "access_token": ACCESS,
            "refresh_token": REFRESH,
            "expires_in": 3600,
            "token_type": "Bearer",
        })
        .to_string(),
    )
}

/// A poll answer: `authorization_pending` for the first poll, then [`token_ok`].
fn pending_then_ok(n: usize) -> Reply {
    match n {
        0 => Reply::json(400, r#"{"error":"authorization_pending"}"#),
        _ => token_ok(),
    }
}

// ---------------------------------------------------------------------------------------
// 1. Terminal-escape injection
// ---------------------------------------------------------------------------------------

/// A who-am-I answer whose every text field carries an escape sequence, BEL, C1 CSI and
/// DEL.
const EVIL_EMAIL: &str = "ev\u{1b}[31mil\u{7}@ex\u{9b}2Jample\u{7f}.com";

const EVIL_NAME: &str = "Mal\u{1b}]0;pwned\u{7}lory";

const EVIL_WORKSPACE: &str = "Ac\u{1b}[2J\u{1b}[Hme\u{9b}\u{7f}\r";

fn evil_me() -> String {
    json!({
        "user_id": "u-\u{1b}[1m9",
        "email": EVIL_EMAIL,
        "name": EVIL_NAME,
        "workspace_name": EVIL_WORKSPACE,
    })
    .to_string()
}

#[test]
fn escapes_in_who_am_i_are_stripped_from_text_output() {
    let env = Env::new();
    let server = queue_server(&[("GET", ME, Reply::json(200, &evil_me()))]);
    let out = login_key(&env, &server.url(), &[]);
    out.assert_code(0);
    assert_clean(&out);
    assert_eq!(
        out.stdout, "Logged in as ev[31mil@ex2Jample.com (Ac[2J[Hme) as profile k\n",
        "{out:#?}"
    );
    assert_eq!(out.stderr, "", "{out:#?}");
}

#[test]
fn escapes_in_who_am_i_are_escaped_in_json_output() {
    let env = Env::new();
    let server = queue_server(&[("GET", ME, Reply::json(200, &evil_me()))]);
    for format in ["json", "jsonl"] {
        let out = login_key(&env, &server.url(), &["-o", format]);
        out.assert_code(0);
        assert_clean(&out);
        for escape in [r"\u001b", r"\u0007", r"\u009b", r"\u007f"] {
            assert!(out.stdout.contains(escape), "no {escape} in {out:#?}");
        }
        // Escaped, not dropped: the values survive a round trip.
        let v = out.json();
        assert_eq!(v["email"], EVIL_EMAIL, "{out:#?}");
        assert_eq!(v["name"], EVIL_NAME, "{out:#?}");
        assert_eq!(v["workspace_name"], EVIL_WORKSPACE, "{out:#?}");
    }
}

#[test]
fn escapes_in_the_device_authorization_never_reach_stderr() {
    let env = Env::new();
    let mut authorize = authorize_with(
        "AB\u{1b}]0;pwned\u{7}CD\u{9b}1m\u{7f}",
        "https://app.example.test/\u{1b}[8mdevice\u{9b}0m",
    );
    authorize["verification_uri_complete"] =
        "https://app.example.test/d?c=\u{1b}]8;;https://evil\u{7}x".into();
    let server = device_server(authorize.clone(), pending_then_ok, ME_BODY);
    let out = web_login(&env, &server, "true", &["-v"]);
    out.assert_code(0);
    assert_clean(&out);
    assert!(out.stderr.contains("AB]0;pwnedCD1m"), "{out:#?}");
    assert!(
        out.stderr.contains("https://app.example.test/[8mdevice0m"),
        "{out:#?}"
    );
    let labels = env.profile_names(&server.url());
    assert_eq!(labels.len(), 1, "{labels:?}");
    assert_eq!(controls(&labels[0]), [], "label {:?}", labels[0]);

    // The email names the account, so one with escapes in it is refused (SPEC §9: it
    // passes the rules of `--label`): exit 1, a clean error line, nothing stored.
    let env = Env::new();
    let server = device_server(authorize, pending_then_ok, &evil_me());
    let out = web_login(&env, &server, "true", &[]);
    out.assert_code(1);
    assert_clean(&out);
    assert!(out.stdout.is_empty(), "{out:#?}");
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: ") && last.contains("email"),
        "{out:#?}"
    );
    assert!(!env.auth_path().exists(), "{out:#?}");
}

#[cfg(unix)]
#[test]
fn a_verification_uri_complete_with_escapes_is_never_handed_to_a_browser() {
    let env = Env::new();
    let (browser, marker) = env.browser_script();

    // A complete URL carrying an OSC 8 hyperlink escape is not a plain URL: the browser
    // gets the plain verification URI instead. The first poll waits for the browser to
    // have been started, so the check cannot race it.
    let mut authorize = authorize_body();
    authorize["verification_uri_complete"] =
        "https://app.example.test/d\u{1b}]8;;https://evil.test\u{7}?c=1".into();
    let seen = marker.clone();
    let poll = move |n: usize| {
        if n == 0 {
            common::wait_until(Duration::from_secs(20), || seen.exists());
        }
        pending_then_ok(n)
    };
    let server = device_server(authorize.clone(), poll, ME_BODY);
    let out = web_login(&env, &server, &browser, &[]);
    out.assert_code(0);
    assert_clean(&out);
    let opened = std::fs::read_to_string(&marker).expect("the browser was started");
    assert_eq!(
        opened, authorize["verification_uri"],
        "the browser was given {opened:?}"
    );
}

#[test]
fn escapes_in_error_bodies_never_reach_stderr() {
    let cases: &[(Reply, i32, &str)] = &[
        (
            Reply::json(500, r#"{"error":"x\u001b]0;pwned\u0007"}"#),
            6,
            "x]0;pwned",
        ),
        (
            Reply::json(
                422,
                r#"{"error":"bad\u009b2J","error_description":"de\u001b[8msc\u007f"}"#,
            ),
            5,
            "bad2J: de[8msc",
        ),
        (
            Reply::json(404, r#"{"detail":{"why":"no\u001b[5mpe"}}"#),
            4,
            "no\\u001b[5mpe",
        ),
        (
            Reply::text(
                502,
                "text/html",
                "<html>\u{1b}[2J<h1>Bad\u{7} Gateway</h1>\u{9b}31m\r\n</html>",
            ),
            6,
            "<html>[2J<h1>Bad Gateway</h1>31m </html>",
        ),
        (
            Reply::text(200, "text/html", "<p>\u{1b}]0;title\u{7}hello</p>"),
            1,
            "<p>]0;titlehello</p>",
        ),
    ];
    for (reply, code, shown) in cases {
        let env = Env::new();
        let server = queue_server(&[("GET", ME, reply.clone())]);
        let out = login_key(&env, &server.url(), &[]);
        assert_one_line_error(&out, *code, &[shown]);
        assert!(
            !env.auth_path().exists(),
            "stored after a failure: {out:#?}"
        );
    }
}

#[test]
fn a_long_error_body_is_shown_only_as_a_short_excerpt() {
    let env = Env::new();
    let body = format!("<html>{}</html>", "oops ".repeat(20_000));
    let server = queue_server(&[("GET", ME, Reply::text(500, "text/html", &body))]);
    let out = login_key(&env, &server.url(), &[]);
    assert_one_line_error(&out, 6, &["500", "oops"]);
    assert!(out.stderr.len() < 600, "excerpt too long: {out:#?}");
}

/// A 100,000-character value a server might send.
fn flood() -> String {
    "Z".repeat(100_000)
}

/// Asserts every stderr line is at most a short excerpt long: the 200 characters SPEC §9
/// allows the server's text, plus the program's own words around it.
#[track_caller]
fn assert_excerpts_only(out: &Outcome) {
    for line in out.stderr.lines() {
        assert!(
            line.chars().count() <= 200 + 120,
            "a {}-character line: {:?}…",
            line.chars().count(),
            line.chars().take(300).collect::<String>()
        );
    }
}

#[test]
fn long_server_values_in_messages_are_cut_to_a_marked_excerpt() {
    // serde quotes a string of the wrong type in its error.
    let env = Env::new();
    let mut authorize = authorize_body();
    authorize["expires_in"] = flood().into();
    let server = device_server(authorize, pending_then_ok, ME_BODY);
    let out = web_login(&env, &server, "true", &[]);
    assert_one_line_error(
        &out,
        1,
        &["unexpected JSON (invalid type: string \"ZZZ", "ZZZ…)"],
    );
    assert_excerpts_only(&out);

    // An RFC 8628 error description.
    let env = Env::new();
    let server = device_server(
        authorize_body(),
        |_| {
            Reply::json(
                400,
                &json!({"error": "invalid_client", "error_description": flood()}).to_string(),
            )
        },
        ME_BODY,
    );
    let out = web_login(&env, &server, "true", &[]);
    assert_eq!(out.code, 5, "{out:#?}");
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: ") && last.contains("invalid_client: ZZZ"),
        "{out:#?}"
    );
    assert!(last.ends_with(&format!("{}…", "Z".repeat(50))), "{out:#?}");
    assert_excerpts_only(&out);

    // The user code and URLs of a device authorization.
    let env = Env::new();
    let mut authorize = authorize_with(&flood(), &format!("https://app.example.test/{}", flood()));
    authorize["verification_uri_complete"] =
        format!("https://app.example.test/?c={}", flood()).into();
    let server = device_server(authorize, pending_then_ok, ME_BODY);
    let out = web_login(&env, &server, "true", &[]);
    out.assert_code(0);
    assert!(
        out.stderr.contains(&format!("code: {}…", "Z".repeat(200))),
        "{:?}",
        out.stderr.chars().take(300).collect::<String>()
    );
    assert_excerpts_only(&out);
}

#[test]
fn escapes_in_an_rfc8628_error_description_never_reach_stderr() {
    let env = Env::new();
    let server = device_server(
        authorize_body(),
        |_| {
            Reply::json(
                400,
                r#"{"error":"invalid_\u001b[31mclient","error_description":"go\u001b]0;pwned\u0007 away\u009b\u007f"}"#,
            )
        },
        ME_BODY,
    );
    let out = web_login(&env, &server, "true", &[]);
    assert_eq!(out.code, 5, "{out:#?}");
    assert_eq!(out.stdout, "", "{out:#?}");
    assert_clean(&out);
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: "), "{out:#?}");
    assert!(last.contains("invalid_[31mclient"), "{out:#?}");
    assert!(last.contains("go]0;pwned away"), "{out:#?}");
    assert!(!env.auth_path().exists());
}

// ---------------------------------------------------------------------------------------
// 2. Secrets never printed
// ---------------------------------------------------------------------------------------

#[test]
fn api_key_login_never_prints_the_key_on_success_or_when_echoed_back() {
    let echo = format!(r#"{{"error":"invalid api key {KEY}","detail":"Api-Key {KEY}"}}"#);
    let cases: &[(Reply, i32)] = &[
        (Reply::json(200, ME_BODY), 0),
        (Reply::json(401, &echo), 3),
        (Reply::json(403, &echo), 3),
        (Reply::json(500, &echo), 6),
        (Reply::json(422, &echo), 5),
        (Reply::text(200, "text/html", &format!("<p>{KEY}</p>")), 1),
        // The key with a control character spliced in must not come out joined.
        (
            Reply::json(
                500,
                &json!({ "error": format!("{}\u{7}{}", &KEY[..6], &KEY[6..]) }).to_string(),
            ),
            6,
        ),
    ];
    for (reply, code) in cases {
        for verbose in [&[][..], &["-v"][..]] {
            let env = Env::new();
            let server = queue_server(&[("GET", ME, reply.clone())]);
            let out = login_key(&env, &server.url(), verbose);
            out.assert_code(*code);
            out.assert_no_secrets(&[KEY]);
            if *code == 0 {
                assert_eq!(
                    out.stdout,
                    "Logged in as me@example.com (Acme) as profile k\n"
                );
            } else {
                assert!(!env.auth_path().exists(), "stored after failure: {out:#?}");
            }
        }
    }
}

#[test]
fn device_login_with_verbose_never_prints_the_device_code_or_tokens() {
    let env = Env::new();
    let server = device_server(
        authorize_body(),
        |n| match n {
            0 => Reply::json(
                400,
                &json!({"error": "authorization_pending",
                        "error_description": format!("still waiting on {DEVICE_CODE}")})
                .to_string(),
            ),
            _ => token_ok(),
        },
        ME_BODY,
    );
    for format in ["text", "json"] {
        let out = web_login(&env, &server, "true", &["-v", "-o", format]);
        out.assert_code(0);
        assert!(
            out.stderr.contains("WDJB-MJHT"),
            "user code shown: {out:#?}"
        );
        out.assert_no_secrets(&[DEVICE_CODE, ACCESS, REFRESH]);
    }
}

#[test]
fn a_poll_error_echoing_the_device_code_does_not_print_it() {
    let env = Env::new();
    let body = json!({
        "error": "invalid_client",
        "error_description": format!("unknown device_code {DEVICE_CODE}"),
    })
    .to_string();
    let server = device_server(authorize_body(), move |_| Reply::json(401, &body), ME_BODY);
    let out = web_login(&env, &server, "true", &["-v"]);
    out.assert_code(3);
    assert!(
        out.stderr
            .lines()
            .last()
            .unwrap_or("")
            .starts_with("error: "),
        "{out:#?}"
    );
    out.assert_no_secrets(&[DEVICE_CODE]);
    assert!(!env.auth_path().exists());
}

#[test]
fn token_refresh_with_verbose_prints_only_the_new_access_token_on_stdout() {
    let env = Env::new();
    let server = queue_server(&[(
        "POST",
        TOKEN,
        Reply::json(
            200,
            &json!({"access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH,
                    "expires_in": 3600, "token_type": "Bearer"})
            .to_string(),
        ),
    )]);
    let url = server.url();
    env.write_auth(&oauth_store(&url, ACCESS, REFRESH, "2001-01-01T00:00:00Z"));
    let out = common::run(&mut env.cmd_at(&url, &["auth", "token", "-v"]));
    out.assert_code(0);
    assert_eq!(out.stdout, format!("{NEW_ACCESS}\n"));
    assert!(
        out.stderr.lines().all(|l| l.starts_with("debug: ")),
        "{out:#?}"
    );
    for s in [ACCESS, REFRESH, NEW_ACCESS, NEW_REFRESH] {
        assert!(!out.stderr.contains(s), "{s:?} on stderr: {out:#?}");
    }
    assert!(!out.stdout.contains(REFRESH) && !out.stdout.contains(NEW_REFRESH));
}

#[test]
fn a_refused_refresh_echoing_the_refresh_token_does_not_print_it() {
    let env = Env::new();
    let body = json!({"error": "invalid_grant",
                      "error_description": format!("refresh token {REFRESH} was revoked")})
    .to_string();
    let server = queue_server(&[("POST", TOKEN, Reply::json(400, &body))]);
    let url = server.url();
    env.write_auth(&oauth_store(&url, ACCESS, REFRESH, "2001-01-01T00:00:00Z"));
    let before = env.read_auth_bytes();
    let out = common::run(&mut env.cmd_at(&url, &["auth", "token", "-v"]));
    out.assert_code(3);
    assert_eq!(out.stdout, "");
    out.assert_no_secrets(&[ACCESS, REFRESH]);
    assert_eq!(env.read_auth_bytes(), before);
}

#[test]
fn logout_with_a_failing_revoke_echoing_the_bearer_token_does_not_print_it() {
    let env = Env::new();
    let echo = json!({"error": format!("token Bearer {ACCESS} is not valid"),
                      "detail": format!("refresh {REFRESH}")})
    .to_string();
    let server = queue_server(&[("POST", LOGOUT, Reply::json(500, &echo))]);
    let url = server.url();
    env.write_auth(&oauth_store(&url, ACCESS, REFRESH, "2099-01-01T00:00:00Z"));
    let out = common::run(&mut env.cmd_at(&url, &["auth", "logout", "-v"]));
    out.assert_code(0);
    assert_eq!(out.stdout, "Logged out me@example.com\n");
    assert!(out.stderr.contains("warning: "), "{out:#?}");
    out.assert_no_secrets(&[ACCESS, REFRESH]);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1, "{reqs:#?}");
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {ACCESS}").as_str())
    );
}

// ---------------------------------------------------------------------------------------
// 3. Hostile responses
// ---------------------------------------------------------------------------------------

#[test]
fn hostile_who_am_i_answers_are_one_line_errors_with_the_spec_exit_code() {
    let cases: &[(&str, Reply, i32, &[&str])] = &[
        (
            "html 200",
            Reply::text(
                200,
                "text/html",
                "<!doctype html><html><body>Hi</body></html>",
            ),
            1,
            &["not JSON"],
        ),
        (
            "json with html type",
            Reply::text(200, "text/html", "<html>"),
            1,
            &[],
        ),
        (
            "email is a number",
            Reply::json(200, r#"{"email": 5}"#),
            1,
            &[],
        ),
        ("array", Reply::json(200, "[]"), 1, &[]),
        ("string", Reply::json(200, r#""str""#), 1, &[]),
        ("null", Reply::json(200, "null"), 1, &[]),
        ("nested", Reply::json(200, r#"{"name":{"a":1}}"#), 1, &[]),
        ("truncated", Reply::json(200, r#"{"email":"a@b"#), 1, &[]),
        ("trailing junk", Reply::json(200, r#"{} {}"#), 1, &[]),
        ("empty body", Reply::json(200, ""), 1, &["empty"]),
        ("whitespace body", Reply::json(200, " \n"), 1, &["empty"]),
        ("401", Reply::json(401, r#"{"error":"nope"}"#), 3, &[]),
        ("403", Reply::json(403, r#"{"error":"nope"}"#), 3, &[]),
        ("404", Reply::json(404, r#"{"error":"nope"}"#), 4, &["404"]),
        ("422", Reply::json(422, r#"{"error":"nope"}"#), 5, &["422"]),
        ("429", Reply::json(429, ""), 5, &["429"]),
        ("500", Reply::json(500, r#"{"error":"boom"}"#), 6, &["500"]),
        (
            "503",
            Reply::text(503, "text/html", "<h1>down</h1>"),
            6,
            &["503"],
        ),
        ("500 empty", Reply::json(500, ""), 6, &["500"]),
        ("closed", Reply::close(), 1, &[]),
    ];
    for (name, reply, code, needles) in cases {
        let env = Env::new();
        let server = queue_server(&[("GET", ME, reply.clone())]);
        let out = login_key(&env, &server.url(), &[]);
        eprintln!("case {name}");
        assert_one_line_error(&out, *code, needles);
        assert_eq!(server.requests().len(), 1, "{name}: requests");
        assert!(!env.auth_path().exists(), "{name}: stored: {out:#?}");
    }
}

#[test]
fn a_redirect_is_not_followed_and_the_key_goes_nowhere_else() {
    let elsewhere = queue_server(&[("GET", ME, Reply::json(200, ME_BODY))]);
    let env = Env::new();
    let target = format!("{}{ME}", elsewhere.url());
    let server = queue_server(&[(
        "GET",
        ME,
        Reply::json(302, "{}").with_header("Location", &target),
    )]);
    let out = login_key(&env, &server.url(), &[]);
    assert_one_line_error(&out, 1, &["302"]);
    assert_eq!(elsewhere.requests().len(), 0, "the redirect was followed");
    assert!(!env.auth_path().exists());
}

#[test]
fn hostile_device_flow_answers_are_errors_not_panics() {
    let cases: &[(&str, Reply, Option<Reply>, i32)] = &[
        (
            "authorize html",
            Reply::text(200, "text/html", "<html>"),
            None,
            1,
        ),
        ("authorize empty", Reply::json(200, ""), None, 1),
        (
            "authorize wrong type",
            Reply::json(
                200,
                r#"{"device_code":5,"user_code":"A","verification_uri":"https://x","expires_in":5}"#,
            ),
            None,
            1,
        ),
        (
            "authorize missing fields",
            Reply::json(200, r#"{"device_code":"d"}"#),
            None,
            1,
        ),
        (
            "authorize empty codes",
            Reply::json(
                200,
                r#"{"device_code":"","user_code":"","verification_uri":"","expires_in":5}"#,
            ),
            None,
            1,
        ),
        (
            "negative expires_in",
            Reply::json(
                200,
                r#"{"device_code":"dddd","user_code":"A","verification_uri":"https://x","expires_in":-5}"#,
            ),
            None,
            1,
        ),
        ("authorize 503", Reply::json(503, ""), None, 6),
        ("authorize 404", Reply::json(404, ""), None, 4),
        (
            "token html 200",
            Reply::json(200, &authorize_body().to_string()),
            Some(Reply::text(200, "text/html", "<html>")),
            1,
        ),
        (
            "token wrong type",
            Reply::json(200, &authorize_body().to_string()),
            Some(Reply::json(
                200,
                r#"{"access_token":5,"token_type":"Bearer"}"#,
            )),
            1,
        ),
        (
            "token empty access token",
            Reply::json(200, &authorize_body().to_string()),
            Some(Reply::json(
                200,
                r#"{"access_token":"","token_type":"Bearer"}"#,
            )),
            1,
        ),
    ];
    for (name, authorize, token, code) in cases {
        eprintln!("case {name}");
        let env = Env::new();
        let mut routes = vec![("POST", AUTHORIZE, authorize.clone())];
        if let Some(t) = token {
            routes.push(("POST", TOKEN, t.clone()));
        }
        let server = queue_server(&routes);
        let out = web_login(&env, &server, "true", &[]);
        out.assert_code(*code);
        assert_eq!(out.stdout, "", "{name}: {out:#?}");
        assert_clean(&out);
        let errors: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(errors.len(), 1, "{name}: {out:#?}");
        assert_eq!(
            out.stderr.lines().last(),
            Some(errors[0]),
            "{name}: {out:#?}"
        );
        assert!(!out.stderr.contains("panicked"), "{name}: {out:#?}");
        assert!(!env.auth_path().exists(), "{name}: stored: {out:#?}");
    }
}

/// Runs `cmd` to completion and returns its outcome with the child's peak RSS in KiB,
/// measured by `wait4`.
#[cfg(unix)]
fn run_measured(cmd: &mut Command, stdin: &str) -> (Outcome, i64) {
    let mut child = common::spawn_with_stdin(cmd, stdin.as_bytes());
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        s
    });
    let err_reader = thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data that wait4 fills in; `pid` is our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `status` and `usage` are valid for writes; `pid` is our own child.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let out = Outcome {
        code,
        stdout: String::from_utf8_lossy(&out_reader.join().expect("stdout reader")).into(),
        stderr: String::from_utf8_lossy(&err_reader.join().expect("stderr reader")).into(),
    };
    // The child was reaped by wait4: `child` must not be waited on again.
    drop(child);
    (out, usage.ru_maxrss)
}

#[cfg(unix)]
#[test]
fn a_200_mib_body_stops_at_the_cap_with_small_memory() {
    // Once as the who-am-I answer of a login, once as the answer to a token refresh.
    for (path, args) in [
        (ME, &common::api_key_login_args("k")[..]),
        (TOKEN, &["auth", "token"]),
    ] {
        let env = Env::new();
        let server = queue_server(&[
            ("GET", ME, Reply::huge(200, 200 << 20)),
            ("POST", TOKEN, Reply::huge(200, 200 << 20)),
        ]);
        let url = server.url();
        let store = oauth_store(&url, ACCESS, REFRESH, "2001-01-01T00:00:00Z");
        if path == TOKEN {
            env.write_auth(&store);
        }
        let (out, max_rss_kib) = run_measured(&mut env.cmd_at(&url, args), &format!("{KEY}\n"));
        eprintln!("{path}: peak RSS {max_rss_kib} KiB: {out:?}");
        assert_one_line_error(&out, 1, &["1 MiB"]);
        assert!(
            max_rss_kib < 50 * 1024,
            "peak RSS {max_rss_kib} KiB for a 200 MiB body: {out:#?}"
        );
        assert_eq!(server.requests().len(), 1, "{path}");
        if path == TOKEN {
            assert_eq!(env.read_auth(), store, "the credential changed");
        } else {
            assert!(!env.auth_path().exists());
        }
    }
}

#[test]
fn connection_refused_fails_fast_and_names_the_host_and_port() {
    let env = Env::new();
    let addr = common::closed_port();
    let started = Instant::now();
    let out = login_key(&env, &format!("http://{addr}"), &[]);
    let took = started.elapsed();
    assert_one_line_error(&out, 1, &[&addr]);
    // Far below the 10 s connect timeout: nothing waited for it.
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert!(!env.auth_path().exists());

    // The same for a command that needs the server only to refresh.
    let env = Env::new();
    let url = format!("http://{addr}");
    env.write_auth(&oauth_store(&url, ACCESS, REFRESH, "2001-01-01T00:00:00Z"));
    let before = env.read_auth_bytes();
    let started = Instant::now();
    let out = common::run(&mut env.cmd_at(&url, &["auth", "token"]));
    assert_one_line_error(&out, 1, &[&addr]);
    assert!(started.elapsed() < Duration::from_secs(8));
    assert_eq!(env.read_auth_bytes(), before);
}

#[test]
fn newlines_from_the_server_cannot_forge_stdout_lines() {
    let me = json!({
        "user_id": "u-1",
        "email": "me@example.com\nLogged in as root@example.com",
        "name": "Me",
        "workspace_name": "Acme\r\nerror: forged",
    })
    .to_string();
    let env = Env::new();
    let server = queue_server(&[("GET", ME, Reply::json(200, &me))]);
    let out = login_key(&env, &server.url(), &[]);
    out.assert_code(0);
    assert_eq!(
        out.stdout.lines().count(),
        1,
        "forged stdout line: {out:#?}"
    );
    assert_eq!(out.stderr, "", "{out:#?}");
}

#[test]
fn newlines_from_the_server_cannot_forge_stderr_lines() {
    let env = Env::new();
    let authorize = authorize_with(
        "WDJB\nerror: forged user code",
        "https://app.example.test/device\nwarning: forged uri",
    );
    let server = device_server(
        authorize,
        |_| Reply::json(400, r#"{"error":"access_denied"}"#),
        ME_BODY,
    );
    let out = web_login(&env, &server, "true", &[]);
    out.assert_code(3);
    assert!(
        !out.stderr
            .lines()
            .any(|l| l.contains("forged") && !l.contains("WDJB") && !l.contains("https://")),
        "forged stderr line: {out:#?}"
    );
    assert_eq!(
        out.stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .count(),
        1,
        "{out:#?}"
    );
}
