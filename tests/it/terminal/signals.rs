//! Signals at the hidden API-key prompt (SPEC §9): SIGINT, SIGTERM, SIGHUP, SIGQUIT and
//! every other signal that ends a process by default (SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU,
//! SIGXFSZ, SIGVTALRM, SIGPROF) end the program with 128 + the signal and leave the
//! terminal exactly as it was found;
//! Ctrl-Z gives the terminal back before stopping, so a later `kill -9` leaves it usable,
//! and echo goes off again when the job is continued.
//!
//! The binary runs as a job under job control, the way a shell runs it: a session leader
//! (standing in for the shell) owns the pseudo-terminal and waits, and the binary is in
//! its own foreground process group. (A process group without such a parent is
//! "orphaned", and the kernel discards Ctrl-Z for it.) Linux only: the test reads
//! `/proc/<pid>/stat` to see that the job has stopped. Also: core dumps are off from the
//! start, even when the parent allows them (read from `/proc` as well).
#![cfg(target_os = "linux")]

use crate::common;
use crate::pty;
use crate::routes;
use crate::server;

use std::fs;
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{Env, NOBODY, Outcome, chown, is_root};
use pty::Screen;
use server::Reply;
use server::Server;

#[test]
fn core_dumps_are_off_from_the_start_even_when_the_parent_allows_them() {
    const KEY: &str = "sk-in-memory-1618";
    // A `who am I` that never answers holds the login, key in memory, for the checks.
    let server = Server::start(|_| Reply::hang());
    let env = Env::new();
    let root = is_root();
    if root {
        // The owner of /proc/<pid> shows whether a process is dumpable only when it is
        // not root itself: the child runs as `nobody`, in a config dir it may use.
        fs::set_permissions(env.root(), fs::Permissions::from_mode(0o755)).expect("chmod root");
        chown(&env.config_dir());
    }
    let mut cmd = env.cmd_at(
        &server.url(),
        &[
            "auth",
            "login",
            "--with-api-key",
            "--label",
            "ci",
            "--insecure-storage",
        ],
    );
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let unlimited = libc::rlimit {
                rlim_cur: libc::RLIM_INFINITY,
                rlim_max: libc::RLIM_INFINITY,
            };
            if libc::setrlimit(libc::RLIMIT_CORE, &unlimited) != 0
                || (root
                    && (libc::setgroups(0, std::ptr::null()) != 0
                        || libc::setgid(NOBODY) != 0
                        || libc::setuid(NOBODY) != 0))
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = common::spawn_with_stdin(&mut cmd, format!("{KEY}\n").as_bytes());
    let reached = server.wait_for_requests(1, Duration::from_secs(30));
    let proc_dir = format!("/proc/{}", child.id());
    let limits = fs::read_to_string(format!("{proc_dir}/limits")).unwrap_or_default();
    let status = fs::read_to_string(format!("{proc_dir}/status")).unwrap_or_default();
    let owner = fs::metadata(format!("{proc_dir}/status")).map(|m| m.uid());
    let _ = child.kill();
    let out = Outcome::from_output(child.wait_with_output().expect("wait for baseten"));
    assert!(reached, "the login never asked the server: {out:#?}");

    let core: Vec<&str> = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max core file size"))
        .expect("a core file size line in /proc/<pid>/limits")
        .split_whitespace()
        .collect();
    assert_eq!(core[..2], ["0", "0"], "{limits}");
    let uid: u32 = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().next())
        .and_then(|id| id.parse().ok())
        .expect("a Uid line in /proc/<pid>/status");
    assert_ne!(uid, 0, "the child must not run as root");
    // A process that is not dumpable has its /proc files owned by root.
    assert_eq!(owner.ok(), Some(0), "the child is dumpable (uid {uid})");
}

const WAIT: Duration = Duration::from_secs(15);

const PROMPT: &str = "Paste your API key:";

/// The terminal modes that matter here: input, output and local flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Modes {
    iflag: libc::tcflag_t,
    oflag: libc::tcflag_t,
    lflag: libc::tcflag_t,
}

/// The binary as a foreground job on a pseudo-terminal.
struct Job {
    /// The session leader that waits for the binary and exits with its status.
    leader: Child,
    master: File,
    screen: Screen,
    /// The terminal's modes before the binary started.
    before: Modes,
}

