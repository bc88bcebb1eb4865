//! The raw arguments of a leaf command, as the flags typed them and before anything is
//! resolved: the first of the parser's two stages. A leaf of `cli/`: the table in
//! [`super::defs`] writes into it, resolution reads it, and it depends on neither.

use crate::output::Format;

/// A leaf command's flags as given. Values that the table can check on their own are
/// typed here (`--output` is a [`Format`]); those that need the environment or other
/// flags (the remote, names, the jq filter) stay text until resolution.
#[derive(Debug, Default)]
pub struct LowArgs {
    /// `--output`.
    pub output: Option<Format>,
    /// `--jq`, compiled at resolution.
    pub jq: Option<String>,
    /// `--remote-url`, parsed at resolution.
    pub remote_url: Option<String>,
    /// `-v`, `--verbose`.
    pub verbose: bool,
    /// `-h`, `--help`.
    pub help: bool,
    /// `--web`.
    pub web: bool,
    /// `--with-api-key`.
    pub with_api_key: bool,
    /// `--label`.
    pub label: Option<String>,
    /// Login's `--profile`, the official CLI's spelling of `--label`.
    pub profile: Option<String>,
    /// `--insecure-storage`.
    pub insecure_storage: bool,
    /// `--no-switch`.
    pub no_switch: bool,
    /// `--user`, or its other spelling `--profile` outside login.
    pub user: Option<String>,
    /// `--all`.
    pub all: bool,
    /// `--header`.
    pub header: bool,
}

/// The shells `baseten completion` writes scripts for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shell {
    /// GNU bash.
    Bash,
    /// zsh.
    Zsh,
    /// fish.
    Fish,
}

impl Shell {
    /// Every shell, in help order.
    pub const ALL: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

    /// The name `baseten completion` takes.
    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }

    /// The shell named `name`.
    pub fn from_name(name: &str) -> Option<Shell> {
        Shell::ALL.into_iter().find(|s| s.name() == name)
    }

    /// `bash, zsh, fish` (with `sep` between).
    pub fn names(sep: &str) -> String {
        Shell::ALL.map(Shell::name).join(sep)
    }
}
