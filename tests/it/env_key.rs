//! The key from the environment, as CI and containers give it (SPEC §6, §6c):
//! `BASETEN_API_KEY` and `BASETEN_API_KEY_FILE` for `status` (never printing the key),
//! with or without a store, and with no config directory or `HOME` at all. Unreadable
//! key files are made with modes and another user, so those tests are Unix only.

use crate::common;
#[cfg(unix)]
use crate::routes;

#[cfg(unix)]
use std::fs;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
#[cfg(unix)]
use std::os::unix::process::CommandExt;
#[cfg(unix)]
use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::process::Command;

#[cfg(unix)]
use common::DEFAULT_REMOTE;
use common::{API_KEY_ENV, Env, FIXTURE, NONE_ACTIVE, Outcome, assert_fields};
#[cfg(unix)]
use routes::{ME, me_server, requests_to};
use serde_json::{Value, json};
#[cfg(unix)]
use tempfile::TempDir;

#[cfg(unix)]
const FILE_VAR: &str = "BASETEN_API_KEY_FILE";

#[cfg(unix)]
const KEY: &str = "sk-from-file-31";

/// A key file holding `content` in a directory of its own (kept alive by the guard).
#[cfg(unix)]
fn key_file(content: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = dir.path().join("api-key");
    fs::write(&path, content).expect("write key file");
    (dir, path)
}

#[cfg(unix)]
fn with_file(env: &Env, args: &[&str], path: &Path) -> Command {
    let mut cmd = env.cmd(args);
    cmd.env(FILE_VAR, path);
    cmd
}

#[cfg(unix)]
#[test]
fn a_key_file_is_used_as_baseten_api_key_is() {
    let (_dir, path) = key_file(&format!("  {KEY}  \nsecond line ignored\n"));
    // Something stored, which the file overrides.
    let env = Env::with_auth(common::FIXTURE);

    let out = common::run(&mut with_file(&env, &["auth", "status"], &path));
    assert_eq!(
        out.success(),
        "https://app.baseten.co\n  Logged in with BASETEN_API_KEY_FILE\n  Auth type: api_key\n  \
         Stored account me@example.com is ignored while BASETEN_API_KEY_FILE is set\n"
    );
    let out = common::run(&mut with_file(
        &env,
        &["auth", "status", "-o", "json"],
        &path,
    ));
    let json = out.json();
    assert_eq!(json["source"], "env");
    assert_eq!(json["user"], serde_json::Value::Null);
    assert_eq!(json["storage"], serde_json::Value::Null);
    out.assert_no_secrets(&[KEY]);

    let out = common::run(&mut with_file(&env, &["auth", "token"], &path));
    assert_eq!(out.success(), format!("{KEY}\n"));
    let out = common::run(&mut with_file(&env, &["auth", "token", "--header"], &path));
    assert_eq!(out.success(), format!("Authorization: Api-Key {KEY}\n"));
    // --user still names a stored account.
    let out = common::run(&mut with_file(
        &env,
        &["auth", "token", "--user", "ci-bot"],
        &path,
    ));
    assert_eq!(out.success(), "sk-ci-123\n");

    let server = me_server();
    let mut cmd = with_file(&env, &["whoami", "--jq", ".email"], &path);
    cmd.env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", server.url());
    assert_eq!(common::run(&mut cmd).success(), "\"me@example.com\"\n");
    let seen: Vec<_> = requests_to(&server.requests(), ME)
        .iter()
        .map(|r| r.header("authorization").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(seen, [format!("Api-Key {KEY}")]);
    // Nothing was stored.
    assert_eq!(env.read_auth(), common::FIXTURE);
}

#[cfg(unix)]
#[test]
fn a_key_file_that_cannot_serve_is_a_usage_error_naming_its_path() {
    let env = Env::with_auth(common::FIXTURE);
    for (content, needle) in [
        ("", "holds no API key"),
        ("   \n", "holds no API key"),
        ("sk-secret with-space\n", "printable ASCII"),
        ("sk-secret\u{7}bell\n", "printable ASCII"),
    ] {
        let (_dir, path) = key_file(content);
        for args in [&["auth", "status"][..], &["auth", "token"], &["whoami"]] {
            let out = common::run(&mut with_file(&env, args, &path));
            out.failure(2, &[FILE_VAR, &path.display().to_string(), needle]);
            out.assert_no_secrets(&["sk-secret"]);
        }
    }
    // A path that does not exist.
    let missing = env.root().join("no-such-key");
    let out = common::run(&mut with_file(&env, &["auth", "token"], &missing));
    out.failure(
        2,
        &[FILE_VAR, &missing.display().to_string(), "cannot be read"],
    );
}

#[cfg(unix)]
#[test]
fn an_unreadable_key_file_is_a_usage_error() {
    let (_dir, path) = key_file("sk-secret-unreadable\n");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).expect("chmod");
    let env = Env::new();
    let mut cmd = with_file(&env, &["auth", "token"], &path);
    // Permission bits stop nobody as root: read it as `nobody` then.
    if common::is_root() {
        fs::set_permissions(env.root(), fs::Permissions::from_mode(0o755)).expect("chmod");
        cmd.uid(common::NOBODY).gid(common::NOBODY);
    }
    let out = common::run(&mut cmd);
    out.failure(
        2,
        &[FILE_VAR, &path.display().to_string(), "cannot be read"],
    );
    out.assert_no_secrets(&["sk-secret-unreadable"]);
}

