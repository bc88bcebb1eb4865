//! The one table of the command line: commands, flags, usage lines, environment
//! variables and exit codes. Parsing, `--help`, the man page and shell completions are
//! all generated from it, so none of them can drift from the others; the code reads the
//! environment through the names spelled here. It imports nothing from `cli/` but the
//! raw arguments its flags write into ([`super::low`]).

use super::low::LowArgs;
use crate::output::Format;
use crate::vars;

/// A flag's value as the parser hands it to the flag's `apply` function.
pub enum FlagValue {
    /// A boolean flag: `--web`, `--web=true`, `--web=false`.
    Bool(bool),
    /// A flag that takes a value: `--output json`, `-ojson`, `--output=json`.
    Text(String),
}

/// One flag: its names, docs, and the function that records it, typed, in the raw
/// arguments (or says why the value cannot be).
#[derive(Clone, Copy)]
pub struct FlagDef {
    /// Long name without the leading `--`.
    pub long: &'static str,
    /// Optional one-letter short name.
    pub short: Option<char>,
    /// Name of the value (`FORMAT`, `TEXT`, …); `None` for boolean flags.
    pub value_name: Option<&'static str>,
    /// The values it accepts, when it is a fixed set (used for errors and completions).
    pub choices: &'static [&'static str],
    /// Whether shells complete its value with the names of the stored accounts.
    pub complete_accounts: bool,
    /// One-line help.
    pub help: &'static str,
    /// Stores the value in the raw arguments.
    pub apply: fn(&mut LowArgs, FlagValue) -> Result<(), String>,
}

/// Which leaf command a table entry is; matched without wildcards, so a new command is
/// a compile error wherever it must be handled.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CommandKind {
    /// `auth login`.
    Login,
    /// `auth logout`.
    Logout,
    /// `auth switch`.
    Switch,
    /// `auth status`.
    Status,
    /// `auth token`.
    Token,
    /// `whoami`.
    Whoami,
    /// `version`.
    Version,
}

/// Where a leaf command sits: under `baseten auth`, or at the top level like the
/// official CLI's `whoami` and `version`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Group {
    /// Under `baseten auth`.
    Auth,
    /// At the top level.
    Top,
}

/// One leaf command: a command that runs and prints a result.
pub struct CommandDef {
    /// Which command it is.
    pub kind: CommandKind,
    /// Where it sits.
    pub group: Group,
    /// Subcommand name, e.g. `login`.
    pub name: &'static str,
    /// One-line summary.
    pub about: &'static str,
    /// Longer description for `--help` and the man page.
    pub description: &'static str,
    /// The command's own flags in synopsis form, e.g. `[--user TEXT]`.
    pub synopsis: &'static str,
    /// Flags specific to this command; [`COMMON`] flags are added to every command.
    pub flags: &'static [FlagDef],
    /// `(what it does, command line)` pairs.
    pub examples: &'static [(&'static str, &'static str)],
    /// What the command prints in text mode and which fields its JSON result has.
    pub output: &'static str,
}

/// The value of a flag that takes one.
fn text(v: FlagValue) -> Result<Option<String>, String> {
    match v {
        FlagValue::Text(s) => Ok(Some(s)),
        FlagValue::Bool(_) => Err("expected a value".into()),
    }
}

/// The value of `--output`: a format by name.
fn format(v: FlagValue) -> Result<Option<Format>, String> {
    text(v)?
        .map(|name| Format::from_name(&name).ok_or_else(|| format!("unknown format {name:?}")))
        .transpose()
}

/// The value of a boolean flag.
fn on(v: FlagValue) -> Result<bool, String> {
    match v {
        FlagValue::Bool(b) => Ok(b),
        FlagValue::Text(_) => Err("expected true or false".into()),
    }
}

/// `--user NAME`: an account for this call only.
const USER: FlagDef = FlagDef {
    long: "user",
    short: None,
    value_name: Some("NAME"),
    choices: &[],
    complete_accounts: true,
    help: "The stored account to use (default: the current profile)",
    apply: |a, v| text(v).map(|x| a.user = x),
};

/// `--profile NAME`: the official CLI's spelling of `--user`.
const PROFILE: FlagDef = FlagDef {
    long: "profile",
    short: None,
    value_name: Some("NAME"),
    choices: &[],
    complete_accounts: true,
    help: "Same as --user (the official CLI's name for it)",
    apply: |a, v| text(v).map(|x| a.user = x),
};

