//! Files that appear whole or not at all: written to a temp file in the destination folder,
//! flushed and synced, then renamed over the target.
//!
//! Writing happens in two phases so that a run with several outputs can finish every file
//! before replacing any: `AtomicFile::prepare` flushes and syncs (the step that fails when the
//! disk is full), `Prepared::commit` renames. Dropping either without committing removes the
//! temp file and leaves the old output as it was.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// Temp files carry this suffix (and a leading dot), so nothing mistakes them for output.
pub const TEMP_SUFFIX: &str = ".leadsort-tmp";

/// Random characters in a temp file's name.
const RANDOM_LEN: usize = 6;

/// An output file being written.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    temp: BufWriter<NamedTempFile>,
}

/// An output file written and synced, waiting to replace the old one.
#[derive(Debug)]
pub struct Prepared {
    path: PathBuf,
    temp: NamedTempFile,
}

impl AtomicFile {
    /// Start writing `path`. The temp file is readable by the owner only. A path that is a
    /// symbolic link is refused: output is never written through a link.
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let cant = |source: io::Error| Error::CantCreate {
            path: path.to_path_buf(),
            source,
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.is_empty() || path.is_dir() {
            return Err(cant(io::Error::other("is a directory, not a file name")));
        }
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(cant(io::Error::other(
                "is a symbolic link, and leadsort does not write through links: remove the link or write elsewhere",
            )));
        }
        fault("create", path).map_err(cant)?;
        remove_orphans(dir, &name);
        // A name too long to carry the writer (a file name has at most 255 bytes, the random
        // part and the suffix included) goes without it, as elsewhere.
        let prefix = match writer() {
            Some(w) => format!(".{name}.{}-{}.", w.machine, w.pid),
            None => format!(".{name}."),
        };
        let prefix = if prefix.len() + RANDOM_LEN + TEMP_SUFFIX.len() <= 255 {
            prefix
        } else {
            format!(".{name}.")
        };
        let temp = tempfile::Builder::new()
            .prefix(&prefix)
            .rand_bytes(RANDOM_LEN)
            .suffix(TEMP_SUFFIX)
            .tempfile_in(dir)
            .map_err(|e| cant(without_temp_name(e)))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            temp: BufWriter::with_capacity(1 << 16, temp),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Give the file these permission bits instead of owner-only (unix; ignored elsewhere).
    pub fn set_mode(&mut self, mode: u32) -> Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let perms = std::fs::Permissions::from_mode(mode);
            std::fs::set_permissions(self.temp.get_ref().path(), perms)
                .map_err(|e| Error::writing(&self.path, e))?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        Ok(())
    }

    /// Flush and sync the temp file: everything is on disk, nothing is replaced yet.
    pub fn prepare(self) -> Result<Prepared> {
        let path = self.path;
        let temp = self
            .temp
            .into_inner()
            .map_err(|e| Error::writing(&path, e.into_error()))?;
        fault("sync", &path).map_err(|e| Error::writing(&path, e))?;
        temp.as_file()
            .sync_all()
            .map_err(|e| Error::writing(&path, e))?;
        Ok(Prepared { path, temp })
    }

    /// Flush, sync to disk, and rename over the target.
    pub fn commit(self) -> Result<()> {
        self.prepare()?.commit()
    }

    /// Like `commit`, but never replace a file: if one appeared at the path meanwhile, fail
    /// (exit 73) and leave it alone.
    pub fn commit_new(self) -> Result<()> {
        self.prepare()?.commit_new()
    }
}

impl Prepared {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rename over the target.
    pub fn commit(self) -> Result<()> {
        self.rename(true)
    }

    /// Rename to the target only if nothing is there.
    pub fn commit_new(self) -> Result<()> {
        self.rename(false)
    }

