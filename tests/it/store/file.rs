//! `auth.json` itself (SPEC §7): unknown keys and the layout survive a rewrite, file
//! modes, where the file lives, corrupt or unreadable files (the error says where), and
//! an account whose remote fails the rules of a remote.

use crate::common;
#[cfg(unix)]
use crate::routes;
#[cfg(unix)]
use crate::server;
#[cfg(unix)]
use crate::store::locks::{NEW_PAIR, expired_store};

use std::fs;
#[cfg(unix)]
use std::process::Command;

use common::{DEFAULT_REMOTE, Env, FIXTURE};
#[cfg(unix)]
use routes::TOKEN;
use serde_json::{Value, json};
#[cfg(unix)]
use server::Reply;

/// [`FIXTURE`] with keys this program does not know at every level, and an account of
/// another remote.
fn with_unknown_keys() -> Value {
    let mut file: Value = serde_json::from_str(FIXTURE).unwrap();
    file["x_top"] = json!({ "nested": [1, "two", null], "flag": true });
    let profiles = &mut file["profiles"];
    profiles["ci-bot"]["x_entry"] = json!({ "created": "2024-01-01", "n": 7 });
    profiles["me@example.com"]["oauth_credential"]["x_cred"] = json!(["a"]);
    profiles["other-bot"] = json!({
        "remote_url": "https://other.example.com",
        "auth_type": "api_key",
        "api_key": "sk-other",
        "x_other": 1
    });
    file
}

#[test]
fn unknown_keys_survive_a_rewrite() {
    let before = with_unknown_keys();
    let env = Env::with_auth(&serde_json::to_string_pretty(&before).unwrap());
    env.run(&["auth", "switch", "--user", "ci-bot"]).success();
    let after = env.auth_json();

    assert_eq!(after["x_top"], before["x_top"]);
    let (b, a) = (&before["profiles"], &after["profiles"]);
    assert_eq!(a["ci-bot"]["x_entry"], b["ci-bot"]["x_entry"]);
    assert_eq!(
        a["me@example.com"]["oauth_credential"]["x_cred"],
        b["me@example.com"]["oauth_credential"]["x_cred"]
    );
    assert_eq!(a["other-bot"]["x_other"], b["other-bot"]["x_other"]);
    assert_eq!(env.active(DEFAULT_REMOTE).as_deref(), Some("ci-bot"));

    // Nothing else changed either: only the pointers to the active account differ.
    let mut expected = before.clone();
    expected["current"] = json!("ci-bot");
    expected["active_by_remote"][DEFAULT_REMOTE] = json!("ci-bot");
    assert_eq!(after, expected);
}

#[test]
fn version_and_layout_are_kept_on_rewrite() {
    let env = Env::with_auth(FIXTURE);
    env.run(&["auth", "switch", "--user", "ci-bot"]).success();
    let after = env.auth_json();
    assert_eq!(after["version"], 1);
    assert!(after.get("hosts").is_none(), "{after:#}");
    let user = env.profile("me@example.com");
    assert_eq!(user["remote_url"], DEFAULT_REMOTE);
    assert_eq!(user["auth_type"], "oauth");
    assert_eq!(user["oauth_credential"]["expiry"], "2099-01-02T03:04:05Z");
    assert_eq!(user["oauth_credential"]["refresh_token"], "refresh-abc");
}

/// `sh -c 'umask 000; exec "$0" "$@"' BIN args…`, isolated like [`Env::cmd`].
#[cfg(unix)]
fn with_umask_000(env: &Env, args: &[&str]) -> Command {
    let mut cmd = Command::new("sh");
    common::isolate(&mut cmd);
    cmd.arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(common::BIN)
        .args(args)
        .env("BASETEN_CONFIG_DIR", env.config_dir())
        .env("HOME", env.home());
    cmd
}

#[cfg(unix)]
#[test]
fn auth_json_is_0600_whatever_the_umask() {
    let env = Env::with_auth(FIXTURE);
    common::set_mode(&env.auth_path(), 0o644);
    // Prove the umask really is 000 in the child.
    let mut probe = Command::new("sh");
    probe.arg("-c").arg("umask 000; umask");
    let umask = common::run(&mut probe);
    assert_eq!(umask.stdout.trim(), "0000");

    let out = common::run(&mut with_umask_000(
        &env,
        &["auth", "switch", "--user", "ci-bot"],
    ));
    out.assert_code(0);
    assert_eq!(out.stdout, "Switched to ci-bot\n");
    assert_eq!(common::mode(&env.auth_path()), 0o600);
    let lock = env.lock_path();
    if lock.exists() {
        assert_eq!(common::mode(&lock) & 0o077, 0, "lock file open to others");
    }
}

