//! What `make install-files` installs (SPEC §1): exactly the documented layout, modes
//! that do not depend on the umask, and `make install` as build then install-files.
#![cfg(unix)]

use crate::common;
use crate::docs::{completion_script, man_source, require, scratch};

use std::fs;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{BIN, Outcome, mode};
use tempfile::TempDir;

/// What `make install-files DESTDIR=… PREFIX=/usr` must create, and nothing else.
const INSTALLED: &[&str] = &[
    "usr/bin/baseten",
    "usr/share/bash-completion/completions/baseten",
    "usr/share/fish/vendor_completions.d/baseten.fish",
    "usr/share/licenses/baseten/LICENSE-APACHE",
    "usr/share/licenses/baseten/LICENSE-MIT",
    "usr/share/licenses/baseten/THIRD-PARTY-NOTICES",
    "usr/share/man/man1/baseten.1",
    "usr/share/zsh/site-functions/_baseten",
];

// ---------------------------------------------------------------------------------------
// make install-files
// ---------------------------------------------------------------------------------------

/// Runs `make ARGS` in the project directory under `umask`, isolated from any outer make.
fn make(umask: &str, args: &[String]) -> Outcome {
    common::run(
        Command::new("sh")
            .arg("-c")
            .arg(format!("umask {umask} && exec make \"$@\""))
            .arg("sh")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("MAKEFLAGS")
            .env_remove("MFLAGS")
            .env_remove("MAKELEVEL")
            .env_remove("MAKEOVERRIDES")
            .stdin(Stdio::null()),
    )
}

/// `DESTDIR=… PREFIX=/usr BIN=<the binary under test>`.
fn install_vars(destdir: &Path) -> Vec<String> {
    vec![
        format!("DESTDIR={}", destdir.display()),
        "PREFIX=/usr".into(),
        format!("BIN={BIN}"),
    ]
}

/// `make install-files` into a fresh DESTDIR under `umask`; returns the temp dir and DESTDIR.
fn install_files(umask: &str) -> (TempDir, PathBuf) {
    let dir = scratch();
    let destdir = dir.path().join("stage");
    let mut dry = vec!["-n".to_owned(), "install-files".to_owned()];
    dry.extend(install_vars(&destdir));
    let out = make("022", &dry);
    assert_eq!(
        out.code, 0,
        "the Makefile has no usable install-files target (install without building): {out:#?}"
    );
    let mut args = vec!["install-files".to_owned()];
    args.extend(install_vars(&destdir));
    let out = make(umask, &args);
    assert_eq!(out.code, 0, "make install-files failed: {out:#?}");
    (dir, destdir)
}

/// Relative paths of the files and of the directories under `root`, sorted.
fn tree(root: &Path) -> (Vec<String>, Vec<String>) {
    fn walk(root: &Path, dir: &Path, files: &mut Vec<String>, dirs: &mut Vec<String>) {
        for entry in fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .into_owned();
            let kind = fs::symlink_metadata(&path).expect("lstat").file_type();
            if kind.is_dir() {
                dirs.push(rel);
                walk(root, &path, files, dirs);
            } else {
                assert!(kind.is_file(), "not a regular file: {rel}");
                files.push(rel);
            }
        }
    }
    let (mut files, mut dirs) = (Vec::new(), Vec::new());
    walk(root, root, &mut files, &mut dirs);
    files.sort();
    dirs.sort();
    (files, dirs)
}

/// Whether two files have the same bytes, read in chunks (the debug binary is large).
fn same_bytes(a: &Path, b: &Path) -> bool {
    let (fa, fb) = (File::open(a).expect("open"), File::open(b).expect("open"));
    if fa.metadata().expect("stat").len() != fb.metadata().expect("stat").len() {
        return false;
    }
    let (mut ra, mut rb) = (BufReader::new(fa), BufReader::new(fb));
    let (mut ba, mut bb) = (vec![0; 1 << 16], vec![0; 1 << 16]);
    loop {
        let n = ra.read(&mut ba).expect("read");
        if n == 0 {
            return true;
        }
        rb.read_exact(&mut bb[..n]).expect("read");
        if ba[..n] != bb[..n] {
            return false;
        }
    }
}

