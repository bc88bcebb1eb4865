//! Hostile local state (SPEC §7, §8 and the "Hardening" issue): a corrupt, mistyped,
//! non-UTF-8 or non-file `auth.json`, a config directory that cannot be written or is not
//! a directory, no `HOME`, and a store others can read. Every command that reads the store
//! must fail with one clear `error:` line naming the path (exit 1) and leave the file
//! byte-identical; reading commands keep working where nothing has to be written.
#![cfg(unix)]

use crate::common;
use crate::routes;
use crate::server;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{DEFAULT_REMOTE, Env, FIXTURE, NOBODY, Outcome, chown, is_root};
use routes::{LOGOUT, ME, ME_BODY, api_at, queue_server};
use serde_json::json;
use server::{Reply, Server};

const KEY: &str = "sk-local-key-4242";

/// The commands that read the store, as argument lists (login gets a key on stdin).
const READERS: &[&[&str]] = &[
    &["auth", "status"],
    &["auth", "token"],
    &["auth", "switch", "--user", "ci-bot"],
    &["auth", "logout"],
    &[
        "auth",
        "login",
        "--with-api-key",
        "--insecure-storage",
        "--label",
        "new",
    ],
];

/// A server whose `who am I` accepts any key and whose revocation succeeds.
fn me_server() -> Server {
    queue_server(&[
        ("GET", ME, Reply::json(200, ME_BODY)),
        ("POST", LOGOUT, Reply::json(200, "{}")),
    ])
}

/// Runs `cmd` (with [`KEY`] on stdin) and kills it if it has not finished after `limit`,
/// so a hang fails the test instead of blocking it. Returns the outcome and whether it
/// was killed.
fn run_with_deadline(cmd: &mut Command, limit: Duration) -> (Outcome, bool) {
    let (out, _, killed) =
        common::run_with_deadline(cmd, Some(format!("{KEY}\n").as_bytes()), limit);
    (out, killed)
}

/// Runs `cmd` (with [`KEY`] on stdin); one that hangs is killed after 60 s and fails.
fn run(cmd: &mut Command) -> Outcome {
    let (out, killed) = run_with_deadline(cmd, Duration::from_secs(60));
    assert!(!killed, "hung: {out:#?}");
    out
}

/// Asserts exit 1, nothing on stdout and exactly one `error:` line naming `path`.
#[track_caller]
fn assert_path_error(out: &Outcome, path: &Path) {
    let path = path.display().to_string();
    out.failure(1, &[&path]);
    assert_eq!(out.stderr.lines().count(), 1, "not one line: {out:#?}");
    assert!(!out.stderr.contains("panicked"), "{out:#?}");
}

/// Every reading command against an `auth.json` holding `bytes`: exit 1 naming the path,
/// file byte-identical, nothing but the file (and lock) in the directory.
fn assert_rejected_untouched(bytes: &[u8]) {
    let server = me_server();
    let env = Env::new();
    env.write_auth_bytes(bytes);
    for args in READERS {
        let out = run(&mut api_at(&env, &server, args));
        assert_path_error(&out, &env.auth_path());
        assert_eq!(
            env.read_auth_bytes(),
            bytes,
            "{args:?} changed the file: {out:#?}"
        );
        let names = common::list_dir(&env.config_dir());
        assert!(
            names
                .iter()
                .all(|n| n == "auth.json" || n == "auth.json.lock"),
            "{args:?} left {names:?}"
        );
    }
    // Only `login` ever asks the server anything, and it asks before touching the store.
    assert!(server.requests().len() <= 1, "{:#?}", server.requests());
}

#[test]
fn corrupt_json_is_an_error_naming_the_path_and_the_file_is_untouched() {
    for bytes in [
        &b"{\"version\":1,\"hosts\":"[..],
        b"{not json",
        b"\x00\x01\x02",
        b"",
        b"{} trailing",
    ] {
        assert_rejected_untouched(bytes);
    }
}

