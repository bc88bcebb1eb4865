//! Several accounts in one store (SPEC §6a): choosing one per call (`--user`/`--profile`
//! on status, token and logout, `BASETEN_PROFILE`, the precedence of each pair), an
//! account's own remote against an explicit one, `login --no-switch`, adding an account
//! without taking a remote's active one away, the rules of a name, and `status --all` in
//! every output mode.

mod profiles;

use crate::common;
use crate::routes;
use crate::server;

use common::{DEFAULT_REMOTE, Env, Outcome};
use routes::{ME, queue_server};
use serde_json::{Value, json};
use server::Reply;

const STAGING: &str = "https://app.staging.baseten.co";

/// Three API-key accounts: `ci-bot` (active) and `alt` on the default remote, `stg` on
/// staging, plus an OAuth account `me` on staging with a known expiry.
fn store() -> Env {
    Env::with_auth(
        &json!({
            "version": 1,
            "current": "ci-bot",
            "profiles": {
                "ci-bot": {"remote_url": DEFAULT_REMOTE, "auth_type": "api_key", "api_key": "KEY-ci"},
                "alt": {"remote_url": DEFAULT_REMOTE, "auth_type": "api_key", "api_key": "KEY-alt"},
                "stg": {"remote_url": STAGING, "auth_type": "api_key", "api_key": "KEY-stg"},
                "me": {"remote_url": STAGING, "auth_type": "oauth", "oauth_credential": {
                    "access_token": "ACCESS-me", "refresh_token": "REFRESH-me",
                    "expiry": "2031-05-06T07:08:09+02:00"}}
            },
            "active_by_remote": {STAGING: "stg"}
        })
        .to_string(),
    )
}

