//! `licences` run as CI runs it, on fixture packages (tests/fixtures): `check` against the
//! project's own policy, `notices` against a fixture policy whose cases the fixtures cover.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_licences");

fn here(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs the tool with `args` and the cargo that built it.
fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("CARGO", env!("CARGO"))
        .output()
        .expect("run licences")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("UTF-8 stderr")
}

fn manifest(fixture: &str) -> String {
    here(&format!("tests/fixtures/{fixture}/Cargo.toml"))
        .display()
        .to_string()
}

const PROJECT_POLICY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/policy.txt");
const FIXTURE_POLICY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/policy.txt");

/// `licences notices` for the `app` fixture with the fixture policy and `extra` options.
fn notices(target: &str, extra: &[&str]) -> Output {
    notices_under(FIXTURE_POLICY, target, extra)
}

/// `licences notices` for the `app` fixture with the policy at `policy`.
fn notices_under(policy: &str, target: &str, extra: &[&str]) -> Output {
    let app = manifest("app");
    let mut args = vec![
        "notices",
        "--policy",
        policy,
        "--manifest-path",
        &app,
        "--target",
        target,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// A policy file of `text` in a temporary directory, with a standard MIT text beside it.
fn temp_policy(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.txt");
    std::fs::write(&policy, text).expect("write the policy");
    std::fs::create_dir(dir.path().join("texts")).expect("mkdir texts");
    std::fs::write(dir.path().join("texts/MIT.txt"), "MIT\n").expect("write a text");
    let path = policy.to_str().expect("UTF-8 path").to_owned();
    (dir, path)
}

/// The `name version` lines that head the entries of a notices text.
fn listed(text: &str) -> Vec<&str> {
    text.lines()
        .take_while(|l| !l.starts_with("===="))
        .filter(|l| l.ends_with("0.1.0") || l.contains(": the code it bundles"))
        .collect()
}

#[test]
fn a_dependency_off_the_project_allow_list_fails_the_check_naming_it_and_its_licence() {
    let out = run(&[
        "check",
        "--policy",
        PROJECT_POLICY,
        "--manifest-path",
        &manifest("offlist"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "licences: copyleft 0.1.0 is licensed `GPL-3.0-only`, which the policy does not allow\n"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "licences: unlabelled 0.1.0 is licensed by its own file LICENSE (no SPDX expression), \
             which the policy does not allow\n"
        ),
        "{err}"
    );
    assert!(
        err.contains("2 crate(s) break the licence policy in"),
        "{err}"
    );
    assert!(!err.contains("fine 0.1.0"), "{err}");
    assert_eq!(stdout(&out), "");
}

#[test]
fn dependencies_on_the_allow_list_pass_the_check() {
    let out = run(&[
        "check",
        "--policy",
        PROJECT_POLICY,
        "--manifest-path",
        &manifest("app"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("licences: 7 crates, every licence allowed by"));
}

#[test]
fn notices_list_exactly_the_crates_compiled_in_for_the_target() {
    let out = notices("x86_64-unknown-linux-gnu", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("Third-party notices for app 0.1.0 (x86_64-unknown-linux-gnu)\n"));
    assert_eq!(
        listed(&text),
        [
            "bare 0.1.0",
            "dual 0.1.0",
            "native 0.1.0",
            "native 0.1.0 with feature vendored: the code it bundles",
            "same-text 0.1.0",
        ]
    );

    let out = notices("x86_64-pc-windows-msvc", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(listed(&stdout(&out)).contains(&"winonly 0.1.0"));
}

#[test]
fn bundled_code_is_listed_only_when_its_feature_is_on() {
    let out = notices("x86_64-unknown-linux-gnu", &["--no-default-features"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("the code it bundles\n"), "{text}");
    assert!(!text.contains("Fixture Zlib text"), "{text}");

    let out = notices(
        "x86_64-unknown-linux-gnu",
        &["--no-default-features", "--features", "vendored"],
    );
    let text = stdout(&out);
    assert!(text.contains(
        "native 0.1.0 with feature vendored: the code it bundles\n  licence: Zlib\n  \
         texts: [5] vendor/c/COPYING\n"
    ));
}

#[test]
fn each_crate_names_its_licence_and_texts_and_each_text_is_printed_once() {
    let text = stdout(&notices("x86_64-unknown-linux-gnu", &[]));
    assert!(text.contains(
        "\ndual 0.1.0\n  licence: MIT OR Apache-2.0\n  source: https://example.com/dual\n  \
         texts: [2] LICENSE-APACHE, [3] LICENSE-MIT\n"
    ));
    // Its LICENSE differs from dual's LICENSE-MIT only in CRLF line ends and a blank line.
    assert!(text.contains("\nsame-text 0.1.0\n  licence: MIT\n  source: https://example.com/same-text\n  texts: [3] LICENSE\n"));
    assert_eq!(
        text.matches("Fixture MIT text of the dual crate.").count(),
        1
    );
    assert!(
        text.contains(
            "[3] the text of:\n  dual 0.1.0 (LICENSE-MIT)\n  same-text 0.1.0 (LICENSE)\n"
        )
    );
    for fixture_text in [
        "Fixture Apache text of the dual crate.",
        "Fixture MIT text of the native crate.",
        "Fixture Zlib text of the C code bundled in native.",
        "Fixture standard MIT text.",
    ] {
        assert_eq!(text.matches(fixture_text).count(), 1, "{fixture_text}");
    }
}

#[test]
fn a_crate_without_a_licence_file_gets_the_standard_text_only_when_the_policy_says_so() {
    let text = stdout(&notices("x86_64-unknown-linux-gnu", &[]));
    assert!(text.contains(
        "\nbare 0.1.0\n  licence: MIT\n  source: https://example.com/bare\n  note: its package \
         holds no licence file; the standard text of its licence applies, copyright its \
         authors: bare Author <bare@example.com>\n  texts: [1] the standard MIT text\n"
    ));

    let (_dir, policy) = temp_policy("allow MIT\nallow MIT OR Apache-2.0\n");
    let out = notices_under(&policy, "x86_64-unknown-linux-gnu", &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("licences: bare 0.1.0 (MIT) has no licence file in its package ("),
        "{err}"
    );
    assert!(
        err.ends_with(
            "); check its terms, then add `no-licence-file bare` to the policy to use the \
             standard text\n"
        ),
        "{err}"
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn a_no_licence_file_line_for_a_crate_that_has_one_is_refused() {
    let (_dir, policy) = temp_policy("no-licence-file bare\nno-licence-file dual\n");
    let out = notices_under(&policy, "x86_64-unknown-linux-gnu", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "licences: the policy says dual 0.1.0 has no licence file, but its package has \
         LICENSE-APACHE: remove its `no-licence-file` line\n"
    );
}

#[test]
fn notices_name_no_local_path_and_are_the_same_every_run() {
    let out = tempfile::tempdir().expect("tempdir");
    let first = out.path().join("first");
    let first_arg = first.to_str().expect("UTF-8 path");
    let run_one = notices("x86_64-unknown-linux-gnu", &["--output", first_arg]);
    assert_eq!(run_one.status.code(), Some(0), "{}", stderr(&run_one));
    assert_eq!(stdout(&run_one), "");
    let written = std::fs::read_to_string(&first).expect("read notices");
    assert_eq!(written, stdout(&notices("x86_64-unknown-linux-gnu", &[])));
    assert!(!written.contains(env!("CARGO_MANIFEST_DIR")));
}

#[test]
fn usage_errors_exit_2() {
    let out = run(&["notices", "--policy", FIXTURE_POLICY]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("licences: --target is required\nusage: licences check"));
    let out = run(&["audit"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("licences: unknown command audit\n"));
}