    fn rename(self, replace: bool) -> Result<()> {
        let path = self.path;
        fault("rename", &path).map_err(|e| Error::writing(&path, e))?;
        if replace {
            self.temp
                .persist(&path)
                .map_err(|e| Error::writing(&path, e.error))?;
        } else {
            self.temp
                .persist_noclobber(&path)
                .map_err(|e| match e.error.kind() {
                    io::ErrorKind::AlreadyExists => Error::CantCreate {
                        path: path.clone(),
                        source: io::Error::new(io::ErrorKind::AlreadyExists, "it already exists"),
                    },
                    _ => Error::writing(&path, e.error),
                })?;
        }
        // Tests: die here, as `kill -9` would, with this file renamed and the rest not.
        if fault("die-after-rename", &path).is_err() {
            std::process::abort();
        }
        // Make the rename itself durable. A folder that cannot be synced (a disk failing) is
        // an error: the caller puts the old file back. Some file systems cannot sync a folder
        // at all: nothing to do there.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
            && let Err(e) = fault("sync-folder", &path).and_then(|()| d.sync_all())
        {
            // EOPNOTSUPP: 95 on Linux, where a FUSE or network folder may say it.
            let unsupported = (cfg!(target_os = "linux") && e.raw_os_error() == Some(95))
                || matches!(
                    e.kind(),
                    io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
                );
            if !unsupported {
                return Err(Error::writing(&path, e));
            }
        }
        Ok(())
    }
}

/// The name of a backup of `path` made while outputs are renamed (see `commit_all`): a temp
/// file's name, with this process as its writer, so that two runs committing the same file
/// do not share one, and a killed run's backup is removed as its temp files are.
pub fn backup_name(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let full = format!(".{name}.{}.backup{TEMP_SUFFIX}", writer_tag());
    let short = format!(".{name}.{}.backup{TEMP_SUFFIX}", std::process::id());
    Some(path.with_file_name(if full.len() <= 255 { full } else { short }))
}

/// Remove temp files that a killed run left next to `path` (`.<name>.*.leadsort-tmp`), or,
/// with `path` a folder, every leadsort temp file in it, once any commit a killed run left
/// half done there is undone (`journal::recover`). Only safe while holding the run lock; even
/// then, a temp file of a writer still running is left (another lock's run).
pub fn remove_stale_temps(path: &Path) -> usize {
    let (dir, prefix) = if path.is_dir() {
        (path.to_path_buf(), ".".to_string())
    } else {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        (dir, format!(".{name}."))
    };
    let kept = super::journal::recover(&dir, super::journal::Scope::Locked(path));
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(&prefix)
                && name.ends_with(TEMP_SUFFIX)
                && e.file_type().is_ok_and(|t| t.is_file())
                && !of_a_kept_journal(&name, &kept)
                && !of_a_running_writer(&name)
        })
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

/// This process as the writer of temp files: the machine (host name, machine id and PID
/// namespace) and the process id. Linux only: elsewhere, or when `/proc` or the machine id
/// cannot tell, `None`, and temp files are named without a writer (and only a run holding the
/// lock removes them).
#[derive(Debug)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
struct Writer {
    /// `host-machineid-pidns`: the host name with anything but letters, digits and `-` as
    /// `_`, the first characters of the machine id, the PID namespace.
    machine: String,
    pid: u32,
    uid: u32,
}

fn writer() -> Option<&'static Writer> {
    static WRITER: std::sync::OnceLock<Option<Writer>> = std::sync::OnceLock::new();
    WRITER.get_or_init(find_writer).as_ref()
}

#[cfg(target_os = "linux")]
fn find_writer() -> Option<Writer> {
    use std::os::unix::fs::MetadataExt;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let host: String = (host.trim().chars().take(64))
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' => c,
            _ => '_',
        })
        .collect();
    // Two machines may share a host name (`localhost`, cloned VMs) and a network folder: the
    // machine id tells them apart (and stays across reboots, after which no run is alive).
    // Without one (many containers), nothing is removed.
    let id = ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())?;
    let id: String = (id.trim().chars().take(12))
        .filter(char::is_ascii_alphanumeric)
        .collect();
    // "pid:[4026531836]": runs in other containers may share the host and the folder.
    let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
    let ns: String = (ns.to_string_lossy().chars())
        .filter(char::is_ascii_digit)
        .collect();
    // /proc must count processes as this one does (not so in a PID namespace without its own
    // /proc): else /proc/<pid> would say nothing about the writers of the names.
    let pid = std::process::id();
    let proc_pid = std::fs::read_link("/proc/self").ok()?;
    if proc_pid.to_str() != Some(pid.to_string().as_str()) {
        return None;
    }
    // /proc/self belongs to the user the process runs as.
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    (!host.is_empty() && !id.is_empty() && !ns.is_empty()).then(|| Writer {
        machine: format!("{host}-{id}-{ns}"),
        pid,
        uid,
    })
}