/// `--all`: every stored account of every remote.
const ALL: FlagDef = FlagDef {
    long: "all",
    short: None,
    value_name: None,
    choices: &[],
    complete_accounts: false,
    help: "Every stored account of every remote (one JSON object each)",
    apply: |a, v| on(v).map(|x| a.all = x),
};

/// Output formats accepted by `--output`, as [`Format::name`] spells them.
pub const OUTPUT_FORMATS: &[&str] = &["text", "json", "jsonl", "none"];

/// Flags every leaf command accepts.
pub const COMMON: &[FlagDef] = &[
    FlagDef {
        long: "output",
        short: Some('o'),
        value_name: Some("FORMAT"),
        choices: OUTPUT_FORMATS,
        complete_accounts: false,
        help: "Output format: text, json, jsonl or none (default text)",
        apply: |a, v| format(v).map(|x| a.output = x),
    },
    FlagDef {
        long: "jq",
        short: Some('q'),
        value_name: Some("EXPR"),
        choices: &[],
        complete_accounts: false,
        help: "Filter the JSON result with a jq expression; implies --output json",
        apply: |a, v| text(v).map(|x| a.jq = x),
    },
    FlagDef {
        long: "remote-url",
        short: None,
        value_name: Some("URL"),
        choices: &[],
        complete_accounts: false,
        help: "Baseten remote URL; overrides BASETEN_REMOTE_URL (default https://app.baseten.co)",
        apply: |a, v| text(v).map(|x| a.remote_url = x),
    },
    FlagDef {
        long: "verbose",
        short: Some('v'),
        value_name: None,
        choices: &[],
        complete_accounts: false,
        help: "Log diagnostics to stderr (never secrets)",
        apply: |a, v| on(v).map(|x| a.verbose = x),
    },
    FlagDef {
        long: "help",
        short: Some('h'),
        value_name: None,
        choices: &[],
        complete_accounts: false,
        help: "Show help for this command",
        apply: |a, v| on(v).map(|x| a.help = x),
    },
];

