//! What a program writes to a pseudo-terminal, collected on a thread as it arrives, for
//! the tests that drive the binary on a pty (`terminal.rs`, `signals.rs`). Test files
//! include it as `#[path = "common/screen.rs"] mod screen;`.

use std::fs::File;
use std::io::Read;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Everything read from a pty's master so far.
pub struct Screen {
    seen: Arc<(Mutex<Vec<u8>>, Condvar)>,
}

impl Screen {
    /// Starts reading `master` (a clone of it) until the slave side is closed by
    /// everyone (EIO): the child is gone.
    pub fn collect(master: &File) -> Screen {
        let seen = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let mut reader = master.try_clone().expect("dup master");
        let sink = Arc::clone(&seen);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        sink.0.lock().unwrap().extend_from_slice(&buf[..n]);
                        sink.1.notify_all();
                    }
                }
            }
        });
        Screen { seen }
    }

    /// Everything written so far (and what the terminal echoed), as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen.0.lock().unwrap()).into_owned()
    }

    /// Waits until the text satisfies `done`, at most `limit`; panics with the text,
    /// naming `what`, when it does not.
    #[track_caller]
    pub fn wait_for(&self, what: &str, limit: Duration, done: impl Fn(&str) -> bool) -> String {
        let (lock, changed) = &*self.seen;
        let deadline = Instant::now() + limit;
        let mut seen = lock.lock().unwrap();
        loop {
            let text = String::from_utf8_lossy(&seen).into_owned();
            if done(&text) {
                return text;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {what}; output: {text:?}"
            );
            seen = changed.wait_timeout(seen, left).unwrap().0;
        }
    }
}
