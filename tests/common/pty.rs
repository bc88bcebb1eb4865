//! Pseudo-terminals for the tests that drive the binary on one (`terminal/`, and one in
//! `keyring/fallback.rs`): opening a pair, and what the program writes to it, collected
//! on a thread as it arrives. tests/it/main.rs includes it as `mod pty`.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Opens a pseudo-terminal pair: the master (the test's side) and the slave (the
/// program's terminal), both close-on-exec so no other child inherits them.
pub fn open() -> (File, OwnedFd) {
    let mut master: libc::c_int = -1;
    let mut slave: libc::c_int = -1;
    // SAFETY: openpty writes two fds into the out-parameters; the rest may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both fds were just opened and are owned by nobody else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    for fd in [&master, &slave] {
        // SAFETY: sets close-on-exec on an fd we own.
        unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    (File::from(master), slave)
}

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