/// Every leaf command of `baseten auth`, in help order.
pub const COMMANDS: &[CommandDef] = &[
    CommandDef {
        kind: CommandKind::Login,
        group: Group::Auth,
        name: "login",
        about: "Log in to Baseten with a browser (OAuth device flow) or an API key",
        description: "Log in to Baseten with a browser (OAuth device flow) or an API key. \
            On a terminal without flags it asks which method to use. --web goes straight to \
            the browser flow without prompts; --with-api-key reads the key from standard \
            input (or prompts for it, without echo, on a terminal). The account is stored \
            under its profile name: --label (or --profile), or for a browser login the \
            email (on remotes other than https://app.baseten.co, email:host). It becomes the active account of the \
            remote unless --no-switch is given. Credentials go to the system keyring, or to \
            auth.json in plain text when no keyring is available or --insecure-storage is \
            given.",
        synopsis: "[--web | --with-api-key] [--label|--profile TEXT] [--insecure-storage] [--no-switch]",
        flags: &[
            FlagDef {
                long: "web",
                short: None,
                value_name: None,
                choices: &[],
                complete_accounts: false,
                help: "Log in with a browser, without interactive prompts",
                apply: |a, v| on(v).map(|x| a.web = x),
            },
            FlagDef {
                long: "with-api-key",
                short: None,
                value_name: None,
                choices: &[],
                complete_accounts: false,
                help: "Read an API key from standard input",
                apply: |a, v| on(v).map(|x| a.with_api_key = x),
            },
            FlagDef {
                long: "label",
                short: None,
                value_name: Some("TEXT"),
                choices: &[],
                complete_accounts: false,
                help: "Profile name of the account (required for an API key when not on a terminal)",
                apply: |a, v| text(v).map(|x| a.label = x),
            },
            FlagDef {
                long: "profile",
                short: None,
                value_name: Some("TEXT"),
                choices: &[],
                // Naming a stored profile replaces its credential.
                complete_accounts: true,
                help: "Same as --label (the official CLI's name for it)",
                apply: |a, v| text(v).map(|x| a.profile = x),
            },
            FlagDef {
                long: "insecure-storage",
                short: None,
                value_name: None,
                choices: &[],
                complete_accounts: false,
                help: "Store credentials in plain text instead of the system keyring",
                apply: |a, v| on(v).map(|x| a.insecure_storage = x),
            },
            FlagDef {
                long: "no-switch",
                short: None,
                value_name: None,
                choices: &[],
                complete_accounts: false,
                help: "Store the account without making it the active one",
                apply: |a, v| on(v).map(|x| a.no_switch = x),
            },
        ],
        examples: &[
            (
                "Log in with a browser (OAuth device flow)",
                "baseten auth login --web",
            ),
            (
                "Provide an API key on standard input",
                "echo \"$API_KEY\" | baseten auth login --with-api-key --profile ci-bot",
            ),
            (
                "Add an account without making it active",
                "baseten auth login --with-api-key --label ci-bot --no-switch < key.txt",
            ),
            (
                "Print just the logged-in user's email",
                "baseten auth login --web --jq .email",
            ),
        ],
        output: "Text: \"Logged in as <email> (<workspace>) as profile <profile>\". \
            JSON: profile, user_id, email, name, workspace_name, user (= profile), auth_type.",
    },
    CommandDef {
        kind: CommandKind::Logout,
        group: Group::Auth,
        name: "logout",
        about: "Remove an account's credentials; revokes OAuth sessions",
        description: "Remove the stored credentials of an account: the one named by --user \
            (or --profile), else the current profile (with --remote-url or \
            BASETEN_REMOTE_URL, that remote's active account). BASETEN_PROFILE and \
            BASETEN_API_KEY are ignored: removing an account takes a name or the current \
            profile. With --all, every stored account of every remote. For OAuth accounts \
            the session is first revoked on the server; if that fails a warning is printed \
            and the local credentials are removed anyway.",
        synopsis: "[--user|--profile NAME | --all]",
        flags: &[
            USER,
            PROFILE,
            FlagDef {
                help: "Log out every stored account of every remote (one JSON object each)",
                ..ALL
            },
        ],
        examples: &[
            ("Log out the current profile", "baseten auth logout"),
            (
                "Log out every account, e.g. before handing a machine on",
                "baseten auth logout --all",
            ),
            (
                "Log out one account",
                "baseten auth logout --profile ci-bot",
            ),
            (
                "Print just the logged-out profile",
                "baseten auth logout --jq .profile",
            ),
        ],
        output: "Text: \"Logged out <profile>\" (one line per account with --all). JSON: \
            profile, user (= profile); with --all an array of them (one object per line \
            under jsonl and --jq).",
    },
    CommandDef {
        kind: CommandKind::Switch,
        group: Group::Auth,
        name: "switch",
        about: "Switch the current profile (the active account)",
        description: "Make a stored account the current profile, and the active account of \
            its remote. Without --user (or --profile) on a terminal, offers the stored \
            accounts of every remote to choose from (only the given remote's with \
            --remote-url or BASETEN_REMOTE_URL).",
        synopsis: "[--user|--profile NAME]",
        flags: &[
            FlagDef {
                help: "Account to switch to",
                ..USER
            },
            PROFILE,
        ],
        examples: &[
            (
                "Switch to a specific account",
                "baseten auth switch --profile ci-bot",
            ),
            (
                "Print just the newly active profile",
                "baseten auth switch --profile ci-bot --jq .profile",
            ),
        ],
        output: "Text: \"Switched to <profile>\". JSON: profile, user (= profile).",
    },
    CommandDef {
        kind: CommandKind::Status,
        group: Group::Auth,
        name: "status",
        about: "Show the active account, its auth type and where its secret is stored",
        description: "Show the authentication state: the account in use (the one named by \
            --user, else BASETEN_API_KEY when set, else the one named by BASETEN_PROFILE, \
            else the current profile, or with --remote-url or BASETEN_REMOTE_URL that \
            remote's active account), its auth type, where the secret is stored (keyring or \
            file) and, for OAuth, when the access token expires. With --all, every stored \
            account of every remote, the active ones marked. Works offline: `baseten whoami` \
            asks the server whether the credential still works.",
        synopsis: "[--user|--profile NAME | --all]",
        flags: &[USER, PROFILE, ALL],
        examples: &[
            ("Show the current auth status", "baseten auth status"),
            (
                "Print just the auth type",
                "baseten auth status --jq .auth_type",
            ),
            (
                "List the names of every stored OAuth account",
                "baseten auth status --all --jq 'select(.auth_type == \"oauth\") | .user'",
            ),
        ],
        output: "Text: the host, then indented \"Logged in as <user>\" and \"Auth type: \
            <type>\" lines, then details. JSON: host, user, auth_type, storage, source, \
            expires_at, profile, remote_url. With --all: text grouped by remote, one line \
            per account; JSON an array of objects host, user, auth_type, storage, \
            expires_at, active, profile, remote_url (one object per line under jsonl and \
            --jq).",
    },
    CommandDef {
        kind: CommandKind::Token,
        group: Group::Auth,
        name: "token",
        about: "Print the active credential's secret, for scripts",
        description: "Print an account's API key or OAuth access token, refreshing an \
            expired access token first: the account named by --user, else BASETEN_API_KEY \
            when set (printed as it is), else the account named by BASETEN_PROFILE, else the \
            current profile (with --remote-url or BASETEN_REMOTE_URL, that remote's active \
            account). API keys go in an \"Authorization: Api-Key <key>\" header, OAuth \
            access tokens in \"Authorization: Bearer <token>\"; the JSON field header \
            holds the right value for either, and --header prints the whole header line.",
        synopsis: "[--user|--profile NAME] [--header]",
        flags: &[
            USER,
            PROFILE,
            FlagDef {
                long: "header",
                short: None,
                value_name: None,
                choices: &[],
                complete_accounts: false,
                help: "Print the whole Authorization header line (Api-Key or Bearer)",
                apply: |a, v| on(v).map(|x| a.header = x),
            },
        ],
        examples: &[
            (
                "Call the API with the credential in use, whatever its kind",
                "curl -H \"$(baseten auth token --header)\" https://api.baseten.co/v1/users/me",
            ),
            (
                "The same with the scheme spelled out: Api-Key for API keys",
                "curl -H \"Authorization: Api-Key $(baseten auth token --profile ci-bot)\" https://api.baseten.co/v1/users/me",
            ),
            (
                "Print the secret of one account",
                "baseten auth token --profile ci-bot",
            ),
        ],
        output: "Text: the secret alone (--header: \"Authorization: <header>\"). JSON: profile, user (= profile), auth_type, token, \
            header (\"Api-Key <key>\" or \"Bearer <token>\").",
    },
    CommandDef {
        kind: CommandKind::Whoami,
        group: Group::Top,
        name: "whoami",
        about: "Ask the server who the credential in use belongs to (the online check)",
        description: "Ask Baseten who the credential belongs to, for the account token \
            would use: --user (or --profile), else BASETEN_API_KEY, else BASETEN_PROFILE, \
            else the current profile (with --remote-url or BASETEN_REMOTE_URL, that \
            remote's active account). An expired OAuth access token is refreshed first. \
            Unlike status, which reads the store only, this is an online check: a revoked \
            or wrong credential exits 3 and a network failure exits 1, so `baseten whoami \
            -o none` is a pre-flight check for CI.",
        synopsis: "[--user|--profile NAME]",
        flags: &[USER, PROFILE],
        examples: &[
            ("Show who is logged in", "baseten whoami"),
            (
                "Check the credential in CI, printing nothing",
                "baseten whoami -o none",
            ),
            ("Print just the email", "baseten whoami --jq .email"),
        ],
        output: "Text: \"User ID:\", then \"Email:\", \"Name:\" and \"Workspace:\" lines \
            for the fields the server gave. JSON: user_id, email, name, workspace_name \
            (null when the server gave none).",
    },
    CommandDef {
        kind: CommandKind::Version,
        group: Group::Top,
        name: "version",
        about: "Print the version",
        description: "Print the version of baseten (--version prints \"baseten <version>\").",
        synopsis: "",
        flags: &[],
        examples: &[
            ("Print the version", "baseten version"),
            ("Print the version as JSON", "baseten version -o json"),
        ],
        output: "Text: the version alone, e.g. 0.1.0. JSON: version.",
    },
];

