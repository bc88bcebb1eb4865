//! The `--help` texts: of `baseten`, of `baseten auth`, and of each leaf command.

use std::fmt::Write;

use crate::cli::defs::{AUTH_ABOUT, AUTH_USAGE, CommandDef, Group, TOP_USAGE, commands, top_words};

/// `baseten --help`.
pub fn top() -> String {
    let mut s = format!("baseten: the Baseten command line\n\n{TOP_USAGE}\n\nCommands:\n");
    for (name, about) in top_words() {
        let _ = writeln!(s, "  {name:<12}{about}");
    }
    s.push_str("\nOptions:\n  -h, --help      Show help\n      --version   Show the version\n");
    s.push_str("\nRun 'baseten auth --help' for the auth commands.\n");
    s
}

/// `baseten auth --help`.
pub fn auth() -> String {
    let mut s = format!("{}\n\n{AUTH_USAGE}\n\nCommands:\n", wrap(AUTH_ABOUT, 80));
    for c in commands(Group::Auth) {
        let _ = writeln!(s, "  {:<8}{}", c.name, c.about);
    }
    s.push_str("\nRun 'baseten auth <command> --help' for a command's options.\n");
    s
}

/// `baseten auth <command> --help`, `baseten whoami --help`.
pub fn command(def: &CommandDef) -> String {
    let mut s = format!(
        "{}\n\n{}\n\nOptions:\n",
        wrap(def.description, 80),
        def.usage()
    );
    for f in def.all_flags() {
        let _ = writeln!(s, "  {:<24}{}", f.spelling(), f.help);
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
