//! The credential store against a real Secret Service (SPEC §6, §7): what lands in the
//! keyring and what stays out of `auth.json`, items written the way the reference CLI
//! writes them, refresh write-back, logout, the one-copy rule in both directions, and
//! reads that prefer the plain-text copy.
//!
//! These need the private keyring of `tests/with-secret-service.sh` (which exports
//! `BASETEN_TEST_SECRET_SERVICE=1`): `tests/with-secret-service.sh cargo test --test
//! keyring`. Without it they print `SKIPPED` and pass, except under `CI=true`, where a
//! skip is a failure. Every profile's item is in the one service `baseten-profile`
//! (SPEC §7), so each test names its accounts after its own server's port
//! ([`Kr::name`]) and removes only those items: the tests run in parallel.

mod common;
#[path = "common/routes.rs"]
mod routes;
#[path = "common/server.rs"]
mod server;

use std::cell::RefCell;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{Env, Outcome};
use routes::{AUTHORIZE, LOGOUT, ME, TOKEN};
use serde_json::{Value, json};
use server::{Queue, Reply, Server};

const EMAIL: &str = "keyring@example.com";
const ME_BODY: &str =
    r#"{"user_id":"u-k","email":"keyring@example.com","name":"Key Ring","workspace_name":"Acme"}"#;
const WARNING: &str =
    "warning: could not store credentials in system keyring, storing in plain text";
/// The keyring service of every profile.
const SERVICE: &str = "baseten-profile";

/// Whether the Secret Service of `tests/with-secret-service.sh` is there. When it is not,
/// fails under `CI=true` and otherwise says loudly that the test is skipped.
fn secret_service() -> bool {
    if std::env::var("BASETEN_TEST_SECRET_SERVICE").as_deref() == Ok("1") {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "no Secret Service under CI: run the keyring tests via tests/with-secret-service.sh"
    );
    // Straight to the stderr stream, not through `eprintln!`: the test harness captures
    // that for passing tests, and a skip must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: no Secret Service (run via tests/with-secret-service.sh or make test)"
    );
    false
}

/// One test's world: a config dir, a server of its own (so a remote and account names
/// of its own) and the queue that scripts it. Removes its keyring items when dropped.
struct Kr {
    env: Env,
    server: Server,
    queue: Queue,
    /// The account names whose items this world may have created.
    names: RefCell<Vec<String>>,
}