/// Which top-level command a [`TopDef`] is; matched without wildcards.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TopKind {
    /// `baseten auth`, the parent of the credential commands.
    Auth,
    /// `baseten completion SHELL`.
    Completion,
    /// `baseten man`.
    Man,
}

/// A top-level command: `auth` and its leaves, or one of the generators.
pub struct TopDef {
    /// Which one it is.
    pub kind: TopKind,
    /// Its name on the command line.
    pub name: &'static str,
    /// Its arguments in synopsis form.
    pub synopsis: &'static str,
    /// One-line summary.
    pub about: &'static str,
}

/// Every top-level command, in help order (`auth` first).
pub const TOP_COMMANDS: &[TopDef] = &[
    TopDef {
        kind: TopKind::Auth,
        name: "auth",
        synopsis: "<command> [OPTIONS]",
        about: "Log in to Baseten and manage credentials",
    },
    TopDef {
        kind: TopKind::Completion,
        name: "completion",
        synopsis: "bash|zsh|fish",
        about: "Print a shell completion script",
    },
    TopDef {
        kind: TopKind::Man,
        name: "man",
        synopsis: "",
        about: "Print the man page (roff)",
    },
];

/// One entry of the ENVIRONMENT section: variables documented together.
pub struct EnvDef {
    /// The variables, as the entry lists them (`https_proxy, HTTPS_PROXY`).
    pub names: &'static [&'static str],
    /// What they do.
    pub meaning: &'static str,
    /// Variables that only bend what this entry describes, listed by the README but
    /// without an entry of their own here (the browser's `DISPLAY`, `SSH_TTY`, …).
    pub also: &'static [&'static str],
}

