//! `baseten auth token`: print the active credential's secret for scripts.

use serde::Serialize;

use super::oauth::usable_saving_refresh;
use super::{choose_account, not_logged_in};
use crate::api::Api;
use crate::cli::args::Selection;
use crate::error::Result;
use crate::output::Report;
use crate::remote::Remote;
use crate::secret::Secret;
use crate::store::{AuthType, Credential, Store};

/// The result of `token`. Its text is the secret alone.
#[derive(Serialize)]
pub struct TokenReport {
    pub user: Option<String>,
    pub auth_type: &'static str,
    /// Serialized as the value itself: printing it is this command's purpose.
    pub token: Secret,
}

impl Report for TokenReport {
    fn lines(&self) -> Vec<String> {
        vec![self.token.expose().to_owned()]
    }
}

/// Runs `token` for the account `selection` picks; `BASETEN_API_KEY` wins over all but
/// `--user`.
pub fn run(remote: &Remote, selection: Selection) -> Result<TokenReport> {
    if let Some(key) = selection.env_key_in_use() {
        return Ok(TokenReport {
            user: None,
            auth_type: AuthType::ApiKey.as_str(),
            token: key.clone(),
        });
    }
    let store = Store::open(&remote.url)?;
    let (account, remote, _) =
        choose_account(&super::read(&store)?, remote, &selection, not_logged_in)?;
    let auth_type = account.auth_type.as_str();
    let token = match store.secret(&account)? {
        Credential::ApiKey(key) => key,
        Credential::OAuth(cred) => {
            usable_saving_refresh(&store, &Api::new(&remote.api), &account, cred)?.access_token
        }
    };
    Ok(TokenReport {
        user: Some(account.name),
        auth_type,
        token,
    })
}
