//! The `auth.json` reader on arbitrary bytes: anything it accepts must write back out and
//! read back in to the same file (unknown keys included), and nothing may panic.
#![no_main]

use baseten::store::layout::AuthFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(file) = serde_json::from_slice::<AuthFile>(data) else {
        return;
    };
    let written = serde_json::to_string_pretty(&file).expect("an accepted file serializes");
    let again: AuthFile = serde_json::from_str(&written).expect("a written file reads back");
    let rewritten = serde_json::to_string_pretty(&again).expect("serializes again");
    assert_eq!(written, rewritten);
});
