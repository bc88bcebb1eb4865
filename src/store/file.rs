//! `auth.json` on disk: where it lives, how it is read, and how it changes. Every
//! read-modify-write is a [`Transaction`]: an exclusive lock on a sibling lock file, then
//! a temporary file of unpredictable name in the same directory, fsync, rename. Parallel
//! runs lose nothing, a crash never leaves a truncated file, and nothing planted in the
//! directory (a symlink, a FIFO) can redirect or block a write.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::layout::{AuthFile, Parsed};
use crate::error::{Error, Result};
use crate::ui::debug;
use crate::vars;

/// Largest `auth.json` read; a real one is a few KiB.
const MAX_FILE: u64 = 16 << 20;
/// How the name of an account's refresh lock file ends.
const REFRESH_LOCK: &str = ".refresh.lock";

/// How long to wait for the locks of other processes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockWaits {
    /// For the lock on `auth.json`.
    pub file: Duration,
    /// For the lock of one account's refresh.
    pub refresh: Duration,
}

impl LockWaits {
    /// The program's waits. Nobody holds the `auth.json` lock across a network call, so
    /// it is only ever held for milliseconds; a refresh is bounded by the whole-request
    /// timeout (30 s) of the run doing it.
    pub const STANDARD: LockWaits = LockWaits {
        file: Duration::from_secs(5),
        refresh: Duration::from_secs(40),
    };
}

/// The location of `auth.json` and its lock files.
pub struct FileStore {
    dir: PathBuf,
    path: PathBuf,
    waits: LockWaits,
}

/// `auth.json` as read, not yet decoded.
pub struct Contents {
    path: PathBuf,
    /// The file's text (`None`: there was none).
    text: Option<String>,
    /// Whether users other than the owner may read the file.
    open_to_others: bool,
    /// The remote the command works on, for [`AuthFile::convert_legacy`].
    working: String,
}

/// What a read for a change found.
pub struct Loaded {
    /// The contents, parsed.
    pub file: AuthFile,
    /// The file as read (`None`: there was none).
    bytes: Option<Vec<u8>>,
}

/// A change of `auth.json` in progress: the lock is held, the temp file exists (so the
/// directory is known to be writable), and `file` is the current contents to change.
/// It may be committed more than once (each commit lands whole); dropped, it releases
/// the lock, so every part of a change happens before it is dropped.
pub struct Transaction<'a> {
    store: &'a FileStore,
    _lock: File,
    /// The contents to change, then commit.
    pub file: AuthFile,
    /// The file's bytes when the change began, for [`Transaction::restore`].
    original: Option<Vec<u8>>,
    /// Whether a commit has landed: only then is there anything to restore.
    committed: bool,
    tmp: Option<Temp>,
}

/// A temp file beside `auth.json`, locked while in use so that clearing the leftovers
/// of killed runs never removes it.
struct Temp {
    path: PathBuf,
    file: File,
}

/// A temp file whose space is already allocated: a commit into it cannot run out of
/// disk space (SPEC §7 Refresh).
pub struct Reserved(Temp);

/// The lock serializing refreshes of one account; its file goes when it is released.
pub struct AccountLock {
    path: PathBuf,
    _file: File,
}

impl Drop for AccountLock {
    fn drop(&mut self) {
        // Removed while still locked: a waiter then finds it is not the path's file any
        // more and starts over (see [`FileStore::lock`]).
        let _ = fs::remove_file(&self.path);
    }
}

impl FileStore {
    /// Finds the config directory (SPEC §7). Does not create it.
    pub fn locate() -> Result<FileStore> {
        Ok(FileStore::at(config_dir()?, LockWaits::STANDARD))
    }

    /// The store in `dir`, waiting `waits` for other processes' locks.
    pub fn at(dir: PathBuf, waits: LockWaits) -> FileStore {
        FileStore {
            path: dir.join("auth.json"),
            dir,
            waits,
        }
    }

