//! The credential store against a real Secret Service (SPEC §6, §7): what lands in the
//! keyring and what stays out of `auth.json`, items written the way the official CLI
//! writes them (and where it looks for ours), refresh write-back, logout, the one-copy
//! rule in both directions, reads that prefer the plain-text copy, and changes that
//! cannot be committed to `auth.json` leaving the keyring as it was. Legacy items are in
//! `legacy/keyring.rs`, which shares these helpers.
//!
//! These need the private keyring of `tests/with-secret-service.sh` (which exports
//! `BASETEN_TEST_SECRET_SERVICE=1`), so every test is `#[ignore]`d: the wrapper runs them
//! with `--include-ignored` (`make test` does), and run any other way they fail saying
//! what is missing. Every profile's item is in the one service `baseten-profile`
//! (SPEC §7), so each test names its accounts after its own server's port
//! ([`Kr::name`]) and removes only those items: the tests run in parallel.
#![cfg(all(unix, not(target_os = "macos")))]

use crate::common;
use crate::routes;
use crate::server;

use std::cell::RefCell;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{Env, Outcome};
use routes::{AUTHORIZE, LOGOUT, ME, TOKEN};
use serde_json::{Value, json};
use server::{Queue, Reply, Server};

const EMAIL: &str = "keyring@example.com";

pub(crate) const ME_BODY: &str =
    r#"{"user_id":"u-k","email":"keyring@example.com","name":"Key Ring","workspace_name":"Acme"}"#;

pub(crate) const WARNING: &str =
    "warning: could not store credentials in system keyring, storing in plain text";

/// The keyring service of every profile.
pub(crate) const SERVICE: &str = "baseten-profile";

/// One test's world: a config dir, a server of its own (so a remote and account names
/// of its own) and the queue that scripts it. Removes its keyring items when dropped.
pub(crate) struct Kr {
    pub(crate) env: Env,
    pub(crate) server: Server,
    pub(crate) queue: Queue,
    /// The account names whose items this world may have created.
    pub(crate) names: RefCell<Vec<String>>,
}

impl Kr {
    /// A world whose server knows `who am I` (any credential is accepted). These tests
    /// are `#[ignore]`d unless run by `tests/with-secret-service.sh`, which says the
    /// Secret Service is there; run otherwise, they fail saying so.
    pub(crate) fn new() -> Kr {
        assert_eq!(
            std::env::var("BASETEN_TEST_SECRET_SERVICE").as_deref(),
            Ok("1"),
            "no Secret Service: run the keyring tests via tests/with-secret-service.sh"
        );
        let queue = Queue::new();
        queue.push("GET", ME, Reply::json(200, ME_BODY));
        let server = Server::start(queue.handler());
        Kr {
            env: Env::new(),
            server,
            queue,
            names: RefCell::new(Vec::new()),
        }
    }

    pub(crate) fn remote(&self) -> String {
        self.server.url()
    }

    /// `base` made unique to this world (suffixed with its server's port), and
    /// remembered so its items are removed at the end.
    pub(crate) fn name(&self, base: &str) -> String {
        let name = format!("{base}-{}", self.server.addr().port());
        self.track(&name);
        name
    }

    /// Remembers `name` so that its items are removed at the end.
    pub(crate) fn track(&self, name: &str) {
        let mut names = self.names.borrow_mut();
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }

    /// The keyring service of the legacy layout for this world's remote.
    pub(crate) fn legacy_service(&self) -> String {
        format!("baseten:{}", self.remote())
    }

