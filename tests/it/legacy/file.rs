//! A legacy `auth.json` (SPEC §7), written by hand and by the official CLI's own code
//! (`tests/fixtures/official-store/`): read as it is, null users as an empty store, and
//! converted to the profiles layout on the first write.

use crate::common;
use crate::routes;
use crate::server;
use crate::store::official::{ME_BODY, STAGING, fixture, json_of, official_view, token};

use common::{DEFAULT_REMOTE, Env, LEGACY_FIXTURE};
use routes::ME;
use serde_json::{Value, json};
use server::{Queue, Reply, Server};

#[test]
fn the_legacy_layout_is_read_then_converted_on_the_first_write() {
    let env = Env::with_auth(&fixture("v1-hosts.json"));
    // Read: active_user decides, and the label taken by the default remote gets the
    // official suffix on staging.
    assert_eq!(json_of(&env, &["auth", "status"])["user"], "ci-bot");
    assert_eq!(token(&env, &[]), "KEY-ci-bot-1");
    let staging = json_of(&env, &["auth", "status", "--remote-url", STAGING]);
    assert_eq!(staging["user"], "me@example.com:staging.baseten.co");
    assert_eq!(
        staging["expires_at"],
        Value::Null,
        "Go's zero time is unknown"
    );
    let untouched = fixture("v1-hosts.json");
    assert_eq!(env.read_auth(), untouched, "reads never write");

    env.run(&["auth", "switch", "--user", "me@example.com"])
        .success();
    let after = env.auth_json();
    assert!(after.get("hosts").is_none(), "{after:#}");
    assert_eq!(
        official_view(&after),
        json!({
            "current": "me@example.com",
            "profiles": {
                "ci-bot": {"remote_url": DEFAULT_REMOTE, "auth_type": "api_key",
                           "api_key": "KEY-ci-bot-1", "oauth_credential": null},
                "me@example.com": {"remote_url": DEFAULT_REMOTE, "auth_type": "oauth",
                    "api_key": null,
                    "oauth_credential": {"access_token": "ACCESS-me", "refresh_token": "REFRESH-me",
                                         "expiry": "2031-05-06T07:08:09.987654321+02:00"}},
                "me@example.com:staging.baseten.co": {"remote_url": STAGING, "auth_type": "oauth",
                    "api_key": null,
                    "oauth_credential": {"access_token": "ACCESS-stg", "refresh_token": "REFRESH-stg",
                                         "expiry": "0001-01-01T00:00:00Z"}}
            }
        })
    );
    // Each remote's active account survives the conversion.
    let staging = json_of(&env, &["auth", "status", "--remote-url", STAGING]);
    assert_eq!(staging["user"], "me@example.com:staging.baseten.co");
    assert_eq!(token(&env, &[]), "ACCESS-me");
}

#[test]
fn a_legacy_file_with_null_users_is_an_empty_store_not_a_corrupt_one() {
    let env = Env::with_auth(&fixture("v1-users-null.json"));
    env.run(&["auth", "status"]).failure(1, &["not logged in"]);
    env.run(&["auth", "status", "--remote-url", DEFAULT_REMOTE])
        .failure(1, &["not logged in", DEFAULT_REMOTE]);
    let server = Server::start(
        Queue::new()
            .push("GET", ME, Reply::json(200, ME_BODY))
            .handler(),
    );
    common::run_with_stdin(
        &mut env.cmd_at(&server.url(), &common::api_key_login_args("ci")),
        "sk-new-1\n",
    )
    .assert_code(0);
    let after = env.auth_json();
    assert!(after.get("hosts").is_none(), "{after:#}");
    assert_eq!(after["current"], "ci");
    assert_eq!(after["profiles"]["ci"]["remote_url"], server.url());
    assert_eq!(after["profiles"]["ci"]["api_key"], "sk-new-1");
}

/// The legacy `hosts` layout is read, and the first write converts it to profiles: the
/// `hosts` key is gone, every account and secret is kept, the active account stays
/// active, and unknown top-level and per-account keys survive.
#[test]
fn a_legacy_store_is_read_and_converted_on_the_first_write() {
    let mut legacy: Value = serde_json::from_str(LEGACY_FIXTURE).unwrap();
    legacy["x_top"] = json!({ "nested": [1, "two", null] });
    let users = &mut legacy["hosts"][DEFAULT_REMOTE]["users"];
    users["ci-bot"]["x_entry"] = json!({ "n": 7 });
    users["me@example.com"]["oauth_credential"]["x_cred"] = json!(["a"]);
    let text = serde_json::to_string_pretty(&legacy).unwrap();
    let env = Env::with_auth(&text);

    // Reads leave the file as it is.
    assert_eq!(env.run(&["auth", "token"]).success(), "access-abc\n");
    let out = env.run(&["auth", "status", "--jq", ".user"]);
    assert_eq!(out.success(), "\"me@example.com\"\n");
    assert_eq!(env.read_auth(), text);

    env.run(&["auth", "switch", "--user", "ci-bot"]).success();
    let after = env.auth_json();
    assert!(after.get("hosts").is_none(), "{after:#}");
    assert_eq!(after["version"], 1);
    assert_eq!(after["x_top"], legacy["x_top"]);
    assert_eq!(env.active(DEFAULT_REMOTE).as_deref(), Some("ci-bot"));
    assert_eq!(after["current"], "ci-bot");
    assert_eq!(
        env.profile_names(DEFAULT_REMOTE),
        ["ci-bot", "me@example.com"]
    );
    let ci = env.profile("ci-bot");
    assert_eq!(ci["auth_type"], "api_key");
    assert_eq!(ci["api_key"], "sk-ci-123");
    assert_eq!(ci["x_entry"], json!({ "n": 7 }));
    let me = env.profile("me@example.com");
    assert_eq!(me["auth_type"], "oauth");
    let cred = &me["oauth_credential"];
    assert_eq!(cred["access_token"], "access-abc");
    assert_eq!(cred["refresh_token"], "refresh-abc");
    assert_eq!(cred["expiry"], "2099-01-02T03:04:05Z");
    assert_eq!(cred["x_cred"], json!(["a"]));

    // The converted store reads as before.
    env.run(&["auth", "switch", "--user", "me@example.com"])
        .success();
    assert_eq!(env.run(&["auth", "token"]).success(), "access-abc\n");
}
