//! Command-line contract (SPEC §1, §3, §5 usage rules, §8 exit codes): usage errors,
//! flag syntaxes, `version`, and remote URL validation. No network, no keyring.

mod values;

use crate::common;

use common::{Env, FIXTURE, Outcome};
use serde_json::json;

/// Asserts a usage error: exit 2, empty stdout, `error: …` naming `word`, then the usage
/// line that starts with `usage`.
#[track_caller]
fn assert_usage(out: &Outcome, word: &str, usage: &str) {
    out.failure(2, &[word]);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines[0].contains(word),
        "first line must name {word:?}: {out:#?}"
    );
    assert!(
        lines.iter().skip(1).any(|l| l.starts_with(usage)),
        "no usage line {usage:?}: {out:#?}"
    );
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let env = Env::new();
    for cmd in ["logout", "switch", "status", "token", "login"] {
        let out = env.run(&["auth", cmd, "--bogus"]);
        assert_usage(&out, "--bogus", &format!("Usage: baseten auth {cmd}"));
    }
    let out = env.run(&["auth", "status", "-x"]);
    assert_usage(&out, "-x", "Usage: baseten auth status");
}

#[test]
fn missing_flag_value_is_a_usage_error() {
    let env = Env::new();
    let out = env.run(&["auth", "status", "--output"]);
    assert_usage(&out, "--output", "Usage: baseten auth status");
    let out = env.run(&["auth", "switch", "--user"]);
    assert_usage(&out, "--user", "Usage: baseten auth switch");
}

#[test]
fn bad_output_value_is_a_usage_error() {
    let env = Env::with_auth(FIXTURE);
    for args in [
        &["auth", "status", "--output", "yaml"][..],
        &["auth", "status", "--output=yaml"],
        &["auth", "status", "-oyaml"],
    ] {
        let out = env.run(args);
        assert_usage(&out, "yaml", "Usage: baseten auth status");
    }
}

#[test]
fn unexpected_positional_is_a_usage_error() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "status", "extra"]);
    assert_usage(&out, "extra", "Usage: baseten auth status");
    let out = env.run(&["auth", "token", "extra"]);
    assert_usage(&out, "extra", "Usage: baseten auth token");
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let env = Env::new();
    let out = env.run(&["auth", "lgin"]);
    assert_usage(&out, "lgin", "Usage: baseten auth");
}

#[test]
fn unknown_top_command_is_a_usage_error() {
    let env = Env::new();
    let out = env.run(&["frobnicate"]);
    assert_usage(&out, "frobnicate", "Usage: baseten");
}

#[test]
fn every_value_flag_syntax_works() {
    let env = Env::with_auth(FIXTURE);
    let expected = env.run(&["auth", "token", "--output", "json"]);
    expected.success();
    assert_eq!(expected.json()["token"], "access-abc");
    for args in [
        &["auth", "token", "--output=json"][..],
        &["auth", "token", "-o", "json"],
        &["auth", "token", "-ojson"],
    ] {
        let out = env.run(args);
        assert_eq!(out.success(), expected.stdout, "{args:?}");
    }
    for args in [
        &["auth", "token", "--jq", ".user"][..],
        &["auth", "token", "--jq=.user"],
        &["auth", "token", "-q", ".user"],
        &["auth", "token", "-q.user"],
    ] {
        let out = env.run(args);
        assert_eq!(out.success(), "\"me@example.com\"\n", "{args:?}");
    }
}

#[test]
fn short_boolean_flags_cluster() {
    let env = Env::with_auth(FIXTURE);
    let json = env.run(&["auth", "token", "-o", "json"]);
    let user = env.run(&["auth", "token", "-q", ".user"]);
    for (args, expected) in [
        (&["auth", "token", "-vojson"][..], &json),
        (&["auth", "token", "-vo", "json"], &json),
        (&["auth", "token", "-vq", ".user"], &user),
        (&["auth", "token", "-vvvq.user"], &user),
    ] {
        let out = env.run(args);
        out.assert_code(0);
        assert_eq!(out.stdout, expected.success(), "{args:?}");
        assert!(out.stderr.contains("debug: "), "{args:?}: {out:#?}");
    }
    let out = env.run(&["auth", "status", "-vvv"]);
    out.assert_code(0);
    assert!(
        out.stdout.starts_with("https://app.baseten.co\n"),
        "{out:#?}"
    );
    assert!(out.stderr.contains("debug: "), "{out:#?}");
}

