//! What a commit of several files is about to do, kept on disk while it does it, so that a run
//! killed among the renames (`kill -9`, the out-of-memory killer, a power cut) leaves nothing
//! the next run cannot undo.
//!
//! `commit_all` renames its files one at a time. Each rename is atomic, the set is not: a
//! run killed between two of them leaves tonight's `sales.csv` beside yesterday's
//! `suppressed.csv`, and a contact who moved overnight in both or in neither. So before the
//! first rename, the files and their backups (hard links to the old versions) are written to
//! a journal, one copy in each folder that holds one of the files, named like a temp file of
//! its writer (`.leadsort-commit.<writer>.journal.leadsort-tmp`). Once the last rename is
//! done, the copies are removed (the commit point: the last copy gone), then the backups. A
//! run killed between removing the copies of two folders leaves a copy and every backup: the
//! next run undoes a commit that was whole, which leaves the files whole too (all the old).
//!
//! A later run that cleans up temp files in one of those folders (`recover`, before any temp
//! file is swept) puts every file back as it was: the backups over the files, and the files
//! that were new removed; then it removes the dead run's backups, journal copies and temp
//! files. So the outputs are the last whole run's, all of them, until that run replaces them.
//!
//! What makes a copy safe to act on:
//! - its writer is gone (a running commit is never undone, whoever holds which lock);
//! - it lies where it says its copies lie (a folder copied with its hidden files, to staging
//!   say, carries a journal about the original folder: that copy is dropped, not followed);
//! - each backup sits next to its file, named as this module names backups;
//! - every backup it lists is still there. Copies are removed before backups, and an undo
//!   links a backup back rather than moving it (a failed undo keeps them all, and the sweeps
//!   spare them), so a missing backup means the commit was past its commit point: the copy
//!   is dropped, the new files stay;
//! - none of its files was written after it: the killed run wrote all of its files before its
//!   journal (a rename keeps a file's time), so a newer one is a later run's, never to be
//!   replaced by a stale backup (where no run sweeps a dead writer's files, a journal can
//!   outlive later runs until one holding a lock finds it).

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::atomic::{TEMP_SUFFIX, left_by_the_dead, writer_running, writer_tag};
use crate::error::{Error, Result};

/// The start of a journal copy's name (`.leadsort-commit.<writer>.journal.leadsort-tmp`).
const NAME: &str = "leadsort-commit";

/// A commit of several files in progress.
#[derive(Debug, Serialize, Deserialize)]
pub struct Journal {
    /// Each file the commit replaces (absolute), with the backup of its old version, or
    /// `None` when there was no old file.
    files: Vec<(PathBuf, Option<PathBuf>)>,
    /// Every copy of this journal (absolute), one per folder.
    copies: Vec<PathBuf>,
    /// The writer's part of temp file names, to sweep its temp files after an undo.
    writer: String,
}

/// Which journals a run may act on in a folder.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Those of a run of this machine and this user that is gone.
    Dead,
    /// Also those whose writer cannot be told (another machine, no machine id), when they
    /// list this output (or a file in this folder): the caller holds its lock, so no run of
    /// its own is committing it. Never one whose writer is running here.
    Locked(&'a Path),
}

impl Journal {
    /// Write the journal of a commit of `files` (each with its backup), synced, before any
    /// rename. One file needs none (its rename is the commit); nor do paths that are not
    /// UTF-8, which a journal cannot name (the commit then goes on as before).
    pub fn begin(files: &[(&Path, Option<&Path>)]) -> Result<Option<Journal>> {
        if files.len() < 2 {
            return Ok(None);
        }
        let absolute = |p: &Path| std::path::absolute(p).ok();
        let Some(files) = files
            .iter()
            .map(|(t, b)| {
                let backup = match b {
                    Some(b) => Some(absolute(b)?),
                    None => None,
                };
                Some((absolute(t)?, backup))
            })
            .collect::<Option<Vec<(PathBuf, Option<PathBuf>)>>>()
        else {
            return Ok(None);
        };
        let writer = writer_tag();
        let mut copies: Vec<PathBuf> = Vec::new();
        for (target, _) in &files {
            let Some(dir) = target.parent() else {
                return Ok(None);
            };
            let copy = dir.join(format!(".{NAME}.{writer}.journal{TEMP_SUFFIX}"));
            if !copies.contains(&copy) {
                copies.push(copy);
            }
        }
        let journal = Journal {
            files,
            copies,
            writer,
        };
        let Ok(text) = serde_json::to_vec(&journal) else {
            return Ok(None);
        };
        for (i, copy) in journal.copies.iter().enumerate() {
            if let Err(e) = write_new(copy, &text) {
                for c in &journal.copies[..=i] {
                    let _ = std::fs::remove_file(c);
                }
                return Err(Error::writing(copy, e));
            }
        }
        Ok(Some(journal))
    }

