//! `make bench`: size, start-up time and peak memory of the real binary next to
//! `/bin/true` measured in the same run, and the device flow's overhead against the local
//! fake API, and how `status`, `token` and `status --all` grow with the number of stored
//! accounts (1, 1,000 and 10,000). A benchmark, not a test: it prints numbers (among them
//! how much longer `auth status --jq .user` and a `select`/`map` filter take than
//! `auth status`, and the 10k/1k ratios), and fails loudly only when the static binary is
//! over its size budget or `auth status` over its memory target.
//! Usage: `bench [static binary]` (the gnu binary is the one cargo built alongside).
//! The measurements use Unix process accounting: elsewhere the bench only says so.

// Test code: it prints what it shows or measures, and a panic is a failed run, so the
// crate's lints against printing and unwrapping (Cargo.toml) do not apply here.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used
)]

#[cfg(unix)]
#[path = "../tests/common/fake_api.rs"]
mod fake_api;
#[cfg(unix)]
#[path = "bench/measure.rs"]
mod measure;
#[cfg(unix)]
#[path = "../tests/common/server.rs"]
mod server;

use std::process::ExitCode;

#[cfg(unix)]
fn main() -> ExitCode {
    measure::main()
}

#[cfg(not(unix))]
fn main() -> ExitCode {
    eprintln!("bench: the measurements need Unix process accounting; run them on Linux");
    ExitCode::FAILURE
}