#[test]
fn boolean_flags_accept_true_and_false() {
    let env = Env::with_auth(FIXTURE);
    let quiet = env.run(&["auth", "status", "--verbose=false"]);
    let plain = env.run(&["auth", "status"]);
    assert_eq!(quiet.success(), plain.success());
    assert!(quiet.stdout.starts_with("https://app.baseten.co\n"));

    // `-v`, `--verbose` and `--verbose=true` all turn diagnostics on (stderr only).
    for flag in ["-v", "--verbose", "--verbose=true"] {
        let loud = env.run(&["auth", "status", flag]);
        loud.assert_code(0);
        assert_eq!(loud.stdout, plain.stdout, "{flag}");
        assert!(!loud.stderr.is_empty(), "{flag} logged nothing: {loud:#?}");
    }

    let out = env.run(&["auth", "status", "--verbose=maybe"]);
    assert_usage(&out, "maybe", "Usage: baseten auth status");
}

#[test]
fn login_needs_a_method_when_not_interactive() {
    let env = Env::new();
    // A closed port: if a usage error were detected too late, nothing real is contacted.
    let api = ("BASETEN_MANAGEMENT_API_URL_OVERRIDE", "http://127.0.0.1:1");
    let msg = "must specify --web or --with-api-key when not interactive";
    let out = env.run_env(&["auth", "login"], api.0, api.1);
    assert_usage(&out, msg, "Usage: baseten auth login");
    let out = env.run_env(
        &["auth", "login", "--web=false", "--with-api-key=false"],
        api.0,
        api.1,
    );
    assert_usage(&out, msg, "Usage: baseten auth login");
    assert!(!env.auth_path().exists());
}

#[test]
fn login_web_and_api_key_are_mutually_exclusive() {
    let env = Env::new();
    let out = env.run_env(
        &["auth", "login", "--web", "--with-api-key"],
        "BASETEN_MANAGEMENT_API_URL_OVERRIDE",
        "http://127.0.0.1:1",
    );
    assert_usage(&out, "mutually exclusive", "Usage: baseten auth login");
    let out = env.run_env(
        &[
            "auth",
            "login",
            "--web=true",
            "--with-api-key=true",
            "--label",
            "x",
        ],
        "BASETEN_MANAGEMENT_API_URL_OVERRIDE",
        "http://127.0.0.1:1",
    );
    assert_usage(&out, "mutually exclusive", "Usage: baseten auth login");
    assert!(!env.auth_path().exists());
}

#[test]
fn login_api_key_needs_label_when_not_interactive() {
    let env = Env::new();
    let mut cmd = env.cmd(&["auth", "login", "--with-api-key"]);
    cmd.env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", "http://127.0.0.1:1");
    // Checked before the key is read: both with nothing and with a key on stdin.
    let out = common::run(&mut cmd);
    assert_usage(&out, "--label", "Usage: baseten auth login");
    let out = common::run_with_stdin(&mut cmd, "sk-secret-key\n");
    assert_usage(&out, "--label", "Usage: baseten auth login");
    assert!(!out.stderr.contains("sk-secret-key"));
    assert!(!env.auth_path().exists());
}

#[test]
fn switch_needs_user_when_not_interactive() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "switch"]);
    assert_usage(&out, "--user", "Usage: baseten auth switch");
    assert_eq!(env.read_auth(), FIXTURE);
}

#[test]
fn usage_errors_happen_before_file_writes() {
    let env = Env::with_auth(FIXTURE);
    for args in [
        &["auth", "switch", "--user", "ci-bot", "--bogus"][..],
        &["auth", "switch", "--user", "ci-bot", "-o", "yaml"],
        &["auth", "switch", "--user", "ci-bot", "extra"],
        &["auth", "switch", "--user", "ci-bot", "--jq", ".user |"],
        &[
            "auth", "switch", "--user", "ci-bot", "--jq", ".user", "-o", "text",
        ],
        &[
            "auth",
            "switch",
            "--user",
            "ci-bot",
            "--remote-url",
            "ftp://x",
        ],
        &["auth", "logout", "--bogus"],
        &["auth", "logout", "--output=yaml"],
        &["auth", "logout", "extra"],
    ] {
        let out = env.run(args);
        out.failure(2, &[]);
        assert_eq!(env.read_auth(), FIXTURE, "{args:?} changed auth.json");
    }
    // The same switch without the mistake does change the file.
    env.run(&["auth", "switch", "--user", "ci-bot"]).success();
    assert_ne!(env.read_auth(), FIXTURE);
}

