//! The credential store when runs overlap or the machine misbehaves (SPEC §7): a refresh
//! that cannot save spends nothing, a refresh that lost the race keeps the winner's
//! pair, a remote read from the file must pass the rules of a remote, adding an account
//! never takes a remote's active one away, lock files of any mode work, browser logins
//! store names that can be typed and revoke the sessions they do not keep, refresh
//! locks do not pile up, and a corrupt file's error says where it is corrupt. Unix
//! only: the failures are made with file modes, resource limits and signals.

#![cfg(unix)]

use crate::common;
use crate::routes;
use crate::server;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Env, Outcome};
use routes::{AUTHORIZE, LOGOUT, ME, TOKEN, requests_to};
use serde_json::{Value, json};
use server::{Reply, Request, Server};

const NEW_PAIR: &str =
    r#"{"access_token":"at-new","refresh_token":"rt-new","expires_in":3600,"token_type":"Bearer"}"#;
const WAIT: Duration = Duration::from_secs(20);

/// `auth.json` with the one plain-text OAuth account `me` of `remote`, active, whose
/// access token expired long ago.
fn expired_store(remote: &str) -> String {
    let cred = json!({"access_token": "at-old", "refresh_token": "rt-old",
                      "expiry": "2001-01-01T00:00:00Z"});
    common::store_of(
        remote,
        Some("me"),
        json!({"me": {"auth_type": "oauth", "oauth_credential": cred}}),
    )
    .to_string()
}

#[test]
fn a_refresh_that_could_not_be_saved_is_never_sent() {
    let server = routes::queue_server(&[("POST", TOKEN, Reply::json(200, NEW_PAIR))]);
    let env = Env::with_auth(&expired_store(&server.url()));
    let before = env.read_auth();
    // Room for the lock and temp files to be created, not for the new auth.json.
    let mut cmd = env.cmd_at(&server.url(), &["auth", "token"]);
    let out = common::run(common::with_tiny_files(&mut cmd, 64));
    out.failure(1, &["cannot write"]);
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
    assert_eq!(env.read_auth(), before);

    // With the space there, the same refresh goes through.
    let out = common::run(&mut env.cmd_at(&server.url(), &["auth", "token"]));
    assert_eq!(out.success(), "at-new\n");
}

