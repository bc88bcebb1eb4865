//! The keyring half of the store shared with Baseten's official CLI (SPEC §7), in a real
//! Secret Service: items written the way the official code writes them are read, ours
//! land where it looks, legacy items are moved once (and wait for a keyring that was
//! absent), exactly one copy is current, and a change that cannot be committed to
//! `auth.json` leaves the keyring as it was.
//!
//! Every test needs the private keyring of `tests/with-secret-service.sh`, so each is
//! `#[ignore]`d here and run by that wrapper (`make test` does) with `--include-ignored`.
//! The keyring service `baseten-profile` is shared by all tests, so every test uses
//! profile names of its own.

mod common;
#[path = "common/routes.rs"]
mod routes;
#[path = "common/server.rs"]
mod server;

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};

use common::{Env, Outcome};
use routes::{ME, queue_server};
use serde_json::{Value, json};
use server::{Reply, Server};

const NEEDS: &str = "needs a Secret Service: run via tests/with-secret-service.sh (make test)";
const SERVICE: &str = "baseten-profile";
const ME_BODY: &str =
    r#"{"user_id":"u-s","email":"shared@example.com","name":"S","workspace_name":"Acme"}"#;
const WARNING: &str = "could not store credentials in system keyring";

/// One test's world: a config dir and a server that accepts any credential; names made
/// unique by the server's port. Removes the test's keyring items when dropped.
struct World {
    env: Env,
    server: Server,
    names: std::cell::RefCell<Vec<(String, String)>>,
}

impl World {
    fn new() -> World {
        assert_eq!(
            std::env::var("BASETEN_TEST_SECRET_SERVICE").as_deref(),
            Ok("1"),
            "{NEEDS}"
        );
        World {
            env: Env::new(),
            server: queue_server(&[("GET", ME, Reply::json(200, ME_BODY))]),
            names: Default::default(),
        }
    }

    /// A profile name of this test's own.
    fn name(&self, base: &str) -> String {
        format!("{base}-{}", self.server.addr().port())
    }

    fn remote(&self) -> String {
        self.server.url()
    }

