//! Problems found in a rules file, each pointing at a place in it, and their rendering
//! (the source line with a caret, the way compilers show errors).

use std::fmt;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::model::{Source, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    /// Worth knowing, not a problem (`check` shows it; `--deny-warnings` ignores it).
    Note,
}

/// One problem in a rules file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub span: Span,
    /// Short text under the caret.
    pub label: String,
    /// A suggestion, e.g. "did you mean `points`?".
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            label: String::new(),
            help: None,
        }
    }

    pub fn warning(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(span, message)
        }
    }

    pub fn note(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Note,
            ..Diagnostic::error(span, message)
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn maybe_help(self, help: Option<String>) -> Diagnostic {
        match help {
            Some(h) => self.help(h),
            None => self,
        }
    }

    /// Render with the source line and a caret. `color` adds terminal colours.
    pub fn render(&self, source: &Source, color: bool) -> String {
        let path = source.path.display().to_string();
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
            Severity::Note => Level::NOTE,
        };
        // A span past the end (e.g. "missing key" at the end of the file) is clamped.
        let end = self.span.end.min(source.text.len());
        let start = self.span.start.min(end);
        // Only the lines shown: the whole file would be read again for every message.
        let (line, lines) = source.lines_around(start, end);
        let mut annotation = AnnotationKind::Primary.span(start - lines.start..end - lines.start);
        if !self.label.is_empty() {
            annotation = annotation.label(self.label.as_str());
        }
        let mut report: Vec<Group<'_>> = vec![
            level.primary_title(self.message.as_str()).element(
                Snippet::source(&source.text[lines])
                    .line_start(line)
                    .path(path)
                    .annotation(annotation),
            ),
        ];
        if let Some(help) = &self.help {
            report.push(Group::with_title(
                Level::HELP.secondary_title(help.as_str()),
            ));
        }
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        renderer.render(&report)
    }
}

/// A rules file that could not be used: every error found, in file order.
#[derive(Debug, Clone)]
pub struct RulesError {
    pub source: Source,
    pub diagnostics: Vec<Diagnostic>,
}

impl RulesError {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    /// Every diagnostic rendered, each prefixed with the program name.
    pub fn render(&self, color: bool) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str("leadsort: ");
            out.push_str(&d.render(&self.source, color));
            out.push('\n');
        }
        let n = self.errors().count();
        if n > 1 {
            out.push_str(&format!(
                "leadsort: {} has {n} errors\n",
                self.source.path.display()
            ));
        }
        out
    }
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line per error, for contexts that cannot show snippets.
        for (i, d) in self.errors().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {}", self.source.position(&d.span), d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for RulesError {}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|&(d, c)| d <= (c.chars().count().max(3) / 3).max(1) + usize::from(d == 0))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let keys = [
            "name",
            "points",
            "points_per",
            "group",
            "when",
            "disqualify",
        ];
        assert_eq!(did_you_mean("pionts", keys), Some("points"));
        assert_eq!(did_you_mean("grop", keys), Some("group"));
        assert_eq!(did_you_mean("Points", keys), Some("points"));
        assert_eq!(did_you_mean("colour", keys), None);
    }

    #[test]
    fn renders_line_column_and_caret() {
        let source = Source::new("rules.toml".into(), "version = 1\npionts = 20\n".into());
        let d = Diagnostic::error(12..18, "unknown key `pionts`")
            .label("not a rules.toml key")
            .help("did you mean `points`?");
        let text = d.render(&source, false);
        assert!(text.contains("rules.toml:2:1"), "{text}");
        assert!(text.contains("pionts = 20"), "{text}");
        assert!(text.contains("^^^^^^"), "{text}");
        assert!(text.contains("did you mean `points`?"), "{text}");
    }

    #[test]
    fn a_span_over_lines_shows_those_lines_with_their_numbers() {
        let text = "version = 1\n[[rule]]\nwhen = { any = [\n\n] }\npoints = 1\n";
        let source = Source::new("rules.toml".into(), text.into());
        let start = text.find("[\n").unwrap();
        let end = text.find(" }").unwrap();
        let d = Diagnostic::error(start..end, "`any` needs at least one condition");
        let shown = d.render(&source, false);
        assert_eq!(
            shown,
            "error: `any` needs at least one condition\n \
             --> rules.toml:3:16\n  \
             |\n\
             3 |   when = { any = [\n  \
             |  ________________^\n\
             4 | |\n\
             5 | | ] }\n  \
             | |_^"
        );
    }
}
