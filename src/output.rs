//! The only place that writes results to stdout (SPEC §2): text, JSON, JSON lines or
//! nothing, optionally through a `--jq` filter. Commands hand over a typed [`Report`].

use std::io::Write;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::jq;
use crate::term;

/// What `--output` selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Jsonl,
    None,
}

/// The resolved output settings of a run.
pub struct OutputOptions {
    pub format: Format,
    /// The compiled `--jq` filter, when one was given.
    pub jq: Option<jq::Filter>,
}

/// A command's result: serializable for JSON output, with a text rendering for people.
pub trait Report: Serialize {
    /// The text-mode lines. The renderer strips control characters (newlines included)
    /// from each, so text from a server can never forge another line.
    fn lines(&self) -> Vec<String>;
}

/// Prints `report` as the options say.
pub fn render<R: Report>(report: &R, opts: &OutputOptions) -> Result<()> {
    let out = match opts.format {
        Format::None => return Ok(()),
        Format::Text => {
            let mut s = String::new();
            for line in report.lines() {
                s.push_str(&term::clean(&line));
                s.push('\n');
            }
            s
        }
        Format::Json | Format::Jsonl => {
            let value = serde_json::to_value(report)
                .map_err(|e| Error::failure(format!("cannot encode result: {e}")))?;
            let values = match &opts.jq {
                Some(filter) => filter
                    .run(value)
                    .map_err(|e| Error::failure(format!("jq error: {}", term::clean(&e))))?,
                None => vec![value],
            };
            let mut s = String::new();
            for v in &values {
                s.push_str(&to_json(v, opts.format == Format::Json));
                s.push('\n');
            }
            s
        }
    };
    write_stdout(&out)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth reporting.
pub fn write_stdout(s: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(s.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::failure(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// JSON text (two-space indented or compact). serde_json escapes C0 controls; DEL and
/// the C1 range are escaped here too, so no JSON output can drive a terminal.
pub fn to_json(value: &serde_json::Value, pretty: bool) -> String {
    let s = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .unwrap_or_default();
    if !s.chars().any(char::is_control) {
        return s;
    }
    // Outside strings JSON text is ASCII without controls (pretty newlines aside), so every
    // remaining control character sits inside a string and can take an escape.
    let mut escaped = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() && c != '\n' {
            escaped.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            escaped.push(c);
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::to_json;
    use serde_json::json;

    #[test]
    fn escapes_c1_and_del_in_strings() {
        let v = json!({"a": "x\u{9b}31m\u{7f}y\u{1b}"});
        assert_eq!(to_json(&v, false), r#"{"a":"x\u009b31m\u007fy\u001b"}"#);
        assert_eq!(
            to_json(&v, true),
            "{\n  \"a\": \"x\\u009b31m\\u007fy\\u001b\"\n}"
        );
    }
}
