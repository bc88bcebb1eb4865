//! Opening the login page in a browser (SPEC §5, §9): best effort, never through a shell,
//! never waited on, only for plain `http(s)` URLs, and only where a browser can show up.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::ui::debug;
use crate::vars;

/// How the login page is shown, decided from the environment (SPEC §5).
#[derive(Debug, PartialEq)]
pub enum Launch {
    /// Start this program (the first word) with these arguments.
    Program(Vec<String>),
    /// No browser can show up here, for the reason given: the person opens the URL on
    /// another device.
    Elsewhere(&'static str),
    /// Nothing is started and nothing is said: the URL or `$BROWSER` cannot be used.
    Nothing,
}

impl Launch {
    /// Starts the program, if any: no shell, output discarded, never waited on; a failure
    /// to start is only a `-v` diagnostic.
    pub fn start(self) {
        let Launch::Program(words) = self else {
            return;
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

    /// Why no browser can show up here, when that is so.
    pub fn elsewhere(&self) -> Option<&'static str> {
        match self {
            Launch::Elsewhere(why) => Some(why),
            _ => None,
        }
    }
}

/// What the choice of opener depends on, read from the environment by [`Place::here`].
#[derive(Debug, Default)]
struct Place {
    /// `$BROWSER`, when set and not blank.
    browser: Option<String>,
    /// Inside the Windows Subsystem for Linux.
    wsl: bool,
    /// `wslview` (wslu) is on `PATH`.
    wslview: bool,
    /// `SSH_CONNECTION` or `SSH_TTY` is set.
    ssh: bool,
    /// `DISPLAY` or `WAYLAND_DISPLAY` is set.
    display: bool,
}

impl Place {
    /// The environment of this process.
    fn here() -> Place {
        let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        let wsl = set(vars::WSL_DISTRO_NAME) || kernel_says_microsoft();
        Place {
            browser: std::env::var(vars::BROWSER)
                .ok()
                .filter(|b| !b.trim().is_empty()),
            wsl,
            wslview: wsl && on_path("wslview"),
            ssh: vars::SSH.into_iter().any(set),
            display: vars::DISPLAYS.into_iter().any(set),
        }
    }
}

/// Decides how to show `url` here: `$BROWSER` or the platform opener, or nothing where no
/// browser can show up (SPEC §5).
pub fn launch(url: &str) -> Launch {
    choose(&Place::here(), url)
}

/// The rule of SPEC §5, in its order: `$BROWSER` always wins; then WSL's opener; then an
/// SSH session, or Linux and the BSDs without a display, start nothing; otherwise the
/// platform opener. A text browser is never picked on the person's behalf.
fn choose(place: &Place, url: &str) -> Launch {
    if !is_openable(url) {
        debug!("not opening a browser for a URL that is not plain http(s)");
        return Launch::Nothing;
    }
    if let Some(browser) = &place.browser {
        return match browser_command(browser, url) {
            Some(words) => Launch::Program(words),
            None => {
                debug!("BROWSER has an unclosed quote or a trailing backslash; not starting it");
                Launch::Nothing
            }
        };
    }
    let program = if place.wsl {
        if place.wslview {
            "wslview"
        } else {
            "explorer.exe"
        }
    } else if place.ssh {
        return Launch::Elsewhere("this is an SSH session");
    } else if cfg!(all(unix, not(target_os = "macos"))) && !place.display {
        return Launch::Elsewhere("there is no graphical display");
    } else if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        return Launch::Program(vec![
            "rundll32".into(),
            "url.dll,FileProtocolHandler".into(),
            url.into(),
        ]);
    } else {
        "xdg-open"
    };
    Launch::Program(vec![program.into(), url.into()])
}

/// Whether the Linux kernel is WSL's (its release names Microsoft).
fn kernel_says_microsoft() -> bool {
    cfg!(target_os = "linux")
        && std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .is_ok_and(|r| r.to_ascii_lowercase().contains("microsoft"))
}

/// Whether an executable file `name` is in a directory of `PATH`.
fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| is_executable(&dir.join(name))))
}

/// Whether `file` is a file that some user may run.
#[cfg(unix)]
fn is_executable(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    file.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether `file` is a file (Windows has no execute bit).
#[cfg(not(unix))]
fn is_executable(file: &Path) -> bool {
    file.is_file()
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
    use super::{Launch, Place, browser_command, choose, split_words};

    const URL: &str = "https://x.test/device";

    fn program(words: &[&str]) -> Launch {
        Launch::Program(words.iter().map(|w| w.to_string()).collect())
    }

    #[test]
    fn browser_wins_over_every_other_rule() {
        let place = Place {
            browser: Some("my-browser --new".into()),
            wsl: true,
            ssh: true,
            ..Place::default()
        };
        assert_eq!(choose(&place, URL), program(&["my-browser", "--new", URL]));
    }

    #[test]
    fn wsl_uses_wslview_else_explorer_even_over_ssh() {
        let mut place = Place {
            wsl: true,
            wslview: true,
            ssh: true,
            ..Place::default()
        };
        assert_eq!(choose(&place, URL), program(&["wslview", URL]));
        place.wslview = false;
        assert_eq!(choose(&place, URL), program(&["explorer.exe", URL]));
    }

    #[test]
    fn ssh_starts_nothing_even_with_a_display() {
        let place = Place {
            ssh: true,
            display: true,
            ..Place::default()
        };
        assert_eq!(
            choose(&place, URL),
            Launch::Elsewhere("this is an SSH session")
        );
    }

    #[test]
    fn the_platform_opener_needs_a_display_on_linux_and_the_bsds() {
        let mut place = Place::default();
        let headless = choose(&place, URL);
        place.display = true;
        let desktop = choose(&place, URL);
        if cfg!(target_os = "macos") {
            assert_eq!(headless, program(&["open", URL]));
            assert_eq!(desktop, headless);
        } else if cfg!(windows) {
            let rundll = program(&["rundll32", "url.dll,FileProtocolHandler", URL]);
            assert_eq!(headless, rundll);
            assert_eq!(desktop, rundll);
        } else {
            assert_eq!(headless, Launch::Elsewhere("there is no graphical display"));
            assert_eq!(desktop, program(&["xdg-open", URL]));
        }
    }

    #[test]
    fn only_plain_http_urls_and_usable_browsers_are_started() {
        let place = Place {
            display: true,
            ..Place::default()
        };
        assert_eq!(choose(&place, "file:///etc/passwd"), Launch::Nothing);
        assert_eq!(choose(&place, "https://x.test/a b"), Launch::Nothing);
        let unclosed = Place {
            browser: Some("b 'unclosed".into()),
            ..Place::default()
        };
        assert_eq!(choose(&unclosed, URL), Launch::Nothing);
    }

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
