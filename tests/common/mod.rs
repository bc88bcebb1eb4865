//! Shared helpers for the integration tests: a throw-away config directory per test
//! ([`Env`]), a preconfigured [`Command`] for the real `baseten` binary that never sees
//! the developer's credentials, keyring or terminal, and the captured result of a run
//! ([`Outcome`]).
//!
//! Every child started through [`Env::cmd`] gets:
//! - `BASETEN_CONFIG_DIR` pointing at an empty directory of its own ([`Env::config_dir`]),
//! - `HOME` pointing at a (not created) directory inside the same temp dir, and no
//!   `XDG_CONFIG_HOME`, so a fallback can never reach the real home,
//! - no `BASETEN_API_KEY`, `BASETEN_REMOTE_URL` or `BASETEN_MANAGEMENT_API_URL_OVERRIDE`,
//! - no proxy variables (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, in either
//!   case), so the developer's proxy never sits between a test and its server,
//! - `DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent`, so no real keyring is touched,
//! - stdin from `/dev/null` (or a pipe, with [`Env::run_with_stdin`]): never a terminal.
//!
//! tests/it/main.rs includes it as `mod common`, next to the HTTP test server
//! (`common/server.rs`) and the other helpers of this directory.
#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
#[cfg(unix)]
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tempfile::TempDir;

/// Path of the binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_baseten");

/// The default remote (SPEC §3), the remote of [`FIXTURE`]'s accounts.
pub const DEFAULT_REMOTE: &str = "https://app.baseten.co";

/// A store (profiles layout, SPEC §7) with two plain-text accounts of
/// [`DEFAULT_REMOTE`]: `me@example.com` (OAuth, active, access token `access-abc`,
/// refresh token `refresh-abc`, expiry `2099-01-02T03:04:05Z`) and `ci-bot` (API key
/// `sk-ci-123`).
pub const FIXTURE: &str = r#"{
  "version": 1,
  "current": "me@example.com",
  "profiles": {
    "me@example.com": {
      "remote_url": "https://app.baseten.co",
      "auth_type": "oauth",
      "oauth_credential": {
        "access_token": "access-abc",
        "refresh_token": "refresh-abc",
        "expiry": "2099-01-02T03:04:05Z"
      }
    },
    "ci-bot": {
      "remote_url": "https://app.baseten.co",
      "auth_type": "api_key",
      "api_key": "sk-ci-123"
    }
  },
  "active_by_remote": {
    "https://app.baseten.co": "me@example.com"
  }
}
"#;

/// [`FIXTURE`]'s accounts in the legacy `hosts` layout (earlier versions of this program
/// and the official CLI before v0.2), which is still read and converted on a write.
pub const LEGACY_FIXTURE: &str = r#"{
  "version": 1,
  "hosts": {
    "https://app.baseten.co": {
      "active_user": "me@example.com",
      "users": {
        "me@example.com": {
          "auth_type": "oauth",
          "oauth_credential": {
            "access_token": "access-abc",
            "refresh_token": "refresh-abc",
            "expiry": "2099-01-02T03:04:05Z"
          }
        },
        "ci-bot": { "auth_type": "api_key", "api_key": "sk-ci-123" }
      }
    }
  }
}
"#;

/// The variable whose key wins over every stored account (SPEC §6).
pub const API_KEY_ENV: &str = "BASETEN_API_KEY";

/// A store with an API-key account active and an OAuth account with unknown expiry on
/// the default remote, and an account of a second remote.
pub const API_KEY_ACTIVE: &str = r#"{
  "version": 1,
  "current": "ci-bot",
  "profiles": {
    "ci-bot": {
      "remote_url": "https://app.baseten.co",
      "auth_type": "api_key",
      "api_key": "sk-ci-123"
    },
    "laptop": {
      "remote_url": "https://app.baseten.co",
      "auth_type": "oauth",
      "oauth_credential": {
        "access_token": "access-laptop",
        "refresh_token": "refresh-laptop",
        "expiry": "0001-01-01T00:00:00Z"
      }
    },
    "staging-bot": {
      "remote_url": "https://app.staging.baseten.co",
      "auth_type": "api_key",
      "api_key": "sk-staging"
    }
  },
  "active_by_remote": {
    "https://app.baseten.co": "ci-bot",
    "https://app.staging.baseten.co": "staging-bot"
  }
}
"#;

