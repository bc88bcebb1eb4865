//! `baseten auth login --with-api-key` against the local test server (SPEC §4, §5, §8):
//! the request it sends, what it prints, what it stores, and how it fails.

use crate::common;
use crate::routes;
use crate::server;

use common::{Env, Outcome};
use routes::{ME, account, pointed};
use serde_json::{Value, json};
use server::{Reply, Server};

const ME_BODY: &str =
    r#"{"user_id":"u-42","email":"me@example.com","name":"Me Myself","workspace_name":"Acme"}"#;

/// A `who am I` answer with a null `user_id` and no name or workspace.
const NULL_USER_ID: &str = r#"{"user_id":null,"email":"only@example.com"}"#;

/// A server whose `who am I` answers `reply` (and 404 for everything else).
fn me_server(reply: Reply) -> Server {
    routes::queue_server(&[("GET", ME, reply)])
}

/// `baseten auth login --with-api-key --insecure-storage <extra>` pointed at `server`,
/// with `key_line` on stdin.
fn login(env: &Env, server: &Server, extra: &[&str], key_line: &str) -> Outcome {
    let mut args = vec!["auth", "login", "--with-api-key", "--insecure-storage"];
    args.extend_from_slice(extra);
    common::run_with_stdin(&mut pointed(env, server, &args), key_line)
}

/// The API key stored for `label` under `server`.
#[track_caller]
fn stored_key(env: &Env, server: &Server, label: &str) -> Value {
    account(env, server, label)["api_key"].clone()
}

/// The active account of `server`'s remote.
fn active(env: &Env, server: &Server) -> Option<String> {
    env.active(&server.url())
}