/// Asserts the modes of everything installed: 0755 for the binary and the directories,
/// 0644 for the rest.
#[track_caller]
fn assert_modes(destdir: &Path, umask: &str) {
    let (files, dirs) = tree(destdir);
    let mut wrong = Vec::new();
    for file in &files {
        let want = if file == "usr/bin/baseten" {
            0o755
        } else {
            0o644
        };
        let got = mode(&destdir.join(file));
        if got != want {
            wrong.push(format!("{file}: {got:o}, expected {want:o}"));
        }
    }
    for dir in &dirs {
        let got = mode(&destdir.join(dir));
        if got != 0o755 {
            wrong.push(format!("{dir}/: {got:o}, expected 755"));
        }
    }
    assert!(
        wrong.is_empty(),
        "make install-files under umask {umask} installs with the wrong modes:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn make_install_files_produces_exactly_the_layout() {
    require("make");
    let (_dir, destdir) = install_files("022");
    let (files, _) = tree(&destdir);
    assert_eq!(files, INSTALLED.to_vec(), "files under DESTDIR");
    assert_modes(&destdir, "022");

    let installed = |rel: &str| destdir.join(rel);
    let read = |rel: &str| fs::read_to_string(installed(rel)).expect("read installed file");
    assert!(
        same_bytes(&installed("usr/bin/baseten"), Path::new(BIN)),
        "the installed binary is not BIN"
    );
    assert_eq!(read("usr/share/man/man1/baseten.1"), man_source());
    assert_eq!(
        read("usr/share/bash-completion/completions/baseten"),
        completion_script("bash")
    );
    assert_eq!(
        read("usr/share/zsh/site-functions/_baseten"),
        completion_script("zsh")
    );
    assert_eq!(
        read("usr/share/fish/vendor_completions.d/baseten.fish"),
        completion_script("fish")
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for licence in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(
            same_bytes(
                &installed(&format!("usr/share/licenses/baseten/{licence}")),
                &root.join(licence)
            ),
            "installed {licence} differs from the repository's"
        );
    }
    // The notices of this build, for the host (tools/licences has the tests of their
    // contents).
    let notices = read("usr/share/licenses/baseten/THIRD-PARTY-NOTICES");
    let heading = format!(
        "Third-party notices for baseten {} (",
        env!("CARGO_PKG_VERSION")
    );
    assert!(
        notices.starts_with(&heading),
        "{}",
        &notices[..200.min(notices.len())]
    );
    assert!(notices.contains("\nureq "), "the notices do not list ureq");

    // The installed binary runs.
    let out = common::run(Command::new(installed("usr/bin/baseten")).arg("--version"));
    assert_eq!(
        out.success(),
        format!("baseten {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn make_install_files_modes_do_not_depend_on_the_umask() {
    require("make");
    // A root shell with a strict umask must still install a man page and completions
    // that every user can read.
    let (_dir, destdir) = install_files("077");
    let (files, _) = tree(&destdir);
    assert_eq!(files, INSTALLED.to_vec(), "files under DESTDIR");
    assert_modes(&destdir, "077");
}

#[test]
fn make_install_is_build_then_install_files() {
    require("make");
    let destdir = Path::new("/nonexistent-destdir");
    let mut files_args = vec![
        "-n".to_owned(),
        "install-files".to_owned(),
        "CARGO=cargo".into(),
    ];
    files_args.extend(install_vars(destdir));
    let files = make("022", &files_args);
    assert_eq!(files.code, 0, "{files:#?}");
    let mut install_args = vec!["-n".to_owned(), "install".to_owned(), "CARGO=cargo".into()];
    install_args.extend(install_vars(destdir));
    let install = make("022", &install_args);
    assert_eq!(install.code, 0, "{install:#?}");

    // The build comes first, then every step of install-files, in order.
    let lines: Vec<&str> = install.stdout.lines().collect();
    let build = lines
        .iter()
        .position(|l| l.trim() == "cargo build --release --locked")
        .unwrap_or_else(|| panic!("make install does not build: {install:#?}"));
    let mut rest = lines[build + 1..].iter();
    for step in files.stdout.lines() {
        assert!(
            rest.any(|l| l == &step),
            "make install lacks (or misorders) the install-files step {step:?}:\n{}",
            install.stdout
        );
    }
}
