//! The `auth.json` reader on arbitrary bytes: anything it accepts must write back out and
//! read back in to the same file (unknown keys included), and nothing may panic.
#![no_main]

use baseten::store::layout::{AuthFile, Parsed};
use libfuzzer_sys::fuzz_target;

/// The whole file decoded, as a change reads it.
fn read(text: &str) -> Result<AuthFile, String> {
    Parsed::parse(text)?.decode()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = read(text) else {
        return;
    };
    let written = serde_json::to_string_pretty(&file).expect("an accepted file serializes");
    let again = read(&written).expect("a written file reads back");
    let rewritten = serde_json::to_string_pretty(&again).expect("serializes again");
    assert_eq!(written, rewritten);
});
