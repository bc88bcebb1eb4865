//! The licence policy applied to the lock file: every crate's licence expression, and
//! every bundled licence the policy records, must be on the allow-list.

use std::fmt;

use crate::cargo::Package;
use crate::policy::Policy;

/// A crate whose licence the policy does not allow.
pub struct Violation {
    crate_label: String,
    /// The licence as the crate declares it, or what it declares instead.
    licence: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is licensed {}, which the policy does not allow",
            self.crate_label, self.licence
        )
    }
}

/// The crates of `packages` (and the code bundled in them) that break `policy`, in the
/// order of `packages`.
pub fn violations(policy: &Policy, packages: &[Package]) -> Vec<Violation> {
    let mut found = Vec::new();
    for p in packages {
        match &p.license {
            Some(expression) if policy.allows(expression) => {}
            Some(expression) => found.push(Violation {
                crate_label: p.label(),
                licence: format!("`{expression}`"),
            }),
            None => found.push(Violation {
                crate_label: p.label(),
                licence: match &p.license_file {
                    Some(file) => {
                        format!("by its own file {} (no SPDX expression)", file.display())
                    }
                    None => "nothing (no licence given)".to_owned(),
                },
            }),
        }
        for b in policy.bundled.iter().filter(|b| b.krate == p.name) {
            if !policy.allows(&b.expression) {
                found.push(Violation {
                    crate_label: format!("{} (bundled with feature {})", p.label(), b.feature),
                    licence: format!("`{}`", b.expression),
                });
            }
        }
    }
    found
}
