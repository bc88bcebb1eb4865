//! The official CLI as people use it today (SPEC §1, §2, §3, §5, §6, §6b): `--profile`
//! on login, `profile` in every result, commands following the current profile to its
//! own remote, `whoami` (the online check) and `version`. Stores are set up the way the
//! official CLI writes them: `current` only, no `active_by_remote`.

use crate::common;
use crate::routes;
use crate::server;

use std::process::Command;

use common::{DEFAULT_REMOTE, Env, Outcome};
use routes::{ME, ME_BODY, TOKEN, me_server, queue_server, requests_to};
use serde_json::json;
use server::{Reply, Server};

/// The version every `version` form prints.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A store as the official CLI leaves it: `stg-bot` (API key `KEY-stg`) on `staging` is
/// the current profile; `prod-bot` (API key `KEY-prod`) lives on the default remote;
/// there is no `active_by_remote`.
fn official_store(staging: &str) -> String {
    common::pretty(&json!({
        "version": 1,
        "current": "stg-bot",
        "profiles": {
            "prod-bot": { "remote_url": DEFAULT_REMOTE, "auth_type": "api_key", "api_key": "KEY-prod" },
            "stg-bot": { "remote_url": staging, "auth_type": "api_key", "api_key": "KEY-stg" }
        }
    }))
}

/// `args` with the management API at `server` and no remote given: the remote comes
/// from the store.
fn api_at(env: &Env, server: &Server, args: &[&str]) -> Command {
    let mut cmd = env.cmd(args);
    cmd.env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", server.url());
    cmd
}

fn run(cmd: &mut Command) -> Outcome {
    common::run(cmd)
}

/// The `Authorization` headers `server` saw on `who am I`, in order.
fn me_auth(server: &Server) -> Vec<String> {
    requests_to(&server.requests(), ME)
        .iter()
        .map(|r| r.header("authorization").unwrap_or_default().to_owned())
        .collect()
}

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

#[test]
fn whoami_text_and_json_print_what_the_server_said() {
    let server = queue_server(&[(
        "GET",
        ME,
        Reply::json(
            200,
            r#"{"user_id":"u-9","email":null,"workspace_name":"W"}"#,
        ),
    )]);
    let env = Env::with_auth(&official_store(&server.url()));
    // Absent or null fields print no line, and null in JSON.
    let out = run(&mut api_at(&env, &server, &["whoami"]));
    assert_eq!(out.success(), "User ID:    u-9\nWorkspace:  W\n");
    let out = run(&mut api_at(&env, &server, &["whoami", "-o", "json"]));
    assert_eq!(
        out.success(),
        common::pretty(
            &json!({"user_id": "u-9", "email": null, "name": null, "workspace_name": "W"})
        )
    );
    // The CI pre-flight prints nothing and succeeds.
    let out = run(&mut api_at(&env, &server, &["whoami", "-o", "none"]));
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
    assert_eq!(me_auth(&server).len(), 3);
}