impl Job {
    fn spawn(mut cmd: Command) -> Job {
        let (master, slave) = pty::open();
        let before = modes(&master);
        cmd.stdin(Stdio::from(slave.try_clone().expect("dup slave")))
            .stdout(Stdio::from(slave.try_clone().expect("dup slave")))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec (and in the leader,
        // which never returns from this closure).
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() == -1 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                let pid = libc::fork();
                if pid == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                if pid == 0 {
                    // The job: its own process group, in the foreground of the terminal.
                    libc::setpgid(0, 0);
                    libc::signal(libc::SIGTTOU, libc::SIG_IGN);
                    libc::tcsetpgrp(0, libc::getpid());
                    libc::signal(libc::SIGTTOU, libc::SIG_DFL);
                    return Ok(());
                }
                // The leader: drop every other fd (the spawn status pipe among them), wait
                // for the job, and end the way it ended.
                for fd in 3..1024 {
                    libc::close(fd);
                }
                let mut status = 0;
                loop {
                    let r = libc::waitpid(pid, &mut status, 0);
                    if r == pid {
                        break;
                    }
                    if r == -1 && *libc::__errno_location() != libc::EINTR {
                        libc::_exit(99);
                    }
                }
                if libc::WIFSIGNALED(status) {
                    let sig = libc::WTERMSIG(status);
                    libc::signal(sig, libc::SIG_DFL);
                    libc::kill(libc::getpid(), sig);
                }
                libc::_exit(libc::WEXITSTATUS(status));
            });
        }
        let leader = cmd.spawn().expect("spawn baseten as a job");
        drop(cmd);

        let screen = Screen::collect(&master);
        Job {
            leader,
            master,
            screen,
            before,
        }
    }

    fn output(&self) -> String {
        self.screen.text()
    }

    /// Waits until the output contains `needle`.
    #[track_caller]
    fn expect_text(&self, needle: &str) {
        self.screen.wait_for(needle, WAIT, |t| t.contains(needle));
    }

    fn echo_on(&self) -> bool {
        modes(&self.master).lflag & libc::ECHO != 0
    }

    /// Waits until `done` holds, re-checking between scheduler yields.
    #[track_caller]
    fn wait_until(&self, what: &str, done: impl Fn(&Job) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; output: {:?}",
                self.output()
            );
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// The job's process group: the terminal's foreground group.
    fn group(&self) -> libc::pid_t {
        // SAFETY: TIOCGPGRP on the master reports the slave's foreground group.
        let pgrp = unsafe { libc::tcgetpgrp(self.master.as_raw_fd()) };
        assert!(pgrp > 0, "tcgetpgrp: {}", std::io::Error::last_os_error());
        pgrp
    }

    /// Whether the job's process is stopped (`T` in /proc/<pid>/stat).
    fn stopped(&self) -> bool {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.group())).unwrap_or_default();
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('T'))
    }

    /// Sends `sig` to the job's process group.
    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on the job's own process group.
        let rc = unsafe { libc::kill(-self.group(), sig) };
        assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
    }

    fn type_text(&mut self, text: &str) {
        self.master.write_all(text.as_bytes()).expect("write pty");
        self.master.flush().expect("flush pty");
    }

    /// Waits for the job to end; returns its status and everything it wrote.
    fn finish(&mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.leader.try_wait().expect("try_wait") {
                return (status, self.output());
            }
            if Instant::now() >= deadline {
                let _ = self.leader.kill();
                panic!("the job did not end; output: {:?}", self.output());
            }
            thread::sleep(Duration::from_millis(2));
        }
    }
}

fn modes(tty: &File) -> Modes {
    // SAFETY: termios is plain data; tcgetattr fills it from the pty.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `t` is valid for writes and the descriptor is the open pty.
    let rc = unsafe { libc::tcgetattr(tty.as_raw_fd(), &mut t) };
    assert_eq!(rc, 0, "tcgetattr: {}", std::io::Error::last_os_error());
    Modes {
        iflag: t.c_iflag,
        oflag: t.c_oflag,
        lflag: t.c_lflag,
    }
}

