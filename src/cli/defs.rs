//! The one table of commands and flags. Parsing, `--help`, the man page and shell
//! completions are all generated from it, so none of them can drift from the others.

use super::parse::LowArgs;

/// A flag's value as the parser hands it to the flag's `apply` function.
pub enum FlagValue {
    /// A boolean flag: `--web`, `--web=true`, `--web=false`.
    Bool(bool),
    /// A flag that takes a value: `--output json`, `-ojson`, `--output=json`.
    Text(String),
}

/// One flag: its names, docs, and the function that records it.
pub struct FlagDef {
    /// Long name without the leading `--`.
    pub long: &'static str,
    /// Optional one-letter short name.
    pub short: Option<char>,
    /// Name of the value (`FORMAT`, `TEXT`, …); `None` for boolean flags.
    pub value_name: Option<&'static str>,
    /// The values it accepts, when it is a fixed set (used for errors and completions).
    pub choices: &'static [&'static str],
    /// One-line help.
    pub help: &'static str,
    /// Stores the value in the raw arguments.
    pub apply: fn(&mut LowArgs, FlagValue),
}

/// One leaf command of `baseten auth`.
pub struct CommandDef {
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

fn text(v: FlagValue) -> Option<String> {
    match v {
        FlagValue::Text(s) => Some(s),
        FlagValue::Bool(_) => None,
    }
}

fn on(v: FlagValue) -> bool {
    matches!(v, FlagValue::Bool(true))
}

/// Output formats accepted by `--output`.
pub const OUTPUT_FORMATS: &[&str] = &["text", "json", "jsonl", "none"];

/// Flags every leaf command accepts.
pub const COMMON: &[FlagDef] = &[
    FlagDef {
        long: "output",
        short: Some('o'),
        value_name: Some("FORMAT"),
        choices: OUTPUT_FORMATS,
        help: "Output format: text, json, jsonl or none (default text)",
        apply: |a, v| a.output = text(v),
    },
    FlagDef {
        long: "jq",
        short: Some('q'),
        value_name: Some("EXPR"),
        choices: &[],
        help: "Filter the JSON result with a jq expression; implies --output json",
        apply: |a, v| a.jq = text(v),
    },
    FlagDef {
        long: "remote-url",
        short: None,
        value_name: Some("URL"),
        choices: &[],
        help: "Baseten remote URL; overrides BASETEN_REMOTE_URL (default https://app.baseten.co)",
        apply: |a, v| a.remote_url = text(v),
    },
    FlagDef {
        long: "verbose",
        short: Some('v'),
        value_name: None,
        choices: &[],
        help: "Log diagnostics to stderr (never secrets)",
        apply: |a, v| a.verbose = on(v),
    },
    FlagDef {
        long: "help",
        short: Some('h'),
        value_name: None,
        choices: &[],
        help: "Show help for this command",
        apply: |a, v| a.help = on(v),
    },
];

/// Every leaf command of `baseten auth`, in help order.
pub const COMMANDS: &[CommandDef] = &[
    CommandDef {
        name: "login",
        about: "Log in to Baseten with a browser (OAuth device flow) or an API key",
        description: "Log in to Baseten with a browser (OAuth device flow) or an API key. \
            On a terminal without flags it asks which method to use. --web goes straight to \
            the browser flow without prompts; --with-api-key reads the key from standard \
            input (or prompts for it, without echo, on a terminal). The account becomes the \
            active one for the remote. Credentials go to the system keyring, or to auth.json \
            in plain text when no keyring is available or --insecure-storage is given.",
        synopsis: "[--web | --with-api-key] [--label TEXT] [--insecure-storage]",
        flags: &[
            FlagDef {
                long: "web",
                short: None,
                value_name: None,
                choices: &[],
                help: "Log in with a browser, without interactive prompts",
                apply: |a, v| a.web = on(v),
            },
            FlagDef {
                long: "with-api-key",
                short: None,
                value_name: None,
                choices: &[],
                help: "Read an API key from standard input",
                apply: |a, v| a.with_api_key = on(v),
            },
            FlagDef {
                long: "label",
                short: None,
                value_name: Some("TEXT"),
                choices: &[],
                help: "Account label for the API key (required when not on a terminal)",
                apply: |a, v| a.label = text(v),
            },
            FlagDef {
                long: "insecure-storage",
                short: None,
                value_name: None,
                choices: &[],
                help: "Store credentials in plain text instead of the system keyring",
                apply: |a, v| a.insecure_storage = on(v),
            },
        ],
        examples: &[
            (
                "Log in with a browser (OAuth device flow)",
                "baseten auth login --web",
            ),
            (
                "Provide an API key on standard input",
                "echo \"$API_KEY\" | baseten auth login --with-api-key --label ci-bot",
            ),
            (
                "Print just the logged-in user's email",
                "baseten auth login --web --jq .email",
            ),
        ],
        output: "Text: \"Logged in as <email> (<workspace>)\". \
            JSON: user_id, email, name, workspace_name, user, auth_type.",
    },
    CommandDef {
        name: "logout",
        about: "Remove the active account's credentials; revokes OAuth sessions",
        description: "Remove the stored credentials of the active account for the remote. \
            For OAuth accounts the session is first revoked on the server; if that fails a \
            warning is printed and the local credentials are removed anyway.",
        synopsis: "",
        flags: &[],
        examples: &[
            ("Log out the active account", "baseten auth logout"),
            (
                "Print just the logged-out account",
                "baseten auth logout --jq .user",
            ),
        ],
        output: "Text: \"Logged out <user>\". JSON: user.",
    },
    CommandDef {
        name: "switch",
        about: "Switch the active account for the remote",
        description: "Make another stored account of the remote the active one. Without \
            --user on a terminal, offers the stored accounts to choose from.",
        synopsis: "[--user TEXT]",
        flags: &[FlagDef {
            long: "user",
            short: None,
            value_name: Some("TEXT"),
            choices: &[],
            help: "Account to switch to",
            apply: |a, v| a.user = text(v),
        }],
        examples: &[
            (
                "Switch to a specific account",
                "baseten auth switch --user ci-bot",
            ),
            (
                "Print just the newly active account",
                "baseten auth switch --user ci-bot --jq .user",
            ),
        ],
        output: "Text: \"Switched to <user>\". JSON: user.",
    },
    CommandDef {
        name: "status",
        about: "Show the active account, its auth type and where its secret is stored",
        description: "Show the authentication state for the remote: the active account, \
            its auth type, where the secret is stored (keyring or file) and, for OAuth, when \
            the access token expires. Works offline. When BASETEN_API_KEY is set, says so: \
            the variable takes precedence over stored credentials.",
        synopsis: "",
        flags: &[],
        examples: &[
            ("Show the current auth status", "baseten auth status"),
            (
                "Print just the auth type",
                "baseten auth status --jq .auth_type",
            ),
        ],
        output: "Text: the host, then indented \"Logged in as <user>\" and \"Auth type: \
            <type>\" lines, then details. JSON: host, user, auth_type, storage, source, \
            expires_at.",
    },
    CommandDef {
        name: "token",
        about: "Print the active credential's secret, for scripts",
        description: "Print the active account's API key or OAuth access token, refreshing \
            an expired access token first. With BASETEN_API_KEY set, prints that.",
        synopsis: "",
        flags: &[],
        examples: &[(
            "Call the API with the active credential",
            "curl -H \"Authorization: Bearer $(baseten auth token)\" https://api.baseten.co/v1/users/me",
        )],
        output: "Text: the secret alone. JSON: user, auth_type, token.",
    },
];

/// Top-level commands besides `auth`'s leaves: `(name, synopsis, summary)`.
pub const TOP_COMMANDS: &[(&str, &str, &str)] = &[
    (
        "auth",
        "<command> [OPTIONS]",
        "Log in to Baseten and manage credentials",
    ),
    (
        "completion",
        "bash|zsh|fish",
        "Print a shell completion script",
    ),
    ("man", "", "Print the man page (roff)"),
];

/// Shells `baseten completion` writes scripts for.
pub const SHELLS: &[&str] = &["bash", "zsh", "fish"];

/// Environment variables the program reads: `(name, meaning)`.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "BASETEN_API_KEY",
        "An API key that overrides stored credentials.",
    ),
    (
        "BASETEN_REMOTE_URL",
        "The remote (default https://app.baseten.co); --remote-url overrides it.",
    ),
    (
        "BASETEN_MANAGEMENT_API_URL_OVERRIDE",
        "The management API base; by default derived from the remote (app. becomes api.).",
    ),
    (
        "BASETEN_CONFIG_DIR",
        "The config directory holding auth.json.",
    ),
    (
        "XDG_CONFIG_HOME",
        "Locates the default config directory ($XDG_CONFIG_HOME/baseten).",
    ),
    (
        "HOME",
        "Locates the default config directory (~/.config/baseten).",
    ),
    ("BROWSER", "The program that opens the login page."),
    (
        "https_proxy, HTTPS_PROXY",
        "Proxy for https:// requests: an http://, https://, socks5:// (names resolved \
         here) or socks5h:// (names resolved by the proxy) URL, optionally with \
         user:password@; no scheme means http://. The lower-case spelling wins. A value \
         that cannot be parsed is an error.",
    ),
    (
        "http_proxy, HTTP_PROXY",
        "Proxy for http:// requests only (never for https://).",
    ),
    (
        "all_proxy, ALL_PROXY",
        "Proxy for either scheme when its own variable is unset or empty.",
    ),
    (
        "no_proxy, NO_PROXY",
        "Hosts reached without a proxy, comma-separated: * (all), a name (and its \
         subdomains; a leading dot is allowed), an IP address or CIDR range (127.0.0.0/8, \
         ::1, [::1]), each optionally with :port. Loopback is proxied unless listed.",
    ),
    (
        "SSL_CERT_FILE, SSL_CERT_DIR",
        "Extra trust roots; the system trust store is used by default.",
    ),
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
    ("130", "interrupted (Ctrl-C)"),
];

/// Looks a leaf command up by name.
pub fn command(name: &str) -> Option<&'static CommandDef> {
    COMMANDS.iter().find(|c| c.name == name)
}

impl CommandDef {
    /// The command's flags followed by the common ones.
    pub fn all_flags(&self) -> impl Iterator<Item = &'static FlagDef> + use<> {
        self.flags.iter().chain(COMMON)
    }

    /// The one-line usage shown in help and after usage errors.
    pub fn usage(&self) -> String {
        let sep = if self.synopsis.is_empty() { "" } else { " " };
        format!(
            "Usage: baseten auth {}{sep}{} [OPTIONS]",
            self.name, self.synopsis
        )
    }
}