/// A server whose first refresh waits until the test says so (through the returned
/// sender), then answers [`NEW_PAIR`]; device-flow token requests get a login's pair,
/// and `who am I`, authorize and logout answer as usual.
fn held_refresh_server() -> (Server, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (arrived_tx, arrived) = mpsc::channel::<()>();
    let (release, release_rx) = mpsc::channel::<()>();
    let gate = Arc::new(Mutex::new(Some((arrived_tx, release_rx))));
    let server = Server::start(
        move |r: &Request| match (r.method.as_str(), r.path.as_str()) {
            ("POST", TOKEN) if r.form_value("grant_type").as_deref() == Some("refresh_token") => {
                if let Some((arrived, release)) = gate.lock().expect("gate").take() {
                    let _ = arrived.send(());
                    let _ = release.recv();
                }
                Reply::json(200, NEW_PAIR)
            }
            ("POST", TOKEN) => Reply::json(
                200,
                r#"{"access_token":"at-login","refresh_token":"rt-login","expires_in":3600,"token_type":"Bearer"}"#,
            ),
            ("POST", AUTHORIZE) => Reply::json(200, routes::AUTHORIZE_BODY),
            ("GET", ME) => Reply::json(200, routes::ME_BODY),
            ("POST", LOGOUT) => Reply::json(200, "{}"),
            _ => Reply::json(404, r#"{"error":"not_found"}"#),
        },
    );
    (server, arrived, release)
}

#[test]
fn a_login_that_lands_during_a_refresh_wins_and_the_refreshed_session_is_revoked() {
    let (server, arrived, release) = held_refresh_server();
    // The account a browser login on this server makes, its token expired.
    let name = "me@example.com:127.0.0.1";
    let text = expired_store(&server.url()).replace("\"me\"", &format!("{name:?}"));
    let env = Env::with_auth(&text);

    let token = env
        .cmd_at(&server.url(), &["auth", "token"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn token");
    arrived.recv_timeout(WAIT).expect("no refresh request");
    let login = ["auth", "login", "--web", "--insecure-storage"];
    common::run(&mut env.cmd_at(&server.url(), &login)).assert_code(0);
    release.send(()).expect("release the refresh");
    let token = Outcome::from_output(token.wait_with_output().expect("wait for token"));

    // The login's pair is the account's, and what `token` printed.
    assert_eq!(token.success(), "at-login\n");
    let cred = &env.profile(name)["oauth_credential"];
    assert_eq!(cred["access_token"], "at-login", "{cred}");
    assert_eq!(cred["refresh_token"], "rt-login", "{cred}");
    let requests = server.requests();
    let revoked = requests_to(&requests, LOGOUT);
    assert_eq!(revoked.len(), 1, "{requests:#?}");
    assert_eq!(revoked[0].header("authorization"), Some("Bearer at-new"));
}

#[test]
fn refresh_lock_files_do_not_pile_up() {
    let server = routes::queue_server(&[("POST", TOKEN, Reply::json(200, NEW_PAIR))]);
    let env = Env::with_auth(&expired_store(&server.url()));
    // One left by a killed run.
    std::fs::write(
        env.config_dir()
            .join("auth.json.00000000deadbeef.refresh.lock"),
        "",
    )
    .expect("write a stale lock");
    let out = common::run(&mut env.cmd_at(&server.url(), &["auth", "token"]));
    assert_eq!(out.success(), "at-new\n");
    assert_eq!(
        common::list_dir(&env.config_dir()),
        ["auth.json", "auth.json.lock"]
    );
}

/// Accounts whose `remote_url` fails the rules of a remote, each with the rule's words.
const BAD_REMOTES: [(&str, &str); 4] = [
    ("http://evil.example.com", "plain http"),
    ("https://user:pw@evil.example.com", "user name or password"),
    ("https://evil.example.com/path", "path"),
    ("https://evil.example.com?x=1", "query"),
];

#[test]
fn an_account_whose_remote_fails_the_rules_is_refused_and_gets_no_secret() {
    // Any request, to whatever remote, goes to this server (the management API override).
    let server = routes::queue_server(&[("POST", TOKEN, Reply::json(200, NEW_PAIR))]);
    for (url, rule) in BAD_REMOTES {
        let mut file: Value = serde_json::from_str(&expired_store(url)).expect("json");
        file["profiles"]["key"] = json!({"remote_url": url, "auth_type": "api_key",
                                         "api_key": "sk-evil"});
        let env = Env::with_auth(&file.to_string());
        for args in [
            &["auth", "token", "--user", "me"][..],
            &["auth", "token", "--user", "key"],
            &["auth", "status", "--user", "key"],
        ] {
            let mut cmd = env.cmd(args);
            cmd.env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", server.url());
            let out = common::run(&mut cmd);
            let user = args[args.len() - 1];
            out.failure(1, &[&format!("{user:?}"), rule]);
            out.assert_no_secrets(&["sk-evil", "at-old", "rt-old", "pw"]);
        }
    }
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
}

#[test]
fn adding_an_account_keeps_the_only_account_of_its_remote_active() {
    let server = routes::me_server();
    let remote = server.url();
    // `first` is its remote's active account only by being its only one: `current` is an
    // account of another remote, and nothing points at `first`.
    let file = json!({"version": 1, "current": "other", "profiles": {
        "first": {"remote_url": remote, "auth_type": "api_key", "api_key": "sk-first"},
        "other": {"remote_url": "https://app.baseten.co", "auth_type": "api_key",
                  "api_key": "sk-other"}}});
    let env = Env::with_auth(&file.to_string());
    let login = [
        "auth",
        "login",
        "--with-api-key",
        "--label",
        "second",
        "--no-switch",
    ];
    common::run_with_stdin(&mut env.cmd_at(&remote, &login), "sk-second\n").assert_code(0);

    assert_eq!(env.active(&remote).as_deref(), Some("first"));
    let out = common::run(&mut env.cmd_at(&remote, &["auth", "token"]));
    assert_eq!(out.success(), "sk-first\n");
    assert_eq!(env.profile("second")["api_key"], "sk-second");
}

/// `cmd` run with umask `mask`.
fn with_umask(cmd: &mut Command, mask: libc::mode_t) -> &mut Command {
    // SAFETY: umask is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            libc::umask(mask);
            Ok(())
        })
    }
}

/// `cmd` run as a user whose file permissions bind: this one, or when the tests run as
/// root (whom permissions do not bind), `nobody`, made owner of `env`'s files.
fn as_ordinary_user<'a>(env: &Env, cmd: &'a mut Command) -> &'a mut Command {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return cmd;
    }
    const NOBODY: u32 = 65534;
    fn chown_all(path: &std::path::Path) {
        std::os::unix::fs::lchown(path, Some(NOBODY), Some(NOBODY)).expect("chown");
        if path.is_dir() && !path.is_symlink() {
            for entry in std::fs::read_dir(path).expect("read dir") {
                chown_all(&entry.expect("entry").path());
            }
        }
    }
    chown_all(env.root());
    // SAFETY: only async-signal-safe calls (setgid, setuid) between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setgid(NOBODY) != 0 || libc::setuid(NOBODY) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