    /// The commit is whole (or undone by the run itself): the journal is no longer needed.
    pub fn end(self) {
        for copy in &self.copies {
            let _ = std::fs::remove_file(copy);
        }
    }

    /// Whether this copy, found at `at`, can be acted on: it is where it says its copies are,
    /// and its backups are where and as this module makes them.
    fn sound(&self, at: &Path) -> bool {
        self.copies.iter().any(|c| same_place(c, at))
            && self.files.iter().all(|(target, backup)| {
                backup.as_ref().is_none_or(|b| {
                    b.parent() == target.parent()
                        && b.file_name().is_some_and(|n| {
                            let n = n.to_string_lossy();
                            let name = target.file_name().unwrap_or_default().to_string_lossy();
                            n.starts_with(&format!(".{name}."))
                                && n.ends_with(&format!(".backup{TEMP_SUFFIX}"))
                        })
                })
            })
    }

    /// Whether the commit got past its commit point, or a later run has written its files
    /// since: a backup it lists is gone (removed after the copies, or swept once the commit
    /// was whole), or one of its files was written after the journal (`at`, this copy) was.
    /// A killed run's own files were all written before its journal (a rename keeps a file's
    /// time), so a newer one is a later run's, which an undo must not replace.
    fn past_commit(&self, at: &Path) -> bool {
        let written = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let journal = written(at);
        (self.files.iter()).any(|(target, backup)| {
            backup.as_ref().is_some_and(|b| !b.exists())
                || journal.is_some_and(|j| written(target).is_some_and(|t| t > j))
        })
    }

    /// Put every file back as it was before the commit. Returns how many files changed, or
    /// the first failure: the journal and every backup are then kept, to try again whole (an
    /// undo never uses a backup up).
    fn undo(&self) -> io::Result<usize> {
        let mut changed = 0;
        for (target, backup) in &self.files {
            changed += usize::from(put_back(target, backup.as_deref())?);
        }
        Ok(changed)
    }

