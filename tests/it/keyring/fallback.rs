//! The plain-text fallback of the credential store (SPEC §7) when the system keyring is
//! missing (no session bus) or wedged (a bus that accepts connections and never answers).
//! No real keyring is needed: these run everywhere.
#![cfg(all(unix, not(target_os = "macos")))]

use crate::common;
use crate::pty;
use crate::routes;
use crate::server;

use std::io::ErrorKind;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use common::{Env, Outcome};
use routes::account;
use serde_json::{Value, json};
use server::Server;

const ME_BODY: &str = r#"{"user_id":"u-7","email":"fallback@example.com","name":"Fall Back","workspace_name":"Acme"}"#;

const WARNING: &str =
    "warning: could not store credentials in system keyring, storing in plain text";

const KEY: &str = "sk-fallback-7f3a9c";

/// A server whose `who am I` accepts any key.
fn me_server() -> Server {
    routes::me_server_with(ME_BODY)
}

/// The binary with `args`, pointed at `server`, with the session bus at `bus`.
fn pointed(env: &Env, server: &Server, bus: &str, args: &[&str]) -> Command {
    let mut cmd = env.cmd_at(&server.url(), args);
    cmd.env("DBUS_SESSION_BUS_ADDRESS", bus);
    cmd
}

/// Runs `cmd` (feeding `stdin` when given) and returns the outcome and the wall time.
fn timed(cmd: &mut Command, stdin: Option<&str>) -> (Outcome, Duration) {
    let start = Instant::now();
    let out = match stdin {
        Some(input) => common::run_with_stdin(cmd, input),
        None => common::run(cmd),
    };
    (out, start.elapsed())
}

/// `auth.json` with one plain-text API-key account `label`, active, for `server`.
fn file_account(server: &Server, label: &str, key: &str) -> String {
    file_entry(
        server,
        label,
        json!({ "auth_type": "api_key", "api_key": key }),
    )
}

/// `auth.json` with one plain-text OAuth account `label` (not expired), active.
fn file_oauth_account(server: &Server, label: &str, access: &str) -> String {
    let cred = json!({
        "access_token": access,
        "refresh_token": "refresh-file",
        "expiry": "2099-01-02T03:04:05Z"
    });
    let entry = json!({ "auth_type": "oauth", "oauth_credential": cred });
    file_entry(server, label, entry)
}

/// `auth.json` with the one account `label`, active, for `server`.
fn file_entry(server: &Server, label: &str, entry: Value) -> String {
    common::store_of(&server.url(), Some(label), json!({ label: entry })).to_string()
}

#[track_caller]
fn assert_one_warning(out: &Outcome) {
    let warnings = out.stderr.lines().filter(|l| *l == WARNING).count();
    assert_eq!(warnings, 1, "expected the fallback warning once: {out:#?}");
}

/// A session bus that is there but wedged: a Unix socket in a temp dir whose listener
/// accepts connections (in a thread, keeping them open) and never answers them.
struct WedgedBus {
    _dir: tempfile::TempDir,
    path: PathBuf,
    accepted: Arc<(Mutex<Vec<UnixStream>>, Condvar)>,
}

impl WedgedBus {
    fn start() -> WedgedBus {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bus");
        let listener = UnixListener::bind(&path).expect("bind bus socket");
        let accepted = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let shared = Arc::clone(&accepted);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (streams, changed) = &*shared;
                streams
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(stream);
                changed.notify_all();
            }
        });
        WedgedBus {
            _dir: dir,
            path,
            accepted,
        }
    }

    /// The `DBUS_SESSION_BUS_ADDRESS` for this bus.
    fn address(&self) -> String {
        format!("unix:path={}", self.path.display())
    }

    /// Waits (at most `timeout`) until someone has connected; says whether anyone did.
    fn wait_for_connection(&self, timeout: Duration) -> bool {
        let (streams, changed) = &*self.accepted;
        let guard = streams.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = changed
            .wait_timeout_while(guard, timeout, |s| s.is_empty())
            .unwrap_or_else(PoisonError::into_inner);
        !guard.is_empty()
    }
}

/// A wedged bus that is never accepted from: a client's connect still succeeds (the
/// kernel queues it) and then gets no answer. After the client is gone, a non-blocking
/// accept tells exactly whether it ever connected.
struct SilentBus {
    _dir: tempfile::TempDir,
    path: PathBuf,
    listener: UnixListener,
}