impl Kr {
    /// A world whose server knows `who am I` (any credential is accepted).
    fn new() -> Kr {
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

    fn remote(&self) -> String {
        self.server.url()
    }

    /// `base` made unique to this world (suffixed with its server's port), and
    /// remembered so its items are removed at the end.
    fn name(&self, base: &str) -> String {
        let name = format!("{base}-{}", self.server.addr().port());
        self.track(&name);
        name
    }

    /// Remembers `name` so that its items are removed at the end.
    fn track(&self, name: &str) {
        let mut names = self.names.borrow_mut();
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }

    /// The keyring service of the legacy layout for this world's remote.
    fn legacy_service(&self) -> String {
        format!("baseten:{}", self.remote())
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

    /// `login --with-api-key --label <label> <extra>` with `key` on stdin. Must succeed,
    /// without the fallback warning (the keyring is there; `--insecure-storage` is no
    /// fallback either) and without the key on stderr.
    fn login_key(&self, label: &str, key: &str, extra: &[&str]) -> Outcome {
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
    fn status(&self) -> Value {
        let out = self.run(&["auth", "status", "-o", "json"]);
        out.assert_code(0);
        out.json()
    }

    /// `token` (text), which must succeed; the secret without its newline.
    fn token(&self) -> String {
        let out = self.run(&["auth", "token"]);
        let stdout = out.success();
        stdout
            .strip_suffix('\n')
            .unwrap_or_else(|| panic!("no newline after the token: {out:#?}"))
            .to_owned()
    }

    /// `secret-tool lookup service baseten-profile username <name>`: the secret, or
    /// `None` when the lookup fails (no item).
    fn lookup(&self, name: &str) -> Option<String> {
        lookup_in(SERVICE, name)
    }

    /// Like [`Kr::lookup`], in the legacy service of this world's remote.
    fn lookup_legacy(&self, label: &str) -> Option<String> {
        lookup_in(&self.legacy_service(), label)
    }

    /// Every item of `name` as `secret-tool search --all` describes them.
    fn items(&self, name: &str) -> String {
        items_in(SERVICE, name)
    }

    /// How many items `name` has in the keyring.
    fn item_count(&self, name: &str) -> usize {
        self.items(name)
            .lines()
            .filter(|l| l.starts_with("secret = "))
            .count()
    }

    /// Stores an item with `secret-tool store` in `service`, the way the reference CLI's
    /// items look: attributes `service`, `username` (plus `extra`), and label
    /// `label_text`.
    fn store_item_in(
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
    fn store_item(&self, name: &str, label_text: &str, secret: &str, extra: &[&str]) {
        self.track(name);
        self.store_item_in(SERVICE, name, label_text, secret, extra);
    }

    /// An item for profile `name` exactly as the reference CLI (v0.2 and later) writes
    /// it.
    fn store_official(&self, name: &str, secret: &str) {
        let text = format!("Password for '{name}' on '{SERVICE}'");
        self.store_item(name, &text, secret, &[]);
    }

    /// An item for `label` of this remote exactly as the reference CLI before v0.2
    /// wrote it (the legacy service `baseten:<remote>`).
    fn store_legacy(&self, label: &str, secret: &str) {
        let service = self.legacy_service();
        let text = format!("Password for '{label}' on '{service}'");
        self.store_item_in(&service, label, &text, secret, &[]);
    }

    /// Writes `auth.json` with the profiles `users` (entries without `remote_url`) of
    /// this remote, and `active` as the active one.
    fn write_users(&self, active: &str, users: Value) {
        let file = common::store_of(&self.remote(), Some(active), users);
        self.env.write_auth(&file.to_string());
    }

    /// Writes `auth.json` in the legacy `hosts` layout with `users` for this remote and
    /// `active` as its active user.
    fn write_legacy_users(&self, active: &str, users: Value) {
        let file = json!({
            "version": 1,
            "hosts": { self.remote(): { "active_user": active, "users": users } }
        });
        self.env.write_auth(&file.to_string());
    }

    /// The active account of this remote in `auth.json`.
    fn active(&self) -> Option<String> {
        self.env.active(&self.remote())
    }

    /// `profiles[name]` of `auth.json` (`null` when absent), checked to belong to this
    /// remote when present.
    #[track_caller]
    fn entry(&self, name: &str) -> Value {
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

fn secret_tool(args: &[&str]) -> Output {
    Command::new("secret-tool")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run secret-tool")
}

/// `secret-tool lookup service <service> username <name>`: the secret, or `None` when
/// the lookup fails (no item).
fn lookup_in(service: &str, name: &str) -> Option<String> {
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
fn items_in(service: &str, name: &str) -> String {
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
fn api_key_login_stores_the_key_in_the_keyring_only() {
    if !secret_service() {
        return;
    }
    let kr = Kr::new();
    let ci = kr.name("ci");
    let out = kr.login_key(&ci, "sk-ring-0001", &[]);
    assert_eq!(out.stdout, "Logged in as keyring@example.com (Acme)\n");

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
fn reads_an_api_key_item_written_like_the_reference_cli() {
    if !secret_service() {
        return;
    }
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
fn reads_an_oauth_item_with_fractional_seconds() {
    if !secret_service() {
        return;
    }
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
fn reads_an_oauth_item_with_the_go_zero_expiry() {
    if !secret_service() {
        return;
    }
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
fn device_login_stores_the_oauth_credential_in_the_keyring_and_logout_removes_it() {
    if !secret_service() {
        return;
    }
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
    assert_eq!(out.stdout, "Logged in as keyring@example.com (Acme)\n");
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

#[test]
fn token_refreshes_an_expired_keyring_credential_and_writes_it_back() {
    if !secret_service() {
        return;
    }
    let kr = Kr::new();
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
fn api_key_logout_removes_the_keyring_item() {
    if !secret_service() {
        return;
    }
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
fn keyring_login_replaces_a_plain_text_copy() {
    if !secret_service() {
        return;
    }
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
fn insecure_login_deletes_the_keyring_item() {
    if !secret_service() {
        return;
    }
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
fn insecure_login_from_scratch_writes_no_item() {
    if !secret_service() {
        return;
    }
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
fn a_plain_text_copy_wins_over_a_differing_keyring_item() {
    if !secret_service() {
        return;
    }
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
fn status_storage_follows_switch_between_keyring_and_file_accounts() {
    if !secret_service() {
        return;
    }
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
fn two_matching_items_still_read_and_logout_removes_both() {
    if !secret_service() {
        return;
    }
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
fn login_over_two_matching_items_leaves_one_current_item() {
    if !secret_service() {
        return;
    }
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

/// The legacy layout (SPEC §7): a `hosts` file whose secrets are in the legacy items
/// `baseten:<remote>`/label is read as it is, and the first write converts the file to
/// profiles and moves every converted account's secret to `baseten-profile`/name (the
/// legacy item deleted), so the official CLI finds them all.
#[test]
fn legacy_items_are_read_and_moved_to_the_profile_service_on_the_first_write() {
    if !secret_service() {
        return;
    }
    let kr = Kr::new();
    let bot = kr.name("legacy-bot");
    let me = kr.name(EMAIL);
    let cred = oauth_secret("access-legacy", "refresh-legacy", "2099-01-02T03:04:05Z");
    kr.store_legacy(&bot, "sk-legacy-1");
    kr.store_legacy(&me, &cred);
    kr.write_legacy_users(
        &bot,
        json!({ &bot: { "auth_type": "api_key" }, &me: { "auth_type": "oauth" } }),
    );
    let before = kr.env.read_auth();

    // Reads: the legacy items, nothing changed or moved.
    assert_eq!(kr.token(), "sk-legacy-1");
    let status = kr.status();
    assert_eq!(status["user"], bot.as_str());
    assert_eq!(status["storage"], "keyring");
    assert_eq!(kr.env.read_auth(), before);
    assert_eq!(kr.lookup_legacy(&bot).as_deref(), Some("sk-legacy-1"));
    assert_eq!(kr.lookup(&bot), None);

    // The first write converts the file and moves both secrets.
    let out = kr.run(&["auth", "switch", "--user", &me]);
    assert_eq!(out.success(), format!("Switched to {me}\n"));
    let file = kr.env.auth_json();
    assert!(file.get("hosts").is_none(), "{file:#}");
    assert_eq!(kr.active().as_ref(), Some(&me));
    for (name, auth_type, secret) in [(&bot, "api_key", "sk-legacy-1"), (&me, "oauth", &cred)] {
        let entry = kr.entry(name);
        assert_no_plain_copy(&entry, auth_type);
        let mut keys: Vec<&String> = entry.as_object().expect("profile").keys().collect();
        keys.sort();
        assert_eq!(keys, ["auth_type", "remote_url"], "{file:#}");
        assert_eq!(kr.lookup(name).as_deref(), Some(secret), "{name}");
        assert_eq!(kr.item_count(name), 1, "{}", kr.items(name));
        let label_line = format!("label = Password for '{name}' on '{SERVICE}'");
        assert!(
            kr.items(name).lines().any(|l| l == label_line),
            "{}",
            kr.items(name)
        );
        assert_eq!(kr.lookup_legacy(name), None, "legacy item of {name} left");
    }
    assert!(!kr.env.read_auth().contains("sk-legacy-1"));
    assert!(!kr.env.read_auth().contains("access-legacy"));

    // Read from their new items.
    assert_eq!(kr.token(), "access-legacy");
    let out = kr.run(&["auth", "switch", "--user", &bot]);
    out.success();
    assert_eq!(kr.token(), "sk-legacy-1");
    assert!(
        kr.server.requests().is_empty(),
        "{:#?}",
        kr.server.requests()
    );
}

/// A legacy secret that cannot be moved when the file is converted (no keyring then)
/// stays readable through its legacy item, and the next write with a keyring moves it.
#[test]
fn a_legacy_item_that_could_not_be_moved_is_read_there_and_moved_later() {
    if !secret_service() {
        return;
    }
    let kr = Kr::new();
    let bot = kr.name("legacy-bot");
    let other = kr.name("plain-bot");
    kr.store_legacy(&bot, "sk-legacy-2");
    kr.write_legacy_users(
        &bot,
        json!({ &bot: { "auth_type": "api_key" },
                &other: { "auth_type": "api_key", "api_key": "sk-plain-2" } }),
    );

    // A write without a session bus: the file is converted, the secret cannot move.
    let out = common::run(
        &mut kr
            .env
            .cmd_at(&kr.remote(), &["auth", "switch", "--user", &bot]),
    );
    out.assert_code(0);
    assert_eq!(out.stdout, format!("Switched to {bot}\n"), "{out:#?}");
    let file = kr.env.auth_json();
    assert!(file.get("hosts").is_none(), "{file:#}");
    assert_eq!(kr.entry(&other)["api_key"], "sk-plain-2");
    assert_eq!(kr.lookup_legacy(&bot).as_deref(), Some("sk-legacy-2"));
    assert_eq!(kr.lookup(&bot), None);

    // With the keyring back, reads find it in the legacy item and move nothing.
    assert_eq!(kr.token(), "sk-legacy-2");
    assert_eq!(kr.status()["storage"], "keyring");
    assert_eq!(kr.lookup_legacy(&bot).as_deref(), Some("sk-legacy-2"));

    // The next write moves it.
    let out = kr.run(&["auth", "switch", "--user", &other]);
    assert_eq!(out.success(), format!("Switched to {other}\n"));
    assert_eq!(kr.lookup(&bot).as_deref(), Some("sk-legacy-2"));
    assert_eq!(kr.lookup_legacy(&bot), None);
    assert_no_plain_copy(&kr.entry(&bot), "api_key");
    let out = kr.run(&["auth", "switch", "--user", &bot]);
    out.success();
    assert_eq!(kr.token(), "sk-legacy-2");
}

/// A change is all or nothing across file and keyring (SPEC §7): when `auth.json` cannot
/// be written (here a config directory others can write to, which writes refuse), a
/// login changes no secret and leaves no orphan item.
#[test]
fn a_login_that_cannot_write_the_file_leaves_the_keyring_as_it_was() {
    if !secret_service() {
        return;
    }
    let kr = Kr::new();
    let ci = kr.name("ci");
    let fresh = kr.name("fresh");
    kr.login_key(&ci, "sk-kept", &[]);
    let before = kr.env.read_auth();
    common::set_mode(&kr.env.config_dir(), 0o777);

    for (name, key) in [(&ci, "sk-replacement"), (&fresh, "sk-orphan")] {
        let args = ["auth", "login", "--with-api-key", "--label", name.as_str()];
        let out = common::run_with_stdin(&mut kr.cmd(&args), &format!("{key}\n"));
        out.failure(1, &["chmod 700"]);
        assert!(!out.stderr.contains(key), "{out:#?}");
    }
    assert_eq!(kr.lookup(&ci).as_deref(), Some("sk-kept"));
    assert_eq!(kr.item_count(&ci), 1, "{}", kr.items(&ci));
    assert_eq!(kr.lookup(&fresh), None, "orphan item left");
    assert_eq!(kr.env.read_auth(), before);

    common::set_mode(&kr.env.config_dir(), 0o700);
    assert_eq!(kr.token(), "sk-kept");
}
