//! The documentation generated from the table in [`super::defs`]: `--help` texts and the
//! man page, one file each. Both read the table only, so neither can drift from what the
//! parser accepts.

pub mod help;
pub mod man;
