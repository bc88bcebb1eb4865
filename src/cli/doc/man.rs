//! The man page, `baseten.1`, in roff.

use std::fmt::Write;

use crate::cli::defs::{
    AUTH_ABOUT, COMMANDS, COMMON, ENVIRONMENT, EXIT_CODES, FlagDef, TOP_COMMANDS, TopDef,
};

/// The whole page.
pub fn page() -> String {
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
            flag(&mut s, f);
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
    for f in COMMON {
        flag(&mut s, f);
    }
    s.push_str(".SH ENVIRONMENT\n");
    for env in ENVIRONMENT {
        let _ = writeln!(
            s,
            ".TP\n.B {}\n{}",
            roff(&env.names.join(", ")),
            roff(env.meaning)
        );
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

/// One flag's entry: its spelling in bold, then its help.
fn flag(s: &mut String, f: &FlagDef) {
    let _ = writeln!(
        s,
        ".TP\n.B {}\n{}.",
        roff(f.spelling().trim_start()),
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
