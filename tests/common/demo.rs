//! `make demo`: the main job, offline. Starts a small Baseten-like server on 127.0.0.1
//! (the integration tests' server), then runs the real `baseten` binary through a device
//! login that the server approves after a few polls, `status`, `token --jq`, and
//! `logout`, showing exactly what a user sees. Usage: `demo <path to baseten>`.

#[path = "server.rs"]
mod server;

use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use server::{Reply, Request, Server};

/// Polls answered `authorization_pending` before the demo server approves.
const PENDING_POLLS: usize = 2;

fn main() -> ExitCode {
    let Some(bin) = std::env::args().nth(1) else {
        eprintln!("usage: demo <path to the baseten binary>");
        return ExitCode::from(2);
    };
    let polls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&polls);
    let server = Server::start(move |r: &Request| respond(r, &counter));
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

/// The demo server's API: approves the device code after a few polls.
fn respond(r: &Request, polls: &AtomicUsize) -> Reply {
    match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/v1/users/auth/device/authorize") => Reply::json(
            200,
            r#"{"device_code":"demo-device-code","user_code":"WDJB-MJHT",
                "verification_uri":"https://app.baseten.co/device",
                "verification_uri_complete":"https://app.baseten.co/device?user_code=WDJB-MJHT",
                "expires_in":120,"interval":1}"#,
        ),
        ("POST", "/v1/users/auth/device/token") => {
            if polls.fetch_add(1, Ordering::SeqCst) < PENDING_POLLS {
                Reply::json(400, r#"{"error":"authorization_pending"}"#)
            } else {
                Reply::json(
                    200,
                    r#"{"access_token":"demo-access-token","refresh_token":"demo-refresh-token",
                        "expires_in":3600,"token_type":"Bearer"}"#,
                )
            }
        }
        ("GET", "/v1/users/me") => Reply::json(
            200,
            r#"{"user_id":"user_demo","email":"newcomer@example.com","name":"New Comer",
                "workspace_name":"Demo Workspace"}"#,
        ),
        ("POST", "/v1/users/auth/logout") => Reply::json(200, "{}"),
        _ => Reply::json(404, r#"{"error":"not_found"}"#),
    }
}
