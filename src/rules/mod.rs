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
pub use parse::OPERATORS;

/// Parse and validate rules from text. `path` is only used in messages.
pub fn from_str(path: &Path, text: &str) -> Result<Rules, RulesError> {
    parse::parse(source(path, text)).map_err(|(source, diagnostics)| RulesError {
        source,
        diagnostics,
    })
}

/// A rules file's bytes as text, or the error (exit 78) that points at the first byte that
/// is not UTF-8: TOML files are UTF-8, and an editor may have saved one as Latin-1.
pub fn text_of(path: &Path, bytes: Vec<u8>) -> Result<String, RulesError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        // Shown with the bad bytes replaced: the part before them is the same text.
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        let span = at..at + char::REPLACEMENT_CHARACTER.len_utf8();
        RulesError {
            source: source(path, &text),
            diagnostics: vec![
                Diagnostic::error(span, "the rules file is not UTF-8 text")
                    .label("this byte is not UTF-8")
                    .help(
                        "save the file as UTF-8 (in most editors: Save As, encoding UTF-8); \
                         it may have been saved as Latin-1 or Windows-1252",
                    ),
            ],
        }
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
    Source {
        path: path.to_path_buf(),
        text: text.to_string(),
    }
}

#[cfg(test)]
mod tests;
