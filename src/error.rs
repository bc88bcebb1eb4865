//! The one error type of the program. Every failure is a value of [`Error`], and the
//! variant decides the exit code (SPEC §8), so no caller has to remember the table.

use std::fmt;

/// Everything that can end a command unsuccessfully.
#[derive(Debug)]
pub enum Error {
    /// The command line is wrong (exit 2). `usage` is the usage line of the command.
    Usage {
        /// What is wrong, in one line.
        message: String,
        /// The command's usage line, printed after the message.
        usage: String,
    },
    /// A general failure: not logged in, unknown account, network, store (exit 1).
    Failure(String),
    /// The server refused the credentials, or the device flow was denied/expired (exit 3).
    Auth(String),
    /// The server answered 404 (exit 4).
    NotFound(String),
    /// The server rejected the request with another 4xx (exit 5).
    Rejected(String),
    /// The server failed with a 5xx (exit 6).
    Server(String),
}

/// Exit code after Ctrl-C; the signal handler in `term` exits with it directly.
#[cfg(unix)]
pub const INTERRUPTED: i32 = 130;

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A general failure (exit 1) with a message.
    pub fn failure(message: impl Into<String>) -> Self {
        Error::Failure(message.into())
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Failure(_) => 1,
            Error::Usage { .. } => 2,
            Error::Auth(_) => 3,
            Error::NotFound(_) => 4,
            Error::Rejected(_) => 5,
            Error::Server(_) => 6,
        }
    }

    /// A usage error raised while running a command; the command's usage line is added
    /// by [`Error::with_usage`] on the way out.
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            usage: String::new(),
        }
    }

    /// Fills in the usage line of a usage error that has none yet.
    pub fn with_usage(self, line: impl FnOnce() -> String) -> Self {
        match self {
            Error::Usage { message, usage } if usage.is_empty() => Error::Usage {
                message,
                usage: line(),
            },
            e => e,
        }
    }

    /// The usage line to show after the message, for usage errors.
    pub fn usage_line(&self) -> Option<&str> {
        match self {
            Error::Usage { usage, .. } if !usage.is_empty() => Some(usage),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage { message, .. } => f.write_str(message),
            Error::Failure(m)
            | Error::Auth(m)
            | Error::NotFound(m)
            | Error::Rejected(m)
            | Error::Server(m) => f.write_str(m),
        }
    }
}
