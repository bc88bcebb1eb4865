//! Output contract (SPEC §2): `text`, `json`, `jsonl`, `none`, `--jq`, and control
//! characters, on the offline commands `auth status` and `auth token`.

use crate::common;

use common::{Env, FIXTURE, compact, pretty};
use serde_json::json;

/// The `token` result of [`FIXTURE`]'s active account.
fn token_result() -> serde_json::Value {
    json!({
        "profile": "me@example.com",
        "user": "me@example.com",
        "auth_type": "oauth",
        "token": "access-abc",
        "header": "Bearer access-abc"
    })
}

#[test]
fn text_is_the_documented_lines() {
    let env = Env::with_auth(FIXTURE);
    assert_eq!(env.run(&["auth", "token"]).success(), "access-abc\n");
    let explicit = env.run(&["auth", "token", "--output", "text"]);
    assert_eq!(explicit.success(), "access-abc\n");

    let out = env.run(&["auth", "status"]);
    let lines: Vec<&str> = out.success().lines().collect();
    assert_eq!(
        lines[..3],
        [
            "https://app.baseten.co",
            "  Logged in as me@example.com",
            "  Auth type: oauth"
        ]
    );
    assert!(out.stdout.ends_with('\n'));
}

#[test]
fn json_is_two_space_pretty_with_one_trailing_newline() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "token", "--output", "json"]);
    assert_eq!(out.success(), pretty(&token_result()));

    // status may grow fields: check the named ones and that the text is pretty JSON.
    let out = env.run(&["auth", "status", "-o", "json"]);
    let value = out.json();
    assert_eq!(out.success(), pretty(&value));
    assert!(
        out.stdout
            .starts_with("{\n  \"host\": \"https://app.baseten.co\",\n")
    );
    assert!(!out.stdout.ends_with("\n\n"));
}

#[test]
fn jsonl_is_one_compact_line() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "token", "--output", "jsonl"]);
    assert_eq!(out.success(), compact(&token_result()));

    let out = env.run(&["auth", "status", "-ojsonl"]);
    let value = out.json();
    assert_eq!(out.success(), compact(&value));
    assert_eq!(out.stdout.lines().count(), 1);
    assert_eq!(value["user"], "me@example.com");
}

#[test]
fn none_prints_nothing_but_still_runs_and_fails() {
    let env = Env::with_auth(FIXTURE);
    for cmd in ["status", "token"] {
        let out = env.run(&["auth", cmd, "--output", "none"]);
        assert_eq!(out.success(), "", "{cmd}");
    }
    // The command still runs: the switch lands in the file.
    let out = env.run(&["auth", "switch", "--user", "ci-bot", "-o", "none"]);
    assert_eq!(out.success(), "");
    assert_eq!(
        env.active(common::DEFAULT_REMOTE).as_deref(),
        Some("ci-bot")
    );

    let empty = Env::new();
    for cmd in ["status", "token"] {
        let out = empty.run(&["auth", cmd, "--output", "none"]);
        out.failure(1, &["not logged in"]);
    }
}

#[test]
fn jq_prints_json_quoted_strings_and_implies_json() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "status", "--jq", ".user"]);
    assert_eq!(out.success(), "\"me@example.com\"\n");

    let out = env.run(&["auth", "token", "--jq", "."]);
    assert_eq!(out.success(), pretty(&token_result()));
    let out = env.run(&["auth", "token", "--jq", ".", "--output", "json"]);
    assert_eq!(out.success(), pretty(&token_result()));

    let out = env.run(&["auth", "token", "--jq", "{user, n: 1}"]);
    assert_eq!(
        out.success(),
        pretty(&json!({ "user": "me@example.com", "n": 1 }))
    );
}

#[test]
fn jq_with_jsonl_is_compact() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "token", "--jq", ".", "-o", "jsonl"]);
    assert_eq!(out.success(), compact(&token_result()));
    let out = env.run(&["auth", "token", "-o", "jsonl", "--jq", "{user, n: 1}"]);
    assert_eq!(out.success(), "{\"user\":\"me@example.com\",\"n\":1}\n");
    let out = env.run(&["auth", "token", "-o", "jsonl", "--jq", "[.user, .token]"]);
    assert_eq!(out.success(), "[\"me@example.com\",\"access-abc\"]\n");
}

#[test]
fn jq_prints_each_value_on_its_own_line() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "status", "--jq", ".host, .user"]);
    assert_eq!(
        out.success(),
        "\"https://app.baseten.co\"\n\"me@example.com\"\n"
    );
    let out = env.run(&["auth", "token", "--jq", "empty"]);
    assert_eq!(out.success(), "");
    let out = env.run(&["auth", "token", "--jq", ".user, [1, 2]"]);
    assert_eq!(out.success(), "\"me@example.com\"\n[\n  1,\n  2\n]\n");
}

#[test]
fn jq_with_text_or_none_is_a_usage_error() {
    let env = Env::with_auth(FIXTURE);
    for format in ["text", "none"] {
        let message = format!("--jq cannot be used with --output {format}");
        let out = env.run(&["auth", "status", "--jq", ".user", "--output", format]);
        out.failure(2, &[&message, "Usage: baseten auth status"]);
        let out = env.run(&["auth", "token", "-o", format, "-q", ".user"]);
        out.failure(2, &[&message, "Usage: baseten auth token"]);
    }
}