/// Runs `args` with the environment variables `vars` set.
fn run(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> Outcome {
    let mut cmd = env.cmd(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    common::run(&mut cmd)
}

/// `token` with `extra` flags and `vars`: the secret printed.
fn token(env: &Env, extra: &[&str], vars: &[(&str, &str)]) -> String {
    let mut args = vec!["auth", "token"];
    args.extend_from_slice(extra);
    run(env, &args, vars).success().trim_end().to_owned()
}

/// `status -o json` with `extra` flags and `vars`.
fn status(env: &Env, extra: &[&str], vars: &[(&str, &str)]) -> Value {
    let mut args = vec!["auth", "status", "-o", "json"];
    args.extend_from_slice(extra);
    let out = run(env, &args, vars);
    out.assert_code(0);
    out.json()
}

const ENV_KEY: (&str, &str) = ("BASETEN_API_KEY", "KEY-env");

const PROFILE_ALT: (&str, &str) = ("BASETEN_PROFILE", "alt");

#[test]
fn each_pair_of_the_precedence_user_env_key_profile_active() {
    let env = store();
    // The active account when nothing else is given.
    assert_eq!(token(&env, &[], &[]), "KEY-ci");
    // --user > the active account; --profile is the same flag.
    assert_eq!(token(&env, &["--user", "alt"], &[]), "KEY-alt");
    assert_eq!(token(&env, &["--profile", "alt"], &[]), "KEY-alt");
    // BASETEN_PROFILE > the active account.
    assert_eq!(token(&env, &[], &[PROFILE_ALT]), "KEY-alt");
    // BASETEN_API_KEY > the active account, and > BASETEN_PROFILE.
    assert_eq!(token(&env, &[], &[ENV_KEY]), "KEY-env");
    assert_eq!(token(&env, &[], &[ENV_KEY, PROFILE_ALT]), "KEY-env");
    // --user > BASETEN_API_KEY, and > BASETEN_PROFILE.
    assert_eq!(token(&env, &["--user", "alt"], &[ENV_KEY]), "KEY-alt");
    assert_eq!(
        token(&env, &["--user", "ci-bot"], &[ENV_KEY, PROFILE_ALT]),
        "KEY-ci"
    );
}

/// Flags, environment, expected `source` and expected `user` of one status call.
type SourceCase<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str, Value);

#[test]
fn status_says_which_source_it_used() {
    let env = store();
    let cases: [SourceCase<'_>; 5] = [
        (&[], &[], "store", json!("ci-bot")),
        (&["--user", "alt"], &[ENV_KEY], "store", json!("alt")),
        (&[], &[PROFILE_ALT], "profile_env", json!("alt")),
        (&[], &[ENV_KEY, PROFILE_ALT], "env", Value::Null),
        (&["--profile", "alt"], &[], "store", json!("alt")),
    ];
    for (flags, vars, source, user) in cases {
        let s = status(&env, flags, vars);
        assert_eq!(s["source"], source, "{flags:?} {vars:?}: {s:#}");
        assert_eq!(s["user"], user, "{flags:?} {vars:?}: {s:#}");
        assert_eq!(s["profile"], user);
        assert_eq!(s["remote_url"], s["host"]);
    }
}

#[test]
fn a_named_account_brings_its_remote_unless_one_is_given() {
    let env = store();
    let s = status(&env, &["--user", "me"], &[]);
    assert_eq!(s["host"], STAGING);
    assert_eq!(s["remote_url"], STAGING);
    assert_eq!(s["expires_at"], "2031-05-06T05:08:09Z");
    assert_eq!(token(&env, &[], &[("BASETEN_PROFILE", "stg")]), "KEY-stg");
    assert_eq!(
        token(&env, &["--user", "stg", "--remote-url", STAGING], &[]),
        "KEY-stg"
    );
    // An explicit remote the account does not belong to: both named, exit 1.
    run(
        &env,
        &[
            "auth",
            "token",
            "--user",
            "stg",
            "--remote-url",
            DEFAULT_REMOTE,
        ],
        &[],
    )
    .failure(1, &["\"stg\"", STAGING, DEFAULT_REMOTE]);
    run(
        &env,
        &["auth", "status"],
        &[
            ("BASETEN_PROFILE", "stg"),
            ("BASETEN_REMOTE_URL", DEFAULT_REMOTE),
        ],
    )
    .failure(1, &["\"stg\"", STAGING, DEFAULT_REMOTE]);
}

#[test]
fn unknown_names_are_not_found_and_reads_change_nothing() {
    let env = store();
    let before = env.read_auth();
    for args in [
        &["auth", "token", "--user", "nobody"][..],
        &["auth", "status", "--profile", "nobody"],
        &["auth", "logout", "--user", "nobody"],
    ] {
        run(&env, args, &[]).failure(1, &["\"nobody\"", "not found"]);
    }
    run(&env, &["auth", "token"], &[("BASETEN_PROFILE", "nobody")])
        .failure(1, &["\"nobody\"", "BASETEN_PROFILE", "not found"]);
    token(&env, &["--user", "alt"], &[]);
    status(&env, &["--user", "me"], &[PROFILE_ALT]);
    assert_eq!(env.read_auth(), before, "a read changed the store");
}

#[test]
fn logout_of_a_named_account_keeps_the_active_one() {
    let env = store();
    run(&env, &["auth", "logout", "--user", "alt"], &[]).success();
    let file = env.auth_json();
    assert!(file["profiles"].get("alt").is_none(), "{file:#}");
    assert_eq!(file["current"], "ci-bot");
    assert_eq!(token(&env, &[], &[]), "KEY-ci");
    // logout ignores BASETEN_PROFILE (SPEC §6a): it removes the current profile; an API
    // key removes no session.
    let out = run(&env, &["auth", "logout"], &[("BASETEN_PROFILE", "stg")]);
    assert_eq!(out.success(), "Logged out ci-bot\n");
    assert!(env.auth_json()["profiles"].get("ci-bot").is_none());
    assert!(env.auth_json()["profiles"].get("stg").is_some());
}

#[test]
fn switch_takes_profile_as_well() {
    let env = store();
    let out = run(&env, &["auth", "switch", "--profile", "alt"], &[]);
    assert_eq!(out.success(), "Switched to alt\n");
    assert_eq!(token(&env, &[], &[]), "KEY-alt");
}

#[test]
fn login_with_no_switch_stores_without_changing_the_active_account() {
    let server = queue_server(&[(
        "GET",
        ME,
        Reply::json(
            200,
            r#"{"user_id":"u","email":"e@x.com","name":"n","workspace_name":"w"}"#,
        ),
    )]);
    let env = Env::new();
    let login = |label: &str, key: &str, extra: &[&str]| {
        let mut args = common::api_key_login_args(label).to_vec();
        args.extend_from_slice(extra);
        common::run_with_stdin(&mut env.cmd_at(&server.url(), &args), &format!("{key}\n"))
            .assert_code(0);
    };
    login("first", "sk-first", &[]);
    login("second", "sk-second", &["--no-switch"]);
    let file = env.auth_json();
    assert_eq!(file["current"], "first");
    assert_eq!(file["profiles"]["second"]["api_key"], "sk-second");
    let out = common::run(&mut env.cmd_at(&server.url(), &["auth", "token"]));
    assert_eq!(out.success(), "sk-first\n");
    // Without --no-switch the new account becomes the active one.
    login("third", "sk-third", &["--no-switch=false"]);
    assert_eq!(env.auth_json()["current"], "third");
}

/// The objects `status --all` describes [`store`] with, in output order.
fn all_objects() -> Vec<Value> {
    let object = |host: &str, user: &str, auth_type: &str, expires: Value, active: bool| {
        json!({"host": host, "user": user, "auth_type": auth_type, "storage": "file",
               "expires_at": expires, "active": active, "profile": user, "remote_url": host})
    };
    vec![
        object(DEFAULT_REMOTE, "ci-bot", "api_key", Value::Null, true),
        object(DEFAULT_REMOTE, "alt", "api_key", Value::Null, false),
        object(STAGING, "stg", "api_key", Value::Null, true),
        object(STAGING, "me", "oauth", json!("2031-05-06T05:08:09Z"), false),
    ]
}

#[test]
fn status_all_in_every_output_mode() {
    let env = store();
    let out = run(&env, &["auth", "status", "--all"], &[]);
    assert_eq!(
        out.success(),
        "https://app.baseten.co\n\
         \x20 * ci-bot (api_key, file) active\n\
         \x20   alt (api_key, file)\n\
         https://app.staging.baseten.co\n\
         \x20 * stg (api_key, file) active\n\
         \x20   me (oauth, file, expires 2031-05-06T05:08:09Z)\n"
    );
    let objects = all_objects();
    let out = run(&env, &["auth", "status", "--all", "-o", "json"], &[]);
    assert_eq!(
        out.success(),
        common::pretty(&Value::Array(objects.clone()))
    );
    let out = run(&env, &["auth", "status", "--all", "-o", "jsonl"], &[]);
    let lines: String = objects.iter().map(common::compact).collect();
    assert_eq!(out.success(), lines);
    let out = run(&env, &["auth", "status", "--all", "-o", "none"], &[]);
    assert_eq!(out.success(), "");
}

#[test]
fn status_all_runs_jq_on_each_object() {
    let env = store();
    // --jq implies jsonl: one compact line per output.
    let out = run(
        &env,
        &["auth", "status", "--all", "--jq", "{user, active}"],
        &[],
    );
    let want: String = all_objects()
        .iter()
        .map(|o| common::compact(&json!({"user": o["user"], "active": o["active"]})))
        .collect();
    assert_eq!(out.success(), want);
    let out = run(
        &env,
        &["auth", "status", "--all", "--jq", "select(.active) | .user"],
        &[],
    );
    assert_eq!(out.success(), "\"ci-bot\"\n\"stg\"\n");
    // Under an explicit json, each output is pretty.
    let out = run(
        &env,
        &[
            "auth",
            "status",
            "--all",
            "-o",
            "json",
            "--jq",
            "select(.user == \"me\") | {host}",
        ],
        &[],
    );
    assert_eq!(
        out.success(),
        "{\n  \"host\": \"https://app.staging.baseten.co\"\n}\n"
    );
    run(&env, &["auth", "status", "--all", "--jq", ".a |"], &[]).failure(2, &["--jq"]);
}

#[test]
fn status_all_of_an_empty_store_succeeds_and_says_so_on_stderr() {
    let env = Env::new();
    let out = run(&env, &["auth", "status", "--all"], &[]);
    out.assert_code(0);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("no accounts are stored"), "{out:#?}");
    let out = run(&env, &["auth", "status", "--all", "-o", "json"], &[]);
    out.assert_code(0);
    assert_eq!(out.stdout, "[]\n");
}