#[test]
fn invalid_utf8_is_an_error_naming_the_path_and_the_file_is_untouched() {
    for bytes in [
        &b"\xff\xfe\x00garbage\x80"[..],
        b"{\"version\":1,\"hosts\":{\"\xc3\x28\":{}}}",
        b"{\"version\":1,\"profiles\":{\"\xc3\x28\":{}}}",
    ] {
        assert_rejected_untouched(bytes);
    }
}

#[test]
fn wrong_types_are_errors_naming_the_path_and_the_file_is_untouched() {
    let bad_entry = |entry: serde_json::Value| {
        json!({"version": 1, "current": "ci-bot", "profiles": {"ci-bot": entry}}).to_string()
    };
    let api_key = |extra: serde_json::Value| {
        let mut entry = json!({"remote_url": DEFAULT_REMOTE, "auth_type": "api_key"});
        for (k, v) in extra.as_object().unwrap() {
            entry[k] = v.clone();
        }
        bad_entry(entry)
    };
    let bad_legacy_entry = |entry: serde_json::Value| {
        json!({"version": 1, "hosts": {DEFAULT_REMOTE: {
            "active_user": "ci-bot", "users": {"ci-bot": entry}}}})
        .to_string()
    };
    for text in [
        "[]".to_owned(),
        "null".to_owned(),
        r#""auth""#.to_owned(),
        // The profiles layout.
        r#"{"version":1,"profiles":5}"#.to_owned(),
        r#"{"version":1,"profiles":[]}"#.to_owned(),
        r#"{"version":"1","profiles":[]}"#.to_owned(),
        json!({"version": 1, "current": 7, "profiles": {}}).to_string(),
        json!({"version": 1, "profiles": {}, "active_by_remote": []}).to_string(),
        json!({"version": 1, "profiles": {}, "active_by_remote": {DEFAULT_REMOTE: 7}}).to_string(),
        bad_entry(json!(5)),
        bad_entry(json!({"auth_type": "api_key", "api_key": "sk-x"})),
        bad_entry(json!({"remote_url": 7, "auth_type": "api_key"})),
        api_key(json!({"auth_type": "bogus"})),
        api_key(json!({"api_key": 12345})),
        api_key(json!({"auth_type": "oauth",
                       "oauth_credential": {"access_token": "a", "expiry": "tomorrow"}})),
        api_key(json!({"auth_type": "oauth", "oauth_credential": "token"})),
        // The legacy `hosts` layout.
        r#"{"version":1,"hosts":{"x":5}}"#.to_owned(),
        r#"{"hosts":[]}"#.to_owned(),
        json!({"version": 1, "hosts": {DEFAULT_REMOTE: {"users": []}}}).to_string(),
        json!({"version": 1, "hosts": {DEFAULT_REMOTE: {"active_user": 7, "users": {}}}})
            .to_string(),
        bad_legacy_entry(json!({"auth_type": "bogus"})),
        bad_legacy_entry(json!({"auth_type": "api_key", "api_key": 12345})),
        bad_legacy_entry(json!(5)),
        bad_legacy_entry(json!({"auth_type": "oauth",
                         "oauth_credential": {"access_token": "a", "expiry": "tomorrow"}})),
    ] {
        assert_rejected_untouched(text.as_bytes());
    }
}

#[test]
fn an_auth_json_that_is_a_directory_is_an_error_naming_the_path() {
    let server = me_server();
    let env = Env::new();
    fs::create_dir(env.auth_path()).expect("mkdir auth.json");
    fs::write(env.auth_path().join("inside"), "x").expect("write inside");
    for args in READERS {
        let out = run(&mut api_at(&env, &server, args));
        assert_path_error(&out, &env.auth_path());
        assert!(env.auth_path().is_dir(), "{args:?} replaced the directory");
        assert_eq!(common::list_dir(&env.auth_path()), ["inside"]);
    }
}

