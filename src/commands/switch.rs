//! `baseten auth switch`: make another stored account of the remote the active one.

use serde::Serialize;

use crate::cli::args::Selection;
use crate::error::Result;
use crate::output::Report;
use crate::remote::Remote;
use crate::store::Store;
use crate::ui;

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

/// Runs `switch`; `user` is `None` only on a terminal, where the user picks one of the
/// remote's accounts. A named account is made active on its own remote, which must be
/// the one given when a remote is given (as for `--user` everywhere, SPEC §6a).
pub fn run(remote: &Remote, user: Option<String>) -> Result<SwitchReport> {
    let store = Store::open(&remote.url)?;
    let snapshot = super::read(&store)?;
    let (user, remote) = match user {
        Some(user) => {
            let named = Selection {
                user: Some(user),
                ..Selection::default()
            };
            let (account, remote, _) =
                super::choose_account(&snapshot, remote, &named, super::not_logged_in)?;
            (account.name, remote)
        }
        None => {
            let accounts = snapshot.accounts(&remote.url);
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
            let chosen = accounts[ui::choose(&question, &shown)?].name.clone();
            (chosen, remote.clone())
        }
    };
    store.switch(&remote.url, &user)?;
    Ok(SwitchReport { user })
}