#[cfg(not(target_os = "linux"))]
fn find_writer() -> Option<Writer> {
    None
}

/// Remove the temp files next to `dir/name` that a run on this machine, by this user, left
/// when it was killed (`kill -9`, the out-of-memory killer): their writer's process is gone.
/// A run still writing keeps its files, and so does one on another machine or in another
/// container; those wait for a run that holds the lock (`remove_stale_temps`). A commit the
/// killed run left half done is undone first (`journal::recover`).
fn remove_orphans(dir: &Path, name: &str) -> usize {
    if writer().is_none() {
        return 0;
    }
    let kept = super::journal::recover(dir, super::journal::Scope::Dead);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| left_by_the_dead(e, name))
        .filter(|e| !of_a_kept_journal(&e.file_name().to_string_lossy(), &kept))
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

/// Whether a temp file is one of the writers' whose undo failed (`journal::recover`): their
/// backups are what the next try needs.
fn of_a_kept_journal(file: &str, kept: &[String]) -> bool {
    kept.iter().any(|w| file.contains(&format!(".{w}.")))
}

/// Whether `entry` is a temp file of `name` (`.<name>.<writer>....leadsort-tmp`) whose writer
/// is a process of this machine and this user that is gone.
pub(super) fn left_by_the_dead(entry: &std::fs::DirEntry, name: &str) -> bool {
    let Some(me) = writer() else {
        return false;
    };
    if writer_running(&entry.file_name().to_string_lossy(), name) != Some(false) {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if !entry
            .metadata()
            .is_ok_and(|m| m.is_file() && m.uid() == me.uid)
        {
            return false;
        }
    }
    true
}

/// Whether the writer a temp file of `name` names (`.<name>.<machine>-<pid>.<...>`) is still
/// running: `None` when it is not of this machine (or this process cannot tell).
pub(super) fn writer_running(file: &str, name: &str) -> Option<bool> {
    let me = writer()?;
    let pid = file
        .strip_prefix(&format!(".{name}.{}-", me.machine))?
        .strip_suffix(TEMP_SUFFIX)?
        .split_once('.')?
        .0
        .parse::<u32>()
        .ok()?;
    Some(running(pid, me))
}

/// Whether process `pid` of this machine is running: this one, or any. A PID used again
/// since its run was killed keeps that run's temp files (owner-only, hidden) until the
/// process using it ends; a later run removes them then.
fn running(pid: u32, me: &Writer) -> bool {
    pid == me.pid || Path::new("/proc").join(pid.to_string()).exists()
}

/// Whether a temp file names a writer of this machine that is still running, whatever file
/// it is for: a run holding a lock may share the folder with a run holding another (`--lock`
/// given to one of them), whose temp files must stay. A PID used again keeps a dead run's
/// file until that process is gone too.
fn of_a_running_writer(file: &str) -> bool {
    let Some(me) = writer() else {
        return false;
    };
    let Some((_, after)) = file.split_once(&format!(".{}-", me.machine)) else {
        return false;
    };
    let pid = after.split_once('.').map_or(after, |(pid, _)| pid);
    pid.parse::<u32>().is_ok_and(|pid| running(pid, me))
}

/// This process's part of a temp file's name: `<machine>-<pid>`, or the pid alone when the
/// writer cannot be told (see `Writer`).
pub(super) fn writer_tag() -> String {
    match writer() {
        Some(w) => format!("{}-{}", w.machine, w.pid),
        None => std::process::id().to_string(),
    }
}

