//! Everything generated from the command table: `--help` texts, the man page and the
//! shell completion scripts. None of them can drift from what the parser accepts.

use std::fmt::Write;

use super::defs::{
    COMMANDS, CommandDef, ENVIRONMENT, EXIT_CODES, FlagDef, Group, Shell, TOP_COMMANDS, TopDef,
    commands,
};
use super::parse::LIST_ACCOUNTS;

/// Usage line of the top-level command.
pub const TOP_USAGE: &str = "Usage: baseten <command> [OPTIONS]";
/// Usage line of `baseten auth`.
pub const AUTH_USAGE: &str = "Usage: baseten auth <command> [OPTIONS]";
/// What `baseten auth` is about, for help and the man page.
const AUTH_ABOUT: &str = "Log in, log out and manage Baseten credentials. Credentials are \
    stored in the system keyring when available, with a plain-text fallback in the config \
    directory.";

/// `baseten --help`.
pub fn top_help() -> String {
    let mut s = format!("baseten: the Baseten command line\n\n{TOP_USAGE}\n\nCommands:\n");
    for (name, about) in top_words() {
        let _ = writeln!(s, "  {name:<12}{about}");
    }
    s.push_str("\nOptions:\n  -h, --help      Show help\n      --version   Show the version\n");
    s.push_str("\nRun 'baseten auth --help' for the auth commands.\n");
    s
}

/// `baseten auth --help`.
pub fn auth_help() -> String {
    let mut s = format!("{}\n\n{AUTH_USAGE}\n\nCommands:\n", wrap(AUTH_ABOUT, 80));
    for c in commands(Group::Auth) {
        let _ = writeln!(s, "  {:<8}{}", c.name, c.about);
    }
    s.push_str("\nRun 'baseten auth <command> --help' for a command's options.\n");
    s
}

/// Every word that can follow `baseten`, with its summary, in help order: `auth`, the
/// top-level leaf commands, then the generators.
fn top_words() -> impl Iterator<Item = (&'static str, &'static str)> {
    let tops = TOP_COMMANDS.iter().map(|t| (t.name, t.about));
    let leaves = commands(Group::Top).map(|c| (c.name, c.about));
    tops.clone().take(1).chain(leaves).chain(tops.skip(1))
}

/// `baseten auth <command> --help`, `baseten whoami --help`.
pub fn command_help(def: &CommandDef) -> String {
    let mut s = format!(
        "{}\n\n{}\n\nOptions:\n",
        wrap(def.description, 80),
        def.usage()
    );
    for f in def.all_flags() {
        let _ = writeln!(s, "  {:<24}{}", flag_words(f), f.help);
    }
    s.push_str("\nExamples:\n");
    for (what, line) in def.examples {
        let _ = writeln!(s, "  # {what}\n  {line}\n");
    }
    let _ = writeln!(
        s,
        "Output:\n  {}",
        wrap(def.output, 78).replace('\n', "\n  ")
    );
    s
}

/// `-o, --output FORMAT`, aligned so long-only flags line up with the others.
fn flag_words(f: &FlagDef) -> String {
    let short = f
        .short
        .map(|c| format!("-{c}, "))
        .unwrap_or_else(|| "    ".into());
    match f.value_name {
        Some(v) => format!("{short}--{} {v}", f.long),
        None => format!("{short}--{}", f.long),
    }
}

/// Greedy word wrap for prose paragraphs.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        if line > 0 && line + 1 + word.len() > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

/// The man page, `baseten.1`, in roff.
pub fn man_page() -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        ".TH BASETEN 1 \"\" \"baseten {}\" \"User Commands\"",
        env!("CARGO_PKG_VERSION")
    );
    s.push_str(".SH NAME\nbaseten \\- log in to Baseten and manage credentials\n.SH SYNOPSIS\n");
    for c in COMMANDS {
        let args = format!("{} [OPTIONS]", c.synopsis);
        let _ = writeln!(s, ".B baseten {}\n{}\n.br", c.path(), roff(args.trim()));
    }
    for TopDef { name, synopsis, .. } in &TOP_COMMANDS[1..] {
        let _ = writeln!(s, ".B baseten {name} {}\n.br", roff(synopsis));
    }
    s.push_str(".B baseten\n\\-\\-help | \\-\\-version\n");
    let _ = writeln!(s, ".SH DESCRIPTION\n{}", roff(AUTH_ABOUT));
    s.push_str(
        "Results go to standard output; prompts, the URL to open, warnings and errors go to \
         standard error.\n.SH COMMANDS\n",
    );
    for c in COMMANDS {
        let _ = writeln!(s, ".SS \"baseten {}\"\n{}", c.path(), roff(c.description));
        for f in c.flags {
            man_flag(&mut s, f);
        }
        let _ = writeln!(s, ".PP\nOutput: {}", roff(c.output));
    }
    for TopDef {
        name,
        synopsis,
        about,
        ..
    } in &TOP_COMMANDS[1..]
    {
        let _ = writeln!(
            s,
            ".SS \"baseten {name} {}\"\n{}.",
            roff(synopsis),
            roff(about)
        );
    }
    s.push_str(".SH OPTIONS\nEvery auth command, whoami and version accept:\n");
    for f in super::defs::COMMON {
        man_flag(&mut s, f);
    }
    s.push_str(".SH ENVIRONMENT\n");
    for (name, meaning) in ENVIRONMENT {
        let _ = writeln!(s, ".TP\n.B {}\n{}", roff(name), roff(meaning));
    }
    s.push_str(
        ".SH FILES\n.TP\n.I $BASETEN_CONFIG_DIR/auth.json\nAccounts per remote and the active \
         one; secrets only when stored in plain text. Default directory: \
         $XDG_CONFIG_HOME/baseten or ~/.config/baseten (macOS: ~/Library/Application \
         Support/baseten; Windows: %AppData%\\ebaseten). Mode 0600 in a 0700 directory.\n\
         .TP\n.I auth.json.lock\nLock file held while auth.json is changed.\n.TP\n\
         .B keyring\nItems with service baseten\\-profile and account <name>, shared with \
         Baseten's official CLI.\n.SH EXIT STATUS\n",
    );
    for (code, meaning) in EXIT_CODES {
        let _ = writeln!(s, ".TP\n.B {code}\n{}", roff(meaning));
    }
    s.push_str(".SH EXAMPLES\n");
    for c in COMMANDS {
        for (what, line) in c.examples {
            let _ = writeln!(
                s,
                ".PP\n{}:\n.RS\n.nf\n{}\n.fi\n.RE",
                roff(what),
                roff(line)
            );
        }
    }
    s
}