    /// Remove what the dead run left: its backups, its journal copies, and its temp files in
    /// each folder it wrote to (the files it had not renamed yet, of queues this run may not
    /// write).
    fn sweep(&self) {
        for b in self.files.iter().filter_map(|(_, b)| b.as_ref()) {
            let _ = std::fs::remove_file(b);
        }
        let marker = format!(".{}.", self.writer);
        // A writer named by its pid alone (no machine id) could be a run of another machine
        // or container with that pid: its temp files are left to the lock's sweep.
        let named = self.writer.contains('-');
        for copy in &self.copies {
            let _ = std::fs::remove_file(copy);
            let Some(dir) = copy.parent().filter(|_| named) else {
                continue;
            };
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.')
                    && name.contains(&marker)
                    && name.ends_with(TEMP_SUFFIX)
                    && e.file_type().is_ok_and(|t| t.is_file())
                {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }

    /// Whether the commit touched `path`, or a file in it when it is a folder.
    fn covers(&self, path: &Path) -> bool {
        let in_folder = |t: &Path| {
            path.is_dir()
                && (t.parent()).is_some_and(|d| {
                    std::fs::canonicalize(d).ok() == std::fs::canonicalize(path).ok()
                })
        };
        (self.files.iter()).any(|(t, _)| same_place(t, path) || in_folder(t))
    }
}

/// Put `target` back as it was before a commit: its `backup` (a hard link to the old
/// file) linked again and renamed over it, the backup itself kept; or, with no backup (there
/// was no old file), the file removed. Whether anything changed: a backup of a file not yet
/// replaced is a link to it.
pub fn put_back(target: &Path, backup: Option<&Path>) -> io::Result<bool> {
    match backup {
        Some(b) if same_inode(b, target) => Ok(false),
        Some(b) => {
            let name = b.file_name().unwrap_or_default().to_string_lossy();
            let undo = b.with_file_name(name.replacen(".backup", ".undo", 1));
            let _ = std::fs::remove_file(&undo);
            std::fs::hard_link(b, &undo).or_else(|_| std::fs::copy(b, &undo).map(drop))?;
            std::fs::rename(&undo, target).inspect_err(|_| drop(std::fs::remove_file(&undo)))?;
            Ok(true)
        }
        None => match std::fs::symlink_metadata(target) {
            Ok(m) if m.is_file() => std::fs::remove_file(target).map(|()| true),
            _ => Ok(false),
        },
    }
}

/// Create `path` anew (never through a link or over a file left there), owner-only, with
/// `text`, synced.
fn write_new(path: &Path, text: &[u8]) -> io::Result<()> {
    let _ = std::fs::remove_file(path);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    f.write_all(text)?;
    f.sync_all()
}

fn same_inode(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let id = |p: &Path| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
        id(a).is_some() && id(a) == id(b)
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

/// Undo the commits that runs killed among their renames left in `dir` (see the module's
/// doc), as far as `scope` allows. Said on stderr even with `-q` (files changed back are
/// something a person must hear of), once per journal however many outputs share its
/// folder. Returns the writers whose undo failed: their backups must outlive this run's
/// sweep of temp files, for the next run to try again.
pub fn recover(dir: &Path, scope: Scope<'_>) -> Vec<String> {
    static SEEN: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let prefix = format!(".{NAME}.");
    let mut kept = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&prefix)
            || !name.ends_with(TEMP_SUFFIX)
            || !entry.file_type().is_ok_and(|t| t.is_file())
        {
            continue;
        }
        let yours = match scope {
            Scope::Dead => left_by_the_dead(&entry, NAME),
            Scope::Locked(_) => writer_running(&name, NAME) != Some(true) && owned(&entry),
        };
        if !yours {
            continue;
        }
        let path = entry.path();
        let journal = std::fs::read(&path)
            .ok()
            .and_then(|text| serde_json::from_slice::<Journal>(&text).ok());
        let Some(journal) = journal.filter(|j| j.sound(&path)) else {
            // Killed while it wrote the journal (no file was renamed yet), or not a journal
            // of this folder: nothing to follow.
            let _ = std::fs::remove_file(&path);
            continue;
        };
        if let Scope::Locked(output) = scope
            && !journal.covers(output)
        {
            continue;
        }
        if journal.past_commit(&path) {
            journal.end();
            continue;
        }
        let first = (SEEN
            .lock()
            .map(|mut s| s.get_or_insert_default().insert(path.clone())))
        .unwrap_or(true);
        match journal.undo() {
            Ok(changed) => {
                journal.sweep();
                if changed > 0 {
                    crate::ui::warn_now(&format!(
                        "a run killed while it replaced its outputs left {} half replaced: {} \
                         put back as {} before it",
                        dir.display(),
                        crate::ui::plural(changed as u64, "file"),
                        if changed == 1 { "it was" } else { "they were" },
                    ));
                }
            }
            Err(e) => {
                kept.push(journal.writer.clone());
                if first {
                    crate::ui::warn_now(&format!(
                        "a run killed while it replaced its outputs left {} half replaced, and \
                         its files could not be put back ({}): they are a mix of two runs until \
                         a run that can write there puts them back or replaces them",
                        dir.display(),
                        crate::error::plain(&e)
                    ));
                }
            }
        }
    }
    kept
}

/// Whether this user owns the file (anyone's on systems without owners).
fn owned(entry: &std::fs::DirEntry) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // This process's user, as the files it makes carry it (where /proc tells).
        let me = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
        entry
            .metadata()
            .is_ok_and(|m| me.is_none_or(|me| m.uid() == me))
    }
    #[cfg(not(unix))]
    {
        let _ = entry;
        true
    }
}