/// Test builds only: `LEADSORT_FAULT=step` or `step@file-name` makes that step fail, as a
/// full disk would, so tests can check that a failure at any step leaves old outputs intact.
/// Steps: `create`, `write`, `sync`, `rename`, `sync-folder` (after the rename).
/// `slow-step` instead makes the step wait a second first, so tests can signal a run at that
/// step; `die-after-rename` aborts the process once the file is renamed, as `kill -9` would.
pub fn fault(step: &str, path: &Path) -> io::Result<()> {
    if !cfg!(debug_assertions) {
        return Ok(());
    }
    let Some(want) = std::env::var_os("LEADSORT_FAULT") else {
        return Ok(());
    };
    let want = want.to_string_lossy();
    let (want_step, want_file) = want
        .split_once('@')
        .map_or((want.as_ref(), None), |(s, f)| (s, Some(f)));
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if want_file.is_some_and(|f| f != file) {
        return Ok(());
    }
    if want_step.strip_prefix("slow-") == Some(step) {
        std::thread::sleep(std::time::Duration::from_secs(1));
    } else if want_step == step {
        return Err(io::Error::new(
            io::ErrorKind::StorageFull,
            format!("injected fault at {step}"),
        ));
    }
    Ok(())
}

/// tempfile's errors name the temp file; the user only knows the output's name.
fn without_temp_name(e: io::Error) -> io::Error {
    let text = match e.kind() {
        io::ErrorKind::NotFound => "the folder does not exist",
        io::ErrorKind::PermissionDenied => "permission denied",
        io::ErrorKind::ReadOnlyFilesystem => "read-only file system",
        io::ErrorKind::StorageFull => "no space left on device",
        io::ErrorKind::NotADirectory => "a part of the path is not a folder",
        kind => return io::Error::from(kind),
    };
    io::Error::new(e.kind(), text)
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        fault("write", &self.path)?;
        self.temp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temp.flush()
    }
}

