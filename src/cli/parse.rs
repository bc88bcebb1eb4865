//! The lexopt loop over the table in [`super::defs`], in two stages: raw arguments as
//! typed ([`LowArgs`]), then resolved arguments ([`Args`]) with environment variables,
//! defaults and cross-flag rules applied. Commands only ever see [`Args`]. Every usage
//! error is raised here, before any prompt, network call or file write.

use std::ffi::OsString;

use super::args::{Args, Command, LoginArgs, LoginMethod, PROFILE_ENV, Selection};
use super::defs::{self, CommandDef, CommandKind, FlagDef, FlagValue, Group, Shell, TopKind};
use super::doc;
use super::env_key;
use crate::error::{Error, Result};
use crate::jq;
use crate::output::{Format, OutputOptions};
use crate::remote::{self, Remote};
use crate::store;
use crate::terminal;

/// Arguments exactly as given on the command line, before any resolution.
#[derive(Default)]
pub struct LowArgs {
    pub output: Option<String>,
    pub jq: Option<String>,
    pub remote_url: Option<String>,
    pub verbose: bool,
    pub help: bool,
    pub web: bool,
    pub with_api_key: bool,
    pub label: Option<String>,
    /// Login's `--profile`, the official CLI's spelling of `--label`.
    pub profile: Option<String>,
    pub insecure_storage: bool,
    pub no_switch: bool,
    pub user: Option<String>,
    pub all: bool,
    pub header: bool,
}

/// What the program was asked to do.
pub enum Action {
    /// Print this text (help) to stdout and exit 0.
    Print(String),
    /// Print the names of the stored accounts, one per line (for shell completions).
    ListAccounts,
    /// Run a command.
    Run(Box<Args>),
}

/// The hidden top-level word the completion scripts call to list the stored accounts.
pub const LIST_ACCOUNTS: &str = "__accounts";

/// Parses the process arguments.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Action> {
    let mut p = lexopt::Parser::from_args(args);
    let top = |message: String| Error::Usage {
        message,
        usage: doc::TOP_USAGE.to_string(),
    };
    match p.next().map_err(|e| top(e.to_string()))? {
        None | Some(lexopt::Arg::Short('h')) | Some(lexopt::Arg::Long("help")) => {
            return Ok(Action::Print(doc::top_help()));
        }
        Some(lexopt::Arg::Long("version")) => {
            return Ok(Action::Print(format!(
                "baseten {}\n",
                env!("CARGO_PKG_VERSION")
            )));
        }
        Some(lexopt::Arg::Value(v)) if v == LIST_ACCOUNTS => {
            return only_positionals(&mut p, 0)
                .map(|_| Action::ListAccounts)
                .map_err(top);
        }
        Some(lexopt::Arg::Value(v)) => match v.to_str().and_then(defs::top_command) {
            Some(def) => match def.kind {
                TopKind::Auth => {}
                TopKind::Man => {
                    return only_positionals(&mut p, 0)
                        .map(|_| Action::Print(doc::man_page()))
                        .map_err(top);
                }
                TopKind::Completion => {
                    let shell = only_positionals(&mut p, 1).map_err(top)?;
                    return match shell.first().map(String::as_str) {
                        Some(name) => match Shell::from_name(name) {
                            Some(sh) => Ok(Action::Print(doc::completion(sh))),
                            None => Err(top(format!(
                                "unknown shell {name:?}: expected one of {}",
                                Shell::names(", ")
                            ))),
                        },
                        None => Err(top(format!(
                            "missing shell: expected one of {}",
                            Shell::names(", ")
                        ))),
                    };
                }
            },
            None => match v.to_str().and_then(|name| defs::command(Group::Top, name)) {
                Some(def) => return leaf(&mut p, def),
                None => return Err(top(format!("unknown command {v:?}"))),
            },
        },
        Some(arg) => return Err(top(describe(arg, "command"))),
    }
    let auth = |message: String| Error::Usage {
        message,
        usage: doc::AUTH_USAGE.to_string(),
    };
    let def = match p.next().map_err(|e| auth(e.to_string()))? {
        None | Some(lexopt::Arg::Short('h')) | Some(lexopt::Arg::Long("help")) => {
            return Ok(Action::Print(doc::auth_help()));
        }
        Some(lexopt::Arg::Value(v)) => {
            match v.to_str().and_then(|name| defs::command(Group::Auth, name)) {
                Some(def) => def,
                None => {
                    return Err(auth(format!(
                        "unknown command {:?} for \"baseten auth\"",
                        v
                    )));
                }
            }
        }
        Some(arg) => return Err(auth(describe(arg, "command"))),
    };
    leaf(&mut p, def)
}

