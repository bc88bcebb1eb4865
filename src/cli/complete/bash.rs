//! The bash completion script.

use std::fmt::Write;

use crate::cli::defs::{COMMANDS, CommandDef, Group, LIST_ACCOUNTS, command_names, top_words};
use crate::cli::low::Shell;

/// The script, for `complete -F`.
pub(super) fn script() -> String {
    let mut s = String::from("# bash completion for baseten\n_baseten() {\n");
    s.push_str("    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} leaf\n");
    let _ = writeln!(
        s,
        "    if [[ $COMP_CWORD -eq 1 ]]; then\n        COMPREPLY=($(compgen -W \"{} --help --version\" -- \"$cur\"))\n        return\n    fi",
        top_words()
            .map(|(name, _)| name)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let _ = writeln!(
        s,
        "    case ${{COMP_WORDS[1]}} in\n        completion) [[ $COMP_CWORD -eq 2 ]] && COMPREPLY=($(compgen -W \"{}\" -- \"$cur\")); return ;;\n        auth)\n            if [[ $COMP_CWORD -eq 2 ]]; then\n                COMPREPLY=($(compgen -W \"{} --help\" -- \"$cur\"))\n                return\n            fi\n            leaf=${{COMP_WORDS[2]}} ;;\n        {}) leaf=${{COMP_WORDS[1]}} ;;\n        *) return ;;\n    esac",
        Shell::names(" "),
        command_names(Group::Auth, " "),
        command_names(Group::Top, "|"),
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

/// Every spelling of a leaf command's flags, for its word list.
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
