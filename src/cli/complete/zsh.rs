//! The zsh completion script (`#compdef`, `_arguments`).

use std::fmt::Write;

use crate::cli::defs::{COMMANDS, Group, LIST_ACCOUNTS, command_names, commands, top_words};
use crate::cli::low::Shell;

/// The script, for a `_baseten` file on `$fpath`.
pub(super) fn script() -> String {
    let mut s = String::from("#compdef baseten\n# zsh completion for baseten\n");
    let _ = writeln!(
        s,
        "_baseten_accounts() {{\n    local -a names\n    names=(${{(f)\"$(baseten {LIST_ACCOUNTS} 2>/dev/null)\"}})\n    compadd -a names\n}}"
    );
    s.push_str("_baseten() {\n");
    s.push_str("    if (( CURRENT == 2 )); then\n        local -a cmds\n        cmds=(\n");
    for (name, about) in top_words() {
        let _ = writeln!(s, "            '{name}:{}'", text(about));
    }
    s.push_str("        )\n        _describe 'command' cmds\n        return\n    fi\n");
    let _ = writeln!(
        s,
        "    case $words[2] in\n        completion) (( CURRENT == 3 )) && _values 'shell' {}; return ;;\n        auth)\n            if (( CURRENT == 3 )); then\n                local -a subs\n                subs=(",
        Shell::names(" ")
    );
    for c in commands(Group::Auth) {
        let _ = writeln!(s, "                    '{}:{}'", c.name, text(c.about));
    }
    let _ = writeln!(
        s,
        "                )\n                _describe 'auth command' subs\n                return\n            fi\n            words=(\"${{(@)words[3,-1]}}\")\n            (( CURRENT -= 2 )) ;;\n        {})\n            words=(\"${{(@)words[2,-1]}}\")\n            (( CURRENT -= 1 )) ;;\n        *) return ;;\n    esac\n    case $words[1] in",
        command_names(Group::Top, "|"),
    );
    for c in COMMANDS {
        let _ = writeln!(s, "        {})\n            _arguments \\", c.name);
        for f in c.all_flags() {
            let help = text(f.help);
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

/// Text inside a zsh `_arguments` description: brackets and quotes escaped.
fn text(text: &str) -> String {
    text.replace('\'', "'\\''")
        .replace('[', "\\[")
        .replace(']', "\\]")
        .replace(':', "\\:")
}