/// Parses and resolves the rest of a leaf command's arguments.
fn leaf(p: &mut lexopt::Parser, def: &'static CommandDef) -> Result<Action> {
    let usage = |message: String| Error::Usage {
        message,
        usage: def.usage(),
    };
    let low = parse_leaf(p, def).map_err(usage)?;
    if low.help {
        return Ok(Action::Print(doc::command_help(def)));
    }
    resolve(def, low)
        .map(|args| Action::Run(Box::new(args)))
        .map_err(usage)
}

/// The remaining arguments, which must be at most `max` plain words.
fn only_positionals(p: &mut lexopt::Parser, max: usize) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            lexopt::Arg::Value(v) if words.len() < max => {
                words.push(v.to_string_lossy().into_owned())
            }
            lexopt::Arg::Value(v) => return Err(format!("unexpected argument {v:?}")),
            other => return Err(describe(other, "argument")),
        }
    }
    Ok(words)
}

/// Names an argument that is not allowed where it stands.
fn describe(arg: lexopt::Arg<'_>, what: &str) -> String {
    match arg {
        lexopt::Arg::Short(c) => format!("unknown flag: -{c}"),
        lexopt::Arg::Long(l) => format!("unknown flag: --{l}"),
        lexopt::Arg::Value(v) => format!("unknown {what} {v:?}"),
    }
}

/// The lexopt loop for one leaf command.
fn parse_leaf(p: &mut lexopt::Parser, def: &CommandDef) -> Result<LowArgs, String> {
    let mut low = LowArgs::default();
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        let (flag, shown) = match arg {
            lexopt::Arg::Long(name) => (
                def.all_flags().find(|f| f.long == name),
                format!("--{name}"),
            ),
            lexopt::Arg::Short(c) => (
                def.all_flags().find(|f| f.short == Some(c)),
                format!("-{c}"),
            ),
            lexopt::Arg::Value(v) => return Err(format!("unexpected argument {v:?}")),
        };
        let Some(flag) = flag else {
            return Err(unknown_flag(def, &shown));
        };
        let value = read_value(p, flag, &shown)?;
        (flag.apply)(&mut low, value).map_err(|e| format!("invalid {shown}: {e}"))?;
    }
    Ok(low)
}

/// Reads a flag's value: the next word (or attached `=value`) for valued flags, an
/// optional attached `=true`/`=false` for long booleans. A short boolean takes nothing,
/// so the rest of its cluster is more flags (`-vvv`, `-vojson`, `-vq .user`).
fn read_value(p: &mut lexopt::Parser, flag: &FlagDef, shown: &str) -> Result<FlagValue, String> {
    let utf8 = |v: OsString| {
        v.into_string()
            .map_err(|_| format!("value of {shown} is not valid UTF-8"))
    };
    if flag.value_name.is_none() {
        if !shown.starts_with("--") {
            return Ok(FlagValue::Bool(true));
        }
        return match p.optional_value().map(utf8).transpose()?.as_deref() {
            None | Some("true") => Ok(FlagValue::Bool(true)),
            Some("false") => Ok(FlagValue::Bool(false)),
            Some(other) => Err(format!(
                "invalid value {other:?} for {shown}: expected true or false"
            )),
        };
    }
    let value = p
        .value()
        .map_err(|_| format!("flag needs an argument: {shown}"))?;
    let value = utf8(value)?;
    if !flag.choices.is_empty() && !flag.choices.contains(&value.as_str()) {
        return Err(format!(
            "invalid value {value:?} for {shown}: expected one of {}",
            flag.choices.join(", ")
        ));
    }
    Ok(FlagValue::Text(value))
}

