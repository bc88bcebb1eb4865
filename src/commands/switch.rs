//! `baseten auth switch`: make another stored account of the remote the active one.

use serde::Serialize;

use crate::cli::args::Selection;
use crate::error::Result;
use crate::output::Report;
use crate::remote::Remote;
use crate::store::Store;
use crate::ui;

/// The result of `switch`: the new current profile, under both names of SPEC §2.
#[derive(Serialize)]
pub struct SwitchReport {
    /// The account now current on its remote.
    pub profile: String,
    /// The same as `profile`.
    pub user: String,
}

impl Report for SwitchReport {
    fn lines(&self) -> Vec<String> {
        vec![format!("Switched to {}", self.profile)]
    }
}

/// Runs `switch`; `user` is `None` only on a terminal, where the user picks an account:
/// of every remote, grouped by remote with the current profile marked, or of the given
/// remote only when one was given (SPEC §6). A named account is made active on its own
/// remote, which must be the one given when a remote is given (as for `--user`
/// everywhere, SPEC §6a).
pub fn run(remote: &Remote, user: Option<String>) -> Result<SwitchReport> {
    let store = Store::open(&remote.url)?;
    let contents = store.read()?;
    let snapshot = super::read(&contents)?;
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
            let current = snapshot.current()?.map(|a| a.name);
            let mut accounts = match remote.explicit {
                true => snapshot.accounts(&remote.url)?,
                false => snapshot.all()?,
            };
            if accounts.is_empty() {
                return Err(super::not_logged_in(remote));
            }
            super::group_by_remote(&mut accounts, |a| &a.remote);
            let shown: Vec<String> = accounts
                .iter()
                .map(|a| {
                    let mark = match current.as_ref() == Some(&a.name) {
                        true => " (current)",
                        false => "",
                    };
                    format!("{}: {}{mark}", a.remote, a.name)
                })
                .collect();
            let chosen = accounts.swap_remove(ui::choose("Switch to which account?", &shown)?);
            let remote = remote.of_account(&chosen.remote);
            (chosen.name, remote)
        }
    };
    store.switch(&remote.url, &user)?;
    Ok(SwitchReport {
        profile: user.clone(),
        user,
    })
}
