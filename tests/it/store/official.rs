//! The store shared with Baseten's official CLI (SPEC §7), against files its own store
//! code wrote (`tests/fixtures/official-store/`, README there): what each command sees
//! in them, what a write leaves for the official code to read, lossless rewrites, names
//! held by another remote, and the file-system rules (unpredictable temp files, lock
//! files that are never followed or blocked on, directories others could change). No
//! keyring here; the legacy layout is in `legacy/file.rs`.

use crate::common;
use crate::routes;
use crate::server;

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use common::{DEFAULT_REMOTE, Env};
use routes::{ME, TOKEN};
use serde_json::{Value, json};
use server::{Queue, Reply, Server};

pub(crate) const STAGING: &str = "https://app.staging.baseten.co";

pub(crate) const ME_BODY: &str =
    r#"{"user_id":"u-1","email":"new@example.com","name":"New","workspace_name":"Acme"}"#;

/// The text of a fixture the official CLI wrote.
pub(crate) fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/official-store")
        .join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// `args` with `-o json`, which must succeed; the parsed result.
pub(crate) fn json_of(env: &Env, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let out = env.run(&all);
    out.assert_code(0);
    out.json()
}

/// The one line `token` prints, which must succeed.
pub(crate) fn token(env: &Env, args: &[&str]) -> String {
    let mut all = vec!["auth", "token"];
    all.extend_from_slice(args);
    env.run(&all).success().trim_end().to_owned()
}

/// What the official CLI reads from a file: `current` and each profile's remote, type
/// and plain-text secret.
pub(crate) fn official_view(file: &Value) -> Value {
    let profiles: serde_json::Map<String, Value> = file["profiles"]
        .as_object()
        .expect("profiles")
        .iter()
        .map(|(name, p)| {
            (
                name.clone(),
                json!({
                    "remote_url": p["remote_url"],
                    "auth_type": p["auth_type"],
                    "api_key": p.get("api_key"),
                    "oauth_credential": p.get("oauth_credential"),
                }),
            )
        })
        .collect();
    json!({ "current": file.get("current"), "profiles": profiles })
}

#[test]
fn a_v2_store_is_read_as_the_official_cli_reads_it() {
    let env = Env::with_auth(&fixture("v2-profiles.json"));
    let status = json_of(&env, &["auth", "status"]);
    assert_eq!(status["user"], "me@example.com");
    assert_eq!(status["profile"], "me@example.com");
    assert_eq!(status["host"], DEFAULT_REMOTE);
    assert_eq!(status["remote_url"], DEFAULT_REMOTE);
    assert_eq!(status["auth_type"], "oauth");
    assert_eq!(status["storage"], "file");
    assert_eq!(status["expires_at"], "2031-05-06T05:08:09Z");
    assert_eq!(token(&env, &[]), "ACCESS-me2");
    assert_eq!(token(&env, &["--user", "ci-bot"]), "KEY-ci-bot-2");

    let staging = json_of(&env, &["auth", "status", "--remote-url", STAGING]);
    assert_eq!(staging["user"], "me@example.com:staging.baseten.co");
    assert_eq!(staging["expires_at"], "2030-01-02T03:04:05Z");
    assert_eq!(token(&env, &["--remote-url", STAGING]), "ACCESS-stg2");
}

#[test]
fn without_current_a_remote_with_one_profile_has_it_active() {
    let env = Env::with_auth(&fixture("v2-current-removed.json"));
    let given = ["--remote-url", DEFAULT_REMOTE];
    assert_eq!(
        json_of(&env, &["auth", "status", given[0], given[1]])["user"],
        "ci-bot"
    );
    assert_eq!(token(&env, &given), "KEY-ci-bot-2");
    // With no remote given, only the current profile counts (SPEC §3): there is none,
    // and no other profile is tried.
    env.run(&["auth", "status"])
        .failure(1, &["not logged in", "no current profile"]);
    env.run(&["auth", "token"]).failure(1, &["not logged in"]);
}

#[test]
fn a_switch_writes_what_the_official_cli_reads_and_keeps_everything_else() {
    let before = fixture("v2-profiles.json");
    let env = Env::with_auth(&before);
    env.run(&["auth", "switch", "--user", "ci-bot"]).success();
    let after = env.auth_json();
    let mut expected: Value = serde_json::from_str(&before).unwrap();
    expected["current"] = json!("ci-bot");
    assert_eq!(official_view(&after), official_view(&expected));
    assert_eq!(after["version"], 1);
    // The expiry nobody changed keeps its nanoseconds and its offset, byte for byte.
    assert!(
        env.read_auth()
            .contains("\"expiry\": \"2031-05-06T07:08:09.987654321+02:00\""),
        "{}",
        env.read_auth()
    );
    assert_eq!(json_of(&env, &["auth", "status"])["user"], "ci-bot");
}

