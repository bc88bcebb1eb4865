//! The input rules of SPEC §8 and §9 against servers that send odd values: `expires_in`
//! and `interval` with fractions, HTTP 429 while polling (slow down, honouring
//! `Retry-After`), Unicode format characters in what a server sends (stripped from text,
//! escaped in JSON), names with default-ignorable characters, `--label` with surrounding
//! spaces, API keys that are not printable ASCII, and a `BROWSER` with arguments.

use crate::common;
use crate::routes;
use crate::server;

#[cfg(unix)]
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Env, Outcome};
use routes::{TOKEN, requests_to, web_login};
use serde_json::json;
use server::{Reply, Server};

const TOKEN_OK: &str = r#"{"access_token":"access-odd-1","refresh_token":"refresh-odd-1","expires_in":3600.0,"token_type":"Bearer"}"#;

const VERIFY: &str = "https://app.example.test/device";

const COMPLETE: &str = "https://app.example.test/device?user_code=ABCD-EFGH";

fn me_body(workspace: &str) -> String {
    json!({"user_id": "u-8", "email": "odd@example.com", "name": "Odd", "workspace_name": workspace})
        .to_string()
}

/// [`routes::device_server`] with the authorize answer as JSON.
fn device_server(
    authorize: serde_json::Value,
    me: String,
    token: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> Server {
    routes::device_server(&authorize.to_string(), &me, token)
}

fn authorize(expires_in: serde_json::Value, interval: serde_json::Value) -> serde_json::Value {
    json!({
        "device_code": "device-odd-1",
        "user_code": "ABCD-EFGH",
        "verification_uri": VERIFY,
        "verification_uri_complete": COMPLETE,
        "expires_in": expires_in,
        "interval": interval,
    })
}

fn pending() -> Reply {
    Reply::json(400, r#"{"error":"authorization_pending"}"#)
}

#[test]
fn expires_in_and_interval_may_have_a_fraction() {
    for (expires_in, interval) in [(json!(600.0), json!(1.0)), (json!(600.5), json!(1.5))] {
        let env = Env::new();
        let server = device_server(
            authorize(expires_in.clone(), interval),
            me_body("Labs"),
            |n| {
                if n == 0 {
                    pending()
                } else {
                    Reply::json(200, TOKEN_OK)
                }
            },
        );
        let out = web_login(&env, &server, "true", &[]);
        out.assert_code(0);
        assert_eq!(
            out.stdout,
            "Logged in as odd@example.com (Labs) as profile odd@example.com:127.0.0.1\n",
            "{expires_in}: {out:#?}"
        );
        let requests = server.requests();
        assert_eq!(requests_to(&requests, TOKEN).len(), 2);
    }
}

#[test]
fn a_negative_expires_in_is_a_clear_error() {
    let env = Env::new();
    let server = device_server(authorize(json!(-5), json!(1)), me_body("Labs"), |_| {
        pending()
    });
    let out = web_login(&env, &server, "true", &[]);
    out.failure(
        1,
        &[
            "the server sent unexpected JSON",
            "-5 is not a number of seconds",
        ],
    );
    assert_eq!(requests_to(&server.requests(), TOKEN).len(), 0);
}

#[test]
fn http_429_while_polling_slows_down_and_honours_retry_after() {
    let env = Env::new();
    let server = device_server(
        authorize(json!(120), json!(1)),
        me_body("Labs"),
        |n| match n {
            0 => Reply::text(429, "text/plain", "slow down please").with_header("Retry-After", "8"),
            _ => Reply::json(200, TOKEN_OK),
        },
    );
    let out = web_login(&env, &server, "true", &[]);
    out.assert_code(0);
    assert_eq!(
        out.stdout, "Logged in as odd@example.com (Labs) as profile odd@example.com:127.0.0.1\n",
        "{out:#?}"
    );
    let requests = server.requests();
    let polls = requests_to(&requests, TOKEN);
    assert_eq!(polls.len(), 2, "{requests:#?}");
    let gap = polls[1].arrived.duration_since(polls[0].arrived);
    // Retry-After (8 s) is longer than the raised interval (1 + 5 s): it wins.
    assert!(
        gap + Duration::from_millis(50) >= Duration::from_secs(8),
        "{gap:?}"
    );
}

#[test]
fn http_429_without_retry_after_adds_five_seconds() {
    let env = Env::new();
    let server = device_server(
        authorize(json!(120), json!(1)),
        me_body("Labs"),
        |n| match n {
            0 => Reply::json(429, r#"{"error":"too_many_requests"}"#),
            _ => Reply::json(200, TOKEN_OK),
        },
    );
    let out = web_login(&env, &server, "true", &[]);
    out.assert_code(0);
    let requests = server.requests();
    let polls = requests_to(&requests, TOKEN);
    assert_eq!(polls.len(), 2);
    let gap = polls[1].arrived.duration_since(polls[0].arrived);
    assert!(
        gap + Duration::from_millis(50) >= Duration::from_secs(6),
        "{gap:?}"
    );
}

#[test]
fn format_characters_from_a_server_never_reach_the_terminal() {
    const HIDDEN: [char; 8] = [
        '\u{202E}', '\u{2066}', '\u{2069}', '\u{200B}', '\u{200D}', '\u{FEFF}', '\u{AD}',
        '\u{2060}',
    ];
    let env = Env::new();
    let mut auth = authorize(json!(60), json!(1));
    auth["user_code"] = json!("ABCD\u{202E}-\u{200B}EFGH");
    auth["verification_uri"] = json!("https://app.example.test/\u{2066}device\u{2069}");
    let server = device_server(auth, me_body("La\u{FEFF}bs\u{202E}\u{AD}\u{2060}"), |_| {
        Reply::json(200, TOKEN_OK)
    });
    let out = web_login(&env, &server, "true", &[]);
    out.assert_code(0);
    assert_eq!(
        out.stdout,
        "Logged in as odd@example.com (Labs) as profile odd@example.com:127.0.0.1\n"
    );
    assert!(out.stderr.contains("ABCD-EFGH"), "{out:#?}");
    assert!(
        out.stderr.contains("https://app.example.test/device"),
        "{out:#?}"
    );
    for c in HIDDEN {
        assert!(
            !out.stdout.contains(c) && !out.stderr.contains(c),
            "{c:?}: {out:#?}"
        );
    }

    // And in an error from the token endpoint.
    let env = Env::new();
    let server = device_server(authorize(json!(60), json!(1)), me_body("Labs"), |_| {
        Reply::json(
            400,
            r#"{"error":"invalid_request","error_description":"bad\u202e\u2066 thing\u200b"}"#,
        )
    });
    let out = web_login(&env, &server, "true", &[]);
    // A 400 the device flow does not know: rejected by the server (SPEC §8).
    out.assert_code(5);
    let error = out
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    assert_eq!(error, "error: invalid_request: bad thing", "{out:#?}");
}

#[test]
fn format_characters_from_a_server_are_escaped_in_json_output() {
    const HIDDEN: [char; 8] = [
        '\u{202E}', '\u{2066}', '\u{2069}', '\u{200B}', '\u{200F}', '\u{FEFF}', '\u{2064}',
        '\u{9B}',
    ];
    let workspace: String = HIDDEN.iter().map(|c| format!("L{c}")).collect();
    let server = routes::me_server_with(&me_body(&workspace));
    for format in ["json", "jsonl"] {
        let env = Env::new();
        let mut args = common::api_key_login_args("ci").to_vec();
        args.extend(["-o", format]);
        let out = common::run_with_stdin(&mut env.cmd_at(&server.url(), &args), "sk-fmt-1\n");
        out.assert_code(0);
        for c in HIDDEN {
            assert!(!out.stdout.contains(c), "{format}: {c:?} raw: {out:#?}");
            let escape = format!("\\u{:04x}", u32::from(c));
            assert!(
                out.stdout.contains(&escape),
                "{format}: no {escape}: {out:#?}"
            );
        }
        // Lossless: the JSON still holds exactly what the server sent.
        assert_eq!(
            out.json()["workspace_name"],
            workspace.as_str(),
            "{format}: {out:#?}"
        );
    }
}

#[test]
fn names_with_default_ignorable_characters_are_refused() {
    // From a server: the email that names a browser login.
    for email in [
        "odd\u{FE0F}@example.com",
        "\u{3164}odd@example.com",
        "o\u{34F}dd@example.com",
    ] {
        let env = Env::new();
        let me = json!({"user_id": "u-8", "email": email, "name": "Odd"}).to_string();
        let server = device_server(authorize(json!(60), json!(1)), me, |_| {
            Reply::json(200, TOKEN_OK)
        });
        let out = web_login(&env, &server, "true", &[]);
        out.assert_code(1);
        let last = out.stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: ") && last.contains("email"),
            "{email:?}: {out:#?}"
        );
        assert!(!env.auth_path().exists(), "{email:?}: {out:#?}");
    }
    // From the command line: `--label` and `--user`.
    let server = routes::me_server_with(&me_body("Labs"));
    for name in [
        "ci\u{FE0F}",
        "ci\u{3164}",
        "\u{115F}ci",
        "c\u{180B}i",
        "ci\u{FFA0}",
    ] {
        let env = Env::new();
        let out = key_login(&env, &server, name, "sk-ign-1\n");
        out.failure(2, &["default-ignorable"]);
        assert!(!env.auth_path().exists(), "{name:?}: {out:#?}");
        let out = env.run(&["auth", "token", "--user", name]);
        out.failure(2, &["default-ignorable"]);
    }
    assert!(server.requests().is_empty());
}

fn key_login(env: &Env, server: &Server, label: &str, key_line: &str) -> Outcome {
    let mut args = common::api_key_login_args(label).to_vec();
    args.extend(["-o", "json"]);
    common::run_with_stdin(&mut env.cmd_at(&server.url(), &args), key_line)
}

#[test]
fn label_has_surrounding_whitespace_removed() {
    let env = Env::new();
    let server = routes::me_server_with(&me_body("Labs"));
    let out = key_login(&env, &server, " \tci \n", "sk-label-1\n");
    out.assert_code(0);
    assert_eq!(out.json()["user"], "ci", "{out:#?}");
}

#[test]
fn a_label_of_only_spaces_is_empty() {
    let env = Env::new();
    let server = routes::me_server_with(&me_body("Labs"));
    let out = key_login(&env, &server, "   ", "sk-label-2\n");
    out.failure(2, &["empty"]);
    assert!(server.requests().is_empty());
}

#[test]
fn api_keys_must_be_printable_ascii_without_spaces() {
    let server = routes::me_server_with(&me_body("Labs"));
    for key in [
        "sk-caf\u{e9}-9931",
        "sk-in ner-9932",
        "sk-\u{200B}zw-9933",
        "sk-tab\tx-9934",
        "sk-\u{7f}del-9935",
    ] {
        let env = Env::new();
        let out = key_login(&env, &server, "ci", &format!("{key}\n"));
        out.failure(2, &["the API key must be printable ASCII without spaces"]);
        out.assert_no_secrets(&[key]);
        assert!(
            !out.stderr.contains("9931") && !out.stderr.contains("9932"),
            "{out:#?}"
        );
        assert!(!env.auth_path().exists());
    }
    assert!(server.requests().is_empty());
}

/// A browser program in a folder whose name has a space, which writes each argument
/// it got on a line of its own to the returned marker (atomically).
#[cfg(unix)]
fn browser_with_space(env: &Env) -> (PathBuf, PathBuf) {
    let dir = env.root().join("my browser");
    std::fs::create_dir(&dir).expect("mkdir");
    let marker = env.root().join("browser-args");
    let script = dir.join("open.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{m}.tmp' && mv '{m}.tmp' '{m}'\n",
            m = marker.display()
        ),
    )
    .expect("write browser");
    common::set_mode(&script, 0o755);
    (script, marker)
}

#[cfg(unix)]
fn approve_once_opened(marker: &Path) -> Server {
    let marker = marker.to_path_buf();
    device_server(authorize(json!(60), json!(1)), me_body("Labs"), move |_| {
        if marker.exists() {
            Reply::json(200, TOKEN_OK)
        } else {
            pending()
        }
    })
}

#[cfg(unix)]
#[test]
fn browser_with_arguments_gets_the_url_in_place_of_percent_s() {
    let env = Env::new();
    let (script, marker) = browser_with_space(&env);
    let server = approve_once_opened(&marker);
    let browser = format!(
        "'{}' --new-window \"--app=%s\" tail\\ word",
        script.display()
    );
    let out = web_login(&env, &server, &browser, &[]);
    out.assert_code(0);
    assert_eq!(
        std::fs::read_to_string(&marker).expect("the browser ran"),
        format!("--new-window\n--app={COMPLETE}\ntail word\n")
    );
}

#[cfg(unix)]
#[test]
fn browser_with_arguments_and_no_percent_s_gets_the_url_last() {
    let env = Env::new();
    let (script, marker) = browser_with_space(&env);
    let server = approve_once_opened(&marker);
    let browser = format!("\"{}\" -a 'two words'", script.display());
    let out = web_login(&env, &server, &browser, &[]);
    out.assert_code(0);
    assert_eq!(
        std::fs::read_to_string(&marker).expect("the browser ran"),
        format!("-a\ntwo words\n{COMPLETE}\n")
    );
}