/// The error for an unknown flag, with the closest known flag as a hint.
fn unknown_flag(def: &CommandDef, shown: &str) -> String {
    let name = shown.trim_start_matches('-');
    let near = def
        .all_flags()
        .filter(|f| name.len() > 2 && edit_distance(f.long, name) <= 2)
        .map(|f| format!("--{}", f.long))
        .next();
    match near {
        Some(n) => format!("unknown flag: {shown} (did you mean {n}?)"),
        None => format!("unknown flag: {shown}"),
    }
}

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Second stage: environment, defaults and cross-flag rules.
fn resolve(def: &'static CommandDef, low: LowArgs) -> Result<Args, String> {
    let streamed = low.all;
    let output = resolve_output(low.output.as_deref(), low.jq.as_deref(), streamed)?;
    let remote = resolve_remote(low.remote_url)?;
    let online = match def.kind {
        CommandKind::Login | CommandKind::Logout | CommandKind::Token | CommandKind::Whoami => true,
        CommandKind::Switch | CommandKind::Status | CommandKind::Version => false,
    };
    if online {
        // Proxy variables that cannot be used are a usage error before any prompt,
        // never a silent direct connection (SPEC §4a).
        remote.endpoint()?;
    }
    let interactive = terminal::stdin_is_terminal();
    let user = low
        .user
        .as_deref()
        .map(|raw| chosen_name(raw, &remote))
        .transpose()?;
    // Read only by the commands that use them: a key file is opened when it matters.
    let selection = || -> Result<Selection, String> {
        Ok(Selection {
            user: user.clone(),
            env_key: env_key::from_env()?,
            profile_env: env_nonempty(PROFILE_ENV)
                .map(|raw| chosen_name(&raw, &remote).map_err(|e| format!("{PROFILE_ENV}: {e}")))
                .transpose()?,
        })
    };
    let command = match def.kind {
        CommandKind::Login => {
            let method = match (low.web, low.with_api_key) {
                (true, true) => {
                    return Err("--web and --with-api-key are mutually exclusive".into());
                }
                (true, false) => Some(LoginMethod::Web),
                (false, true) => Some(LoginMethod::ApiKey),
                (false, false) if interactive => None,
                (false, false) => {
                    return Err("must specify --web or --with-api-key when not interactive".into());
                }
            };
            let label = match (low.label, low.profile) {
                (Some(_), Some(_)) => {
                    return Err(
                        "--label and --profile are two spellings of one flag: give one".into(),
                    );
                }
                (label, profile) => label.or(profile).as_deref().map(name).transpose()?,
            };
            if label.is_none() && method == Some(LoginMethod::ApiKey) && !interactive {
                return Err(
                    "--label or --profile is required with --with-api-key when not interactive"
                        .into(),
                );
            }
            Command::Login(LoginArgs {
                method,
                label,
                insecure_storage: low.insecure_storage,
                no_switch: low.no_switch,
                env_key_var: env_key::set_var(),
            })
        }
        // Removing an account takes a name on the command line or the current profile:
        // neither variable applies (SPEC §6a).
        CommandKind::Logout => match (low.all, &user) {
            (true, Some(_)) => return Err("--all and --user cannot be used together".into()),
            (true, None) => Command::LogoutAll,
            (false, _) => Command::Logout(Selection {
                user: user.clone(),
                ..Selection::default()
            }),
        },
        CommandKind::Switch => {
            if user.is_none() && !interactive {
                return Err("--user or --profile is required when not interactive".into());
            }
            Command::Switch { user: user.clone() }
        }
        CommandKind::Status => {
            if low.all && user.is_some() {
                return Err("--all and --user cannot be used together".into());
            }
            if low.all {
                Command::StatusAll(env_key::from_env()?)
            } else {
                Command::Status(selection()?)
            }
        }
        CommandKind::Token => Command::Token {
            selection: selection()?,
            header: low.header,
        },
        CommandKind::Whoami => Command::Whoami(selection()?),
        CommandKind::Version => Command::Version,
    };
    Ok(Args {
        def,
        command,
        output,
        remote,
        verbose: low.verbose,
    })
}

/// A new account name from the command line, without surrounding whitespace.
fn name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    store::check_name(name)?;
    Ok(name.to_owned())
}