#[test]
fn jq_syntax_error_is_a_usage_error() {
    let env = Env::with_auth(FIXTURE);
    for expr in [".user |", "{", ".[", "nosuchfunction(1; 2; 3)"] {
        let out = env.run(&["auth", "status", "--jq", expr]);
        let stderr = out.failure(2, &["Usage: baseten auth status"]);
        // The parser's message, not just the usage line.
        assert!(
            stderr.lines().next().unwrap().len() > "error: ".len(),
            "{expr}"
        );
    }
    // Detected before any file write.
    let out = env.run(&["auth", "switch", "--user", "ci-bot", "--jq", ".user |"]);
    out.failure(2, &[]);
    assert_eq!(env.read_auth(), FIXTURE);
}

#[test]
fn jq_runtime_error_exits_1() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "status", "--jq", "error(\"boom\")"]);
    let stderr = out.failure(1, &["boom"]);
    assert!(stderr.starts_with("error: jq error:"), "{stderr}");
    let out = env.run(&["auth", "status", "--jq", ".user + 1"]);
    let stderr = out.failure(1, &[]);
    assert!(stderr.starts_with("error: jq error:"), "{stderr}");
}

#[test]
fn a_long_jq_error_is_cut_to_a_marked_excerpt() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "status", "--jq", "error([range(5000)] | tostring)"]);
    let stderr = out.failure(1, &["jq error: ", "[0,1,2,"]);
    let line = stderr.lines().next().unwrap_or_default();
    assert!(line.ends_with('…'), "{line}");
    assert!(line.chars().count() <= 200 + 20, "{line}");
}

#[test]
fn jq_sees_the_environment() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run_env(
        &["auth", "token", "--jq", "$ENV.SOMEVAR"],
        "SOMEVAR",
        "hello there",
    );
    assert_eq!(out.success(), "\"hello there\"\n");
    let out = env.run_env(&["auth", "token", "--jq", "env.SOMEVAR"], "SOMEVAR", "x");
    assert_eq!(out.success(), "\"x\"\n");
    let out = env.run(&["auth", "token", "--jq", "$ENV.BASETEN_NO_SUCH_VAR"]);
    assert_eq!(out.success(), "null\n");
}

#[test]
fn usual_jq_builtins_work() {
    let env = Env::with_auth(FIXTURE);
    for (expr, expected) in [
        (".user | split(\"@\") | .[1]", "\"example.com\"\n"),
        (".user | ascii_upcase", "\"ME@EXAMPLE.COM\"\n"),
        (".token | length", "10\n"),
        (
            "[.user, .auth_type] | join(\" \")",
            "\"me@example.com oauth\"\n",
        ),
        ("keys | sort | .[0]", "\"auth_type\"\n"),
        (
            "to_entries | map(.key) | index(\"token\") != null",
            "true\n",
        ),
        (".user | test(\"^me@\")", "true\n"),
        ("select(.auth_type == \"api_key\") | .user", ""),
        ("has(\"token\")", "true\n"),
        (".token | @base64", "\"YWNjZXNzLWFiYw==\"\n"),
        (
            "[(.user | ltrimstr(\"me@\")), (1, 2 | tostring)]",
            "[\"example.com\",\"1\",\"2\"]\n",
        ),
    ] {
        let out = env.run(&["auth", "token", "-o", "jsonl", "--jq", expr]);
        assert_eq!(out.success(), expected, "{expr}");
    }
}

/// A store whose active label is full of terminal escape sequences.
const HOSTILE_LABEL: &str = "evil\u{1b}[31mname\u{9b}2J\u{7}";

fn hostile_store() -> String {
    common::store_of(
        common::DEFAULT_REMOTE,
        Some(HOSTILE_LABEL),
        json!({ HOSTILE_LABEL: { "auth_type": "api_key", "api_key": "sk-\u{1b}]0;x" } }),
    )
    .to_string()
}

#[test]
fn text_output_has_no_control_characters() {
    let env = Env::with_auth(&hostile_store());
    let out = env.run(&["auth", "status"]);
    let stdout = out.success();
    assert_eq!(stdout.lines().nth(1), Some("  Logged in as evil[31mname2J"));
    assert!(
        !stdout.chars().any(|c| c.is_control() && c != '\n'),
        "{stdout:?}"
    );
    let out = env.run(&["auth", "token"]);
    assert_eq!(out.success(), "sk-]0;x\n");
}

#[test]
fn json_output_escapes_control_characters() {
    let env = Env::with_auth(&hostile_store());
    for format in ["json", "jsonl"] {
        let out = env.run(&["auth", "status", "-o", format]);
        let stdout = out.success();
        assert!(
            !stdout.chars().any(|c| c.is_control() && c != '\n'),
            "{stdout:?}"
        );
        assert!(
            stdout.contains(r#""user":"evil\u001b[31mname\u009b2J\u0007""#)
                || stdout.contains(r#""user": "evil\u001b[31mname\u009b2J\u0007""#),
            "{stdout}"
        );
        // Escaped, not dropped: the value survives a round trip.
        assert_eq!(out.json()["user"], HOSTILE_LABEL);
    }
    let out = env.run(&["auth", "token", "--jq", ".user"]);
    assert_eq!(out.success(), "\"evil\\u001b[31mname\\u009b2J\\u0007\"\n");
}
