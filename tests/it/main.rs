//! The integration tests: one crate, so `cargo test` links one binary and runs every test
//! of it side by side. Each module drives the real `baseten` binary and covers one
//! feature: a command (`login`, `logout`, `switch`, `status`, `token`, `whoami`), several
//! accounts, the key from the environment, the store's file, the keyring, the legacy
//! layout, the network, the terminal, the output, the command line, the generated docs
//! or what `make install-files` installs. A new test goes with the feature it checks,
//! whatever it guards against. The helpers they share live in `tests/common/` (also used
//! by the demo and the bench), each defined once.

// Test code: it prints what it shows or measures, and a panic is a failed run, so the
// crate's lints against printing and unwrapping (Cargo.toml) do not apply here.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used
)]

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/fake_api.rs"]
mod fake_api;
#[path = "../common/proxy.rs"]
mod proxy_server;
#[cfg(unix)]
#[path = "../common/pty.rs"]
mod pty;
#[path = "../common/routes.rs"]
mod routes;
#[path = "../common/server.rs"]
mod server;
#[path = "../common/spec.rs"]
mod spec;
#[path = "../common/tls.rs"]
mod tls_server;

mod accounts;
mod cli;
mod docs;
mod env_key;
mod keyring;
mod legacy;
mod login;
mod logout;
mod net;
mod output;
mod packaging;
mod server_selftest;
mod status;
mod store;
mod switch;
mod terminal;
mod token;
mod whoami;
