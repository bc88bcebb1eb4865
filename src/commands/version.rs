//! `baseten version`: the official CLI's command of that name.

use serde::Serialize;

use crate::output::Report;

/// The result of `version`.
#[derive(Serialize)]
pub struct VersionReport {
    /// The version of this build (Cargo.toml's).
    pub version: &'static str,
}

impl Report for VersionReport {
    fn lines(&self) -> Vec<String> {
        vec![self.version.to_owned()]
    }
}

/// This program's version.
pub fn run() -> VersionReport {
    VersionReport {
        version: env!("CARGO_PKG_VERSION"),
    }
}
