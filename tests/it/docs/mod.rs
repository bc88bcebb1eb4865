//! Everything generated from the command table, checked against the contract (SPEC §1, §8)
//! rather than against the table itself: the shell completion scripts (syntax, contents,
//! and the completions bash, zsh and fish really offer), the man page (as roff and as
//! `man` renders it), `--help` against what the parser accepts, the README's table of
//! environment variables against the program's, and the README's code map against the
//! tree. The file layout of `make install-files` is in `packaging.rs`.
//!
//! bash and make are required. The checks that run zsh, fish or man are `#[ignore]`d
//! (`make test` runs them with `--include-ignored` when all three are installed, and CI
//! always does); run without the program, they fail saying what is missing.
#![cfg(unix)]

mod help;

use crate::common;
use crate::spec;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{BIN, Env, Outcome};
use spec::{ALL_FLAGS, COMMON, FORMATS, Flag, LEAVES, SHELLS, TOP};
use tempfile::TempDir;

/// Environment variables the man page must document.
const ENV_VARS: &[&str] = &[
    "BASETEN_API_KEY",
    "BASETEN_API_KEY_FILE",
    "BASETEN_PROFILE",
    "BASETEN_REMOTE_URL",
    "BASETEN_MANAGEMENT_API_URL_OVERRIDE",
    "BASETEN_CONFIG_DIR",
    "XDG_CONFIG_HOME",
    "BROWSER",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "SSL_CERT_FILE",
];

/// Exit codes of SPEC §8.
const EXIT_CODES: &[&str] = &["0", "1", "2", "3", "4", "5", "6", "130"];

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn set<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> BTreeSet<String> {
    items.into_iter().map(|s| s.as_ref().to_owned()).collect()
}

/// A leaf command's flags: its own, then the common ones.
fn leaf_flags(own: &'static [Flag]) -> impl Iterator<Item = &'static Flag> {
    own.iter().chain(COMMON)
}

/// Every spelling (`--long`, `-s`) of a leaf command's flags.
fn spellings(own: &'static [Flag]) -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    for f in leaf_flags(own) {
        all.insert(format!("--{}", f.long));
        if let Some(s) = f.short {
            all.insert(format!("-{s}"));
        }
    }
    all
}

/// The long spellings of a leaf command's flags.
fn longs(own: &'static [Flag]) -> BTreeSet<String> {
    leaf_flags(own).map(|f| format!("--{}", f.long)).collect()
}

/// Whether `program` is an executable file on `PATH`.
pub(crate) fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            fs::metadata(dir.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Fails unless `program` is installed, for the checks that run it.
#[track_caller]
pub(crate) fn require(program: &str) {
    assert!(
        on_path(program),
        "{program} is not installed: install it to run this check (CI does)"
    );
}

/// `baseten completion <shell>`: exit 0, nothing on stderr, a script ending in a newline.
pub(crate) fn completion_script(shell: &str) -> String {
    let out = Env::new().run(&["completion", shell]);
    let script = out.success().to_owned();
    assert!(
        script.ends_with('\n'),
        "{shell} script lacks a final newline"
    );
    script
}

/// `baseten man`: exit 0, nothing on stderr.
pub(crate) fn man_source() -> String {
    Env::new().run(&["man"]).success().to_owned()
}

/// The words of a text, in order: runs of characters a flag, command, variable or file
/// name is made of, without a trailing `.` (the end of a sentence).
fn word_list(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The accounts stored for the completion checks: shells must offer these names after
/// `--user` and `--profile`.
const ACCOUNTS: &[&str] = &["ci-bot", "me@example.com"];

/// Prepares `cmd` (a shell running a completion script in `dir`) so that the script's
/// `baseten __accounts` reaches the binary under test (as `baseten` on `PATH`) and a
/// store holding [`ACCOUNTS`].
fn with_accounts<'a>(cmd: &'a mut Command, dir: &Path) -> &'a mut Command {
    let bin = dir.join("bin");
    if !bin.exists() {
        fs::create_dir(&bin).expect("mkdir bin");
        std::os::unix::fs::symlink(BIN, bin.join("baseten")).expect("symlink baseten");
        let config = dir.join("accounts-config");
        fs::create_dir(&config).expect("mkdir config");
        let profiles: serde_json::Map<String, serde_json::Value> = ACCOUNTS
            .iter()
            .map(|n| {
                let p = serde_json::json!({"remote_url": "https://app.baseten.co", "auth_type": "api_key"});
                ((*n).to_owned(), p)
            })
            .collect();
        let file = serde_json::json!({"version": 1, "profiles": profiles});
        fs::write(config.join("auth.json"), file.to_string()).expect("write store");
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(&path));
    common::isolate(cmd)
        .env("PATH", std::env::join_paths(paths).expect("PATH"))
        .env("BASETEN_CONFIG_DIR", dir.join("accounts-config"))
}

