//! Output contract (SPEC §2, §9): `text`, `json`, `jsonl`, `none` and control characters
//! on the offline commands `auth status` and `auth token`; and streams that cannot be
//! written (a closed or full stdout, an unwritable stderr) never abort the run.

use crate::common;
use crate::output::jq::token_result;

#[cfg(unix)]
use std::fs;
#[cfg(unix)]
use std::process::Stdio;

use common::{Env, FIXTURE, compact, pretty};
use serde_json::json;

/// Where a run's stderr or stdout goes when it cannot be written: `/dev/full` (every
/// write fails with ENOSPC) or a pipe whose reader is gone (EPIPE).
#[cfg(unix)]
fn unwritable(full: bool) -> Stdio {
    if full {
        let dev_full = fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("open /dev/full");
        Stdio::from(dev_full)
    } else {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        Stdio::from(writer)
    }
}

#[cfg(unix)]
#[test]
fn an_unwritable_stderr_is_ignored_and_nothing_aborts() {
    let env = Env::with_auth(FIXTURE);
    let empty = Env::new();
    for full in [true, false] {
        let how = if full { "/dev/full" } else { "a closed pipe" };
        for (cmd, code, stdout) in [
            // An `error:` line that cannot be written: the exit code still says why.
            (empty.cmd(&["auth", "status"]), 1, ""),
            // A usage error and its usage line.
            (empty.cmd(&["auth", "status", "--bogus"]), 2, ""),
            // `-v` diagnostics on a successful run: the result still reaches stdout.
            (env.cmd(&["auth", "token", "-v"]), 0, "access-abc\n"),
        ] {
            let mut cmd = cmd;
            let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
            let out = cmd.stderr(unwritable(full)).output().expect("run baseten");
            assert_eq!(
                out.status.code(),
                Some(code),
                "{args:?} with stderr on {how}: {:?}",
                out.status
            );
            assert_eq!(String::from_utf8_lossy(&out.stdout), stdout, "{args:?}");
        }
    }
}

#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_the_run_quietly_and_a_full_one_is_an_error() {
    let env = Env::with_auth(FIXTURE);
    for args in [
        &["auth", "status", "--all"][..],
        &["auth", "token", "-o", "json"],
    ] {
        let out = env
            .cmd(args)
            .stdout(unwritable(false))
            .output()
            .expect("run baseten");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");

        let out = env
            .cmd(args)
            .stdout(unwritable(true))
            .output()
            .expect("run baseten");
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("error: cannot write to stdout"),
            "{stderr}"
        );

        // Neither stream writable: still an orderly exit 1, no abort.
        let out = env
            .cmd(args)
            .stdout(unwritable(true))
            .stderr(unwritable(false))
            .status()
            .expect("run baseten");
        assert_eq!(out.code(), Some(1), "{args:?}: {out:?}");
    }
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