#[test]
fn an_auth_json_that_is_a_fifo_does_not_hang() {
    let server = me_server();
    let env = Env::new();
    let path = std::ffi::CString::new(env.auth_path().display().to_string()).expect("path");
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0, "mkfifo");
    for args in READERS {
        let (out, hung) =
            run_with_deadline(&mut api_at(&env, &server, args), Duration::from_secs(60));
        assert!(!hung, "{args:?} hung: {out:#?}");
        assert_path_error(&out, &env.auth_path());
    }
}

#[test]
fn a_config_dir_that_is_a_regular_file_is_an_error_naming_the_path() {
    let server = me_server();
    let env = Env::new();
    let file = env.root().join("not-a-dir");
    fs::write(&file, "precious").expect("write file");
    for args in READERS {
        let out = run(api_at(&env, &server, args).env("BASETEN_CONFIG_DIR", &file));
        assert_path_error(&out, &file);
        assert_eq!(fs::read(&file).expect("read"), b"precious", "{args:?}");
    }
}

#[test]
fn a_lock_file_that_is_a_directory_fails_writers_but_not_readers() {
    let server = me_server();
    let env = Env::with_auth(FIXTURE);
    fs::create_dir(env.lock_path()).expect("mkdir lock");
    for args in &READERS[2..] {
        let out = run(&mut api_at(&env, &server, args));
        assert_path_error(&out, &env.lock_path());
        assert_eq!(env.read_auth(), FIXTURE, "{args:?}");
    }
    let out = run(&mut api_at(&env, &server, &["auth", "token"]));
    assert_eq!(out.success(), "access-abc\n");
}

/// Makes the config dir unwritable for the child. As a normal user the directory is
/// simply made `0500`; as root (where that stops nothing) the child must run as `nobody`
/// (see [`as_child_user`]), with the directory and its files owned by `nobody` and the
/// directory `0500`. Returns whether the child must drop to `nobody`.
fn read_only(env: &Env) -> bool {
    let root = is_root();
    if root {
        fs::set_permissions(env.root(), fs::Permissions::from_mode(0o755)).expect("chmod root");
        for entry in fs::read_dir(env.config_dir()).expect("read config dir") {
            chown(&entry.expect("entry").path());
        }
        chown(&env.config_dir());
        let probe = Command::new(common::BIN)
            .arg("--version")
            .uid(NOBODY)
            .gid(NOBODY)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        assert!(
            matches!(probe, Ok(s) if s.success()),
            "running as root and cannot start the binary as uid 65534: {probe:?}"
        );
    }
    common::set_mode(&env.config_dir(), 0o500);
    root
}

/// Runs the child as `nobody` when `drop` (see [`read_only`]).
fn as_child_user(cmd: &mut Command, drop: bool) -> &mut Command {
    if drop {
        cmd.uid(NOBODY).gid(NOBODY);
    }
    cmd
}

#[test]
fn a_read_only_config_dir_still_allows_status_and_token() {
    let server = me_server();
    let env = Env::with_auth(FIXTURE);
    let drop = read_only(&env);
    let out = run(as_child_user(
        &mut api_at(&env, &server, &["auth", "status"]),
        drop,
    ));
    let stdout = out.success();
    assert!(
        stdout.starts_with(&format!(
            "{DEFAULT_REMOTE}\n  Logged in as me@example.com\n  Auth type: oauth\n"
        )),
        "{out:#?}"
    );
    let out = run(as_child_user(
        &mut api_at(&env, &server, &["auth", "token"]),
        drop,
    ));
    assert_eq!(out.success(), "access-abc\n");
    assert_eq!(env.read_auth(), FIXTURE);
    common::set_mode(&env.config_dir(), 0o700);
}