/// Writes `content` to `dir/name` and returns the path.
pub(crate) fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, content).expect("write temp file");
    path
}

/// A temp dir that also holds a stray file, so a completion that wrongly falls back to
/// file names shows up in the results.
pub(crate) fn scratch() -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix("baseten-docs")
        .tempdir()
        .expect("create temp dir");
    fs::write(dir.path().join("stray-file"), "").expect("write stray file");
    dir
}

/// Runs `cmd` (stdin from /dev/null), killing it when it has not finished after `limit`.
fn run_with_deadline(cmd: &mut Command, limit: Duration) -> Outcome {
    let (out, _, expired) = common::run_with_deadline(cmd, None, limit);
    assert!(!expired, "killed after {limit:?}: {out:#?}");
    out
}

/// Asserts that each script names every contract flag, every command and every format.
#[track_caller]
fn assert_script_names_everything(shell: &str, script: &str) {
    let words = word_list(script);
    for flag in ALL_FLAGS {
        let named = if shell == "fish" {
            // fish spells flags as `-l long` and `-s x`.
            let (option, name) = match flag.strip_prefix("--") {
                Some(long) => ("-l", long),
                None => ("-s", &flag[1..]),
            };
            words.windows(2).any(|w| w == [option, name])
        } else {
            words.contains(flag)
        };
        assert!(named, "{shell} completion does not name {flag}:\n{script}");
    }
    let names = LEAVES
        .iter()
        .map(|l| spec::name(l.0))
        .chain(TOP.iter().copied());
    for name in names
        .chain(SHELLS.iter().copied())
        .chain(FORMATS.iter().copied())
    {
        assert!(
            words.contains(&name),
            "{shell} completion does not name {name:?}:\n{script}"
        );
    }
}

/// `<shell> -n <script>`: the script parses.
#[track_caller]
fn assert_parses(shell: &str, args: &[&str], script: &Path) {
    let out = common::run(Command::new(shell).args(args).arg("-n").arg(script));
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (0, ""),
        "`{shell} -n` rejects the completion script: {out:#?}"
    );
}

/// Collects mismatches of completion cases and reports them all at once.
#[derive(Default)]
struct Mismatches(Vec<String>);

impl Mismatches {
    fn check(&mut self, case: &str, got: &BTreeSet<String>, want: &BTreeSet<String>) {
        if got != want {
            self.0.push(format!(
                "  {case:?}\n      offered:  {got:?}\n      expected: {want:?}"
            ));
        }
    }

    #[track_caller]
    fn assert_none(&self, shell: &str, script: &str) {
        assert!(
            self.0.is_empty(),
            "{shell} completion offers the wrong words:\n{}\n\nscript:\n{script}",
            self.0.join("\n")
        );
    }
}

/// The command-line completion cases zsh and fish share, with `middle` (the `--output`
/// value cases) in between: what follows `baseten`, `auth`, `completion` and `--w`, then
/// `middle`, then the value flags that offer nothing.
fn line_cases(middle: Vec<(String, BTreeSet<String>)>) -> Vec<(String, BTreeSet<String>)> {
    let mut cases: Vec<(String, BTreeSet<String>)> = vec![
        ("baseten ".into(), set(TOP)),
        ("baseten auth ".into(), set(spec::auth_leaves())),
        ("baseten completion ".into(), set(SHELLS)),
        (
            "baseten auth login --w".into(),
            set(["--web", "--with-api-key"]),
        ),
    ];
    cases.extend(middle);
    cases.extend([
        ("baseten auth switch --user ".into(), set(ACCOUNTS)),
        ("baseten auth token --profile ".into(), set(ACCOUNTS)),
        ("baseten auth status --user c".into(), set(["ci-bot"])),
        ("baseten auth login --label ".into(), BTreeSet::new()),
        ("baseten auth status --jq ".into(), BTreeSet::new()),
        ("baseten auth status --remote-url ".into(), BTreeSet::new()),
    ]);
    cases
}

