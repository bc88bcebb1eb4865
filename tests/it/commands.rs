//! The offline commands (SPEC §2, §6): `status`, `switch`, `logout` (API-key accounts
//! only: OAuth logout talks to the server) and `token`, including `BASETEN_API_KEY`.

use crate::common;

use common::{DEFAULT_REMOTE, Env, FIXTURE, Outcome};
use serde_json::{Value, json};

const API_KEY_ENV: &str = "BASETEN_API_KEY";
const ENV_KEY: &str = "sk-from-env-0123456789";

/// A store with an API-key account active and an OAuth account with unknown expiry on
/// the default remote, and an account of a second remote.
const API_KEY_ACTIVE: &str = r#"{
  "version": 1,
  "current": "ci-bot",
  "profiles": {
    "ci-bot": {
      "remote_url": "https://app.baseten.co",
      "auth_type": "api_key",
      "api_key": "sk-ci-123"
    },
    "laptop": {
      "remote_url": "https://app.baseten.co",
      "auth_type": "oauth",
      "oauth_credential": {
        "access_token": "access-laptop",
        "refresh_token": "refresh-laptop",
        "expiry": "0001-01-01T00:00:00Z"
      }
    },
    "staging-bot": {
      "remote_url": "https://app.staging.baseten.co",
      "auth_type": "api_key",
      "api_key": "sk-staging"
    }
  },
  "active_by_remote": {
    "https://app.baseten.co": "ci-bot",
    "https://app.staging.baseten.co": "staging-bot"
  }
}
"#;

/// A store whose remote has accounts but none active (two of them, since a remote's
/// only account is its active one).
const NONE_ACTIVE: &str = r#"{
  "version": 1,
  "profiles": {
    "ci-bot": {
      "remote_url": "https://app.baseten.co",
      "auth_type": "api_key",
      "api_key": "sk-ci-123"
    },
    "deploy-bot": {
      "remote_url": "https://app.baseten.co",
      "auth_type": "api_key",
      "api_key": "sk-deploy-456"
    }
  }
}
"#;

/// [`NONE_ACTIVE`] in the legacy `hosts` layout: no `active_user`.
const LEGACY_NONE_ACTIVE: &str = r#"{
  "version": 1,
  "hosts": {
    "https://app.baseten.co": {
      "users": {
        "ci-bot": { "auth_type": "api_key", "api_key": "sk-ci-123" },
        "deploy-bot": { "auth_type": "api_key", "api_key": "sk-deploy-456" }
      }
    }
  }
}
"#;

/// Checks the SPEC §2 status fields of a JSON result against `expected`.
#[track_caller]
fn assert_fields(out: &Outcome, expected: Value) {
    let got = out.json();
    out.success();
    for (key, want) in expected.as_object().unwrap() {
        assert_eq!(&got[key], want, "field {key}: {out:#?}");
        assert!(got.get(key).is_some(), "field {key} missing: {out:#?}");
    }
}

#[track_caller]
fn assert_not_logged_in(out: &Outcome) {
    out.failure(1, &["not logged in", "baseten auth login", API_KEY_ENV]);
}

/// The active account of the default remote in `auth.json` (SPEC §7's rule).
fn active_user(env: &Env) -> Option<String> {
    env.active(DEFAULT_REMOTE)
}

/// Runs `auth status` (text) and asserts it starts with the default remote,
/// `Logged in as <user>` and `Auth type: <auth_type>`, and that a later line says the
/// secret lives in the file. Returns the outcome.
#[track_caller]
fn assert_status_text(env: &Env, user: &str, auth_type: &str) -> Outcome {
    let out = env.run(&["auth", "status"]);
    let lines: Vec<&str> = out.success().lines().collect();
    assert_eq!(
        lines[..3],
        [
            "https://app.baseten.co",
            &format!("  Logged in as {user}"),
            &format!("  Auth type: {auth_type}")
        ]
    );
    // It also says where the secret lives.
    assert!(lines[3..].iter().any(|l| l.contains("file")), "{lines:?}");
    out
}

/// The SPEC §2 status fields of a stored account of the default remote kept in the file.
fn stored_status(user: &str, auth_type: &str, expires_at: Value) -> Value {
    json!({
        "host": "https://app.baseten.co",
        "user": user,
        "auth_type": auth_type,
        "storage": "file",
        "source": "store",
        "expires_at": expires_at,
    })
}

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

// ---- status ----

#[test]
fn status_api_key_account() {
    let env = Env::with_auth(API_KEY_ACTIVE);
    let out = assert_status_text(&env, "ci-bot", "api_key");
    assert!(!out.stdout.contains("sk-ci-123"));

    let out = env.run(&["auth", "status", "-o", "json"]);
    assert_fields(&out, stored_status("ci-bot", "api_key", Value::Null));
    assert!(!out.stdout.contains("sk-ci-123"));
}

