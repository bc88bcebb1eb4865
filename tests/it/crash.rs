//! Crashes and stale locks (SPEC §7, "Hardening" issue): a `login` SIGKILLed at any
//! point never leaves a truncated `auth.json`, never loses an account and never leaves
//! anything but `auth.json`, its lock files and `auth.json.*.tmp` leftovers, which the
//! next write clears. A lock file left behind by a killed process (the store's, or an
//! account's refresh lock) never blocks anyone.

#![cfg(unix)]

use crate::common;
use crate::routes;
use crate::server;

use std::collections::BTreeSet;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Env, Outcome};
use routes::{TOKEN, me_server};
use serde_json::{Value, json};
use server::{Queue, Reply, Server};

const ITERATIONS: u64 = 120;

/// xorshift64*: a tiny deterministic generator, seeded per iteration.
struct Rng(u64);

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
fn pause(d: Duration) {
    std::thread::sleep(d);
}

/// A store with three plain-text accounts for `remote` (`base-1` active) and one,
/// `other`, for the default remote.
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
fn labels(store: &Value, remote: &str) -> BTreeSet<String> {
    common::profiles_of(store, remote).into_iter().collect()
}

/// Checks the invariants after a kill and returns the stored labels and the names of
/// temp-file leftovers.
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
fn refresh_locks(env: &Env) -> Vec<PathBuf> {
    common::list_dir(&env.config_dir())
        .into_iter()
        .filter(|n| common::is_refresh_lock(n))
        .map(|n| env.config_dir().join(n))
        .collect()
}

/// Runs `switch --user <user>` for `remote` and returns the outcome and its duration.
fn switch(env: &Env, remote: &str, user: &str) -> Outcome {
    common::run(
        env.cmd(&["auth", "switch", "--user", user])
            .env("BASETEN_REMOTE_URL", remote),
    )
}

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
