//! Everything about the person at the terminal: is anyone there, prompts (with echo off
//! for secrets), Ctrl-C, opening a browser, stripping control characters from text that
//! came from outside, keeping secrets off stderr, and `-v` diagnostics.

use std::borrow::Cow;
use std::io::{BufRead, IsTerminal, Write};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

static VERBOSE: AtomicBool = AtomicBool::new(false);
/// Every secret this run has seen; stderr output never shows them.
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Turns `-v` diagnostics on for the rest of the run.
pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

/// Whether `-v` was given.
pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Prints a `-v` diagnostic line to stderr. Callers never pass secrets.
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::term::verbose() {
            eprintln!("debug: {}", $crate::term::for_stderr(&format!($($arg)*)));
        }
    };
}
pub(crate) use debug;

/// Prints a `warning:` line to stderr.
pub fn warn(message: &str) {
    eprintln!("warning: {}", for_stderr(message));
}

/// Prints an informational line to stderr.
pub fn note(message: &str) {
    eprintln!("{}", for_stderr(message));
}

/// Prints an `error:` line to stderr.
pub fn error(message: &str) {
    eprintln!("error: {}", for_stderr(message));
}

/// Marks `value` as a secret (an API key, token or device code) so that no error,
/// warning or diagnostic can show it, even when a server echoes it back.
pub fn secret(value: &str) {
    if value.len() >= 4 {
        let mut all = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
        if !all.iter().any(|s| s == value) {
            all.push(value.to_owned());
        }
    }
}

/// Text for stderr: known secrets replaced, control characters removed.
pub fn for_stderr(text: &str) -> String {
    let mut text = text.to_owned();
    for s in SECRETS.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        if text.contains(s.as_str()) {
            text = text.replace(s.as_str(), "[redacted]");
        }
    }
    clean(&text).into_owned()
}

/// Whether a person can answer prompts: stdin is a terminal.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Removes control characters (C0, DEL, C1), so text from a server or a file cannot move
/// the cursor, recolour or retitle the user's terminal.
pub fn clean(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_control) {
        Cow::Owned(s.chars().filter(|c| !c.is_control()).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// Asks `question` on stderr and reads one line from stdin (trimmed).
pub fn prompt(question: &str) -> Result<String> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    read_line()
}

/// Like [`prompt`], with the terminal's echo off so the answer is not shown.
pub fn prompt_secret(question: &str) -> Result<String> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let answer = {
        let _echo = EchoOff::new();
        read_line()
    };
    eprintln!();
    answer
}

/// Offers numbered `options` on stderr and returns the index chosen.
pub fn choose(question: &str, options: &[String]) -> Result<usize> {
    eprintln!("{question}");
    for (i, o) in options.iter().enumerate() {
        eprintln!("  {}. {}", i + 1, clean(o));
    }
    loop {
        let answer = prompt(&format!("Enter a number [1-{}]: ", options.len()))?;
        match answer.parse::<usize>() {
            Ok(n) if (1..=options.len()).contains(&n) => return Ok(n - 1),
            _ => eprintln!("Please enter a number from 1 to {}.", options.len()),
        }
    }
}

fn read_line() -> Result<String> {
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) => Err(Error::failure("no answer: end of input")),
        Ok(_) => Ok(line.trim().to_owned()),
        Err(e) => Err(Error::failure(format!(
            "cannot read from the terminal: {e}"
        ))),
    }
}

/// Turns terminal echo off while alive; Ctrl-C meanwhile restores it before exiting.
struct EchoOff;

#[cfg(unix)]
mod echo {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// The terminal settings to restore, and whether they need restoring.
    static SAVED: OnceLock<libc::termios> = OnceLock::new();
    static OFF: AtomicBool = AtomicBool::new(false);

    pub fn off() {
        // SAFETY: termios is plain data; tcgetattr fills it or fails.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(0, &mut t) } != 0 {
            return;
        }
        let saved = *SAVED.get_or_init(|| t);
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        quiet.c_lflag |= libc::ECHONL;
        // SAFETY: fd 0 is a terminal (tcgetattr succeeded) and `quiet` is initialized.
        if unsafe { libc::tcsetattr(0, libc::TCSANOW, &quiet) } == 0 {
            OFF.store(true, Ordering::SeqCst);
        }
    }

    /// Async-signal-safe: an atomic, a lock-free read and tcsetattr.
    pub fn restore() {
        if OFF.swap(false, Ordering::SeqCst)
            && let Some(t) = SAVED.get()
        {
            // SAFETY: restores settings read from the same terminal.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, t) };
        }
    }

    extern "C" fn on_interrupt(_: libc::c_int) {
        restore();
        // SAFETY: write and _exit are async-signal-safe.
        unsafe {
            libc::write(2, b"\n".as_ptr().cast(), 1);
            libc::_exit(crate::error::INTERRUPTED);
        }
    }

    pub fn exit_on_interrupt() {
        let handler = on_interrupt as extern "C" fn(libc::c_int);
        // SAFETY: installs a handler that only calls async-signal-safe functions.
        unsafe { libc::signal(libc::SIGINT, handler as libc::sighandler_t) };
    }
}

#[cfg(not(unix))]
mod echo {
    pub fn off() {}
    pub fn restore() {}
    pub fn exit_on_interrupt() {}
}

impl EchoOff {
    fn new() -> EchoOff {
        echo::off();
        EchoOff
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        echo::restore();
    }
}

/// Makes Ctrl-C exit with status 130 (restoring terminal echo first) instead of dying
/// by the signal, so scripts see the documented exit code.
pub fn exit_on_interrupt() {
    echo::exit_on_interrupt();
}

/// Opens `url` in a browser, best effort: only plain `http(s)` URLs, `$BROWSER` or the
/// platform opener, started without a shell, output discarded, never waited on.
pub fn open_browser(url: &str) {
    let lower = url.to_ascii_lowercase();
    let plain = url.chars().all(|c| c.is_ascii_graphic());
    if !plain || !(lower.starts_with("https://") || lower.starts_with("http://")) {
        debug!("not opening a browser for a URL that is not plain http(s)");
        return;
    }
    let (program, args): (String, &[&str]) = match std::env::var("BROWSER") {
        Ok(b) if !b.trim().is_empty() => (b.trim().to_owned(), &[]),
        _ if cfg!(target_os = "macos") => ("open".into(), &[]),
        _ if cfg!(windows) => ("rundll32".into(), &["url.dll,FileProtocolHandler"]),
        _ => ("xdg-open".into(), &[]),
    };
    let started = Command::new(&program)
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = started {
        debug!("could not start {program}: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::{clean, for_stderr, secret};

    #[test]
    fn stderr_text_never_shows_a_secret() {
        secret("sk-test-4242");
        secret("abc");
        assert_eq!(
            for_stderr("key sk-test-4242 rejected\u{1b}[0m; abc"),
            "key [redacted] rejected[0m; abc"
        );
    }

    #[test]
    fn clean_strips_c0_del_and_c1() {
        assert_eq!(
            clean("a\u{1b}[31mb\u{7}c\u{7f}d\u{9b}e\u{85}f\r\n"),
            "a[31mbcdef"
        );
        assert_eq!(clean("plain é ✓"), "plain é ✓");
    }
}