#[test]
fn status_oauth_account_with_expiry() {
    let env = Env::with_auth(FIXTURE);
    let out = assert_status_text(&env, "me@example.com", "oauth");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[3..]
            .iter()
            .any(|l| l.contains("2099-01-02T03:04:05Z")),
        "{lines:?}"
    );
    assert!(!out.stdout.contains("access-abc") && !out.stdout.contains("refresh-abc"));

    let out = env.run(&["auth", "status", "--output", "json"]);
    assert_fields(
        &out,
        stored_status("me@example.com", "oauth", "2099-01-02T03:04:05Z".into()),
    );
}

#[test]
fn status_oauth_expiry_offset_is_rfc3339() {
    let env = Env::with_auth(&FIXTURE.replace("2099-01-02T03:04:05Z", "2099-01-02T05:04:05+02:00"));
    let out = env.run(&["auth", "status", "--jq", ".expires_at"]);
    let stdout = out.success();
    // The same instant, in RFC 3339 (UTC or with the offset).
    assert!(
        stdout == "\"2099-01-02T03:04:05Z\"\n" || stdout == "\"2099-01-02T05:04:05+02:00\"\n",
        "{stdout}"
    );
}

#[test]
fn status_oauth_zero_expiry_is_null() {
    let env = Env::with_auth(API_KEY_ACTIVE);
    env.run(&["auth", "switch", "--user", "laptop"]).success();
    let out = env.run(&["auth", "status", "-o", "json"]);
    assert_fields(&out, stored_status("laptop", "oauth", Value::Null));
    let text = env.run(&["auth", "status"]);
    assert!(!text.success().contains("0001-01-01"), "{text:#?}");
}

#[test]
fn status_per_remote() {
    let env = Env::with_auth(API_KEY_ACTIVE);
    let remote = "https://app.staging.baseten.co";
    let out = env.run(&["auth", "status", "--remote-url", remote]);
    assert!(
        out.success()
            .starts_with("https://app.staging.baseten.co\n  Logged in as staging-bot\n")
    );
    let out = env.run(&[
        "auth",
        "status",
        "--remote-url",
        "https://app.other.example",
    ]);
    assert_not_logged_in(&out);
}

#[test]
fn status_not_logged_in() {
    // No auth.json at all, a remote without an active account, and a missing directory.
    let empty = Env::new();
    assert_not_logged_in(&empty.run(&["auth", "status"]));
    assert_not_logged_in(&empty.run(&["auth", "status", "-o", "json"]));
    assert!(!empty.auth_path().exists());

    for fixture in [NONE_ACTIVE, LEGACY_NONE_ACTIVE] {
        let none = Env::with_auth(fixture);
        assert_not_logged_in(&none.run(&["auth", "status"]));
        assert_eq!(none.read_auth(), fixture);
    }

    let missing = Env::new();
    let mut cmd = missing.cmd(&["auth", "status"]);
    cmd.env("BASETEN_CONFIG_DIR", missing.root().join("absent"));
    assert_not_logged_in(&common::run(&mut cmd));
    assert!(!missing.root().join("absent").exists());
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

#[test]
fn token_prints_the_env_key() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run_env(&["auth", "token"], API_KEY_ENV, ENV_KEY);
    assert_eq!(out.success(), format!("{ENV_KEY}\n"));
    let out = env.run_env(&["auth", "token", "-o", "json"], API_KEY_ENV, ENV_KEY);
    let json = out.json();
    out.success();
    assert_eq!(json["token"], ENV_KEY);
    assert_eq!(json["auth_type"], "api_key");
    // Works without any store too.
    let out = Env::new().run_env(&["auth", "token"], API_KEY_ENV, ENV_KEY);
    assert_eq!(out.success(), format!("{ENV_KEY}\n"));
}

// ---- token ----

#[test]
fn token_api_key_account() {
    let env = Env::with_auth(API_KEY_ACTIVE);
    assert_eq!(env.run(&["auth", "token"]).success(), "sk-ci-123\n");
    let out = env.run(&["auth", "token", "-o", "json"]);
    assert_eq!(
        out.success(),
        common::pretty(&json!({
            "profile": "ci-bot",
            "user": "ci-bot",
            "auth_type": "api_key",
            "token": "sk-ci-123",
            "header": "Api-Key sk-ci-123"
        }))
    );
}

#[test]
fn token_oauth_account() {
    let env = Env::with_auth(FIXTURE);
    assert_eq!(env.run(&["auth", "token"]).success(), "access-abc\n");
    let out = env.run(&["auth", "token", "-o", "jsonl"]);
    assert_eq!(
        out.success(),
        "{\"profile\":\"me@example.com\",\"user\":\"me@example.com\",\"auth_type\":\"oauth\",\
         \"token\":\"access-abc\",\"header\":\"Bearer access-abc\"}\n"
    );
    assert_eq!(env.read_auth(), FIXTURE, "a valid token needs no refresh");
}

#[test]
fn token_not_logged_in() {
    let out = Env::new().run(&["auth", "token"]);
    out.failure(1, &["not logged in"]);
    for fixture in [NONE_ACTIVE, LEGACY_NONE_ACTIVE] {
        let out = Env::with_auth(fixture).run(&["auth", "token"]);
        out.failure(1, &["not logged in"]);
    }
}

// ---- switch ----