/// Every environment variable the program reads, in the order the man page lists them.
pub const ENVIRONMENT: &[EnvDef] = &[
    EnvDef {
        names: &[vars::API_KEY],
        meaning: "An API key that overrides stored credentials.",
        also: &[],
    },
    EnvDef {
        names: &[vars::API_KEY_FILE],
        meaning: "A file whose first line is an API key, used as BASETEN_API_KEY is (for \
            secrets mounted as files); setting both is an error.",
        also: &[],
    },
    EnvDef {
        names: &[vars::PROFILE],
        meaning: "A stored account for status, token and whoami; --user overrides it, and \
            so does BASETEN_API_KEY.",
        also: &[],
    },
    EnvDef {
        names: &[vars::REMOTE_URL],
        meaning: "The remote: login logs in to it, and other commands use its active \
            account instead of the current profile. --remote-url overrides it; default \
            https://app.baseten.co.",
        also: &[],
    },
    EnvDef {
        names: &[vars::MANAGEMENT_API_URL_OVERRIDE],
        meaning: "The management API base; by default derived from the remote (app. \
            becomes api.).",
        also: &[],
    },
    EnvDef {
        names: &[vars::CONFIG_DIR],
        meaning: "The config directory holding auth.json.",
        also: &[],
    },
    EnvDef {
        names: &[vars::XDG_CONFIG_HOME],
        meaning: "Locates the default config directory ($XDG_CONFIG_HOME/baseten).",
        also: &[],
    },
    EnvDef {
        names: &[vars::HOME],
        meaning: "Locates the default config directory (~/.config/baseten; on macOS \
            ~/Library/Application Support/baseten).",
        also: &[],
    },
    EnvDef {
        names: &[vars::APPDATA],
        meaning: "On Windows, locates the default config directory (%APPDATA%\\baseten).",
        also: &[],
    },
    EnvDef {
        names: &[vars::BROWSER],
        meaning: "The program that opens the login page, always used when set. Without it, \
            the platform's opener is used (wslview or explorer.exe under WSL), except in an \
            SSH session (SSH_CONNECTION, SSH_TTY) or, on Linux and the BSDs, without \
            DISPLAY or WAYLAND_DISPLAY: then none is started, and the URL is for another \
            device.",
        also: &[
            vars::DISPLAYS[0],
            vars::DISPLAYS[1],
            vars::SSH[0],
            vars::SSH[1],
            vars::WSL_DISTRO_NAME,
        ],
    },
    EnvDef {
        names: &vars::HTTPS_PROXY,
        meaning: "Proxy for https:// requests: an http://, https://, socks5:// (names \
            resolved here) or socks5h:// (names resolved by the proxy) URL, optionally with \
            user:password@; no scheme means http://. The lower-case spelling wins. A value \
            that cannot be parsed is an error.",
        also: &[],
    },
    EnvDef {
        names: &vars::HTTP_PROXY,
        meaning: "Proxy for http:// requests only (never for https://).",
        also: &[],
    },
    EnvDef {
        names: &vars::ALL_PROXY,
        meaning: "Proxy for either scheme when its own variable is unset or empty.",
        also: &[],
    },
    EnvDef {
        names: &vars::NO_PROXY,
        meaning: "Hosts reached without a proxy, comma-separated: * (all), a name (and its \
            subdomains; a leading dot is allowed), an IP address or CIDR range \
            (127.0.0.0/8, ::1, [::1]), each optionally with :port. Loopback is proxied \
            unless listed.",
        also: &[],
    },
    EnvDef {
        names: &vars::SSL_CERT,
        meaning: "Extra trust roots; the system trust store is used by default.",
        also: &[],
    },
];