#[cfg(unix)]
#[test]
fn both_variables_set_is_a_usage_error_naming_both() {
    let (_dir, path) = key_file(&format!("{KEY}\n"));
    let env = Env::new();
    for args in [
        &["auth", "status"][..],
        &["auth", "status", "--all"],
        &["auth", "token"],
    ] {
        let mut cmd = with_file(&env, args, &path);
        cmd.env("BASETEN_API_KEY", "sk-from-var");
        let out = common::run(&mut cmd);
        out.failure(2, &["BASETEN_API_KEY", FILE_VAR]);
        out.assert_no_secrets(&[KEY, "sk-from-var"]);
    }
}

#[cfg(unix)]
#[test]
fn the_variable_alone_works_without_a_config_directory_and_touches_no_file() {
    let (_dir, path) = key_file(&format!("{KEY}\n"));
    let cwd = tempfile::tempdir().expect("tempdir");
    let server = me_server();
    // As in a scratch image: no HOME, no XDG_CONFIG_HOME, no BASETEN_CONFIG_DIR.
    let bare = |args: &[&str], var: (&str, &str)| {
        let mut cmd = Command::new(common::BIN);
        common::isolate(&mut cmd);
        cmd.args(args)
            .current_dir(cwd.path())
            .env_remove("HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("BASETEN_CONFIG_DIR")
            .env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", server.url())
            .env(var.0, var.1);
        common::run(&mut cmd)
    };
    let file = path.to_str().expect("utf-8 path");
    for var in [("BASETEN_API_KEY", KEY), (FILE_VAR, file)] {
        let name = var.0;
        let out = bare(&["auth", "status"], var);
        assert!(
            out.success()
                .starts_with(&format!("{DEFAULT_REMOTE}\n  Logged in with {name}\n")),
            "{out:#?}"
        );
        let out = bare(&["auth", "status", "--all"], var);
        assert_eq!(
            out.success(),
            format!("{DEFAULT_REMOTE}\n  * {name} (api_key, env) active\n")
        );
        let out = bare(&["auth", "status", "--all", "-o", "json"], var);
        assert_eq!(
            out.success(),
            common::pretty(&json!([{
                "host": DEFAULT_REMOTE, "user": null, "auth_type": "api_key", "storage": null,
                "expires_at": null, "active": true, "profile": null, "remote_url": DEFAULT_REMOTE
            }]))
        );
        assert_eq!(bare(&["auth", "token"], var).success(), format!("{KEY}\n"));
        bare(&["whoami", "-o", "none"], var).success();
    }
    assert_eq!(requests_to(&server.requests(), ME).len(), 2);
    assert!(
        common::list_dir(cwd.path()).is_empty(),
        "a file was written"
    );
    // Without the variable there is still nothing to read: an error, not a crash.
    let mut cmd = Command::new(common::BIN);
    common::isolate(&mut cmd);
    cmd.args(["auth", "status", "--all"])
        .env_remove("HOME")
        .env_remove("BASETEN_CONFIG_DIR");
    common::run(&mut cmd).failure(1, &["config directory"]);
}

#[cfg(unix)]
#[test]
fn status_all_lists_the_key_from_the_environment_first() {
    let env = Env::with_auth(common::FIXTURE);
    let out = env.run_env(&["auth", "status", "--all"], "BASETEN_API_KEY", "sk-env-1");
    assert_eq!(
        out.success(),
        "https://app.baseten.co\n\
         \x20 * BASETEN_API_KEY (api_key, env) active\n\
         \x20 * me@example.com (oauth, file, expires 2099-01-02T03:04:05Z) active\n\
         \x20   ci-bot (api_key, file)\n"
    );
    out.assert_no_secrets(&["sk-env-1"]);
}

pub(crate) const ENV_KEY: &str = "sk-from-env-0123456789";

/// Runs `auth status` (text) with [`ENV_KEY`] in `BASETEN_API_KEY` and asserts its first
/// three lines: the default remote, `Logged in with BASETEN_API_KEY` and the API-key auth
/// type. Returns the outcome.
#[track_caller]
fn run_env_status_text(env: &Env) -> Outcome {
    let out = env.run_env(&["auth", "status"], API_KEY_ENV, ENV_KEY);
    let lines: Vec<&str> = out.success().lines().collect();
    assert_eq!(
        lines[..3],
        [
            "https://app.baseten.co",
            "  Logged in with BASETEN_API_KEY",
            "  Auth type: api_key"
        ]
    );
    out
}

/// The SPEC §2 status fields of a `BASETEN_API_KEY` run with `stored_user` in the store.
fn env_status(stored_user: Value) -> Value {
    json!({
        "host": "https://app.baseten.co",
        "user": null,
        "auth_type": "api_key",
        "storage": null,
        "source": "env",
        "expires_at": null,
        "stored_user": stored_user,
    })
}

// ---- BASETEN_API_KEY ----

#[test]
fn status_with_env_key_and_a_stored_account() {
    let env = Env::with_auth(FIXTURE);
    let out = run_env_status_text(&env);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[3..]
            .iter()
            .any(|l| l.contains("me@example.com") && l.contains("ignored")),
        "{lines:?}"
    );

    let out = env.run_env(&["auth", "status", "-o", "json"], API_KEY_ENV, ENV_KEY);
    assert_fields(&out, env_status("me@example.com".into()));
    assert_eq!(env.read_auth(), FIXTURE);
}

