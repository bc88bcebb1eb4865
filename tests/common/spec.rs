//! The command line of SPEC §1 (and §6a) as data, for the tests that check help, man
//! page and completions against the contract rather than against the program's own
//! table. tests/it/main.rs includes it as `mod spec`.
#![allow(dead_code)]

/// A flag of SPEC §1.
pub struct Flag {
    pub long: &'static str,
    pub short: Option<char>,
    /// A valid value for a flag that takes one; `None` for boolean flags.
    pub value: Option<&'static str>,
}

const fn flag(long: &'static str, value: Option<&'static str>) -> Flag {
    Flag {
        long,
        short: None,
        value,
    }
}

/// COMMON flags of SPEC §1, accepted by every leaf command.
pub const COMMON: &[Flag] = &[
    Flag {
        long: "output",
        short: Some('o'),
        value: Some("json"),
    },
    Flag {
        long: "jq",
        short: Some('q'),
        value: Some(".user"),
    },
    flag("remote-url", Some("https://app.baseten.co")),
    Flag {
        long: "verbose",
        short: Some('v'),
        value: None,
    },
    Flag {
        long: "help",
        short: Some('h'),
        value: None,
    },
];

/// `--user NAME` and its other spelling `--profile NAME` (SPEC §6a).
const USER: Flag = flag("user", Some("ci-bot"));
const PROFILE: Flag = flag("profile", Some("ci-bot"));

/// The leaf commands (the words after `baseten`: `auth login`, `whoami`) with their own
/// flags (SPEC §1).
pub const LEAVES: &[(&str, &[Flag])] = &[
    (
        "auth login",
        &[
            flag("web", None),
            flag("with-api-key", None),
            flag("label", Some("ci-bot")),
            PROFILE,
            flag("insecure-storage", None),
            flag("no-switch", None),
        ],
    ),
    ("auth logout", &[USER, PROFILE, flag("all", None)]),
    ("auth switch", &[USER, PROFILE]),
    ("auth status", &[USER, PROFILE, flag("all", None)]),
    ("auth token", &[USER, PROFILE, flag("header", None)]),
    ("whoami", &[USER, PROFILE]),
    ("version", &[]),
];

/// A leaf's own name, the last word of its path.
pub fn name(path: &'static str) -> &'static str {
    path.rsplit(' ').next().unwrap_or(path)
}

/// The names of the leaf commands under `baseten auth`.
pub fn auth_leaves() -> impl Iterator<Item = &'static str> {
    LEAVES
        .iter()
        .filter_map(|(path, _)| path.strip_prefix("auth "))
}

/// Every flag spelling.
pub const ALL_FLAGS: &[&str] = &[
    "--web",
    "--with-api-key",
    "--label",
    "--insecure-storage",
    "--no-switch",
    "--user",
    "--profile",
    "--all",
    "--header",
    "--output",
    "-o",
    "--jq",
    "-q",
    "--remote-url",
    "--verbose",
    "-v",
    "--help",
    "-h",
];

/// The values of `--output`.
pub const FORMATS: &[&str] = &["text", "json", "jsonl", "none"];

/// Top-level commands.
pub const TOP: &[&str] = &["auth", "whoami", "version", "completion", "man"];

/// Shells `baseten completion` supports.
pub const SHELLS: &[&str] = &["bash", "zsh", "fish"];

/// Every spelling of `flags` (`--long`, and `-s` where there is a short name).
pub fn spellings<'a>(flags: impl IntoIterator<Item = &'a Flag>) -> Vec<String> {
    let mut words = Vec::new();
    for f in flags {
        words.push(format!("--{}", f.long));
        if let Some(s) = f.short {
            words.push(format!("-{s}"));
        }
    }
    words
}
