//! Everything about the person at the terminal: is anyone there, prompts (with echo off
//! for secrets), Ctrl-C, opening a browser, stripping control characters from text that
//! came from outside, keeping secrets off stderr, and `-v` diagnostics.

use std::borrow::Cow;
use std::io::{BufRead, IsTerminal, Write};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

static VERBOSE: AtomicBool = AtomicBool::new(false);
/// Every secret this run has seen; stderr output never shows them.
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Turns `-v` diagnostics on for the rest of the run.
pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

/// Whether `-v` was given.
pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Prints a `-v` diagnostic line to stderr. Callers never pass secrets.
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::term::verbose() {
            eprintln!("debug: {}", $crate::term::for_stderr(&format!($($arg)*)));
        }
    };
}
pub(crate) use debug;

/// Prints a `warning:` line to stderr.
pub fn warn(message: &str) {
    eprintln!("warning: {}", for_stderr(message));
}

/// Prints an informational line to stderr.
pub fn note(message: &str) {
    eprintln!("{}", for_stderr(message));
}

/// Prints an `error:` line to stderr.
pub fn error(message: &str) {
    eprintln!("error: {}", for_stderr(message));
}

/// Marks `value` as a secret (an API key, token or device code) so that no error,
/// warning or diagnostic can show it, even when a server echoes it back.
pub fn secret(value: &str) {
    if value.len() >= 4 {
        let mut all = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
        if !all.iter().any(|s| s == value) {
            all.push(value.to_owned());
        }
    }
}

/// Text for stderr: known secrets replaced, control characters removed.
pub fn for_stderr(text: &str) -> String {
    let mut text = text.to_owned();
    for s in SECRETS.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        if text.contains(s.as_str()) {
            text = text.replace(s.as_str(), "[redacted]");
        }
    }
    clean(&text).into_owned()
}