/// A store whose remote has accounts but none active (two of them, since a remote's
/// only account is its active one).
pub const NONE_ACTIVE: &str = r#"{
  "version": 1,
  "profiles": {
    "ci-bot": {
      "remote_url": "https://app.baseten.co",
      "auth_type": "api_key",
      "api_key": "sk-ci-123"
    },
    "deploy-bot": {
      "remote_url": "https://app.baseten.co",
      "auth_type": "api_key",
      "api_key": "sk-deploy-456"
    }
  }
}
"#;

/// [`NONE_ACTIVE`] in the legacy `hosts` layout: no `active_user`.
pub const LEGACY_NONE_ACTIVE: &str = r#"{
  "version": 1,
  "hosts": {
    "https://app.baseten.co": {
      "users": {
        "ci-bot": { "auth_type": "api_key", "api_key": "sk-ci-123" },
        "deploy-bot": { "auth_type": "api_key", "api_key": "sk-deploy-456" }
      }
    }
  }
}
"#;

/// Checks the SPEC §2 status fields of a JSON result against `expected`.
#[track_caller]
pub fn assert_fields(out: &Outcome, expected: serde_json::Value) {
    let got = out.json();
    out.success();
    for (key, want) in expected.as_object().unwrap() {
        assert_eq!(&got[key], want, "field {key}: {out:#?}");
        assert!(got.get(key).is_some(), "field {key} missing: {out:#?}");
    }
}

/// The SPEC §2 status fields of a stored account of the default remote kept in the file.
pub fn stored_status(
    user: &str,
    auth_type: &str,
    expires_at: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "host": "https://app.baseten.co",
        "user": user,
        "auth_type": auth_type,
        "storage": "file",
        "source": "store",
        "expires_at": expires_at,
    })
}

/// A profiles-layout store whose accounts all belong to `remote`: `profiles` maps each
/// name to its entry without `remote_url` (added here); `active`, when given, is both
/// `current` and `active_by_remote[remote]`.
pub fn store_of(
    remote: &str,
    active: Option<&str>,
    profiles: serde_json::Value,
) -> serde_json::Value {
    let mut profiles = profiles;
    for entry in profiles
        .as_object_mut()
        .expect("profiles object")
        .values_mut()
    {
        entry["remote_url"] = remote.into();
    }
    let mut file = serde_json::json!({ "version": 1, "profiles": profiles });
    if let Some(name) = active {
        file["current"] = name.into();
        file["active_by_remote"] = serde_json::json!({ remote: name });
    }
    file
}

/// Whether two remote URLs name the same remote (as far as these tests need: case and a
/// trailing slash do not matter).
fn same_remote(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

/// The names of the profiles of `remote` in the parsed `auth.json` `file`, sorted.
pub fn profiles_of(file: &serde_json::Value, remote: &str) -> Vec<String> {
    let mut names: Vec<String> = file["profiles"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, p)| {
            p["remote_url"]
                .as_str()
                .is_some_and(|r| same_remote(r, remote))
        })
        .map(|(n, _)| n.clone())
        .collect();
    names.sort();
    names
}

/// The active account of `remote` in the parsed `auth.json` `file`, by SPEC §7's rule:
/// `current` when it names a profile of the remote, else `active_by_remote[remote]`
/// when it does, else the remote's only profile, else none.
pub fn active_of(file: &serde_json::Value, remote: &str) -> Option<String> {
    let names = profiles_of(file, remote);
    let of_remote = |v: &serde_json::Value| {
        v.as_str()
            .filter(|n| names.iter().any(|m| m == n))
            .map(str::to_owned)
    };
    let pointer = file["active_by_remote"]
        .as_object()
        .into_iter()
        .flatten()
        .find(|(r, _)| same_remote(r, remote))
        .and_then(|(_, n)| of_remote(n));
    of_remote(&file["current"])
        .or(pointer)
        .or_else(|| (names.len() == 1).then(|| names[0].clone()))
}

/// One test's private world: a temp dir holding the config directory and a fake `HOME`.
pub struct Env {
    dir: TempDir,
}

/// What a finished run of the binary produced.
#[derive(Debug)]
pub struct Outcome {
    /// Exit code; `-1` when the process was killed by a signal.
    pub code: i32,
    /// Everything written to stdout, as (lossy) UTF-8.
    pub stdout: String,
    /// Everything written to stderr, as (lossy) UTF-8.
    pub stderr: String,
}

