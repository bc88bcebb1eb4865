//! Runs that overlap and runs that die (SPEC §7): the store lock (held, released, any
//! mode, left by a killed process), atomic writes that leave no temp files, parallel
//! switches and logins that lose nothing, refreshes that race a login or cannot be
//! saved, refresh locks that do not pile up, and a `login` SIGKILLed at any point that
//! never leaves a truncated `auth.json` or loses an account.

use crate::common;
use crate::routes;
use crate::routes::pointed;
use crate::server;

#[cfg(unix)]
use std::collections::BTreeSet;
#[cfg(unix)]
use std::fs;
use std::fs::{File, OpenOptions};
#[cfg(unix)]
use std::io::Write;
use std::io::{BufRead, BufReader, Read};
#[cfg(unix)]
use std::os::unix::process::CommandExt;
#[cfg(unix)]
use std::path::{Path, PathBuf};
use std::process::Stdio;
#[cfg(unix)]
use std::process::{Child, Command};
#[cfg(unix)]
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use common::{DEFAULT_REMOTE, Env, FIXTURE, Outcome};
#[cfg(unix)]
use routes::{AUTHORIZE, LOGOUT, TOKEN, me_server, requests_to};
use routes::{ME, queue_server};
use serde_json::{Value, json};
use server::Reply;
#[cfg(unix)]
use server::{Queue, Request, Server};

#[cfg(unix)]
const ITERATIONS: u64 = 120;

/// xorshift64*: a tiny deterministic generator, seeded per iteration.
#[cfg(unix)]
struct Rng(u64);

#[cfg(unix)]
impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Waits `d`: a random delay before the kill, not synchronisation. A sleep, not a busy
/// loop, so the child being killed keeps the CPU.
#[cfg(unix)]
fn pause(d: Duration) {
    std::thread::sleep(d);
}

/// A store with three plain-text accounts for `remote` (`base-1` active) and one,
/// `other`, for the default remote.
#[cfg(unix)]
fn base_store(remote: &str) -> String {
    json!({
        "version": 1,
        "current": "base-1",
        "profiles": {
            "base-1": {"remote_url": remote, "auth_type": "api_key", "api_key": "sk-base-1"},
            "base-2": {"remote_url": remote, "auth_type": "api_key", "api_key": "sk-base-2"},
            "base-3": {"remote_url": remote, "auth_type": "oauth", "oauth_credential": {
                "access_token": "at-base-3", "refresh_token": "rt-base-3",
                "expiry": "2099-01-01T00:00:00Z"}},
            "other": {"remote_url": "https://app.baseten.co", "auth_type": "api_key",
                      "api_key": "sk-other"}
        },
        "active_by_remote": { remote: "base-1", "https://app.baseten.co": "other" }
    })
    .to_string()
}

