//! Proxies by curl's rules (SPEC §4a) with real proxies started by the test: an HTTP
//! CONNECT proxy and a SOCKS5 proxy (`common/proxy.rs`) that log what they were asked to
//! connect to. Each test runs an API-key login (one `who am I` request) and reads both
//! the proxy's log and the server's: which variable picked which proxy, every `NO_PROXY`
//! form, unparsable values, and what an error says when a hop fails. The https cases are
//! in `net/tls.rs`, which has a TLS server.

use crate::common;
use crate::proxy_server::{Proxy, Seen};
use crate::routes;
use crate::server;

use common::{Env, Outcome};
use server::Server;

const KEY: &str = "sk-proxy-test-7781";

const ME_BODY: &str =
    r#"{"user_id":"u-1","email":"px@example.com","name":"Px","workspace_name":"Hops"}"#;

const LOGGED_IN: &str = "Logged in as px@example.com (Hops) as profile ci\n";

fn me_server() -> Server {
    routes::me_server_with(ME_BODY)
}

/// An API-key login against `url` with the given extra environment (and `-v` when
/// `verbose`).
fn login_at(url: &str, vars: &[(&str, &str)], verbose: bool) -> Outcome {
    let env = Env::new();
    let mut args = common::api_key_login_args("ci").to_vec();
    if verbose {
        args.push("-v");
    }
    let mut cmd = env.cmd_at(url, &args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    common::run_with_stdin(&mut cmd, &format!("{KEY}\n"))
}

fn login(url: &str, vars: &[(&str, &str)]) -> Outcome {
    login_at(url, vars, false)
}

/// Asserts a successful login that reached `server` once.
#[track_caller]
fn assert_logged_in(out: &Outcome, server: &Server) {
    assert_eq!(out.success(), LOGGED_IN);
    assert_eq!(server.requests().len(), 1, "{out:#?}");
}

fn seen_ip(target: &str) -> Seen {
    Seen {
        target: target.into(),
        by_name: false,
        auth: None,
    }
}

#[test]
fn http_proxy_carries_http_requests_and_a_value_without_scheme_is_http() {
    let server = me_server();
    let px = Proxy::connect();
    let out = login(&server.url(), &[("HTTP_PROXY", &px.addr())]);
    assert_logged_in(&out, &server);
    assert_eq!(px.seen(), [seen_ip(&server.addr().to_string())]);
}

#[test]
fn https_proxy_is_not_used_for_http() {
    let server = me_server();
    let px = Proxy::connect();
    let out = login(
        &server.url(),
        &[("HTTPS_PROXY", &format!("http://{}", px.addr()))],
    );
    assert_logged_in(&out, &server);
    assert_eq!(px.seen(), []);
}

#[test]
fn all_proxy_socks5_resolves_the_name_here() {
    let server = me_server();
    let socks = Proxy::socks5();
    let url = format!("http://localhost:{}", server.addr().port());
    let out = login(
        &url,
        &[("ALL_PROXY", &format!("socks5://{}", socks.addr()))],
    );
    assert_logged_in(&out, &server);
    assert_eq!(
        socks.seen(),
        [seen_ip(&format!("127.0.0.1:{}", server.addr().port()))]
    );
}

#[test]
fn all_proxy_socks5h_hands_the_name_to_the_proxy() {
    let server = me_server();
    let socks = Proxy::socks5();
    let url = format!("http://localhost:{}", server.addr().port());
    let out = login(
        &url,
        &[("all_proxy", &format!("socks5h://{}", socks.addr()))],
    );
    assert_logged_in(&out, &server);
    assert_eq!(
        socks.seen(),
        [Seen {
            target: format!("localhost:{}", server.addr().port()),
            by_name: true,
            auth: None,
        }]
    );
}

#[test]
fn socks5_login_uses_the_credentials_and_never_shows_them() {
    let server = me_server();
    let socks = Proxy::socks5_with_login("u@corp", "pa:ss");
    let proxy_url = format!("socks5h://u%40corp:pa%3Ass@{}", socks.addr());
    let out = login_at(&server.url(), &[("ALL_PROXY", &proxy_url)], true);
    out.assert_code(0);
    assert_eq!(out.stdout, LOGGED_IN);
    assert_eq!(socks.seen().len(), 1);
    assert_eq!(socks.seen()[0].auth.as_deref(), Some("u@corp:pa:ss"));
    // -v names the proxy, without the credentials.
    let named = format!("through proxy socks5h://{} (from ALL_PROXY)", socks.addr());
    assert!(out.stderr.contains(&named), "{out:#?}");
    out.assert_no_secrets(&["pa:ss", "pa%3Ass", "u%40corp", KEY]);
}

#[test]
fn connect_proxy_credentials_are_sent_and_never_shown() {
    let server = me_server();
    let px = Proxy::connect();
    let proxy_url = format!("http://alice:hunter2@{}", px.addr());
    let out = login_at(&server.url(), &[("HTTP_PROXY", &proxy_url)], true);
    out.assert_code(0);
    // base64("alice:hunter2")
    assert_eq!(
        px.seen()[0].auth.as_deref(),
        Some("Basic YWxpY2U6aHVudGVyMg==")
    );
    let named = format!("through proxy http://{} (from HTTP_PROXY)", px.addr());
    assert!(out.stderr.contains(&named), "{out:#?}");
    out.assert_no_secrets(&["hunter2", "alice:"]);
}

#[test]
fn the_specific_variable_beats_all_proxy() {
    let server = me_server();
    let px = Proxy::connect();
    let socks = Proxy::socks5();
    let out = login(
        &server.url(),
        &[
            ("ALL_PROXY", &format!("socks5h://{}", socks.addr())),
            ("HTTP_PROXY", &px.addr()),
        ],
    );
    assert_logged_in(&out, &server);
    assert_eq!(px.targets(), [server.addr().to_string()]);
    assert_eq!(socks.seen(), []);
}

#[test]
fn the_lower_case_spelling_wins_and_an_empty_value_counts_as_unset() {
    let server = me_server();
    let px = Proxy::connect();
    let dead = common::closed_port();
    let out = login(
        &server.url(),
        &[("http_proxy", &px.addr()), ("HTTP_PROXY", &dead)],
    );
    assert_logged_in(&out, &server);
    assert_eq!(px.targets().len(), 1);

    let server = me_server();
    let px = Proxy::connect();
    let out = login(
        &server.url(),
        &[("http_proxy", ""), ("HTTP_PROXY", &px.addr())],
    );
    assert_logged_in(&out, &server);
    assert_eq!(px.targets().len(), 1);
}

#[test]
fn an_unparsable_proxy_is_a_usage_error_naming_the_variable() {
    let server = me_server();
    for (var, value, needle) in [
        ("HTTP_PROXY", "not a url", "invalid HTTP_PROXY: "),
        (
            "ALL_PROXY",
            "socks4://127.0.0.1:1080",
            "invalid ALL_PROXY: unsupported proxy scheme \"socks4\"",
        ),
        (
            "http_proxy",
            "http://127.0.0.1:99999",
            "invalid http_proxy: invalid proxy port \"99999\"",
        ),
        (
            "HTTP_PROXY",
            "http://bob:s3cr3t word@127.0.0.1:1",
            "invalid HTTP_PROXY: ",
        ),
    ] {
        let out = login(&server.url(), &[(var, value)]);
        out.failure(2, &[needle]);
        out.assert_no_secrets(&["s3cr3t", KEY]);
    }
    assert_eq!(server.requests().len(), 0);

    // HTTPS_PROXY on the default (https) remote: refused before any network call.
    let env = Env::new();
    let mut cmd = env.cmd(&common::api_key_login_args("ci"));
    cmd.env("HTTPS_PROXY", "not a url");
    let out = common::run_with_stdin(&mut cmd, &format!("{KEY}\n"));
    out.failure(
        2,
        &["invalid HTTPS_PROXY: \"not a url\" is not a proxy host"],
    );
}

/// Whether a login to `url` with `HTTP_PROXY` at a CONNECT proxy and `no_proxy` went
/// direct (true) or through the proxy (false); both succeed.
fn goes_direct(url: &str, server: &Server, vars: &[(&str, &str)]) -> bool {
    let px = Proxy::connect();
    let mut all = vec![("HTTP_PROXY", px.addr())];
    all.extend(vars.iter().map(|(k, v)| (*k, v.to_string())));
    let all: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let before = server.requests().len();
    let out = login(url, &all);
    assert_eq!(out.success(), LOGGED_IN);
    assert_eq!(server.requests().len(), before + 1);
    px.targets().is_empty()
}

#[test]
fn no_proxy_forms() {
    let server = me_server();
    let port = server.addr().port();
    let ip_url = server.url();
    let name_url = format!("http://localhost:{port}");
    let other_port = if port == 1 { 2 } else { port - 1 };
    for (url, list, direct) in [
        (&ip_url, "localhost, 127.0.0.1".to_string(), true),
        (&name_url, "localhost, 127.0.0.1".to_string(), true),
        (&ip_url, "127.0.0.0/8".to_string(), true),
        (&ip_url, "*".to_string(), true),
        (&ip_url, format!("127.0.0.1:{port}"), true),
        (&ip_url, format!("127.0.0.1:{other_port}"), false),
        (&name_url, ".localhost".to_string(), true),
        (&name_url, format!("localhost:{port}"), true),
        // Loopback goes through the proxy unless listed, as in curl.
        (&ip_url, "example.com".to_string(), false),
        (&ip_url, "localhost".to_string(), false),
        (&name_url, "127.0.0.1".to_string(), false),
        (&ip_url, "10.0.0.0/8, ::1".to_string(), false),
    ] {
        assert_eq!(
            goes_direct(url, &server, &[("NO_PROXY", &list)]),
            direct,
            "NO_PROXY={list:?} for {url}"
        );
    }
    // An empty NO_PROXY does not hide no_proxy; lower case wins.
    assert!(goes_direct(
        &ip_url,
        &server,
        &[("NO_PROXY", ""), ("no_proxy", "127.0.0.1")]
    ));
    assert!(!goes_direct(
        &ip_url,
        &server,
        &[("no_proxy", "example.com"), ("NO_PROXY", "127.0.0.1")]
    ));
}

#[test]
fn no_proxy_ipv6_forms() {
    // Nothing listens on this port of ::1: a direct attempt is refused by the server,
    // a proxied one is refused by the proxy, and the error says which.
    let port = common::closed_port()
        .rsplit_once(':')
        .map(|(_, p)| p.to_string())
        .unwrap_or_default();
    let url = format!("http://[::1]:{port}");
    for list in ["::1", "[::1]", "::1/128", &format!("[::1]:{port}")] {
        let px = Proxy::connect();
        let out = login(&url, &[("HTTP_PROXY", &px.addr()), ("NO_PROXY", list)]);
        out.failure(1, &[]);
        assert_eq!(
            out.stderr,
            format!("error: cannot reach [::1]:{port}: connection refused\n"),
            "NO_PROXY={list}"
        );
        assert_eq!(px.seen(), [], "NO_PROXY={list}");
    }
    let px = Proxy::connect();
    let out = login(
        &url,
        &[("HTTP_PROXY", &px.addr()), ("NO_PROXY", "127.0.0.1")],
    );
    assert_eq!(
        out.stderr,
        format!(
            "error: proxy {} (from HTTP_PROXY) could not connect to [::1]:{port}: it answered 502 Bad Gateway\n",
            px.addr()
        )
    );
    assert_eq!(out.code, 1);
    assert_eq!(px.targets(), [format!("[::1]:{port}")]);
}

#[test]
fn an_unreachable_proxy_is_named_with_its_variable() {
    let server = me_server();
    let dead = common::closed_port();
    let out = login(
        &server.url(),
        &[("HTTP_PROXY", &format!("http://user:pw-4417@{dead}"))],
    );
    out.failure(1, &[]);
    assert_eq!(
        out.stderr,
        format!("error: cannot reach proxy {dead} (from HTTP_PROXY): connection refused\n")
    );
    out.assert_no_secrets(&["pw-4417"]);
    assert_eq!(server.requests().len(), 0);

    let out = login(
        &server.url(),
        &[("ALL_PROXY", &format!("socks5h://{dead}"))],
    );
    assert_eq!(
        out.stderr,
        format!("error: cannot reach proxy {dead} (from ALL_PROXY): connection refused\n")
    );
    assert_eq!(out.code, 1);
}

#[test]
fn a_proxy_that_cannot_reach_the_server_says_so() {
    let dead = common::closed_port();
    let url = format!("http://{dead}");

    let px = Proxy::connect();
    let out = login(&url, &[("HTTP_PROXY", &px.addr())]);
    assert_eq!(
        out.stderr,
        format!(
            "error: proxy {} (from HTTP_PROXY) could not connect to {dead}: it answered 502 Bad Gateway\n",
            px.addr()
        )
    );
    assert_eq!(out.code, 1);

    let socks = Proxy::socks5();
    let out = login(
        &url,
        &[("ALL_PROXY", &format!("socks5://{}", socks.addr()))],
    );
    assert_eq!(
        out.stderr,
        format!(
            "error: SOCKS5 proxy {} (from ALL_PROXY) could not connect to {dead}: connection refused\n",
            socks.addr()
        )
    );
    assert_eq!(out.code, 1);
    assert_eq!(socks.targets(), [dead]);

    let socks = Proxy::socks5_with_login("u", "right");
    let out = login(
        &url,
        &[("ALL_PROXY", &format!("socks5h://u:wrong@{}", socks.addr()))],
    );
    assert_eq!(
        out.stderr,
        format!(
            "error: SOCKS5 proxy {} (from ALL_PROXY) refused the login: password authentication failed; check the user name and password in ALL_PROXY\n",
            socks.addr()
        )
    );
    assert_eq!(out.code, 1);
}

#[test]
fn a_proxy_that_wants_a_login_says_so() {
    let server = me_server();
    let px = Proxy::connect_answering(407);
    let out = login(&server.url(), &[("HTTP_PROXY", &px.addr())]);
    assert_eq!(
        out.stderr,
        format!(
            "error: proxy {} (from HTTP_PROXY) wants a user name and password (407 Proxy Authentication Required); put them in HTTP_PROXY as user:password@\n",
            px.addr()
        )
    );
    assert_eq!(out.code, 1);
    assert_eq!(server.requests().len(), 0);
}

#[test]
fn verbose_names_the_proxy_or_the_bypass() {
    let server = me_server();
    let px = Proxy::connect();
    let out = login_at(&server.url(), &[("HTTP_PROXY", &px.addr())], true);
    out.assert_code(0);
    assert!(
        out.stderr.contains(&format!(
            "debug: connecting to {} through proxy http://{} (from HTTP_PROXY)",
            server.url(),
            px.addr()
        )),
        "{out:#?}"
    );
    let out = login_at(
        &server.url(),
        &[("HTTP_PROXY", &px.addr()), ("no_proxy", "127.0.0.1")],
        true,
    );
    out.assert_code(0);
    assert!(
        out.stderr.contains(&format!(
            "debug: connecting to {} directly: no_proxy lists it",
            server.url()
        )),
        "{out:#?}"
    );
}