impl Outcome {
    /// Converts a finished process's captured output.
    pub fn from_output(out: Output) -> Outcome {
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, showing the whole outcome when it differs.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Outcome {
        assert_eq!(self.code, code, "unexpected exit code: {self:#?}");
        self
    }

    /// Asserts exit 0 and an empty stderr, and returns stdout.
    #[track_caller]
    pub fn success(&self) -> &str {
        self.assert_code(0);
        assert_eq!(self.stderr, "", "unexpected stderr: {self:#?}");
        &self.stdout
    }

    /// Asserts a failure with `code`, nothing on stdout, and stderr whose first line is
    /// `error: …` containing every one of `needles`. Returns stderr.
    #[track_caller]
    pub fn failure(&self, code: i32, needles: &[&str]) -> &str {
        self.assert_code(code);
        assert_eq!(
            self.stdout, "",
            "stdout must be empty on failure: {self:#?}"
        );
        let first = self.stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("error: "), "no `error:` line: {self:#?}");
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr lacks {needle:?}: {self:#?}"
            );
        }
        &self.stderr
    }

    /// Asserts none of `secrets` appears anywhere in stdout or stderr.
    #[track_caller]
    pub fn assert_no_secrets(&self, secrets: &[&str]) -> &Outcome {
        for s in secrets {
            assert!(!self.stdout.contains(s), "{s:?} on stdout: {self:#?}");
            assert!(!self.stderr.contains(s), "{s:?} on stderr: {self:#?}");
        }
        self
    }

    /// Parses stdout as one JSON value.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }
}

impl Default for Env {
    fn default() -> Self {
        Env::new()
    }
}

impl Env {
    /// A fresh environment with an empty, existing config directory (mode 0700 whatever
    /// the umask, as writes refuse one others can write to) and no `auth.json`.
    pub fn new() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("baseten-test")
            .tempdir()
            .expect("create temp dir");
        let config = dir.path().join("config");
        fs::create_dir(&config).expect("create config dir");
        #[cfg(unix)]
        set_mode(&config, 0o700);
        Env { dir }
    }

    /// A fresh environment whose `auth.json` holds `json`.
    pub fn with_auth(json: &str) -> Env {
        let env = Env::new();
        env.write_auth(json);
        env
    }

    /// The temp dir everything of this test lives in.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The directory `BASETEN_CONFIG_DIR` points at.
    pub fn config_dir(&self) -> PathBuf {
        self.root().join("config")
    }

    /// The fake `HOME` of the child (not created).
    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    /// `<config dir>/auth.json`.
    pub fn auth_path(&self) -> PathBuf {
        self.config_dir().join("auth.json")
    }

    /// `<config dir>/auth.json.lock`.
    pub fn lock_path(&self) -> PathBuf {
        self.config_dir().join("auth.json.lock")
    }

    /// Writes `auth.json` verbatim, mode 0600 like a real store (fixtures hold
    /// plain-text secrets, and a readable file would earn a warning on stderr).
    pub fn write_auth(&self, json: &str) {
        self.write_auth_bytes(json.as_bytes());
    }

    /// Writes `auth.json` verbatim from raw bytes (for non-UTF-8 content), mode 0600.
    pub fn write_auth_bytes(&self, bytes: &[u8]) {
        let path = self.auth_path();
        fs::write(&path, bytes).expect("write auth.json");
        #[cfg(unix)]
        set_mode(&path, 0o600);
    }

    /// The current `auth.json` as text; panics when it is missing or not UTF-8.
    pub fn read_auth(&self) -> String {
        fs::read_to_string(self.auth_path()).expect("read auth.json")
    }

    /// The current `auth.json` as raw bytes.
    pub fn read_auth_bytes(&self) -> Vec<u8> {
        fs::read(self.auth_path()).expect("read auth.json")
    }

    /// The current `auth.json` parsed as JSON.
    pub fn auth_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.read_auth()).expect("auth.json is JSON")
    }

    /// A command for the binary with `args`, isolated as described in the module docs.
    /// Adjust it further (`.env(…)`, `.env_remove(…)`) before running it.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        isolate(&mut cmd);
        cmd.args(args)
            .env("BASETEN_CONFIG_DIR", self.config_dir())
            .env("HOME", self.home());
        cmd
    }

    /// Like [`Env::cmd`], with both the remote (`BASETEN_REMOTE_URL`) and the management
    /// API (`BASETEN_MANAGEMENT_API_URL_OVERRIDE`) at `url`, and a `$BROWSER` that does
    /// nothing.
    pub fn cmd_at(&self, url: &str, args: &[&str]) -> Command {
        let mut cmd = self.cmd(args);
        cmd.env("BASETEN_REMOTE_URL", url)
            .env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", url)
            .env("BROWSER", "true");
        cmd
    }

    /// `profiles[name]` of the current `auth.json` (`null` when there is no such profile).
    pub fn profile(&self, name: &str) -> serde_json::Value {
        self.auth_json()["profiles"][name].clone()
    }

    /// The active account of `remote` in the current `auth.json` ([`active_of`]).
    pub fn active(&self, remote: &str) -> Option<String> {
        active_of(&self.auth_json(), remote)
    }

    /// The names of the profiles of `remote` in the current `auth.json`, sorted.
    pub fn profile_names(&self, remote: &str) -> Vec<String> {
        profiles_of(&self.auth_json(), remote)
    }

    /// Writes a `$BROWSER` script that records its argument in the returned marker file
    /// (atomically, so a reader never sees half of it). Returns (script, marker).
    #[cfg(unix)]
    pub fn browser_script(&self) -> (String, PathBuf) {
        let marker = self.root().join("browser-opened");
        let script = self.root().join("browser.sh");
        let text = format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > '{m}.tmp' && mv '{m}.tmp' '{m}'\n",
            m = marker.display()
        );
        fs::write(&script, text).expect("write browser script");
        set_mode(&script, 0o755);
        (script.display().to_string(), marker)
    }

    /// Runs the binary with `args` and stdin from `/dev/null`.
    pub fn run(&self, args: &[&str]) -> Outcome {
        run(&mut self.cmd(args))
    }

    /// Runs the binary with `args` and one extra environment variable.
    pub fn run_env(&self, args: &[&str], key: &str, value: &str) -> Outcome {
        run(self.cmd(args).env(key, value))
    }

    /// Runs the binary with `args`, feeding `input` on a pipe as stdin.
    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Outcome {
        run_with_stdin(&mut self.cmd(args), input)
    }
}

