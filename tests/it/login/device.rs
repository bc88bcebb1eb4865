//! `baseten auth login --web`: the RFC 8628 device flow against the local test server
//! (SPEC §4, §5, §8): the forms sent, what the user is shown and when, the browser, the
//! polling rhythm, the poll errors, retries, the deadline, Ctrl-C, what is stored, names
//! that can be typed, and the session revoked when a login is refused for a name clash.

// The browser stand-ins are shell scripts, and Ctrl-C is a Unix signal.
#![cfg(unix)]

use crate::common;
use crate::routes;
use crate::server;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Env, Outcome, rfc3339_unix, unix_now};
use routes::{AUTHORIZE, LOGOUT, ME, TOKEN, requests_to, sorted_form};
use serde_json::json;
use server::{Reply, Request, Server};

const ME_BODY: &str =
    r#"{"user_id":"u-7","email":"dev@example.com","name":"Dev","workspace_name":"Labs"}"#;

const EMAIL: &str = "dev@example.com";

/// The profile name of [`EMAIL`]'s browser login on the test server's remote (SPEC §7:
/// `<email>:<host without "app." and the port>` off the default remote).
const PROFILE: &str = "dev@example.com:127.0.0.1";

const DEVICE_CODE: &str = "device-code-xyz";

const USER_CODE: &str = "WDJB-MJHT";

const VERIFY: &str = "https://app.example.test/device";

const COMPLETE: &str = "https://app.example.test/device?user_code=WDJB-MJHT";

const TOKEN_OK: &str = r#"{"access_token":"access-new-1","refresh_token":"refresh-new-1","expires_in":3600,"token_type":"Bearer"}"#;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Timing slack allowed below an interval (clock granularity only).
const SLACK: Duration = Duration::from_millis(50);

const WAIT: Duration = Duration::from_secs(20);

/// The authorize answer: interval 1 s, the given lifetime and complete URL.
fn authorize_body(complete: Option<&str>, expires_in: u64) -> String {
    let mut body = json!({
        "device_code": DEVICE_CODE,
        "user_code": USER_CODE,
        "verification_uri": VERIFY,
        "expires_in": expires_in,
        "interval": 1,
    });
    if let Some(c) = complete {
        body["verification_uri_complete"] = c.into();
    }
    body.to_string()
}

fn pending() -> Reply {
    oauth_error("authorization_pending")
}

fn oauth_error(code: &str) -> Reply {
    Reply::json(
        400,
        &json!({"error": code, "error_description": format!("{code} says the server")}).to_string(),
    )
}

fn token_ok() -> Reply {
    Reply::json(200, TOKEN_OK)
}

/// The device-flow server of these tests: `authorize`, then `token(n)` for the n-th
/// poll, and [`ME_BODY`] for who am I.
fn device_server(
    authorize: String,
    token: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> Server {
    routes::device_server(&authorize, ME_BODY, token)
}

/// `baseten auth login --web --insecure-storage <extra>` pointed at `server`.
fn login_cmd(env: &Env, server: &Server, browser: &str, extra: &[&str]) -> Command {
    let mut args = vec!["auth", "login", "--web", "--insecure-storage"];
    args.extend_from_slice(extra);
    let mut cmd = env.cmd_at(&server.url(), &args);
    cmd.env("BROWSER", browser);
    cmd
}

/// A running login whose stderr lines are collected with the instant each was read.
struct Running {
    child: Child,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    reader: JoinHandle<()>,
}

impl Running {
    fn spawn(cmd: &mut Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn baseten");
        let stderr = child.stderr.take().expect("stderr pipe");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let reader = thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push((Instant::now(), line));
            }
        });
        Running {
            child,
            lines,
            reader,
        }
    }

    /// Waits for exit; returns the outcome and the timed stderr lines.
    fn finish(mut self) -> (Outcome, Vec<(Instant, String)>) {
        let status = self.child.wait().expect("wait for baseten");
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .expect("stdout pipe")
            .read_to_string(&mut stdout)
            .expect("read stdout");
        self.reader.join().expect("stderr reader");
        let lines = std::mem::take(&mut *self.lines.lock().unwrap());
        let stderr = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
        let out = Outcome {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        };
        (out, lines)
    }
}