/// Exit codes: `(code, meaning)`.
pub const EXIT_CODES: &[(&str, &str)] = &[
    ("0", "success"),
    (
        "1",
        "general failure: not logged in, unknown account, network failure, corrupt store, jq runtime error",
    ),
    ("2", "usage error"),
    (
        "3",
        "authentication failed: server 401/403, device flow denied or expired",
    ),
    ("4", "not found (404)"),
    ("5", "rejected by the server (other 4xx)"),
    ("6", "server error (5xx)"),
    (
        "130",
        "interrupted (Ctrl-C); other signals exit 128 + the signal (SIGTERM 143, SIGHUP 129, SIGQUIT 131)",
    ),
];

/// Usage line of the top-level command.
pub const TOP_USAGE: &str = "Usage: baseten <command> [OPTIONS]";
/// Usage line of `baseten auth`.
pub const AUTH_USAGE: &str = "Usage: baseten auth <command> [OPTIONS]";
/// What `baseten auth` is about, for help and the man page.
pub const AUTH_ABOUT: &str = "Log in, log out and manage Baseten credentials. Credentials are \
    stored in the system keyring when available, with a plain-text fallback in the config \
    directory.";

/// The hidden top-level word the completion scripts call to list the stored accounts.
pub const LIST_ACCOUNTS: &str = "__accounts";

/// Looks a top-level command up by name.
pub fn top_command(name: &str) -> Option<&'static TopDef> {
    TOP_COMMANDS.iter().find(|c| c.name == name)
}

/// Looks a leaf command of `group` up by name.
pub fn command(group: Group, name: &str) -> Option<&'static CommandDef> {
    COMMANDS.iter().find(|c| c.group == group && c.name == name)
}

/// The leaf commands of `group`, in help order.
pub fn commands(group: Group) -> impl Iterator<Item = &'static CommandDef> {
    COMMANDS.iter().filter(move |c| c.group == group)
}

/// The names of the leaf commands of `group`, in help order, with `sep` between.
pub fn command_names(group: Group, sep: &str) -> String {
    commands(group)
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(sep)
}

/// Every word that can follow `baseten`, with its summary, in help order: `auth`, the
/// top-level leaf commands, then the generators.
pub fn top_words() -> impl Iterator<Item = (&'static str, &'static str)> {
    let tops = TOP_COMMANDS.iter().map(|t| (t.name, t.about));
    let leaves = commands(Group::Top).map(|c| (c.name, c.about));
    tops.clone().take(1).chain(leaves).chain(tops.skip(1))
}

impl FlagDef {
    /// `-o, --output FORMAT`, aligned so long-only flags line up with the others.
    pub fn spelling(&self) -> String {
        let short = self
            .short
            .map(|c| format!("-{c}, "))
            .unwrap_or_else(|| "    ".into());
        match self.value_name {
            Some(v) => format!("{short}--{} {v}", self.long),
            None => format!("{short}--{}", self.long),
        }
    }
}

impl CommandDef {
    /// The words that run it: `auth login`, `whoami`.
    pub fn path(&self) -> String {
        match self.group {
            Group::Auth => format!("auth {}", self.name),
            Group::Top => self.name.to_owned(),
        }
    }