#[test]
fn help_wins_over_missing_required_flags() {
    let env = Env::with_auth(FIXTURE);
    assert!(
        env.run(&["auth", "switch", "--help"])
            .success()
            .contains("--user")
    );
    assert!(
        env.run(&["auth", "login", "--help"])
            .success()
            .contains("--label")
    );
    assert_eq!(env.read_auth(), FIXTURE);
}

#[test]
fn version_prints_name_and_version() {
    let env = Env::new();
    let out = env.run(&["--version"]);
    assert_eq!(
        out.success(),
        format!("baseten {}\n", env!("CARGO_PKG_VERSION"))
    );
}

// ---- Remote URLs (SPEC §3) ----

/// An auth.json holding one API-key account `k` (key `sk-k`), active, under `remote`.
fn store_for(remote: &str) -> String {
    let profiles = serde_json::json!({ "k": { "auth_type": "api_key", "api_key": "sk-k" } });
    common::store_of(remote, Some("k"), profiles).to_string()
}

/// [`store_for`] in the legacy `hosts` layout, where the remote is a key.
fn legacy_store_for(remote: &str) -> String {
    serde_json::json!({
        "version": 1,
        "hosts": { remote: {
            "active_user": "k",
            "users": { "k": { "auth_type": "api_key", "api_key": "sk-k" } }
        }}
    })
    .to_string()
}

#[test]
fn bad_remote_urls_are_usage_errors() {
    let env = Env::with_auth(&store_for("https://app.baseten.co"));
    for bad in [
        "https://app.baseten.co/path",
        "https://app.baseten.co/v1/",
        "https://app.baseten.co?x=1",
        "https://app.baseten.co/?x=1",
        "https://app.baseten.co#frag",
        "ftp://app.baseten.co",
        "app.baseten.co",
        "http://app.baseten.co",
        "http://10.0.0.1",
        "http://192.168.1.1:8080",
    ] {
        let out = env.run(&["auth", "status", "--remote-url", bad]);
        assert_usage(&out, "--remote-url", "Usage: baseten auth status");
        let out = env.run_env(&["auth", "status"], "BASETEN_REMOTE_URL", bad);
        out.failure(2, &["BASETEN_REMOTE_URL"]);
    }
}

#[test]
fn remote_url_userinfo_is_rejected_without_echoing_the_password() {
    let env = Env::new();
    for bad in [
        "https://user:hunter2@app.baseten.co",
        "https://hunter2@app.baseten.co/",
    ] {
        let out = env.run(&["auth", "status", "--remote-url", bad]);
        out.failure(2, &["Usage: baseten auth status"]);
        assert!(!out.stderr.contains("hunter2"), "password leaked: {out:#?}");
        let out = env.run_env(&["auth", "status"], "BASETEN_REMOTE_URL", bad);
        out.failure(2, &[]);
        assert!(!out.stderr.contains("hunter2"), "password leaked: {out:#?}");
    }
}

#[test]
fn remote_url_is_normalized_to_the_store_key() {
    for stored in [
        store_for("https://app.example.com"),
        store_for("https://App.Example.com/"),
        legacy_store_for("https://app.example.com"),
    ] {
        remote_url_is_normalized_for(&stored);
    }
}

fn remote_url_is_normalized_for(stored: &str) {
    let env = Env::with_auth(stored);
    for given in [
        "https://App.Example.COM/",
        "https://app.example.com/",
        "https://APP.EXAMPLE.COM",
    ] {
        let out = env.run(&["auth", "status", "--remote-url", given, "-o", "json"]);
        let json = out.json();
        out.success();
        assert_eq!(json["host"], "https://app.example.com", "{given}");
        assert_eq!(json["user"], "k", "{given}");
        let out = env.run_env(
            &["auth", "status", "--jq", ".host"],
            "BASETEN_REMOTE_URL",
            given,
        );
        assert_eq!(out.success(), "\"https://app.example.com\"\n", "{given}");
    }
    // The default remote has nothing stored.
    env.run(&["auth", "status", "--remote-url", "https://app.baseten.co"])
        .failure(1, &["not logged in to https://app.baseten.co"]);
}