/// The mode of a file meant for others to read (a rules file, a report): `0644` less what the
/// umask takes away, as a file created by any other program would have. Under `umask 077` it
/// stays the owner's: a rules file written from a file whose first line was a contact would
/// otherwise show that contact to every user of the machine. Read from `/proc` (Linux); where
/// that cannot be read, `022` is assumed.
pub fn shared_mode() -> u32 {
    let umask = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Umask:"))?;
            u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
        })
        .unwrap_or(0o022);
    0o644 & !umask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn commit_replaces_and_drop_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "old").unwrap();

        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"half").unwrap();
        drop(f);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(entries(dir.path()), vec!["out.csv"]);

        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"new").unwrap();
        let prepared = f.prepare().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "old",
            "prepared is not committed"
        );
        drop(prepared);
        assert_eq!(entries(dir.path()), vec!["out.csv"]);

        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(entries(dir.path()), vec!["out.csv"]);
    }

    #[test]
    fn commit_new_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.toml");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"new").unwrap();
        std::fs::write(&path, "someone else's").unwrap();
        assert!(matches!(
            f.commit_new().unwrap_err(),
            Error::CantCreate { .. }
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "someone else's");
        assert_eq!(entries(dir.path()), vec!["rules.toml"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_mode_can_be_asked_for() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.toml");
        let mut f = AtomicFile::create(&path).unwrap();
        f.set_mode(0o644).unwrap();
        f.commit().unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.csv");
        std::fs::write(&target, "precious").unwrap();
        let link = dir.path().join("out.csv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(
            AtomicFile::create(&link).unwrap_err(),
            Error::CantCreate { .. }
        ));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    }

    #[test]
    fn stale_temps_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "sales.csv",
            ".sales.csv.a1b2.leadsort-tmp",
            ".other.csv.x.leadsort-tmp",
            ".hidden",
        ] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        assert_eq!(remove_stale_temps(&dir.path().join("sales.csv")), 1);
        assert_eq!(
            entries(dir.path()),
            vec![".hidden", ".other.csv.x.leadsort-tmp", "sales.csv"]
        );
        assert_eq!(remove_stale_temps(dir.path()), 1);
        assert_eq!(entries(dir.path()), vec![".hidden", "sales.csv"]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn temp_files_of_killed_runs_are_removed_and_no_others() {
        let me = writer().expect("/proc tells who writes");
        let dead = {
            let mut child = std::process::Command::new("true").spawn().unwrap();
            child.wait().unwrap();
            child.id()
        };
        let mut live = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ours = |pid: u32| format!(".out.csv.{}-{pid}.a1B2c3.leadsort-tmp", me.machine);
        let kept = [
            ours(me.pid),
            ours(live.id()),
            format!(".out.csv.elsewhere-4026531836-{dead}.a1B2c3.leadsort-tmp"),
            format!(".other.csv.{}-{dead}.a1B2c3.leadsort-tmp", me.machine),
            ".out.csv.a1B2c3.leadsort-tmp".to_string(),
            format!("out.csv.{}-{dead}.a1B2c3.leadsort-tmp", me.machine),
        ];
        for name in kept.iter().chain([&ours(dead)]) {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        // Another user's, where this test may make one (as root).
        let theirs = format!(".out.csv.{}-{dead}.d4E5f6.leadsort-tmp", me.machine);
        std::fs::write(dir.path().join(&theirs), "x").unwrap();
        let mut kept = kept.to_vec();
        if std::os::unix::fs::chown(dir.path().join(&theirs), Some(me.uid + 1), None).is_ok() {
            kept.push(theirs);
        }
        drop(AtomicFile::create(&dir.path().join("out.csv")).unwrap());
        let _ = live.kill();
        let _ = live.wait();
        kept.sort();
        assert_eq!(entries(dir.path()), kept);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn temp_files_name_their_writer() {
        let me = writer().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let _f = AtomicFile::create(&dir.path().join("out.csv")).unwrap();
        let names = entries(dir.path());
        let prefix = format!(".out.csv.{}-{}.", me.machine, std::process::id());
        assert!(
            names.len() == 1 && names[0].starts_with(&prefix) && names[0].ends_with(TEMP_SUFFIX),
            "{names:?}"
        );
    }

    /// Every name this module and the journal build for a writer's files is read back as
    /// this process's by `writer_running`, and so as a dead writer's once it is gone.
    #[cfg(target_os = "linux")]
    #[test]
    fn names_built_for_a_writer_are_read_back_as_its() {
        if writer().is_none() {
            return; // no machine id: no names carry a writer, nothing to read back
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        let _temp = AtomicFile::create(&out).unwrap();
        let backup = backup_name(&out).unwrap();
        let journal = format!(".leadsort-commit.{}.journal{TEMP_SUFFIX}", writer_tag());
        let mut names = entries(dir.path());
        names.push(backup.file_name().unwrap().to_string_lossy().into_owned());
        for name in &names {
            assert_eq!(writer_running(name, "out.csv"), Some(true), "{name}");
        }
        assert_eq!(writer_running(&journal, "leadsort-commit"), Some(true));
        // Another process's name, one that cannot be running.
        let gone = journal.replace(&format!("-{}.", std::process::id()), "-4000000000.");
        assert_eq!(writer_running(&gone, "leadsort-commit"), Some(false));
    }

    #[test]
    fn a_long_file_name_is_written_without_the_writer_in_its_temp_name() {
        let dir = tempfile::tempdir().unwrap();
        // The longest name whose temp file fits in 255 bytes: `.`, name, `.`, 6 random
        // characters, the suffix.
        let path = dir.path().join(format!("{}.csv", "a".repeat(230)));
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"x").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"x");
    }

    #[test]
    fn missing_folder_cannot_be_created() {
        let err = AtomicFile::create(Path::new("/nonexistent-leadsort-dir/out.csv")).unwrap_err();
        assert!(matches!(err, Error::CantCreate { .. }));
    }

    #[cfg(unix)]
    #[test]
    fn owner_only_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        AtomicFile::create(&path).unwrap().commit().unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
