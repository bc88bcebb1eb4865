//! `make demo`: the main job, offline. Starts a small Baseten-like server on 127.0.0.1
//! (the integration tests' server), then runs the real `baseten` binary through a device
//! login that the server approves after a few polls, `status`, `token --jq`, and
//! `logout`, showing exactly what a user sees. Usage: `demo <path to baseten>`.
//!
//! `demo --serve` only runs the server, for scripts (the scratch smoke test): it prints
//! the server's URL on one line and serves until its stdin is closed.

// Test code: it prints what it shows or measures, and a panic is a failed run, so the
// crate's lints against printing and unwrapping (Cargo.toml) do not apply here.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used
)]

#[path = "../tests/common/fake_api.rs"]
mod fake_api;
#[path = "../tests/common/server.rs"]
mod server;

use std::io::{Read, Write};
use std::process::{Command, ExitCode};
use std::sync::Arc;

use fake_api::FakeApi;
use server::Server;

/// Polls answered `authorization_pending` before the demo server approves.
const PENDING_POLLS: usize = 2;

fn main() -> ExitCode {
    let Some(bin) = std::env::args().nth(1) else {
        eprintln!("usage: demo <path to the baseten binary>");
        return ExitCode::from(2);
    };
    if bin == "--serve" {
        let api = Arc::new(FakeApi::new(PENDING_POLLS));
        let server = Server::start(move |r| api.respond(r));
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "{}", server.url()).and_then(|()| stdout.flush());
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        return ExitCode::SUCCESS;
    }
    let api = Arc::new(FakeApi::new(PENDING_POLLS));
    let server = Server::start(move |r| api.respond(r));
    let url = server.url();
    let config = std::env::temp_dir().join(format!("baseten-demo-{}", std::process::id()));
    let steps: [&[&str]; 5] = [
        &["auth", "login", "--web"],
        &["auth", "status"],
        &["auth", "token", "--jq", "{user, auth_type}"],
        &["auth", "logout"],
        &["auth", "status"],
    ];
    println!("Demo server at {url}; config in {}\n", config.display());
    let mut ok = true;
    for args in steps {
        println!("$ baseten {}", args.join(" "));
        let status = Command::new(&bin)
            .args(args)
            .env("BASETEN_REMOTE_URL", &url)
            .env("BASETEN_MANAGEMENT_API_URL_OVERRIDE", &url)
            .env("BASETEN_CONFIG_DIR", &config)
            .env("BROWSER", "true")
            .env_remove("BASETEN_API_KEY")
            .status();
        match status {
            Ok(s) => println!("(exit {})\n", s.code().unwrap_or(-1)),
            Err(e) => {
                eprintln!("cannot run {bin}: {e}");
                ok = false;
                break;
            }
        }
    }
    let _ = std::fs::remove_dir_all(&config);
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