#[test]
fn status_with_env_key_and_nothing_stored() {
    let env = Env::new();
    let out = run_env_status_text(&env);
    let stdout = out.stdout.as_str();
    assert!(!stdout.contains("ignored"), "{stdout}");

    let out = env.run_env(&["auth", "status", "-o", "json"], API_KEY_ENV, ENV_KEY);
    assert_fields(&out, env_status(Value::Null));
    // A remote with accounts but none active: nothing is ignored either.
    let none = Env::with_auth(NONE_ACTIVE);
    let out = none.run_env(
        &["auth", "status", "--jq", ".stored_user"],
        API_KEY_ENV,
        ENV_KEY,
    );
    assert_eq!(out.success(), "null\n");
    assert!(!env.auth_path().exists());
}

#[test]
fn status_with_env_key_needs_no_config_dir_or_home() {
    let env = Env::new();
    let mut cmd = env.cmd(&["auth", "status", "--jq", ".source"]);
    cmd.env_remove("BASETEN_CONFIG_DIR")
        .env_remove("HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env(API_KEY_ENV, ENV_KEY);
    assert_eq!(common::run(&mut cmd).success(), "\"env\"\n");
    let mut cmd = env.cmd(&["auth", "token"]);
    cmd.env_remove("BASETEN_CONFIG_DIR")
        .env_remove("HOME")
        .env(API_KEY_ENV, ENV_KEY);
    assert_eq!(common::run(&mut cmd).success(), format!("{ENV_KEY}\n"));
}

#[test]
fn status_never_prints_the_env_key() {
    let env = Env::with_auth(FIXTURE);
    for args in [
        &["auth", "status"][..],
        &["auth", "status", "-v"],
        &["auth", "status", "-o", "json", "-v"],
        &["auth", "status", "-o", "jsonl"],
    ] {
        let out = env.run_env(args, API_KEY_ENV, ENV_KEY);
        out.assert_code(0);
        assert!(!out.stdout.contains(ENV_KEY), "{args:?}: {out:#?}");
        assert!(!out.stderr.contains(ENV_KEY), "{args:?}: {out:#?}");
    }
}