/// Asserts a failed login: exit `code`, nothing on stdout, and an `error:` line on stderr
/// (after the device-flow instructions) containing every one of `needles`.
#[track_caller]
fn assert_failed(out: &Outcome, code: i32, needles: &[&str]) {
    out.assert_code(code);
    assert_eq!(out.stdout, "", "{out:#?}");
    let error = out
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no `error:` line: {out:#?}"));
    for needle in needles {
        assert!(
            error.contains(needle),
            "error line lacks {needle:?}: {out:#?}"
        );
    }
}

fn poll_form() -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = [
        ("client_id", "baseten-cli"),
        ("device_code", DEVICE_CODE),
        ("grant_type", GRANT),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    form.sort();
    form
}

/// Asserts that consecutive requests in `seq` are at least `min[i]` apart.
#[track_caller]
fn assert_gaps(seq: &[&Request], min: &[Duration]) {
    assert_eq!(seq.len(), min.len() + 1, "unexpected number of requests");
    for (i, pair) in seq.windows(2).enumerate() {
        let gap = pair[1].arrived.duration_since(pair[0].arrived);
        assert!(
            gap + SLACK >= min[i],
            "request {} came {gap:?} after the previous one; expected at least {:?}",
            i + 1,
            min[i]
        );
    }
}

/// Asserts the authorize request and the polls after it came at least `min[i]` apart.
#[track_caller]
fn assert_poll_gaps(server: &Server, min: &[Duration]) {
    let requests = server.requests();
    let mut seq = requests_to(&requests, AUTHORIZE);
    seq.extend(requests_to(&requests, TOKEN));
    assert_gaps(&seq, min);
}

#[test]
fn rfc3339_helper_is_right() {
    assert_eq!(rfc3339_unix("1970-01-01T00:00:00Z"), 0);
    assert_eq!(rfc3339_unix("2026-01-02T03:04:05Z"), 1_767_323_045);
    assert_eq!(rfc3339_unix("2026-01-02T04:04:05.5+01:00"), 1_767_323_045);
}

#[test]
fn device_login_happy_path() {
    let env = Env::new();
    let (browser, marker) = env.browser_script();
    let approved_at = Arc::new(AtomicUsize::new(usize::MAX));
    let server = {
        let marker = marker.clone();
        let approved_at = Arc::clone(&approved_at);
        // Pending until the browser was opened, and for at least two polls.
        device_server(authorize_body(Some(COMPLETE), 60), move |n| {
            if n >= 2 && marker.exists() {
                approved_at.store(n, Ordering::SeqCst);
                token_ok()
            } else {
                pending()
            }
        })
    };
    let started = SystemTime::now();
    let (out, lines) = Running::spawn(&mut login_cmd(&env, &server, &browser, &[])).finish();
    out.assert_code(0);
    assert_eq!(
        out.stdout, "Logged in as dev@example.com (Labs) as profile dev@example.com:127.0.0.1\n",
        "{out:#?}"
    );

    // The browser got the complete URL.
    assert_eq!(
        std::fs::read_to_string(&marker).expect("browser was started"),
        COMPLETE
    );

    let requests = server.requests();
    let kinds: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    let approved = approved_at.load(Ordering::SeqCst);
    assert_ne!(approved, usize::MAX, "never approved: {kinds:?}");
    let polls = requests_to(&requests, TOKEN);
    // The poll that got the tokens was the last one.
    assert_eq!(polls.len(), approved + 1, "{kinds:?}");
    assert_eq!(requests.len(), polls.len() + 2, "{kinds:?}");
    assert_eq!(requests[0].path, AUTHORIZE);
    assert_eq!(requests.last().unwrap().path, ME);

    // Forms.
    let authorize = &requests[0];
    assert_eq!(authorize.method, "POST");
    assert_eq!(
        authorize.form(),
        vec![("client_id".to_string(), "baseten-cli".to_string())]
    );
    for p in &polls {
        assert_eq!(p.method, "POST");
        assert_eq!(sorted_form(p), poll_form(), "{:?}", p.body_text());
    }
    for r in &requests {
        assert_eq!(
            r.header("user-agent"),
            Some(concat!("baseten-rs/", env!("CARGO_PKG_VERSION")))
        );
    }

    // Never sooner than `interval` after the authorize call or the previous poll.
    let mut seq = vec![authorize];
    seq.extend(polls.iter().copied());
    assert_gaps(&seq, &vec![Duration::from_secs(1); polls.len()]);

    // Who am I with the new access token, after the last poll.
    let me = requests.last().unwrap();
    assert_eq!(me.method, "GET");
    assert_eq!(me.header("authorization"), Some("Bearer access-new-1"));

    // The user code and the URLs were on stderr before the first poll.
    let first_poll = polls[0].arrived;
    for needle in [USER_CODE, VERIFY, COMPLETE] {
        let (when, _) = lines
            .iter()
            .find(|(_, l)| l.contains(needle))
            .unwrap_or_else(|| panic!("stderr lacks {needle:?}: {out:#?}"));
        assert!(*when < first_poll, "{needle:?} shown only after polling");
    }
    for secret in ["access-new-1", "refresh-new-1", DEVICE_CODE] {
        assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret));
    }

    // Stored under the email and the host, active, with the token pair and an expiry
    // ≈ now + 3600.
    let auth = env.auth_json();
    assert_eq!(auth["current"], PROFILE, "{auth:#}");
    assert_eq!(auth["active_by_remote"][server.url()], PROFILE, "{auth:#}");
    assert_eq!(auth["profiles"].as_object().unwrap().len(), 1, "{auth:#}");
    let entry = &auth["profiles"][PROFILE];
    assert_eq!(entry["remote_url"], server.url(), "{auth:#}");
    assert_eq!(entry["auth_type"], "oauth", "{auth:#}");
    let cred = &entry["oauth_credential"];
    assert_eq!(cred["access_token"], "access-new-1");
    assert_eq!(cred["refresh_token"], "refresh-new-1");
    let expiry = rfc3339_unix(cred["expiry"].as_str().expect("expiry string"));
    let t0 = started.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!(
        (t0 + 3600 - 5..=unix_now() + 3600 + 5).contains(&expiry),
        "expiry {} not ≈ now + 3600",
        cred["expiry"]
    );
}

