//! The lexopt loop over the table in [`super::defs`], in two stages: raw arguments as
//! typed ([`LowArgs`]), then resolved arguments ([`Args`]) with environment variables,
//! defaults and cross-flag rules applied. Commands only ever see [`Args`]. Every usage
//! error is raised here, before any prompt, network call or file write.

use std::ffi::OsString;

use super::defs::{self, CommandDef, FlagDef, FlagValue, SHELLS};
use super::doc;
use crate::commands::login::LoginArgs;
use crate::error::{Error, Result};
use crate::jq;
use crate::output::{Format, OutputOptions};
use crate::remote::{self, Remote};
use crate::term;

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
    pub insecure_storage: bool,
    pub user: Option<String>,
}

/// How `login` obtains a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMethod {
    /// OAuth device flow in a browser.
    Web,
    /// An API key from stdin or a prompt.
    ApiKey,
}

/// A leaf command with its resolved, validated options.
pub enum Command {
    /// `auth login`.
    Login(LoginArgs),
    /// `auth logout`.
    Logout,
    /// `auth switch`; `user` is `None` when the user is to be asked (terminal only).
    Switch { user: Option<String> },
    /// `auth status`.
    Status,
    /// `auth token`.
    Token,
}

/// Everything a command run needs from the command line and environment.
pub struct Args {
    /// The table entry of the command, for its usage line.
    pub def: &'static CommandDef,
    pub command: Command,
    pub output: OutputOptions,
    pub remote: Remote,
    pub verbose: bool,
}

/// What the program was asked to do.
pub enum Action {
    /// Print this text (help) to stdout and exit 0.
    Print(String),
    /// Run a command.
    Run(Args),
}

/// Longest account label accepted.
const MAX_LABEL: usize = 256;

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
        Some(lexopt::Arg::Value(v)) if v == "auth" => {}
        Some(lexopt::Arg::Value(v)) if v == "man" => {
            return only_positionals(&mut p, 0)
                .map(|_| Action::Print(doc::man_page()))
                .map_err(top);
        }
        Some(lexopt::Arg::Value(v)) if v == "completion" => {
            let shell = only_positionals(&mut p, 1).map_err(top)?;
            return match shell.first().map(String::as_str) {
                Some(sh) if SHELLS.contains(&sh) => Ok(Action::Print(doc::completion(sh))),
                Some(sh) => Err(top(format!(
                    "unknown shell {sh:?}: expected one of {}",
                    SHELLS.join(", ")
                ))),
                None => Err(top(format!(
                    "missing shell: expected one of {}",
                    SHELLS.join(", ")
                ))),
            };
        }
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
        Some(lexopt::Arg::Value(v)) => match v.to_str().and_then(defs::command) {
            Some(def) => def,
            None => {
                return Err(auth(format!(
                    "unknown command {:?} for \"baseten auth\"",
                    v
                )));
            }
        },
        Some(arg) => return Err(auth(describe(arg, "command"))),
    };
    let usage = |message: String| Error::Usage {
        message,
        usage: def.usage(),
    };
    let low = parse_leaf(&mut p, def).map_err(usage)?;
    if low.help {
        return Ok(Action::Print(doc::command_help(def)));
    }
    resolve(def, low).map(Action::Run).map_err(usage)
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
        (flag.apply)(&mut low, value);
    }
    Ok(low)
}

/// Reads a flag's value: the next word (or attached `=value`) for valued flags, an
/// optional attached `=true`/`=false` for booleans.
fn read_value(p: &mut lexopt::Parser, flag: &FlagDef, shown: &str) -> Result<FlagValue, String> {
    let utf8 = |v: OsString| {
        v.into_string()
            .map_err(|_| format!("value of {shown} is not valid UTF-8"))
    };
    if flag.value_name.is_none() {
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
    let output = resolve_output(low.output.as_deref(), low.jq.as_deref())?;
    let remote = resolve_remote(low.remote_url)?;
    if matches!(def.name, "login" | "logout" | "token") {
        // Proxy variables that cannot be used are a usage error before any prompt,
        // never a silent direct connection (SPEC §4a).
        crate::proxy::route_for_base(&remote.api)?;
    }
    // Surrounding whitespace is never part of a label (SPEC §9).
    let label = low.label.as_deref().map(|l| l.trim().to_owned());
    let interactive = term::stdin_is_terminal();
    let command = match def.name {
        "login" => {
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
            if let Some(label) = &label {
                check_label(label)?;
                if method == Some(LoginMethod::Web) {
                    return Err("--label applies only to --with-api-key".into());
                }
            } else if method == Some(LoginMethod::ApiKey) && !interactive {
                return Err("--label is required with --with-api-key when not interactive".into());
            }
            Command::Login(LoginArgs {
                method,
                label,
                insecure_storage: low.insecure_storage,
            })
        }
        "logout" => Command::Logout,
        "switch" => {
            if let Some(user) = &low.user {
                check_label(user)?;
            } else if !interactive {
                return Err("--user is required when not interactive".into());
            }
            Command::Switch { user: low.user }
        }
        "status" => Command::Status,
        _ => Command::Token,
    };
    Ok(Args {
        def,
        command,
        output,
        remote,
        verbose: low.verbose,
    })
}

/// Applies the `--output`/`--jq` rules of SPEC §2 and compiles the filter.
fn resolve_output(output: Option<&str>, jq: Option<&str>) -> Result<OutputOptions, String> {
    let format = match output {
        None if jq.is_some() => Format::Json,
        None | Some("text") => Format::Text,
        Some("json") => Format::Json,
        Some("jsonl") => Format::Jsonl,
        Some(_) => Format::None,
    };
    if let (Some(_), Some(o @ ("text" | "none"))) = (jq, output) {
        return Err(format!("--jq cannot be used with --output {o}"));
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
    let url = remote::normalize(&url).map_err(|e| format!("invalid {source}: {e}"))?;
    let api = env_nonempty("BASETEN_MANAGEMENT_API_URL_OVERRIDE")
        .map(|o| {
            remote::normalize(&o)
                .map_err(|e| format!("invalid BASETEN_MANAGEMENT_API_URL_OVERRIDE: {e}"))
        })
        .transpose()?;
    Ok(Remote::new(url, api))
}

/// An environment variable's value; unset, empty and non-UTF-8 all count as absent.
pub fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Account labels: non-empty, at most 256 characters, no control characters.
pub fn check_label(label: &str) -> Result<(), String> {
    if label.trim().is_empty() {
        return Err("account label must not be empty".into());
    }
    if label.chars().count() > MAX_LABEL {
        return Err(format!(
            "account label is longer than {MAX_LABEL} characters"
        ));
    }
    if label.chars().any(char::is_control) {
        return Err("account label must not contain control characters".into());
    }
    Ok(())
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