fn man_flag(s: &mut String, f: &FlagDef) {
    let _ = writeln!(
        s,
        ".TP\n.B {}\n{}.",
        roff(flag_words(f).trim_start()),
        roff(f.help)
    );
}

/// Escapes text for roff: backslashes, hyphens, and a leading `.` or `'`.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// The completion script for `shell`.
pub fn completion(shell: Shell) -> String {
    match shell {
        Shell::Bash => bash(),
        Shell::Zsh => zsh(),
        Shell::Fish => fish(),
    }
}

fn names(items: impl Iterator<Item = &'static str>) -> String {
    items.collect::<Vec<_>>().join(" ")
}

/// Every spelling of a leaf command's flags, for word lists.
fn flag_spellings(c: &CommandDef) -> String {
    let mut words = Vec::new();
    for f in c.all_flags() {
        words.push(format!("--{}", f.long));
        if let Some(short) = f.short {
            words.push(format!("-{short}"));
        }
    }
    words.join(" ")
}

fn bash() -> String {
    let mut s = String::from("# bash completion for baseten\n_baseten() {\n");
    s.push_str("    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} leaf\n");
    let _ = writeln!(
        s,
        "    if [[ $COMP_CWORD -eq 1 ]]; then\n        COMPREPLY=($(compgen -W \"{} --help --version\" -- \"$cur\"))\n        return\n    fi",
        names(top_words().map(|(name, _)| name))
    );
    let _ = writeln!(
        s,
        "    case ${{COMP_WORDS[1]}} in\n        completion) [[ $COMP_CWORD -eq 2 ]] && COMPREPLY=($(compgen -W \"{}\" -- \"$cur\")); return ;;\n        auth)\n            if [[ $COMP_CWORD -eq 2 ]]; then\n                COMPREPLY=($(compgen -W \"{} --help\" -- \"$cur\"))\n                return\n            fi\n            leaf=${{COMP_WORDS[2]}} ;;\n        {}) leaf=${{COMP_WORDS[1]}} ;;\n        *) return ;;\n    esac",
        Shell::names(" "),
        names(commands(Group::Auth).map(|c| c.name)),
        commands(Group::Top)
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join("|"),
    );
    // `--output=<TAB>`: bash splits at `=`, so the flag is the word before it.
    s.push_str("    [[ $prev == = ]] && prev=${COMP_WORDS[COMP_CWORD-2]}\n    case $prev in\n");
    let mut valued: Vec<String> = Vec::new();
    for c in COMMANDS {
        for f in c.all_flags().filter(|f| f.value_name.is_some()) {
            let mut pat = format!("--{}", f.long);
            if let Some(short) = f.short {
                pat = format!("-{short}|{pat}");
            }
            if valued.contains(&pat) {
                continue;
            }
            let action = if f.complete_accounts {
                // One name per line; names may hold spaces.
                format!(
                    "local IFS=$'\\n'; COMPREPLY=($(compgen -W \"$(\"${{COMP_WORDS[0]}}\" {LIST_ACCOUNTS} 2>/dev/null)\" -- \"$cur\")); return"
                )
            } else if f.choices.is_empty() {
                "return".to_owned()
            } else {
                format!(
                    "COMPREPLY=($(compgen -W \"{}\" -- \"$cur\")); return",
                    f.choices.join(" ")
                )
            };
            let _ = writeln!(s, "        {pat}) {action} ;;");
            valued.push(pat);
        }
    }
    s.push_str("    esac\n    local flags\n    case $leaf in\n");
    for c in COMMANDS {
        let _ = writeln!(s, "        {}) flags=\"{}\" ;;", c.name, flag_spellings(c));
    }
    s.push_str(
        "        *) return ;;\n    esac\n    COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n}\ncomplete -F _baseten baseten\n",
    );
    s
}

