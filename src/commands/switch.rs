//! `baseten auth switch`: make another stored account of the remote the active one.

use serde::Serialize;

use crate::error::Result;
use crate::output::Report;
use crate::remote::Remote;
use crate::store::Store;
use crate::term;

/// The result of `switch`.
#[derive(Serialize)]
pub struct SwitchReport {
    pub user: String,
}

impl Report for SwitchReport {
    fn lines(&self) -> Vec<String> {
        vec![format!("Switched to {}", self.user)]
    }
}

/// Runs `switch`; `user` is `None` only on a terminal, where the user picks one.
pub fn run(remote: &Remote, user: Option<String>) -> Result<SwitchReport> {
    let store = Store::open(&remote.url)?;
    let user = match user {
        Some(user) => user,
        None => {
            let accounts = store.read()?.accounts(&remote.url);
            if accounts.is_empty() {
                return Err(super::not_logged_in(remote));
            }
            let shown: Vec<String> = accounts
                .iter()
                .map(|a| match a.active {
                    true => format!("{} (active)", a.name),
                    false => a.name.clone(),
                })
                .collect();
            let question = format!("Which account of {} should be active?", remote.url);
            accounts[term::choose(&question, &shown)?].name.clone()
        }
    };
    store.switch(&remote.url, &user)?;
    Ok(SwitchReport { user })
}