    /// The binary with `args`, pointed at the server, on the real session bus.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.env.cmd_at(&self.remote(), args);
        common::with_session_bus(&mut cmd);
        cmd
    }

    fn run(&self, args: &[&str]) -> Outcome {
        common::run(&mut self.cmd(args))
    }

    /// An API-key login of `key` as `name`, with `extra` flags.
    fn login(&self, name: &str, key: &str, extra: &[&str]) -> Outcome {
        let mut args = vec!["auth", "login", "--with-api-key", "--label", name];
        args.extend_from_slice(extra);
        common::run_with_stdin(&mut self.cmd(&args), &format!("{key}\n"))
    }

    /// `secret-tool lookup` of `service`/`account`: the secret, or `None`.
    fn lookup(&self, service: &str, account: &str) -> Option<String> {
        let out = secret_tool(&["lookup", "service", service, "username", account], None);
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).expect("UTF-8 secret"))
    }

    /// Every item of `service`/`account` as `secret-tool search --all` prints them.
    fn items(&self, service: &str, account: &str) -> String {
        let out = secret_tool(
            &["search", "--all", "service", service, "username", account],
            None,
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Stores an item as the official CLI (Go keyring library) stores it.
    fn store_item(&self, service: &str, account: &str, secret: &str) {
        let label = format!("--label=Password for '{account}' on '{service}'");
        let out = secret_tool(
            &["store", &label, "service", service, "username", account],
            Some(secret),
        );
        assert!(out.status.success(), "secret-tool store failed: {out:?}");
        self.names
            .borrow_mut()
            .push((service.to_owned(), account.to_owned()));
    }

    /// Remembers an item a command of this test creates, for clean-up.
    fn owns(&self, service: &str, account: &str) {
        self.names
            .borrow_mut()
            .push((service.to_owned(), account.to_owned()));
    }
}

impl Drop for World {
    fn drop(&mut self) {
        for (service, account) in self.names.borrow().iter() {
            let _ = secret_tool(&["clear", "service", service, "username", account], None);
        }
    }
}

fn secret_tool(args: &[&str], input: Option<&str>) -> Output {
    let mut child = Command::new("secret-tool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run secret-tool");
    let mut stdin = child.stdin.take().expect("stdin");
    if let Some(input) = input {
        stdin.write_all(input.as_bytes()).expect("write secret");
    }
    drop(stdin);
    child.wait_with_output().expect("wait for secret-tool")
}

/// A `hosts`-layout file (earlier versions, official CLI before v0.2) for `remote` with
/// keyring-stored `label` active.
fn legacy_file(remote: &str, label: &str) -> String {
    json!({"version": 1, "hosts": {remote: {"active_user": label,
        "users": {label: {"auth_type": "api_key"}}}}})
    .to_string()
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test)"]
fn items_written_the_official_way_are_read() {
    let w = World::new();
    let (key_name, oauth_name) = (w.name("off-key"), w.name("off-oauth"));
    w.store_item(SERVICE, &key_name, "KEY-official");
    w.store_item(
        SERVICE,
        &oauth_name,
        r#"{"access_token":"ACCESS-off","refresh_token":"REFRESH-off","expiry":"2031-05-06T07:08:09.987654321+02:00"}"#,
    );
    w.env.write_auth(
        &json!({"version": 1, "current": key_name, "profiles": {
            key_name.clone(): {"remote_url": w.remote(), "auth_type": "api_key"},
            oauth_name.clone(): {"remote_url": w.remote(), "auth_type": "oauth"}}})
        .to_string(),
    );
    assert_eq!(w.run(&["auth", "token"]).success(), "KEY-official\n");
    let status = w.run(&["auth", "status", "--user", &oauth_name, "-o", "json"]);
    status.assert_code(0);
    assert_eq!(status.json()["storage"], "keyring");
    assert_eq!(status.json()["expires_at"], "2031-05-06T05:08:09Z");
    assert_eq!(
        w.run(&["auth", "token", "--user", &oauth_name]).success(),
        "ACCESS-off\n"
    );
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test)"]
fn a_login_lands_in_the_item_the_official_cli_reads() {
    let w = World::new();
    let name = w.name("ours");
    w.owns(SERVICE, &name);
    let out = w.login(&name, "sk-ours-1", &[]);
    out.assert_code(0);
    assert!(!out.stderr.contains(WARNING), "{out:#?}");
    assert_eq!(w.lookup(SERVICE, &name).as_deref(), Some("sk-ours-1"));
    let items = w.items(SERVICE, &name);
    assert!(
        items.contains(&format!(
            "label = Password for '{name}' on 'baseten-profile'"
        )),
        "{items}"
    );
    assert_eq!(items.matches("secret = ").count(), 1, "{items}");
    let profile = &w.env.auth_json()["profiles"][&name];
    assert_eq!(
        profile,
        &json!({"remote_url": w.remote(), "auth_type": "api_key"})
    );
    assert_eq!(
        w.run(&["auth", "status", "--jq", ".storage"]).success(),
        "\"keyring\"\n"
    );
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test)"]
fn a_legacy_item_is_read_in_place_and_moved_once_on_the_first_write() {
    let w = World::new();
    let name = w.name("legacy");
    let legacy = format!("baseten:{}", w.remote());
    w.store_item(&legacy, &name, "sk-legacy");
    w.owns(SERVICE, &name);
    let file = legacy_file(&w.remote(), &name);
    w.env.write_auth(&file);

    assert_eq!(w.run(&["auth", "token"]).success(), "sk-legacy\n");
    assert_eq!(w.env.read_auth(), file, "a read wrote the file");
    assert_eq!(w.lookup(SERVICE, &name), None, "a read moved the item");

    w.run(&["auth", "switch", "--user", &name]).success();
    assert_eq!(w.lookup(SERVICE, &name).as_deref(), Some("sk-legacy"));
    assert_eq!(
        w.lookup(&legacy, &name),
        None,
        "the legacy item is still there"
    );
    let after = w.env.auth_json();
    assert!(after.get("hosts").is_none(), "{after:#}");
    assert_eq!(
        after["profiles"][&name],
        json!({"remote_url": w.remote(), "auth_type": "api_key"})
    );
    w.run(&["auth", "switch", "--user", &name]).success();
    assert_eq!(w.items(SERVICE, &name).matches("secret = ").count(), 1);
    assert_eq!(w.run(&["auth", "token"]).success(), "sk-legacy\n");
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test)"]
fn a_legacy_item_waits_for_a_keyring_that_was_absent_at_the_first_write() {
    let w = World::new();
    let name = w.name("waits");
    let legacy = format!("baseten:{}", w.remote());
    w.store_item(&legacy, &name, "sk-waits");
    w.owns(SERVICE, &name);
    w.env.write_auth(&legacy_file(&w.remote(), &name));

    // First write without a session bus: converted, the secret stays where it was.
    common::run(
        &mut w
            .env
            .cmd_at(&w.remote(), &["auth", "switch", "--user", &name]),
    )
    .success();
    let after = w.env.auth_json();
    assert!(after.get("hosts").is_none(), "{after:#}");
    assert_eq!(
        after["profiles"][&name]["legacy_keyring"],
        json!({"service": legacy, "account": name})
    );
    assert_eq!(w.lookup(&legacy, &name).as_deref(), Some("sk-waits"));
    // Still readable, through the legacy item.
    assert_eq!(w.run(&["auth", "token"]).success(), "sk-waits\n");

    // A later write with the keyring moves it.
    w.run(&["auth", "switch", "--user", &name]).success();
    assert_eq!(w.lookup(SERVICE, &name).as_deref(), Some("sk-waits"));
    assert_eq!(w.lookup(&legacy, &name), None);
    assert!(
        w.env.auth_json()["profiles"][&name]
            .get("legacy_keyring")
            .is_none()
    );
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test)"]
fn exactly_one_copy_is_current_in_either_direction() {
    let w = World::new();
    let name = w.name("one-copy");
    w.owns(SERVICE, &name);
    w.login(&name, "sk-kr-1", &[]).assert_code(0);
    w.login(&name, "sk-file-2", &["--insecure-storage"])
        .assert_code(0);
    assert_eq!(w.lookup(SERVICE, &name), None, "keyring copy left behind");
    assert_eq!(w.env.auth_json()["profiles"][&name]["api_key"], "sk-file-2");
    w.login(&name, "sk-kr-3", &[]).assert_code(0);
    assert_eq!(w.lookup(SERVICE, &name).as_deref(), Some("sk-kr-3"));
    assert!(
        w.env.auth_json()["profiles"][&name]
            .get("api_key")
            .is_none()
    );
    assert_eq!(w.run(&["auth", "token"]).success(), "sk-kr-3\n");
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test)"]
fn logout_removes_the_item_and_a_legacy_one() {
    let w = World::new();
    let name = w.name("bye");
    let legacy = format!("baseten:{}", w.remote());
    w.store_item(&legacy, &name, "sk-bye");
    w.owns(SERVICE, &name);
    w.env.write_auth(&legacy_file(&w.remote(), &name));
    // Converted without a keyring, so the secret is still in the legacy item.
    common::run(
        &mut w
            .env
            .cmd_at(&w.remote(), &["auth", "switch", "--user", &name]),
    )
    .success();
    w.run(&["auth", "logout"]).success();
    assert_eq!(w.lookup(&legacy, &name), None);
    assert_eq!(w.lookup(SERVICE, &name), None);
    assert!(w.env.auth_json()["profiles"].get(&name).is_none());
}

/// `cmd` with writes limited to `bytes` per file (and SIGXFSZ ignored, so a longer write
/// fails with EFBIG): `auth.json` cannot be written, as on a full disk, while the lock
/// and temp files can still be created.
fn with_tiny_files(cmd: &mut Command, bytes: u64) -> &mut Command {
    // SAFETY: only async-signal-safe calls (setrlimit, signal) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
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

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test)"]
fn a_login_that_cannot_write_the_file_leaves_the_keyring_as_it_was() {
    let w = World::new();
    let (kept, fresh) = (w.name("kept"), w.name("fresh"));
    w.owns(SERVICE, &kept);
    w.owns(SERVICE, &fresh);
    w.login(&kept, "sk-old", &[]).assert_code(0);
    let before = w.env.read_auth();

    for (name, key) in [(&kept, "sk-new"), (&fresh, "sk-orphan")] {
        let mut cmd = w.cmd(&["auth", "login", "--with-api-key", "--label", name]);
        let out = common::run_with_stdin(with_tiny_files(&mut cmd, 16), &format!("{key}\n"));
        out.failure(1, &["cannot write", "auth.json"]);
        assert!(!out.stderr.contains(key), "{out:#?}");
    }
    assert_eq!(w.lookup(SERVICE, &kept).as_deref(), Some("sk-old"));
    assert_eq!(w.lookup(SERVICE, &fresh), None, "an orphan item was left");
    assert_eq!(w.env.read_auth(), before);
    let status: Value = w.run(&["auth", "status", "-o", "json"]).json();
    assert_eq!(status["user"], kept);
    assert_eq!(w.run(&["auth", "token"]).success(), "sk-old\n");
}