#[test]
fn switch_changes_the_active_user() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "switch", "--user", "ci-bot"]);
    assert_eq!(out.success(), "Switched to ci-bot\n");
    assert_eq!(active_user(&env).as_deref(), Some("ci-bot"));
    assert_eq!(env.run(&["auth", "token"]).success(), "sk-ci-123\n");

    let out = env.run(&["auth", "switch", "--user=me@example.com", "-o", "json"]);
    assert_eq!(
        out.success(),
        common::pretty(&json!({ "profile": "me@example.com", "user": "me@example.com" }))
    );
    assert_eq!(active_user(&env).as_deref(), Some("me@example.com"));

    // Both accounts and their secrets are still there.
    let file = env.auth_json();
    assert_eq!(file["current"], "me@example.com");
    assert_eq!(file["active_by_remote"][DEFAULT_REMOTE], "me@example.com");
    let users = &file["profiles"];
    assert_eq!(users["ci-bot"]["api_key"], "sk-ci-123");
    assert_eq!(
        users["me@example.com"]["oauth_credential"]["access_token"],
        "access-abc"
    );
}

#[test]
fn switch_to_unknown_user_fails() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "switch", "--user", "nobody"]);
    out.failure(1, &["not found", "nobody"]);
    assert_eq!(env.read_auth(), FIXTURE);

    // Accounts are per remote: ci-bot belongs to the default one, not to the one given.
    let out = env.run(&[
        "auth",
        "switch",
        "--user",
        "ci-bot",
        "--remote-url",
        "https://app.staging.baseten.co",
    ]);
    out.failure(
        1,
        &[
            "\"ci-bot\"",
            "https://app.baseten.co",
            "https://app.staging.baseten.co",
        ],
    );
    assert_eq!(env.read_auth(), FIXTURE);
}

#[test]
fn switch_with_nothing_stored_fails() {
    let env = Env::new();
    let out = env.run(&["auth", "switch", "--user", "ci-bot"]);
    out.failure(1, &["not found"]);
    assert!(!env.auth_path().exists());
}

// ---- logout ----

#[test]
fn logout_api_key_account() {
    let env = Env::with_auth(API_KEY_ACTIVE);
    let out = env.run(&["auth", "logout"]);
    assert_eq!(out.success(), "Logged out ci-bot\n");

    let file = env.auth_json();
    assert!(file["profiles"].get("ci-bot").is_none(), "{file:#}");
    // No pointer names the removed account any more.
    assert!(
        file.get("current").is_none_or(|c| c != "ci-bot"),
        "{file:#}"
    );
    assert!(
        file["active_by_remote"]
            .as_object()
            .into_iter()
            .flatten()
            .all(|(_, n)| n != "ci-bot"),
        "{file:#}"
    );
    assert!(file["profiles"].get("laptop").is_some(), "{file:#}");
    assert_eq!(
        common::active_of(&file, "https://app.staging.baseten.co").as_deref(),
        Some("staging-bot")
    );
    assert!(!env.read_auth().contains("sk-ci-123"));

    // The remote's only remaining account is now its active one (SPEC §7), but there is
    // no current profile: without a remote given, nothing is logged in (SPEC §3).
    assert_eq!(active_user(&env).as_deref(), Some("laptop"));
    let out = env.run(&[
        "auth",
        "status",
        "--remote-url",
        DEFAULT_REMOTE,
        "-o",
        "json",
    ]);
    assert_fields(&out, stored_status("laptop", "oauth", Value::Null));
    env.run(&["auth", "status"])
        .failure(1, &["not logged in", "no current profile"]);
}

#[test]
fn logout_json() {
    let env = Env::with_auth(API_KEY_ACTIVE);
    let out = env.run(&["auth", "logout", "-o", "jsonl"]);
    assert_eq!(
        out.success(),
        "{\"profile\":\"ci-bot\",\"user\":\"ci-bot\"}\n"
    );
}

#[test]
fn logout_with_no_active_user_names_the_remote() {
    for fixture in [NONE_ACTIVE, LEGACY_NONE_ACTIVE] {
        let env = Env::with_auth(fixture);
        let out = env.run(&["auth", "logout"]);
        out.failure(1, &["no current profile", "--profile"]);
        let out = env.run(&["auth", "logout", "--remote-url", DEFAULT_REMOTE]);
        out.failure(1, &["no current profile", DEFAULT_REMOTE, "--profile"]);
        assert_eq!(env.read_auth(), fixture);
    }

    let env = Env::new();
    let remote = "https://app.example.com";
    let out = env.run(&["auth", "logout", "--remote-url", remote]);
    out.failure(1, &["no current profile", remote]);
    assert!(!env.auth_path().exists());
}

#[test]
fn logout_only_touches_its_remote() {
    let env = Env::with_auth(API_KEY_ACTIVE);
    let remote = "https://app.staging.baseten.co";
    let out = env.run(&["auth", "logout", "--remote-url", remote]);
    assert_eq!(out.success(), "Logged out staging-bot\n");
    assert_eq!(active_user(&env).as_deref(), Some("ci-bot"));
    assert_eq!(env.run(&["auth", "token"]).success(), "sk-ci-123\n");
}
