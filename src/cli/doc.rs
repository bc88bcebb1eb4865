//! Help text generated from the command table, so it always matches what is parsed.

use std::fmt::Write;

use super::defs::{COMMANDS, CommandDef, FlagDef};

/// Usage line of the top-level command.
pub const TOP_USAGE: &str = "Usage: baseten <command> [OPTIONS]";
/// Usage line of `baseten auth`.
pub const AUTH_USAGE: &str = "Usage: baseten auth <command> [OPTIONS]";

/// `baseten --help`.
pub fn top_help() -> String {
    format!(
        "baseten: the Baseten command line\n\n{TOP_USAGE}\n\nCommands:\n  auth    \
         Log in to Baseten and manage credentials\n\nOptions:\n  -h, --help       Show help\n      \
         --version    Show the version\n\nRun 'baseten auth --help' for the auth commands.\n"
    )
}

/// `baseten auth --help`.
pub fn auth_help() -> String {
    let mut s = format!(
        "Log in, log out and manage Baseten credentials. Credentials are stored in the system \
         keyring when available, with a plain-text fallback in the config directory.\n\n\
         {AUTH_USAGE}\n\nCommands:\n"
    );
    for c in COMMANDS {
        let _ = writeln!(s, "  {:<8}{}", c.name, c.about);
    }
    s.push_str("\nRun 'baseten auth <command> --help' for a command's options.\n");
    s
}

/// `baseten auth <command> --help`.
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
    let _ = writeln!(s, "Output:\n{}", wrap(def.output, 80));
    s
}

/// `-o, --output FORMAT`, aligned so long-only flags line up with the others.
pub fn flag_words(f: &FlagDef) -> String {
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
