//! Opening the login page in a browser (SPEC §5, §9): best effort, never through a shell,
//! never waited on, and only for plain `http(s)` URLs.

use std::process::{Command, Stdio};

use crate::ui::debug;

/// Opens `url` in a browser, best effort: only plain `http(s)` URLs, `$BROWSER` or the
/// platform opener, started without a shell, output discarded, never waited on.
/// `$BROWSER` may hold arguments, split as a shell would split them (SPEC §9); `%s` in
/// them is replaced by the URL, else the URL is added as the last argument.
pub fn open(url: &str) {
    if !is_openable(url) {
        debug!("not opening a browser for a URL that is not plain http(s)");
        return;
    }
    let words = match std::env::var("BROWSER") {
        Ok(b) if !b.trim().is_empty() => match browser_command(&b, url) {
            Some(words) => words,
            None => {
                debug!("BROWSER has an unclosed quote or a trailing backslash; not starting it");
                return;
            }
        },
        _ if cfg!(target_os = "macos") => vec!["open".into(), url.into()],
        _ if cfg!(windows) => vec![
            "rundll32".into(),
            "url.dll,FileProtocolHandler".into(),
            url.into(),
        ],
        _ => vec!["xdg-open".into(), url.into()],
    };
    let Some((program, args)) = words.split_first() else {
        return;
    };
    let started = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = started {
        debug!("could not start {program}: {e}");
    }
}

/// Whether a browser may be handed `url`: plain `http(s)`, printable ASCII only (no
/// terminal escapes, no spaces that a program could split into arguments).
pub fn is_openable(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    url.chars().all(|c| c.is_ascii_graphic())
        && (lower.starts_with("https://") || lower.starts_with("http://"))
}

/// The words to run for `$BROWSER` = `browser` and `url`: `browser` split like a shell
/// (see [`split_words`]), each `%s` replaced by the URL (`%%` is a literal `%`), or the
/// URL appended when there is no `%s`. `None` when it cannot be split or is empty.
fn browser_command(browser: &str, url: &str) -> Option<Vec<String>> {
    let mut words = split_words(browser)?;
    if words.is_empty() {
        return None;
    }
    let mut replaced = false;
    for w in &mut words {
        if w.contains('%') {
            let mut out = String::new();
            let mut chars = w.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, chars.peek()) {
                    ('%', Some('s')) => {
                        chars.next();
                        out.push_str(url);
                        replaced = true;
                    }
                    ('%', Some('%')) => {
                        chars.next();
                        out.push('%');
                    }
                    _ => out.push(c),
                }
            }
            *w = out;
        }
    }
    if !replaced {
        words.push(url.to_owned());
    }
    Some(words)
}

/// Splits `s` into words as a POSIX shell does, without expanding anything: blanks
/// separate words; `'…'` is literal; `"…"` is literal except `\"`, `\\`, `\$` and
/// `` \` ``; a backslash outside quotes takes the next character literally. `None` for
/// an unclosed quote or a trailing backslash.
fn split_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => w.push(c),
                            '\n' => {}
                            c => {
                                w.push('\\');
                                w.push(c);
                            }
                        },
                        c => w.push(c),
                    }
                }
            }
            '\\' => match chars.next()? {
                '\n' => {}
                c => word.get_or_insert_with(String::new).push(c),
            },
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::{browser_command, split_words};

    #[test]
    fn browser_words_split_like_a_shell() {
        let split = |s: &str| split_words(s).unwrap();
        assert_eq!(split("firefox"), ["firefox"]);
        assert_eq!(
            split("  firefox  --new-window "),
            ["firefox", "--new-window"]
        );
        assert_eq!(
            split("'/opt/My Browser/run' -x"),
            ["/opt/My Browser/run", "-x"]
        );
        assert_eq!(split(r#""a \"b\" $c" d\ e"#), ["a \"b\" $c", "d e"]);
        assert_eq!(split(r"a'b'c"), ["abc"]);
        assert_eq!(split("''"), [""]);
        assert_eq!(split(r#""x\y""#), [r"x\y"]);
        assert_eq!(split("a;b|c&&$(d)"), ["a;b|c&&$(d)"]);
        assert_eq!(split_words("'open"), None);
        assert_eq!(split_words(r#""open"#), None);
        assert_eq!(split_words("open\\"), None);
    }

    #[test]
    fn browser_command_puts_the_url_in_place() {
        let u = "https://x.test/a?b=1";
        let cmd = |b: &str| browser_command(b, u).unwrap();
        assert_eq!(cmd("firefox"), ["firefox", u]);
        assert_eq!(cmd("firefox --new-tab"), ["firefox", "--new-tab", u]);
        assert_eq!(
            cmd("chromium --app=%s --x"),
            ["chromium", &format!("--app={u}"), "--x"]
        );
        assert_eq!(cmd("b '%s' 100%%"), ["b", u, "100%"]);
        assert_eq!(cmd("b 100%%"), ["b", "100%", u]);
        assert_eq!(browser_command("   ", u), None);
        assert_eq!(browser_command("b 'unclosed", u), None);
    }
}
