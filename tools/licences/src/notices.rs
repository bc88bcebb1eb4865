//! The third-party notices of one build: every crate compiled in, its licence, and the
//! licence texts from its own package (each distinct text once), plus the code some crates
//! bundle under a licence of its own. The output depends only on the lock file, the
//! crates' sources, the policy and the selection: no paths, times or hash orders.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::cargo::{Build, Package};
use crate::policy::{self, Policy};

const RULE: &str =
    "================================================================================";

/// One crate's (or bundled code's) entry in the list.
struct Entry {
    heading: String,
    licence: String,
    source: Option<String>,
    note: Option<String>,
    /// (text number, where the text came from)
    texts: Vec<(usize, String)>,
}

/// The distinct licence texts, numbered from 1 in order of first use.
#[derive(Default)]
struct Texts {
    numbers: BTreeMap<String, usize>,
    /// For each number: the text and where it was found.
    texts: Vec<(String, Vec<String>)>,
}

impl Texts {
    /// Files `text`, found as `origin`, and returns its number.
    fn add(&mut self, text: &str, origin: String) -> usize {
        let text = tidy(text);
        let next = self.texts.len() + 1;
        let n = *self.numbers.entry(text.clone()).or_insert(next);
        if n == next {
            self.texts.push((text, Vec::new()));
        }
        self.texts[n - 1].1.push(origin);
        n
    }
}

/// The notices text for `build`.
pub fn render(policy: &Policy, build: &Build) -> Result<String, String> {
    let mut texts = Texts::default();
    let mut entries = Vec::new();
    for (package, features) in &build.crates {
        entries.push(crate_entry(policy, package, &mut texts)?);
        entries.extend(bundled_entries(policy, package, features, &mut texts)?);
    }

    let mut out = String::new();
    let _ = write!(
        out,
        "Third-party notices for {root} ({target})\n\n\
         Besides its own code (MIT OR Apache-2.0, in LICENSE-MIT and LICENSE-APACHE), this\n\
         build of {root} compiles in the {n} crates below: those that\n\
         `cargo tree -e normal --target {target}` lists. Each is used under the licence\n\
         named with it. An entry \"the code it bundles\" is code a crate carries under a\n\
         licence of its own, such as a C library. The licence texts follow the list, each\n\
         text once, numbered.\n",
        root = build.root,
        target = build.target,
        n = build.crates.len(),
    );
    for e in &entries {
        let _ = write!(out, "\n{}\n  licence: {}\n", e.heading, e.licence);
        if let Some(source) = &e.source {
            let _ = writeln!(out, "  source: {source}");
        }
        if let Some(note) = &e.note {
            let _ = writeln!(out, "  note: {note}");
        }
        let list: Vec<String> = e
            .texts
            .iter()
            .map(|(n, name)| format!("[{n}] {name}"))
            .collect();
        let _ = writeln!(out, "  texts: {}", list.join(", "));
    }
    for (i, (text, origins)) in texts.texts.iter().enumerate() {
        let _ = write!(out, "\n{RULE}\n[{}] the text of:\n", i + 1);
        for origin in origins {
            let _ = writeln!(out, "  {origin}");
        }
        let _ = write!(out, "{RULE}\n\n{text}");
    }
    Ok(out)
}

/// A crate's entry: the licence files in its package, or, where the policy says it has
/// none, the standard texts of its licences.
fn crate_entry(policy: &Policy, p: &Package, texts: &mut Texts) -> Result<Entry, String> {
    let label = p.label();
    let licence = p
        .license
        .clone()
        .ok_or_else(|| format!("{label} gives no licence expression (run `licences check`)"))?;
    let files = licence_files(p)?;
    let mut entry = Entry {
        heading: label.clone(),
        licence: licence.clone(),
        source: p.repository.clone(),
        note: None,
        texts: Vec::new(),
    };
    if policy.has_no_licence_file(&p.name) {
        if let Some(first) = files.first() {
            return Err(format!(
                "the policy says {label} has no licence file, but its package has {}: \
                 remove its `no-licence-file` line",
                first.display()
            ));
        }
        for id in policy::licence_ids(&licence) {
            let n = texts.add(
                &policy.standard_text(&id)?,
                format!("the standard {id} text"),
            );
            entry.texts.push((n, format!("the standard {id} text")));
        }
        entry.note = Some(format!(
            "its package holds no licence file; the standard text of its licence applies, \
             copyright its authors: {}",
            if p.authors.is_empty() {
                "(none named)".to_owned()
            } else {
                p.authors.join(", ")
            }
        ));
    } else if files.is_empty() {
        return Err(format!(
            "{label} ({licence}) has no licence file in its package ({}); check its terms, \
             then add `no-licence-file {}` to the policy to use the standard text",
            p.dir().display(),
            p.name
        ));
    }
    for file in files {
        let text = read(&p.dir().join(&file))?;
        let name = file.display().to_string();
        let n = texts.add(&text, format!("{label} ({name})"));
        entry.texts.push((n, name));
    }
    Ok(entry)
}

/// Entries for the code the policy says `p` bundles with the features it is built with.
fn bundled_entries(
    policy: &Policy,
    p: &Package,
    features: &BTreeSet<String>,
    texts: &mut Texts,
) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    for b in policy.bundled.iter().filter(|b| b.krate == p.name) {
        if !features.contains(&b.feature) {
            continue;
        }
        let label = format!(
            "{} with feature {}: the code it bundles",
            p.label(),
            b.feature
        );
        let text = read(&p.dir().join(&b.path))?;
        let name = b.path.display().to_string();
        let n = texts.add(&text, format!("{} ({name})", p.label()));
        entries.push(Entry {
            heading: label,
            licence: b.expression.clone(),
            source: None,
            note: None,
            texts: vec![(n, name)],
        });
    }
    Ok(entries)
}

/// The licence files at the top of a crate's package (LICENSE*, LICENCE*, COPYING*,
/// UNLICENSE*, NOTICE*, COPYRIGHT*, any case) and its `license-file`, sorted, relative to
/// the package.
fn licence_files(p: &Package) -> Result<Vec<PathBuf>, String> {
    const PREFIXES: [&str; 6] = [
        "LICENSE",
        "LICENCE",
        "COPYING",
        "UNLICENSE",
        "NOTICE",
        "COPYRIGHT",
    ];
    let dir = p.dir();
    let listing =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut files = BTreeSet::new();
    for item in listing {
        let item = item.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let name = item.file_name().to_string_lossy().to_uppercase();
        if PREFIXES.iter().any(|prefix| name.starts_with(prefix)) && item.path().is_file() {
            files.insert(PathBuf::from(item.file_name()));
        }
    }
    if let Some(file) = &p.license_file {
        files.insert(file.clone());
    }
    Ok(files.into_iter().collect())
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// A text with Unix line ends and exactly one final newline, so that copies differing only
/// in those count as one.
fn tidy(text: &str) -> String {
    let mut text = text.replace("\r\n", "\n");
    text.truncate(text.trim_end().len());
    text.push('\n');
    text
}