/// Clears the variables the binary reads from the parent and detaches the keyring and
/// stdin; used by [`Env::cmd`], and by tests that build their own [`Command`] (for
/// example through `sh -c`).
pub fn isolate(cmd: &mut Command) -> &mut Command {
    cmd.env_remove("BASETEN_API_KEY")
        .env_remove("BASETEN_REMOTE_URL")
        .env_remove("BASETEN_MANAGEMENT_API_URL_OVERRIDE")
        .env_remove("BASETEN_CONFIG_DIR")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .stdin(Stdio::null())
}

/// Runs `cmd` to completion, capturing stdout and stderr.
pub fn run(cmd: &mut Command) -> Outcome {
    Outcome::from_output(cmd.output().expect("run baseten"))
}

/// Runs `cmd` with `input` on a piped stdin, capturing stdout and stderr.
pub fn run_with_stdin(cmd: &mut Command, input: &str) -> Outcome {
    run_with_bytes(cmd, input.as_bytes())
}

/// Runs `cmd` with raw `input` bytes on a piped stdin, capturing stdout and stderr.
pub fn run_with_bytes(cmd: &mut Command, input: &[u8]) -> Outcome {
    let child = spawn_with_stdin(cmd, input);
    Outcome::from_output(child.wait_with_output().expect("wait for baseten"))
}

/// Starts `cmd` with piped stdin, stdout and stderr, writes `input` to its stdin and
/// closes it. The caller waits for the child.
pub fn spawn_with_stdin(cmd: &mut Command, input: &[u8]) -> Child {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn baseten");
    let mut stdin = child.stdin.take().expect("stdin pipe");
    // The binary may exit without reading (usage errors, key cap): a broken pipe is fine.
    let _ = stdin.write_all(input);
    drop(stdin);
    child
}