    /// Reads the file (a missing one is an empty store); `working` is the remote the
    /// command works on. Never writes. Anything but a regular file of sane size (a FIFO,
    /// a device, a directory) is refused unread, and so is text that is not UTF-8.
    pub fn read(&self, working: &str) -> Result<Contents> {
        debug!("reading {}", self.path.display());
        let mut contents = Contents {
            path: self.path.clone(),
            text: None,
            open_to_others: false,
            working: working.to_owned(),
        };
        let mut f = match nonblocking_options().read(true).open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(contents),
            Err(e) => return Err(self.error("cannot read", e)),
        };
        let meta = match f.metadata() {
            Ok(m) if m.is_file() && m.len() <= MAX_FILE => m,
            Ok(m) if m.is_file() => {
                return Err(Error::failure(format!(
                    "{} is larger than {} MiB",
                    self.path.display(),
                    MAX_FILE >> 20
                )));
            }
            Ok(_) => {
                return Err(Error::failure(format!(
                    "{} is not a regular file",
                    self.path.display()
                )));
            }
            Err(e) => return Err(self.error("cannot read", e)),
        };
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)
            .map_err(|e| self.error("cannot read", e))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::failure(format!("{} is not valid UTF-8", self.path.display())))?;
        contents.text = Some(text);
        contents.open_to_others = open_to_others(&meta);
        Ok(contents)
    }

    /// Reads and decodes the whole file, converting the legacy layout in memory, for a
    /// change. Never writes.
    pub fn load(&self, working: &str) -> Result<Loaded> {
        let contents = self.read(working)?;
        let file = contents.decode()?;
        Ok(Loaded {
            file,
            bytes: contents.text.map(String::into_bytes),
        })
    }

    /// Starts a change: checks the directory, takes the lock, reads the current
    /// contents and creates the temp file, so a store that cannot be written fails
    /// before anything that cannot be taken back happens.
    pub fn begin(&self, working: &str) -> Result<Transaction<'_>> {
        self.prepare_dir()?;
        let mut tx = self.begin_with(working, None)?;
        tx.tmp = Some(self.create_temp()?);
        Ok(tx)
    }

    /// Like [`FileStore::begin`], committing into `reserved` first.
    pub fn begin_reserved(&self, working: &str, reserved: Reserved) -> Result<Transaction<'_>> {
        self.begin_with(working, Some(reserved.0))
    }

    /// Like [`FileStore::begin`], creating no temp file until a commit: for a change
    /// that may not touch the file at all.
    pub fn begin_unreserved(&self, working: &str) -> Result<Transaction<'_>> {
        self.prepare_dir()?;
        self.begin_with(working, None)
    }

    fn begin_with(&self, working: &str, reserved: Option<Temp>) -> Result<Transaction<'_>> {
        let lock = self.lock(&self.dir.join("auth.json.lock"), self.waits.file)?;
        self.clear_leftovers();
        let loaded = self.load(working)?;
        Ok(Transaction {
            store: self,
            _lock: lock,
            file: loaded.file,
            original: loaded.bytes,
            committed: false,
            tmp: reserved,
        })
    }

    /// Fails unless a change could be written now (directory safe and writable), for
    /// checks before something that cannot be taken back.
    pub fn check_writable(&self) -> Result<()> {
        self.prepare_dir()?;
        self.create_temp().map(drop)
    }

    /// A temp file with `bytes` of disk space allocated, made before something
    /// single-use (a refresh token) is spent, so that its result can be written.
    pub fn reserve(&self, bytes: u64) -> Result<Reserved> {
        self.prepare_dir()?;
        let tmp = self.create_temp()?;
        allocate(&tmp.file, bytes)
            .map_err(|e| Error::failure(format!("cannot write in {}: {e}", self.dir.display())))?;
        Ok(Reserved(tmp))
    }

    /// The size of `auth.json` now (0 when missing).
    pub fn size(&self) -> u64 {
        fs::metadata(&self.path).map_or(0, |m| m.len())
    }

    /// Takes the lock that serializes refreshes of one account's token pair, so only
    /// one run trades its refresh token; held until the handle drops, which removes
    /// the lock file.
    pub fn lock_account(&self, name: &str) -> Result<AccountLock> {
        self.prepare_dir()?;
        let path = self
            .dir
            .join(format!("auth.json.{:016x}{REFRESH_LOCK}", fnv1a(name)));
        let file = self.lock(&path, self.waits.refresh)?;
        Ok(AccountLock { path, _file: file })
    }

    /// Under the `auth.json` lock: removes the temp files and refresh locks of runs
    /// that were killed (those no live process holds locked).
    fn clear_leftovers(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if !name.starts_with("auth.json.")
                || !(name.ends_with(".tmp") || name.ends_with(REFRESH_LOCK))
            {
                continue;
            }
            let path = e.path();
            // What cannot be opened as a file of ours (a symlink, say) is no live one.
            let free = match private_options().read(true).open(&path) {
                Ok(f) => f.try_lock().is_ok() && same_file(&f, &path),
                Err(_) => true,
            };
            if free {
                let _ = fs::remove_file(&path);
            }
        }
    }

    /// Creates the directory (0700) when missing, and refuses one that others could
    /// change under us: writable by group or others, or owned by another user.
    fn prepare_dir(&self) -> Result<()> {
        create_private_dir(&self.dir)
            .map_err(|e| Error::failure(format!("cannot create {}: {e}", self.dir.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let meta = fs::metadata(&self.dir)
                .map_err(|e| Error::failure(format!("cannot read {}: {e}", self.dir.display())))?;
            let dir = self.dir.display();
            // SAFETY: geteuid has no preconditions and cannot fail.
            let me = unsafe { libc::geteuid() };
            if meta.uid() != me {
                return Err(Error::failure(format!(
                    "refusing to write to {dir}: it is owned by another user; use a directory \
                     of your own with `chmod 700`"
                )));
            }
            if meta.mode() & 0o022 != 0 {
                return Err(Error::failure(format!(
                    "refusing to write to {dir}: other users can write to it; run `chmod 700 {dir}`"
                )));
            }
        }
        Ok(())
    }

    /// Takes an exclusive lock on `path`, waiting at most `wait`. The lock file is never
    /// followed through a symlink, never blocks on open, and must be a regular file; it
    /// is created 0600 whatever the umask, and one the user cannot write is locked
    /// through a read-only descriptor. The lock goes when the handle drops, or the
    /// process dies: no stale locks. A lock file removed by its holder (see
    /// [`AccountLock`]) is noticed after locking it, and the lock is taken again.
    fn lock(&self, path: &Path, wait: Duration) -> Result<File> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            let lock = open_lock(path)
                .map_err(|e| Error::failure(format!("cannot open {}: {e}", path.display())))?;
            match lock.metadata() {
                Ok(m) if m.is_file() => {}
                _ => {
                    return Err(Error::failure(format!(
                        "{} is not a regular file",
                        path.display()
                    )));
                }
            }
            match lock.try_lock() {
                Ok(()) if same_file(&lock, path) => return Ok(lock),
                Ok(()) => continue,
                Err(fs::TryLockError::WouldBlock) if start.elapsed() < wait => {
                    if pause == Duration::from_millis(5) {
                        debug!("waiting for the lock on {}", path.display());
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Error::failure(format!(
                        "timed out after {}s waiting for the lock on {}; is another baseten running?",
                        wait.as_secs(),
                        path.display()
                    )));
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(Error::failure(format!(
                        "cannot lock {}: {e}",
                        path.display()
                    )));
                }
            }
        }
    }

    /// Creates a locked temp file of unpredictable name beside `auth.json`, exclusively
    /// and never through a symlink.
    fn create_temp(&self) -> Result<Temp> {
        let path = self.dir.join(format!("auth.json.{:016x}.tmp", random()));
        let file = private_options()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|f| set_private(&f).map(|()| f))
            .and_then(|f| f.try_lock().map(|()| f).map_err(std::io::Error::other))
            .map_err(|e| Error::failure(format!("cannot write in {}: {e}", self.dir.display())))?;
        Ok(Temp { path, file })
    }

    fn error(&self, what: &str, e: std::io::Error) -> Error {
        Error::failure(format!("{what} {}: {e}", self.path.display()))
    }
}

