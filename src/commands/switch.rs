//! `baseten auth switch`: make another stored account of the remote the active one.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::output::Report;
use crate::remote::Remote;
use crate::store::Store;

/// The result of `switch`.
#[derive(Serialize)]
pub struct SwitchReport {
    pub user: String,
}

impl Report for SwitchReport {
    fn text(&self) -> String {
        format!("Switched to {}", self.user)
    }
}

/// Runs `switch`; `user` is `None` only on a terminal, where the user picks one.
pub fn run(remote: &Remote, user: Option<String>) -> Result<SwitchReport> {
    let store = Store::open()?;
    let user = match user {
        Some(user) => user,
        None => {
            let (labels, _) = store.accounts(&remote.url)?;
            if labels.is_empty() {
                return Err(super::not_logged_in(remote));
            }
            return Err(Error::failure("interactive choice is not available yet; pass --user"));
        }
    };
    store.switch(&remote.url, &user)?;
    Ok(SwitchReport { user })
}