/// Runs `cmd` (with `input` on a piped stdin, or stdin from `/dev/null` when `None`) and
/// SIGKILLs it when it has not finished after `limit`, so a hang fails the test instead
/// of blocking it. Returns the outcome, the wall time, and whether it was killed.
#[cfg(unix)]
pub fn run_with_deadline(
    cmd: &mut Command,
    input: Option<&[u8]>,
    limit: Duration,
) -> (Outcome, Duration, bool) {
    let started = Instant::now();
    let child = match input {
        Some(input) => spawn_with_stdin(cmd, input),
        None => cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    };
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let (finished, wait) = mpsc::channel::<()>();
    let watchdog = thread::spawn(move || {
        let expired = wait.recv_timeout(limit) == Err(mpsc::RecvTimeoutError::Timeout);
        if expired {
            // SAFETY: kill(2) on the pid of our own child, which has not been reaped yet
            // (the main thread is still waiting for it).
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        expired
    });
    let output = child.wait_with_output().expect("wait");
    let _ = finished.send(());
    let expired = watchdog.join().expect("watchdog");
    (Outcome::from_output(output), started.elapsed(), expired)
}

/// The arguments of `auth login --with-api-key --label <label> --insecure-storage`.
pub fn api_key_login_args(label: &str) -> [&str; 6] {
    [
        "auth",
        "login",
        "--with-api-key",
        "--label",
        label,
        "--insecure-storage",
    ]
}

/// Accepts connections on `listener` until `stopped` is set (and one more connection
/// wakes the loop), handing each to `serve` on a thread of its own.
pub fn serve_each(
    listener: TcpListener,
    stopped: std::sync::Arc<std::sync::atomic::AtomicBool>,
    serve: impl Fn(std::net::TcpStream) + Send + Sync + 'static,
) {
    let serve = std::sync::Arc::new(serve);
    thread::spawn(move || {
        for stream in listener.incoming() {
            if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = stream else { continue };
            let serve = std::sync::Arc::clone(&serve);
            thread::spawn(move || serve(stream));
        }
    });
}

/// Waits until `done()` holds, checking every few milliseconds, at most `limit`; returns
/// whether it held. For conditions another process brings about (a file it writes).
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
    true
}

/// A loopback `host:port` nothing listens on: bind, take the port, drop the listener.
pub fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    drop(listener);
    addr
}

/// Unix seconds of an RFC 3339 timestamp (any offset, optional fraction), read with the
/// date library the crate uses; panics on anything else.
#[track_caller]
pub fn rfc3339_unix(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>()
        .unwrap_or_else(|e| panic!("not RFC 3339: {s:?}: {e}"))
        .as_second()
}

/// Like [`rfc3339_unix`], but only for the UTC form `YYYY-MM-DDTHH:MM:SS[.f]Z`.
#[track_caller]
pub fn rfc3339_utc_unix(s: &str) -> i64 {
    assert!(
        s.len() >= 20 && s.ends_with('Z') && &s[10..11] == "T",
        "not RFC 3339 UTC: {s:?}"
    );
    rfc3339_unix(s)
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// The permission bits (`0o777` part) of `path`.
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

/// Sets the permission bits of `path`.
#[cfg(unix)]
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// The uid and gid a child runs as when the tests run as root, so that permission bits
/// bind it.
#[cfg(unix)]
pub const NOBODY: u32 = 65534;

/// Whether the tests run as root, where permission bits do not stop anyone.
#[cfg(unix)]
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Gives `path` to [`NOBODY`] (without following a symlink).
#[cfg(unix)]
pub fn chown(path: &Path) {
    std::os::unix::fs::lchown(path, Some(NOBODY), Some(NOBODY)).expect("chown");
}

/// The names in `dir`, sorted.
pub fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Whether `name` is a per-account refresh lock file of the store,
/// `auth.json.<16 hex digits>.refresh.lock` (SPEC §7: one per account refreshed).
pub fn is_refresh_lock(name: &str) -> bool {
    name.strip_prefix("auth.json.")
        .and_then(|rest| rest.strip_suffix(".refresh.lock"))
        .is_some_and(|hex| hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Pretty JSON as the binary must print it under `--output json`: two-space indent and
/// one trailing newline.
pub fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).expect("encode") + "\n"
}

/// Compact JSON as the binary must print it under `--output jsonl`: one line.
pub fn compact(value: &serde_json::Value) -> String {
    serde_json::to_string(value).expect("encode") + "\n"
}

/// Gives `cmd` this test process's own `DBUS_SESSION_BUS_ADDRESS` (or none when the test
/// process has none), undoing the detachment of [`isolate`], so the child reaches the
/// real Secret Service that `tests/with-secret-service.sh` started. For the keyring
/// tests only; everything else stays isolated.
pub fn with_session_bus(cmd: &mut Command) -> &mut Command {
    match std::env::var_os("DBUS_SESSION_BUS_ADDRESS") {
        Some(address) => cmd.env("DBUS_SESSION_BUS_ADDRESS", address),
        None => cmd.env_remove("DBUS_SESSION_BUS_ADDRESS"),
    }
}

/// `cmd` with writes limited to `bytes` per file (and SIGXFSZ ignored, so a longer write
/// fails with EFBIG): `auth.json` cannot be written, as on a full disk, while the lock
/// and temp files can still be created.
#[cfg(unix)]
pub fn with_tiny_files(cmd: &mut Command, bytes: u64) -> &mut Command {
    // SAFETY: only async-signal-safe calls (setrlimit, signal) between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(cmd, move || {
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        })
    }
}
