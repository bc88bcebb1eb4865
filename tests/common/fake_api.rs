//! A Baseten-like management API for the demo and the benchmark: a device flow that the
//! "user" approves after a set number of polls, who-am-I and logout. Built on the test
//! server (`server.rs`), which the including program declares as `mod server`.
#![allow(dead_code)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::server::{Reply, Request};

/// The fake API's state: how many polls it answers `authorization_pending` before it
/// approves, and when it approved.
pub struct FakeApi {
    pending_polls: usize,
    polls: AtomicUsize,
    approved_at: Mutex<Option<Instant>>,
}

impl FakeApi {
    /// An API that approves the device code on poll number `pending_polls + 1`.
    pub fn new(pending_polls: usize) -> FakeApi {
        FakeApi {
            pending_polls,
            polls: AtomicUsize::new(0),
            approved_at: Mutex::new(None),
        }
    }

    /// When the token response was handed to the server, if it was.
    pub fn approved_at(&self) -> Option<Instant> {
        *self.approved_at.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Answers one request.
    pub fn respond(&self, r: &Request) -> Reply {
        match (r.method.as_str(), r.path.as_str()) {
            ("POST", "/v1/users/auth/device/authorize") => Reply::json(
                200,
                r#"{"device_code":"demo-device-code","user_code":"WDJB-MJHT",
                    "verification_uri":"https://app.baseten.co/device",
                    "verification_uri_complete":"https://app.baseten.co/device?user_code=WDJB-MJHT",
                    "expires_in":120,"interval":1}"#,
            ),
            ("POST", "/v1/users/auth/device/token") => {
                if self.polls.fetch_add(1, Ordering::SeqCst) < self.pending_polls {
                    return Reply::json(400, r#"{"error":"authorization_pending"}"#);
                }
                *self.approved_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                Reply::json(
                    200,
                    r#"{"access_token":"demo-access-token","refresh_token":"demo-refresh-token",
                        "expires_in":3600,"token_type":"Bearer"}"#,
                )
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
}
