//! The one place that talks to the person at the terminal on stderr: `warning:` and
//! `error:` lines, notes, `-v` diagnostics and prompts. Everything it prints has known
//! secrets redacted and control and format characters removed; commands and the layers
//! below hand it what happened and never print themselves.

use std::io::{BufRead, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::sanitize::{clean, excerpt};
use crate::secret;
use crate::terminal::EchoOff;

static VERBOSE: AtomicBool = AtomicBool::new(false);

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
        if $crate::ui::verbose() {
            $crate::ui::line(&format!("debug: {}", $crate::ui::for_stderr(&format!($($arg)*))));
        }
    };
}
pub(crate) use debug;

/// Writes `text` to stderr as it is. A stderr that cannot be written (`2>/dev/full`, a
/// closed pipe) is ignored (SPEC §9): losing a message must not end the run, whereas
/// `eprint!` would panic and abort.
fn raw(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

/// Writes `text` and a newline to stderr, ignoring failures like [`raw`].
pub fn line(text: &str) {
    raw(&format!("{text}\n"));
}

/// Prints a `warning:` line to stderr.
pub fn warn(message: &str) {
    line(&format!("warning: {}", for_stderr(message)));
}

/// Prints an informational line to stderr.
pub fn note(message: &str) {
    line(&for_stderr(message));
}

/// Prints an `error:` line to stderr.
pub fn error(message: &str) {
    line(&format!("error: {}", for_stderr(message)));
}

/// Text for stderr: known secrets replaced, control and format characters removed.
pub fn for_stderr(text: &str) -> String {
    clean(&secret::redact(text)).into_owned()
}

/// Asks `question` on stderr and reads one line from stdin (trimmed).
pub fn prompt(question: &str) -> Result<String> {
    raw(question);
    read_line()
}

/// Like [`prompt`], with the terminal's echo off so the answer is not shown.
pub fn prompt_secret(question: &str) -> Result<String> {
    raw(question);
    let answer = {
        let _echo = EchoOff::start();
        read_line()
    };
    line("");
    answer
}

/// Offers numbered `options` on stderr and returns the index chosen.
pub fn choose(question: &str, options: &[String]) -> Result<usize> {
    line(question);
    for (i, o) in options.iter().enumerate() {
        line(&format!("  {}. {}", i + 1, clean(o)));
    }
    loop {
        let answer = prompt(&format!("Enter a number [1-{}]: ", options.len()))?;
        match answer.parse::<usize>() {
            Ok(n) if (1..=options.len()).contains(&n) => return Ok(n - 1),
            _ => line(&format!(
                "Please enter a number from 1 to {}.",
                options.len()
            )),
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

/// Reads the first line of stdin (not a terminal), without its line ending and
/// surrounding whitespace; at most `max` bytes are accepted. For input that is a secret:
/// no error shows any of it.
pub fn read_first_line(what: &str, max: usize) -> Result<String> {
    let mut line = Vec::new();
    std::io::stdin()
        .lock()
        .take(max as u64 + 2)
        .read_until(b'\n', &mut line)
        .map_err(|e| Error::failure(format!("cannot read {what} from stdin: {e}")))?;
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    if line.len() > max {
        return Err(Error::usage(format!("{what} is longer than {max} bytes")));
    }
    Ok(String::from_utf8(line)
        .map_err(|_| Error::usage(format!("{what} is not valid UTF-8")))?
        .trim()
        .to_owned())
}

/// Tells the person what to do for a device-flow login (SPEC §5): the code first (it
/// guards against phishing), the URL, the one that carries the code, where no browser
/// can show up here (`elsewhere`: why) that it is to be opened on another device, then
/// that the program is waiting. The code and URLs came from the server, so each is a
/// cleaned excerpt.
pub fn device_instructions(
    user_code: &str,
    uri: &str,
    complete: Option<&str>,
    elsewhere: Option<&str>,
) {
    line(&format!(
        "First copy your one-time code: {}",
        excerpt(user_code)
    ));
    line(&format!(
        "Then open this URL in a browser: {}",
        excerpt(uri)
    ));
    if let Some(complete) = complete {
        line(&format!(
            "(or open {} to enter the code automatically)",
            excerpt(complete)
        ));
    }
    if let Some(why) = elsewhere {
        line(&format!(
            "No browser is started: {why}. Open the URL on another device."
        ));
    }
    line("Waiting for authorization in the browser...");
}
