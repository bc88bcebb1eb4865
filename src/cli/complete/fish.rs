//! The fish completion script (`complete -c baseten …` lines).

use std::fmt::Write;

use crate::cli::defs::{COMMANDS, Group, LIST_ACCOUNTS, command_names, top_words};
use crate::cli::low::Shell;

/// The script, for fish's `vendor_completions.d`.
pub(super) fn script() -> String {
    let mut s = String::from("# fish completion for baseten\ncomplete -c baseten -f\n");
    for (name, about) in top_words() {
        let _ = writeln!(
            s,
            "complete -c baseten -n __fish_use_subcommand -a {name} -d '{}'",
            text(about)
        );
    }
    let _ = writeln!(
        s,
        "complete -c baseten -n '__fish_seen_subcommand_from completion' -a '{}'",
        Shell::names(" ")
    );
    let leaves = command_names(Group::Auth, " ");
    for c in COMMANDS {
        let seen = match c.group {
            Group::Auth => {
                let _ = writeln!(
                    s,
                    "complete -c baseten -n '__fish_seen_subcommand_from auth; and not __fish_seen_subcommand_from {leaves}' -a {} -d '{}'",
                    c.name,
                    text(c.about)
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
            let _ = writeln!(s, "{line} -d '{}'", text(f.help));
        }
    }
    s
}

/// Text inside a fish single-quoted string.
fn text(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}
