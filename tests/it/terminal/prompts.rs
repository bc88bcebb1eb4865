//! Behaviour at a real terminal (SPEC §5, §6): the binary runs on the slave side of a
//! pseudo-terminal that is its controlling terminal, and the test types on the master
//! side. Covers the login method menu, the label prompt, the no-echo API key prompt, and
//! choosing an account to switch to by number.
#![cfg(unix)]

use crate::common;
use crate::pty;
use crate::routes;
use crate::server;

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::Env;
use pty::Screen;
use serde_json::json;
use server::Server;

const WAIT: Duration = Duration::from_secs(15);

/// A child running on a pseudo-terminal, and everything it has written to it so far.
struct Pty {
    child: Child,
    master: File,
    screen: Screen,
}

impl Pty {
    /// Starts `cmd` with a new pty as its stdin, stdout, stderr and controlling terminal.
    fn spawn(mut cmd: Command) -> Pty {
        let (master, slave) = pty::open();
        cmd.stdin(Stdio::from(slave.try_clone().expect("dup slave")))
            .stdout(Stdio::from(slave.try_clone().expect("dup slave")))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::ioctl(0, libc::TIOCSCTTY as _, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn baseten on a pty");
        // Drop our copies of the slave, so reading the master ends when the child exits.
        drop(cmd);

        let screen = Screen::collect(&master);
        Pty {
            child,
            master,
            screen,
        }
    }

    /// Everything the child wrote so far (and what the terminal echoed), as text.
    fn output(&self) -> String {
        self.screen.text()
    }

    /// Waits until the output satisfies `done`; panics with the output on timeout.
    #[track_caller]
    fn expect(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        self.screen.wait_for(what, WAIT, done)
    }

    /// Waits until the output contains `needle` after position `from`.
    #[track_caller]
    fn expect_text(&self, from: usize, needle: &str) -> String {
        self.expect(needle, |t| {
            t.get(from..).is_some_and(|t| t.contains(needle))
        })
    }

    /// Whether the terminal currently echoes typed input.
    fn echo_on(&self) -> bool {
        // SAFETY: termios is plain data; tcgetattr fills it from the pty.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: `t` is valid for writes and the descriptor is the open pty.
        let rc = unsafe { libc::tcgetattr(self.master.as_raw_fd(), &mut t) };
        assert_eq!(rc, 0, "tcgetattr: {}", std::io::Error::last_os_error());
        t.c_lflag & libc::ECHO != 0
    }

    /// Waits until the program has turned echo off (it does so right after its prompt).
    #[track_caller]
    fn expect_echo_off(&self) {
        let deadline = Instant::now() + WAIT;
        while self.echo_on() {
            assert!(
                Instant::now() < deadline,
                "echo never turned off; output: {:?}",
                self.output()
            );
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Types `text` on the terminal.
    fn type_text(&mut self, text: &str) {
        self.master
            .write_all(text.as_bytes())
            .expect("write to pty");
        self.master.flush().expect("flush pty");
    }

    /// Waits for the child to exit and the output to be complete; returns (code, output).
    fn finish(&mut self) -> (i32, String) {
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the child did not exit; output: {:?}", self.output());
            }
            thread::sleep(Duration::from_millis(2));
        };
        (status.code().unwrap_or(-1), self.output())
    }
}

/// A server whose `who am I` accepts any key.
fn me_server() -> Server {
    routes::me_server_with(
        r#"{"user_id":"u-9","email":"tty@example.com","name":"Tty","workspace_name":"Term"}"#,
    )
}

/// `args` pointed at `url` (see [`Env::cmd_at`]) on a dumb terminal.
fn pointed(env: &Env, url: &str, args: &[&str]) -> Command {
    let mut cmd = env.cmd_at(url, args);
    cmd.env("TERM", "dumb");
    cmd
}

#[test]
fn interactive_login_offers_a_menu_then_asks_for_label_and_hidden_key() {
    const KEY: &str = "sk-typed-secret-4711";
    let env = Env::new();
    let server = me_server();
    let mut pty = Pty::spawn(pointed(
        &env,
        &server.url(),
        &["auth", "login", "--insecure-storage"],
    ));

    // A numbered choice between the browser and an API key.
    let menu = pty.expect("the login method menu", |t| {
        let lower = t.to_lowercase();
        lower.contains("browser") && lower.contains("api key") && t.contains('2')
    });
    let line_of = |word: &str| {
        menu.lines()
            .find(|l| l.to_lowercase().contains(word))
            .unwrap_or_default()
            .to_string()
    };
    let browser_line = line_of("browser");
    let key_line = line_of("api key");
    assert!(browser_line.contains('1'), "menu: {menu:?}");
    assert!(key_line.contains('2'), "menu: {menu:?}");
    let mark = menu.len();
    pty.type_text("2\n");

    let text = pty.expect("the label prompt", |t| {
        t.get(mark..)
            .is_some_and(|t| t.to_lowercase().contains("label"))
    });
    let mark = text.len();
    pty.type_text("tty-label\n");
    let text = pty.expect_text(mark, "Paste your API key:");
    // The label was echoed as typed.
    assert!(text[mark..].contains("tty-label"), "output: {text:?}");
    let mark = text.len();
    pty.expect_echo_off();
    pty.type_text(&format!("{KEY}\n"));
    pty.expect_text(
        mark,
        "Logged in as tty@example.com (Term) as profile tty-label",
    );

    let (code, output) = pty.finish();
    assert_eq!(code, 0, "output: {output:?}");
    assert!(!output.contains(KEY), "the key was echoed: {output:?}");

    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Api-Key {KEY}").as_str())
    );
    let auth = env.auth_json();
    assert_eq!(
        common::active_of(&auth, &server.url()).as_deref(),
        Some("tty-label"),
        "{auth:#}"
    );
    let profile = &auth["profiles"]["tty-label"];
    assert_eq!(profile["remote_url"], server.url());
    assert_eq!(profile["auth_type"], "api_key");
    assert_eq!(profile["api_key"], KEY);
}

