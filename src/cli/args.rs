//! The resolved arguments: everything a command run needs from the command line and the
//! environment, validated. [`super::resolve`] builds them; commands only ever see these.

use super::env_key::EnvKey;
use crate::output::OutputOptions;
use crate::remote::Remote;

/// How `login` obtains a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMethod {
    /// OAuth device flow in a browser.
    Web,
    /// An API key from stdin or a prompt.
    ApiKey,
}

/// What the user asked `login` to do.
#[derive(Debug)]
pub struct LoginArgs {
    /// `None`: ask on the terminal.
    pub method: Option<LoginMethod>,
    /// The profile name; `None`: the email for a browser login, asked on the terminal
    /// for an API key.
    pub label: Option<String>,
    /// Keep the secret in `auth.json`, never in the keyring.
    pub insecure_storage: bool,
    /// Store the account without making it active.
    pub no_switch: bool,
    /// `BASETEN_API_KEY` or `BASETEN_API_KEY_FILE`, whichever is set (it will keep taking
    /// precedence: login warns).
    pub env_key_var: Option<&'static str>,
}

/// Which credential a command uses (SPEC §3, §6a): `--user` > `BASETEN_API_KEY` >
/// `BASETEN_PROFILE` > the given remote's active account, or with no remote given the
/// current profile.
#[derive(Debug, Default)]
pub struct Selection {
    /// `--user` / `--profile`.
    pub user: Option<String>,
    /// `BASETEN_API_KEY` or `BASETEN_API_KEY_FILE`.
    pub env_key: Option<EnvKey>,
    /// `BASETEN_PROFILE`.
    pub profile_env: Option<String>,
}

impl Selection {
    /// The key from the environment, when it is the credential to use: set, and no
    /// `--user`.
    pub fn env_key_in_use(&self) -> Option<&EnvKey> {
        self.env_key.as_ref().filter(|_| self.user.is_none())
    }
}

/// A leaf command with its resolved, validated options.
#[derive(Debug)]
pub enum Command {
    /// `auth login`.
    Login(LoginArgs),
    /// `auth logout`.
    Logout(Selection),
    /// `auth logout --all`: every stored account.
    LogoutAll,
    /// `auth switch`.
    Switch {
        /// The account to switch to; `None`: ask (terminal only).
        user: Option<String>,
    },
    /// `auth status`, for the account `Selection` picks.
    Status(Selection),
    /// `auth status --all`: every stored account, and the key from the environment.
    StatusAll(Option<EnvKey>),
    /// `auth token`.
    Token {
        /// The account whose token is printed.
        selection: Selection,
        /// Print the whole `Authorization` header line.
        header: bool,
    },
    /// `whoami`: the server's answer for the credential `token` would use.
    Whoami(Selection),
    /// `version`.
    Version,
}

/// Everything a command run needs.
pub struct Args {
    /// The table entry of the command, for its usage line.
    pub def: &'static super::defs::CommandDef,
    /// The command to run, with its options.
    pub command: Command,
    /// How the result is printed.
    pub output: OutputOptions,
    /// The working remote.
    pub remote: Remote,
    /// `-v`: diagnostics on stderr.
    pub verbose: bool,
}