#[test]
fn nulls_and_empty_values_the_official_code_writes_are_accepted() {
    let env = Env::with_auth(
        &json!({
            "version": 1,
            "current": "",
            "profiles": {
                "a": {"remote_url": DEFAULT_REMOTE, "auth_type": "api_key", "api_key": "KEY-a",
                      "oauth_credential": null},
                "o": {"remote_url": STAGING, "auth_type": "oauth", "api_key": null,
                      "oauth_credential": {"access_token": "ACCESS-o", "refresh_token": "",
                                           "expiry": null}}
            },
            "hosts": null
        })
        .to_string(),
    );
    assert_eq!(token(&env, &["--remote-url", DEFAULT_REMOTE]), "KEY-a");
    let o = json_of(&env, &["auth", "status", "--user", "o"]);
    assert_eq!(o["expires_at"], Value::Null);
    assert_eq!(token(&env, &["--user", "o"]), "ACCESS-o");
    let env = Env::with_auth(r#"{"version":1,"profiles":null}"#);
    env.run(&["auth", "status"]).failure(1, &["not logged in"]);
}

#[test]
fn unknown_values_keep_their_exact_text_through_a_rewrite() {
    let text = r#"{
  "version": 1,
  "big": 123456789012345678901234567890,
  "decimal": 1.10,
  "exp": 1E+2,
  "profiles": {
    "ci-bot": {
      "remote_url": "https://app.baseten.co",
      "auth_type": "api_key",
      "api_key": "KEY-1",
      "created": -0.0,
      "tags": ["a", 1.50]
    },
    "me@example.com": {
      "remote_url": "https://app.baseten.co",
      "auth_type": "oauth",
      "oauth_credential": {
        "access_token": "A",
        "refresh_token": "R",
        "expiry": "1969-12-31T23:59:59.5-00:30",
        "scope": 12345678901234567890123
      }
    }
  }
}
"#;
    let env = Env::with_auth(text);
    env.run(&["auth", "switch", "--user", "ci-bot"]).success();
    let after = env.read_auth();
    for kept in [
        "123456789012345678901234567890",
        "\"decimal\": 1.10",
        "\"exp\": 1E+2",
        "\"created\": -0.0",
        "1.50",
        "\"expiry\": \"1969-12-31T23:59:59.5-00:30\"",
        "\"scope\": 12345678901234567890123",
    ] {
        assert!(after.contains(kept), "{kept} lost:\n{after}");
    }
    // An instant before 1970 is a real expiry, not "unknown".
    let o = json_of(&env, &["auth", "status", "--user", "me@example.com"]);
    assert_eq!(o["expires_at"], "1970-01-01T00:29:59Z");
}

#[test]
fn an_expiry_before_1970_counts_as_expired_and_is_refreshed() {
    let env = Env::with_auth(
        &json!({"version": 1, "current": "old", "profiles": {"old": {
            "remote_url": "REMOTE", "auth_type": "oauth",
            "oauth_credential": {"access_token": "ACCESS-old", "refresh_token": "REFRESH-old",
                                 "expiry": "1960-01-01T00:00:00Z"}}}})
        .to_string(),
    );
    let server = Server::start(
        Queue::new()
            .push(
                "POST",
                TOKEN,
                Reply::json(
                    200,
                    r#"{"access_token":"ACCESS-new","token_type":"Bearer","expires_in":3600}"#,
                ),
            )
            .handler(),
    );
    env.write_auth(&env.read_auth().replace("REMOTE", &server.url()));
    let out = common::run(&mut env.cmd_at(&server.url(), &["auth", "token"]));
    assert_eq!(out.success(), "ACCESS-new\n");
    let cred = &env.auth_json()["profiles"]["old"]["oauth_credential"];
    assert_eq!(cred["access_token"], "ACCESS-new");
    assert_eq!(cred["refresh_token"], "REFRESH-old");
}