impl SilentBus {
    fn start() -> SilentBus {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bus");
        let listener = UnixListener::bind(&path).expect("bind bus socket");
        SilentBus {
            _dir: dir,
            path,
            listener,
        }
    }

    fn address(&self) -> String {
        format!("unix:path={}", self.path.display())
    }

    /// Whether any client has connected so far (call after the client exited).
    fn was_contacted(&self) -> bool {
        self.listener.set_nonblocking(true).expect("nonblocking");
        match self.listener.accept() {
            Ok(_) => true,
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(e) => panic!("accept on the bus socket: {e}"),
        }
    }
}

/// `login --with-api-key --label ci` with [`KEY`] on stdin and the session bus at `bus`;
/// asserts it logged in, fell back to the file with the one warning, and kept the key
/// off stderr. Returns the outcome and the wall time.
#[track_caller]
fn fallback_login(env: &Env, server: &Server, bus: &str) -> (Outcome, Duration) {
    let mut cmd = pointed(
        env,
        server,
        bus,
        &["auth", "login", "--with-api-key", "--label", "ci"],
    );
    let (out, elapsed) = timed(&mut cmd, Some(&format!("{KEY}\n")));
    out.assert_code(0);
    assert_eq!(
        out.stdout,
        "Logged in as fallback@example.com (Acme) as profile ci\n"
    );
    assert_one_warning(&out);
    assert!(!out.stderr.contains(KEY), "key on stderr: {out:#?}");
    (out, elapsed)
}

/// The two plain-text file accounts of the wedged-bus tests, as (`auth.json`, auth type,
/// secret): an API key `ci` and an OAuth account `me` (whose status reads the expiry from
/// the secret).
fn file_accounts(server: &Server) -> [(String, &'static str, &'static str); 2] {
    [
        (file_account(server, "ci", KEY), "api_key", KEY),
        (
            file_oauth_account(server, "me", "access-file"),
            "oauth",
            "access-file",
        ),
    ]
}

/// Runs `args` against a fresh store holding `auth`, with a [`SilentBus`] as the session
/// bus. Returns the outcome, the wall time, and whether the bus was contacted.
fn run_on_silent_bus(server: &Server, auth: &str, args: &[&str]) -> (Outcome, Duration, bool) {
    let env = Env::with_auth(auth);
    let bus = SilentBus::start();
    let (out, elapsed) = timed(&mut pointed(&env, server, &bus.address(), args), None);
    (out, elapsed, bus.was_contacted())
}

#[test]
fn no_session_bus_falls_back_to_the_file_at_once_with_the_warning() {
    let env = Env::new();
    let server = me_server();
    let (_, elapsed) = fallback_login(&env, &server, "unix:path=/nonexistent");
    // Requested by the issue: a missing bus is detected without waiting.
    assert!(
        elapsed < Duration::from_secs(1),
        "login without a session bus took {elapsed:?}"
    );

    let entry = account(&env, &server, "ci");
    assert_eq!(entry["auth_type"], "api_key");
    assert_eq!(entry["api_key"], KEY);
    assert_eq!(env.active(&server.url()).as_deref(), Some("ci"));

    let status = common::run(&mut pointed(
        &env,
        &server,
        "unix:path=/nonexistent",
        &["auth", "status", "-o", "json"],
    ));
    status.assert_code(0);
    let status = status.json();
    assert_eq!(status["storage"], "file");
    assert_eq!(status["source"], "store");
    assert_eq!(status["user"], "ci");
}

#[test]
fn no_session_bus_fallback_says_why_under_verbose_but_never_the_key() {
    let env = Env::new();
    let server = me_server();
    let mut cmd = pointed(
        &env,
        &server,
        "unix:path=/nonexistent",
        &["auth", "login", "--with-api-key", "--label", "ci", "-v"],
    );
    let out = common::run_with_stdin(&mut cmd, &format!("{KEY}\n"));
    out.assert_code(0);
    assert_one_warning(&out);
    let why: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| *l != WARNING && l.to_lowercase().contains("keyring"))
        .collect();
    assert!(
        !why.is_empty(),
        "-v must say why the keyring was not used: {out:#?}"
    );
    assert!(!out.stderr.contains(KEY), "key on stderr: {out:#?}");
    assert!(!out.stdout.contains(KEY), "key on stdout: {out:#?}");
    assert_eq!(account(&env, &server, "ci")["api_key"], KEY);
}