#[test]
fn interactive_switch_lists_accounts_and_switches_by_number() {
    const REMOTE: &str = "http://127.0.0.1:9";
    let mut store = common::store_of(
        REMOTE,
        Some("alpha"),
        json!({
            "alpha": { "auth_type": "api_key", "api_key": "sk-alpha" },
            "beta": { "auth_type": "api_key", "api_key": "sk-beta" },
            "gamma": { "auth_type": "api_key", "api_key": "sk-gamma" }
        }),
    );
    // An account of another remote, which is not offered.
    store["profiles"]["elsewhere-bot"] = json!({
        "remote_url": common::DEFAULT_REMOTE,
        "auth_type": "api_key",
        "api_key": "sk-elsewhere"
    });
    let env = Env::with_auth(&common::pretty(&store));
    let mut pty = Pty::spawn(pointed(&env, REMOTE, &["auth", "switch"]));
    let menu = pty.expect("the account list", |t| {
        ["alpha", "beta", "gamma"].iter().all(|l| t.contains(l))
    });
    // Each account on its own numbered line; pick the number shown for `gamma`.
    let number = |label: &str| -> String {
        let line = menu
            .lines()
            .find(|l| l.contains(label))
            .unwrap_or_else(|| panic!("no line for {label}: {menu:?}"));
        line.trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect()
    };
    let numbers: Vec<String> = ["alpha", "beta", "gamma"].map(number).to_vec();
    for n in &numbers {
        assert!(!n.is_empty(), "an account line without a number: {menu:?}");
    }
    let mut distinct = numbers.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "numbers {numbers:?} in {menu:?}");
    assert!(!menu.contains("elsewhere-bot"), "{menu:?}");
    let mark = menu.len();
    pty.type_text(&format!("{}\n", numbers[2]));
    pty.expect_text(mark, "Switched to gamma");
    let (code, output) = pty.finish();
    assert_eq!(code, 0, "output: {output:?}");
    let auth = env.auth_json();
    assert_eq!(auth["current"], "gamma", "{auth:#}");
    assert_eq!(auth["active_by_remote"][REMOTE], "gamma", "{auth:#}");
    assert_eq!(auth["profiles"]["beta"]["api_key"], "sk-beta");
    assert_eq!(
        common::active_of(&auth, common::DEFAULT_REMOTE).as_deref(),
        Some("elsewhere-bot")
    );
}