#[test]
fn the_lock_file_is_0600_whatever_the_umask_and_works_whatever_its_mode() {
    let server = routes::me_server();
    let env = Env::new();
    let login = common::api_key_login_args("ci");
    let mut cmd = env.cmd_at(&server.url(), &login);
    common::run_with_stdin(with_umask(&mut cmd, 0o277), "sk-ci\n").assert_code(0);
    assert_eq!(common::mode(&env.lock_path()), 0o600);

    // A lock file the user made read-only (or an earlier version left so) still works.
    for mode in [0o400, 0o444, 0o200, 0o644] {
        common::set_mode(&env.lock_path(), mode);
        let mut cmd = env.cmd_at(&server.url(), &["auth", "switch", "--user", "ci"]);
        let out = common::run(as_ordinary_user(&env, &mut cmd));
        assert_eq!(out.success(), "Switched to ci\n", "mode {mode:o}");
        assert_eq!(common::mode(&env.lock_path()), mode, "the mode was changed");
    }
    // One that no access mode opens is the user's own: it gets a lock file's mode back.
    common::set_mode(&env.lock_path(), 0o000);
    let mut cmd = env.cmd_at(&server.url(), &["auth", "switch", "--user", "ci"]);
    let out = common::run(as_ordinary_user(&env, &mut cmd));
    assert_eq!(out.success(), "Switched to ci\n");
    assert_eq!(common::mode(&env.lock_path()), 0o600);
}

#[test]
fn a_browser_login_with_a_long_email_stores_a_name_that_can_be_typed() {
    let email = format!("{}@example.com", "a".repeat(250));
    let server = routes::browser_login_server(&email);
    let env = Env::new();
    let login = ["auth", "login", "--web", "--insecure-storage"];
    let out = common::run(&mut env.cmd_at(&server.url(), &login));
    out.assert_code(0);
    let names = env.profile_names(&server.url());
    assert_eq!(names.len(), 1, "{names:?}");
    let name = &names[0];
    assert_eq!(name.chars().count(), 256, "{name}");
    assert!(name.ends_with(":127.0.0.1"), "{name}");
    assert!(out.stderr.contains("too long"), "{out:#?}");
    assert!(out.stderr.contains(name.as_str()), "{out:#?}");

    let status = ["auth", "status", "--user", name, "-o", "json"];
    let out = common::run(&mut env.cmd_at(&server.url(), &status));
    out.assert_code(0);
    assert_eq!(out.json()["user"], name.as_str());
}

#[test]
fn a_browser_login_refused_for_a_name_clash_revokes_its_session() {
    let server = routes::browser_login_server("me@example.com");
    // The name a browser login on this server makes belongs to another remote.
    let file = json!({"version": 1, "profiles": {"me@example.com:127.0.0.1": {
        "remote_url": "https://app.other.example.com", "auth_type": "api_key",
        "api_key": "sk-other"}}});
    let env = Env::with_auth(&file.to_string());
    let before = env.read_auth();
    let login = ["auth", "login", "--web", "--insecure-storage"];
    let out = common::run(&mut env.cmd_at(&server.url(), &login));
    out.assert_code(1);
    let error = out.stderr.lines().last().unwrap_or_default();
    assert!(error.starts_with("error: "), "{out:#?}");
    assert!(error.contains("https://app.other.example.com"), "{out:#?}");
    assert_eq!(env.read_auth(), before);
    let requests = server.requests();
    let revoked = requests_to(&requests, LOGOUT);
    assert_eq!(revoked.len(), 1, "{requests:#?}");
    assert_eq!(revoked[0].header("authorization"), Some("Bearer at-web"));
}

#[test]
fn a_corrupt_file_error_says_where_it_is_corrupt() {
    let env = Env::new();
    // A value of the wrong type, on line 4: named by its place in the file.
    env.write_auth(
        "{\n  \"version\": 1,\n  \"profiles\": {\n    \"ci\": {\"remote_url\": 5, \
         \"auth_type\": \"api_key\"}\n  }\n}\n",
    );
    let out = env.run(&["auth", "status"]);
    let stderr = out.failure(1, &["auth.json", "profiles \"ci\"", "remote_url"]);
    assert!(!stderr.contains("line 1 column"), "{stderr}");

    // A syntax error: its line and column in the file.
    env.write_auth("{\n  \"version\": 1,\n  \"profiles\": {,}\n}\n");
    env.run(&["auth", "status"])
        .failure(1, &["auth.json", "line 3 column 16"]);
}