/// The name of an account to use (`--user`, `BASETEN_PROFILE`): like [`name`], except
/// that a name the official CLI stored is taken as given even when it breaks the rules,
/// if it is exactly (untrimmed) that account's name (SPEC §9). The store is read only
/// for such a name.
fn chosen_name(raw: &str, remote: &Remote) -> Result<String, String> {
    let trimmed = raw.trim();
    match store::check_name(trimmed) {
        Ok(()) if trimmed == raw => Ok(raw.to_owned()),
        _ if is_stored(raw, remote) => Ok(raw.to_owned()),
        checked => checked.map(|()| trimmed.to_owned()),
    }
}

/// Whether `auth.json` holds an account named exactly `name`; an unreadable store holds
/// none (the command that reads it says why).
fn is_stored(name: &str, remote: &Remote) -> bool {
    store::Store::open(&remote.url)
        .and_then(|store| store.read())
        .is_ok_and(|contents| {
            store::Snapshot::new(&contents).is_ok_and(|s| s.get(name).is_ok_and(|a| a.is_some()))
        })
}

/// Applies the `--output`/`--jq` rules of SPEC §2 and compiles the filter. For a
/// `streamed` command (one result per item), `--jq` implies `jsonl`.
fn resolve_output(
    output: Option<&str>,
    jq: Option<&str>,
    streamed: bool,
) -> Result<OutputOptions, String> {
    let format = match output {
        None if jq.is_some() && streamed => Format::Jsonl,
        None if jq.is_some() => Format::Json,
        None => Format::Text,
        Some(name) => Format::from_name(name).ok_or_else(|| format!("unknown format {name:?}"))?,
    };
    if let (Some(_), Format::Text | Format::None) = (jq, format) {
        return Err(format!(
            "--jq cannot be used with --output {}",
            format.name()
        ));
    }
    let jq = match jq {
        Some(expr) => {
            Some(jq::Filter::compile(expr).map_err(|e| format!("invalid --jq expression: {e}"))?)
        }
        None => None,
    };
    Ok(OutputOptions { format, jq })
}

/// `--remote-url` > `BASETEN_REMOTE_URL` > the default, plus the management override.
fn resolve_remote(flag: Option<String>) -> Result<Remote, String> {
    let (source, url) = match flag {
        Some(url) => ("--remote-url", url),
        None => match env_nonempty("BASETEN_REMOTE_URL") {
            Some(url) => ("BASETEN_REMOTE_URL", url),
            None => ("default", remote::DEFAULT_REMOTE.to_string()),
        },
    };
    let url = remote::Origin::parse(&url).map_err(|e| format!("invalid {source}: {e}"))?;
    let api = env_nonempty("BASETEN_MANAGEMENT_API_URL_OVERRIDE")
        .map(|o| {
            remote::Origin::parse(&o)
                .map_err(|e| format!("invalid BASETEN_MANAGEMENT_API_URL_OVERRIDE: {e}"))
        })
        .transpose()?;
    Ok(Remote::new(url, api, source != "default"))
}

