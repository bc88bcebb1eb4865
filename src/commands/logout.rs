//! `baseten auth logout`: forget the active account of the remote.

use serde::Serialize;

use super::require_active;
use crate::error::Result;
use crate::output::Report;
use crate::remote::Remote;
use crate::store::Store;

/// The result of `logout`.
#[derive(Serialize)]
pub struct LogoutReport {
    pub user: String,
}

impl Report for LogoutReport {
    fn text(&self) -> String {
        format!("Logged out {}", self.user)
    }
}

/// Runs `logout` for the active account of `remote`.
pub fn run(remote: &Remote) -> Result<LogoutReport> {
    let store = Store::open()?;
    let account = require_active(&store, remote).map_err(|_| {
        crate::error::Error::failure(format!("no active user for {}", remote.url))
    })?;
    store.remove(&remote.url, &account.label)?;
    Ok(LogoutReport {
        user: account.label,
    })
}
