//! Core dumps off for the whole run (SPEC §9), as ssh-agent does: a crash must not leave
//! a file holding an API key or a token that was in memory.

/// Sets the core-file size limit to 0 (soft and hard, so nothing this process starts can
/// raise it again) and, on Linux, marks the process not dumpable, which also keeps other
/// processes of the same user from attaching to it or reading its memory through /proc.
/// Called first thing in `main`; a failure is ignored, as there is nothing better to do.
pub fn disable() {
    #[cfg(unix)]
    {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads a valid, initialized rlimit.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) };
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: PR_SET_DUMPABLE takes one integer argument; the rest are ignored.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}