/// Reads a capture script's stdout (a `<case_prefix><line>` line per case, then one line
/// per offered word, which `word` extracts or skips) and asserts that every case ran, in
/// order, and was offered exactly the expected words.
#[track_caller]
fn assert_captured(
    shell: &str,
    script: &str,
    out: &Outcome,
    cases: &[(String, BTreeSet<String>)],
    case_prefix: &str,
    word: impl Fn(&str) -> Option<&str>,
) {
    let mut got: Vec<(String, BTreeSet<String>)> = Vec::new();
    for line in out.stdout.lines() {
        if let Some(case) = line.strip_prefix(case_prefix) {
            got.push((case.to_owned(), BTreeSet::new()));
        } else if let Some(word) = word(line) {
            got.last_mut().expect("a case").1.insert(word.to_owned());
        }
    }
    assert_eq!(
        got.iter().map(|g| &g.0).collect::<Vec<_>>(),
        cases.iter().map(|c| &c.0).collect::<Vec<_>>(),
        "{shell} capture did not run every case: {out:#?}"
    );
    let mut wrong = Mismatches::default();
    for ((case, want), (_, got)) in cases.iter().zip(&got) {
        wrong.check(case, got, want);
    }
    wrong.assert_none(shell, script);
}

// ---------------------------------------------------------------------------------------
// Completion scripts
// ---------------------------------------------------------------------------------------

/// What `bash` completes for `words`, the last one being the word under the cursor.
fn bash_complete(script: &Path, words: &[&str]) -> BTreeSet<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let code = format!(
        "source \"$1\" || exit 99\n\
         COMP_WORDS=({})\n\
         COMP_CWORD={}\n\
         COMP_LINE=\"${{COMP_WORDS[*]}}\"\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         COMPREPLY=()\n\
         _baseten\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        quoted.join(" "),
        words.len() - 1
    );
    let dir = script.parent().expect("script dir");
    let out = common::run(with_accounts(
        Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &code, "bash"])
            .arg(script),
        dir,
    ));
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (0, ""),
        "bash completion of {words:?} failed: {out:#?}"
    );
    out.stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn bash_completion_parses_names_everything_and_completes() {
    let script = completion_script("bash");
    assert_script_names_everything("bash", &script);
    assert!(
        on_path("bash"),
        "bash is required to check the bash completion script"
    );
    let dir = scratch();
    let file = write(dir.path(), "baseten.bash", &script);
    assert_parses("bash", &["--norc", "--noprofile"], &file);

    // It registers itself for the command.
    let out = common::run(
        Command::new("bash")
            .args([
                "--norc",
                "--noprofile",
                "-c",
                "source \"$1\" && complete -p baseten",
                "bash",
            ])
            .arg(&file),
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "complete -F _baseten baseten\n", ""),
        "{out:#?}"
    );

    let mut top = set(TOP);
    top.extend(set(["--help", "--version"]));
    let mut leaves = set(spec::auth_leaves());
    leaves.insert("--help".into());
    let none = BTreeSet::new();
    let mut cases: Vec<(Vec<&str>, BTreeSet<String>)> = vec![
        (vec!["baseten", ""], top),
        (vec!["baseten", "auth", ""], leaves),
        (vec!["baseten", "completion", ""], set(SHELLS)),
        (
            vec!["baseten", "auth", "login", "--w"],
            set(["--web", "--with-api-key"]),
        ),
        (
            vec!["baseten", "auth", "status", "--output", ""],
            set(FORMATS),
        ),
        (vec!["baseten", "auth", "token", "-o", ""], set(FORMATS)),
        (
            vec!["baseten", "auth", "status", "--output", "j"],
            set(["json", "jsonl"]),
        ),
        (
            vec!["baseten", "auth", "switch", "--user", ""],
            set(ACCOUNTS),
        ),
        (
            vec!["baseten", "auth", "logout", "--profile", "m"],
            set(["me@example.com"]),
        ),
        (
            vec!["baseten", "auth", "login", "--label", ""],
            none.clone(),
        ),
        (vec!["baseten", "auth", "status", "--jq", ""], none.clone()),
        (vec!["baseten", "auth", "status", "-q", ""], none.clone()),
        (vec!["baseten", "auth", "status", "--remote-url", ""], none),
    ];
    for (leaf, own) in LEAVES {
        let words = |last| {
            std::iter::once("baseten")
                .chain(leaf.split(' '))
                .chain([last])
        };
        cases.push((words("-").collect(), spellings(own)));
        cases.push((words("--").collect(), longs(own)));
    }
    let mut wrong = Mismatches::default();
    for (words, want) in &cases {
        let got = bash_complete(&file, words);
        wrong.check(&words.join(" "), &got, want);
    }
    wrong.assert_none("bash", &script);
}

