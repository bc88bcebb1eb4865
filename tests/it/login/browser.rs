//! Which program a browser login starts, and when none (SPEC §5): `$BROWSER` always wins,
//! WSL uses `wslview` or `explorer.exe`, an SSH session or a Linux machine without a
//! display starts nothing and says to open the URL on another device, a desktop gets
//! `xdg-open`, and no text browser is ever picked. The openers are stand-ins on `PATH`
//! that record the URL they were given.
#![cfg(target_os = "linux")]

use crate::common;
use crate::routes;
use crate::server;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Env, Outcome};
use routes::ME_BODY;
use serde_json::json;
use server::{Reply, Server};

const VERIFY: &str = "https://app.example.test/device";

const COMPLETE: &str = "https://app.example.test/device?user_code=WDJB-MJHT";

const TOKEN_OK: &str = r#"{"access_token":"access-1","refresh_token":"refresh-1","expires_in":3600,"token_type":"Bearer"}"#;

/// Every program a login could start here: the openers of SPEC §5 and the text browsers
/// that `xdg-open` and Debian's alternatives may fall back to.
const OPENERS: [&str; 7] = [
    "xdg-open",
    "wslview",
    "explorer.exe",
    "w3m",
    "lynx",
    "www-browser",
    "sensible-browser",
];

/// The variables the rule reads, cleared from every run before a test sets its own.
const RULE_VARS: [&str; 6] = [
    "BROWSER",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "SSH_CONNECTION",
    "SSH_TTY",
    "WSL_DISTRO_NAME",
];

const ELSEWHERE_SSH: &str =
    "No browser is started: this is an SSH session. Open the URL on another device.";

const ELSEWHERE_NO_DISPLAY: &str =
    "No browser is started: there is no graphical display. Open the URL on another device.";

/// A test's stand-in openers: a directory that is the whole `PATH`, holding a script for
/// each name given, which records its first argument in `<name>.opened` beside it.
struct Openers {
    dir: PathBuf,
}

impl Openers {
    fn new(env: &Env, names: &[&str]) -> Openers {
        let dir = env.root().join("bin");
        fs::create_dir(&dir).expect("create the openers' directory");
        for name in names {
            let script = dir.join(name);
            let marker = dir.join(format!("{name}.opened"));
            let text = format!(
                "#!/bin/sh\nPATH=/usr/bin:/bin\nprintf '%s' \"$1\" > '{m}.tmp' && mv '{m}.tmp' '{m}'\n",
                m = marker.display()
            );
            fs::write(&script, text).expect("write a stand-in opener");
            common::set_mode(&script, 0o755);
        }
        Openers { dir }
    }

    /// The URL `name` was given, once it has recorded it.
    fn opened(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.dir.join(format!("{name}.opened"))).ok()
    }

    /// The openers that were started: those that recorded a URL, and those still running
    /// (a stand-in is started before the login polls, and it records the URL before it
    /// exits, so one that was started is always seen).
    fn started(&self) -> Vec<String> {
        let mut started: Vec<String> = OPENERS
            .iter()
            .filter(|name| self.opened(name).is_some())
            .map(|name| name.to_string())
            .collect();
        started.extend(running_from(&self.dir));
        started
    }
}

/// The command lines of the running processes that name a file in `dir`.
fn running_from(dir: &Path) -> Vec<String> {
    let needle = format!("{}/", dir.display());
    let entries = fs::read_dir("/proc").expect("read /proc");
    entries
        .filter_map(|e| fs::read(e.ok()?.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&needle))
        .collect()
}