#[test]
fn device_login_json_result_and_verbose_never_shows_tokens() {
    let env = Env::new();
    let server = device_server(authorize_body(Some(COMPLETE), 60), |_| token_ok());
    let out = common::run(&mut login_cmd(&env, &server, "true", &["-o", "json", "-v"]));
    out.assert_code(0);
    for secret in ["access-new-1", "refresh-new-1"] {
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "{out:#?}"
        );
    }
    assert_eq!(
        out.json(),
        json!({
            "profile": PROFILE,
            "user_id": "u-7",
            "email": EMAIL,
            "name": "Dev",
            "workspace_name": "Labs",
            "user": PROFILE,
            "auth_type": "oauth",
        }),
        "{out:#?}"
    );
}

#[test]
fn without_a_complete_url_the_browser_gets_the_verification_uri() {
    let env = Env::new();
    let (browser, marker) = env.browser_script();
    let server = {
        let marker = marker.clone();
        device_server(authorize_body(None, 60), move |_| {
            if marker.exists() {
                token_ok()
            } else {
                pending()
            }
        })
    };
    let out = common::run(&mut login_cmd(&env, &server, &browser, &[]));
    out.assert_code(0);
    assert!(
        out.stderr.contains(VERIFY) && out.stderr.contains(USER_CODE),
        "{out:#?}"
    );
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), VERIFY);
}

