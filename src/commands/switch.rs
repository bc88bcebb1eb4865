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
    let store = Store::open()?;
    let user = match user {
        Some(user) => user,
        None => {
            let (labels, active) = store.accounts(&remote.url)?;
            if labels.is_empty() {
                return Err(super::not_logged_in(remote));
            }
            let shown: Vec<String> = labels
                .iter()
                .map(|l| match &active {
                    Some(a) if a == l => format!("{l} (active)"),
                    _ => l.clone(),
                })
                .collect();
            let question = format!("Which account of {} should be active?", remote.url);
            labels[term::choose(&question, &shown)?].clone()
        }
    };
    store.switch(&remote.url, &user)?;
    Ok(SwitchReport { user })
}
