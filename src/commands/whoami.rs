//! `baseten whoami`: ask the server who the credential in use belongs to. It is the
//! online check that `status`, which reads the store only, is not (SPEC §6b).

use serde::Serialize;

use super::{auth_of, choose_account, not_logged_in};
use crate::api::Api;
use crate::cli::args::Selection;
use crate::error::Result;
use crate::output::Report;
use crate::remote::Remote;
use crate::session::usable_saving_refresh;
use crate::store::{AuthType, Credential, Store};

/// The result of `whoami`: the server's answer, null where it gave nothing.
#[derive(Serialize)]
pub struct WhoamiReport {
    /// The account's id on the platform.
    pub user_id: Option<String>,
    /// The e-mail address it logs in with.
    pub email: Option<String>,
    /// The person's display name.
    pub name: Option<String>,
    /// The workspace the credential acts in.
    pub workspace_name: Option<String>,
}

impl Report for WhoamiReport {
    /// The official CLI's layout: `User ID:` always, the others only when not empty.
    fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "User ID:    {}",
            self.user_id.as_deref().unwrap_or_default()
        )];
        for (label, value) in [
            ("Email:      ", &self.email),
            ("Name:       ", &self.name),
            ("Workspace:  ", &self.workspace_name),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                lines.push(format!("{label}{value}"));
            }
        }
        lines
    }
}

/// Runs `whoami` for the credential `token` would use: `BASETEN_API_KEY` unless
/// `--user`, else the chosen account's secret, an expired OAuth token refreshed and
/// saved first.
pub fn run(remote: &Remote, selection: Selection) -> Result<WhoamiReport> {
    let me = match selection.env_key_in_use() {
        Some(env) => Api::new(remote)?.whoami(auth_of(AuthType::ApiKey, &env.key), env.var)?,
        None => {
            let store = Store::open(&remote.url)?;
            let (account, remote, _) = choose_account(
                &super::read(&store.read()?)?,
                remote,
                &selection,
                not_logged_in,
            )?;
            let api = Api::new(&remote)?;
            let secret = match store.secret(&account)? {
                Credential::ApiKey(key) => key,
                Credential::OAuth(cred) => {
                    usable_saving_refresh(&store, &api, &account, cred)?.access_token
                }
            };
            api.whoami(auth_of(account.auth_type, &secret), &account.name)?
        }
    };
    Ok(WhoamiReport {
        user_id: me.user_id,
        email: me.email,
        name: me.name,
        workspace_name: me.workspace_name,
    })
}