#[test]
fn slow_down_adds_five_seconds_to_the_interval() {
    let env = Env::new();
    let server = device_server(authorize_body(Some(COMPLETE), 60), |n| match n {
        0 => oauth_error("slow_down"),
        _ => token_ok(),
    });
    let out = common::run(&mut login_cmd(&env, &server, "true", &[]));
    out.assert_code(0);
    let s = Duration::from_secs;
    assert_poll_gaps(&server, &[s(1), s(6)]);
    assert_eq!(env.active(&server.url()).as_deref(), Some(PROFILE));
}

#[test]
fn access_denied_exits_3() {
    let env = Env::new();
    let server = device_server(authorize_body(Some(COMPLETE), 60), |n| match n {
        0 => pending(),
        _ => oauth_error("access_denied"),
    });
    let out = common::run(&mut login_cmd(&env, &server, "true", &[]));
    assert_failed(&out, 3, &["authorization was denied"]);
    assert!(!env.auth_path().exists());
    let requests = server.requests();
    assert!(requests_to(&requests, ME).is_empty());
    assert_eq!(
        requests_to(&requests, TOKEN).len(),
        2,
        "polled after the denial"
    );
}

#[test]
fn expired_token_exits_3_and_says_to_log_in_again() {
    let env = Env::new();
    let server = device_server(authorize_body(Some(COMPLETE), 60), |_| {
        oauth_error("expired_token")
    });
    let out = common::run(&mut login_cmd(&env, &server, "true", &[]));
    assert_failed(&out, 3, &["expired", "baseten auth login"]);
    assert!(!env.auth_path().exists());
    assert_eq!(requests_to(&server.requests(), TOKEN).len(), 1);
}

#[test]
fn other_poll_errors_stop_with_the_servers_error() {
    let env = Env::new();
    let server = device_server(authorize_body(Some(COMPLETE), 60), |_| {
        oauth_error("invalid_client")
    });
    let out = common::run(&mut login_cmd(&env, &server, "true", &[]));
    // A 400 that is neither pending, slow_down, denied nor expired: rejected (exit 5).
    assert_failed(&out, 5, &["invalid_client"]);
    assert!(!env.auth_path().exists());
    assert_eq!(requests_to(&server.requests(), TOKEN).len(), 1);
}

#[test]
fn gives_up_at_expires_in_even_if_the_server_never_says_expired() {
    let env = Env::new();
    let server = device_server(authorize_body(Some(COMPLETE), 3), |_| pending());
    let out = common::run(&mut login_cmd(&env, &server, "true", &[]));
    assert_failed(&out, 3, &[]);
    assert!(!env.auth_path().exists());
    let requests = server.requests();
    let authorized = requests[0].arrived;
    let polls = requests_to(&requests, TOKEN);
    assert!(!polls.is_empty());
    for p in polls {
        assert!(
            // 3 s, plus what a loaded machine may take to deliver a poll sent in time.
            p.arrived.duration_since(authorized) <= Duration::from_millis(4000),
            "polled after the device code expired"
        );
    }
}

#[test]
fn a_dropped_connection_while_polling_is_retried() {
    let env = Env::new();
    let server = device_server(authorize_body(Some(COMPLETE), 60), |n| match n {
        0 => Reply::close(),
        _ => token_ok(),
    });
    let out = common::run(&mut login_cmd(&env, &server, "true", &[]));
    out.assert_code(0);
    assert_eq!(
        out.stdout,
        "Logged in as dev@example.com (Labs) as profile dev@example.com:127.0.0.1\n"
    );
    assert_poll_gaps(&server, &[Duration::from_secs(1), Duration::from_secs(1)]);
    assert_eq!(env.active(&server.url()).as_deref(), Some(PROFILE));
}