/// The device-flow server: the n-th poll gets the tokens once `approve(n)` says so.
fn server(approve: impl Fn(usize) -> bool + Send + Sync + 'static) -> Server {
    let authorize = json!({
        "device_code": "device-code-xyz",
        "user_code": "WDJB-MJHT",
        "verification_uri": VERIFY,
        "verification_uri_complete": COMPLETE,
        "expires_in": 30,
        "interval": 1,
    });
    routes::device_server(&authorize.to_string(), ME_BODY, move |n| {
        if approve(n) {
            Reply::json(200, TOKEN_OK)
        } else {
            Reply::json(400, r#"{"error":"authorization_pending"}"#)
        }
    })
}

/// `login --web` against `server` with `PATH` = the openers' directory alone and only
/// the rule's variables in `vars` set.
fn login(env: &Env, server: &Server, openers: &Openers, vars: &[(&str, &str)]) -> Outcome {
    let mut cmd: Command = env.cmd_at(
        &server.url(),
        &["auth", "login", "--web", "--insecure-storage"],
    );
    for var in RULE_VARS {
        cmd.env_remove(var);
    }
    cmd.env("PATH", &openers.dir).envs(vars.iter().copied());
    let out = common::run(&mut cmd);
    out.assert_code(0);
    assert_eq!(
        out.stdout, "Logged in as me@example.com (Acme) as profile me@example.com:127.0.0.1\n",
        "{out:#?}"
    );
    out
}

/// A login where `opener` must show the page, with the stand-ins `names` in `env`: the
/// server approves only once `opener` has recorded the URL. Returns the login's outcome
/// and the stand-ins, to ask which others ran.
fn login_through(
    env: &Env,
    opener: &str,
    names: &[&str],
    vars: &[(&str, &str)],
) -> (Outcome, Openers) {
    let openers = Openers::new(env, names);
    let marker = openers.dir.join(format!("{opener}.opened"));
    let server = server(move |_| marker.exists());
    let out = login(env, &server, &openers, vars);
    assert_eq!(
        openers.opened(opener).as_deref(),
        Some(COMPLETE),
        "{out:#?}"
    );
    assert!(!out.stderr.contains("another device"), "{out:#?}");
    (out, openers)
}

/// A login where nothing may be started: approved at the first poll, then no stand-in
/// ran, and stderr said why, after the URLs and before the wait.
fn login_elsewhere(vars: &[(&str, &str)], says: &str) {
    let env = Env::new();
    let openers = Openers::new(&env, &OPENERS);
    let server = server(|_| true);
    let out = login(&env, &server, &openers, vars);
    assert_eq!(openers.started(), Vec::<String>::new(), "{out:#?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("stderr lacks {needle:?}: {out:#?}"))
    };
    assert!(at(COMPLETE) < at(says) && at(says) < at("Waiting for authorization"));
}

#[test]
fn without_a_display_nothing_is_started_and_stderr_says_to_open_the_url_elsewhere() {
    login_elsewhere(&[], ELSEWHERE_NO_DISPLAY);
    // Empty values count as unset.
    login_elsewhere(
        &[("DISPLAY", ""), ("WAYLAND_DISPLAY", "")],
        ELSEWHERE_NO_DISPLAY,
    );
}

#[test]
fn an_ssh_session_starts_nothing_even_with_a_display() {
    login_elsewhere(
        &[
            ("DISPLAY", ":0"),
            ("SSH_CONNECTION", "127.0.0.1 50000 127.0.0.1 22"),
        ],
        ELSEWHERE_SSH,
    );
    login_elsewhere(
        &[("WAYLAND_DISPLAY", "wayland-0"), ("SSH_TTY", "/dev/pts/3")],
        ELSEWHERE_SSH,
    );
}

#[test]
fn a_display_gets_xdg_open_never_a_text_browser() {
    for display in [("DISPLAY", ":0"), ("WAYLAND_DISPLAY", "wayland-0")] {
        let env = Env::new();
        let (out, openers) = login_through(&env, "xdg-open", &OPENERS, &[display]);
        for text in ["w3m", "lynx", "www-browser", "sensible-browser"] {
            assert_eq!(openers.opened(text), None, "{out:#?}");
        }
    }
}

#[test]
fn browser_wins_over_ssh_wsl_and_a_missing_display() {
    let mut names = OPENERS.to_vec();
    names.push("my-browser");
    let env = Env::new();
    let (out, openers) = login_through(
        &env,
        "my-browser",
        &names,
        &[
            ("BROWSER", "my-browser"),
            ("SSH_TTY", "/dev/pts/3"),
            ("WSL_DISTRO_NAME", "Debian"),
        ],
    );
    for other in OPENERS {
        assert_eq!(openers.opened(other), None, "{other}: {out:#?}");
    }
}

#[test]
fn wsl_opens_with_wslview_when_installed_else_explorer() {
    // Under WSL, even in an SSH session and without a display, Windows shows the page.
    let wsl = [
        ("WSL_DISTRO_NAME", "Debian"),
        ("SSH_CONNECTION", "127.0.0.1 50000 127.0.0.1 22"),
    ];
    let env = Env::new();
    let (out, openers) = login_through(&env, "wslview", &OPENERS, &wsl);
    assert_eq!(openers.opened("explorer.exe"), None, "{out:#?}");
    assert_eq!(openers.opened("xdg-open"), None, "{out:#?}");

    let env = Env::new();
    let (out, openers) = login_through(&env, "explorer.exe", &["explorer.exe", "xdg-open"], &wsl);
    assert_eq!(openers.opened("xdg-open"), None, "{out:#?}");
}