/// Drives zsh's real completion system (compinit, `_arguments`) in a pseudo-terminal:
/// `zsh -f zsh-capture FPATH_DIR LINE...` types each LINE followed by TAB and prints
/// `CASE:<line>`, then `M:<word>` for every match the completion system offers.
const ZSH_CAPTURE: &str = r##"
zmodload zsh/zpty || exit 77
zpty z zsh -f -i || exit 78
zpty -w z "unset zle_bracketed_paste; unsetopt auto_list list_beep beep; PROMPT='' RPROMPT='' PS2=''; bindkey -e"
zpty -w z "fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi; local -a __hits; builtin compadd -A __hits "$@"; local h; for h in $__hits; do print -r -- "MA""TCH:$h"; done; builtin compadd "$@" }'
zpty -w z '__capture() { _main_complete; print -r -- "END""MARK" }; zle -C __capture complete-word __capture; bindkey "^I" __capture'
zpty -w z 'bindkey "^M" undefined-key; bindkey "^J" undefined-key; print -r -- "REA""DY"'
local line
while zpty -r z line; do [[ ${${line%$'\n'}%$'\r'} == READY ]] && break; done
shift
for case in "$@"; do
  print -r -- "CASE:$case"
  zpty -w -n z "$case"$'\t'
  while zpty -r z line; do
    line=${${line%$'\n'}%$'\r'}
    [[ $line == *MATCH:* ]] && print -r -- "M:${line##*MATCH:}"
    [[ $line == *ENDMARK* ]] && break
  done
  zpty -w -n z $'\x15'
done
zpty -d z
"##;

#[test]
fn zsh_completion_names_everything() {
    let script = completion_script("zsh");
    assert_script_names_everything("zsh", &script);
    assert_eq!(
        script.lines().next(),
        Some("#compdef baseten"),
        "site-functions/_baseten is autoloaded only with a #compdef line first"
    );
}

#[test]
#[ignore = "needs zsh: run by make test when zsh, fish and man are installed"]
fn zsh_completion_parses_and_completes() {
    require("zsh");
    let script = completion_script("zsh");
    let dir = scratch();
    let fpath = dir.path().join("fpath");
    fs::create_dir(&fpath).expect("mkdir");
    let file = write(&fpath, "_baseten", &script);
    assert_parses("zsh", &["-f"], &file);

    let mut cases = line_cases(vec![
        ("baseten auth status --output ".into(), set(FORMATS)),
        ("baseten auth status -o ".into(), set(FORMATS)),
        ("baseten auth status --output=".into(), set(FORMATS)),
    ]);
    for (leaf, own) in LEAVES {
        cases.push((format!("baseten {leaf} -"), spellings(own)));
    }
    let capture = write(dir.path(), "zsh-capture", ZSH_CAPTURE);
    let out = run_with_deadline(
        with_accounts(
            Command::new("zsh")
                .arg("-f")
                .arg(&capture)
                .arg(&fpath)
                .args(cases.iter().map(|c| &c.0))
                .current_dir(dir.path())
                .env("HOME", dir.path())
                .env_remove("ZDOTDIR")
                .env("TERM", "dumb"),
            dir.path(),
        ),
        Duration::from_secs(30),
    );
    assert_ne!(out.code, 77, "zsh has no zsh/zpty module: {out:#?}");
    assert_eq!(out.code, 0, "zsh capture failed: {out:#?}");
    assert_captured("zsh", &script, &out, &cases, "CASE:", |line| {
        line.strip_prefix("M:")
    });
}

/// `fish --no-config fish-capture SCRIPT LINE...`: sources SCRIPT (and nothing installed
/// on the machine), then prints `CASE <line>` and `complete -C <line>` for each LINE.
const FISH_CAPTURE: &str = r#"
set -g fish_complete_path
source $argv[1]; or exit 99
for line in $argv[2..-1]
    echo "CASE $line"
    complete -C "$line"
end
"#;

#[test]
fn fish_completion_names_everything() {
    assert_script_names_everything("fish", &completion_script("fish"));
}