#[cfg(unix)]
#[test]
fn corrupt_store_is_an_error_naming_the_path() {
    for bytes in [&b"{not json"[..], b"\xff\xfe\x00garbage\x80", b"[]"] {
        let env = Env::new();
        env.write_auth_bytes(bytes);
        let path = env.auth_path().display().to_string();
        for args in [
            &["auth", "status"][..],
            &["auth", "token"],
            &["auth", "switch", "--user", "ci-bot"],
            &["auth", "logout"],
        ] {
            let out = env.run(args);
            out.failure(1, &[&path]);
            assert_eq!(env.read_auth_bytes(), bytes, "{args:?} touched the file");
        }
        let names = common::list_dir(&env.config_dir());
        assert!(
            names
                .iter()
                .all(|n| n == "auth.json" || n == "auth.json.lock"),
            "{names:?}"
        );
    }
}

#[cfg(unix)]
#[test]
fn unreadable_store_is_an_error_naming_the_path() {
    let env = Env::with_auth(FIXTURE);
    // A directory where the file should be cannot be read as a file, even by root.
    fs::remove_file(env.auth_path()).unwrap();
    fs::create_dir(env.auth_path()).unwrap();
    let path = env.auth_path().display().to_string();
    env.run(&["auth", "status"]).failure(1, &[&path]);
    env.run(&["auth", "switch", "--user", "ci-bot"])
        .failure(1, &[&path]);
    env.run(&["auth", "logout"]).failure(1, &[&path]);
    assert!(env.auth_path().is_dir());
}

#[test]
fn xdg_config_home_is_used_without_baseten_config_dir() {
    let env = Env::new();
    let xdg = env.root().join("xdg");
    fs::create_dir_all(xdg.join("baseten")).unwrap();
    #[cfg(unix)]
    common::set_mode(&xdg.join("baseten"), 0o700);
    let file = xdg.join("baseten").join("auth.json");
    fs::write(&file, FIXTURE).unwrap();
    #[cfg(unix)]
    common::set_mode(&file, 0o600);

    let run = |args: &[&str]| {
        let mut cmd = env.cmd(args);
        cmd.env_remove("BASETEN_CONFIG_DIR")
            .env("XDG_CONFIG_HOME", &xdg);
        common::run(&mut cmd)
    };
    assert_eq!(run(&["auth", "token"]).success(), "access-abc\n");
    run(&["auth", "switch", "--user", "ci-bot"]).success();
    let stored: Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        common::active_of(&stored, DEFAULT_REMOTE).as_deref(),
        Some("ci-bot")
    );
    assert!(!env.auth_path().exists());
    assert!(!env.home().exists());
}

#[cfg(all(unix, not(target_os = "macos")))]
#[test]
fn home_dot_config_is_the_fallback() {
    let env = Env::new();
    let dir = env.home().join(".config").join("baseten");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("auth.json"), FIXTURE).unwrap();
    common::set_mode(&dir.join("auth.json"), 0o600);
    let mut cmd = env.cmd(&["auth", "token"]);
    cmd.env_remove("BASETEN_CONFIG_DIR");
    assert_eq!(common::run(&mut cmd).success(), "access-abc\n");
}

#[test]
fn baseten_config_dir_wins_over_xdg() {
    let env = Env::with_auth(FIXTURE);
    let xdg = env.root().join("xdg");
    let out = env.run_env(&["auth", "token"], "XDG_CONFIG_HOME", xdg.to_str().unwrap());
    assert_eq!(out.success(), "access-abc\n");
    assert!(!xdg.exists());
}

/// Accounts whose `remote_url` fails the rules of a remote, each with the rule's words.
#[cfg(unix)]
const BAD_REMOTES: [(&str, &str); 4] = [
    ("http://evil.example.com", "plain http"),
    ("https://user:pw@evil.example.com", "user name or password"),
    ("https://evil.example.com/path", "path"),
    ("https://evil.example.com?x=1", "query"),
];

#[cfg(unix)]
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

#[cfg(unix)]
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