#[test]
fn whoami_with_a_revoked_key_exits_3_without_showing_it() {
    for status in [401, 403] {
        let server = queue_server(&[(
            "GET",
            ME,
            Reply::json(status, r#"{"error":"KEY-stg is revoked"}"#),
        )]);
        let env = Env::with_auth(&official_store(&server.url()));
        let out = run(&mut api_at(&env, &server, &["whoami", "-o", "none"]));
        out.failure(
            3,
            &[
                "the server rejected the credential of stg-bot",
                &format!("({status})"),
                "baseten auth login",
            ],
        );
        out.assert_no_secrets(&["KEY-stg"]);
        // status, offline, still reports the stored account.
        run(&mut env.cmd(&["auth", "status"])).success();
    }
}

#[test]
fn whoami_uses_baseten_api_key_before_the_store() {
    let server = me_server();
    let env = Env::with_auth(&official_store(&server.url()));
    let mut cmd = api_at(&env, &server, &["whoami", "--jq", ".email"]);
    cmd.env("BASETEN_API_KEY", "sk-from-env");
    assert_eq!(run(&mut cmd).success(), "\"me@example.com\"\n");
    // --user wins over the variable.
    let mut cmd = api_at(&env, &server, &["whoami", "--user", "prod-bot"]);
    cmd.env("BASETEN_API_KEY", "sk-from-env");
    run(&mut cmd).success();
    assert_eq!(
        me_auth(&server),
        ["Api-Key sk-from-env", "Api-Key KEY-prod"]
    );

    // A rejected variable is named, never shown.
    let server = queue_server(&[("GET", ME, Reply::json(401, "{}"))]);
    let mut cmd = Env::new().cmd(&["whoami"]);
    cmd.env("BASETEN_API_KEY", "sk-from-env")
        .env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", server.url());
    let out = run(&mut cmd);
    out.failure(3, &["credential of BASETEN_API_KEY (401)"]);
    out.assert_no_secrets(&["sk-from-env"]);
}

#[test]
fn whoami_refreshes_an_expired_oauth_token_and_saves_the_pair() {
    let server = queue_server(&[
        (
            "POST",
            TOKEN,
            Reply::json(
                200,
                r#"{"access_token":"access-new","refresh_token":"refresh-new","expires_in":3600,"token_type":"Bearer"}"#,
            ),
        ),
        ("GET", ME, Reply::json(200, ME_BODY)),
    ]);
    let store = common::store_of(
        &server.url(),
        Some("me@example.com"),
        json!({"me@example.com": {"auth_type": "oauth", "oauth_credential": {
            "access_token": "access-old", "refresh_token": "refresh-old",
            "expiry": "2001-02-03T04:05:06Z"}}}),
    );
    let env = Env::with_auth(&common::pretty(&store));
    let out = run(&mut api_at(&env, &server, &["whoami", "--jq", ".user_id"]));
    assert_eq!(out.success(), "\"u-1\"\n");
    out.assert_no_secrets(&["access-old", "refresh-old", "access-new", "refresh-new"]);
    let refreshes = requests_to(&server.requests(), TOKEN).len();
    assert_eq!(refreshes, 1);
    assert_eq!(me_auth(&server), ["Bearer access-new"]);
    let saved = &env.profile("me@example.com")["oauth_credential"];
    assert_eq!(saved["access_token"], "access-new");
    assert_eq!(saved["refresh_token"], "refresh-new");
}

#[test]
fn whoami_not_logged_in_or_server_down_exits_1() {
    let out = Env::new().run(&["whoami"]);
    out.failure(1, &["not logged in"]);

    let down = format!("http://{}", common::closed_port());
    let env = Env::with_auth(&official_store(&down));
    let mut cmd = env.cmd(&["whoami"]);
    cmd.env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", &down);
    let out = run(&mut cmd);
    out.failure(1, &[]);
    out.assert_no_secrets(&["KEY-stg"]);
}

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

#[test]
fn token_header_is_the_header_baseten_expects_for_each_kind() {
    let store = json!({
        "version": 1,
        "current": "key",
        "profiles": {
            "key": { "remote_url": DEFAULT_REMOTE, "auth_type": "api_key", "api_key": "KEY-1" },
            "oauth": { "remote_url": DEFAULT_REMOTE, "auth_type": "oauth", "oauth_credential": {
                "access_token": "ACCESS-1", "refresh_token": "R", "expiry": "2099-01-01T00:00:00Z" } }
        }
    });
    let env = Env::with_auth(&common::pretty(&store));
    let out = env.run(&["auth", "token", "--header"]);
    assert_eq!(out.success(), "Authorization: Api-Key KEY-1\n");
    let out = env.run(&["auth", "token", "--header", "--profile", "oauth"]);
    assert_eq!(out.success(), "Authorization: Bearer ACCESS-1\n");
    let out = env.run(&["auth", "token", "--profile", "oauth", "--jq", ".header"]);
    assert_eq!(out.success(), "\"Bearer ACCESS-1\"\n");
    let mut cmd = env.cmd(&["auth", "token", "--header"]);
    cmd.env("BASETEN_API_KEY", "sk-env");
    assert_eq!(run(&mut cmd).success(), "Authorization: Api-Key sk-env\n");

    // Help and man page never pair Bearer with a bare `auth token` of an API key.
    let help = env.run(&["auth", "token", "--help"]).success().to_owned();
    assert!(help.contains("baseten auth token --header"), "{help}");
    assert!(
        !help.contains("Authorization: Bearer $(baseten auth token)\""),
        "{help}"
    );
    let man = env.run(&["man"]).success().to_owned();
    assert!(
        man.contains("auth token \\-\\-header"),
        "man page lacks --header"
    );
}

#[test]
fn whoami_is_documented_as_the_online_check() {
    let env = Env::new();
    let help = env.run(&["whoami", "--help"]).success().to_owned();
    assert!(help.contains("baseten whoami -o none"), "{help}");
    assert!(help.contains("online check"), "{help}");
    let status = env.run(&["auth", "status", "--help"]).success().to_owned();
    assert!(status.contains("baseten whoami"), "{status}");
    let man = env.run(&["man"]).success().to_owned();
    assert!(
        man.contains(".SS \"baseten whoami\""),
        "man page lacks whoami"
    );
    assert!(
        man.contains(".SS \"baseten version\""),
        "man page lacks version"
    );
    let top = env.run(&["--help"]).success().to_owned();
    assert!(
        top.contains("  whoami ") && top.contains("  version "),
        "{top}"
    );
}