#[test]
fn interactive_switch_without_a_remote_offers_every_remote_grouped_with_the_current_marked() {
    const STAGING: &str = "http://127.0.0.1:9";
    // As the official CLI writes it: `current` only, no `active_by_remote`; accounts of
    // the two remotes interleaved in the file.
    let store = json!({
        "version": 1,
        "current": "prod-b",
        "profiles": {
            "prod-a": { "remote_url": common::DEFAULT_REMOTE, "auth_type": "api_key", "api_key": "sk-a" },
            "stg-a": { "remote_url": STAGING, "auth_type": "api_key", "api_key": "sk-s" },
            "prod-b": { "remote_url": common::DEFAULT_REMOTE, "auth_type": "api_key", "api_key": "sk-b" }
        }
    });
    let env = Env::with_auth(&common::pretty(&store));
    let mut cmd = env.cmd(&["auth", "switch"]);
    cmd.env("TERM", "dumb");
    let mut pty = Pty::spawn(cmd);
    let menu = pty.expect("the account list", |t| {
        ["prod-a", "stg-a", "prod-b"].iter().all(|l| t.contains(l))
    });
    let line_of = |name: &str| -> (usize, String) {
        menu.lines()
            .enumerate()
            .find(|(_, l)| l.contains(&format!(" {name}")))
            .map(|(i, l)| (i, l.to_owned()))
            .unwrap_or_else(|| panic!("no line for {name}: {menu:?}"))
    };
    let (a, b, s) = (line_of("prod-a"), line_of("prod-b"), line_of("stg-a"));
    // Grouped by remote: both default-remote accounts before the staging one, and each
    // line names its remote.
    assert!(a.0 < s.0 && b.0 < s.0, "not grouped by remote: {menu:?}");
    assert!(
        a.1.contains(common::DEFAULT_REMOTE) && s.1.contains(STAGING),
        "{menu:?}"
    );
    assert!(b.1.contains("current") && !a.1.contains("current") && !s.1.contains("current"));
    let number: String =
        s.1.trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
    let mark = menu.len();
    pty.type_text(&format!("{number}\n"));
    pty.expect_text(mark, "Switched to stg-a");
    let (code, output) = pty.finish();
    assert_eq!(code, 0, "output: {output:?}");
    let auth = env.auth_json();
    assert_eq!(auth["current"], "stg-a", "{auth:#}");
    // The default remote keeps an active account.
    assert_eq!(
        common::active_of(&auth, common::DEFAULT_REMOTE).as_deref(),
        Some("prod-b"),
        "{auth:#}"
    );
}

#[test]
fn ctrl_c_at_the_hidden_key_prompt_exits_130_restores_echo_and_stores_nothing() {
    let env = Env::new();
    let server = me_server();
    let mut pty = Pty::spawn(pointed(
        &env,
        &server.url(),
        &common::api_key_login_args("ci"),
    ));
    pty.expect_text(0, "Paste your API key:");
    pty.expect_echo_off();
    pty.type_text("sk-half-typed\u{3}");
    let (code, output) = pty.finish();
    assert_eq!(code, 130, "output: {output:?}");
    assert!(!output.contains("sk-half-typed"), "output: {output:?}");
    assert!(pty.echo_on(), "terminal echo left off");
    assert!(server.requests().is_empty());
    assert!(!env.auth_path().exists());
}