/// Text inside a zsh `_arguments` description: brackets and quotes escaped.
fn zsh_text(text: &str) -> String {
    text.replace('\'', "'\\''")
        .replace('[', "\\[")
        .replace(']', "\\]")
        .replace(':', "\\:")
}

fn zsh() -> String {
    let mut s = String::from("#compdef baseten\n# zsh completion for baseten\n");
    let _ = writeln!(
        s,
        "_baseten_accounts() {{\n    local -a names\n    names=(${{(f)\"$(baseten {LIST_ACCOUNTS} 2>/dev/null)\"}})\n    compadd -a names\n}}"
    );
    s.push_str("_baseten() {\n");
    s.push_str("    if (( CURRENT == 2 )); then\n        local -a cmds\n        cmds=(\n");
    for (name, about) in top_words() {
        let _ = writeln!(s, "            '{name}:{}'", zsh_text(about));
    }
    s.push_str("        )\n        _describe 'command' cmds\n        return\n    fi\n");
    let _ = writeln!(
        s,
        "    case $words[2] in\n        completion) (( CURRENT == 3 )) && _values 'shell' {}; return ;;\n        auth)\n            if (( CURRENT == 3 )); then\n                local -a subs\n                subs=(",
        Shell::names(" ")
    );
    for c in commands(Group::Auth) {
        let _ = writeln!(s, "                    '{}:{}'", c.name, zsh_text(c.about));
    }
    let _ = writeln!(
        s,
        "                )\n                _describe 'auth command' subs\n                return\n            fi\n            words=(\"${{(@)words[3,-1]}}\")\n            (( CURRENT -= 2 )) ;;\n        {})\n            words=(\"${{(@)words[2,-1]}}\")\n            (( CURRENT -= 1 )) ;;\n        *) return ;;\n    esac\n    case $words[1] in",
        commands(Group::Top)
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join("|"),
    );
    for c in COMMANDS {
        let _ = writeln!(s, "        {})\n            _arguments \\", c.name);
        for f in c.all_flags() {
            let help = zsh_text(f.help);
            let value = match (f.value_name, f.choices) {
                (None, _) => String::new(),
                (Some(v), _) if f.complete_accounts => format!(":{v}:_baseten_accounts"),
                (Some(v), []) => format!(":{v}: "),
                (Some(v), choices) => format!(":{v}:({})", choices.join(" ")),
            };
            let eq = if f.value_name.is_some() { "=" } else { "" };
            match f.short {
                Some(short) => {
                    let plus = if f.value_name.is_some() { "+" } else { "" };
                    let _ = writeln!(
                        s,
                        "                '(-{short} --{long})'{{-{short}{plus},--{long}{eq}}}'[{help}]{value}' \\",
                        long = f.long
                    );
                }
                None => {
                    let _ = writeln!(s, "                '--{}{eq}[{help}]{value}' \\", f.long);
                }
            }
        }
        s.push_str("            ;;\n");
    }
    s.push_str("    esac\n}\n_baseten \"$@\"\n");
    s
}

/// Text inside a fish single-quoted string.
fn fish_text(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}

fn fish() -> String {
    let mut s = String::from("# fish completion for baseten\ncomplete -c baseten -f\n");
    for (name, about) in top_words() {
        let _ = writeln!(
            s,
            "complete -c baseten -n __fish_use_subcommand -a {name} -d '{}'",
            fish_text(about)
        );
    }
    let _ = writeln!(
        s,
        "complete -c baseten -n '__fish_seen_subcommand_from completion' -a '{}'",
        Shell::names(" ")
    );
    let leaves = names(commands(Group::Auth).map(|c| c.name));
    for c in COMMANDS {
        let seen = match c.group {
            Group::Auth => {
                let _ = writeln!(
                    s,
                    "complete -c baseten -n '__fish_seen_subcommand_from auth; and not __fish_seen_subcommand_from {leaves}' -a {} -d '{}'",
                    c.name,
                    fish_text(c.about)
                );
                format!(
                    "__fish_seen_subcommand_from auth; and __fish_seen_subcommand_from {}",
                    c.name
                )
            }
            Group::Top => format!("__fish_seen_subcommand_from {}", c.name),
        };
        for f in c.all_flags() {
            let mut line = format!("complete -c baseten -n '{seen}' -l {}", f.long);
            if let Some(short) = f.short {
                let _ = write!(line, " -s {short}");
            }
            if f.value_name.is_some() {
                line.push_str(" -x");
            }
            if f.complete_accounts {
                let _ = write!(line, " -a '(baseten {LIST_ACCOUNTS} 2>/dev/null)'");
            } else if !f.choices.is_empty() {
                let _ = write!(line, " -a '{}'", f.choices.join(" "));
            }
            let _ = writeln!(s, "{line} -d '{}'", fish_text(f.help));
        }
    }
    s
}
