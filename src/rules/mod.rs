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
    let source = Source {
        path: path.to_path_buf(),
        text: text.to_string(),
    };
    parse::parse(source)
        .map(|(rules, _warnings)| rules)
        .map_err(|(source, diagnostics)| RulesError {
            source,
            diagnostics,
        })
}

#[cfg(test)]
mod tests;