#[test]
fn a_5xx_while_polling_is_retried() {
    let env = Env::new();
    let server = device_server(authorize_body(Some(COMPLETE), 60), |n| match n {
        0 => Reply::text(503, "text/html", "<html>unavailable</html>"),
        _ => token_ok(),
    });
    let out = common::run(&mut login_cmd(&env, &server, "true", &[]));
    out.assert_code(0);
    let s = Duration::from_secs;
    assert_poll_gaps(&server, &[s(1), s(1)]);
    let cred = &env.profile(PROFILE)["oauth_credential"];
    assert_eq!(cred["access_token"], "access-new-1");
}

/// `--label` with `--web` names the browser login's profile (SPEC §7), instead of the
/// email-and-host name.
#[test]
fn label_names_the_browser_login() {
    let env = Env::new();
    let server = device_server(authorize_body(Some(COMPLETE), 60), |_| token_ok());
    let out = common::run(&mut login_cmd(
        &env,
        &server,
        "true",
        &["--label", "laptop", "-o", "json"],
    ));
    out.assert_code(0);
    assert_eq!(out.json()["user"], "laptop", "{out:#?}");
    assert_eq!(out.json()["email"], EMAIL, "{out:#?}");
    let auth = env.auth_json();
    assert_eq!(
        common::profiles_of(&auth, &server.url()),
        ["laptop"],
        "{auth:#}"
    );
    let entry = &auth["profiles"]["laptop"];
    assert_eq!(entry["auth_type"], "oauth");
    assert_eq!(entry["oauth_credential"]["access_token"], "access-new-1");
    assert_eq!(env.active(&server.url()).as_deref(), Some("laptop"));
    let out = common::run(&mut env.cmd_at(&server.url(), &["auth", "status", "--jq", ".user"]));
    assert_eq!(out.success(), "\"laptop\"\n");
}

/// Runs a login whose `verification_uri_complete` is `bad`: the browser must be handed
/// the plain verification URI instead, never `bad`. The first poll waits for the
/// browser to have been started, so the check cannot race it.
fn assert_not_opened(bad: &str) {
    let env = Env::new();
    let (browser, marker) = env.browser_script();
    let seen = marker.clone();
    let server = device_server(authorize_body(Some(bad), 60), move |n| match n {
        0 => {
            common::wait_until(Duration::from_secs(20), || seen.exists());
            pending()
        }
        _ => token_ok(),
    });
    let out = common::run(&mut login_cmd(&env, &server, &browser, &[]));
    out.assert_code(0);
    assert!(out.stderr.contains(USER_CODE), "{out:#?}");
    let opened = std::fs::read_to_string(&marker).expect("the browser was started");
    assert_eq!(opened, VERIFY, "the browser was given {opened:?}");
}

#[test]
fn a_javascript_complete_url_is_never_opened() {
    assert_not_opened("javascript:alert(1)");
}

#[test]
fn a_file_complete_url_is_never_opened() {
    assert_not_opened("file:///etc/passwd");
}