#[test]
fn a_name_held_by_another_remote_is_refused_and_nothing_changes() {
    let env = Env::with_auth(&fixture("v2-profiles.json"));
    let before = env.read_auth();
    let server = Server::start(
        Queue::new()
            .push("GET", ME, Reply::json(200, ME_BODY))
            .handler(),
    );
    let out = common::run_with_stdin(
        &mut env.cmd_at(&server.url(), &common::api_key_login_args("ci-bot")),
        "sk-other\n",
    );
    out.failure(1, &["\"ci-bot\"", DEFAULT_REMOTE, "--label"]);
    assert_eq!(env.read_auth(), before);
    assert!(
        server.requests().is_empty(),
        "the server was asked: {:?}",
        server.requests()
    );
}

#[cfg(unix)]
#[test]
fn a_config_dir_others_can_write_is_refused_for_writes_but_read() {
    let env = Env::with_auth(&fixture("v2-profiles.json"));
    let before = env.read_auth();
    let dir = env.config_dir();
    common::set_mode(&dir, 0o777);
    let shown = dir.display().to_string();
    env.run(&["auth", "switch", "--user", "ci-bot"])
        .failure(1, &[&shown, "chmod 700"]);
    assert_eq!(env.read_auth(), before);
    assert_eq!(json_of(&env, &["auth", "status"])["user"], "me@example.com");
    common::set_mode(&dir, 0o770);
    env.run(&["auth", "switch", "--user", "ci-bot"])
        .failure(1, &[&shown, "chmod 700"]);
    common::set_mode(&dir, 0o700);
    env.run(&["auth", "switch", "--user", "ci-bot"]).success();
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_at_the_lock_file_is_never_followed() {
    let env = Env::with_auth(&fixture("v2-profiles.json"));
    let target = env.root().join("elsewhere");
    std::os::unix::fs::symlink(&target, env.lock_path()).unwrap();
    env.run(&["auth", "switch", "--user", "ci-bot"])
        .failure(1, &["auth.json.lock"]);
    assert!(!target.exists(), "a file was created through the symlink");
    assert_eq!(env.read_auth(), fixture("v2-profiles.json"));
}

#[cfg(unix)]
#[test]
fn a_fifo_at_the_lock_file_fails_instead_of_hanging() {
    let env = Env::with_auth(&fixture("v2-profiles.json"));
    let path = std::ffi::CString::new(env.lock_path().to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path we own.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    let (out, _, killed) = common::run_with_deadline(
        &mut env.cmd(&["auth", "switch", "--user", "ci-bot"]),
        None,
        Duration::from_secs(60),
    );
    assert!(!killed, "hung on the FIFO");
    out.failure(1, &["auth.json.lock", "not a regular file"]);
}

#[cfg(unix)]
#[test]
fn temp_files_have_unpredictable_names_and_never_remain() {
    let env = Env::with_auth(&fixture("v2-profiles.json"));
    // A symlink where the old naming scheme put the temp file is left alone.
    let victim = env.root().join("victim");
    fs::write(&victim, "precious").unwrap();
    for pid in 1..=64 {
        let _ = std::os::unix::fs::symlink(
            &victim,
            env.config_dir().join(format!("auth.json.{pid}.tmp")),
        );
    }
    env.run(&["auth", "switch", "--user", "ci-bot"]).success();
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    let left: Vec<String> = common::list_dir(&env.config_dir())
        .into_iter()
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_slow_refresh_does_not_block_a_change_to_another_account() {
    let env = Env::new();
    let queue = Queue::new();
    queue.push("POST", TOKEN, Reply::hang());
    let server = Server::start(queue.handler());
    env.write_auth(
        &json!({"version": 1, "current": "slow", "profiles": {
            "slow": {"remote_url": server.url(), "auth_type": "oauth",
                     "oauth_credential": {"access_token": "ACCESS-slow", "refresh_token": "REFRESH-slow",
                                          "expiry": "2000-01-01T00:00:00Z"}},
            "other": {"remote_url": server.url(), "auth_type": "api_key", "api_key": "KEY-other"}}})
        .to_string(),
    );
    let mut refreshing = env
        .cmd_at(&server.url(), &["auth", "token"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        server.wait_for_requests(1, Duration::from_secs(60)),
        "no refresh seen"
    );
    // The refresh is now waiting on the server; the store must not be locked meanwhile.
    let out = common::run(&mut env.cmd_at(&server.url(), &["auth", "switch", "--user", "other"]));
    let _ = refreshing.kill();
    let _ = refreshing.wait();
    out.success();
    assert_eq!(env.auth_json()["current"], "other");
}