impl Transaction<'_> {
    /// Writes `file` into a temp file, syncs it and renames it over `auth.json`. May be
    /// called again after more changes; the lock stays held.
    pub fn commit(&mut self) -> Result<()> {
        let mut text = serde_json::to_string_pretty(&self.file)
            .map_err(|e| self.store.error("cannot write", std::io::Error::other(e)))?;
        text.push('\n');
        self.land(Some(text.as_bytes()))?;
        self.committed = true;
        Ok(())
    }

    /// Puts back `auth.json` as it was when the change began (removes it when there
    /// was none).
    pub fn restore(&mut self) -> Result<()> {
        if !self.committed {
            return Ok(());
        }
        let original = self.original.take();
        let result = self.land(original.as_deref());
        self.original = original;
        result
    }

    /// Replaces `auth.json` by `bytes` (or removes it) through a synced temp file.
    fn land(&mut self, bytes: Option<&[u8]>) -> Result<()> {
        let path = &self.store.path;
        let Some(bytes) = bytes else {
            return match fs::remove_file(path) {
                Err(e) if e.kind() != ErrorKind::NotFound => {
                    Err(self.store.error("cannot remove", e))
                }
                _ => Ok(()),
            };
        };
        let tmp = match self.tmp.take() {
            Some(t) => t,
            None => self.store.create_temp()?,
        };
        write_synced(&tmp.file, bytes)
            .and_then(|()| fs::rename(&tmp.path, path))
            .map_err(|e| self.store.error("cannot write", e))?;
        // Make the rename itself durable; not every platform can open a directory.
        if let Ok(d) = File::open(&self.store.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for Temp {
    /// Removes the temp file unless it was renamed into place.
    fn drop(&mut self) {
        if same_file(&self.file, &self.path) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

impl Contents {
    /// The file as a command that only reads sees it: parsed once, the legacy layout
    /// converted, each profile decoded when looked at.
    pub fn parse(&self) -> Result<Parsed<'_>> {
        match &self.text {
            None => Ok(Parsed::default()),
            Some(text) => Parsed::parse(text)
                .and_then(|p| p.converted(&self.working))
                .map_err(|e| self.corrupt(&e)),
        }
    }

    /// The whole file decoded, the legacy layout converted.
    fn decode(&self) -> Result<AuthFile> {
        let Some(text) = &self.text else {
            return Ok(AuthFile::default());
        };
        let mut file = Parsed::parse(text)
            .and_then(|p| p.decode())
            .map_err(|e| self.corrupt(&e))?;
        file.convert_legacy(&self.working);
        Ok(file)
    }

    /// The path of the file, when it holds plain-text secrets that others can read
    /// (`parsed` is its contents); the next write replaces it with a 0600 file.
    pub fn exposed(&self, parsed: &Parsed<'_>) -> Result<Option<PathBuf>> {
        let exposed =
            self.open_to_others && parsed.has_plain_secret().map_err(|e| self.corrupt(&e))?;
        Ok(exposed.then(|| self.path.clone()))
    }

    /// The error for a file that does not decode: `why`, with the path.
    pub fn corrupt(&self, why: &str) -> Error {
        Error::failure(format!("{} is corrupt: {why}", self.path.display()))
    }
}

/// Whether users other than the owner may read the file of `meta`.
fn open_to_others(meta: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o077 != 0
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

/// Writes `bytes` at the start of `tmp` (which may hold reserved space past them),
/// cuts it to their length, then fsyncs.
fn write_synced(mut tmp: &File, bytes: &[u8]) -> std::io::Result<()> {
    std::io::Seek::rewind(&mut tmp)?;
    tmp.write_all(bytes)?;
    tmp.set_len(bytes.len() as u64)?;
    tmp.sync_all()
}

/// Allocates `bytes` of disk space to `f`, failing when the disk (or the file size
/// limit) cannot take them.
fn allocate(f: &File, bytes: u64) -> std::io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    {
        use std::os::fd::AsRawFd;
        let len = libc::off_t::try_from(bytes).map_err(std::io::Error::other)?;
        // SAFETY: a valid open descriptor; posix_fallocate only reads its arguments.
        match unsafe { libc::posix_fallocate(f.as_raw_fd(), 0, len) } {
            0 => Ok(()),
            e => Err(std::io::Error::from_raw_os_error(e)),
        }
    }
    // Elsewhere (macOS and Windows have no posix_fallocate) the space is written.
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    {
        let mut w = f;
        w.write_all(&vec![b' '; usize::try_from(bytes).unwrap_or(0)])?;
        w.sync_all()
    }
}

/// Opens (creating it 0600 whatever the umask) the lock file `path`; when it exists
/// and the user may not both read and write it, read-only or write-only (a lock needs
/// no particular access).
fn open_lock(path: &Path) -> std::io::Result<File> {
    match private_options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(f) => return set_private(&f).map(|()| f),
        Err(e) if e.kind() != ErrorKind::AlreadyExists => return Err(e),
        Err(_) => {}
    }
    match private_options().read(true).write(true).open(path) {
        Err(e) if e.kind() == ErrorKind::PermissionDenied => private_options()
            .read(true)
            .open(path)
            .or_else(|_| private_options().write(true).open(path))
            .or_else(|denied| reopen_own(path, denied)),
        other => other,
    }
}

/// A lock file of ours that no access mode opens (mode 000): given back a lock file's
/// mode, 0600, in place (the same file, so a run that holds the lock keeps it), then
/// opened. Anyone else's file stays as it is and `denied` is the answer.
fn reopen_own(path: &Path, denied: std::io::Error) -> std::io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = fs::symlink_metadata(path)?;
        // SAFETY: geteuid has no preconditions.
        if meta.file_type().is_file() && meta.uid() == unsafe { libc::geteuid() } {
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
            return private_options().read(true).write(true).open(path);
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Err(denied)
}

/// Whether `f` is still the file at `path` (not removed or replaced since it was opened).
fn same_file(f: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (f.metadata(), fs::symlink_metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (f, path);
        true
    }
}

/// `BASETEN_CONFIG_DIR`, else the platform config directory + `baseten`.
fn config_dir() -> Result<PathBuf> {
    let env = |name| std::env::var_os(name).filter(|v: &std::ffi::OsString| !v.is_empty());
    if let Some(dir) = env(vars::CONFIG_DIR) {
        return Ok(PathBuf::from(dir));
    }
    let base = if cfg!(windows) {
        env(vars::APPDATA).map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        env(vars::HOME).map(|h| Path::new(&h).join("Library/Application Support"))
    } else {
        env(vars::XDG_CONFIG_HOME)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| env(vars::HOME).map(|h| Path::new(&h).join(".config")))
    };
    base.map(|b| b.join("baseten")).ok_or_else(|| {
        Error::failure("cannot find a config directory: HOME is not set; set BASETEN_CONFIG_DIR")
    })
}

/// 64 unpredictable bits: std's per-process random hash keys over the pid and the time.
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    h.finish()
}

