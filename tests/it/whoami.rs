//! `baseten auth whoami`, the online check (SPEC §2, §6b): what the server said in text
//! and JSON, `BASETEN_API_KEY` before the store, a revoked key, an expired OAuth token
//! refreshed and saved, and not logged in or the server down.

use crate::common;
use crate::routes;
use crate::server;

use std::process::Command;

use common::{DEFAULT_REMOTE, Env, Outcome};
use routes::{ME, ME_BODY, TOKEN, api_at, me_server, queue_server, requests_to};
use serde_json::json;
use server::{Reply, Server};

/// A store as the official CLI leaves it: `stg-bot` (API key `KEY-stg`) on `staging` is
/// the current profile; `prod-bot` (API key `KEY-prod`) lives on the default remote;
/// there is no `active_by_remote`.
pub(crate) fn official_store(staging: &str) -> String {
    common::pretty(&json!({
        "version": 1,
        "current": "stg-bot",
        "profiles": {
            "prod-bot": { "remote_url": DEFAULT_REMOTE, "auth_type": "api_key", "api_key": "KEY-prod" },
            "stg-bot": { "remote_url": staging, "auth_type": "api_key", "api_key": "KEY-stg" }
        }
    }))
}

pub(crate) fn run(cmd: &mut Command) -> Outcome {
    common::run(cmd)
}

/// The `Authorization` headers `server` saw on `who am I`, in order.
pub(crate) fn me_auth(server: &Server) -> Vec<String> {
    requests_to(&server.requests(), ME)
        .iter()
        .map(|r| r.header("authorization").unwrap_or_default().to_owned())
        .collect()
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
