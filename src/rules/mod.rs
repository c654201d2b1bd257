//! The rules format: `rules.toml` parsed with spans, validated into a plain-data model.
//!
//! `load` is the one entry point; `model` is what every other part of leadsort reads.

pub mod diag;
mod display;
mod lint;
mod model;
mod parse;

use std::path::Path;

pub use diag::{Diagnostic, RulesError, Severity, did_you_mean};
pub use lint::lint;
pub use model::*;
pub use parse::{OPERATORS, is_queue_name};

/// Parse and validate rules from text. `path` is only used in messages.
pub fn from_str(path: &Path, text: &str) -> Result<Rules, RulesError> {
    parse::parse(source(path, text)).map_err(|(source, diagnostics)| RulesError {
        source,
        diagnostics,
    })
}

/// A rules file's bytes as text, or the error (exit 78) that gives the line and column of the
/// first byte that is not UTF-8: TOML files are UTF-8, and an editor may have saved one as
/// Latin-1 or UTF-16. The line itself is not shown: a file that is not UTF-8 may well be a
/// contacts export given as the rules by mistake, and messages never show contact data.
pub fn text_of(path: &Path, bytes: Vec<u8>) -> Result<String, crate::error::Error> {
    let text = utf8_text_of(path, bytes)?;
    // TOML's first line of substance is `key = value` or a `[section]`. One that is neither
    // may be a CSV line (the contacts given as the rules, a `?utm_source=` in a cell
    // included): not shown, as a TOML error would show it.
    // A byte order mark (Notepad's) is not part of the first line; the TOML parser takes it.
    let first = (text.trim_start_matches('\u{feff}').lines().enumerate())
        .map(|(i, l)| (i + 1, l.trim()))
        .find(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    if let Some((line, l)) = first
        && !l.starts_with('[')
        && !l.split_once('=').is_some_and(|(key, _)| toml_key(key))
    {
        return Err(crate::error::Error::Config(format!(
            "{}:{line}: this is not a rules file: its first line is neither `name = value` nor \
             a `[section]` (not shown: it may be a CSV line, and contact data); is it the \
             contacts file? Give the rules file with --rules",
            path.display()
        )));
    }
    Ok(text)
}

/// Whether `key` (the text before a line's first `=`) is a TOML key: parts joined by dots,
/// each a bare word of letters, digits, `_` and `-`, or a quoted string (`"a b"`, `'c'`).
fn toml_key(key: &str) -> bool {
    let mut rest = key.trim();
    loop {
        let part_end = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => {
                // To the closing quote (a basic string may escape one with a backslash).
                let mut escaped = false;
                let close = rest[1..].char_indices().find(|&(_, c)| {
                    let ends = c == q && !escaped;
                    escaped = q == '"' && c == '\\' && !escaped;
                    ends
                });
                match close {
                    Some((i, _)) => i + 2,
                    None => return false,
                }
            }
            _ => rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(rest.len()),
        };
        if part_end == 0 {
            return false;
        }
        rest = rest[part_end..].trim_start();
        match rest.strip_prefix('.') {
            Some(after) => rest = after.trim_start(),
            None => return rest.is_empty(),
        }
    }
}

/// The bytes as UTF-8 text, or the error of `text_of`.
fn utf8_text_of(path: &Path, bytes: Vec<u8>) -> Result<String, crate::error::Error> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let line_start = bytes[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        // Everything before `at` is UTF-8: count its characters on the line.
        let column = 1 + String::from_utf8_lossy(&bytes[line_start..at])
            .chars()
            .count();
        let saved_as = if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
            "it was saved as UTF-16 (Notepad calls it \"Unicode\")"
        } else {
            "it may have been saved as Latin-1 or Windows-1252, or be another kind of file"
        };
        crate::error::Error::Config(format!(
            "{}:{line}:{column}: the rules file is not UTF-8 text: {saved_as}\n\
             save it as UTF-8 (in most editors: Save As, encoding UTF-8)",
            path.display()
        ))
    })
}

/// The valid part of the rules (if the file's skeleton holds) and every error: for `check`,
/// which reports all problems of a file in one run.
pub fn from_str_lenient(path: &Path, text: &str) -> (Option<Rules>, RulesError) {
    let source = source(path, text);
    let (rules, diagnostics) = parse::parse_lenient(source.clone());
    (
        rules,
        RulesError {
            source,
            diagnostics,
        },
    )
}

/// `s` as a TOML basic string on one line: quotes, backslashes and control characters are
/// escaped, so any header name is safe in a value and in a comment.
pub fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn source(path: &Path, text: &str) -> Source {
    Source::new(path.to_path_buf(), text.to_string())
}

#[cfg(test)]
mod key_tests {
    use super::toml_key;

    #[test]
    fn keys_are_told_from_csv_text() {
        for key in [
            "version",
            "a.b",
            " a . b ",
            "\"quoted key\"",
            "'lit'.x",
            "a-b_c",
            r#""a\"b""#,
        ] {
            assert!(toml_key(key), "{key}");
        }
        for key in [
            "1,\"Ann Lee\",ann@acme.com,https://acme.com/?utm_source",
            "a b",
            "",
            "\"open",
            "a.",
            "x,y",
        ] {
            assert!(!toml_key(key), "{key}");
        }
    }
}

#[cfg(test)]
mod tests;
