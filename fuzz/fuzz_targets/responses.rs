//! The decoding of server responses on arbitrary bodies: device authorization, token and
//! who-am-I JSON, the error-reason excerpt and timestamps. Nothing may panic, and the
//! excerpt shown to users never carries a control character.
#![no_main]

use baseten::api::{DeviceAuthorization, Me, TokenResponse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<DeviceAuthorization>(data);
    let _ = serde_json::from_slice::<TokenResponse>(data);
    let _ = serde_json::from_slice::<Me>(data);
    let reason = baseten::http::reason(data);
    assert!(!reason.chars().any(char::is_control), "{reason:?}");
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(t) = baseten::timestamp::parse(text) {
            let _ = baseten::timestamp::format(t);
        }
    }
});