#[test]
fn loopback_http_remotes_are_accepted() {
    for remote in [
        "http://127.0.0.1:8080",
        "http://localhost",
        "http://localhost:3000",
        "http://127.1.2.3",
        "http://[::1]:8080",
    ] {
        let env = Env::with_auth(&store_for(remote));
        let out = env.run(&["auth", "token", "--remote-url", remote]);
        assert_eq!(out.success(), "sk-k\n", "{remote}");
        let out = env.run(&["auth", "status", "--remote-url", &format!("{remote}/")]);
        assert!(
            out.success().starts_with(&format!("{remote}\n")),
            "{remote}"
        );
    }
}

#[test]
fn a_default_port_and_any_ipv6_loopback_spelling_name_the_same_remote() {
    for (stored, given, key) in [
        (
            "https://app.baseten.co",
            "https://app.baseten.co:443",
            "https://app.baseten.co",
        ),
        (
            "https://app.baseten.co:443",
            "https://app.baseten.co",
            "https://app.baseten.co",
        ),
        (
            "http://localhost",
            "http://LOCALHOST:80/",
            "http://localhost",
        ),
        (
            "http://[::1]:8080",
            "http://[0:0:0:0:0:0:0:1]:8080",
            "http://[::1]:8080",
        ),
        (
            "http://[0:0:0:0:0:0:0:1]",
            "http://[::1]:80",
            "http://[::1]",
        ),
    ] {
        let env = Env::with_auth(&store_for(stored));
        let out = env.run(&["auth", "token", "--remote-url", given]);
        assert_eq!(out.success(), "sk-k\n", "{stored} as {given}");
        let out = env.run(&["auth", "status", "--remote-url", given, "--jq", ".host"]);
        assert_eq!(out.success(), format!("\"{key}\"\n"), "{stored} as {given}");
    }
    // A port other than the default is another remote.
    let env = Env::with_auth(&store_for("https://app.baseten.co"));
    let out = env.run(&[
        "auth",
        "token",
        "--remote-url",
        "https://app.baseten.co:8443",
    ]);
    out.failure(1, &["not logged in", "https://app.baseten.co:8443"]);
}

#[test]
fn remote_flag_overrides_env() {
    let env = Env::with_auth(&store_for("https://app.example.com"));
    let flag = ["auth", "token", "--remote-url", "https://app.example.com"];
    let mut cmd = env.cmd(&flag);
    cmd.env("BASETEN_REMOTE_URL", "https://other.example.com");
    assert_eq!(common::run(&mut cmd).success(), "sk-k\n");

    let out = env.run_env(
        &["auth", "token"],
        "BASETEN_REMOTE_URL",
        "https://app.example.com",
    );
    assert_eq!(out.success(), "sk-k\n");

    let mut cmd = env.cmd(&["auth", "token", "--remote-url", "https://other.example.com"]);
    cmd.env("BASETEN_REMOTE_URL", "https://app.example.com");
    common::run(&mut cmd).failure(1, &["not logged in", "https://other.example.com"]);
}

#[test]
fn management_override_is_validated_and_does_not_change_the_store_key() {
    let env = Env::with_auth(&store_for("https://app.baseten.co"));
    let key = "BASETEN_MANAGEMENT_API_URL_OVERRIDE";
    for bad in [
        "http://api.example.com",
        "https://api.example.com/v1",
        "ftp://x",
    ] {
        let out = env.run_env(&["auth", "status"], key, bad);
        out.failure(2, &[key]);
    }
    let out = env.run_env(
        &["auth", "status", "--jq", ".host"],
        key,
        "http://127.0.0.1:9",
    );
    assert_eq!(out.success(), "\"https://app.baseten.co\"\n");
}

/// The version every `version` form prints.
const VERSION: &str = env!("CARGO_PKG_VERSION");

#[test]
fn version_prints_the_bare_version() {
    let env = Env::new();
    assert_eq!(env.run(&["version"]).success(), format!("{VERSION}\n"));
    let out = env.run(&["version", "-o", "json"]);
    assert_eq!(
        out.success(),
        common::pretty(&json!({ "version": VERSION }))
    );
    let out = env.run(&["version", "--jq", ".version"]);
    assert_eq!(out.success(), format!("\"{VERSION}\"\n"));
    // --version keeps its usual form; version takes no argument.
    assert_eq!(
        env.run(&["--version"]).success(),
        format!("baseten {VERSION}\n")
    );
    env.run(&["version", "extra"])
        .failure(2, &["unexpected argument \"extra\""]);
    assert!(!env.auth_path().exists());
}