#[test]
#[ignore = "needs fish: run by make test when zsh, fish and man are installed"]
fn fish_completion_parses_and_completes() {
    require("fish");
    let script = completion_script("fish");
    let dir = scratch();
    let file = write(dir.path(), "baseten.fish", &script);
    assert_parses("fish", &["--no-config"], &file);

    let formats_attached = set(FORMATS.iter().map(|f| format!("--output={f}")));
    let mut cases = line_cases(vec![
        ("baseten auth status --output ".into(), set(FORMATS)),
        ("baseten auth status --output=".into(), formats_attached),
    ]);
    cases.push(("baseten man ".into(), BTreeSet::new()));
    for (leaf, own) in LEAVES {
        cases.push((format!("baseten {leaf} -"), spellings(own)));
        cases.push((format!("baseten {leaf} --"), longs(own)));
    }
    let capture = write(dir.path(), "fish-capture", FISH_CAPTURE);
    let out = run_with_deadline(
        with_accounts(
            Command::new("fish")
                .arg("--no-config")
                .arg(&capture)
                .arg(&file)
                .args(cases.iter().map(|c| &c.0))
                .current_dir(dir.path())
                .env("HOME", dir.path())
                .env("XDG_CONFIG_HOME", dir.path().join("config"))
                .env("XDG_DATA_HOME", dir.path().join("data"))
                .env("XDG_CACHE_HOME", dir.path().join("cache")),
            dir.path(),
        ),
        Duration::from_secs(30),
    );
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (0, ""),
        "fish capture failed: {out:#?}"
    );
    assert_captured("fish", &script, &out, &cases, "CASE ", |line| {
        line.split('\t').next()
    });
}

#[test]
fn completion_for_an_unknown_or_missing_shell_is_a_usage_error() {
    let env = Env::new();
    let out = env.run(&["completion", "tcsh"]);
    out.failure(2, &["tcsh", "bash, zsh, fish"]);
    assert!(
        out.stderr.contains("Usage: baseten"),
        "no usage line: {out:#?}"
    );
    let out = env.run(&["completion"]);
    out.failure(2, &["shell", "bash, zsh, fish"]);
    assert!(
        out.stderr.contains("Usage: baseten"),
        "no usage line: {out:#?}"
    );
    env.run(&["completion", "bash", "zsh"])
        .failure(2, &["\"zsh\""]);
}

// ---------------------------------------------------------------------------------------
// Man page
// ---------------------------------------------------------------------------------------

/// Roff source with the escapes the generator uses turned back into plain text.
fn unroff(source: &str) -> String {
    source
        .replace("\\-", "-")
        .replace("\\&", "")
        .replace("\\e", "\\")
}

/// The lines of a roff section (`.SH NAME` up to the next `.SH`).
fn roff_section<'a>(source: &'a str, name: &str) -> Vec<&'a str> {
    let heading = format!(".SH {name}");
    let quoted = format!(".SH \"{name}\"");
    source
        .lines()
        .skip_while(|l| *l != heading && *l != quoted)
        .skip(1)
        .take_while(|l| !l.starts_with(".SH"))
        .collect()
}

/// Asserts that a text names every flag, environment variable and `auth.json`.
#[track_caller]
fn assert_names_everything(what: &str, text: &str) {
    let words = word_list(text);
    for name in ALL_FLAGS.iter().chain(ENV_VARS).chain(&["auth.json"]) {
        assert!(words.contains(name), "{what} does not name {name}:\n{text}");
    }
}

#[test]
fn man_page_source_documents_the_contract() {
    let source = man_source();
    let th = source.lines().next().unwrap_or_default();
    assert!(
        th.starts_with(".TH BASETEN 1 "),
        "no .TH BASETEN 1 header: {th:?}"
    );
    assert!(
        th.contains(&format!("\"baseten {}\"", env!("CARGO_PKG_VERSION"))),
        "the .TH line does not carry the version: {th:?}"
    );
    // whatis/apropos need `name \- summary` as the NAME section.
    let name = roff_section(&source, "NAME");
    assert!(
        name.len() == 1 && name[0].starts_with("baseten \\- "),
        "NAME section is not `baseten \\- …`: {name:?}"
    );
    let headings: Vec<&str> = source.lines().filter(|l| l.starts_with(".SH ")).collect();
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "ENVIRONMENT",
        "FILES",
        "EXIT STATUS",
    ] {
        assert!(
            headings.contains(&format!(".SH {section}").as_str()),
            "no {section} section in {headings:?}"
        );
    }

    let text = unroff(&source);
    assert_names_everything("the man page source", &text);

    // The flags the page documents (its .B tags) are exactly those of the contract.
    let tagged: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix(".B "))
        .flat_map(word_list)
        .filter(|w| w.starts_with('-'))
        .map(String::from)
        .collect();
    assert_eq!(tagged, set(ALL_FLAGS), "flags documented in the man page");

    // EXIT STATUS: one .TP entry per code, each with a meaning.
    let section = roff_section(&text, "EXIT STATUS");
    let mut codes = Vec::new();
    for (i, line) in section.iter().enumerate() {
        if *line == ".TP" {
            let tag = section.get(i + 1).copied().unwrap_or_default();
            codes.push(tag.strip_prefix(".B ").unwrap_or(tag).trim().to_owned());
            let meaning = section.get(i + 2).copied().unwrap_or_default();
            assert!(
                !meaning.is_empty() && !meaning.starts_with('.'),
                "exit code {tag:?} has no meaning: {section:?}"
            );
        }
    }
    assert_eq!(
        codes,
        EXIT_CODES.to_vec(),
        "EXIT STATUS codes: {section:#?}"
    );
}

