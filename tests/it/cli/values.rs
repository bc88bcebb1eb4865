//! Hostile input (SPEC §1, §3, §5 and the "Hardening" issue): account labels, API keys
//! and remote URLs a user (or a script fed by someone else) might pass. Each bad value is
//! a usage error (exit 2, `error:` line plus the usage line) raised before any request or
//! file write, that never echoes a password or a key and never prints a control character.

use crate::common;
use crate::routes;
use crate::server;

use std::ffi::OsString;

use common::{Env, FIXTURE, Outcome};
use routes::me_server;
use server::Server;

const KEY: &str = "sk-input-key-1234";

/// `login --with-api-key --insecure-storage --label <label>` with `input` on stdin.
fn login(env: &Env, server: &Server, label: impl Into<OsString>, input: &[u8]) -> Outcome {
    let mut cmd = env.cmd_at(
        &server.url(),
        &["auth", "login", "--with-api-key", "--insecure-storage"],
    );
    cmd.arg("--label").arg(label.into());
    common::run_with_bytes(&mut cmd, input)
}

/// Asserts a usage error: exit 2, empty stdout, exactly an `error:` line and the usage
/// line of `command`, and no control character on stderr.
#[track_caller]
fn assert_usage(out: &Outcome, command: &str, needles: &[&str]) {
    out.failure(2, needles);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "want error + usage line: {out:#?}");
    assert!(
        lines[1].starts_with(&format!("Usage: baseten auth {command}")),
        "no usage line: {out:#?}"
    );
    assert!(
        !out.stderr.chars().any(|c| c.is_control() && c != '\n'),
        "control character on stderr: {out:#?}"
    );
}

/// Labels that must be refused, with a word the message must contain.
fn bad_labels() -> Vec<(String, &'static str)> {
    vec![
        (String::new(), "empty"),
        ("   ".into(), "empty"),
        ("a".repeat(257), "256"),
        ("é".repeat(257), "256"),
        ("ev\u{1b}[31mil".into(), "control"),
        ("ev\u{1b}]0;pwned\u{7}il".into(), "control"),
        ("line\nbreak".into(), "control"),
        ("tab\there".into(), "control"),
        ("nul\u{0}byte".into(), "control"),
        ("csi\u{9b}2J".into(), "control"),
        ("del\u{7f}x".into(), "control"),
        ("nel\u{85}x".into(), "control"),
    ]
    .into_iter()
    .filter(|(l, _)| !l.contains('\0')) // an argv string cannot hold NUL
    .collect()
}

#[test]
fn bad_login_labels_are_usage_errors_without_a_request_or_a_write() {
    let server = me_server();
    let env = Env::new();
    for (label, word) in bad_labels() {
        let out = login(&env, &server, &label, format!("{KEY}\n").as_bytes());
        assert_usage(&out, "login", &["label", word]);
        assert!(!out.stderr.contains(KEY), "{out:#?}");
    }
    assert_eq!(server.requests().len(), 0, "a bad label reached the server");
    assert_eq!(common::list_dir(&env.config_dir()), Vec::<String>::new());
}

#[test]
fn bad_switch_users_are_usage_errors_and_the_store_is_untouched() {
    let env = Env::with_auth(FIXTURE);
    for (label, word) in bad_labels() {
        let out = env.run(&["auth", "switch", "--user", &label]);
        assert_usage(&out, "switch", &[word]);
    }
    assert_eq!(env.read_auth(), FIXTURE);
    assert_eq!(common::list_dir(&env.config_dir()), ["auth.json"]);
}

#[cfg(unix)]
#[test]
fn a_label_that_is_not_utf8_is_a_usage_error() {
    use std::os::unix::ffi::OsStringExt;
    let server = me_server();
    let env = Env::new();
    let label = OsString::from_vec(b"bad\xffname".to_vec());
    let out = login(&env, &server, label.clone(), format!("{KEY}\n").as_bytes());
    assert_usage(&out, "login", &["UTF-8"]);
    let out = common::run(env.cmd(&["auth", "switch"]).arg("--user").arg(&label));
    assert_usage(&out, "switch", &["UTF-8"]);
    assert_eq!(server.requests().len(), 0);
}

#[test]
fn labels_at_the_limit_and_with_ordinary_unicode_are_accepted() {
    let server = me_server();
    let env = Env::new();
    for label in [
        "a".repeat(256),
        "é".repeat(256),
        "my laptop key".into(),
        "ключ 🔑 ci".into(),
    ] {
        let out = login(&env, &server, &label, format!("{KEY}\n").as_bytes());
        out.assert_code(0);
        assert_eq!(env.active(&server.url()).as_deref(), Some(label.as_str()));
        let profile = env.profile(&label);
        assert_eq!(profile["remote_url"], server.url());
        assert_eq!(profile["api_key"], KEY);
        let out = env.run_env(
            &["auth", "switch", "--user", &label],
            "BASETEN_REMOTE_URL",
            &server.url(),
        );
        assert_eq!(out.success(), format!("Switched to {label}\n"));
    }
}

