//! The licence policy file: the allowed licence expressions, the crates whose package
//! holds no licence file, and the code some crates bundle under licences of its own.
//! The format is described at the top of the project's `tools/licences/policy.txt`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A parsed policy file.
pub struct Policy {
    /// Allowed licence expressions, normalised by [`normalise`].
    allowed: BTreeSet<String>,
    /// Crates whose notice is the standard text of their licences.
    no_licence_file: BTreeSet<String>,
    /// Code bundled inside crates under a licence of its own.
    pub bundled: Vec<Bundled>,
    /// Where the standard licence texts are: `texts/` beside the policy file.
    texts: PathBuf,
}

/// One `bundled` line: with `feature` on, `krate` compiles in code under `expression`,
/// whose text is `path` inside the crate's package.
pub struct Bundled {
    pub krate: String,
    pub feature: String,
    pub path: PathBuf,
    pub expression: String,
}

impl Policy {
    /// Reads and parses the policy file at `path`.
    pub fn load(path: &Path) -> Result<Policy, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the policy {}: {e}", path.display()))?;
        let texts = path.parent().unwrap_or(Path::new(".")).join("texts");
        Policy::parse(&text, texts).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn parse(text: &str, texts: PathBuf) -> Result<Policy, String> {
        let mut policy = Policy {
            allowed: BTreeSet::new(),
            no_licence_file: BTreeSet::new(),
            bundled: Vec::new(),
            texts,
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || format!("line {}: cannot read `{line}`", n + 1);
            let (keyword, rest) = line.split_once(' ').ok_or_else(bad)?;
            match keyword {
                "allow" => {
                    policy.allowed.insert(normalise(rest));
                }
                "no-licence-file" => {
                    policy.no_licence_file.insert(rest.trim().to_owned());
                }
                "bundled" => {
                    let mut words = rest.split_whitespace();
                    let (Some(krate), Some(feature), Some(path)) =
                        (words.next(), words.next(), words.next())
                    else {
                        return Err(bad());
                    };
                    let expression = words.collect::<Vec<_>>().join(" ");
                    if expression.is_empty() {
                        return Err(bad());
                    }
                    policy.bundled.push(Bundled {
                        krate: krate.to_owned(),
                        feature: feature.to_owned(),
                        path: PathBuf::from(path),
                        expression,
                    });
                }
                _ => return Err(bad()),
            }
        }
        Ok(policy)
    }

    /// Whether `expression` (as a crate's `license` field gives it) is allowed.
    pub fn allows(&self, expression: &str) -> bool {
        self.allowed.contains(&normalise(expression))
    }

    /// Whether the policy says `krate` ships no licence file.
    pub fn has_no_licence_file(&self, krate: &str) -> bool {
        self.no_licence_file.contains(krate)
    }

    /// The standard text of one SPDX licence, from `texts/<id>.txt`.
    pub fn standard_text(&self, id: &str) -> Result<String, String> {
        let path = self.texts.join(format!("{id}.txt"));
        std::fs::read_to_string(&path)
            .map_err(|e| format!("no standard text for {id} ({}: {e})", path.display()))
    }
}

/// An expression in one spelling: the old `/` separator read as ` OR `, runs of spaces as
/// one. Nothing else is rewritten: `MIT OR Apache-2.0` and `Apache-2.0 OR MIT` are
/// listed apart, as crates spell them.
pub fn normalise(expression: &str) -> String {
    expression
        .replace('/', " OR ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The SPDX licence identifiers named in an expression (its operators, exceptions and
/// parentheses left out), in order of appearance, each once.
pub fn licence_ids(expression: &str) -> Vec<String> {
    let normal = normalise(expression).replace(['(', ')'], " ");
    let mut ids: Vec<String> = Vec::new();
    let mut after_with = false;
    for word in normal.split_whitespace() {
        match word {
            "AND" | "OR" => after_with = false,
            "WITH" => after_with = true,
            id if !after_with && !ids.iter().any(|known| known == id) => ids.push(id.to_owned()),
            _ => {}
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slash_reads_as_or_and_spaces_collapse() {
        assert_eq!(normalise("MIT/Apache-2.0"), "MIT OR Apache-2.0");
        assert_eq!(normalise(" MIT  OR\tISC "), "MIT OR ISC");
    }

    #[test]
    fn licence_ids_skip_operators_exceptions_and_repeats() {
        assert_eq!(
            licence_ids("Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT"),
            ["Apache-2.0", "MIT"]
        );
        assert_eq!(
            licence_ids("(MIT OR Apache-2.0) AND Unicode-3.0"),
            ["MIT", "Apache-2.0", "Unicode-3.0"]
        );
    }

    #[test]
    fn every_kind_of_line_is_read_and_an_unknown_one_is_refused() {
        let policy = Policy::parse(
            "# comment\n\nallow MIT/Apache-2.0\nno-licence-file bare\n\
             bundled native vendored c/COPYING AFL-2.1 OR GPL-2.0-or-later\n",
            PathBuf::from("texts"),
        )
        .unwrap();
        assert!(policy.allows("MIT OR Apache-2.0"));
        assert!(!policy.allows("Apache-2.0 OR MIT"));
        assert!(policy.has_no_licence_file("bare"));
        assert_eq!(policy.bundled.len(), 1);
        assert_eq!(policy.bundled[0].expression, "AFL-2.1 OR GPL-2.0-or-later");
        assert_eq!(policy.bundled[0].path, PathBuf::from("c/COPYING"));

        let err = Policy::parse("allow MIT\ndeny GPL-3.0\n", PathBuf::new()).err();
        assert_eq!(err.as_deref(), Some("line 2: cannot read `deny GPL-3.0`"));
        let err = Policy::parse("bundled native vendored\n", PathBuf::new()).err();
        assert_eq!(
            err.as_deref(),
            Some("line 1: cannot read `bundled native vendored`")
        );
    }
}