/// FNV-1a, to name an account's lock file without putting the name in a path.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Open options that create files readable by the owner only, never follow a symlink
/// at the last component, and never block on a FIFO.
fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    o
}

/// Open options that do not block on a FIFO (the file type is checked right after).
fn nonblocking_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut o, libc::O_NONBLOCK);
    o
}

/// Forces mode 0600 whatever the umask did.
fn set_private(f: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = f;
    Ok(())
}

/// Creates the directory (and parents) with mode 0700 when missing.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path, wait_ms: u64) -> FileStore {
        let wait = Duration::from_millis(wait_ms);
        FileStore::at(
            dir.to_path_buf(),
            LockWaits {
                file: wait,
                refresh: wait,
            },
        )
    }

    #[test]
    fn the_program_waits_as_the_spec_says() {
        assert_eq!(LockWaits::STANDARD.file, Duration::from_secs(5));
        assert_eq!(LockWaits::STANDARD.refresh, Duration::from_secs(40));
    }

    #[test]
    fn a_held_lock_times_out_after_the_wait_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let held = store(dir.path(), 50);
        let tx = held.begin("https://app.baseten.co").unwrap();
        let other = store(dir.path(), 50);
        let e = other
            .begin("https://app.baseten.co")
            .err()
            .expect("lock was free");
        assert!(e.to_string().contains("timed out"), "{e}");
        assert!(e.to_string().contains("auth.json.lock"), "{e}");
        drop(tx);
        assert!(!dir.path().join("auth.json").exists());
        other
            .begin("https://app.baseten.co")
            .unwrap()
            .commit()
            .unwrap();
        assert!(dir.path().join("auth.json").exists());
    }

    #[test]
    fn a_held_refresh_lock_blocks_only_that_account() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), 50);
        let _a = s.lock_account("a").unwrap();
        let e = s.lock_account("a").err().expect("lock was free");
        assert!(e.to_string().contains("timed out"), "{e}");
        s.lock_account("b").unwrap();
        s.begin("https://app.baseten.co").unwrap().commit().unwrap();
    }

    #[test]
    fn an_uncommitted_change_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), 50);
        drop(s.begin("https://app.baseten.co").unwrap());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["auth.json.lock"]);
    }
}