/// The variables the README's `## Environment` table lists in its first column.
fn readme_environment() -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let section = readme
        .split_once("\n## Environment\n")
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or(rest))
        .unwrap_or_else(|| panic!("README.md has no ## Environment section"));
    let rows = section.lines().filter(|l| l.starts_with("| `"));
    let first_cells = rows.filter_map(|l| l.split('|').nth(1));
    first_cells
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .map(String::from)
        .collect()
}

/// The README documents the variables of the program's own table (which the man page
/// and the code read too), no more and no fewer.
#[test]
fn readme_environment_table_names_exactly_the_programs_variables() {
    let table: BTreeSet<String> = baseten::cli::defs::ENVIRONMENT
        .iter()
        .flat_map(|env| env.names.iter().chain(env.also))
        .map(|name| (*name).to_owned())
        .collect();
    assert!(table.is_superset(&set(ENV_VARS)), "{table:?}");
    assert_eq!(readme_environment(), table);
}

/// Every name `src/vars.rs` spells is in the table the docs are made from: a variable
/// the code reads is documented.
#[test]
fn every_variable_the_code_names_is_in_the_environment_table() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/vars.rs");
    let source = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let code: BTreeSet<String> = source
        .lines()
        .filter(|l| l.starts_with("pub const "))
        .flat_map(|l| l.split('"').skip(1).step_by(2))
        .map(String::from)
        .collect();
    assert!(code.len() >= ENV_VARS.len(), "{code:?}");
    assert_eq!(code, readme_environment());
}

/// The paths the README's code map names: `src/…` files, or folders ending in `/`.
fn code_map() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let section = readme
        .split_once("\n### Code map\n")
        .map(|(_, rest)| rest.split("\n#").next().unwrap_or(rest))
        .unwrap_or_else(|| panic!("README.md has no ### Code map section"));
    let entries = section.lines().filter_map(|l| l.strip_prefix("- "));
    entries
        .map(|entry| entry.split_once(':').map_or(entry, |(names, _)| names))
        .flat_map(|names| names.split('`').skip(1).step_by(2))
        .map(String::from)
        .collect()
}

/// The files under a folder, as paths relative to the package.
fn files_under(dir: &Path, root: &Path, out: &mut BTreeSet<String>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, root, out);
        } else {
            out.insert(
                path.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

/// The README's code map stays in step with the tree: every entry exists, and every
/// file under `src/` is named, itself or by its folder.
#[test]
fn readme_code_map_names_every_source_file_and_nothing_else() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = code_map();
    assert!(map.len() > 20, "{map:?}");
    for entry in &map {
        assert!(
            root.join(entry).exists(),
            "the code map names {entry}, which is gone"
        );
    }
    let mut files = BTreeSet::new();
    files_under(&root.join("src"), root, &mut files);
    let unnamed: Vec<&String> = files
        .iter()
        .filter(|f| {
            !map.iter()
                .any(|e| e == *f || (e.ends_with('/') && f.starts_with(e.as_str())))
        })
        .collect();
    assert!(
        unnamed.is_empty(),
        "not in the README's code map: {unnamed:?}"
    );
}

/// The code map lists modules from the top floor down: a module imports (`crate::x`,
/// outside comments) only modules listed below it, or files of its own folder (`cli/`,
/// `store/`, `net/` among themselves).
#[test]
fn every_import_points_down_the_code_map() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = code_map();
    // The line of the code map naming a path under `src/` (itself or by its folder).
    let floor = |path: &str| {
        map.iter()
            .position(|e| e == path || (e.ends_with('/') && path.starts_with(e.as_str())))
    };
    let mut files = BTreeSet::new();
    files_under(&root.join("src"), root, &mut files);
    let mut upward = Vec::new();
    for file in files.iter().filter(|f| f.ends_with(".rs")) {
        let Some(own) = floor(file) else { continue };
        // `src/cli/doc/help.rs` → `cli`; `src/ui.rs` → `ui`.
        let top = file["src/".len()..].split(['/', '.']).next().unwrap_or("");
        let source = fs::read_to_string(root.join(file)).unwrap();
        let code = source.lines().filter(|l| !l.trim_start().starts_with("//"));
        for line in code {
            for (_, rest) in line
                .match_indices("crate::")
                .map(|(i, _)| line.split_at(i + 7))
            {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if name == top {
                    continue;
                }
                let target = floor(&format!("src/{name}.rs"))
                    .or_else(|| floor(&format!("src/{name}/mod.rs")));
                if target.is_some_and(|t| t <= own) {
                    upward.push(format!("{file} imports crate::{name}"));
                }
            }
        }
    }
    upward.dedup();
    assert!(
        upward.is_empty(),
        "imports up the README's code map: {upward:?}"
    );
}

