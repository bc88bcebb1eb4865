//! The terminal itself: whether a person is there, echo off while a secret is typed, and
//! the signal handlers that give the terminal back as it was found whatever ends the
//! program at a prompt (SPEC §9).

use std::io::IsTerminal;

/// Whether a person can answer prompts: stdin is a terminal.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Turns terminal echo off while alive; a signal meanwhile restores it (see
/// [`exit_on_interrupt`]).
pub struct EchoOff;

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
        // SAFETY: `t` is a valid termios to fill; fd 0 may be anything, and a non-terminal
        // makes the call fail without touching it.
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

    /// Every signal whose default action ends the process ([`TERMINATING`]): restore
    /// the terminal, exit 128 + the signal.
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

    /// The signals whose default action ends the process and that a person or another
    /// program may send (SIGKILL cannot be caught; SIGPIPE is ignored by the Rust runtime,
    /// and the faults SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT are left alone).
    const TERMINATING: [libc::c_int; 11] = [
        libc::SIGINT,
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGALRM,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGXCPU,
        libc::SIGXFSZ,
        libc::SIGVTALRM,
        libc::SIGPROF,
    ];

    pub fn exit_on_interrupt() {
        let terminate = on_terminate as extern "C" fn(libc::c_int) as libc::sighandler_t;
        let stop = on_stop as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: the handlers only call async-signal-safe functions; sigaction with a
        // null new action only reads the current one.
        unsafe {
            for sig in TERMINATING {
                // A signal ignored when the program started stays ignored, as a shell
                // expects (`nohup`, or SIGXFSZ ignored so a write past RLIMIT_FSIZE fails
                // with an error instead).
                let mut current: libc::sigaction = std::mem::zeroed();
                libc::sigaction(sig, std::ptr::null(), &mut current);
                if current.sa_sigaction != libc::SIG_IGN {
                    install(sig, terminate);
                }
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
    /// Turns echo off until the value is dropped.
    pub fn start() -> EchoOff {
        echo::off();
        EchoOff
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        echo::restore();
    }
}

/// Makes SIGINT (Ctrl-C), SIGTERM, SIGHUP, SIGQUIT and the other signals that end a
/// process by default (SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF)
/// exit with 128 + the signal (130 for Ctrl-C) after restoring terminal echo, instead of
/// dying with echo off; those the parent left ignored stay ignored. Ctrl-Z (SIGTSTP)
/// restores echo before stopping and turns it off again on SIGCONT (SPEC §9).
pub fn exit_on_interrupt() {
    echo::exit_on_interrupt();
}
