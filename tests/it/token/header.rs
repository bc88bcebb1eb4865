//! The `header` of `token`'s result (SPEC §2, §6b): the one Baseten expects for each
//! kind of account, as the official CLI gives it.

use crate::common;
use crate::whoami::run;

use common::{DEFAULT_REMOTE, Env};
use serde_json::json;

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
