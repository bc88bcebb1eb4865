//! `baseten auth token`: print the active credential's secret for scripts.

use serde::Serialize;

use super::{choose_account, not_logged_in};
use crate::api::Api;
use crate::cli::args::Selection;
use crate::error::Result;
use crate::output::Report;
use crate::remote::Remote;
use crate::secret::Secret;
use crate::session::usable_saving_refresh;
use crate::store::{AuthType, Credential, Store};

/// The result of `token`. Its text is the secret alone, or with `--header` the whole
/// `Authorization` header line.
#[derive(Serialize)]
pub struct TokenReport {
    /// The stored account, under both names of SPEC §2; null for `BASETEN_API_KEY`.
    pub profile: Option<String>,
    /// The same as `profile`.
    pub user: Option<String>,
    /// `api_key` or `oauth`.
    pub auth_type: &'static str,
    /// Serialized as the value itself: printing it is this command's purpose.
    pub token: Secret,
    /// The `Authorization` header value Baseten expects for this kind of credential.
    pub header: Secret,
    /// Text output is the header line rather than the bare secret.
    #[serde(skip)]
    pub header_line: bool,
}

impl Report for TokenReport {
    fn lines(&self) -> Vec<String> {
        vec![match self.header_line {
            true => format!("Authorization: {}", self.header.expose()),
            false => self.token.expose().to_owned(),
        }]
    }
}

impl TokenReport {
    fn new(profile: Option<String>, auth_type: AuthType, token: Secret, header_line: bool) -> Self {
        TokenReport {
            header: Secret::new(super::auth_of(auth_type, &token).header_value()),
            user: profile.clone(),
            profile,
            auth_type: auth_type.as_str(),
            token,
            header_line,
        }
    }
}

/// Runs `token` for the account `selection` picks; `BASETEN_API_KEY` wins over all but
/// `--user`.
pub fn run(remote: &Remote, selection: Selection, header: bool) -> Result<TokenReport> {
    if let Some(key) = selection.env_key_in_use() {
        return Ok(TokenReport::new(
            None,
            AuthType::ApiKey,
            key.key.clone(),
            header,
        ));
    }
    let store = Store::open(&remote.url)?;
    let (account, remote, _) = choose_account(
        &super::read(&store.read()?)?,
        remote,
        &selection,
        not_logged_in,
    )?;
    let token = match store.secret(&account)? {
        Credential::ApiKey(key) => key,
        Credential::OAuth(cred) => {
            usable_saving_refresh(&store, &Api::new(&remote)?, &account, cred)?.access_token
        }
    };
    Ok(TokenReport::new(
        Some(account.name),
        account.auth_type,
        token,
        header,
    ))
}
