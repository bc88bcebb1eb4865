//! The API paths the CLI calls and small helpers around the test [`Server`]: servers that
//! answer them, and the binary pointed at one. Included next to `common/server.rs` by
//! tests/it/main.rs as `mod routes`.
#![allow(dead_code)]

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{self, Env, Outcome};
use crate::server::{Queue, Reply, Request, Server};

/// `who am I`.
pub const ME: &str = "/v1/users/me";
/// RFC 8628 device authorization.
pub const AUTHORIZE: &str = "/v1/users/auth/device/authorize";
/// The token endpoint (device-code polls and refreshes).
pub const TOKEN: &str = "/v1/users/auth/device/token";
/// Server-side revocation at logout.
pub const LOGOUT: &str = "/v1/users/auth/logout";

/// A server whose routes answer the given replies (the last one of a route repeats;
/// everything else is a 404).
pub fn queue_server(routes: &[(&str, &str, Reply)]) -> Server {
    let queue = Queue::new();
    for (method, path, reply) in routes {
        queue.push(method, path, reply.clone());
    }
    Server::start(queue.handler())
}

/// The `who am I` answer most tests use.
pub const ME_BODY: &str =
    r#"{"user_id":"u-1","email":"me@example.com","name":"Me","workspace_name":"Acme"}"#;

/// A server whose `who am I` answers 200 with [`ME_BODY`] (and 404 for everything else).
pub fn me_server() -> Server {
    me_server_with(ME_BODY)
}

/// A device-flow server: `authorize` is the authorize answer, the n-th poll (from 0)
/// gets `poll(n)`, `who am I` answers `me`; everything else is a 404.
pub fn device_server(
    authorize: &str,
    me: &str,
    poll: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> Server {
    let polls = AtomicUsize::new(0);
    let (authorize, me) = (authorize.to_owned(), me.to_owned());
    Server::start(
        move |r: &Request| match (r.method.as_str(), r.path.as_str()) {
            ("POST", AUTHORIZE) => Reply::json(200, &authorize),
            ("POST", TOKEN) => poll(polls.fetch_add(1, Ordering::SeqCst)),
            ("GET", ME) => Reply::json(200, &me),
            _ => Reply::json(404, r#"{"error":"not_found"}"#),
        },
    )
}

/// A server whose `who am I` answers 200 with `body` (and 404 for everything else).
pub fn me_server_with(body: &str) -> Server {
    queue_server(&[("GET", ME, Reply::json(200, body))])
}

/// The requests of `requests` to `path`, in arrival order.
pub fn requests_to<'a>(requests: &'a [Request], path: &str) -> Vec<&'a Request> {
    requests.iter().filter(|r| r.path == path).collect()
}

/// The form fields of `r`, sorted.
pub fn sorted_form(r: &Request) -> Vec<(String, String)> {
    let mut form = r.form();
    form.sort();
    form
}

/// A device authorization answer: interval 1 s, a minute to go.
pub const AUTHORIZE_BODY: &str = r#"{"device_code":"dc","user_code":"AB-CD",
    "verification_uri":"https://x.test/d","expires_in":60,"interval":1}"#;

/// A server for a browser login as `email`: authorize, a first poll that gets the token
/// pair `at-web`/`rt-web`, `who am I`, and logout (200).
pub fn browser_login_server(email: &str) -> Server {
    let me = serde_json::json!({"user_id": "u-1", "email": email, "name": "Me",
                                "workspace_name": "Acme"});
    queue_server(&[
        ("POST", AUTHORIZE, Reply::json(200, AUTHORIZE_BODY)),
        (
            "POST",
            TOKEN,
            Reply::json(
                200,
                r#"{"access_token":"at-web","refresh_token":"rt-web","expires_in":3600,
                    "token_type":"Bearer"}"#,
            ),
        ),
        ("GET", ME, Reply::json(200, &me.to_string())),
        ("POST", LOGOUT, Reply::json(200, "{}")),
    ])
}

/// `args` pointed at `server` (see [`Env::cmd_at`]).
pub fn pointed(env: &Env, server: &Server, args: &[&str]) -> Command {
    env.cmd_at(&server.url(), args)
}

/// `args` with the management API at `server` and no remote given: the remote is the
/// default one, or comes from the store.
pub fn api_at(env: &Env, server: &Server, args: &[&str]) -> Command {
    let mut cmd = env.cmd(args);
    cmd.env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", server.url());
    cmd
}

/// `login --web --insecure-storage <extra>` against `server` with `$BROWSER` = `browser`.
pub fn web_login(env: &Env, server: &Server, browser: &str, extra: &[&str]) -> Outcome {
    let mut args = vec!["auth", "login", "--web", "--insecure-storage"];
    args.extend_from_slice(extra);
    let mut cmd = env.cmd_at(&server.url(), &args);
    cmd.env("BROWSER", browser);
    common::run(&mut cmd)
}

/// The stored profile `label`, checked to belong to `server`.
#[track_caller]
pub fn account(env: &Env, server: &Server, label: &str) -> serde_json::Value {
    let profile = env.profile(label);
    assert_eq!(profile["remote_url"], server.url(), "{:#}", env.auth_json());
    profile
}