    /// The command's flags followed by the common ones.
    pub fn all_flags(&self) -> impl Iterator<Item = &'static FlagDef> + use<> {
        self.flags.iter().chain(COMMON)
    }

    /// The one-line usage shown in help and after usage errors.
    pub fn usage(&self) -> String {
        let sep = if self.synopsis.is_empty() { "" } else { " " };
        format!(
            "Usage: baseten {}{sep}{} [OPTIONS]",
            self.path(),
            self.synopsis
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Format;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_everywhere() {
        let mut commands = HashSet::new();
        for c in COMMANDS {
            assert!(commands.insert(c.name), "command {} twice", c.name);
            let (mut longs, mut shorts) = (HashSet::new(), HashSet::new());
            for f in c.all_flags() {
                assert!(longs.insert(f.long), "{}: --{} twice", c.name, f.long);
                if let Some(s) = f.short {
                    assert!(shorts.insert(s), "{}: -{s} twice", c.name);
                }
            }
        }
        let tops: HashSet<_> = TOP_COMMANDS.iter().map(|t| t.name).collect();
        assert_eq!(tops.len(), TOP_COMMANDS.len());
    }

    /// Every command kind. The match has no wildcard: a new kind is a compile error here
    /// until it is listed, and then the test below wants its table entry.
    fn all_kinds() -> Vec<CommandKind> {
        let next = |k: Option<CommandKind>| match k {
            None => Some(CommandKind::Login),
            Some(CommandKind::Login) => Some(CommandKind::Logout),
            Some(CommandKind::Logout) => Some(CommandKind::Switch),
            Some(CommandKind::Switch) => Some(CommandKind::Status),
            Some(CommandKind::Status) => Some(CommandKind::Token),
            Some(CommandKind::Token) => Some(CommandKind::Whoami),
            Some(CommandKind::Whoami) => Some(CommandKind::Version),
            Some(CommandKind::Version) => None,
        };
        std::iter::successors(next(None), |k| next(Some(*k))).collect()
    }

    #[test]
    fn every_kind_has_exactly_one_entry() {
        assert_eq!(all_kinds().len(), COMMANDS.len());
        for kind in all_kinds() {
            assert_eq!(
                COMMANDS.iter().filter(|c| c.kind == kind).count(),
                1,
                "{kind:?}"
            );
        }
        for kind in [TopKind::Auth, TopKind::Completion, TopKind::Man] {
            let n = TOP_COMMANDS.iter().filter(|t| t.kind == kind).count();
            assert_eq!(n, 1, "{kind:?}");
        }
        assert_eq!(
            TOP_COMMANDS[0].kind,
            TopKind::Auth,
            "help and man list auth first"
        );
    }

    #[test]
    fn every_command_is_documented() {
        for c in COMMANDS {
            assert!(
                !c.about.is_empty() && !c.description.is_empty(),
                "{}",
                c.name
            );
            assert!(!c.output.is_empty() && !c.examples.is_empty(), "{}", c.name);
            for f in c.flags {
                assert!(
                    c.synopsis.contains(&format!("--{}", f.long)),
                    "{}: --{}",
                    c.name,
                    f.long
                );
            }
            for f in c.all_flags() {
                assert!(!f.help.is_empty(), "{}: --{}", c.name, f.long);
                assert!(
                    f.value_name.is_some() || (f.choices.is_empty() && !f.complete_accounts),
                    "{}: --{} completes values but takes none",
                    c.name,
                    f.long
                );
            }
        }
    }

    #[test]
    fn every_environment_variable_is_listed_once() {
        let mut seen = HashSet::new();
        for env in ENVIRONMENT {
            assert!(!env.names.is_empty() && !env.meaning.is_empty());
            for name in env.names.iter().chain(env.also) {
                assert!(seen.insert(*name), "{name} twice");
            }
        }
        for ours in [
            vars::API_KEY,
            vars::API_KEY_FILE,
            vars::PROFILE,
            vars::REMOTE_URL,
            vars::MANAGEMENT_API_URL_OVERRIDE,
            vars::CONFIG_DIR,
        ] {
            assert!(seen.contains(ours), "{ours} is not documented");
        }
    }

    #[test]
    fn output_choices_are_the_formats() {
        let names: Vec<_> = Format::ALL.into_iter().map(Format::name).collect();
        assert_eq!(OUTPUT_FORMATS, names.as_slice());
        let output = COMMON.iter().find(|f| f.long == "output").unwrap();
        assert_eq!(output.choices, OUTPUT_FORMATS);
    }
}
