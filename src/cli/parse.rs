//! The lexopt loop over the table in [`super::defs`]: the first of the two stages. It
//! looks names up in the table, hands values to the flags (which store them typed in
//! [`LowArgs`]) and says what the program was asked to do as an [`Action`]. It renders
//! nothing and reads no environment: help, the man page and completion scripts are
//! values `main` renders, and a command's raw arguments go on to [`super::resolve`].

use std::ffi::OsString;

use super::defs::{
    self, AUTH_USAGE, CommandDef, FlagDef, FlagValue, Group, LIST_ACCOUNTS, TOP_USAGE, TopKind,
};
use super::low::{LowArgs, Shell};
use crate::error::{Error, Result};

/// What the program was asked to do.
pub enum Action {
    /// Print a text of the program's own and exit 0.
    Special(Special),
    /// Print the names of the stored accounts, one per line (for shell completions).
    ListAccounts,
    /// Resolve a leaf command's raw arguments and run it.
    Run(&'static CommandDef, Box<LowArgs>),
}

/// The texts the program prints about itself, each generated from the table.
pub enum Special {
    /// `--help` (or no arguments) of this topic.
    Help(Topic),
    /// `--version`: `baseten <version>`.
    Version,
    /// `baseten man`.
    Man,
    /// `baseten completion SHELL`.
    Completion(Shell),
}

/// Which `--help` was asked for.
pub enum Topic {
    /// `baseten --help`.
    Top,
    /// `baseten auth --help`.
    Auth,
    /// The help of a leaf command.
    Command(&'static CommandDef),
}

/// Parses the process arguments (without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Action> {
    let mut p = lexopt::Parser::from_args(args);
    let top = |message: String| Error::Usage {
        message,
        usage: TOP_USAGE.to_string(),
    };
    let special = |s| Ok(Action::Special(s));
    match p.next().map_err(|e| top(e.to_string()))? {
        None | Some(lexopt::Arg::Short('h')) | Some(lexopt::Arg::Long("help")) => {
            return special(Special::Help(Topic::Top));
        }
        Some(lexopt::Arg::Long("version")) => return special(Special::Version),
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
                        .map(|_| Action::Special(Special::Man))
                        .map_err(top);
                }
                TopKind::Completion => {
                    let shell = only_positionals(&mut p, 1).map_err(top)?;
                    return match shell.first().map(String::as_str) {
                        Some(name) => match Shell::from_name(name) {
                            Some(sh) => special(Special::Completion(sh)),
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
        usage: AUTH_USAGE.to_string(),
    };
    let def = match p.next().map_err(|e| auth(e.to_string()))? {
        None | Some(lexopt::Arg::Short('h')) | Some(lexopt::Arg::Long("help")) => {
            return special(Special::Help(Topic::Auth));
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

/// Parses the rest of a leaf command's arguments.
fn leaf(p: &mut lexopt::Parser, def: &'static CommandDef) -> Result<Action> {
    let low = parse_leaf(p, def).map_err(|message| Error::Usage {
        message,
        usage: def.usage(),
    })?;
    if low.help {
        return Ok(Action::Special(Special::Help(Topic::Command(def))));
    }
    Ok(Action::Run(def, Box::new(low)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Format;

    fn parse_words(words: &[&str]) -> Result<Action> {
        parse(words.iter().map(OsString::from))
    }

    /// The raw arguments of a leaf command line, which must parse to a command.
    fn low(words: &[&str]) -> LowArgs {
        match parse_words(words) {
            Ok(Action::Run(_, low)) => *low,
            Ok(_) => panic!("{words:?} did not parse to a command"),
            Err(e) => panic!("{words:?}: {e}"),
        }
    }

    /// The usage error of a command line, which must come with a usage line.
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

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("output", "outptu"), 2);
        assert_eq!(edit_distance("web", "web"), 0);
        assert_eq!(edit_distance("label", "lable"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn every_value_spelling_sets_the_format_typed() {
        for words in [
            &["auth", "status", "--output", "json"][..],
            &["auth", "status", "--output=json"],
            &["auth", "status", "-o", "json"],
            &["auth", "status", "-ojson"],
        ] {
            assert_eq!(low(words).output, Some(Format::Json), "{words:?}");
        }
        assert_eq!(low(&["version", "-o", "none"]).output, Some(Format::None));
        assert_eq!(low(&["version"]).output, None);
    }

    #[test]
    fn booleans_take_an_optional_attached_value() {
        let login = |extra: &str| low(&["auth", "login", "--with-api-key", extra]);
        assert!(login("--no-switch").no_switch);
        assert!(login("--no-switch=true").no_switch);
        assert!(!login("--no-switch=false").no_switch);
        assert!(usage_error(&["auth", "status", "--all=yes"]).contains("true or false"));
    }

    #[test]
    fn short_booleans_cluster_with_the_flags_after_them() {
        let a = low(&["auth", "status", "-vojson"]);
        assert!(a.verbose);
        assert_eq!(a.output, Some(Format::Json));
        let a = low(&["auth", "status", "-vq", ".user"]);
        assert!(a.verbose);
        assert_eq!(a.jq.as_deref(), Some(".user"));
        assert!(low(&["auth", "status", "-vvv"]).verbose);
        assert!(usage_error(&["auth", "status", "-vx"]).contains("unknown flag: -x"));
    }

    #[test]
    fn both_spellings_of_user_land_in_one_field_and_login_keeps_its_profile_apart() {
        assert_eq!(
            low(&["auth", "token", "--user", "a"]).user.as_deref(),
            Some("a")
        );
        assert_eq!(
            low(&["whoami", "--profile", "a"]).user.as_deref(),
            Some("a")
        );
        let login = low(&["auth", "login", "--profile", "p", "--label", "l"]);
        assert_eq!(
            (login.profile.as_deref(), login.label.as_deref(), login.user),
            (Some("p"), Some("l"), None)
        );
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
            (
                &["auth", "status", "-o", "yaml"],
                "invalid value \"yaml\" for -o: expected one of text, json, jsonl, none",
            ),
            (
                &["auth", "status", "extra"],
                "unexpected argument \"extra\"",
            ),
            (
                &["auth", "nope"],
                "unknown command \"nope\" for \"baseten auth\"",
            ),
            (&["nope"], "unknown command \"nope\""),
            (&["completion", "tcsh"], "bash, zsh, fish"),
            (&["completion"], "missing shell"),
            (&["man", "extra"], "unexpected argument \"extra\""),
            (&["--verbose"], "unknown flag: --verbose"),
        ] {
            let e = usage_error(words);
            assert!(e.contains(needle), "{words:?}: {e}");
        }
    }

    #[test]
    fn special_modes_are_values_not_text() {
        let special = |words: &[&str]| match parse_words(words) {
            Ok(Action::Special(s)) => s,
            _ => panic!("{words:?} is not a special mode"),
        };
        assert!(matches!(special(&[]), Special::Help(Topic::Top)));
        assert!(matches!(special(&["-h"]), Special::Help(Topic::Top)));
        assert!(matches!(special(&["auth"]), Special::Help(Topic::Auth)));
        assert!(matches!(special(&["--version"]), Special::Version));
        assert!(matches!(special(&["man"]), Special::Man));
        assert!(matches!(
            special(&["completion", "fish"]),
            Special::Completion(Shell::Fish)
        ));
        assert!(matches!(
            special(&["auth", "token", "-h"]),
            Special::Help(Topic::Command(def)) if def.name == "token"
        ));
        // --help=false is no help: the command runs.
        assert!(matches!(
            parse_words(&["version", "--help=false"]),
            Ok(Action::Run(def, _)) if def.name == "version"
        ));
        assert!(matches!(
            parse_words(&[LIST_ACCOUNTS]),
            Ok(Action::ListAccounts)
        ));
    }
}
