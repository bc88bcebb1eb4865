//! `licences`: the project's licence tooling, run from the Makefile and CI, never shipped.
//!
//! - `licences check --policy FILE` fails when any crate in Cargo.lock has a licence
//!   expression the policy does not allow, naming each such crate and its licence.
//! - `licences notices --policy FILE --target TRIPLE` writes the third-party notices for
//!   the crates `cargo tree -e normal --target TRIPLE` lists: each crate's licence and the
//!   licence texts from its own package, each text once.
//!
//! Both take `--manifest-path` (default: cargo's own lookup from the current directory);
//! `notices` also takes `--features`, `--no-default-features` and `--output FILE`.
//! Exit codes: 0 success, 1 a policy violation or a notice that cannot be written, 2 usage.

mod cargo;
mod check;
mod notices;
mod policy;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use cargo::Selection;
use policy::Policy;

const USAGE: &str = "usage: licences check --policy FILE [--manifest-path PATH]
       licences notices --policy FILE --target TRIPLE [--features LIST]
                        [--no-default-features] [--manifest-path PATH] [--output FILE]";

/// A parsed command line.
struct Args {
    command: Command,
    policy: PathBuf,
    manifest_path: Option<PathBuf>,
}

/// What to do.
enum Command {
    Check,
    Notices {
        selection: Selection,
        output: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let args = match parse(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("licences: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("licences: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let policy = Policy::load(&args.policy)?;
    let manifest = args.manifest_path.as_deref();
    match &args.command {
        Command::Check => {
            let packages = cargo::all_packages(manifest)?;
            let violations = check::violations(&policy, &packages);
            if violations.is_empty() {
                eprintln!(
                    "licences: {} crates, every licence allowed by {}",
                    packages.len(),
                    args.policy.display()
                );
                Ok(())
            } else {
                for v in &violations {
                    eprintln!("licences: {v}");
                }
                Err(format!(
                    "{} crate(s) break the licence policy in {}",
                    violations.len(),
                    args.policy.display()
                ))
            }
        }
        Command::Notices { selection, output } => {
            let build = cargo::compiled_in(manifest, selection)?;
            let text = notices::render(&policy, &build)?;
            match output {
                Some(path) => std::fs::write(path, text)
                    .map_err(|e| format!("cannot write {}: {e}", path.display())),
                None => {
                    use std::io::Write;
                    std::io::stdout()
                        .write_all(text.as_bytes())
                        .map_err(|e| format!("cannot write the notices: {e}"))
                }
            }
        }
    }
}

fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Args, String> {
    use lexopt::Arg::{Long, Value};
    let mut p = lexopt::Parser::from_args(args);
    let command = match p.next().map_err(|e| e.to_string())? {
        Some(Value(v)) if v == "check" => "check",
        Some(Value(v)) if v == "notices" => "notices",
        Some(Value(v)) => return Err(format!("unknown command {}", v.to_string_lossy())),
        _ => return Err("a command is required".into()),
    };
    let mut policy = None;
    let mut manifest_path = None;
    let mut target = None;
    let mut features = None;
    let mut no_default_features = false;
    let mut output = None;
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        let value = |p: &mut lexopt::Parser| p.value().map_err(|e| e.to_string());
        match arg {
            Long("policy") => policy = Some(PathBuf::from(value(&mut p)?)),
            Long("manifest-path") => manifest_path = Some(PathBuf::from(value(&mut p)?)),
            Long("target") if command == "notices" => target = Some(utf8(value(&mut p)?)?),
            Long("features") if command == "notices" => features = Some(utf8(value(&mut p)?)?),
            Long("no-default-features") if command == "notices" => no_default_features = true,
            Long("output") if command == "notices" => output = Some(PathBuf::from(value(&mut p)?)),
            other => return Err(other.unexpected().to_string()),
        }
    }
    let policy = policy.ok_or("--policy is required")?;
    let command = if command == "check" {
        Command::Check
    } else {
        Command::Notices {
            selection: Selection {
                target: target.ok_or("--target is required")?,
                features,
                no_default_features,
            },
            output,
        }
    };
    Ok(Args {
        command,
        policy,
        manifest_path,
    })
}

fn utf8(value: OsString) -> Result<String, String> {
    value
        .into_string()
        .map_err(|v| format!("not UTF-8: {}", v.to_string_lossy()))
}
