//! `baseten auth login` (SPEC §4, §5, §8): with an API key, through the browser (the
//! device flow, and which browser starts), and the input rules for what a user types
//! and a server sends during a login.

mod api_key;
mod browser;
mod device;
mod input_rules;