/// A `who am I` server, and a job at the hidden key prompt of a login against it.
fn at_key_prompt(env: &Env) -> (Server, Job) {
    let server = routes::me_server_with(
        r#"{"user_id":"u-3","email":"sig@example.com","name":"Sig","workspace_name":"Jobs"}"#,
    );
    let mut cmd = env.cmd_at(&server.url(), &common::api_key_login_args("ci"));
    cmd.env("TERM", "dumb");
    let job = Job::spawn(cmd);
    job.expect_text(PROMPT);
    job.wait_until("echo off", |j| !j.echo_on());
    (server, job)
}

#[test]
fn each_terminating_signal_exits_128_plus_it_and_restores_the_terminal() {
    for sig in [
        libc::SIGINT,
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGALRM,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGXCPU,
        libc::SIGXFSZ,
        libc::SIGVTALRM,
        libc::SIGPROF,
    ] {
        let env = Env::new();
        let (server, mut job) = at_key_prompt(&env);
        job.type_text("sk-half");
        job.signal(sig);
        let (status, output) = job.finish();
        assert_eq!(status.code(), Some(128 + sig), "signal {sig}: {output:?}");
        assert_eq!(
            modes(&job.master),
            job.before,
            "signal {sig}: modes changed"
        );
        assert!(!output.contains("sk-half"), "signal {sig}: {output:?}");
        assert!(server.requests().is_empty());
        assert!(!env.auth_path().exists());
    }
}

#[test]
fn a_signal_the_parent_ignored_stays_ignored() {
    const KEY: &str = "sk-nohup-2718";
    let env = Env::new();
    let server = routes::me_server_with(
        r#"{"user_id":"u-3","email":"sig@example.com","name":"Sig","workspace_name":"Jobs"}"#,
    );
    let mut cmd = env.cmd_at(&server.url(), &common::api_key_login_args("ci"));
    cmd.env("TERM", "dumb");
    // As `nohup` runs a program: SIGHUP ignored, which a program keeps.
    // SAFETY: signal(2) is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut job = Job::spawn(cmd);
    job.expect_text(PROMPT);
    job.wait_until("echo off", |j| !j.echo_on());
    // An ignored signal is discarded when it is sent: once kill returns, it is gone.
    job.signal(libc::SIGHUP);
    job.type_text(&format!("{KEY}\n"));
    job.expect_text("Logged in as sig@example.com (Jobs)");
    let (status, output) = job.finish();
    assert_eq!(status.code(), Some(0), "{output:?}");
    assert_eq!(modes(&job.master), job.before);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn ctrl_z_gives_the_terminal_back_so_a_kill_9_leaves_it_usable() {
    let env = Env::new();
    let (_server, mut job) = at_key_prompt(&env);
    job.type_text("\u{1a}");
    job.wait_until("the job to stop", Job::stopped);
    assert_eq!(modes(&job.master), job.before, "modes while stopped");
    job.signal(libc::SIGKILL);
    let (status, output) = job.finish();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{output:?}");
    assert_eq!(modes(&job.master), job.before, "modes after kill -9");
    assert!(!env.auth_path().exists());
}

#[test]
fn ctrl_z_then_kill_as_a_shell_does_exits_143_with_the_terminal_restored() {
    let env = Env::new();
    let (_server, mut job) = at_key_prompt(&env);
    job.type_text("\u{1a}");
    job.wait_until("the job to stop", Job::stopped);
    // `kill %1` in a shell: SIGTERM, then SIGCONT so a stopped job can act on it.
    job.signal(libc::SIGTERM);
    job.signal(libc::SIGCONT);
    let (status, output) = job.finish();
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{output:?}");
    assert_eq!(modes(&job.master), job.before);
}

#[test]
fn ctrl_z_then_fg_hides_the_key_again_and_the_login_completes() {
    const KEY: &str = "sk-after-fg-3141";
    let env = Env::new();
    let (server, mut job) = at_key_prompt(&env);
    job.type_text("\u{1a}");
    job.wait_until("the job to stop", Job::stopped);
    assert!(job.echo_on(), "echo left off while stopped");
    job.signal(libc::SIGCONT);
    job.wait_until("echo off again", |j| !j.echo_on());
    job.type_text(&format!("{KEY}\n"));
    job.expect_text("Logged in as sig@example.com (Jobs)");
    let (status, output) = job.finish();
    assert_eq!(status.code(), Some(0), "{output:?}");
    assert!(!output.contains(KEY), "the key was echoed: {output:?}");
    assert_eq!(modes(&job.master), job.before);
    assert_eq!(server.requests().len(), 1);
}
