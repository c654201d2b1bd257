// The body of the `rules` fuzz target, shared with the regression tests
// (tests/integration/fuzz_regressions.rs): both `include!` this file.
//
// Arbitrary text is loaded as rules.toml the way `classify` (strict) and `check` (lenient)
// load it. Every diagnostic is rendered against its source; rules that load are linted, their
// [[test]]s run, and they are compiled against a header of the columns they name and used to
// score and explain a few rows cut from the input itself. A panic anywhere is a bug.

use std::path::Path;

use leadsort::engine::{Engine, Header, Outcome};
use leadsort::rules::{Diagnostic, Rules, Severity, Source};

/// Run one fuzz input through the rules loader and everything that reads rules.
pub fn rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.toml");
    let strict = leadsort::rules::from_str(path, text);
    let (lenient, found) = leadsort::rules::from_str_lenient(path, text);
    render_all(&found.source, &found.diagnostics);
    let has_errors = found.errors().next().is_some();
    match &strict {
        Ok(rules) => {
            assert!(
                !has_errors,
                "strict loading accepted what lenient loading rejects"
            );
            assert!(
                lenient.is_some(),
                "strict loading accepted what lenient could not read"
            );
            use_rules(rules, true);
        }
        Err(e) => {
            assert!(
                has_errors || lenient.is_none(),
                "strict loading failed without an error"
            );
            assert!(
                e.errors().next().is_some(),
                "a rules error without an error in it"
            );
            assert!(!e.render(false).is_empty());
            assert!(!e.to_string().is_empty());
        }
    }
    // `check` lints whatever part of a broken file is valid.
    if let (Some(rules), true) = (&lenient, has_errors) {
        use_rules(rules, false);
    }
}

/// Everything leadsort does with rules once they load.
fn use_rules(rules: &Rules, complete: bool) {
    render_all(&rules.source, &leadsort::rules::lint(rules, complete));
    let as_of = jiff::civil::date(2026, 11, 27);
    match leadsort::selftest::run_tests(rules, as_of) {
        Ok(runs) => assert_eq!(runs.len(), rules.tests.len(), "one run per [[test]]"),
        Err(diagnostics) => render_all(&rules.source, &diagnostics),
    }
    let _ = rules.queue_names();

    // A header with a column for every field the rules read, under the first header name
    // each field lists.
    let mut names: Vec<String> = Vec::new();
    for r in rules.field_refs() {
        let name = match rules.field(&r.name) {
            Some(f) => f.columns.first().cloned().unwrap_or_else(|| r.name.clone()),
            None => r.name.clone(),
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if let Some(id) = &rules.input.id {
        let _ = leadsort::engine::bind::resolve_field(rules, &Header::new(names.clone()), &id.name);
    }
    let header = Header::new(names);
    let engine = match Engine::compile(rules, &header, as_of) {
        Ok(engine) => engine,
        Err(unbound) => {
            // Two fields whose first headers differ only in case or spacing can make a
            // header ambiguous; the CLI reports it. Score by position anyway.
            let message = leadsort::cmd::unbound_error(rules, &header, "fuzz.csv", &unbound);
            assert!(!message.to_string().is_empty());
            let bindings = header_fields(rules)
                .into_iter()
                .enumerate()
                .map(|(i, field)| leadsort::engine::Binding {
                    field,
                    column: Some(i),
                })
                .collect();
            Engine::compile_bound(rules, bindings, as_of)
        }
    };
    assert_eq!(engine.queues.len(), rules.queue_names().len());

    // Rows cut from the rules text: words, numbers, dates and odd bytes the rules mention.
    let fragments: Vec<&str> = rules
        .source
        .text
        .split(['"', '\'', '\n', ',', '=', '[', ']', '{', '}'])
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    let width = header.len();
    let rows: Vec<Vec<String>> = vec![
        vec![String::new(); width],
        (0..width).map(|i| fragment(&fragments, i)).collect(),
        (0..width)
            .map(|i| fragment(&fragments, i * 7 + 3))
            .collect(),
        (0..width)
            .map(|i| fragment(&fragments, fragments.len().saturating_sub(i + 1)))
            .collect(),
    ];
    let mut scratch = engine.scratch();
    let mut outcome = Outcome::default();
    let mut reasons = String::new();
    for row in &rows {
        engine.evaluate(row, &mut scratch, &mut outcome);
        engine.write_reasons(&outcome, &mut reasons);
        assert_eq!(outcome.groups.len(), rules.groups.len());
        assert_eq!(
            outcome.disqualified,
            outcome.tier() == leadsort::rules::Tier::Disqualified,
            "disqualified exactly when the tier says so"
        );
        let _ = engine.queue_name(&outcome);
        let explanation = engine.explain(rules, row);
        // A fresh scratch and a reused one must agree (NaN-safe: compare as text).
        assert_eq!(
            format!("{:?}", explanation.outcome),
            format!("{outcome:?}"),
            "explain and evaluate disagree"
        );
        assert_eq!(explanation.rules.len(), rules.rules.len());
        let _ = leadsort::cmd::explain::render_text(rules, &explanation, &header.names, None);
        let _ = leadsort::cmd::explain::to_json(rules, &explanation, &header.names).to_string();
    }
}

/// The fields the rules read, in the order `bind` binds them.
fn header_fields(rules: &Rules) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    for r in rules.field_refs() {
        if !fields.contains(&r.name) {
            fields.push(r.name.clone());
        }
    }
    fields
}

fn fragment(fragments: &[&str], i: usize) -> String {
    match fragments.len() {
        0 => String::new(),
        n => fragments[i % n].to_string(),
    }
}

/// Render each diagnostic (plain and coloured) and its position: spans must fall inside the
/// text on character boundaries, or rendering panics.
fn render_all(source: &Source, diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        let plain = d.render(source, false);
        assert!(!plain.is_empty());
        let _ = d.render(source, true);
        let _ = source.position(&d.span);
        if d.severity == Severity::Error {
            assert!(!d.message.is_empty());
        }
    }
}
