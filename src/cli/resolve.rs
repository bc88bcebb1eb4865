//! The second stage: raw arguments ([`LowArgs`]) and the environment (handed in as an
//! [`Env`]) become the resolved arguments ([`Args`]), with defaults and cross-flag rules
//! applied. Every usage error the parser cannot see on its own is raised here, before any
//! prompt, network call or file write.

use super::args::{Args, Command, LoginArgs, LoginMethod, Selection};
use super::defs::{CommandDef, CommandKind};
use super::env::Env;
use super::env_key;
use super::low::LowArgs;
use crate::error::{Error, Result};
use crate::jq;
use crate::net::proxy::ProxyVars;
use crate::origin::Origin;
use crate::output::{Format, OutputOptions};
use crate::remote::{self, Remote};
use crate::store;
use crate::terminal;
use crate::vars;

/// Resolves the raw arguments of the leaf command `def`; an error is a usage error with
/// the command's usage line.
pub fn resolve(def: &'static CommandDef, low: LowArgs, env: &Env<'_>) -> Result<Args> {
    args(def, low, env).map_err(|message| Error::Usage {
        message,
        usage: def.usage(),
    })
}

/// Environment, defaults and cross-flag rules.
fn args(def: &'static CommandDef, low: LowArgs, env: &Env<'_>) -> Result<Args, String> {
    let streamed = low.all;
    let output = resolve_output(low.output, low.jq.as_deref(), streamed)?;
    let remote = resolve_remote(low.remote_url, env)?;
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
            env_key: env_key::from_env(env)?,
            profile_env: env
                .get(vars::PROFILE)
                .map(|raw| {
                    chosen_name(&raw, &remote).map_err(|e| format!("{}: {e}", vars::PROFILE))
                })
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
                env_key_var: env_key::set_var(env),
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
                Command::StatusAll(env_key::from_env(env)?)
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
    output: Option<Format>,
    jq: Option<&str>,
    streamed: bool,
) -> Result<OutputOptions, String> {
    let format = match output {
        None if jq.is_some() && streamed => Format::Jsonl,
        None if jq.is_some() => Format::Json,
        None => Format::Text,
        Some(format) => format,
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
fn resolve_remote(flag: Option<String>, env: &Env<'_>) -> Result<Remote, String> {
    let (source, url) = match flag {
        Some(url) => ("--remote-url", url),
        None => match env.get(vars::REMOTE_URL) {
            Some(url) => (vars::REMOTE_URL, url),
            None => ("default", remote::DEFAULT_REMOTE.to_string()),
        },
    };
    let url = Origin::parse(&url).map_err(|e| format!("invalid {source}: {e}"))?;
    let api = env
        .get(vars::MANAGEMENT_API_URL_OVERRIDE)
        .map(|o| {
            Origin::parse(&o)
                .map_err(|e| format!("invalid {}: {e}", vars::MANAGEMENT_API_URL_OVERRIDE))
        })
        .transpose()?;
    let proxies = ProxyVars::read(&|name| env.get(name));
    Ok(Remote::new(url, api, source != "default", proxies))
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;
    use crate::cli::parse::{Action, parse};

    const R: [&str; 2] = ["--remote-url", "https://app.example.com"];

    /// A command line parsed and resolved against the variables `vars` (and nothing else
    /// of the process environment that is ours).
    fn resolved(words: &[&str], vars: &[(&str, &str)]) -> Result<Args> {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        };
        match parse(words.iter().map(OsString::from))? {
            Action::Run(def, low) => resolve(def, *low, &Env::new(&lookup)),
            _ => panic!("{words:?} did not parse to a command"),
        }
    }

    /// The resolved arguments of a command line, which must resolve.
    fn args(words: &[&str]) -> Args {
        resolved(words, &[]).unwrap_or_else(|e| panic!("{words:?}: {e}"))
    }

    /// The usage error of a command line under `vars`.
    fn usage_error(words: &[&str], vars: &[(&str, &str)]) -> String {
        match resolved(words, vars) {
            Err(e @ Error::Usage { .. }) => {
                assert!(e.usage_line().is_some(), "{words:?}: no usage line");
                e.to_string()
            }
            Err(e) => panic!("{words:?}: not a usage error: {e}"),
            Ok(_) => panic!("{words:?} resolved"),
        }
    }

    fn selection(args: Args) -> Selection {
        match args.command {
            Command::Status(s) | Command::Whoami(s) | Command::Token { selection: s, .. } => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn jq_implies_json_or_jsonl_for_streamed_commands() {
        assert_eq!(args(&["auth", "status"]).output.format, Format::Text);
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
        assert!(
            args(&["auth", "status", "-vq", ".user"])
                .output
                .jq
                .is_some()
        );
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        let s = selection(args(&[
            "auth",
            "token",
            "--user",
            "  ci bot \t",
            R[0],
            R[1],
        ]));
        assert_eq!(s.user.as_deref(), Some("ci bot"));
        let s = selection(args(&["auth", "status", "--profile", "p"]));
        assert_eq!(s.user.as_deref(), Some("p"));
        assert!(usage_error(&["auth", "switch", "--user", " "], &[]).contains("empty"));
        assert!(usage_error(&["auth", "switch", "--user", "a\u{202e}b"], &[]).contains("format"));
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
        assert!(!args(&["auth", "status"]).remote.explicit);
    }

    #[test]
    fn the_remote_comes_from_the_flag_then_the_variable_then_the_default() {
        let remote = |words: &[&str], vars: &[(&str, &str)]| {
            let remote = resolved(words, vars).unwrap().remote;
            (remote.url, remote.explicit)
        };
        let env = [(vars::REMOTE_URL, "https://app.env.example")];
        assert_eq!(
            remote(&["auth", "status"], &env),
            ("https://app.env.example".into(), true)
        );
        assert_eq!(
            remote(&["auth", "status", R[0], R[1]], &env),
            ("https://app.example.com".into(), true)
        );
        assert_eq!(
            remote(&["auth", "status"], &[(vars::REMOTE_URL, "")]),
            (remote::DEFAULT_REMOTE.into(), false),
            "an empty variable is unset"
        );
        let over = [(vars::MANAGEMENT_API_URL_OVERRIDE, "https://mgmt.example")];
        let a = resolved(&["auth", "status"], &over).unwrap();
        assert_eq!(
            a.remote.endpoint().unwrap().base.to_string(),
            "https://mgmt.example"
        );
        assert!(
            usage_error(
                &["auth", "status"],
                &[(vars::REMOTE_URL, "http://x.example")]
            )
            .starts_with("invalid BASETEN_REMOTE_URL: ")
        );
        assert!(
            usage_error(
                &["auth", "status"],
                &[(vars::MANAGEMENT_API_URL_OVERRIDE, "x y")]
            )
            .starts_with("invalid BASETEN_MANAGEMENT_API_URL_OVERRIDE: ")
        );
    }

    #[test]
    fn the_selection_reads_the_key_and_profile_variables_handed_in() {
        let s = selection(resolved(&["whoami"], &[(vars::API_KEY, "k1")]).unwrap());
        assert_eq!(s.env_key.as_ref().map(|k| k.var), Some(vars::API_KEY));
        assert!(s.env_key_in_use().is_some());
        let s = selection(
            resolved(
                &["auth", "token", "--user", "u"],
                &[(vars::API_KEY, "k1"), (vars::PROFILE, "p")],
            )
            .unwrap(),
        );
        assert!(s.env_key_in_use().is_none(), "--user wins over the key");
        assert_eq!(s.profile_env.as_deref(), Some("p"));
        assert!(
            usage_error(
                &["whoami"],
                &[(vars::API_KEY, "k"), (vars::API_KEY_FILE, "/f")]
            )
            .contains("are both set")
        );
        assert!(usage_error(&["whoami"], &[(vars::PROFILE, " ")]).starts_with("BASETEN_PROFILE: "));
        // Logout takes a name or the current profile: neither variable is read.
        match resolved(
            &["auth", "logout"],
            &[(vars::API_KEY, "k"), (vars::PROFILE, " ")],
        )
        .unwrap()
        .command
        {
            Command::Logout(s) => assert!(s.env_key.is_none() && s.profile_env.is_none()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cross_flag_rules_are_usage_errors() {
        for (words, needle) in [
            (
                &["auth", "status", "--jq", ".a", "-o", "text"][..],
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
                &[
                    "auth",
                    "login",
                    "--with-api-key",
                    "--label",
                    "a",
                    "--profile",
                    "b",
                ],
                "two spellings of one flag",
            ),
            (
                &["auth", "status", "--all", "--user", "x"],
                "--all and --user",
            ),
            (
                &["auth", "logout", "--all", "--profile", "x"],
                "--all and --user",
            ),
            (
                &["auth", "status", R[0], "http://example.com"],
                "plain http",
            ),
        ] {
            let e = usage_error(words, &[]);
            assert!(e.contains(needle), "{words:?}: {e}");
        }
    }

    #[test]
    fn proxy_variables_come_from_the_environment_handed_in() {
        let bad = [("https_proxy", "http://[::1")];
        let e = usage_error(&["auth", "token"], &bad);
        assert!(e.starts_with("invalid https_proxy: "), "{e}");
        // Offline commands send nothing: the same value is no error for them.
        assert!(resolved(&["auth", "status"], &bad).is_ok());
        let good = [("HTTPS_PROXY", "http://proxy.example:3128")];
        let args = resolved(&["auth", "token"], &good).unwrap();
        assert!(matches!(
            args.remote.endpoint().unwrap().route,
            crate::net::proxy::Route::Proxy(ref c) if c.var == "HTTPS_PROXY"
        ));
    }
}
