//! The argument parser (and, through `--jq`, the jq compiler and, through the remote
//! flags, the URL rules) on arbitrary argument vectors: it must answer or refuse, never
//! panic. Arguments are the input split at NUL bytes; the environment is empty.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use baseten::cli::env::Env;
use baseten::cli::parse::{self, Action};
use baseten::cli::resolve;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let args = data.split(|&b| b == 0).map(|a| OsString::from_vec(a.to_vec()));
    if let Ok(Action::Run(def, low)) = parse::parse(args) {
        let _ = resolve::resolve(def, *low, &Env::new(&|_| None));
    }
});