#[test]
fn control_characters_from_the_server_are_not_printed() {
    let env = Env::new();
    let authorize = json!({
        "device_code": DEVICE_CODE,
        "user_code": "AB\u{1b}[2JCD",
        "verification_uri": "https://app.example.test/dev\u{7}ice",
        "expires_in": 60,
        "interval": 1,
    })
    .to_string();
    let server = device_server(authorize, |_| oauth_error("access_denied"));
    let out = common::run(&mut login_cmd(&env, &server, "true", &[]));
    assert_failed(&out, 3, &[]);
    assert!(out.stderr.contains("AB[2JCD"), "{out:#?}");
    assert!(
        !out.stderr.chars().any(|c| c.is_control() && c != '\n'),
        "{out:#?}"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_while_polling_exits_130_and_stores_nothing() {
    let env = Env::new();
    let server = device_server(authorize_body(Some(COMPLETE), 60), |_| pending());
    let child = login_cmd(&env, &server, "true", &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn baseten");
    // The authorize call and the first poll.
    let polled = server.wait_for_requests(2, WAIT);
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: sends SIGINT to our own child, which has not been waited on yet.
    let rc = unsafe { libc::kill(pid, libc::SIGINT) };
    let out = Outcome::from_output(child.wait_with_output().expect("wait"));
    assert!(polled, "never polled: {out:#?}");
    assert_eq!(rc, 0);
    out.assert_code(130);
    assert_eq!(out.stdout, "");
    assert!(!env.auth_path().exists(), "auth.json written");
}

/// Names are unique across remotes (SPEC §7): a browser login whose profile name is held
/// by another remote's account fails, names that remote, suggests `--label` and changes
/// nothing; with `--label` it lands.
#[test]
fn a_browser_login_under_a_name_held_by_another_remote_is_refused() {
    let other = "http://127.0.0.1:1";
    let store = common::store_of(
        other,
        Some(PROFILE),
        json!({ PROFILE: { "auth_type": "api_key", "api_key": "sk-other-remote" } }),
    );
    let env = Env::with_auth(&common::pretty(&store));
    let before = env.read_auth();
    let server = device_server(authorize_body(Some(COMPLETE), 60), |_| token_ok());
    let out = common::run(&mut login_cmd(&env, &server, "true", &[]));
    assert_failed(
        &out,
        1,
        &["already used by an account of", other, "--label"],
    );
    assert_eq!(env.read_auth(), before);

    let out = common::run(&mut login_cmd(&env, &server, "true", &["--label", "dev-2"]));
    out.assert_code(0);
    assert_eq!(env.active(&server.url()).as_deref(), Some("dev-2"));
    assert_eq!(env.profile(PROFILE)["api_key"], "sk-other-remote");
    assert_eq!(env.active(other).as_deref(), Some(PROFILE));
}

#[test]
fn a_browser_login_with_a_long_email_stores_a_name_that_can_be_typed() {
    let email = format!("{}@example.com", "a".repeat(250));
    let server = routes::browser_login_server(&email);
    let env = Env::new();
    let login = ["auth", "login", "--web", "--insecure-storage"];
    let out = common::run(&mut env.cmd_at(&server.url(), &login));
    out.assert_code(0);
    let names = env.profile_names(&server.url());
    assert_eq!(names.len(), 1, "{names:?}");
    let name = &names[0];
    assert_eq!(name.chars().count(), 256, "{name}");
    assert!(name.ends_with(":127.0.0.1"), "{name}");
    assert!(out.stderr.contains("too long"), "{out:#?}");
    assert!(out.stderr.contains(name.as_str()), "{out:#?}");

    let status = ["auth", "status", "--user", name, "-o", "json"];
    let out = common::run(&mut env.cmd_at(&server.url(), &status));
    out.assert_code(0);
    assert_eq!(out.json()["user"], name.as_str());
}

#[test]
fn a_browser_login_refused_for_a_name_clash_revokes_its_session() {
    let server = routes::browser_login_server("me@example.com");
    // The name a browser login on this server makes belongs to another remote.
    let file = json!({"version": 1, "profiles": {"me@example.com:127.0.0.1": {
        "remote_url": "https://app.other.example.com", "auth_type": "api_key",
        "api_key": "sk-other"}}});
    let env = Env::with_auth(&file.to_string());
    let before = env.read_auth();
    let login = ["auth", "login", "--web", "--insecure-storage"];
    let out = common::run(&mut env.cmd_at(&server.url(), &login));
    out.assert_code(1);
    let error = out.stderr.lines().last().unwrap_or_default();
    assert!(error.starts_with("error: "), "{out:#?}");
    assert!(error.contains("https://app.other.example.com"), "{out:#?}");
    assert_eq!(env.read_auth(), before);
    let requests = server.requests();
    let revoked = requests_to(&requests, LOGOUT);
    assert_eq!(revoked.len(), 1, "{requests:#?}");
    assert_eq!(revoked[0].header("authorization"), Some("Bearer at-web"));
}