#[test]
fn an_unwritable_config_dir_is_an_error_naming_it_and_the_file_is_untouched() {
    for lock_exists in [false, true] {
        let server = me_server();
        let env = Env::with_auth(FIXTURE);
        if lock_exists {
            fs::write(env.lock_path(), "").expect("lock file");
            common::set_mode(&env.lock_path(), 0o600);
        }
        let drop = read_only(&env);
        let before = common::list_dir(&env.config_dir());
        for args in &READERS[2..] {
            let out = run(as_child_user(&mut api_at(&env, &server, args), drop));
            assert_path_error(&out, &env.config_dir());
            assert_eq!(env.read_auth(), FIXTURE, "{args:?}");
            assert_eq!(common::list_dir(&env.config_dir()), before, "{args:?}");
        }
        common::set_mode(&env.config_dir(), 0o700);
    }
}

/// Asserts every writer fails naming `dir` and `chmod 700` (SPEC §7: a config directory
/// others could change is refused for writes), that nothing was changed or asked of the
/// server, and that the readers still work.
#[track_caller]
fn assert_writes_refused(env: &Env, server: &Server, dir: &Path) {
    let before = common::list_dir(dir);
    for args in &READERS[2..] {
        let out = run(&mut api_at(env, server, args));
        assert_path_error(&out, dir);
        assert!(out.stderr.contains("chmod 700"), "{args:?}: {out:#?}");
        assert_eq!(env.read_auth(), FIXTURE, "{args:?}");
        assert_eq!(common::list_dir(dir), before, "{args:?}");
    }
    // No revocation at logout for an account that cannot be removed (login may have
    // checked its key: that spends nothing).
    let requests = server.requests();
    assert!(requests.iter().all(|r| r.path != LOGOUT), "{requests:#?}");
    let out = run(&mut api_at(env, server, &["auth", "token"]));
    assert_eq!(out.stdout, "access-abc\n", "{out:#?}");
    out.assert_code(0);
}

#[test]
fn a_config_dir_others_can_write_is_refused_for_writes() {
    for mode in [0o777, 0o770, 0o720, 0o702, 0o1777] {
        let server = me_server();
        let env = Env::with_auth(FIXTURE);
        common::set_mode(&env.config_dir(), mode);
        assert_writes_refused(&env, &server, &env.config_dir());
        common::set_mode(&env.config_dir(), 0o700);
        // Once it is private again, writes work.
        let out = run(&mut api_at(
            &env,
            &server,
            &["auth", "switch", "--user", "ci-bot"],
        ));
        assert_eq!(out.success(), "Switched to ci-bot\n", "{mode:o}");
    }
}

#[test]
fn a_config_dir_owned_by_another_user_is_refused_for_writes() {
    let server = me_server();
    if is_root() {
        let env = Env::with_auth(FIXTURE);
        chown(&env.config_dir());
        assert_writes_refused(&env, &server, &env.config_dir());
        return;
    }
    // Not root, so nothing can be given away: a directory root owns (and that is not
    // writable by others) stands in for one another user owns. It holds no store, so
    // a login is the writer that gets as far as writing.
    let env = Env::new();
    let theirs = Path::new("/");
    let login = common::api_key_login_args("new");
    let mut c = api_at(&env, &server, &login);
    c.env("BASETEN_CONFIG_DIR", theirs);
    let out = common::run_with_stdin(&mut c, &format!("{KEY}\n"));
    assert_path_error(&out, theirs);
    assert!(out.stderr.contains("another user"), "{out:#?}");
    assert!(!theirs.join("auth.json").exists());
}