/// Drops overstrike formatting (`x\bx`, `_\bx`) in case the pager step kept it.
fn plain(rendered: &str) -> String {
    let mut out = String::new();
    for c in rendered.chars() {
        if c == '\u{8}' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
#[ignore = "needs man: run by make test when zsh, fish and man are installed"]
fn man_page_renders_with_man() {
    require("man");
    let source = man_source();
    let dir = scratch();
    let file = write(dir.path(), "baseten.1", &source);
    let out = common::run(
        Command::new("man")
            .args(["-P", "cat", "-l"])
            .arg(&file)
            .current_dir(dir.path())
            .env("MANWIDTH", "200")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("LC_ALL", "C")
            .env("MAN_DISABLE_SECCOMP", "1")
            .env_remove("MAN_KEEP_FORMATTING"),
    );
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (0, ""),
        "man -l does not render the page cleanly: {out:#?}"
    );
    let text = plain(&out.stdout);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    assert!(first.starts_with("BASETEN(1)"), "header line: {first:?}");
    for heading in ["NAME", "SYNOPSIS", "OPTIONS", "ENVIRONMENT", "FILES"] {
        assert!(
            text.lines().any(|l| l == heading),
            "rendered page has no {heading} section:\n{text}"
        );
    }
    assert_names_everything("the rendered man page", &text);

    // EXIT STATUS: every code starts a line of the section, followed by its meaning.
    let section: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "EXIT STATUS")
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect();
    let codes: Vec<&str> = section
        .iter()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let code = words.next()?;
            let meaning = words.next();
            (code.bytes().all(|b| b.is_ascii_digit()) && meaning.is_some()).then_some(code)
        })
        .collect();
    assert_eq!(
        codes,
        EXIT_CODES.to_vec(),
        "rendered EXIT STATUS section: {section:#?}\n{text}"
    );
}

// ---------------------------------------------------------------------------------------
// --help against the parser
// ---------------------------------------------------------------------------------------

/// The lines of a help section (`Options:`, `Commands:`) up to the next blank line.
fn help_section<'a>(help: &'a str, name: &str) -> Vec<&'a str> {
    let heading = format!("{name}:");
    let lines: Vec<&str> = help
        .lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(!lines.is_empty(), "no {heading} section in:\n{help}");
    lines
}

/// One entry of an `Options:` section: its spellings and its value name.
#[derive(Debug)]
struct Listed {
    spellings: Vec<String>,
    value: Option<String>,
}

/// Parses `  -o, --output FORMAT     help text` lines.
fn options(help: &str) -> Vec<Listed> {
    help_section(help, "Options")
        .into_iter()
        .map(|line| {
            let entry = line
                .strip_prefix("  ")
                .unwrap_or_else(|| panic!("option line not indented: {line:?}"))
                .trim_start();
            let (words, text) = entry
                .split_once("  ")
                .unwrap_or_else(|| panic!("no gap between flag and its help: {line:?}"));
            assert!(!text.trim().is_empty(), "flag without help: {line:?}");
            let mut listed = Listed {
                spellings: Vec::new(),
                value: None,
            };
            for word in words.split_whitespace() {
                let word = word.trim_end_matches(',');
                if word.starts_with('-') {
                    assert!(listed.value.is_none(), "flag after value name: {line:?}");
                    listed.spellings.push(word.to_owned());
                } else {
                    assert!(
                        listed.value.is_none()
                            && word.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                        "odd word {word:?} in option line {line:?}"
                    );
                    listed.value = Some(word.to_owned());
                }
            }
            listed
        })
        .collect()
}