/// Starts `login --with-api-key --insecure-storage --label <label>` against `server`
/// with its key already written to stdin.
#[cfg(unix)]
fn spawn_login(env: &Env, server: &Server, label: &str) -> Child {
    let mut child = env
        .cmd_at(
            &server.url(),
            &[
                "auth",
                "login",
                "--with-api-key",
                "--insecure-storage",
                "--label",
                label,
            ],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn baseten");
    let mut stdin = child.stdin.take().expect("stdin");
    let _ = stdin.write_all(format!("sk-{label}\n").as_bytes());
    child
}

/// The labels stored for `remote` in `store`.
#[cfg(unix)]
fn labels(store: &Value, remote: &str) -> BTreeSet<String> {
    common::profiles_of(store, remote).into_iter().collect()
}

/// Checks the invariants after a kill and returns the stored labels and the names of
/// temp-file leftovers.
#[cfg(unix)]
#[track_caller]
fn check_store(env: &Env, remote: &str, known: &BTreeSet<String>, when: &str) -> Vec<String> {
    let text = fs::read_to_string(env.auth_path())
        .unwrap_or_else(|e| panic!("{when}: auth.json unreadable: {e}"));
    let store: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{when}: auth.json is not JSON ({e}): {text:?}"));
    let now = labels(&store, remote);
    let lost: Vec<&String> = known.difference(&now).collect();
    assert!(lost.is_empty(), "{when}: lost {lost:?}: {text}");
    assert_eq!(
        labels(&store, "https://app.baseten.co"),
        BTreeSet::from(["other".to_owned()]),
        "{when}: other remote changed"
    );
    assert_eq!(common::mode(&env.auth_path()), 0o600, "{when}");
    let mut leftovers = Vec::new();
    for name in common::list_dir(&env.config_dir()) {
        match name.as_str() {
            "auth.json" | "auth.json.lock" => {}
            n if common::is_refresh_lock(n) => {}
            n if n.starts_with("auth.json.") && n.ends_with(".tmp") => leftovers.push(name),
            _ => panic!("{when}: unexpected file {name:?} in the config dir"),
        }
    }
    leftovers
}

#[cfg(unix)]
#[test]
fn sigkill_at_random_points_never_corrupts_or_loses_an_account() {
    let started = Instant::now();
    let server = me_server();
    let remote = server.url();
    let env = Env::with_auth(&base_store(&remote));
    let mut known = labels(&env.auth_json(), &remote);
    assert_eq!(known.len(), 3);

    // Calibrate: how long one login takes from its request to its exit.
    let mut child = spawn_login(&env, &server, "calibrate");
    assert!(server.wait_for_requests(1, Duration::from_secs(10)));
    let arrived = Instant::now();
    let status = child.wait().expect("wait");
    let tail = arrived.elapsed().max(Duration::from_micros(200));
    assert!(status.success(), "calibration login failed");
    known.insert("calibrate".into());
    let mut whole = tail * 4;

    let (mut killed, mut finished, mut leftovers_seen) = (0, 0, 0);
    for i in 0..ITERATIONS {
        let mut rng = Rng::new(i + 1);
        let label = format!("k{i}");
        let before = server.requests().len();
        let spawned = Instant::now();
        let mut child = spawn_login(&env, &server, &label);
        match rng.below(3) {
            // Anywhere in the run, counting from the spawn.
            0 => pause(Duration::from_micros(
                rng.below(whole.as_micros() as u64 + 1),
            )),
            // Around the store write: after the server saw the request.
            _ => {
                assert!(
                    server.wait_for_requests(before + 1, Duration::from_secs(10)),
                    "iteration {i}: no request"
                );
                for _ in 0..rng.below(64) {
                    std::thread::yield_now();
                }
                pause(Duration::from_micros(
                    rng.below(tail.as_micros() as u64 * 3 / 2 + 1),
                ));
            }
        }
        let _ = child.kill();
        let status = child.wait().expect("wait");
        if status.success() {
            finished += 1;
            known.insert(label.clone());
            // Keep the random range covering a whole run on this machine.
            whole = whole.max(spawned.elapsed());
        } else {
            killed += 1;
            assert!(
                status.code().is_none(),
                "iteration {i}: failed on its own: {status:?} {:?}",
                child.stderr.take().map(std::io::read_to_string)
            );
        }
        let leftovers = check_store(&env, &remote, &known, &format!("iteration {i}"));
        leftovers_seen += usize::from(!leftovers.is_empty());
        known = labels(&env.auth_json(), &remote);
    }
    eprintln!(
        "{ITERATIONS} runs: {killed} killed, {finished} finished, {leftovers_seen} with \
         temp leftovers, {} accounts, {:?}",
        known.len(),
        started.elapsed()
    );

    // Whatever the kills left, the next successful write clears it. Plant one leftover
    // so that this is checked even if no kill landed between write and rename.
    fs::write(env.config_dir().join("auth.json.999999.tmp"), "{\"trunc").expect("plant");
    let out = common::run(
        env.cmd(&["auth", "switch", "--user", "base-2"])
            .env("BASETEN_REMOTE_URL", &remote),
    );
    assert_eq!(out.success(), "Switched to base-2\n");
    let leftovers = check_store(&env, &remote, &known, "after switch");
    assert_eq!(leftovers, Vec::<String>::new(), "leftovers not cleared");
    assert_eq!(env.active(&remote).as_deref(), Some("base-2"));
}

/// Tries to take the lock on the lock file `path` from this process.
#[cfg(unix)]
fn lock_is_free(path: &Path) -> bool {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open lock file");
    match f.try_lock() {
        Ok(()) => true,
        Err(fs::TryLockError::WouldBlock) => false,
        Err(fs::TryLockError::Error(e)) => panic!("try_lock: {e}"),
    }
}

/// The per-account refresh lock files in the config dir.
#[cfg(unix)]
fn refresh_locks(env: &Env) -> Vec<PathBuf> {
    common::list_dir(&env.config_dir())
        .into_iter()
        .filter(|n| common::is_refresh_lock(n))
        .map(|n| env.config_dir().join(n))
        .collect()
}

/// Runs `switch --user <user>` for `remote` and returns the outcome and its duration.
#[cfg(unix)]
fn switch(env: &Env, remote: &str, user: &str) -> Outcome {
    common::run(
        env.cmd(&["auth", "switch", "--user", user])
            .env("BASETEN_REMOTE_URL", remote),
    )
}

#[cfg(unix)]
#[test]
fn a_lock_held_by_a_sigkilled_process_does_not_block_later_commands() {
    // `token` on an expired credential refreshes under the account's refresh lock (not
    // the store lock: no network call under it); the server never answers the first
    // refresh, so the process sits there holding that lock until killed; it answers
    // the second one.
    let queue = Queue::new();
    queue.push("POST", TOKEN, Reply::hang()).push(
        "POST",
        TOKEN,
        Reply::json(
            200,
            r#"{"access_token":"at-new","refresh_token":"rt-new","expires_in":3600,"token_type":"Bearer"}"#,
        ),
    );
    let server = Server::start(queue.handler());
    let remote = server.url();
    let mut store: Value = serde_json::from_str(&base_store(&remote)).expect("json");
    store["current"] = "base-3".into();
    store["active_by_remote"][&remote] = "base-3".into();
    store["profiles"]["base-3"]["oauth_credential"]["expiry"] = "2001-01-01T00:00:00Z".into();
    let text = serde_json::to_string_pretty(&store).expect("encode");
    let env = Env::with_auth(&text);

    let mut child: Child = {
        let mut cmd: Command = env.cmd_at(&remote, &["auth", "token"]);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        cmd.spawn().expect("spawn token")
    };
    assert!(
        server.wait_for_requests(1, Duration::from_secs(10)),
        "no refresh request"
    );
    let locks = refresh_locks(&env);
    assert_eq!(locks.len(), 1, "{:?}", common::list_dir(&env.config_dir()));
    assert!(
        !lock_is_free(&locks[0]),
        "the refresh does not hold its lock"
    );
    if env.lock_path().exists() {
        assert!(
            lock_is_free(&env.lock_path()),
            "the store lock is held during a network call"
        );
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    assert!(locks[0].exists(), "the refresh lock file is left behind");

    // A lock still held would make these wait out the lock and fail: success is proof.
    let out = switch(&env, &remote, "base-1");
    assert_eq!(out.success(), "Switched to base-1\n");
    assert_eq!(env.active(&remote).as_deref(), Some("base-1"));
    // The killed refresh changed nothing.
    assert_eq!(env.profile("base-3"), store["profiles"]["base-3"]);

    // Nor does its refresh lock block the next refresh of the same account.
    switch(&env, &remote, "base-3").success();
    let out = common::run(&mut env.cmd_at(&remote, &["auth", "token"]));
    assert_eq!(out.success(), "at-new\n");
    assert_eq!(
        env.profile("base-3")["oauth_credential"]["refresh_token"],
        "rt-new"
    );
}

#[cfg(unix)]
#[test]
fn an_existing_lock_file_never_blocks_a_command() {
    let remote = "https://app.example.com";
    for content in [&b""[..], b"12345\n", b"\xff\x00garbage"] {
        let env = Env::with_auth(&base_store(remote));
        fs::write(env.lock_path(), content).expect("write lock file");
        common::set_mode(&env.lock_path(), 0o600);
        let out = switch(&env, remote, "base-2");
        assert_eq!(out.success(), "Switched to base-2\n");
        let out = common::run(
            env.cmd(&["auth", "status"])
                .env("BASETEN_REMOTE_URL", remote),
        );
        assert!(out.success().contains("Logged in as base-2"), "{out:#?}");
        assert_eq!(
            common::list_dir(&env.config_dir()),
            ["auth.json", "auth.json.lock"]
        );
    }
}

#[test]
fn sixty_four_concurrent_api_key_logins_lose_no_account() {
    const N: usize = 64;
    let server = queue_server(&[(
        "GET",
        ME,
        Reply::json(
            200,
            r#"{"user_id":"u-1","email":"bot@example.com","name":"Bot","workspace_name":"W"}"#,
        ),
    )]);
    let env = Env::new();
    let children: Vec<_> = (0..N)
        .map(|i| {
            let label = format!("bot-{i}");
            // A child that exits early shows up in its outcome below.
            common::spawn_with_stdin(
                &mut pointed(&env, &server, &common::api_key_login_args(&label)),
                format!("sk-bot-{i}\n").as_bytes(),
            )
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = Outcome::from_output(child.wait_with_output().expect("wait"));
        assert_eq!(out.code, 0, "login bot-{i}: {out:#?}");
        assert_eq!(
            out.stdout,
            format!("Logged in as bot@example.com (W) as profile bot-{i}\n")
        );
    }
    assert_eq!(server.requests().len(), N);
    let auth = env.auth_json();
    let users = auth["profiles"].as_object().expect("profiles");
    assert_eq!(users.len(), N, "{auth:#}");
    for i in 0..N {
        let entry = &users[&format!("bot-{i}")];
        assert_eq!(entry["remote_url"], server.url());
        assert_eq!(entry["auth_type"], "api_key");
        assert_eq!(entry["api_key"], format!("sk-bot-{i}"));
    }
    // The last login to land made itself active: both pointers name it.
    let active = auth["current"].as_str().expect("a current profile");
    assert!(users.contains_key(active));
    assert_eq!(auth["active_by_remote"][server.url()], active);
}

#[test]
fn no_temp_files_are_left_behind() {
    let env = Env::with_auth(FIXTURE);
    for user in ["ci-bot", "me@example.com", "ci-bot"] {
        env.run(&["auth", "switch", "--user", user]).success();
    }
    env.run(&["auth", "switch", "--user", "nobody"])
        .failure(1, &["not found"]);
    env.run(&["auth", "status"]).success();
    env.run(&["auth", "logout"]).success();
    let names = common::list_dir(&env.config_dir());
    assert!(
        names == ["auth.json"] || names == ["auth.json", "auth.json.lock"],
        "{names:?}"
    );
}

#[test]
fn parallel_switches_lose_nothing() {
    // Eight remotes with two accounts each; eight runs at once each switch a different
    // remote to its second account. Every run rewrites the whole file, so an update
    // lost to a race leaves some remote on its first account (or on none).
    let remotes: Vec<String> = (0..8)
        .map(|i| format!("https://app.r{i}.example.com"))
        .collect();
    let mut profiles = serde_json::Map::new();
    for (i, r) in remotes.iter().enumerate() {
        for n in ["a", "b"] {
            profiles.insert(
                format!("{n}{i}"),
                json!({"remote_url": r, "auth_type": "api_key", "api_key": format!("sk-{n}{i}")}),
            );
        }
    }
    let pointers: serde_json::Map<String, Value> = remotes
        .iter()
        .enumerate()
        .map(|(i, r)| (r.clone(), json!(format!("a{i}"))))
        .collect();
    let env = Env::with_auth(
        &json!({"version": 1, "profiles": profiles, "active_by_remote": pointers}).to_string(),
    );
    let children: Vec<_> = (0..8)
        .map(|i| {
            env.cmd(&["auth", "switch", "--user", &format!("b{i}")])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    for (i, r) in remotes.iter().enumerate() {
        assert_eq!(
            env.active(r).as_deref(),
            Some(format!("b{i}").as_str()),
            "{r}"
        );
    }
    assert_eq!(env.auth_json()["profiles"].as_object().unwrap().len(), 16);
}

/// Opens the store's lock file and takes an exclusive lock on it, as another
/// `baseten` would.
fn hold_lock(env: &Env) -> File {
    let lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(env.lock_path())
        .unwrap();
    lock.lock().unwrap();
    lock
}

#[test]
fn a_held_lock_times_out_with_a_clear_error() {
    let env = Env::with_auth(FIXTURE);
    let lock = hold_lock(&env);
    let start = Instant::now();
    let out = env.run(&["auth", "switch", "--user", "ci-bot", "-v"]);
    let waited = start.elapsed();
    drop(lock);

    out.assert_code(1);
    assert_eq!(out.stdout, "");
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: ") && last.contains("lock"),
        "{out:#?}"
    );
    // It waited a bounded while instead of failing at once or hanging.
    assert!(waited >= Duration::from_secs(1), "gave up after {waited:?}");
    assert!(waited < Duration::from_secs(30), "waited {waited:?}");
    assert_eq!(env.read_auth(), FIXTURE);
}

#[test]
fn a_released_lock_lets_the_writer_through() {
    let env = Env::with_auth(FIXTURE);
    let lock = hold_lock(&env);
    let mut child = env
        .cmd(&["auth", "switch", "--user", "ci-bot", "-v"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).unwrap();
        assert!(n > 0, "stderr ended before the wait was logged: {seen}");
        seen.push_str(&line);
        if line.contains("waiting for the lock") {
            break;
        }
    }
    // The writer is blocked on the lock: the file is still the fixture.
    assert_eq!(env.read_auth(), FIXTURE);
    drop(lock);

    stderr.read_to_string(&mut seen).unwrap();
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(status.success(), "{status:?}: {seen}");
    assert_eq!(stdout, "Switched to ci-bot\n");
    assert_eq!(env.active(DEFAULT_REMOTE).as_deref(), Some("ci-bot"));
}

#[cfg(unix)]
pub(crate) const NEW_PAIR: &str =
    r#"{"access_token":"at-new","refresh_token":"rt-new","expires_in":3600,"token_type":"Bearer"}"#;

#[cfg(unix)]
const WAIT: Duration = Duration::from_secs(20);

/// `auth.json` with the one plain-text OAuth account `me` of `remote`, active, whose
/// access token expired long ago.
#[cfg(unix)]
pub(crate) fn expired_store(remote: &str) -> String {
    let cred = json!({"access_token": "at-old", "refresh_token": "rt-old",
                      "expiry": "2001-01-01T00:00:00Z"});
    common::store_of(
        remote,
        Some("me"),
        json!({"me": {"auth_type": "oauth", "oauth_credential": cred}}),
    )
    .to_string()
}

#[cfg(unix)]
#[test]
fn a_refresh_that_could_not_be_saved_is_never_sent() {
    let server = routes::queue_server(&[("POST", TOKEN, Reply::json(200, NEW_PAIR))]);
    let env = Env::with_auth(&expired_store(&server.url()));
    let before = env.read_auth();
    // Room for the lock and temp files to be created, not for the new auth.json.
    let mut cmd = env.cmd_at(&server.url(), &["auth", "token"]);
    let out = common::run(common::with_tiny_files(&mut cmd, 64));
    out.failure(1, &["cannot write"]);
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
    assert_eq!(env.read_auth(), before);

    // With the space there, the same refresh goes through.
    let out = common::run(&mut env.cmd_at(&server.url(), &["auth", "token"]));
    assert_eq!(out.success(), "at-new\n");
}

/// A server whose first refresh waits until the test says so (through the returned
/// sender), then answers [`NEW_PAIR`]; device-flow token requests get a login's pair,
/// and `who am I`, authorize and logout answer as usual.
#[cfg(unix)]
fn held_refresh_server() -> (Server, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (arrived_tx, arrived) = mpsc::channel::<()>();
    let (release, release_rx) = mpsc::channel::<()>();
    let gate = Arc::new(Mutex::new(Some((arrived_tx, release_rx))));
    let server = Server::start(
        move |r: &Request| match (r.method.as_str(), r.path.as_str()) {
            ("POST", TOKEN) if r.form_value("grant_type").as_deref() == Some("refresh_token") => {
                if let Some((arrived, release)) = gate.lock().expect("gate").take() {
                    let _ = arrived.send(());
                    let _ = release.recv();
                }
                Reply::json(200, NEW_PAIR)
            }
            ("POST", TOKEN) => Reply::json(
                200,
                r#"{"access_token":"at-login","refresh_token":"rt-login","expires_in":3600,"token_type":"Bearer"}"#,
            ),
            ("POST", AUTHORIZE) => Reply::json(200, routes::AUTHORIZE_BODY),
            ("GET", ME) => Reply::json(200, routes::ME_BODY),
            ("POST", LOGOUT) => Reply::json(200, "{}"),
            _ => Reply::json(404, r#"{"error":"not_found"}"#),
        },
    );
    (server, arrived, release)
}

#[cfg(unix)]
#[test]
fn a_login_that_lands_during_a_refresh_wins_and_the_refreshed_session_is_revoked() {
    let (server, arrived, release) = held_refresh_server();
    // The account a browser login on this server makes, its token expired.
    let name = "me@example.com:127.0.0.1";
    let text = expired_store(&server.url()).replace("\"me\"", &format!("{name:?}"));
    let env = Env::with_auth(&text);

    let token = env
        .cmd_at(&server.url(), &["auth", "token"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn token");
    arrived.recv_timeout(WAIT).expect("no refresh request");
    let login = ["auth", "login", "--web", "--insecure-storage"];
    common::run(&mut env.cmd_at(&server.url(), &login)).assert_code(0);
    release.send(()).expect("release the refresh");
    let token = Outcome::from_output(token.wait_with_output().expect("wait for token"));

    // The login's pair is the account's, and what `token` printed.
    assert_eq!(token.success(), "at-login\n");
    let cred = &env.profile(name)["oauth_credential"];
    assert_eq!(cred["access_token"], "at-login", "{cred}");
    assert_eq!(cred["refresh_token"], "rt-login", "{cred}");
    let requests = server.requests();
    let revoked = requests_to(&requests, LOGOUT);
    assert_eq!(revoked.len(), 1, "{requests:#?}");
    assert_eq!(revoked[0].header("authorization"), Some("Bearer at-new"));
}

#[cfg(unix)]
#[test]
fn refresh_lock_files_do_not_pile_up() {
    let server = routes::queue_server(&[("POST", TOKEN, Reply::json(200, NEW_PAIR))]);
    let env = Env::with_auth(&expired_store(&server.url()));
    // One left by a killed run.
    std::fs::write(
        env.config_dir()
            .join("auth.json.00000000deadbeef.refresh.lock"),
        "",
    )
    .expect("write a stale lock");
    let out = common::run(&mut env.cmd_at(&server.url(), &["auth", "token"]));
    assert_eq!(out.success(), "at-new\n");
    assert_eq!(
        common::list_dir(&env.config_dir()),
        ["auth.json", "auth.json.lock"]
    );
}

/// `cmd` run with umask `mask`.
#[cfg(unix)]
fn with_umask(cmd: &mut Command, mask: libc::mode_t) -> &mut Command {
    // SAFETY: umask is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            libc::umask(mask);
            Ok(())
        })
    }
}

/// `cmd` run as a user whose file permissions bind: this one, or when the tests run as
/// root (whom permissions do not bind), `nobody`, made owner of `env`'s files.
#[cfg(unix)]
fn as_ordinary_user<'a>(env: &Env, cmd: &'a mut Command) -> &'a mut Command {
    if !common::is_root() {
        return cmd;
    }
    fn chown_all(path: &std::path::Path) {
        common::chown(path);
        if path.is_dir() && !path.is_symlink() {
            for entry in std::fs::read_dir(path).expect("read dir") {
                chown_all(&entry.expect("entry").path());
            }
        }
    }
    chown_all(env.root());
    // SAFETY: only async-signal-safe calls (setgid, setuid) between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setgid(common::NOBODY) != 0 || libc::setuid(common::NOBODY) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

#[cfg(unix)]
#[test]
fn the_lock_file_is_0600_whatever_the_umask_and_works_whatever_its_mode() {
    let server = routes::me_server();
    let env = Env::new();
    let login = common::api_key_login_args("ci");
    let mut cmd = env.cmd_at(&server.url(), &login);
    common::run_with_stdin(with_umask(&mut cmd, 0o277), "sk-ci\n").assert_code(0);
    assert_eq!(common::mode(&env.lock_path()), 0o600);

    // A lock file the user made read-only (or an earlier version left so) still works.
    for mode in [0o400, 0o444, 0o200, 0o644] {
        common::set_mode(&env.lock_path(), mode);
        let mut cmd = env.cmd_at(&server.url(), &["auth", "switch", "--user", "ci"]);
        let out = common::run(as_ordinary_user(&env, &mut cmd));
        assert_eq!(out.success(), "Switched to ci\n", "mode {mode:o}");
        assert_eq!(common::mode(&env.lock_path()), mode, "the mode was changed");
    }
    // One that no access mode opens is the user's own: it gets a lock file's mode back.
    common::set_mode(&env.lock_path(), 0o000);
    let mut cmd = env.cmd_at(&server.url(), &["auth", "switch", "--user", "ci"]);
    let out = common::run(as_ordinary_user(&env, &mut cmd));
    assert_eq!(out.success(), "Switched to ci\n");
    assert_eq!(common::mode(&env.lock_path()), 0o600);
}
