//! `baseten auth login`: obtain a credential (device flow or API key), check it with the
//! server, store it, and make it the active account.

use std::time::Duration;

use serde::Serialize;

use crate::api::{Api, Me};
use crate::browser;
use crate::cli::args::{LoginArgs, LoginMethod};
use crate::device_flow::{self, SystemClock};
use crate::error::{Error, Result};
use crate::net::client::Auth;
use crate::output::Report;
use crate::remote::Remote;
use crate::secret::Secret;
use crate::session::credential_from;
use crate::store::{self, Credential, Store};
use crate::terminal;
use crate::ui;

/// Longest API key accepted, in bytes.
const MAX_KEY: usize = 4096;
/// Longest device-flow wait honoured, whatever the server says.
const MAX_EXPIRES_IN: u64 = 3600;

/// The result of `login`: the official CLI's fields, then `user` (= `profile`, the
/// documentation page's name) and `auth_type`. Fields the server left null or absent are
/// empty strings.
#[derive(Serialize)]
pub struct LoginReport {
    /// The stored account's name.
    pub profile: String,
    /// The account's id on the platform.
    pub user_id: String,
    /// The e-mail address the server reported.
    pub email: String,
    /// The person's display name.
    pub name: String,
    /// The workspace the credential acts in.
    pub workspace_name: String,
    /// The same as `profile`.
    pub user: String,
    /// `api_key` or `oauth`.
    pub auth_type: &'static str,
}

impl Report for LoginReport {
    fn lines(&self) -> Vec<String> {
        vec![format!(
            "Logged in as {} ({}) as profile {}",
            self.email, self.workspace_name, self.profile
        )]
    }
}

/// Runs `login` against `remote`.
pub fn run(remote: &Remote, args: LoginArgs) -> Result<LoginReport> {
    let store = Store::open(&remote.url)?;
    let method = match args.method {
        Some(m) => m,
        None => {
            let options = ["Browser (OAuth device flow)".into(), "API key".into()];
            match ui::choose("How would you like to log in?", &options)? {
                0 => LoginMethod::Web,
                _ => LoginMethod::ApiKey,
            }
        }
    };
    if let Some(var) = args.env_key_var {
        ui::warn(&format!(
            "{var} is set and will keep taking precedence over the stored credentials"
        ));
    }
    let label = match (method, args.label) {
        (_, Some(label)) => Some(label),
        (LoginMethod::ApiKey, None) => Some(ask_label()?),
        (LoginMethod::Web, None) => None,
    };
    // A name held by another remote is refused before the server is asked anything.
    if let Some(name) = &label {
        super::read(&store.read()?)?.check_free(name, &remote.url)?;
    }
    let api = Api::new(remote)?;
    let (name, me, secret) = match method {
        LoginMethod::Web => {
            let (me, secret) = device_login(&api)?;
            let name = match label {
                Some(label) => Ok(label),
                None => email_name(&me, &remote.url),
            };
            match name {
                Ok(name) => (name, me, secret),
                Err(e) => return Err(revoking(&api, &secret, e)),
            }
        }
        LoginMethod::ApiKey => {
            let key = read_api_key()?;
            let me = api.me(Auth::ApiKey(&key)).map_err(|e| match e {
                Error::Auth(_) => Error::Auth("the API key was rejected by the server".into()),
                e => e,
            })?;
            (label.unwrap_or_default(), me, Credential::ApiKey(key))
        }
    };
    let saved = store.save(
        &remote.url,
        &name,
        &secret,
        args.insecure_storage,
        !args.no_switch,
    );
    saved
        .map_err(|e| revoking(&api, &secret, e))?
        .warn_if_fell_back();
    Ok(LoginReport {
        user_id: me.user_id.unwrap_or_default(),
        email: me.email.unwrap_or_default(),
        name: me.name.unwrap_or_default(),
        workspace_name: me.workspace_name.unwrap_or_default(),
        profile: name.clone(),
        user: name,
        auth_type: secret.auth_type().as_str(),
    })
}

/// The device flow: show the code, open the browser, poll, and check the token.
fn device_login(api: &Api) -> Result<(Me, Credential)> {
    let auth = api.authorize()?;
    let complete = auth.verification_uri_complete.as_deref();
    // The URL that carries the code when it is one a browser may be handed, else the
    // plain one (SPEC §5).
    let launch = browser::launch(
        complete
            .filter(|u| browser::is_openable(u))
            .unwrap_or(&auth.verification_uri),
    );
    ui::device_instructions(
        &auth.user_code,
        &auth.verification_uri,
        complete,
        launch.elsewhere(),
    );
    launch.start();
    // Both may have a fraction (`600.0`, `1.5`); the loop never polls faster than 1 s.
    let interval = auth.interval.unwrap_or(device_flow::DEFAULT_INTERVAL);
    let expires_in = auth.expires_in.min(Duration::from_secs(MAX_EXPIRES_IN));
    let token = device_flow::wait_for_token(interval, expires_in, &mut SystemClock, || {
        api.poll(&auth.device_code)
    })?;
    let cred = credential_from(token, None);
    let me = api.me(Auth::Bearer(&cred.access_token))?;
    Ok((me, Credential::OAuth(cred)))
}

/// Asks for the account label on the terminal.
fn ask_label() -> Result<String> {
    let label = ui::prompt("Label for this API key: ")?;
    store::check_name(&label).map_err(Error::usage)?;
    Ok(label)
}

/// The account name of a browser login, from the email the server gave (SPEC §7): it
/// must pass the rules of any account name (SPEC §9), and is cut to fit them, saying
/// so, when the email is too long.
fn email_name(me: &Me, remote: &str) -> Result<String> {
    let email = me.email.as_deref().map(str::trim).unwrap_or_default();
    if email.is_empty() {
        return Err(Error::failure(
            "the server did not say which email this account has",
        ));
    }
    let (name, cut) = store::oauth_profile_name(email, remote);
    store::check_name(&name)
        .map_err(|e| Error::failure(format!("the server sent an unusable email: {e}")))?;
    if cut {
        ui::warn(&format!(
            "the email is too long for an account name; the account is named {name:?}"
        ));
    }
    Ok(name)
}

/// A browser login's session that will not be stored is revoked (best effort) before
/// `error` is reported.
fn revoking(api: &Api, secret: &Credential, error: Error) -> Error {
    if let Credential::OAuth(cred) = secret
        && let Err(e) = api.revoke(&cred.access_token)
    {
        ui::warn(&format!("could not revoke the session on the server: {e}"));
    }
    error
}

/// The API key: the first line of stdin, or a no-echo prompt on a terminal.
fn read_api_key() -> Result<Secret> {
    let key = Secret::new(if terminal::stdin_is_terminal() {
        ui::prompt_secret("Paste your API key: ")?
    } else {
        ui::read_first_line("the API key", MAX_KEY)?
    });
    if key.is_empty() {
        return Err(Error::usage("the API key is empty"));
    }
    // An HTTP header carries it: printable ASCII only (SPEC §9); the key is not shown.
    if !key.expose().bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::usage(
            "the API key must be printable ASCII without spaces or control characters",
        ));
    }
    Ok(key)
}