#[test]
fn wedged_bus_login_falls_back_within_the_deadline() {
    let env = Env::new();
    let server = me_server();
    let bus = WedgedBus::start();
    let (_, elapsed) = fallback_login(&env, &server, &bus.address());
    assert!(
        elapsed < Duration::from_secs(5),
        "login on a wedged bus took {elapsed:?} (deadline 3 s)"
    );
    // The fallback came from the wedged bus, not from failing to find one.
    assert!(
        bus.wait_for_connection(Duration::from_secs(1)),
        "the binary never tried the session bus"
    );
    let entry = account(&env, &server, "ci");
    assert_eq!(entry["auth_type"], "api_key");
    assert_eq!(entry["api_key"], KEY);
}

#[test]
fn wedged_bus_status_of_a_file_account_does_not_touch_the_keyring() {
    let server = me_server();
    // An API key, and an OAuth pair, whose expiry status reads from the secret.
    for (auth, auth_type, _) in file_accounts(&server) {
        let (out, elapsed, contacted) =
            run_on_silent_bus(&server, &auth, &["auth", "status", "-o", "json"]);
        out.assert_code(0);
        let status = out.json();
        assert_eq!(status["storage"], "file", "{out:#?}");
        assert_eq!(status["auth_type"], auth_type, "{out:#?}");
        assert!(
            elapsed < Duration::from_secs(1),
            "status of a file {auth_type} account waited for the keyring: {elapsed:?}"
        );
        assert!(
            !contacted,
            "status of a file {auth_type} account connected to the session bus"
        );
    }
}

#[test]
fn wedged_bus_token_of_a_file_account_does_not_touch_the_keyring() {
    let server = me_server();
    for (auth, _, secret) in file_accounts(&server) {
        let (out, elapsed, contacted) = run_on_silent_bus(&server, &auth, &["auth", "token"]);
        assert_eq!(out.success(), format!("{secret}\n"));
        assert!(
            elapsed < Duration::from_secs(1),
            "token of a file account waited for the keyring: {elapsed:?}"
        );
        assert!(
            !contacted,
            "token of a file account connected to the session bus"
        );
    }
}

#[test]
fn wedged_bus_insecure_storage_login_completes_within_the_deadline() {
    let env = Env::new();
    let server = me_server();
    let bus = WedgedBus::start();
    let mut cmd = pointed(
        &env,
        &server,
        &bus.address(),
        &common::api_key_login_args("ci"),
    );
    let (out, elapsed) = timed(&mut cmd, Some(&format!("{KEY}\n")));
    eprintln!("login --insecure-storage on a wedged bus took {elapsed:?}");
    out.assert_code(0);
    assert_eq!(
        out.stdout,
        "Logged in as fallback@example.com (Acme) as profile ci\n"
    );
    assert!(
        !out.stderr.contains(WARNING),
        "--insecure-storage is no fallback, no warning: {out:#?}"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "login --insecure-storage on a wedged bus took {elapsed:?}"
    );
    assert_eq!(account(&env, &server, "ci")["api_key"], KEY);
}

#[test]
fn a_keyring_that_may_be_prompting_a_person_is_never_waited_for_under_the_store_lock() {
    let server = me_server();
    let remote = server.url();
    // `a`'s secret is still in a legacy keyring item: the next write moves it, so it
    // calls the keyring.
    let legacy = json!({"service": format!("baseten:{remote}"), "account": "a"});
    let file = common::store_of(
        &remote,
        Some("b"),
        json!({"a": {"auth_type": "api_key", "legacy_keyring": legacy},
               "b": {"auth_type": "api_key", "api_key": KEY}}),
    );
    let env = Env::with_auth(&file.to_string());
    let bus = WedgedBus::start();
    // At a terminal, with a display: the keyring may be showing an unlock prompt, so
    // the run waits for it as long as a person may take.
    let (_master, slave) = pty::open();
    let mut waiting = pointed(
        &env,
        &server,
        &bus.address(),
        &["auth", "switch", "--user", "a"],
    );
    waiting
        .env("DISPLAY", ":99")
        .stdin(Stdio::from(slave))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut waiting = waiting.spawn().expect("spawn switch");
    assert!(
        bus.wait_for_connection(Duration::from_secs(20)),
        "the binary never tried the session bus"
    );
    // Meanwhile another command can take the store lock (it would time out after 5 s).
    let out = common::run(&mut env.cmd_at(&remote, &["auth", "switch", "--user", "b"]));
    let _ = waiting.kill();
    let _ = waiting.wait();
    assert_eq!(out.success(), "Switched to b\n");
}