/// Whether a person can answer prompts: stdin is a terminal.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Removes control characters (C0, DEL, C1), so text from a server or a file cannot move
/// the cursor, recolour or retitle the user's terminal, and Unicode format characters
/// (bidirectional overrides and isolates, zero-width characters, the soft hyphen, …), so
/// it cannot make one string look like another (SPEC §8).
pub fn clean(s: &str) -> Cow<'_, str> {
    let hidden = |c: char| c.is_control() || is_format(c);
    if s.chars().any(hidden) {
        Cow::Owned(s.chars().filter(|&c| !hidden(c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// Unicode general category Cf (format characters), plus the line and paragraph
/// separators U+2028/U+2029, which some terminals treat as line breaks. The table
/// follows Unicode 16; unassigned code points inside a range are included.
fn is_format(c: char) -> bool {
    const RANGES: &[(u32, u32)] = &[
        (0x00AD, 0x00AD),   // soft hyphen
        (0x0600, 0x0605),   // Arabic number signs
        (0x061C, 0x061C),   // Arabic letter mark
        (0x06DD, 0x06DD),   // Arabic end of ayah
        (0x070F, 0x070F),   // Syriac abbreviation mark
        (0x0890, 0x0891),   // Arabic pound/piastre mark above
        (0x08E2, 0x08E2),   // Arabic disputed end of ayah
        (0x180E, 0x180E),   // Mongolian vowel separator
        (0x200B, 0x200F),   // zero-width space, (non-)joiner, LRM, RLM
        (0x2028, 0x202E),   // line/paragraph separators, bidi embeddings and overrides
        (0x2060, 0x206F),   // word joiner, invisible operators, bidi isolates, deprecated
        (0xFEFF, 0xFEFF),   // zero-width no-break space (BOM)
        (0xFFF9, 0xFFFB),   // interlinear annotation
        (0x110BD, 0x110BD), // Kaithi number sign
        (0x110CD, 0x110CD), // Kaithi number sign above
        (0x13430, 0x1343F), // Egyptian hieroglyph format controls
        (0x1BCA0, 0x1BCA3), // shorthand format controls
        (0x1D173, 0x1D17A), // musical symbol format controls
        (0xE0001, 0xE0001), // language tag
        (0xE0020, 0xE007F), // tag characters
    ];
    let c = u32::from(c);
    RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Asks `question` on stderr and reads one line from stdin (trimmed).
pub fn prompt(question: &str) -> Result<String> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    read_line()
}

/// Like [`prompt`], with the terminal's echo off so the answer is not shown.
pub fn prompt_secret(question: &str) -> Result<String> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let answer = {
        let _echo = EchoOff::new();
        read_line()
    };
    eprintln!();
    answer
}

/// Offers numbered `options` on stderr and returns the index chosen.
pub fn choose(question: &str, options: &[String]) -> Result<usize> {
    eprintln!("{question}");
    for (i, o) in options.iter().enumerate() {
        eprintln!("  {}. {}", i + 1, clean(o));
    }
    loop {
        let answer = prompt(&format!("Enter a number [1-{}]: ", options.len()))?;
        match answer.parse::<usize>() {
            Ok(n) if (1..=options.len()).contains(&n) => return Ok(n - 1),
            _ => eprintln!("Please enter a number from 1 to {}.", options.len()),
        }
    }
}

fn read_line() -> Result<String> {
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) => Err(Error::failure("no answer: end of input")),
        Ok(_) => Ok(line.trim().to_owned()),
        Err(e) => Err(Error::failure(format!(
            "cannot read from the terminal: {e}"
        ))),
    }
}

/// Turns terminal echo off while alive; a signal meanwhile restores it (see
/// [`exit_on_interrupt`]).
struct EchoOff;

#[cfg(unix)]
mod echo {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// The terminal settings to restore, and whether they need restoring.
    static SAVED: OnceLock<libc::termios> = OnceLock::new();
    static OFF: AtomicBool = AtomicBool::new(false);

    /// `saved` with echo off (but the newline still echoed).
    fn quiet(saved: &libc::termios) -> libc::termios {
        let mut quiet = *saved;
        quiet.c_lflag &= !libc::ECHO;
        quiet.c_lflag |= libc::ECHONL;
        quiet
    }

    pub fn off() {
        // SAFETY: termios is plain data; tcgetattr fills it or fails.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(0, &mut t) } != 0 {
            return;
        }
        let saved = *SAVED.get_or_init(|| t);
        // SAFETY: fd 0 is a terminal (tcgetattr succeeded) and the settings are initialized.
        if unsafe { libc::tcsetattr(0, libc::TCSANOW, &quiet(&saved)) } == 0 {
            OFF.store(true, Ordering::SeqCst);
        }
    }

    /// Async-signal-safe: an atomic, a lock-free read and tcsetattr.
    pub fn restore() {
        if OFF.swap(false, Ordering::SeqCst)
            && let Some(t) = SAVED.get()
        {
            // SAFETY: restores settings read from the same terminal.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, t) };
        }
    }

    /// SIGINT, SIGTERM, SIGHUP, SIGQUIT: restore the terminal, exit 128 + the signal.
    extern "C" fn on_terminate(sig: libc::c_int) {
        restore();
        // SAFETY: write and _exit are async-signal-safe.
        unsafe {
            libc::write(2, b"\n".as_ptr().cast(), 1);
            libc::_exit(128 + sig);
        }
    }

    /// SIGTSTP (Ctrl-Z): give the terminal back as it was found, stop, and on SIGCONT
    /// turn echo off again if a secret is still being typed. Async-signal-safe only.
    extern "C" fn on_stop(sig: libc::c_int) {
        let was_off = OFF.load(Ordering::SeqCst);
        let saved = SAVED.get();
        if was_off && let Some(t) = saved {
            // SAFETY: restores settings read from the same terminal.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, t) };
        }
        // SAFETY: sigaction, sigprocmask and raise are async-signal-safe; the default
        // action stops the process right here until SIGCONT.
        unsafe {
            install(sig, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, sig);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(sig);
            install(
                sig,
                on_stop as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
        if was_off
            && OFF.load(Ordering::SeqCst)
            && let Some(t) = saved
        {
            // SAFETY: as above, with echo off again.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, &quiet(t)) };
        }
    }

    /// Sets the disposition of `sig`; SA_RESTART so a prompt's read resumes after a stop.
    unsafe fn install(sig: libc::c_int, handler: libc::sighandler_t) {
        // SAFETY: a zeroed sigaction is valid; the fields set are initialized.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = handler;
            libc::sigemptyset(&mut sa.sa_mask);
            sa.sa_flags = libc::SA_RESTART;
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }

    pub fn exit_on_interrupt() {
        let terminate = on_terminate as extern "C" fn(libc::c_int) as libc::sighandler_t;
        let stop = on_stop as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: the handlers only call async-signal-safe functions.
        unsafe {
            for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
                install(sig, terminate);
            }
            install(libc::SIGTSTP, stop);
        }
    }
}

#[cfg(not(unix))]
mod echo {
    pub fn off() {}
    pub fn restore() {}
    pub fn exit_on_interrupt() {}
}

impl EchoOff {
    fn new() -> EchoOff {
        echo::off();
        EchoOff
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        echo::restore();
    }
}

/// Makes SIGINT (Ctrl-C), SIGTERM, SIGHUP and SIGQUIT exit with 128 + the signal (130
/// for Ctrl-C) after restoring terminal echo, instead of dying with echo off; Ctrl-Z
/// (SIGTSTP) restores echo before stopping and turns it off again on SIGCONT (SPEC §9).
pub fn exit_on_interrupt() {
    echo::exit_on_interrupt();
}

/// Opens `url` in a browser, best effort: only plain `http(s)` URLs, `$BROWSER` or the
/// platform opener, started without a shell, output discarded, never waited on.
/// `$BROWSER` may hold arguments, split as a shell would split them (SPEC §9); `%s` in
/// them is replaced by the URL, else the URL is added as the last argument.
pub fn open_browser(url: &str) {
    let lower = url.to_ascii_lowercase();
    let plain = url.chars().all(|c| c.is_ascii_graphic());
    if !plain || !(lower.starts_with("https://") || lower.starts_with("http://")) {
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
    use super::{browser_command, clean, for_stderr, secret, split_words};

    #[test]
    fn stderr_text_never_shows_a_secret() {
        secret("sk-test-4242");
        secret("abc");
        assert_eq!(
            for_stderr("key sk-test-4242 rejected\u{1b}[0m; abc"),
            "key [redacted] rejected[0m; abc"
        );
    }

    #[test]
    fn clean_strips_c0_del_and_c1() {
        assert_eq!(
            clean("a\u{1b}[31mb\u{7}c\u{7f}d\u{9b}e\u{85}f\r\n"),
            "a[31mbcdef"
        );
        assert_eq!(clean("plain é ✓"), "plain é ✓");
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

    #[test]
    fn clean_strips_format_characters() {
        assert_eq!(
            clean("a\u{202E}b\u{2066}c\u{2069}d\u{200B}e\u{200D}f\u{FEFF}g\u{AD}h\u{2060}i"),
            "abcdefghi"
        );
        assert_eq!(clean("x\u{E0041}\u{E007F}y\u{2028}z\u{61C}"), "xyz");
        // Visible neighbours of the ranges stay.
        assert_eq!(
            clean("\u{2010}\u{2027}\u{2030}\u{205F}\u{FEFE}"),
            "\u{2010}\u{2027}\u{2030}\u{205F}\u{FEFE}"
        );
    }
}