#[test]
fn status_all_and_user_together_are_a_usage_error() {
    let env = store();
    run(&env, &["auth", "status", "--all", "--user", "alt"], &[])
        .failure(2, &["--all", "--user", "Usage: baseten auth status"]);
}

#[test]
fn the_account_list_for_completions_is_every_name_and_nothing_else() {
    let env = store();
    let out = run(&env, &["__accounts"], &[]);
    assert_eq!(out.success(), "ci-bot\nalt\nstg\nme\n");
    // A broken store lists nothing and prints nothing: completions must stay quiet.
    env.write_auth("{not json");
    let out = run(&env, &["__accounts"], &[]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
}

#[test]
fn switching_on_one_remote_keeps_the_others_active_account() {
    let env = store();
    // `me` lives on staging: the named account brings its remote.
    let out = run(&env, &["auth", "switch", "--user", "me"], &[]);
    assert_eq!(out.success(), "Switched to me\n");
    let file = env.auth_json();
    assert_eq!(file["current"], "me");
    assert_eq!(file["active_by_remote"][STAGING], "me");
    // Without a remote given, commands follow the current profile to staging (SPEC §3);
    // the default remote's account, active through `current` until now, stays active.
    assert_eq!(token(&env, &[], &[]), "ACCESS-me");
    assert_eq!(
        token(&env, &["--remote-url", DEFAULT_REMOTE], &[]),
        "KEY-ci"
    );
    assert_eq!(token(&env, &["--remote-url", STAGING], &[]), "ACCESS-me");
    run(
        &env,
        &[
            "auth",
            "switch",
            "--user",
            "me",
            "--remote-url",
            DEFAULT_REMOTE,
        ],
        &[],
    )
    .failure(1, &["\"me\"", STAGING, DEFAULT_REMOTE]);
}

/// Names the official CLI stores without checking them, each breaking one rule of a name
/// (SPEC §9): a control character, a zero-width (format) character, 300 characters.
fn broken_names() -> [String; 3] {
    [
        "bell\u{7}bot".to_owned(),
        "zero\u{200b}width".to_owned(),
        "n".repeat(300),
    ]
}

/// A store holding `ok` and the [`broken_names`] (API keys `KEY-0`, `KEY-1`, `KEY-2`),
/// written as the official CLI writes it: 2-space indent, keys sorted, control
/// characters escaped, everything else as UTF-8, a trailing newline.
fn official_store_with_broken_names() -> Env {
    let mut profiles: Vec<(String, String)> = broken_names()
        .into_iter()
        .enumerate()
        .map(|(i, name)| (name, format!("KEY-{i}")))
        .collect();
    profiles.push(("ok".to_owned(), "KEY-ok".to_owned()));
    profiles.sort();
    let entries: Vec<String> = profiles
        .iter()
        .map(|(name, key)| {
            format!(
                "    {}: {{\n      \"remote_url\": \"{DEFAULT_REMOTE}\",\n      \
                 \"auth_type\": \"api_key\",\n      \"api_key\": \"{key}\"\n    }}",
                // Go's encoder and serde_json quote alike here: `\u0007`, the rest raw.
                serde_json::to_string(name).expect("quote")
            )
        })
        .collect();
    Env::with_auth(&format!(
        "{{\n  \"version\": 1,\n  \"current\": \"ok\",\n  \"profiles\": {{\n{}\n  }}\n}}\n",
        entries.join(",\n")
    ))
}

#[test]
fn names_the_official_cli_stored_against_the_rules_are_listed_and_usable_exactly() {
    let env = official_store_with_broken_names();
    let [bell, zero, long] = broken_names();
    // Listed, cleaned in text, lossless in JSON.
    let out = run(&env, &["auth", "status", "--all"], &[]);
    let text = out.success();
    for shown in [
        "bellbot (api_key",
        "zerowidth (api_key",
        &format!("{long} (api_key"),
    ] {
        assert!(text.contains(shown), "{shown:?} missing: {text}");
    }
    assert!(!text.contains(['\u{7}', '\u{200b}']), "{text:?}");
    let out = run(&env, &["auth", "status", "--all", "--jq", ".user"], &[]);
    assert_eq!(
        out.success(),
        format!("\"bell\\u0007bot\"\n\"{long}\"\n\"ok\"\n\"zero\\u200bwidth\"\n")
    );
    // Usable exactly as stored, by --user and --profile, and by BASETEN_PROFILE.
    assert_eq!(token(&env, &["--user", &zero], &[]), "KEY-1");
    assert_eq!(token(&env, &["--profile", &long], &[]), "KEY-2");
    assert_eq!(token(&env, &[], &[("BASETEN_PROFILE", &bell)]), "KEY-0");
    let before = env.read_auth();
    run(&env, &["auth", "switch", "--user", &bell], &[]).assert_code(0);
    let after = env.auth_json();
    assert_eq!(after["current"], bell.as_str());
    assert_eq!(token(&env, &[], &[]), "KEY-0");
    // Never rewritten: every name is still there, byte for byte.
    let names: Vec<&String> = after["profiles"]
        .as_object()
        .expect("profiles")
        .keys()
        .collect();
    assert_eq!(names.len(), 4, "{after}");
    for name in [&bell, &zero, &long] {
        assert!(names.contains(&name), "{name:?} rewritten: {after}");
    }
    assert_ne!(env.read_auth(), before);
    // Removed by logout --user quoting it exactly; the others stay.
    for name in [&zero, &long] {
        run(&env, &["auth", "logout", "--user", name], &[]).assert_code(0);
        assert!(env.auth_json()["profiles"].get(name.as_str()).is_none());
    }
    let left: Vec<String> = env.auth_json()["profiles"]
        .as_object()
        .expect("profiles")
        .keys()
        .cloned()
        .collect();
    assert_eq!(left, [bell.clone(), "ok".to_owned()]);
}

#[test]
fn a_name_against_the_rules_that_is_not_stored_exactly_is_a_usage_error() {
    let env = official_store_with_broken_names();
    let [bell, zero, long] = broken_names();
    let before = env.read_auth();
    // Not stored at all, or stored only under another spelling (untrimmed, truncated).
    for name in ["nobody\u{7}", &format!(" {zero}"), &long[1..], "x\u{200b}"] {
        for args in [
            vec!["auth", "switch", "--user", name],
            vec!["auth", "logout", "--user", name],
            vec!["auth", "token", "--profile", name],
        ] {
            run(&env, &args, &[]).failure(2, &["account name"]);
        }
    }
    run(
        &env,
        &["auth", "switch", "--user", &format!("{bell} ")],
        &[],
    )
    .failure(2, &["control"]);
    assert_eq!(env.read_auth(), before);
}

#[test]
fn baseten_profile_follows_the_rules_of_a_name_and_says_so() {
    let env = store();
    // Trimmed like --user.
    assert_eq!(
        token(&env, &[], &[("BASETEN_PROFILE", "  alt\t")]),
        "KEY-alt"
    );
    for (value, why) in [
        ("   ", "empty"),
        ("a\u{202e}b", "format"),
        ("a\u{1}b", "control"),
        (&"p".repeat(257), "longer than 256"),
    ] {
        for args in [&["auth", "token"][..], &["auth", "status"], &["whoami"]] {
            run(&env, args, &[("BASETEN_PROFILE", value)]).failure(2, &["BASETEN_PROFILE", why]);
        }
    }
    // logout ignores the variable (SPEC §6a), so a bad value does not stop it.
    let out = run(
        &env,
        &["auth", "logout", "--user", "alt"],
        &[("BASETEN_PROFILE", "   ")],
    );
    out.assert_code(0);
}

#[cfg(unix)]
#[test]
fn adding_an_account_keeps_the_only_account_of_its_remote_active() {
    let server = routes::me_server();
    let remote = server.url();
    // `first` is its remote's active account only by being its only one: `current` is an
    // account of another remote, and nothing points at `first`.
    let file = json!({"version": 1, "current": "other", "profiles": {
        "first": {"remote_url": remote, "auth_type": "api_key", "api_key": "sk-first"},
        "other": {"remote_url": "https://app.baseten.co", "auth_type": "api_key",
                  "api_key": "sk-other"}}});
    let env = Env::with_auth(&file.to_string());
    let login = [
        "auth",
        "login",
        "--with-api-key",
        "--label",
        "second",
        "--no-switch",
    ];
    common::run_with_stdin(&mut env.cmd_at(&remote, &login), "sk-second\n").assert_code(0);

    assert_eq!(env.active(&remote).as_deref(), Some("first"));
    let out = common::run(&mut env.cmd_at(&remote, &["auth", "token"]));
    assert_eq!(out.success(), "sk-first\n");
    assert_eq!(env.profile("second")["api_key"], "sk-second");
}
