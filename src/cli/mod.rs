//! The command line, in the shape of ripgrep's: the table of commands, flags and
//! environment variables ([`defs`]); the lexopt loop that turns arguments into typed raw
//! values or a request for one of the program's own texts ([`parse`], into [`low`]);
//! the step that adds the environment ([`env`](mod@env), [`env_key`]) and checks the
//! rules between flags ([`resolve`], into [`args`]); and what is generated from the
//! table ([`doc`], [`complete`]). Imports run one way: `low` ← `defs` ← `parse`, `doc`,
//! `complete`; `env` ← `env_key` ← `args` ← `resolve` (which also reads `defs` and
//! `low`); `main` calls `parse`, then `resolve`.

pub mod args;
pub mod complete;
pub mod defs;
pub mod doc;
pub mod env;
pub mod env_key;
pub mod low;
pub mod parse;
pub mod resolve;
