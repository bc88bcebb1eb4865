//! Everything about the terminal: is anyone there, stripping control characters from
//! text that came from outside, and `-v` diagnostics on stderr.

use std::borrow::Cow;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

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
        if $crate::term::verbose() {
            eprintln!("debug: {}", $crate::term::clean(&format!($($arg)*)));
        }
    };
}
pub(crate) use debug;

/// Prints a `warning:` line to stderr.
pub fn warn(message: &str) {
    eprintln!("warning: {}", clean(message));
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

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn clean_strips_c0_del_and_c1() {
        assert_eq!(clean("a\u{1b}[31mb\u{7}c\u{7f}d\u{9b}e\u{85}f\r\n"), "a[31mbcdef");
        assert_eq!(clean("plain é ✓"), "plain é ✓");
    }
}