#[test]
fn sends_the_key_and_user_agent_prints_and_stores_the_account() {
    let env = Env::new();
    let server = me_server(Reply::json(200, ME_BODY));
    let out = login(&env, &server, &["--label", "ci"], "sk-live-0001\n");
    out.assert_code(0);
    assert_eq!(
        out.stdout,
        "Logged in as me@example.com (Acme) as profile ci\n"
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let r = &requests[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", ME));
    assert_eq!(r.header("authorization"), Some("Api-Key sk-live-0001"));
    assert_eq!(
        r.header("user-agent"),
        Some(concat!("baseten-rs/", env!("CARGO_PKG_VERSION")))
    );

    let file = env.auth_json();
    assert_eq!(file["current"], "ci");
    assert_eq!(file["active_by_remote"][server.url()], "ci");
    let ci = account(&env, &server, "ci");
    assert_eq!(ci["auth_type"], "api_key");
    assert_eq!(ci["api_key"], "sk-live-0001");
    assert_eq!(file["profiles"].as_object().unwrap().len(), 1, "{file:#}");
}

#[test]
fn json_result_has_the_user_fields_label_and_auth_type() {
    let env = Env::new();
    let server = me_server(Reply::json(200, ME_BODY));
    let out = login(
        &env,
        &server,
        &["--label", "ci", "-o", "json"],
        "sk-live-0002\n",
    );
    out.assert_code(0);
    assert_eq!(
        out.json(),
        json!({
            "profile": "ci",
            "user_id": "u-42",
            "email": "me@example.com",
            "name": "Me Myself",
            "workspace_name": "Acme",
            "user": "ci",
            "auth_type": "api_key",
        }),
        "{out:#?}"
    );
    assert_eq!(out.stdout, common::pretty(&out.json()));
}

#[test]
fn the_key_is_trimmed_and_only_the_first_line_is_read() {
    let env = Env::new();
    let server = me_server(Reply::json(200, ME_BODY));
    let out = login(
        &env,
        &server,
        &["--label", "ci"],
        "  sk-live-0003 \t\nsecond-line\n",
    );
    out.assert_code(0);
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Api-Key sk-live-0003")
    );
    assert_eq!(stored_key(&env, &server, "ci"), "sk-live-0003");
}

#[test]
fn null_and_absent_user_fields_print_empty_in_text() {
    let env = Env::new();
    let server = me_server(Reply::json(200, NULL_USER_ID));
    let out = login(&env, &server, &["--label", "ci"], "sk-live-0004\n");
    out.assert_code(0);
    assert_eq!(
        out.stdout,
        "Logged in as only@example.com () as profile ci\n"
    );

    // A second server is another remote: its account needs a name of its own.
    let server = me_server(Reply::json(200, r#"{"email":null,"workspace_name":null}"#));
    let out = login(&env, &server, &["--label", "ci-2"], "sk-live-0004\n");
    out.assert_code(0);
    assert_eq!(out.stdout, "Logged in as  () as profile ci-2\n");
    assert_eq!(stored_key(&env, &server, "ci-2"), "sk-live-0004");
}

/// SPEC §2: the login JSON fields are strings (only §6 names null fields), and §4 says a
/// null or absent `who am I` field prints empty.
#[test]
fn null_and_absent_user_fields_are_empty_strings_in_json() {
    let env = Env::new();
    let server = me_server(Reply::json(200, NULL_USER_ID));
    let out = login(
        &env,
        &server,
        &["--label", "ci", "-o", "json"],
        "sk-live-0005\n",
    );
    out.assert_code(0);
    assert_eq!(
        out.json(),
        json!({
            "profile": "ci",
            "user_id": "",
            "email": "only@example.com",
            "name": "",
            "workspace_name": "",
            "user": "ci",
            "auth_type": "api_key",
        }),
        "{out:#?}"
    );
}

#[test]
fn a_rejected_key_exits_3_and_stores_nothing() {
    for status in [401, 403] {
        let env = Env::new();
        let server = me_server(Reply::json(status, r#"{"error":"invalid api key"}"#));
        let out = login(&env, &server, &["--label", "ci"], "sk-bad-0006\n");
        out.failure(3, &[]);
        out.assert_no_secrets(&["sk-bad-0006"]);
        assert!(
            !env.auth_path().exists(),
            "auth.json written after {status}"
        );
        assert_eq!(server.requests().len(), 1);
    }
}

#[test]
fn a_rejected_key_leaves_an_existing_store_byte_identical() {
    let env = Env::with_auth(common::FIXTURE);
    let before = env.read_auth_bytes();
    let server = me_server(Reply::json(401, r#"{"error":"unauthorized"}"#));
    // A new label on the server's remote, then the label of a stored account under the
    // fixture's own remote.
    let out = login(&env, &server, &["--label", "ci"], "sk-bad-0007\n");
    out.failure(3, &[]);
    assert_eq!(env.read_auth_bytes(), before);
    let out = common::run_with_stdin(
        pointed(&env, &server, &common::api_key_login_args("ci-bot"))
            .env("BASETEN_REMOTE_URL", common::DEFAULT_REMOTE),
        "sk-bad-0007\n",
    );
    out.failure(3, &[]);
    assert_eq!(env.read_auth_bytes(), before);
}

#[test]
fn http_errors_map_to_exit_codes_and_store_nothing() {
    for (status, code) in [(404, 4), (422, 5), (400, 5), (500, 6), (503, 6)] {
        let env = Env::new();
        let server = me_server(Reply::json(status, r#"{"detail":"nope"}"#));
        let out = login(&env, &server, &["--label", "ci"], "sk-live-0008\n");
        out.failure(code, &[]);
        out.assert_no_secrets(&["sk-live-0008"]);
        assert!(
            !env.auth_path().exists(),
            "auth.json written after {status}"
        );
    }
}

#[test]
fn an_empty_key_is_a_usage_error_without_a_request() {
    for input in ["", "\n", "   \t \n", "\nsk-on-second-line\n"] {
        let env = Env::new();
        let server = me_server(Reply::json(200, ME_BODY));
        let out = login(&env, &server, &["--label", "ci"], input);
        out.failure(2, &["empty"]);
        assert!(server.requests().is_empty(), "request made for {input:?}");
        assert!(!env.auth_path().exists());
    }
}

#[test]
fn a_missing_label_without_a_terminal_is_a_usage_error_without_a_request() {
    let env = Env::new();
    let server = me_server(Reply::json(200, ME_BODY));
    let out = login(&env, &server, &[], "sk-live-0009\n");
    out.failure(2, &["--label"]);
    out.assert_no_secrets(&["sk-live-0009"]);
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
    assert!(!env.auth_path().exists());
}

#[test]
fn logging_in_again_under_a_label_replaces_its_credential() {
    let env = Env::new();
    let server = me_server(Reply::json(200, ME_BODY));
    login(&env, &server, &["--label", "ci"], "sk-first-0010\n").assert_code(0);
    login(&env, &server, &["--label", "ci"], "sk-second-0010\n").assert_code(0);
    assert_eq!(active(&env, &server).as_deref(), Some("ci"));
    assert_eq!(env.profile_names(&server.url()), ["ci"]);
    assert_eq!(stored_key(&env, &server, "ci"), "sk-second-0010");
    assert!(!env.read_auth().contains("sk-first-0010"));
}

/// Names are unique across remotes (SPEC §7): a login under a name held by an account
/// of another remote fails, names that remote, and changes nothing.
#[test]
fn a_label_held_by_another_remote_is_refused_and_nothing_changes() {
    let env = Env::new();
    let first = me_server(Reply::json(200, ME_BODY));
    login(&env, &first, &["--label", "ci"], "sk-first-0014\n").assert_code(0);
    let before = env.read_auth_bytes();

    let second = me_server(Reply::json(200, ME_BODY));
    let out = login(&env, &second, &["--label", "ci"], "sk-second-0014\n");
    out.failure(1, &["already used by an account of", &first.url()]);
    out.assert_no_secrets(&["sk-second-0014"]);
    assert_eq!(env.read_auth_bytes(), before);
    assert_eq!(stored_key(&env, &first, "ci"), "sk-first-0014");
    assert_eq!(active(&env, &second), None);
}

#[test]
fn a_second_label_adds_an_account_and_makes_it_active() {
    let env = Env::new();
    let server = me_server(Reply::json(200, ME_BODY));
    login(&env, &server, &["--label", "one"], "sk-one-0011\n").assert_code(0);
    assert_eq!(active(&env, &server).as_deref(), Some("one"));
    login(&env, &server, &["--label", "two"], "sk-two-0011\n").assert_code(0);
    assert_eq!(active(&env, &server).as_deref(), Some("two"));
    let file = env.auth_json();
    assert_eq!(file["current"], "two");
    assert_eq!(file["active_by_remote"][server.url()], "two");
    assert_eq!(env.profile_names(&server.url()), ["one", "two"]);
    assert_eq!(stored_key(&env, &server, "one"), "sk-one-0011");
    assert_eq!(stored_key(&env, &server, "two"), "sk-two-0011");
}

#[test]
fn login_with_baseten_api_key_set_warns_that_it_keeps_precedence() {
    let env = Env::new();
    let server = me_server(Reply::json(200, ME_BODY));
    let out = common::run_with_stdin(
        pointed(&env, &server, &common::api_key_login_args("ci"))
            .env("BASETEN_API_KEY", "sk-env-0012"),
        "sk-stdin-0012\n",
    );
    out.assert_code(0);
    assert_eq!(
        out.stdout,
        "Logged in as me@example.com (Acme) as profile ci\n"
    );
    let warning = out
        .stderr
        .lines()
        .find(|l| l.starts_with("warning:"))
        .unwrap_or_else(|| panic!("no warning: {out:#?}"));
    assert!(warning.contains("BASETEN_API_KEY"), "{out:#?}");
    assert!(warning.contains("precedence"), "{out:#?}");
    out.assert_no_secrets(&["sk-env-0012"]);
    out.assert_no_secrets(&["sk-stdin-0012"]);
    // The key being logged in is the one validated and stored, not the variable.
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Api-Key sk-stdin-0012")
    );
    assert_eq!(stored_key(&env, &server, "ci"), "sk-stdin-0012");
}

#[test]
fn the_key_never_appears_on_stdout_or_stderr() {
    const KEY: &str = "sk-very-secret-0013";
    let cases: [(Reply, &[&str]); 6] = [
        (Reply::json(200, ME_BODY), &["--label", "ci"]),
        (
            Reply::json(200, ME_BODY),
            &["--label", "ci", "-o", "json", "-v"],
        ),
        (
            Reply::json(200, ME_BODY),
            &["--label", "ci", "-o", "jsonl", "--verbose"],
        ),
        (
            Reply::json(401, r#"{"error":"unauthorized"}"#),
            &["--label", "ci", "-v"],
        ),
        (
            Reply::json(500, "<html>oops</html>"),
            &["--label", "ci", "-v"],
        ),
        (Reply::close(), &["--label", "ci", "-v"]),
    ];
    for (reply, extra) in cases {
        let env = Env::new();
        let server = me_server(reply);
        let out = login(&env, &server, extra, &format!("{KEY}\n"));
        out.assert_no_secrets(&[KEY]);
        assert!(!server.requests().is_empty(), "{out:#?}");
    }
}
