//! Files that appear whole or not at all: written to a temp file in the destination folder,
//! flushed and synced, then renamed over the target.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// Temp files carry this suffix (and a leading dot), so nothing mistakes them for output.
pub const TEMP_SUFFIX: &str = ".leadsort-tmp";

/// An output file being written. Dropping it without `commit` removes the temp file and
/// leaves any previous file at `path` as it was.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    temp: BufWriter<NamedTempFile>,
}

impl AtomicFile {
    /// Start writing `path`. The temp file is readable by the owner only.
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.is_empty() || path.is_dir() {
            return Err(Error::CantCreate {
                path: path.to_path_buf(),
                source: io::Error::other("is a directory, not a file name"),
            });
        }
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(TEMP_SUFFIX)
            .tempfile_in(dir)
            .map_err(|e| Error::CantCreate {
                path: path.to_path_buf(),
                source: without_temp_name(e),
            })?;
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

    /// Flush, sync to disk, and rename over the target.
    pub fn commit(self) -> Result<()> {
        self.finish(true)
    }

    /// Like `commit`, but never replace a file: if one appeared at the path meanwhile, fail
    /// (exit 73) and leave it alone.
    pub fn commit_new(self) -> Result<()> {
        self.finish(false)
    }

    fn finish(self, replace: bool) -> Result<()> {
        let path = self.path;
        let temp = self
            .temp
            .into_inner()
            .map_err(|e| Error::writing(&path, e.into_error()))?;
        temp.as_file()
            .sync_all()
            .map_err(|e| Error::writing(&path, e))?;
        if replace {
            temp.persist(&path)
                .map_err(|e| Error::writing(&path, e.error))?;
        } else {
            temp.persist_noclobber(&path)
                .map_err(|e| match e.error.kind() {
                    io::ErrorKind::AlreadyExists => Error::CantCreate {
                        path: path.clone(),
                        source: io::Error::new(io::ErrorKind::AlreadyExists, "it already exists"),
                    },
                    _ => Error::writing(&path, e.error),
                })?;
        }
        // Make the rename itself durable.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
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
        self.temp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temp.flush()
    }
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
