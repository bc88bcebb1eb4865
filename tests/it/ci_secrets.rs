//! Secrets where CI and containers keep them (SPEC §6, §6c): `BASETEN_API_KEY_FILE`,
//! `logout --all`, and the key alone in an image with no config directory. Unix only:
//! unreadable files are made with modes and another user.

#![cfg(unix)]

use crate::common;
use crate::routes;
use crate::server;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{DEFAULT_REMOTE, Env};
use routes::{LOGOUT, ME, me_server, queue_server, requests_to};
use serde_json::json;
use server::Reply;
use tempfile::TempDir;

const FILE_VAR: &str = "BASETEN_API_KEY_FILE";
const KEY: &str = "sk-from-file-31";

/// A key file holding `content` in a directory of its own (kept alive by the guard).
fn key_file(content: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = dir.path().join("api-key");
    fs::write(&path, content).expect("write key file");
    (dir, path)
}

fn with_file(env: &Env, args: &[&str], path: &Path) -> Command {
    let mut cmd = env.cmd(args);
    cmd.env(FILE_VAR, path);
    cmd
}

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

#[test]
fn an_unreadable_key_file_is_a_usage_error() {
    let (_dir, path) = key_file("sk-secret-unreadable\n");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).expect("chmod");
    let env = Env::new();
    let mut cmd = with_file(&env, &["auth", "token"], &path);
    // Permission bits stop nobody as root: read it as `nobody` then.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        fs::set_permissions(env.root(), fs::Permissions::from_mode(0o755)).expect("chmod");
        cmd.uid(65534).gid(65534);
    }
    let out = common::run(&mut cmd);
    out.failure(
        2,
        &[FILE_VAR, &path.display().to_string(), "cannot be read"],
    );
    out.assert_no_secrets(&["sk-secret-unreadable"]);
}

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

/// Three remotes: API keys on two of them, OAuth sessions on two, all in plain text.
fn many_remotes(server: &str) -> String {
    common::pretty(&json!({
        "version": 1,
        "current": "oauth-a",
        "profiles": {
            "key-a": { "remote_url": DEFAULT_REMOTE, "auth_type": "api_key", "api_key": "KEY-a" },
            "oauth-a": { "remote_url": server, "auth_type": "oauth", "oauth_credential": {
                "access_token": "ACCESS-a", "refresh_token": "R-a", "expiry": "2099-01-01T00:00:00Z" } },
            "key-b": { "remote_url": "http://127.0.0.1:9", "auth_type": "api_key", "api_key": "KEY-b" },
            "oauth-b": { "remote_url": server, "auth_type": "oauth", "oauth_credential": {
                "access_token": "ACCESS-b", "refresh_token": "R-b", "expiry": "2099-01-01T00:00:00Z" } }
        },
        "active_by_remote": { "http://127.0.0.1:9": "key-b" }
    }))
}

#[test]
fn logout_all_revokes_every_session_and_removes_every_account() {
    let server = queue_server(&[("POST", LOGOUT, Reply::json(200, "{}"))]);
    let env = Env::with_auth(&many_remotes(&server.url()));
    let mut cmd = env.cmd(&["auth", "logout", "--all"]);
    cmd.env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", server.url());
    let out = common::run(&mut cmd);
    assert_eq!(
        out.success(),
        "Logged out key-a\nLogged out oauth-a\nLogged out key-b\nLogged out oauth-b\n"
    );
    let revoked: Vec<_> = requests_to(&server.requests(), LOGOUT)
        .iter()
        .map(|r| r.header("authorization").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(revoked, ["Bearer ACCESS-a", "Bearer ACCESS-b"]);
    let file = env.auth_json();
    assert_eq!(file["profiles"], json!({}), "{file:#}");
    for secret in ["KEY-a", "KEY-b", "ACCESS-a", "R-b"] {
        assert!(
            !env.read_auth().contains(secret),
            "{secret} left in auth.json"
        );
    }
    // Nothing left: an empty store is no error, and says so on stderr.
    let out = env.run(&["auth", "logout", "--all"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:#?}");
    assert!(out.stderr.contains("nothing to log out"), "{out:#?}");
    let out = env.run(&["auth", "logout", "--all", "-o", "json"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "[]\n"), "{out:#?}");
}

#[test]
fn logout_all_is_a_streamed_command() {
    let server = queue_server(&[("POST", LOGOUT, Reply::json(500, "{}"))]);
    let env = Env::with_auth(&many_remotes(&server.url()));
    let mut cmd = env.cmd(&["auth", "logout", "--all", "--jq", ".profile"]);
    cmd.env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", server.url());
    let out = common::run(&mut cmd);
    // A failed revocation warns and the account goes all the same (SPEC §6).
    assert_eq!(out.code, 0, "{out:#?}");
    assert_eq!(
        out.stdout,
        "\"key-a\"\n\"oauth-a\"\n\"key-b\"\n\"oauth-b\"\n"
    );
    assert!(out.stderr.contains("warning: could not revoke"), "{out:#?}");
    out.assert_no_secrets(&["ACCESS-a", "ACCESS-b", "R-a", "R-b"]);

    let env = Env::with_auth(&many_remotes("http://127.0.0.1:9"));
    let out = env.run(&["auth", "logout", "--all", "-o", "json"]);
    let json = out.json();
    out.assert_code(0);
    assert_eq!(json[0], json!({"profile": "key-a", "user": "key-a"}));
    assert_eq!(json.as_array().map(Vec::len), Some(4));

    let out = env.run(&["auth", "logout", "--all", "--user", "x"]);
    out.failure(2, &["--all and --user"]);
}

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
