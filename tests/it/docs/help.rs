//! `--help` at each level (SPEC §1): the top help mentions `auth`, `auth --help` lists
//! the five commands, and each command's help lists its flags.

use crate::common;
use crate::spec;

use common::Env;
use spec::{COMMON, LEAVES, spellings};

#[test]
fn help_for_each_command_lists_its_flags() {
    let env = Env::new();
    for (cmd, own) in LEAVES {
        for help in ["--help", "-h"] {
            let mut args: Vec<&str> = cmd.split(' ').collect();
            args.push(help);
            let out = env.run(&args);
            let text = out.success();
            assert!(
                text.contains(&format!("Usage: baseten {cmd}")),
                "{cmd} {help}: no usage line:\n{text}"
            );
            for flag in spellings(own.iter().chain(COMMON)) {
                let listed = text
                    .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
                    .any(|w| w == flag);
                assert!(listed, "{cmd} {help} does not list {flag}:\n{text}");
            }
        }
    }
    // Only login knows --web; login has no --user.
    let status = env.run(&["auth", "status", "--help"]);
    assert!(!status.stdout.contains("--with-api-key"));
    let login = env.run(&["auth", "login", "--help"]);
    assert!(!login.stdout.contains("--user ") && login.stdout.contains("--label "));
}

#[test]
fn auth_help_lists_the_five_commands() {
    let env = Env::new();
    for args in [&["auth", "--help"][..], &["auth", "-h"], &["auth"]] {
        let out = env.run(args);
        let text = out.success();
        for cmd in ["login", "logout", "switch", "status", "token"] {
            assert!(
                text.lines()
                    .any(|l| l.split_whitespace().next() == Some(cmd)),
                "{args:?} does not list {cmd}:\n{text}"
            );
        }
    }
}

#[test]
fn top_help_mentions_auth() {
    let env = Env::new();
    let out = env.run(&["--help"]);
    let text = out.success();
    assert!(text.contains("Usage: baseten"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().next() == Some("auth")),
        "{text}"
    );
}
