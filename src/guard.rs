//! What keeps unattended runs safe beyond atomic files: one run at a time (a lock file),
//! a clean stop on SIGINT, SIGTERM or SIGHUP (temp files removed, old outputs intact), a full
//! disk under `ulimit -f` reported as an I/O error instead of killing the process, and the
//! SHA-256 of what was read, so a run can be audited.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A held run lock; released when dropped (or when the process ends, however it ends).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    pub path: PathBuf,
}

/// Take the lock at `path` (created if needed, never deleted: deleting lock files races).
/// Another run holding it is exit 75.
pub fn lock(path: &Path) -> Result<RunLock> {
    // A FIFO or device would block the open (or lock nothing): a lock is a plain file.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return Err(Error::CantCreate {
            path: path.to_path_buf(),
            source: std::io::Error::other("is a FIFO or a device, not a lock file"),
        });
    }
    // A link would have the lock created wherever it points (outside a --split folder), as
    // no output is written through one.
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::CantCreate {
            path: path.to_path_buf(),
            source: std::io::Error::other(
                "is a symbolic link, and leadsort does not create files through links: remove \
                 the link, or name the lock's own path with --lock",
            ),
        });
    }
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = or_read_only(path, options.open(path)).map_err(|e| Error::CantCreate {
        path: path.to_path_buf(),
        source: e,
    })?;
    match file.try_lock() {
        Ok(()) => Ok(RunLock {
            _file: file,
            path: path.to_path_buf(),
        }),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked(format!(
            "another leadsort run holds the lock {}: try again later",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(Error::io(format!("cannot lock {}", path.display()), e))
        }
    }
}

/// A lock file that is there but not writable (left by another user, or made read-only)
/// still locks: a lock needs the file open, not writable. `writable`: the attempt to open it
/// for writing.
fn or_read_only(path: &Path, writable: std::io::Result<File>) -> std::io::Result<File> {
    writable.or_else(|e| match e.kind() {
        std::io::ErrorKind::PermissionDenied => File::open(path).map_err(|_| e),
        _ => Err(e),
    })
}

static SIGNAL: LazyLock<Arc<AtomicUsize>> = LazyLock::new(|| Arc::new(AtomicUsize::new(0)));

/// Whether a signal ends the run at once: true until the run creates its outputs.
static AT_ONCE: AtomicBool = AtomicBool::new(true);

/// The handlers that arm `AT_ONCE` again on a first signal, removed when the renames begin.
#[cfg(unix)]
static REARM: std::sync::Mutex<Vec<signal_hook::SigId>> = std::sync::Mutex::new(Vec::new());

/// From now on SIGINT, SIGTERM and SIGHUP end the run at once with 128 + the signal, as
/// there is nothing to clean up yet, until `stop_cleanly`; SIGXFSZ (a file-size limit) no
/// longer kills the process: the write fails with an error instead.
///
/// Ending at once matters where the run waits or works before its first row: a header that
/// never comes down a pipe, or a long compile. The work loop checks `interrupted` only
/// between chunks of rows, so a read waiting for rows that do not come would not see it: a
/// second signal ends the run at once, its temp files left as by `kill -9` (the next run
/// removes them), until `committing`.
pub fn catch_signals() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGXFSZ};
        let ignored_mask = ignored_at_start();
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            // Ignored when the run started (`nohup` ignores SIGHUP, a script's `&` SIGINT):
            // left ignored, as the caller asked.
            if ignored_mask & (1 << (sig - 1)) != 0 {
                continue;
            }
            // The shutdown goes first: while it is armed, the run ends before the flag is set.
            let _ = signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, &AT_ONCE);
            let _ = signal_hook::flag::register_usize(sig, Arc::clone(&SIGNAL), sig as usize);
            // A first signal arms it again: a second ends the run at once.
            if let (Ok(id), Ok(mut ids)) =
                (signal_hook::flag::register(sig, &AT_ONCE), REARM.lock())
            {
                ids.push(id);
            }
        }
        let ignored = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let _ = signal_hook::flag::register(SIGXFSZ, ignored);
    }
}

/// The signals this process started with ignored, as a mask (bit `n - 1` for signal `n`),
/// from `/proc/self/status` (Linux); elsewhere none is known.
#[cfg(unix)]
fn ignored_at_start() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    (status.lines())
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .unwrap_or(0)
}

/// From now on a first SIGINT, SIGTERM or SIGHUP only sets a flag that `interrupted` reports,
/// so the run stops at a row boundary and removes its temp files. Call before creating them.
/// The flag is read by classify's work loop between chunks, and by `commit_all` before its
/// renames (all that report and calibrate have).
pub fn stop_cleanly() {
    AT_ONCE.store(false, Ordering::SeqCst);
}

/// The outputs are about to be renamed over the old ones: from now on no signal ends the run
/// at once, a second one included, since that could leave some outputs new and others old.
/// Returns the signal that came before, if one did: then the run stops instead.
pub fn committing() -> Option<i32> {
    #[cfg(unix)]
    if let Ok(mut ids) = REARM.lock() {
        for id in ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
    AT_ONCE.store(false, Ordering::SeqCst);
    interrupted()
}

/// The signal asking this run to stop, if one came.
pub fn interrupted() -> Option<i32> {
    match SIGNAL.load(Ordering::Relaxed) {
        0 => None,
        sig => i32::try_from(sig).ok(),
    }
}

/// A reader that hashes what passes through it.
#[derive(Debug)]
pub struct Hashing<R> {
    inner: R,
    hasher: Arc<std::sync::Mutex<Sha256>>,
}

/// The digest of what a `Hashing` reader has read, available once reading is done.
#[derive(Debug, Clone)]
pub struct Digester(Arc<std::sync::Mutex<Sha256>>);

impl<R: Read> Hashing<R> {
    pub fn new(inner: R) -> (Hashing<R>, Digester) {
        let hasher = Arc::new(std::sync::Mutex::new(Sha256::new()));
        (
            Hashing {
                inner,
                hasher: Arc::clone(&hasher),
            },
            Digester(hasher),
        )
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut h) = self.hasher.lock() {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

impl Digester {
    /// The SHA-256 so far, as lower-case hex.
    pub fn hex(&self) -> String {
        self.0
            .lock()
            .map(|h| hex(&h.clone().finalize()))
            .unwrap_or_default()
    }
}

/// SHA-256 of some bytes, as lower-case hex.
pub fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_file_that_cannot_be_written_is_opened_to_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".leadsort.lock");
        std::fs::write(&path, "").unwrap();
        let denied = || Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        let file = or_read_only(&path, denied()).unwrap();
        assert!(file.try_lock().is_ok(), "a file open to read locks");
        // Not there at all: the refusal stands.
        let gone = dir.path().join("gone.lock");
        let e = or_read_only(&gone, denied()).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
        // Any other failure too.
        let full = Err(std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert!(or_read_only(&path, full).is_err());
    }

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".leadsort.lock");
        let first = lock(&path).unwrap();
        assert!(matches!(lock(&path).unwrap_err(), Error::Locked(_)));
        drop(first);
        assert!(lock(&path).is_ok());
    }

    #[test]
    fn hashing_reader_gives_the_sha256_of_what_it_read() {
        let (mut r, digest) = Hashing::new(&b"abc"[..]);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(
            digest.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha256(b"abc"), digest.hex());
    }
}
