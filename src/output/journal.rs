//! What a commit of several files is about to do, kept on disk while it does it, so that a run
//! killed among the renames (`kill -9`, the out-of-memory killer, a power cut) leaves nothing
//! the next run cannot undo.
//!
//! `commit_all` renames its files one at a time. Each rename is atomic, the set is not: a
//! run killed between two of them leaves tonight's `sales.csv` beside yesterday's
//! `suppressed.csv`, and a contact who moved overnight in both or in neither. So before the
//! first rename, the files and their backups (hard links to the old versions) are written to
//! a journal, one copy in each folder that holds one of the files, named like a temp file
//! (`.leadsort-commit.<writer>.leadsort-tmp`). Once the last rename is done, the copies are
//! removed (the commit point), then the backups.
//!
//! The next run that writes into one of those folders finds the copy of a writer that is gone
//! (`recover`, called before any temp file is swept), and puts every file back as it was: the
//! backups over the files, and the files that were new removed. So the outputs are yesterday's,
//! all of them, until that run replaces them whole. Copies are removed before backups, so a run
//! killed while cleaning up either leaves a copy (and every backup: the undo is whole) or none
//! (the commit is whole, and the backups are swept as temp files).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::atomic::{TEMP_SUFFIX, left_by_the_dead, writer_tag};
use crate::error::{Error, Result};

/// The start of a journal copy's name; the writer and `TEMP_SUFFIX` follow.
const NAME: &str = "leadsort-commit";

/// A commit of several files in progress.
#[derive(Debug, Serialize, Deserialize)]
pub struct Journal {
    /// Each file the commit replaces (absolute), with the backup of its old version, or
    /// `None` when there was no old file.
    files: Vec<(PathBuf, Option<PathBuf>)>,
    /// Every copy of this journal (absolute), one per folder.
    copies: Vec<PathBuf>,
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
        let mut copies: Vec<PathBuf> = Vec::new();
        for (target, _) in &files {
            let Some(dir) = target.parent() else {
                return Ok(None);
            };
            let copy = dir.join(format!(".{NAME}.{}{TEMP_SUFFIX}", writer_tag()));
            if !copies.contains(&copy) {
                copies.push(copy);
            }
        }
        let journal = Journal { files, copies };
        let Ok(text) = serde_json::to_vec(&journal) else {
            return Ok(None);
        };
        for (i, copy) in journal.copies.iter().enumerate() {
            let written = File::create(copy).and_then(|mut f| {
                f.write_all(&text)?;
                f.sync_all()
            });
            if let Err(e) = written {
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

    /// Put every file back as it was before the commit; the backups and copies are removed.
    fn undo(&self) {
        for (target, backup) in &self.files {
            match backup {
                // A backup of a file not yet replaced is a link to it: renaming one over the
                // other does nothing, and the backup is removed below.
                Some(b) if b.exists() => drop(std::fs::rename(b, target)),
                Some(_) => {}
                None => {
                    if std::fs::symlink_metadata(target).is_ok_and(|m| m.is_file()) {
                        let _ = std::fs::remove_file(target);
                    }
                }
            }
        }
        for b in self.files.iter().filter_map(|(_, b)| b.as_ref()) {
            let _ = std::fs::remove_file(b);
        }
        for copy in &self.copies {
            let _ = std::fs::remove_file(copy);
        }
    }
}

/// Undo the commits that runs killed among their renames left in `dir` (see the module's
/// doc): those of writers on this machine that are gone, or, with `any` (the caller holds the
/// run lock, so no other run is committing here), every one. Said on stderr even with `-q`:
/// files changed back is something a person must hear of. Returns the files put back.
pub fn recover(dir: &Path, any: bool) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let prefix = format!(".{NAME}.");
    let mut restored = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&prefix) || !name.ends_with(TEMP_SUFFIX) {
            continue;
        }
        if !entry.file_type().is_ok_and(|t| t.is_file()) || !(any || left_by_the_dead(&entry, NAME))
        {
            continue;
        }
        let path = entry.path();
        match std::fs::read(&path)
            .ok()
            .and_then(|text| serde_json::from_slice::<Journal>(&text).ok())
        {
            Some(journal) => {
                journal.undo();
                restored += journal.files.len();
                crate::ui::warn_now(&format!(
                    "a run killed while it replaced its outputs left {} half replaced: {} \
                     put back as they were before it",
                    dir.display(),
                    crate::ui::plural(journal.files.len() as u64, "file"),
                ));
            }
            // Killed while it wrote the journal: no file was renamed yet.
            None => drop(std::fs::remove_file(&path)),
        }
    }
    restored
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_else(|_| "(none)".into())
    }

    /// Two files replaced, one still old, one new that had no old version: killed with the
    /// journal written and a rename done. The next look puts all of them back.
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
        let (ba, bb) = (dir.path().join(".a.bak"), dir.path().join(".b.bak"));
        std::fs::hard_link(&a, &ba).unwrap();
        std::fs::hard_link(&b, &bb).unwrap();
        let journal = Journal::begin(&[(&a, Some(&ba)), (&b, Some(&bb)), (&c, None)])
            .unwrap()
            .unwrap();
        assert_eq!(journal.copies.len(), 1);
        // The renames that happened before the kill: sales and customers.
        std::fs::remove_file(&a).unwrap();
        write(&a, "new sales");
        write(&c, "new customers");
        std::mem::forget(journal);

        assert_eq!(recover(dir.path(), true), 3);
        assert_eq!(read(&a), "old sales");
        assert_eq!(read(&b), "old marketing");
        assert_eq!(read(&c), "(none)");
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left.len(), 2, "no backup or journal is left: {left:?}");
        // Nothing more to undo.
        assert_eq!(recover(dir.path(), true), 0);
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
        assert_eq!(recover(dir.path(), true) + recover(other.path(), true), 0);
        assert_eq!(read(&a), "new");
    }

    #[test]
    fn one_file_needs_no_journal_and_a_live_writers_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("o.csv");
        assert!(Journal::begin(&[(&a, None)]).unwrap().is_none());
        let b = dir.path().join("p.csv");
        let journal = Journal::begin(&[(&a, None), (&b, None)]).unwrap().unwrap();
        write(&a, "new");
        // This process is alive: only a run holding the lock may undo its commit.
        assert_eq!(recover(dir.path(), false), 0);
        assert_eq!(read(&a), "new");
        journal.end();
    }
}
