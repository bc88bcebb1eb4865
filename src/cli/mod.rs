//! The command line: the table of commands and flags, the parser built on it, and the
//! help generated from it.

pub mod args;
pub mod defs;
pub mod doc;
pub mod env_key;
pub mod parse;
