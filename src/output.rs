//! The only place that writes results to stdout (SPEC §2): text, JSON, JSON lines or
//! nothing, optionally through a `--jq` filter. Commands hand over a typed [`Report`].

use std::io::Write;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::jq;
use crate::sanitize;

/// What `--output` selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Lines for people.
    Text,
    /// One JSON document.
    Json,
    /// One JSON value per line; lists item by item.
    Jsonl,
    /// Nothing on stdout: only the exit code speaks.
    None,
}

impl Format {
    /// Every format, in the order help lists them.
    pub const ALL: [Format; 4] = [Format::Text, Format::Json, Format::Jsonl, Format::None];

    /// The name `--output` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::None => "none",
        }
    }

    /// The format `--output NAME` selects.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// The resolved output settings of a run.
pub struct OutputOptions {
    /// The format results are printed in.
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

/// A streamed result (SPEC §6a): a list whose items are printed one by one under
/// `jsonl` and `--jq`, and as one JSON array under plain `json`.
pub trait ListReport {
    /// One element of the list.
    type Item: Serialize;
    /// The items, in output order.
    fn items(&self) -> &[Self::Item];
    /// The text-mode lines, cleaned like [`Report::lines`].
    fn lines(&self) -> Vec<String>;
}

/// Prints `report` as the options say.
pub fn render<R: Report>(report: &R, opts: &OutputOptions) -> Result<()> {
    match opts.format {
        Format::None => Ok(()),
        Format::Text => write_stdout(&text(report.lines())),
        Format::Json | Format::Jsonl => json_values(vec![encode(report)?], opts),
    }
}

/// Prints a streamed `report` as the options say.
pub fn render_list<R: ListReport>(report: &R, opts: &OutputOptions) -> Result<()> {
    match (opts.format, &opts.jq) {
        (Format::None, _) => Ok(()),
        (Format::Text, _) => write_stdout(&text(report.lines())),
        (Format::Json, None) => {
            let all = report
                .items()
                .iter()
                .map(encode)
                .collect::<Result<Vec<_>>>()?;
            write_stdout(&(to_json(&serde_json::Value::Array(all), true) + "\n"))
        }
        (Format::Json | Format::Jsonl, _) => {
            let items = report.items().iter().map(encode).collect::<Result<_>>()?;
            json_values(items, opts)
        }
    }
}

/// Text lines, each cleaned of control characters so no line can forge another.
fn text(lines: Vec<String>) -> String {
    let mut s = String::new();
    for line in lines {
        s.push_str(&sanitize::clean(&line));
        s.push('\n');
    }
    s
}

fn encode(value: &impl Serialize) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| Error::failure(format!("cannot encode result: {e}")))
}

/// `values` through the `--jq` filter when there is one, each output on its own line
/// (pretty under `json`, compact under `jsonl`), written as it is produced: an endless
/// filter streams until the reader goes away, which ends the run quietly.
fn json_values(values: Vec<serde_json::Value>, opts: &OutputOptions) -> Result<()> {
    let pretty = opts.format == Format::Json;
    let mut out = Lines::new();
    let result = match &opts.jq {
        Some(filter) => filter.run(values, |v| out.write(&to_json(&v, pretty))),
        None => {
            let _ = values
                .iter()
                .try_for_each(|v| out.write(&to_json(v, pretty)));
            Ok(())
        }
    };
    // What was printed goes out before the error is reported.
    out.finish()?;
    result.map_err(|e| Error::failure(format!("jq error: {}", sanitize::excerpt(&e))))
}

/// Stdout as lines of output: buffered, flushed after each line on a terminal (so
/// a slow filter's results show up as they come), and closed for good by the first
/// failed write.
struct Lines {
    out: std::io::BufWriter<std::io::Stdout>,
    terminal: bool,
    failed: Option<std::io::Error>,
}

impl Lines {
    fn new() -> Lines {
        let stdout = std::io::stdout();
        Lines {
            terminal: std::io::IsTerminal::is_terminal(&stdout),
            out: std::io::BufWriter::new(stdout),
            failed: None,
        }
    }

    /// Writes `line` and a newline; `Break` once stdout cannot take more.
    fn write(&mut self, line: &str) -> std::ops::ControlFlow<()> {
        let written = self
            .out
            .write_all(line.as_bytes())
            .and_then(|()| self.out.write_all(b"\n"))
            .and_then(|()| {
                if self.terminal {
                    self.out.flush()
                } else {
                    Ok(())
                }
            });
        match written {
            Ok(()) => std::ops::ControlFlow::Continue(()),
            Err(e) => {
                self.failed = Some(e);
                std::ops::ControlFlow::Break(())
            }
        }
    }

    /// Flushes; a closed pipe (`| head`) is not an error worth reporting.
    fn finish(mut self) -> Result<()> {
        let flushed = match self.failed.take() {
            Some(e) => Err(e),
            None => self.out.flush(),
        };
        match flushed {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(Error::failure(format!("cannot write to stdout: {e}")))
            }
            _ => Ok(()),
        }
    }
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

/// JSON text (two-space indented or compact). serde_json escapes C0 controls; DEL, the
/// C1 range and Unicode format characters (bidi overrides and isolates, zero-width
/// characters, the BOM, …) are escaped here too (SPEC §9): lossless, and no JSON output
/// can drive a terminal or make one string look like another.
pub fn to_json(value: &serde_json::Value, pretty: bool) -> String {
    let s = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .unwrap_or_default();
    let hidden = |c: char| (c.is_control() && c != '\n') || sanitize::is_format(c);
    if !s.chars().any(hidden) {
        return s;
    }
    // Outside strings JSON text is ASCII without controls (pretty newlines aside), so every
    // remaining hidden character sits inside a string and can take an escape (a pair of
    // UTF-16 escapes beyond the Basic Multilingual Plane).
    let mut escaped = String::with_capacity(s.len());
    for c in s.chars() {
        if hidden(c) {
            for unit in c.encode_utf16(&mut [0; 2]) {
                escaped.push_str(&format!("\\u{unit:04x}"));
            }
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

    #[test]
    fn escapes_format_characters_losslessly() {
        let text = "a\u{202E}b\u{2066}c\u{200B}d\u{FEFF}e\u{2064}f\u{E0041}g é ✓";
        let v = json!({ "s": text });
        let out = to_json(&v, false);
        assert_eq!(
            out,
            r#"{"s":"a\u202eb\u2066c\u200bd\ufeffe\u2064f\udb40\udc41g é ✓"}"#
        );
        assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap(), v);
    }
}
