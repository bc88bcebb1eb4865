//! The `auth.json` half of the credential store (SPEC §7): unknown keys survive a
//! rewrite, file modes, where the file lives, corrupt files, atomic writes and the lock.

use crate::common;

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read};
#[cfg(unix)]
use std::process::Command;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{DEFAULT_REMOTE, Env, FIXTURE, LEGACY_FIXTURE};
use serde_json::{Value, json};

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

/// The legacy `hosts` layout is read, and the first write converts it to profiles: the
/// `hosts` key is gone, every account and secret is kept, the active account stays
/// active, and unknown top-level and per-account keys survive.
#[test]
fn a_legacy_store_is_read_and_converted_on_the_first_write() {
    let mut legacy: Value = serde_json::from_str(LEGACY_FIXTURE).unwrap();
    legacy["x_top"] = json!({ "nested": [1, "two", null] });
    let users = &mut legacy["hosts"][DEFAULT_REMOTE]["users"];
    users["ci-bot"]["x_entry"] = json!({ "n": 7 });
    users["me@example.com"]["oauth_credential"]["x_cred"] = json!(["a"]);
    let text = serde_json::to_string_pretty(&legacy).unwrap();
    let env = Env::with_auth(&text);

    // Reads leave the file as it is.
    assert_eq!(env.run(&["auth", "token"]).success(), "access-abc\n");
    let out = env.run(&["auth", "status", "--jq", ".user"]);
    assert_eq!(out.success(), "\"me@example.com\"\n");
    assert_eq!(env.read_auth(), text);

    env.run(&["auth", "switch", "--user", "ci-bot"]).success();
    let after = env.auth_json();
    assert!(after.get("hosts").is_none(), "{after:#}");
    assert_eq!(after["version"], 1);
    assert_eq!(after["x_top"], legacy["x_top"]);
    assert_eq!(env.active(DEFAULT_REMOTE).as_deref(), Some("ci-bot"));
    assert_eq!(after["current"], "ci-bot");
    assert_eq!(
        env.profile_names(DEFAULT_REMOTE),
        ["ci-bot", "me@example.com"]
    );
    let ci = env.profile("ci-bot");
    assert_eq!(ci["auth_type"], "api_key");
    assert_eq!(ci["api_key"], "sk-ci-123");
    assert_eq!(ci["x_entry"], json!({ "n": 7 }));
    let me = env.profile("me@example.com");
    assert_eq!(me["auth_type"], "oauth");
    let cred = &me["oauth_credential"];
    assert_eq!(cred["access_token"], "access-abc");
    assert_eq!(cred["refresh_token"], "refresh-abc");
    assert_eq!(cred["expiry"], "2099-01-02T03:04:05Z");
    assert_eq!(cred["x_cred"], json!(["a"]));

    // The converted store reads as before.
    env.run(&["auth", "switch", "--user", "me@example.com"])
        .success();
    assert_eq!(env.run(&["auth", "token"]).success(), "access-abc\n");
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

#[test]
fn no_temp_files_are_left_behind() {
    let env = Env::with_auth(FIXTURE);
    for user in ["ci-bot", "me@example.com", "ci-bot"] {
        env.run(&["auth", "switch", "--user", user]).success();
    }
    env.run(&["auth", "switch", "--user", "nobody"])
        .failure(1, &["not found"]);
    env.run(&["auth", "status"]).success();
    env.run(&["auth", "logout"]).success();
    let names = common::list_dir(&env.config_dir());
    assert!(
        names == ["auth.json"] || names == ["auth.json", "auth.json.lock"],
        "{names:?}"
    );
}

#[test]
fn parallel_switches_lose_nothing() {
    // Eight remotes with two accounts each; eight runs at once each switch a different
    // remote to its second account. Every run rewrites the whole file, so an update
    // lost to a race leaves some remote on its first account (or on none).
    let remotes: Vec<String> = (0..8)
        .map(|i| format!("https://app.r{i}.example.com"))
        .collect();
    let mut profiles = serde_json::Map::new();
    for (i, r) in remotes.iter().enumerate() {
        for n in ["a", "b"] {
            profiles.insert(
                format!("{n}{i}"),
                json!({"remote_url": r, "auth_type": "api_key", "api_key": format!("sk-{n}{i}")}),
            );
        }
    }
    let pointers: serde_json::Map<String, Value> = remotes
        .iter()
        .enumerate()
        .map(|(i, r)| (r.clone(), json!(format!("a{i}"))))
        .collect();
    let env = Env::with_auth(
        &json!({"version": 1, "profiles": profiles, "active_by_remote": pointers}).to_string(),
    );
    let children: Vec<_> = (0..8)
        .map(|i| {
            env.cmd(&["auth", "switch", "--user", &format!("b{i}")])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    for (i, r) in remotes.iter().enumerate() {
        assert_eq!(
            env.active(r).as_deref(),
            Some(format!("b{i}").as_str()),
            "{r}"
        );
    }
    assert_eq!(env.auth_json()["profiles"].as_object().unwrap().len(), 16);
}

/// Opens the store's lock file and takes an exclusive lock on it, as another
/// `baseten` would.
fn hold_lock(env: &Env) -> File {
    let lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(env.lock_path())
        .unwrap();
    lock.lock().unwrap();
    lock
}

#[test]
fn a_held_lock_times_out_with_a_clear_error() {
    let env = Env::with_auth(FIXTURE);
    let lock = hold_lock(&env);
    let start = Instant::now();
    let out = env.run(&["auth", "switch", "--user", "ci-bot", "-v"]);
    let waited = start.elapsed();
    drop(lock);

    out.assert_code(1);
    assert_eq!(out.stdout, "");
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: ") && last.contains("lock"),
        "{out:#?}"
    );
    // It waited a bounded while instead of failing at once or hanging.
    assert!(waited >= Duration::from_secs(1), "gave up after {waited:?}");
    assert!(waited < Duration::from_secs(30), "waited {waited:?}");
    assert_eq!(env.read_auth(), FIXTURE);
}

#[test]
fn a_released_lock_lets_the_writer_through() {
    let env = Env::with_auth(FIXTURE);
    let lock = hold_lock(&env);
    let mut child = env
        .cmd(&["auth", "switch", "--user", "ci-bot", "-v"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).unwrap();
        assert!(n > 0, "stderr ended before the wait was logged: {seen}");
        seen.push_str(&line);
        if line.contains("waiting for the lock") {
            break;
        }
    }
    // The writer is blocked on the lock: the file is still the fixture.
    assert_eq!(env.read_auth(), FIXTURE);
    drop(lock);

    stderr.read_to_string(&mut seen).unwrap();
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(status.success(), "{status:?}: {seen}");
    assert_eq!(stdout, "Switched to ci-bot\n");
    assert_eq!(env.active(DEFAULT_REMOTE).as_deref(), Some("ci-bot"));
}