#[test]
fn bad_api_keys_on_stdin_are_usage_errors_without_a_request() {
    let server = me_server();
    let env = Env::new();
    let long = "k".repeat(5000);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"sk-part one-secret\n".to_vec(), "spaces"),
        (b"sk-part\tone-secret\n".to_vec(), "spaces"),
        ("sk-part\u{a0}one-secret\n".into(), "spaces"),
        (b"sk-esc\x1b[31mape-secret\n".to_vec(), "control"),
        (b"sk-bel\x07bel-secret\n".to_vec(), "control"),
        (b"sk-del\x7fdel-secret\n".to_vec(), "control"),
        ("sk-csi\u{9b}2J-secret\n".into(), "control"),
        (b"sk-nul\x00nul-secret\n".to_vec(), "control"),
        (format!("{long}\n").into_bytes(), "4096"),
        (long.clone().into_bytes(), "4096"),
        (b"sk-not\xffutf8-secret\n".to_vec(), "UTF-8"),
        (b"   \n".to_vec(), "empty"),
        (b"\n".to_vec(), "empty"),
        (Vec::new(), "empty"),
    ];
    for (input, word) in &cases {
        let out = login(&env, &server, "ci", input);
        assert_usage(&out, "login", &[word]);
        let text = String::from_utf8_lossy(input);
        let key = text.trim();
        if !key.is_empty() {
            assert!(!out.stderr.contains(key), "key echoed: {out:#?}");
        }
        assert!(!out.stderr.contains("secret"), "key echoed: {out:#?}");
        assert!(!out.stderr.contains(&long[..64]), "key echoed: {out:#?}");
    }
    assert_eq!(server.requests().len(), 0, "a bad key reached the server");
    assert_eq!(common::list_dir(&env.config_dir()), Vec::<String>::new());
}

#[test]
fn a_key_of_exactly_4096_bytes_and_a_crlf_line_are_accepted() {
    let server = me_server();
    let env = Env::new();
    let key = "k".repeat(4096);
    let out = login(&env, &server, "big", format!("{key}\n").as_bytes());
    out.assert_code(0);
    let out = login(&env, &server, "dos", format!("{KEY}\r\n").as_bytes());
    out.assert_code(0);
    let auths: Vec<String> = server
        .requests()
        .iter()
        .filter_map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(auths, [format!("Api-Key {key}"), format!("Api-Key {KEY}")]);
    assert_eq!(env.profile_names(&server.url()), ["big", "dos"]);
    let users = env.auth_json()["profiles"].clone();
    assert_eq!(users["big"]["api_key"], key.as_str());
    assert_eq!(users["dos"]["api_key"], KEY);
}

const PASSWORD_URLS: &[&str] = &[
    "https://user:hunter2@app.baseten.co",
    "https://user:hunter2@app.baseten.co/",
    "https://:hunter2@app.baseten.co",
    "https://hunter2@app.baseten.co",
    "HTTPS://USER:HUNTER2@APP.BASETEN.CO",
    "https://user:hunter2@app.baseten.co:8443/path?q=1#f",
    "http://user:hunter2@127.0.0.1:1",
    "https://user:hunter2@[::1]:443",
];

const COMMANDS: &[&[&str]] = &[
    &["auth", "status", "-v"],
    &["auth", "token"],
    &["auth", "logout"],
    &["auth", "switch", "--user", "ci-bot"],
    &["auth", "login", "--with-api-key", "--label", "x"],
    &["auth", "login", "--web"],
];

/// Asserts a usage error for `args` that never shows the password, in any case.
#[track_caller]
fn assert_no_password(out: &Outcome, args: &[&str]) {
    assert_usage(out, args[1], &[]);
    let all = format!("{}{}", out.stdout, out.stderr).to_lowercase();
    assert!(!all.contains("hunter2"), "password leaked: {out:#?}");
}

#[test]
fn urls_with_credentials_are_usage_errors_that_never_echo_the_password() {
    let server = me_server();
    let env = Env::with_auth(FIXTURE);
    for url in PASSWORD_URLS {
        for args in COMMANDS {
            // As the --remote-url flag.
            let mut cmd = env.cmd(args);
            cmd.args(["--remote-url", url])
                .env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", server.url());
            let out = common::run_with_stdin(&mut cmd, &format!("{KEY}\n"));
            assert_no_password(&out, args);
            assert!(out.stderr.contains("--remote-url"), "{out:#?}");

            // As BASETEN_REMOTE_URL.
            let mut cmd = env.cmd(args);
            cmd.env("BASETEN_REMOTE_URL", url)
                .env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", server.url());
            let out = common::run_with_stdin(&mut cmd, &format!("{KEY}\n"));
            assert_no_password(&out, args);
            assert!(out.stderr.contains("BASETEN_REMOTE_URL"), "{out:#?}");

            // As the management API override.
            let mut cmd = env.cmd(args);
            cmd.env("BASETEN_REMOTE_URL", server.url())
                .env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", url);
            let out = common::run_with_stdin(&mut cmd, &format!("{KEY}\n"));
            assert_no_password(&out, args);
            assert!(
                out.stderr.contains("BASETEN_MANAGEMENT_API_URL_OVERRIDE"),
                "{out:#?}"
            );
        }
    }
    assert_eq!(server.requests().len(), 0, "a request was made");
    assert_eq!(env.read_auth(), FIXTURE);
    assert_eq!(common::list_dir(&env.config_dir()), ["auth.json"]);
}