/// The first word of every line of a `Commands:` section.
fn commands(help: &str) -> BTreeSet<String> {
    help_section(help, "Commands")
        .into_iter()
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect()
}

#[test]
fn top_help_names_the_commands_and_options() {
    let env = Env::new();
    let help = env.run(&["--help"]).success().to_owned();
    assert_eq!(commands(&help), set(TOP), "{help}");
    let listed: BTreeSet<String> = options(&help)
        .into_iter()
        .flat_map(|l| l.spellings)
        .collect();
    assert_eq!(listed, set(["-h", "--help", "--version"]), "{help}");
    assert_eq!(env.run(&["-h"]).success(), help);
    assert_eq!(env.run(&[]).success(), help);

    let auth = env.run(&["auth", "--help"]).success().to_owned();
    assert_eq!(commands(&auth), set(spec::auth_leaves()), "{auth}");
}

#[test]
fn leaf_help_lists_exactly_the_flags_the_parser_accepts() {
    let env = Env::new();
    for (leaf, own) in LEAVES {
        let words: Vec<&str> = leaf.split(' ').collect();
        let with = |last: &'static str| [words.as_slice(), &[last]].concat();
        let help = env.run(&with("--help")).success().to_owned();
        assert_eq!(env.run(&with("-h")).success(), help);
        let listed = options(&help);

        // The help lists the contract's flags, no more, with the right value-ness.
        let all: BTreeSet<String> = listed.iter().flat_map(|l| l.spellings.clone()).collect();
        assert_eq!(all, spellings(own), "{leaf} --help:\n{help}");
        for flag in leaf_flags(own) {
            let long = format!("--{}", flag.long);
            let entry = listed
                .iter()
                .find(|l| l.spellings.contains(&long))
                .expect("listed");
            let mut want = vec![];
            if let Some(s) = flag.short {
                want.push(format!("-{s}"));
            }
            want.push(long.clone());
            assert_eq!(
                entry.spellings, want,
                "{leaf}: {long} listed with the wrong spellings:\n{help}"
            );
            assert_eq!(
                entry.value.is_some(),
                flag.value.is_some(),
                "{leaf}: {long} listed with the wrong value:\n{help}"
            );
        }
        // The usage line names the command's own flags.
        let usage = format!("Usage: baseten {leaf}");
        let usage_line = help
            .lines()
            .find(|l| l.starts_with(&usage))
            .unwrap_or_else(|| panic!("no usage line in:\n{help}"));
        for flag in *own {
            assert!(
                word_list(usage_line).contains(&format!("--{}", flag.long).as_str()),
                "usage line lacks --{}: {usage_line}",
                flag.long
            );
        }

        // Every listed spelling is accepted by the parser: with --help last nothing runs,
        // and the help comes out unchanged. Valued flags also in their attached forms.
        for entry in &listed {
            let long = entry.spellings.last().expect("a spelling");
            let flag = leaf_flags(own)
                .find(|f| format!("--{}", f.long) == *long)
                .expect("contract flag");
            let mut runs: Vec<Vec<String>> = Vec::new();
            for spelling in &entry.spellings {
                match flag.value {
                    Some(v) => {
                        runs.push(vec![spelling.clone(), v.to_owned()]);
                        let attached = if spelling.starts_with("--") {
                            format!("{spelling}={v}")
                        } else {
                            format!("{spelling}{v}")
                        };
                        runs.push(vec![attached]);
                    }
                    None => {
                        runs.push(vec![spelling.clone()]);
                        if spelling.starts_with("--") {
                            runs.push(vec![format!("{spelling}=true")]);
                        }
                    }
                }
            }
            for run in runs {
                let mut args: Vec<&str> = words.clone();
                args.extend(run.iter().map(String::as_str));
                args.push("--help");
                let out = env.run(&args);
                assert!(
                    !out.stderr.contains("unknown flag"),
                    "{args:?}: help lists a flag the parser rejects: {out:#?}"
                );
                assert_eq!(
                    (out.code, out.stdout.as_str(), out.stderr.as_str()),
                    (0, help.as_str(), ""),
                    "{args:?}"
                );
            }
        }
        // The check above can fail: an unlisted flag is rejected.
        let out = env.run(&[words.as_slice(), &["--bogus", "--help"]].concat());
        out.failure(2, &["unknown flag", "--bogus"]);
    }
    // Nothing ran: no store was written.
    assert!(!env.auth_path().exists());
}
