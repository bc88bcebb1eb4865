//! Profiles the way the official CLI names them (SPEC §1, §2, §3, §6, §6b): `--profile`
//! on login, `profile` in every result, and commands following the current profile to its
//! own remote. Stores are set up the way the official CLI writes them: `current` only, no
//! `active_by_remote`.

use crate::common;
use crate::routes;
use crate::routes::api_at;
use crate::whoami::{me_auth, official_store, run};

use common::{DEFAULT_REMOTE, Env};
use routes::me_server;

#[test]
fn status_token_and_whoami_follow_the_current_profile_to_its_remote() {
    let server = me_server();
    let staging = server.url();
    let env = Env::with_auth(&official_store(&staging));

    let status = run(&mut env.cmd(&["auth", "status", "-o", "json"]));
    let json = status.json();
    assert_eq!(json["profile"], "stg-bot", "{status:#?}");
    assert_eq!(json["user"], "stg-bot");
    assert_eq!(json["host"], staging);
    assert_eq!(json["remote_url"], staging);
    let text = run(&mut env.cmd(&["auth", "status"]));
    assert!(
        text.success()
            .starts_with(&format!("{staging}\n  Logged in as stg-bot\n")),
        "{text:#?}"
    );
    assert_eq!(run(&mut env.cmd(&["auth", "token"])).success(), "KEY-stg\n");

    let out = run(&mut api_at(&env, &server, &["whoami"]));
    assert_eq!(
        out.success(),
        "User ID:    u-1\nEmail:      me@example.com\nName:       Me\nWorkspace:  Acme\n"
    );
    assert_eq!(me_auth(&server), ["Api-Key KEY-stg"]);

    // A remote given explicitly wins: its active account (its only profile here).
    let given = ["--remote-url", DEFAULT_REMOTE];
    let token = run(&mut env.cmd(&["auth", "token", given[0], given[1]]));
    assert_eq!(token.success(), "KEY-prod\n");
    let mut cmd = env.cmd(&["auth", "token"]);
    cmd.env("BASETEN_REMOTE_URL", DEFAULT_REMOTE);
    assert_eq!(run(&mut cmd).success(), "KEY-prod\n");
    let out = run(&mut api_at(&env, &server, &["whoami", given[0], given[1]]));
    out.success();
    assert_eq!(me_auth(&server), ["Api-Key KEY-stg", "Api-Key KEY-prod"]);
    // Reads changed nothing.
    assert_eq!(env.read_auth(), official_store(&staging));
}

#[test]
fn logout_follows_the_current_profile_and_then_has_none() {
    let env = Env::with_auth(&official_store("http://127.0.0.1:9"));
    let out = run(&mut env.cmd(&["auth", "logout", "--jq", ".profile"]));
    assert_eq!(out.success(), "\"stg-bot\"\n");
    let file = env.auth_json();
    assert!(file["profiles"].get("stg-bot").is_none(), "{file:#}");
    assert_eq!(file["profiles"]["prod-bot"]["api_key"], "KEY-prod");

    // No current profile now: nothing else is tried, in the official CLI's words.
    let before = env.read_auth();
    let out = run(&mut env.cmd(&["auth", "logout"]));
    out.failure(1, &["no current profile", "--profile"]);
    let out = run(&mut env.cmd(&["auth", "token"]));
    out.failure(1, &["not logged in", "no current profile"]);
    assert_eq!(env.read_auth(), before);
    // Named, it goes.
    let out = run(&mut env.cmd(&["auth", "logout", "--profile", "prod-bot"]));
    assert_eq!(out.success(), "Logged out prod-bot\n");
}

#[test]
fn login_takes_profile_as_the_official_spelling_of_label() {
    // The official documentation's own example.
    let env = Env::new();
    let server = me_server();
    let mut cmd = env.cmd_at(
        &server.url(),
        &[
            "auth",
            "login",
            "--with-api-key",
            "--profile",
            "ci",
            "--insecure-storage",
        ],
    );
    let out = common::run_with_stdin(&mut cmd, "sk-doc-1\n");
    assert_eq!(
        out.success(),
        "Logged in as me@example.com (Acme) as profile ci\n"
    );
    assert_eq!(env.profile("ci")["api_key"], "sk-doc-1");
    assert_eq!(env.auth_json()["current"], "ci");

    let mut cmd = env.cmd_at(
        &server.url(),
        &[
            "auth",
            "login",
            "--with-api-key",
            "--profile",
            "ci2",
            "--insecure-storage",
            "--jq",
            ".profile",
        ],
    );
    assert_eq!(
        common::run_with_stdin(&mut cmd, "sk-doc-2\n").success(),
        "\"ci2\"\n"
    );

    // Both spellings at once, or neither off a terminal: usage errors naming both, before
    // the key is read or the server asked.
    let before = env.read_auth();
    let asked = server.requests().len();
    for (args, needles) in [
        (
            &["--label", "a", "--profile", "b"][..],
            &["--label", "--profile"][..],
        ),
        (&[], &["--label", "--profile"]),
    ] {
        let mut all = vec!["auth", "login", "--with-api-key"];
        all.extend_from_slice(args);
        let mut cmd = env.cmd_at(&server.url(), &all);
        let out = common::run_with_stdin(&mut cmd, "sk-doc-3\n");
        out.failure(2, needles);
        assert!(!out.stderr.contains("sk-doc-3"), "{out:#?}");
    }
    assert_eq!(server.requests().len(), asked);
    assert_eq!(env.read_auth(), before);
}

#[test]
fn every_result_carries_profile_equal_to_user() {
    let env = Env::with_auth(&official_store("http://127.0.0.1:9"));
    for args in [
        &["auth", "status"][..],
        &["auth", "token"],
        &["auth", "switch", "--profile", "prod-bot"],
        &["auth", "status"],
        &["auth", "token"],
    ] {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        let out = run(&mut env.cmd(&all));
        let json = out.json();
        out.success();
        assert!(json["profile"].is_string(), "{args:?}: {json}");
        assert_eq!(json["profile"], json["user"], "{args:?}");
    }
    assert_eq!(env.auth_json()["current"], "prod-bot");
    // switch's own text, and the official --jq example.
    let out = run(&mut env.cmd(&["auth", "switch", "--profile", "stg-bot", "--jq", ".profile"]));
    assert_eq!(out.success(), "\"stg-bot\"\n");
    let out = run(&mut env.cmd(&["auth", "status", "--all", "--jq", ".profile"]));
    assert_eq!(out.success(), "\"prod-bot\"\n\"stg-bot\"\n");
}

#[test]
fn switch_without_a_name_off_a_terminal_names_both_spellings() {
    let env = Env::with_auth(&official_store("http://127.0.0.1:9"));
    let out = run(&mut env.cmd(&["auth", "switch"]));
    out.failure(2, &["--user", "--profile"]);
}
