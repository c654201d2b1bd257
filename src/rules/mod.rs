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

fn source(path: &Path, text: &str) -> Source {
    Source {
        path: path.to_path_buf(),
        text: text.to_string(),
    }
}

#[cfg(test)]
mod tests;