    /// The binary with `args`, pointed at the server, on the real session bus.
    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.env.cmd_at(&self.remote(), args);
        common::with_session_bus(&mut cmd);
        cmd
    }

    pub(crate) fn run(&self, args: &[&str]) -> Outcome {
        common::run(&mut self.cmd(args))
    }

    /// `login --with-api-key --label <label> <extra>` with `key` on stdin. Must succeed,
    /// without the fallback warning (the keyring is there; `--insecure-storage` is no
    /// fallback either) and without the key on stderr.
    pub(crate) fn login_key(&self, label: &str, key: &str, extra: &[&str]) -> Outcome {
        self.track(label);
        let mut args = vec!["auth", "login", "--with-api-key", "--label", label];
        args.extend_from_slice(extra);
        let out = common::run_with_stdin(&mut self.cmd(&args), &format!("{key}\n"));
        out.assert_code(0);
        assert!(!out.stderr.contains(WARNING), "fell back: {out:#?}");
        assert!(!out.stderr.contains(key), "key on stderr: {out:#?}");
        out
    }

    /// `status -o json`, which must succeed.
    pub(crate) fn status(&self) -> Value {
        let out = self.run(&["auth", "status", "-o", "json"]);
        out.assert_code(0);
        out.json()
    }

    /// `token` (text), which must succeed; the secret without its newline.
    pub(crate) fn token(&self) -> String {
        let out = self.run(&["auth", "token"]);
        let stdout = out.success();
        stdout
            .strip_suffix('\n')
            .unwrap_or_else(|| panic!("no newline after the token: {out:#?}"))
            .to_owned()
    }

    /// `secret-tool lookup service baseten-profile username <name>`: the secret, or
    /// `None` when the lookup fails (no item).
    pub(crate) fn lookup(&self, name: &str) -> Option<String> {
        lookup_in(SERVICE, name)
    }

    /// Like [`Kr::lookup`], in the legacy service of this world's remote.
    pub(crate) fn lookup_legacy(&self, label: &str) -> Option<String> {
        lookup_in(&self.legacy_service(), label)
    }

    /// Every item of `name` as `secret-tool search --all` describes them.
    pub(crate) fn items(&self, name: &str) -> String {
        items_in(SERVICE, name)
    }

    /// How many items `name` has in the keyring.
    pub(crate) fn item_count(&self, name: &str) -> usize {
        self.items(name)
            .lines()
            .filter(|l| l.starts_with("secret = "))
            .count()
    }

    /// Stores an item with `secret-tool store` in `service`, the way the reference CLI's
    /// items look: attributes `service`, `username` (plus `extra`), and label
    /// `label_text`.
    pub(crate) fn store_item_in(
        &self,
        service: &str,
        name: &str,
        label_text: &str,
        secret: &str,
        extra: &[&str],
    ) {
        let mut args = vec![
            "store".to_owned(),
            format!("--label={label_text}"),
            "service".to_owned(),
            service.to_owned(),
            "username".to_owned(),
            name.to_owned(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let mut child = Command::new("secret-tool")
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run secret-tool");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(secret.as_bytes())
            .expect("write secret");
        let out = child.wait_with_output().expect("wait for secret-tool");
        assert!(out.status.success(), "secret-tool store failed: {out:?}");
    }

    /// [`Kr::store_item_in`] the profiles' service.
    pub(crate) fn store_item(&self, name: &str, label_text: &str, secret: &str, extra: &[&str]) {
        self.track(name);
        self.store_item_in(SERVICE, name, label_text, secret, extra);
    }

    /// An item for profile `name` exactly as the reference CLI (v0.2 and later) writes
    /// it.
    pub(crate) fn store_official(&self, name: &str, secret: &str) {
        let text = format!("Password for '{name}' on '{SERVICE}'");
        self.store_item(name, &text, secret, &[]);
    }

    /// An item for `label` of this remote exactly as the reference CLI before v0.2
    /// wrote it (the legacy service `baseten:<remote>`).
    pub(crate) fn store_legacy(&self, label: &str, secret: &str) {
        let service = self.legacy_service();
        let text = format!("Password for '{label}' on '{service}'");
        self.store_item_in(&service, label, &text, secret, &[]);
    }

    /// Writes `auth.json` with the profiles `users` (entries without `remote_url`) of
    /// this remote, and `active` as the active one.
    pub(crate) fn write_users(&self, active: &str, users: Value) {
        let file = common::store_of(&self.remote(), Some(active), users);
        self.env.write_auth(&file.to_string());
    }

    /// Writes `auth.json` in the legacy `hosts` layout with `users` for this remote and
    /// `active` as its active user.
    pub(crate) fn write_legacy_users(&self, active: &str, users: Value) {
        let file = json!({
            "version": 1,
            "hosts": { self.remote(): { "active_user": active, "users": users } }
        });
        self.env.write_auth(&file.to_string());
    }

    /// The active account of this remote in `auth.json`.
    pub(crate) fn active(&self) -> Option<String> {
        self.env.active(&self.remote())
    }

    /// `profiles[name]` of `auth.json` (`null` when absent), checked to belong to this
    /// remote when present.
    #[track_caller]
    pub(crate) fn entry(&self, name: &str) -> Value {
        let entry = self.env.profile(name);
        if !entry.is_null() {
            assert_eq!(entry["remote_url"], self.remote(), "{entry}");
        }
        entry
    }
}

impl Drop for Kr {
    fn drop(&mut self) {
        for name in self.names.borrow().iter() {
            let _ = secret_tool(&["clear", "service", SERVICE, "username", name]);
        }
        let _ = secret_tool(&["clear", "service", &self.legacy_service()]);
    }
}

pub(crate) fn secret_tool(args: &[&str]) -> Output {
    Command::new("secret-tool")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run secret-tool")
}

/// `secret-tool lookup service <service> username <name>`: the secret, or `None` when
/// the lookup fails (no item).
pub(crate) fn lookup_in(service: &str, name: &str) -> Option<String> {
    let out = secret_tool(&["lookup", "service", service, "username", name]);
    let secret = String::from_utf8(out.stdout).expect("secret is UTF-8");
    if out.status.success() {
        Some(secret)
    } else {
        assert_eq!(secret, "", "failed lookup printed something");
        None
    }
}

/// Every item of `name` in `service` as `secret-tool search --all` describes them.
pub(crate) fn items_in(service: &str, name: &str) -> String {
    let out = secret_tool(&["search", "--all", "service", service, "username", name]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The entry keeps the auth type and no plain-text secret.
#[track_caller]
fn assert_no_plain_copy(entry: &Value, auth_type: &str) {
    assert_eq!(entry["auth_type"], auth_type, "entry: {entry}");
    assert!(entry.get("api_key").is_none(), "plain api_key: {entry}");
    assert!(
        entry.get("oauth_credential").is_none(),
        "plain oauth_credential: {entry}"
    );
}

/// `status` text tells where the secret lives: after the three fixed lines, a line
/// naming `storage` and none naming the other place.
#[track_caller]
fn assert_status_text_storage(kr: &Kr, storage: &str) {
    let out = kr.run(&["auth", "status"]);
    let stdout = out.success();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(kr.remote().as_str()),
        "{out:#?}"
    );
    let other = if storage == "keyring" {
        "file"
    } else {
        "keyring"
    };
    let rest = lines.get(3..).unwrap_or_default();
    assert!(
        rest.iter().any(|l| l.contains(storage)) && !rest.iter().any(|l| l.contains(other)),
        "status text does not say the storage is {storage}: {out:#?}"
    );
}

/// An OAuth credential as the keyring holds it: compact JSON.
fn oauth_secret(access: &str, refresh: &str, expiry: &str) -> String {
    json!({ "access_token": access, "refresh_token": refresh, "expiry": expiry }).to_string()
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn api_key_login_stores_the_key_in_the_keyring_only() {
    let kr = Kr::new();
    let ci = kr.name("ci");
    let out = kr.login_key(&ci, "sk-ring-0001", &[]);
    assert_eq!(
        out.stdout,
        format!("Logged in as keyring@example.com (Acme) as profile {ci}\n")
    );

    assert_eq!(kr.lookup(&ci).as_deref(), Some("sk-ring-0001"));
    assert_eq!(kr.item_count(&ci), 1, "{}", kr.items(&ci));
    let label_line = format!("label = Password for '{ci}' on 'baseten-profile'");
    assert!(
        kr.items(&ci).lines().any(|l| l == label_line),
        "item not labelled like the reference CLI's: {}",
        kr.items(&ci)
    );
    assert_eq!(kr.active().as_ref(), Some(&ci));
    assert_no_plain_copy(&kr.entry(&ci), "api_key");
    assert!(!kr.env.read_auth().contains("sk-ring-0001"));

    let status = kr.status();
    assert_eq!(status["storage"], "keyring");
    assert_eq!(status["source"], "store");
    assert_eq!(status["user"], ci.as_str());
    assert_eq!(status["auth_type"], "api_key");
    assert_status_text_storage(&kr, "keyring");

    assert_eq!(kr.token(), "sk-ring-0001");
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn reads_an_api_key_item_written_like_the_reference_cli() {
    let kr = Kr::new();
    let bot = kr.name("bot");
    kr.store_official(&bot, "sk-official-42");
    kr.write_users(&bot, json!({ &bot: { "auth_type": "api_key" } }));

    assert_eq!(kr.token(), "sk-official-42");
    let status = kr.status();
    assert_eq!(status["storage"], "keyring");
    assert_eq!(status["user"], bot.as_str());
    assert_eq!(status["auth_type"], "api_key");
    assert_eq!(status["expires_at"], Value::Null);
    // Reading changed nothing.
    assert_eq!(kr.lookup(&bot).as_deref(), Some("sk-official-42"));
    assert!(
        kr.server.requests().is_empty(),
        "{:#?}",
        kr.server.requests()
    );
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn reads_an_oauth_item_with_fractional_seconds() {
    let kr = Kr::new();
    let name = kr.name(EMAIL);
    let secret = oauth_secret(
        "access-frac",
        "refresh-frac",
        "2099-01-02T03:04:05.123456789Z",
    );
    kr.store_official(&name, &secret);
    kr.write_users(&name, json!({ &name: { "auth_type": "oauth" } }));

    assert_eq!(kr.token(), "access-frac");
    let status = kr.status();
    assert_eq!(status["storage"], "keyring");
    assert_eq!(status["auth_type"], "oauth");
    let expires = status["expires_at"].as_str().unwrap_or_default();
    assert!(
        expires.starts_with("2099-01-02T03:04:05") && expires.ends_with('Z'),
        "expires_at {expires:?} is not 2099-01-02T03:04:05(.123456789)Z"
    );
    // Not expired: no refresh, and the item is untouched.
    assert!(
        kr.server.requests().is_empty(),
        "{:#?}",
        kr.server.requests()
    );
    assert_eq!(kr.lookup(&name).as_deref(), Some(secret.as_str()));
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn reads_an_oauth_item_with_the_go_zero_expiry() {
    let kr = Kr::new();
    let name = kr.name(EMAIL);
    kr.store_official(
        &name,
        &oauth_secret("access-zero", "refresh-zero", "0001-01-01T00:00:00Z"),
    );
    kr.write_users(&name, json!({ &name: { "auth_type": "oauth" } }));

    assert_eq!(kr.token(), "access-zero");
    let status = kr.status();
    assert_eq!(status["storage"], "keyring");
    assert_eq!(status["auth_type"], "oauth");
    assert_eq!(status["expires_at"], Value::Null, "{status}");
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn device_login_stores_the_oauth_credential_in_the_keyring_and_logout_removes_it() {
    let kr = Kr::new();
    // A browser login off the default remote is named `<email>:<host>` (SPEC §7); no
    // other test logs in through the browser, so the name is this test's own.
    let name = format!("{EMAIL}:127.0.0.1");
    kr.track(&name);
    kr.queue
        .push(
            "POST",
            AUTHORIZE,
            Reply::json(
                200,
                r#"{"device_code":"dc-1","user_code":"ABCD-EFGH",
                    "verification_uri":"https://app.baseten.co/device",
                    "expires_in":60,"interval":1}"#,
            ),
        )
        .push(
            "POST",
            TOKEN,
            Reply::json(
                200,
                r#"{"access_token":"dev-access","refresh_token":"dev-refresh",
                    "expires_in":3600,"token_type":"Bearer"}"#,
            ),
        )
        .push("POST", LOGOUT, Reply::json(200, "{}"));

    let out = kr.run(&["auth", "login", "--web"]);
    out.assert_code(0);
    assert_eq!(
        out.stdout,
        "Logged in as keyring@example.com (Acme) as profile keyring@example.com:127.0.0.1\n"
    );
    assert!(!out.stderr.contains(WARNING), "fell back: {out:#?}");
    assert!(!out.stderr.contains("dev-access"), "{out:#?}");

    let secret = kr.lookup(&name).expect("an item for the account");
    assert!(
        !secret.contains(char::is_whitespace),
        "not compact JSON: {secret:?}"
    );
    let cred: Value = serde_json::from_str(&secret).expect("the item is JSON");
    assert_eq!(cred["access_token"], "dev-access");
    assert_eq!(cred["refresh_token"], "dev-refresh");
    let expiry = cred["expiry"].as_str().expect("expiry is a string");
    assert!(
        expiry.starts_with("20") && expiry != "0001-01-01T00:00:00Z",
        "expiry {expiry:?} should be about an hour from now"
    );
    assert_eq!(kr.active().as_ref(), Some(&name));
    assert_no_plain_copy(&kr.entry(&name), "oauth");
    assert!(!kr.env.read_auth().contains("dev-access"));

    let status = kr.status();
    assert_eq!(status["storage"], "keyring");
    assert_eq!(status["auth_type"], "oauth");
    assert!(status["expires_at"].is_string(), "{status}");
    assert_eq!(kr.token(), "dev-access");

    let out = kr.run(&["auth", "logout"]);
    out.assert_code(0);
    assert_eq!(out.stdout, format!("Logged out {name}\n"));
    let revoke: Vec<_> = kr
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path == LOGOUT)
        .collect();
    assert_eq!(revoke.len(), 1, "{revoke:#?}");
    assert_eq!(revoke[0].header("authorization"), Some("Bearer dev-access"));
    assert_eq!(kr.lookup(&name), None, "the item survived logout");
    assert_eq!(kr.item_count(&name), 0, "{}", kr.items(&name));
    assert!(kr.entry(&name).is_null(), "{}", kr.env.read_auth());
}

/// The OAuth account (active) of this world, its pair (`access-old`, `refresh-old`)
/// in the keyring and expired; the server refreshes it to `access-new`, `refresh-new`.
fn expired_keyring_account(kr: &Kr) -> String {
    let name = kr.name(EMAIL);
    kr.queue.push(
        "POST",
        TOKEN,
        Reply::json(
            200,
            r#"{"access_token":"access-new","refresh_token":"refresh-new",
                "expires_in":3600,"token_type":"Bearer"}"#,
        ),
    );
    kr.store_official(
        &name,
        &oauth_secret("access-old", "refresh-old", "2001-01-01T00:00:00Z"),
    );
    kr.write_users(&name, json!({ &name: { "auth_type": "oauth" } }));
    name
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn token_refreshes_an_expired_keyring_credential_and_writes_it_back() {
    let kr = Kr::new();
    let name = expired_keyring_account(&kr);

    assert_eq!(kr.token(), "access-new");
    let requests = kr.server.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0].path, TOKEN);
    assert_eq!(
        requests[0].form_value("grant_type").as_deref(),
        Some("refresh_token")
    );
    assert_eq!(
        requests[0].form_value("refresh_token").as_deref(),
        Some("refresh-old")
    );

    let secret = kr.lookup(&name).expect("the item is still there");
    let cred: Value = serde_json::from_str(&secret).expect("the item is JSON");
    assert_eq!(cred["access_token"], "access-new");
    assert_eq!(cred["refresh_token"], "refresh-new");
    assert_eq!(kr.item_count(&name), 1, "{}", kr.items(&name));
    assert_no_plain_copy(&kr.entry(&name), "oauth");
    assert!(!kr.env.read_auth().contains("access-new"));

    // The new pair is what later runs read: no second refresh.
    assert_eq!(kr.token(), "access-new");
    assert_eq!(kr.server.requests().len(), 1);
    assert_eq!(kr.status()["storage"], "keyring");
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn api_key_logout_removes_the_keyring_item() {
    let kr = Kr::new();
    let ci = kr.name("ci");
    kr.login_key(&ci, "sk-bye-1", &[]);
    assert_eq!(kr.lookup(&ci).as_deref(), Some("sk-bye-1"));

    let out = kr.run(&["auth", "logout"]);
    out.assert_code(0);
    assert_eq!(out.stdout, format!("Logged out {ci}\n"));
    assert_eq!(kr.lookup(&ci), None, "the item survived logout");
    assert!(kr.entry(&ci).is_null(), "{}", kr.env.read_auth());
    // API keys: no server call at logout (only the login's `who am I`).
    assert_eq!(kr.server.requests().len(), 1, "{:#?}", kr.server.requests());
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn keyring_login_replaces_a_plain_text_copy() {
    let kr = Kr::new();
    let ci = kr.name("ci");
    kr.write_users(
        &ci,
        json!({ &ci: { "auth_type": "api_key", "api_key": "sk-plain-old" } }),
    );
    assert_eq!(kr.status()["storage"], "file");

    kr.login_key(&ci, "sk-ring-new", &[]);
    assert_eq!(kr.lookup(&ci).as_deref(), Some("sk-ring-new"));
    assert_no_plain_copy(&kr.entry(&ci), "api_key");
    let text = kr.env.read_auth();
    assert!(
        !text.contains("sk-plain-old") && !text.contains("sk-ring-new"),
        "{text}"
    );
    assert_eq!(kr.status()["storage"], "keyring");
    assert_eq!(kr.token(), "sk-ring-new");
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn insecure_login_deletes_the_keyring_item() {
    let kr = Kr::new();
    let ci = kr.name("ci");
    kr.login_key(&ci, "sk-ring-first", &[]);
    assert_eq!(kr.lookup(&ci).as_deref(), Some("sk-ring-first"));

    kr.login_key(&ci, "sk-plain-second", &["--insecure-storage"]);
    let entry = kr.entry(&ci);
    assert_eq!(entry["auth_type"], "api_key");
    assert_eq!(entry["api_key"], "sk-plain-second");
    assert_eq!(kr.lookup(&ci), None, "the keyring copy survived");
    assert_eq!(kr.status()["storage"], "file");
    assert_eq!(kr.token(), "sk-plain-second");
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn insecure_login_from_scratch_writes_no_item() {
    let kr = Kr::new();
    let ci = kr.name("ci");
    kr.login_key(&ci, "sk-plain-only", &["--insecure-storage"]);
    assert_eq!(kr.lookup(&ci), None);
    assert_eq!(kr.item_count(&ci), 0, "{}", kr.items(&ci));
    assert_eq!(kr.entry(&ci)["api_key"], "sk-plain-only");
    assert_eq!(kr.status()["storage"], "file");
    assert_status_text_storage(&kr, "file");
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn a_plain_text_copy_wins_over_a_differing_keyring_item() {
    let kr = Kr::new();
    let ci = kr.name("ci");
    kr.store_official(&ci, "sk-in-keyring");
    kr.write_users(
        &ci,
        json!({ &ci: { "auth_type": "api_key", "api_key": "sk-in-file" } }),
    );
    assert_eq!(kr.token(), "sk-in-file");
    assert_eq!(kr.status()["storage"], "file");

    // The same for OAuth.
    let kr = Kr::new();
    let name = kr.name(EMAIL);
    kr.store_official(
        &name,
        &oauth_secret("access-ring", "refresh-ring", "2099-01-01T00:00:00Z"),
    );
    kr.write_users(
        &name,
        json!({ &name: { "auth_type": "oauth", "oauth_credential": {
            "access_token": "access-file", "refresh_token": "refresh-file",
            "expiry": "2099-01-01T00:00:00Z" } } }),
    );
    assert_eq!(kr.token(), "access-file");
    assert_eq!(kr.status()["storage"], "file");
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn status_storage_follows_switch_between_keyring_and_file_accounts() {
    let kr = Kr::new();
    let ring = kr.name("ring");
    let file = kr.name("file");
    kr.login_key(&ring, "sk-ring-acct", &[]);
    kr.login_key(&file, "sk-file-acct", &["--insecure-storage"]);
    assert_eq!(kr.status()["storage"], "file");
    assert_eq!(kr.token(), "sk-file-acct");

    let out = kr.run(&["auth", "switch", "--user", &ring]);
    assert_eq!(out.success(), format!("Switched to {ring}\n"));
    let status = kr.status();
    assert_eq!(status["user"], ring.as_str());
    assert_eq!(status["storage"], "keyring");
    assert_eq!(kr.token(), "sk-ring-acct");

    let out = kr.run(&["auth", "switch", "--user", &file]);
    assert_eq!(out.success(), format!("Switched to {file}\n"));
    let status = kr.status();
    assert_eq!(status["user"], file.as_str());
    assert_eq!(status["storage"], "file");
    assert_eq!(kr.token(), "sk-file-acct");
    // Switching moved no secret.
    assert_eq!(kr.lookup(&ring).as_deref(), Some("sk-ring-acct"));
    assert_eq!(kr.lookup(&file), None);
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn two_matching_items_still_read_and_logout_removes_both() {
    let kr = Kr::new();
    let ci = kr.name("ci");
    kr.login_key(&ci, "sk-dup-ours", &[]);
    kr.store_item(&ci, "x", "sk-dup-other", &["extra", "1"]);
    assert_eq!(kr.item_count(&ci), 2, "{}", kr.items(&ci));

    let out = kr.run(&["auth", "token"]);
    out.assert_code(0);
    assert!(
        ["sk-dup-ours\n", "sk-dup-other\n"].contains(&out.stdout.as_str()),
        "token printed neither item's secret: {out:#?}"
    );

    let out = kr.run(&["auth", "logout"]);
    out.assert_code(0);
    assert_eq!(kr.item_count(&ci), 0, "{}", kr.items(&ci));
    assert_eq!(kr.lookup(&ci), None);
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn login_over_two_matching_items_leaves_one_current_item() {
    let kr = Kr::new();
    let ci = kr.name("ci");
    kr.login_key(&ci, "sk-first", &[]);
    kr.store_item(&ci, "x", "sk-stray", &["extra", "1"]);
    assert_eq!(kr.item_count(&ci), 2, "{}", kr.items(&ci));

    kr.login_key(&ci, "sk-second", &[]);
    assert_eq!(kr.item_count(&ci), 1, "{}", kr.items(&ci));
    assert_eq!(kr.lookup(&ci).as_deref(), Some("sk-second"));
    assert_eq!(kr.token(), "sk-second");
    assert_no_plain_copy(&kr.entry(&ci), "api_key");
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn a_login_lands_in_the_item_the_official_cli_reads() {
    let kr = Kr::new();
    let name = kr.name("ours");
    kr.login_key(&name, "sk-ours-1", &[]);
    assert_eq!(kr.lookup(&name).as_deref(), Some("sk-ours-1"));
    let items = kr.items(&name);
    assert!(
        items.contains(&format!(
            "label = Password for '{name}' on 'baseten-profile'"
        )),
        "{items}"
    );
    assert_eq!(kr.item_count(&name), 1, "{items}");
    assert_eq!(
        kr.entry(&name),
        json!({"remote_url": kr.remote(), "auth_type": "api_key"})
    );
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn a_login_that_cannot_write_the_file_leaves_the_keyring_as_it_was() {
    let kr = Kr::new();
    let (kept, fresh) = (kr.name("kept"), kr.name("fresh"));
    kr.login_key(&kept, "sk-old", &[]);
    let before = kr.env.read_auth();

    for (name, key) in [(&kept, "sk-new"), (&fresh, "sk-orphan")] {
        let mut cmd = kr.cmd(&["auth", "login", "--with-api-key", "--label", name]);
        let out =
            common::run_with_stdin(common::with_tiny_files(&mut cmd, 16), &format!("{key}\n"));
        out.failure(1, &["cannot write", "auth.json"]);
        assert!(!out.stderr.contains(key), "{out:#?}");
    }
    assert_eq!(kr.lookup(&kept).as_deref(), Some("sk-old"));
    assert_eq!(kr.lookup(&fresh), None, "an orphan item was left");
    assert_eq!(kr.env.read_auth(), before);
    assert_eq!(kr.status()["user"], json!(kept));
    assert_eq!(kr.token(), "sk-old");
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn logout_all_leaves_nothing_in_the_keyring_or_the_file() {
    let kr = Kr::new();
    let (ring1, ring2, plain) = (kr.name("all-1"), kr.name("all-2"), kr.name("all-3"));
    kr.login_key(&ring1, "sk-all-0001", &[]);
    kr.login_key(&ring2, "sk-all-0002", &["--no-switch"]);
    kr.login_key(&plain, "sk-all-0003", &["--insecure-storage"]);
    assert_eq!(kr.lookup(&ring1).as_deref(), Some("sk-all-0001"));
    assert_eq!(kr.lookup(&ring2).as_deref(), Some("sk-all-0002"));

    let out = kr.run(&["auth", "logout", "--all"]);
    assert_eq!(
        out.success(),
        format!("Logged out {ring1}\nLogged out {ring2}\nLogged out {plain}\n")
    );
    for name in [&ring1, &ring2, &plain] {
        assert_eq!(kr.lookup(name), None, "{name} left in the keyring");
    }
    assert_eq!(kr.env.auth_json()["profiles"], json!({}));
    assert!(!kr.env.read_auth().contains("sk-all-"));
}

/// `cmd` with no session bus: the keyring is unreachable.
fn without_keyring(cmd: &mut Command) -> &mut Command {
    cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn logout_with_the_keyring_unreachable_changes_nothing() {
    let kr = Kr::new();
    let ci = kr.name("ci");
    kr.login_key(&ci, "sk-kept", &[]);
    let me = kr.name(EMAIL);
    kr.store_official(
        &me,
        &oauth_secret("at-kept", "rt-kept", "2099-01-01T00:00:00Z"),
    );
    let mut file = kr.env.auth_json();
    file["profiles"][&me] = json!({"remote_url": kr.remote(), "auth_type": "oauth"});
    kr.env.write_auth(&file.to_string());
    let before = kr.env.read_auth();

    for name in [&ci, &me] {
        let mut cmd = kr
            .env
            .cmd_at(&kr.remote(), &["auth", "logout", "--user", name]);
        let out = common::run(without_keyring(&mut cmd));
        out.failure(1, &[&format!("baseten-profile/{name}")]);
        assert!(!out.stdout.contains("Logged out"), "{out:#?}");
        assert_eq!(kr.env.read_auth(), before);
    }
    assert_eq!(kr.lookup(&ci).as_deref(), Some("sk-kept"));
    assert!(kr.lookup(&me).is_some());
    let requests = kr.server.requests();
    assert!(
        routes::requests_to(&requests, LOGOUT).is_empty(),
        "{requests:#?}"
    );
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn a_plain_text_write_over_a_keyring_copy_it_cannot_remove_changes_nothing() {
    let kr = Kr::new();
    let ci = kr.name("ci");
    kr.login_key(&ci, "sk-ring", &[]);
    let before = kr.env.read_auth();
    for extra in [&["--insecure-storage"][..], &[]] {
        let mut args = vec!["auth", "login", "--with-api-key", "--label", &ci];
        args.extend_from_slice(extra);
        let mut cmd = kr.env.cmd_at(&kr.remote(), &args);
        let out = common::run_with_stdin(without_keyring(&mut cmd), "sk-plain\n");
        out.failure(1, &[&format!("baseten-profile/{ci}")]);
        assert_eq!(kr.env.read_auth(), before, "{extra:?}");
    }
    assert_eq!(kr.lookup(&ci).as_deref(), Some("sk-ring"));
    assert_eq!(kr.token(), "sk-ring");
    // A profile with no keyring copy still falls back to the file.
    let fresh = kr.name("fresh");
    let login = ["auth", "login", "--with-api-key", "--label", &fresh];
    let mut cmd = kr.env.cmd_at(&kr.remote(), &login);
    let out = common::run_with_stdin(without_keyring(&mut cmd), "sk-fresh\n");
    out.assert_code(0);
    assert!(out.stderr.contains(WARNING), "{out:#?}");
    assert_eq!(kr.entry(&fresh)["api_key"], "sk-fresh");
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn a_keyring_refresh_on_a_full_disk_saves_the_new_pair_in_the_keyring() {
    let kr = Kr::new();
    let name = expired_keyring_account(&kr);
    let before = kr.env.read_auth();

    let mut cmd = kr.cmd(&["auth", "token"]);
    let out = common::run(common::with_tiny_files(&mut cmd, 16));
    assert_eq!(out.success(), "access-new\n");
    let cred: Value = serde_json::from_str(&kr.lookup(&name).expect("item")).expect("json");
    assert_eq!(cred["access_token"], "access-new");
    assert_eq!(cred["refresh_token"], "refresh-new");
    assert_eq!(kr.env.read_auth(), before, "auth.json was rewritten");
}

/// `cmd` run under strace with `options` (its syscalls injected with faults or delays).
fn traced(cmd: &Command, options: &[&str]) -> Command {
    assert!(
        Command::new("strace")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success()),
        "strace is needed"
    );
    let mut traced = Command::new("strace");
    traced.args(["-f", "-qq", "-o", "/dev/null"]).args(options);
    traced.arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => traced.env(k, v),
            None => traced.env_remove(k),
        };
    }
    traced
}

/// `cmd` killed by SIGKILL at its `n`-th rename (`auth.json` landing).
fn killed_at_rename(cmd: &Command, n: usize) -> Command {
    let renames = "rename,renameat,renameat2";
    let inject = format!("inject={renames}:signal=KILL:when={n}");
    traced(cmd, &["-e", &format!("trace={renames}"), "-e", &inject])
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn logins_racing_logouts_of_the_same_name_never_lose_the_secret() {
    let kr = Kr::new();
    let name = kr.name("race");
    let lock = kr.env.lock_path().display().to_string();
    kr.login_key(&name, "sk-race-first", &[]);
    for round in 0..8 {
        if kr.env.profile(&name).is_null() {
            kr.login_key(&name, "sk-race-again", &[]);
        }
        // The logout stalls right after closing the store lock (the widest window for
        // anything of its change still to come), while logins of the name wait for it.
        let logout = ["auth", "logout", "--user", &name];
        let stall = [
            "-P",
            &lock,
            "-e",
            "trace=close",
            "-e",
            "inject=close:delay_exit=300000",
        ];
        let mut children = vec![common::spawn_with_stdin(
            &mut traced(&kr.cmd(&logout), &stall),
            b"",
        )];
        for i in 0..3 {
            let login = ["auth", "login", "--with-api-key", "--label", &name];
            let key = format!("sk-race-{round}-{i}\n");
            children.push(common::spawn_with_stdin(
                &mut kr.cmd(&login),
                key.as_bytes(),
            ));
        }
        let outs: Vec<String> = children
            .into_iter()
            .map(|c| {
                let out = Outcome::from_output(c.wait_with_output().expect("wait"));
                format!("{}{}", out.stdout, out.stderr)
            })
            .collect();
        let entry = kr.env.profile(&name);
        let item = kr.lookup(&name);
        let why = format!("round {round}: {entry} {outs:#?}");
        // Under load a keyring call may miss its deadline: the login then falls back to
        // the file, which is no loss either.
        let key = match (entry.is_null(), entry["api_key"].as_str()) {
            (true, _) => {
                assert_eq!(item, None, "an item outlived its account: {why}");
                continue;
            }
            (false, Some(plain)) => plain.to_owned(),
            (false, None) => item.unwrap_or_else(|| panic!("the secret was lost: {why}")),
        };
        assert!(key.starts_with("sk-race-"), "{key}");
        assert_eq!(kr.token(), key, "{why}");
    }
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn a_login_killed_at_any_rename_leaves_no_orphan_once_the_store_is_written_again() {
    let kr = Kr::new();
    let other = kr.name("other");
    kr.login_key(&other, "sk-other", &["--insecure-storage"]);
    let name = kr.name("killed");
    for n in 1.. {
        let login = ["auth", "login", "--with-api-key", "--label", &name];
        let out = common::run_with_stdin(&mut killed_at_rename(&kr.cmd(&login), n), "sk-killed\n");
        // Any later write settles what the killed one left.
        kr.run(&["auth", "switch", "--user", &other]).success();
        let entry = kr.env.profile(&name);
        let item = kr.lookup(&name);
        if entry.is_null() {
            assert_eq!(item, None, "killed at rename {n}: an orphan item");
        } else {
            assert_eq!(item.as_deref(), Some("sk-killed"), "killed at rename {n}");
        }
        if out.stdout.contains("Logged in") {
            assert!(n > 1, "the login was never killed: {out:#?}");
            break;
        }
        assert!(n < 10, "the login never finished: {out:#?}");
        // Start the next round from no account.
        if !entry.is_null() {
            kr.run(&["auth", "logout", "--user", &name]).success();
        }
    }
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn an_item_no_profile_names_is_left_alone() {
    let kr = Kr::new();
    // The official CLI writes its item before its file, without our lock.
    let theirs = kr.name("theirs");
    kr.store_official(&theirs, "sk-theirs");
    let ours = kr.name("ours");
    kr.login_key(&ours, "sk-ours", &[]);
    kr.run(&["auth", "switch", "--user", &ours]).success();
    kr.run(&["auth", "logout", "--user", &ours]).success();
    assert_eq!(kr.lookup(&theirs).as_deref(), Some("sk-theirs"));
}

#[test]
#[ignore = "needs a Secret Service: run via tests/with-secret-service.sh (make test does)"]
fn a_keyring_browser_login_refused_for_a_name_clash_changes_nothing() {
    let kr = Kr::new();
    // The name this browser login makes is this test's own.
    let email = "clash@example.com";
    let name = format!("{email}:127.0.0.1");
    kr.track(&name);
    let server = routes::browser_login_server(email);
    let file = json!({"version": 1, "profiles": {&name: {
        "remote_url": "https://app.other.example.com", "auth_type": "api_key",
        "api_key": "sk-other"}}});
    kr.env.write_auth(&file.to_string());
    let before = kr.env.read_auth();

    let mut cmd = kr.env.cmd_at(&server.url(), &["auth", "login", "--web"]);
    let out = common::run(common::with_session_bus(&mut cmd));
    out.assert_code(1);
    assert!(
        out.stderr.contains("https://app.other.example.com"),
        "{out:#?}"
    );
    assert_eq!(kr.env.read_auth(), before);
    assert_eq!(kr.lookup(&name), None, "an item was left");
}
