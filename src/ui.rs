//! What a run tells the person (or cron) watching stderr.
//!
//! stdout carries data only. stderr carries diagnostics, each line prefixed `leadsort:`.
//! Warnings print unless `-q` (but for rows left out, an input with no contacts, and files
//! changed beyond the outputs); the run summary prints only on a terminal or with `-v`, so a
//! cron job stays quiet unless something is wrong.

use std::io::{IsTerminal, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

#[derive(Debug, Clone)]
pub struct Ui {
    pub verbosity: Verbosity,
    pub stderr_is_terminal: bool,
    pub color: bool,
}

impl Ui {
    pub fn new(quiet: bool, verbose: bool) -> Ui {
        let stderr_is_terminal = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Ui {
            verbosity: if quiet {
                Verbosity::Quiet
            } else if verbose {
                Verbosity::Verbose
            } else {
                Verbosity::Normal
            },
            stderr_is_terminal,
            color: stderr_is_terminal && !no_color,
        }
    }

    /// Something the user should know; the run goes on.
    pub fn warn(&self, message: &str) {
        if self.verbosity != Verbosity::Quiet {
            emit("warning: ", message);
        }
    }

    /// A warning that `-q` does not silence: rows left out of the outputs are always counted
    /// (nothing is dropped without a word).
    pub fn warn_even_quiet(&self, message: &str) {
        emit("warning: ", message);
    }

    /// What the run did to files beyond its outputs (one removed): not a warning, and said
    /// even with `-q`, since a file should never go without a word.
    pub fn note(&self, message: &str) {
        emit("", message);
    }

    /// Detail for `-v`.
    pub fn info(&self, message: &str) {
        if self.verbosity == Verbosity::Verbose {
            emit("", message);
        }
    }

    /// Whether the end-of-run summary should be printed.
    pub fn show_summary(&self) -> bool {
        match self.verbosity {
            Verbosity::Quiet => false,
            Verbosity::Normal => self.stderr_is_terminal,
            Verbosity::Verbose => true,
        }
    }

    /// Print a block of lines (already without prefixes) to stderr, each prefixed.
    pub fn block(&self, text: &str) {
        for line in text.lines() {
            emit("", line);
        }
    }
}

/// A warning from deep in a run, where no `Ui` is at hand, that `-q` must not silence (output
/// files put back as they were).
pub fn warn_now(message: &str) {
    emit("warning: ", message);
}

/// Write to stderr as it is. A stderr that cannot be written (closed, `2>/dev/full`, a pipe
/// whose reader left) loses the text but not the exit code: `eprint!` would panic.
pub fn to_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

fn emit(kind: &str, message: &str) {
    let mut err = std::io::stderr().lock();
    for (i, line) in message.lines().enumerate() {
        let line = printable(line);
        let _ = if i == 0 {
            writeln!(err, "leadsort: {kind}{line}")
        } else {
            writeln!(err, "leadsort:   {line}")
        };
    }
}

/// The text with its control characters escaped (`\u{1b}`), tabs kept: a header name read
/// from a file may hold an escape sequence, which a terminal would run (clear the screen,
/// rewrite the line above) and a carriage return, which hides what came before it.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let control = |c: char| c.is_control() && c != '\t';
    if !text.contains(control) {
        return text.into();
    }
    text.chars()
        .flat_map(|c| {
            let escaped = control(c).then(|| c.escape_unicode());
            escaped
                .into_iter()
                .flatten()
                .chain((!control(c)).then_some(c))
        })
        .collect::<String>()
        .into()
}

/// `1 row`, `3 rows`: a count and a word that takes an `s` in the plural.
pub fn plural<N: std::fmt::Display + PartialEq + From<u8>>(n: N, word: &str) -> String {
    let s = if n == N::from(1) { "" } else { "s" };
    format!("{n} {word}{s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_tabs_kept() {
        assert_eq!(printable("plain\ttext é"), "plain\ttext é");
        assert_eq!(printable("a\u{1b}[2Jb\rc"), "a\\u{1b}[2Jb\\u{d}c");
    }

    #[test]
    fn one_takes_no_s() {
        assert_eq!(super::plural(1usize, "row"), "1 row");
        assert_eq!(super::plural(0u64, "row"), "0 rows");
        assert_eq!(super::plural(2u64, "rejected row"), "2 rejected rows");
    }
}
