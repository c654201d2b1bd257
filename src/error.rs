//! Errors and the exit codes DESIGN.md promises for them.

use std::cell::Cell;
use std::io;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use crate::rules::RulesError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The exit codes of DESIGN.md (sysexits.h numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    /// Bad flags.
    Usage = 2,
    /// The input data cannot be used.
    Data = 65,
    /// An input file is missing or unreadable.
    NoInput = 66,
    /// A bug.
    Internal = 70,
    /// An output cannot be created.
    CantCreate = 73,
    /// Reading or writing failed midway (disk full, ...).
    Io = 74,
    /// Another run holds the lock.
    Locked = 75,
    /// rules.toml is wrong.
    Config = 78,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}

/// Everything that can stop a run. Messages name files and places, never contact data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Rules(#[from] RulesError),
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Data(String),
    #[error("cannot read {}: {}", path.display(), plain(source))]
    NoInput { path: PathBuf, source: io::Error },
    #[error("cannot create {}: {}", path.display(), plain(source))]
    CantCreate { path: PathBuf, source: io::Error },
    #[error("{what}: {}", plain(source))]
    Io { what: String, source: io::Error },
    #[error("{0}")]
    Locked(String),
    #[error("internal error (a bug in leadsort, please report it): {0}")]
    Internal(String),
    /// SIGINT, SIGTERM or SIGHUP: the run stopped at a row boundary, outputs untouched.
    #[error("stopped by signal {0} before finishing; no output file was replaced")]
    Interrupted(i32),
    /// The same, where output went out as it was written (to stdout, a device, a FIFO):
    /// `written` says what went where, to be discarded.
    #[error(
        "stopped by signal {signal} before finishing; no output file was replaced, but {written}"
    )]
    InterruptedWritten { signal: i32, written: String },
    /// The reader of our stdout went away (`| head`): stop quietly, successfully.
    #[error("broken pipe")]
    BrokenPipe,
}

/// An I/O error as people read it: the system's words without ` (os error 2)`, which means
/// nothing in a cron mail.
pub fn plain(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

impl Error {
    /// A signal stopped the run after rows went to `to` (stdout, a device, a FIFO) as they
    /// were scored.
    pub fn interrupted_after_rows(signal: i32, to: &str) -> Error {
        Error::InterruptedWritten {
            signal,
            written: format!("rows went to {to} as they were scored: discard them"),
        }
    }

    pub fn exit(&self) -> Exit {
        match self {
            Error::Usage(_) => Exit::Usage,
            Error::Rules(_) | Error::Config(_) => Exit::Config,
            Error::Data(_) => Exit::Data,
            Error::NoInput { .. } => Exit::NoInput,
            Error::CantCreate { .. } => Exit::CantCreate,
            Error::Io { .. } => Exit::Io,
            Error::Locked(_) => Exit::Locked,
            Error::Internal(_) => Exit::Internal,
            Error::BrokenPipe => Exit::Success,
            // 128 + the signal, as shells report it; only reached through `code`.
            Error::Interrupted(_) | Error::InterruptedWritten { .. } => Exit::Internal,
        }
    }

    /// The process exit code: `exit()`, or 128 + the signal for an interrupted run.
    pub fn code(&self) -> u8 {
        match self {
            Error::Interrupted(sig) | Error::InterruptedWritten { signal: sig, .. } => {
                u8::try_from(128 + sig).unwrap_or(128)
            }
            other => other.exit() as u8,
        }
    }

    /// An I/O failure while writing or reading `path`. A pipe whose reader has gone (stdout
    /// into `| head`, or a FIFO named as an output) is not an error: it ends the run, exit 0.
    pub fn io(what: impl Into<String>, source: io::Error) -> Error {
        if source.kind() == io::ErrorKind::BrokenPipe {
            Error::BrokenPipe
        } else {
            Error::Io {
                what: what.into(),
                source,
            }
        }
    }

    pub fn writing(path: &Path, source: io::Error) -> Error {
        Error::io(format!("cannot write {}", path.display()), source)
    }

    /// The text for stderr: every line starts with `leadsort:`.
    pub fn render(&self, color: bool) -> String {
        match self {
            Error::Rules(e) => e.render(color),
            Error::BrokenPipe => String::new(),
            other => {
                let mut out = String::new();
                for (i, line) in other.to_string().lines().enumerate() {
                    if i == 0 {
                        out.push_str("leadsort: error: ");
                    } else {
                        out.push_str("leadsort:   ");
                    }
                    out.push_str(&crate::ui::printable(line));
                    out.push('\n');
                }
                out
            }
        }
    }
}

thread_local! {
    /// Whether this thread is inside `catch_library_panic`.
    static IN_LIBRARY: Cell<bool> = const { Cell::new(false) };
}

/// Run `f`, a call into a library that panics on a fault of its input or of the machine
/// rather than returning an error (calamine on some damaged `.xls` files, rust_xlsxwriter
/// when its temporary files cannot be written). Such a panic is no bug of leadsort: it comes
/// back as `Err` with the panic's message, and the process's panic hook says nothing of it
/// (see `library_panicking`). Only this thread's panics are caught; a worker's elsewhere is
/// still a bug.
pub fn catch_library_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let before = IN_LIBRARY.replace(true);
    let caught = std::panic::catch_unwind(AssertUnwindSafe(f));
    IN_LIBRARY.set(before);
    caught.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default()
    })
}

/// Whether the panic being reported happens inside `catch_library_panic`, which turns it
/// into an error: the panic hook stays quiet then.
pub fn library_panicking() -> bool {
    IN_LIBRARY.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        let e = || io::Error::other("x");
        let cases = [
            (Error::Usage("u".into()), 2),
            (Error::Data("d".into()), 65),
            (
                Error::NoInput {
                    path: "a".into(),
                    source: e(),
                },
                66,
            ),
            (Error::Internal("i".into()), 70),
            (
                Error::CantCreate {
                    path: "a".into(),
                    source: e(),
                },
                73,
            ),
            (
                Error::Io {
                    what: "w".into(),
                    source: e(),
                },
                74,
            ),
            (Error::Locked("l".into()), 75),
            (Error::Config("c".into()), 78),
            (Error::BrokenPipe, 0),
        ];
        for (err, code) in cases {
            assert_eq!(err.exit() as i32, code, "{err:?}");
        }
    }

    #[test]
    fn broken_pipe_is_quiet_success() {
        let err = Error::io("stdout", io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(matches!(err, Error::BrokenPipe));
        assert_eq!(err.render(false), "");
    }

    #[test]
    fn every_line_is_prefixed() {
        let text = Error::Data("first\nsecond".into()).render(false);
        assert_eq!(text, "leadsort: error: first\nleadsort:   second\n");
    }

    #[test]
    fn a_library_panic_comes_back_with_its_message_and_the_flag_is_put_back() {
        assert!(!library_panicking());
        let inside = catch_library_panic(library_panicking);
        assert_eq!(inside, Ok(true));
        assert!(!library_panicking());
        let code = 28;
        let caught = catch_library_panic(|| -> u8 {
            assert!(library_panicking());
            panic!("Couldn't write to xml file: {code}")
        });
        assert_eq!(caught, Err("Couldn't write to xml file: 28".to_string()));
        assert_eq!(
            catch_library_panic(|| -> u8 { panic!("static") }),
            Err("static".to_string())
        );
        assert!(!library_panicking());
    }
}