#[test]
fn baseten_api_key_works_without_config_dir_or_home() {
    let env = Env::new();
    let with_key = |args: &[&str]| {
        let mut c = env.cmd(args);
        c.env_remove("BASETEN_CONFIG_DIR")
            .env_remove("HOME")
            .env("BASETEN_API_KEY", KEY);
        run(&mut c)
    };
    let out = with_key(&["auth", "token"]);
    assert_eq!(out.success(), format!("{KEY}\n"));
    let out = with_key(&["auth", "status"]);
    assert_eq!(
        out.success(),
        format!("{DEFAULT_REMOTE}\n  Logged in with BASETEN_API_KEY\n  Auth type: api_key\n")
    );
    let out = with_key(&["auth", "status", "-o", "json"]);
    let v = out.json();
    assert_eq!(v["source"], "env");
    assert_eq!(v["user"], serde_json::Value::Null);
    assert!(!out.stdout.contains(KEY), "{out:#?}");
}

#[test]
fn no_home_and_no_config_dir_is_a_clear_error_not_a_panic() {
    let server = me_server();
    let env = Env::new();
    for home in [None, Some("")] {
        for xdg in [None, Some(""), Some("relative/xdg")] {
            for args in READERS {
                let mut c = api_at(&env, &server, args);
                c.env_remove("BASETEN_CONFIG_DIR").env_remove("HOME");
                if let Some(h) = home {
                    c.env("HOME", h);
                }
                if let Some(x) = xdg {
                    c.env("XDG_CONFIG_HOME", x);
                }
                let out = run(c.current_dir(env.root()));
                out.failure(1, &[]);
                assert_eq!(out.stderr.lines().count(), 1, "{home:?} {xdg:?}: {out:#?}");
                assert!(
                    out.stderr.contains("HOME") || out.stderr.contains("BASETEN_CONFIG_DIR"),
                    "{home:?} {xdg:?} {args:?}: {out:#?}"
                );
            }
        }
    }
    assert_eq!(server.requests().len(), 0, "login called the server first");
}

#[test]
fn a_readable_store_with_secrets_warns_until_the_next_write_makes_it_0600() {
    for mode in [0o644, 0o640, 0o604] {
        let env = Env::with_auth(FIXTURE);
        common::set_mode(&env.auth_path(), mode);
        let path = env.auth_path().display().to_string();

        let out = env.run(&["auth", "status"]);
        out.assert_code(0);
        assert!(
            out.stdout.contains("Logged in as me@example.com"),
            "{out:#?}"
        );
        let warnings: Vec<&str> = out.stderr.lines().collect();
        assert!(!warnings.is_empty(), "{mode:o}: no warning: {out:#?}");
        for w in &warnings {
            assert!(w.starts_with("warning: ") && w.contains(&path), "{out:#?}");
        }

        let out = env.run(&["auth", "token"]);
        assert_eq!(out.stdout, "access-abc\n");
        assert!(out.stderr.starts_with("warning: "), "{out:#?}");

        let out = env.run(&["auth", "switch", "--user", "ci-bot"]);
        assert_eq!(out.code, 0, "{out:#?}");
        assert_eq!(out.stdout, "Switched to ci-bot\n");
        assert_eq!(common::mode(&env.auth_path()), 0o600, "{mode:o}");

        let out = env.run(&["auth", "status"]);
        out.success();
        let out = env.run(&["auth", "token"]);
        assert_eq!(out.success(), "sk-ci-123\n");
    }
}

#[test]
fn a_readable_store_without_secrets_does_not_warn() {
    let store = common::store_of(
        DEFAULT_REMOTE,
        Some("kr"),
        json!({"kr": {"auth_type": "api_key"}}),
    );
    let env = Env::with_auth(&store.to_string());
    common::set_mode(&env.auth_path(), 0o644);
    let out = env.run(&["auth", "status"]);
    assert_eq!(out.stderr, "", "{out:#?}");
    out.assert_code(0);
}

#[test]
fn the_readable_store_warning_is_printed_once() {
    let env = Env::with_auth(FIXTURE);
    common::set_mode(&env.auth_path(), 0o644);
    for args in [&["auth", "status"][..], &["auth", "token"]] {
        let out = env.run(args);
        out.assert_code(0);
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {out:#?}");
    }
}
