//! Output (SPEC §2, §9): the formats, `--jq`, and the streams the output goes to.

mod formats;
pub(crate) mod jq;