/// Whether `a` and `b` name one place: the same file name in the same folder, however the
/// folder is spelt (`out/`, `./out`, `/srv/leads/out`).
fn same_place(a: &Path, b: &Path) -> bool {
    let folder = |p: &Path| {
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
        std::fs::canonicalize(dir.unwrap_or(Path::new(".")))
    };
    a.file_name() == b.file_name()
        && match (folder(a), folder(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => a == b,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name `commit_all` gives the backup of `path`.
    fn backup_of(path: &Path) -> PathBuf {
        super::super::atomic::backup_name(path).unwrap()
    }

    fn write(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
    }

    /// Give a file the time of a minute ago.
    fn backdate(path: &Path) {
        let minute_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(minute_ago).unwrap();
    }

    /// A file of the killed run: written before its journal, as `commit_all` writes them.
    fn write_before_journal(path: &Path, text: &str) {
        write(path, text);
        backdate(path);
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_else(|_| "(none)".into())
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// A journal as a killed run leaves it: written by a writer that is gone.
    fn killed(files: &[(&Path, Option<&Path>)]) -> Journal {
        let mut j = Journal::begin(files).unwrap().unwrap();
        let dead = "nohost-0-0-4000000000".to_string();
        for copy in &mut j.copies {
            let renamed = copy.with_file_name(format!(".{NAME}.{dead}.journal{TEMP_SUFFIX}"));
            std::fs::rename(&*copy, &renamed).unwrap();
            *copy = renamed;
        }
        j.writer = dead;
        for copy in &j.copies {
            write_new(copy, &serde_json::to_vec(&j).unwrap()).unwrap();
        }
        j
    }

    /// Two files replaced, one still old, one new that had no old version: killed with the
    /// journal written and a rename done. Recovery under the lock puts all of them back.
    #[test]
    fn a_commit_killed_among_its_renames_is_undone_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("sales.csv"),
            dir.path().join("marketing.csv"),
            dir.path().join("customers.csv"),
        );
        write(&a, "old sales");
        write(&b, "old marketing");
        let (ba, bb) = (backup_of(&a), backup_of(&b));
        std::fs::hard_link(&a, &ba).unwrap();
        std::fs::hard_link(&b, &bb).unwrap();
        killed(&[(&a, Some(&ba)), (&b, Some(&bb)), (&c, None)]);
        // The renames that happened before the kill: sales and customers.
        std::fs::remove_file(&a).unwrap();
        write_before_journal(&a, "new sales");
        write_before_journal(&c, "new customers");

        assert!(recover(dir.path(), Scope::Locked(dir.path())).is_empty());
        assert_eq!(read(&a), "old sales");
        assert_eq!(read(&b), "old marketing");
        assert_eq!(read(&c), "(none)");
        assert_eq!(names(dir.path()), ["marketing.csv", "sales.csv"]);
    }

    #[test]
    fn a_commit_that_ended_leaves_nothing_to_undo() {
        let dir = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("o.csv"), other.path().join("s.json"));
        let journal = Journal::begin(&[(&a, None), (&b, None)]).unwrap().unwrap();
        assert_eq!(journal.copies.len(), 2, "a copy in each folder");
        write(&a, "new");
        write(&b, "new");
        journal.end();
        assert!(recover(dir.path(), Scope::Locked(&a)).is_empty());
        assert_eq!(read(&a), "new");
        assert_eq!(names(dir.path()), ["o.csv"]);
    }

    /// A commit whose backups are gone got past its commit point: its copy is dropped and
    /// the new files stay.
    #[test]
    fn a_copy_left_after_the_commit_point_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        write(&a, "old");
        let ba = backup_of(&a);
        std::fs::hard_link(&a, &ba).unwrap();
        killed(&[(&a, Some(&ba)), (&b, None)]);
        std::fs::remove_file(&a).unwrap();
        write_before_journal(&a, "new");
        write_before_journal(&b, "new");
        std::fs::remove_file(&ba).unwrap();
        recover(dir.path(), Scope::Locked(dir.path()));
        assert_eq!((read(&a), read(&b)), ("new".into(), "new".into()));
        assert_eq!(names(dir.path()), ["a.csv", "b.csv"]);
    }

    /// A file written after the journal is a later run's (the killed run's were all written
    /// before it): the copy is dropped, and that file is not replaced by a stale backup.
    #[test]
    fn a_file_a_later_run_wrote_is_never_put_back() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        write(&a, "old");
        let ba = backup_of(&a);
        std::fs::hard_link(&a, &ba).unwrap();
        let j = killed(&[(&a, Some(&ba)), (&b, None)]);
        // The journal a minute ago; a later run's a.csv now.
        j.copies.iter().for_each(|c| backdate(c));
        std::fs::remove_file(&a).unwrap();
        write(&a, "a later run's");
        recover(dir.path(), Scope::Locked(dir.path()));
        assert_eq!(read(&a), "a later run's");
    }

    /// A running commit (this process's) is never undone, lock or not; nor one about files
    /// this run does not write; nor a copy carried to another folder.
    #[test]
    fn only_a_dead_writers_journal_of_this_folder_about_this_output_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("o.csv"), dir.path().join("p.csv"));
        assert!(Journal::begin(&[(&a, None)]).unwrap().is_none(), "one file");
        write_before_journal(&a, "new");
        let live = Journal::begin(&[(&a, None), (&b, None)]).unwrap().unwrap();
        recover(dir.path(), Scope::Dead);
        // Where this process can be told as the writer (a machine id), its own commit is
        // never undone, even by a run holding a lock.
        if writer_tag().contains('-') {
            recover(dir.path(), Scope::Locked(&a));
        }
        assert_eq!(read(&a), "new");
        live.end();

        killed(&[(&a, None), (&b, None)]);
        let elsewhere = dir.path().join("q.csv");
        recover(dir.path(), Scope::Locked(&elsewhere));
        assert_eq!(read(&a), "new", "another job's output");

        let staging = tempfile::tempdir().unwrap();
        for name in names(dir.path()) {
            std::fs::copy(dir.path().join(&name), staging.path().join(&name)).unwrap();
        }
        recover(staging.path(), Scope::Locked(staging.path()));
        assert_eq!(read(&a), "new", "a copied journal is not followed");
        assert!(
            names(staging.path())
                .iter()
                .all(|n| !n.starts_with(".leadsort-commit"))
        );
        assert!(recover(dir.path(), Scope::Locked(&a)).is_empty());
        assert_eq!(read(&a), "(none)");
    }
}
