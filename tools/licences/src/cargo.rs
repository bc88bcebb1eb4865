//! What cargo knows about the dependencies: `cargo metadata` for each package's licence,
//! authors and source directory, `cargo tree` for the crates compiled for one target.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// One package of the lock file, as `cargo metadata` describes it.
#[derive(Deserialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    id: String,
    /// The SPDX expression of the `license` field, if the crate has one.
    pub license: Option<String>,
    /// The `license-file` field, relative to the manifest.
    pub license_file: Option<PathBuf>,
    pub manifest_path: PathBuf,
    #[serde(default)]
    pub authors: Vec<String>,
    pub repository: Option<String>,
}

impl Package {
    /// The directory holding the crate's sources.
    pub fn dir(&self) -> &Path {
        self.manifest_path.parent().unwrap_or(Path::new("."))
    }

    /// `name version`, as messages and the notices name a crate.
    pub fn label(&self) -> String {
        format!("{} {}", self.name, self.version)
    }
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_members: Vec<String>,
    resolve: Option<Resolve>,
}

#[derive(Deserialize)]
struct Resolve {
    root: Option<String>,
}

/// Which build of the root package: its target triple and features, as cargo takes them.
pub struct Selection {
    pub target: String,
    pub features: Option<String>,
    pub no_default_features: bool,
}

/// The crates compiled into one build of the root package.
pub struct Build {
    /// The root package's name and version, for the notices' heading.
    pub root: String,
    pub target: String,
    /// Every crate `cargo tree -e normal` lists but the workspace's own, sorted by name
    /// and version, with the features it is built with.
    pub crates: Vec<(Package, BTreeSet<String>)>,
}

/// Every package in the lock file but the workspace's own, for every platform.
pub fn all_packages(manifest: Option<&Path>) -> Result<Vec<Package>, String> {
    Ok(third_party(metadata(manifest, &[])?))
}

/// The crates `cargo tree -e normal --target <triple>` lists for the root package with
/// the selected features, described by `cargo metadata`.
pub fn compiled_in(manifest: Option<&Path>, selection: &Selection) -> Result<Build, String> {
    let meta = metadata(manifest, &["--filter-platform", &selection.target])?;
    let root_id = meta.resolve.as_ref().and_then(|r| r.root.clone()).ok_or(
        "the manifest has no root package (a virtual workspace): pass its --manifest-path",
    )?;
    let root = meta
        .packages
        .iter()
        .find(|p| p.id == root_id)
        .map(|p| (p.name.clone(), p.label()))
        .ok_or("cargo metadata does not describe its own root package")?;

    let mut args = vec![
        "tree".to_owned(),
        "--locked".into(),
        "-e".into(),
        "normal".into(),
        "--target".into(),
        selection.target.clone(),
        "--prefix".into(),
        "none".into(),
        "--format".into(),
        "{p}|{f}".into(),
        "-p".into(),
        root.0,
    ];
    if let Some(features) = &selection.features {
        args.extend(["--features".into(), features.clone()]);
    }
    if selection.no_default_features {
        args.push("--no-default-features".into());
    }
    let listed = cargo(manifest, &args)?;

    // name version → features; a crate built twice (for the host and the target) with
    // different features counts with all of them.
    let mut features: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for line in listed.lines().filter(|l| !l.trim().is_empty()) {
        let (package, feature_list) = line.split_once('|').unwrap_or((line, ""));
        let mut words = package.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            return Err(format!("cannot read `cargo tree` line `{line}`"));
        };
        let version = version.strip_prefix('v').unwrap_or(version);
        features
            .entry((name.to_owned(), version.to_owned()))
            .or_default()
            .extend(
                feature_list
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned),
            );
    }

    let packages = third_party(meta);
    let mut by_key: BTreeMap<(String, String), Package> = BTreeMap::new();
    for p in packages {
        let key = (p.name.clone(), p.version.clone());
        if by_key.contains_key(&key) {
            return Err(format!(
                "two packages are named {} {}: cannot tell them apart",
                key.0, key.1
            ));
        }
        by_key.insert(key, p);
    }
    let mut crates = Vec::new();
    for (key, feats) in features {
        // The root package is not in `by_key`: its licence is the project's own.
        if let Some(p) = by_key.remove(&key) {
            crates.push((p, feats));
        } else if format!("{} {}", key.0, key.1) != root.1 {
            return Err(format!(
                "`cargo tree` lists {} {}, which `cargo metadata` does not describe",
                key.0, key.1
            ));
        }
    }
    Ok(Build {
        root: root.1,
        target: selection.target.clone(),
        crates,
    })
}

/// The packages of `meta` that are not workspace members, sorted by name and version.
fn third_party(meta: Metadata) -> Vec<Package> {
    let members: BTreeSet<&String> = meta.workspace_members.iter().collect();
    let mut packages: Vec<Package> = meta
        .packages
        .into_iter()
        .filter(|p| !members.contains(&p.id))
        .collect();
    packages.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    packages
}

fn metadata(manifest: Option<&Path>, extra: &[&str]) -> Result<Metadata, String> {
    let mut args = vec!["metadata", "--format-version", "1", "--locked"];
    args.extend_from_slice(extra);
    let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
    let json = cargo(manifest, &args)?;
    serde_json::from_str(&json).map_err(|e| format!("cannot read `cargo metadata`: {e}"))
}

/// Runs cargo (the one running this program, else `cargo` from PATH) and returns its
/// standard output; its errors go to our standard error, its status lines (such as
/// waiting for another cargo's lock) nowhere.
fn cargo(manifest: Option<&Path>, args: &[String]) -> Result<String, String> {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&program);
    command.args(args).arg("--quiet");
    if let Some(path) = manifest {
        command.arg("--manifest-path").arg(path);
    }
    let output = command
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", program.to_string_lossy()))?;
    if !output.status.success() {
        return Err(format!("`cargo {}` failed ({})", args[0], output.status));
    }
    String::from_utf8(output.stdout).map_err(|_| format!("`cargo {}` printed non-UTF-8", args[0]))
}
