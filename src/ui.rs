//! The one place that talks to the person at the terminal on stderr: `warning:` and
//! `error:` lines, notes, `-v` diagnostics and prompts. Everything it prints has known
//! secrets redacted and control and format characters removed; commands and the layers
//! below hand it what happened and never print themselves.

use std::io::{BufRead, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::sanitize::clean;
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
            eprintln!("debug: {}", $crate::ui::for_stderr(&format!($($arg)*)));
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

/// Text for stderr: known secrets replaced, control and format characters removed.
pub fn for_stderr(text: &str) -> String {
    clean(&secret::redact(text)).into_owned()
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
        let _echo = EchoOff::start();
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
/// that the program is waiting. The code and URLs came from the server, so they are
/// cleaned.
pub fn device_instructions(
    user_code: &str,
    uri: &str,
    complete: Option<&str>,
    elsewhere: Option<&str>,
) {
    eprintln!("First copy your one-time code: {}", for_stderr(user_code));
    eprintln!("Then open this URL in a browser: {}", for_stderr(uri));
    if let Some(complete) = complete {
        eprintln!(
            "(or open {} to enter the code automatically)",
            for_stderr(complete)
        );
    }
    if let Some(why) = elsewhere {
        eprintln!("No browser is started: {why}. Open the URL on another device.");
    }
    eprintln!("Waiting for authorization in the browser...");
}