/// An environment variable's value; unset, empty and non-UTF-8 all count as absent.
pub fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("output", "outptu"), 2);
        assert_eq!(edit_distance("web", "web"), 0);
        assert_eq!(edit_distance("label", "lable"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}

#[cfg(test)]
mod parser_tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Action> {
        parse(words.iter().map(OsString::from))
    }

    /// The resolved arguments of a leaf command line, which must parse.
    fn args(words: &[&str]) -> Args {
        match parse_words(words) {
            Ok(Action::Run(args)) => *args,
            Ok(_) => panic!("{words:?} did not parse to a command"),
            Err(e) => panic!("{words:?}: {e}"),
        }
    }

    /// The usage error of a command line.
    fn usage_error(words: &[&str]) -> String {
        match parse_words(words) {
            Err(e @ Error::Usage { .. }) => {
                assert!(e.usage_line().is_some(), "{words:?}: no usage line");
                e.to_string()
            }
            Err(e) => panic!("{words:?}: not a usage error: {e}"),
            Ok(_) => panic!("{words:?} parsed"),
        }
    }

    const R: [&str; 2] = ["--remote-url", "https://app.example.com"];

    #[test]
    fn every_value_spelling_sets_the_format() {
        for words in [
            &["auth", "status", "--output", "json"][..],
            &["auth", "status", "--output=json"],
            &["auth", "status", "-o", "json"],
            &["auth", "status", "-ojson"],
        ] {
            assert_eq!(args(words).output.format, Format::Json, "{words:?}");
        }
        assert_eq!(
            args(&["auth", "status", "-q", ".user"]).output.format,
            Format::Json
        );
        assert_eq!(
            args(&["auth", "status", "--all", "-q", ".user"])
                .output
                .format,
            Format::Jsonl,
            "--jq on a streamed command implies jsonl"
        );
    }

    #[test]
    fn booleans_take_an_optional_attached_value() {
        let login =
            |extra: &str| match args(&["auth", "login", "--with-api-key", "--label", "ci", extra])
                .command
            {
                Command::Login(l) => l,
                other => panic!("{other:?}"),
            };
        assert!(login("--no-switch").no_switch);
        assert!(login("--no-switch=true").no_switch);
        assert!(!login("--no-switch=false").no_switch);
        assert!(usage_error(&["auth", "status", "--all=yes"]).contains("true or false"));
    }

    #[test]
    fn short_booleans_cluster_with_the_flags_after_them() {
        let a = args(&["auth", "status", "-vojson"]);
        assert!(a.verbose);
        assert_eq!(a.output.format, Format::Json);
        let a = args(&["auth", "status", "-vq", ".user"]);
        assert!(a.verbose);
        assert!(a.output.jq.is_some());
        assert!(args(&["auth", "status", "-vvv"]).verbose);
        assert!(usage_error(&["auth", "status", "-vx"]).contains("unknown flag: -x"));
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        match args(&["auth", "token", "--user", "  ci bot \t", R[0], R[1]]).command {
            Command::Token { selection: s, .. } => assert_eq!(s.user.as_deref(), Some("ci bot")),
            other => panic!("{other:?}"),
        }
        match args(&["auth", "status", "--profile", "p"]).command {
            Command::Status(selection) => assert_eq!(selection.user.as_deref(), Some("p")),
            other => panic!("{other:?}"),
        }
        assert!(usage_error(&["auth", "switch", "--user", " "]).contains("empty"));
        assert!(usage_error(&["auth", "switch", "--user", "a\u{202e}b"]).contains("format"));
    }

    #[test]
    fn the_remote_is_explicit_only_when_given() {
        let a = args(&["auth", "status", R[0], "https://APP.example.com/"]);
        assert_eq!(a.remote.url, "https://app.example.com");
        assert_eq!(
            a.remote.endpoint().unwrap().base.to_string(),
            "https://api.example.com"
        );
        assert!(a.remote.explicit);
    }

    #[test]
    fn usage_errors_name_the_offending_word() {
        for (words, needle) in [
            (
                &["auth", "status", "--outptu", "json"][..],
                "did you mean --output",
            ),
            (
                &["auth", "status", "--output"],
                "flag needs an argument: --output",
            ),
            (&["auth", "status", "-o", "yaml"], "\"yaml\""),
            (
                &["auth", "status", "extra"],
                "unexpected argument \"extra\"",
            ),
            (&["auth", "nope"], "unknown command \"nope\""),
            (&["nope"], "unknown command \"nope\""),
            (
                &["auth", "status", "--jq", ".a", "-o", "text"],
                "--output text",
            ),
            (
                &["auth", "status", "--jq", ".a |"],
                "invalid --jq expression",
            ),
            (
                &["auth", "login", "--web", "--with-api-key"],
                "mutually exclusive",
            ),
            (
                &["auth", "status", "--all", "--user", "x"],
                "--all and --user",
            ),
            (&["completion", "tcsh"], "bash, zsh, fish"),
            (
                &["auth", "status", R[0], "http://example.com"],
                "plain http",
            ),
        ] {
            let e = usage_error(words);
            assert!(e.contains(needle), "{words:?}: {e}");
        }
    }

    #[test]
    fn special_modes_are_values() {
        assert!(matches!(parse_words(&[]), Ok(Action::Print(_))));
        assert!(
            matches!(parse_words(&["--version"]), Ok(Action::Print(v)) if v.starts_with("baseten "))
        );
        assert!(
            matches!(parse_words(&["auth", "token", "-h"]), Ok(Action::Print(h)) if h.contains("--user"))
        );
        assert!(matches!(
            parse_words(&[LIST_ACCOUNTS]),
            Ok(Action::ListAccounts)
        ));
        assert!(matches!(
            parse_words(&["completion", "fish"]),
            Ok(Action::Print(_))
        ));
    }
}
