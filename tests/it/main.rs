//! The integration tests: one crate, so `cargo test` links one binary and runs every test
//! of it side by side. Each module drives the real `baseten` binary; the helpers they
//! share live in `tests/common/` (also used by the demo and the bench).

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
mod ci_secrets;
mod cli;
mod commands;
mod crash;
mod docs;
mod dropin;
mod hostile_input;
mod hostile_local;
mod hostile_server;
mod input_rules;
mod jq;
mod keyring;
mod keyring_fallback;
mod login_api_key;
mod login_browser;
mod login_device;
mod official_store;
mod output;
mod proxy;
mod refresh_logout;
mod server_selftest;
mod signals;
mod store;
mod store_safety;
mod terminal;
mod tls;
