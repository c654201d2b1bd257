//! Running a rules file's own `[[test]]`s: each test's contact goes through the engine
//! exactly as a CSV row would, and its outcome is compared with what the test expects.

use jiff::civil::Date;

use crate::engine::{Binding, Engine, Explanation, bind};
use crate::rules::{Diagnostic, RuleTest, Rules, did_you_mean};

/// A test and how it went.
#[derive(Debug, Clone)]
pub struct TestRun {
    /// Index into `Rules::tests`.
    pub test: usize,
    /// Empty when the test passed.
    pub mismatches: Vec<Mismatch>,
    pub explanation: Explanation,
    /// The names of the synthetic row's columns (the fields the rules read), for showing
    /// the explanation.
    pub columns: Vec<String>,
}

impl TestRun {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// `tier`, `queue`, `score` or `rules`.
    pub what: &'static str,
    pub expected: String,
    pub actual: String,
}

/// Run every test. A contact naming a field no rule reads is an error (a typo would make the
/// test meaningless), reported at the name.
pub fn run_tests(rules: &Rules, default_as_of: Date) -> Result<Vec<TestRun>, Vec<Diagnostic>> {
    // Every field the rules read gets a column of its own in a synthetic row.
    let mut fields: Vec<String> = Vec::new();
    for r in rules.field_refs() {
        if !fields.contains(&r.name) {
            fields.push(r.name.clone());
        }
    }
    let bindings: Vec<Binding> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| Binding {
            field: f.clone(),
            column: Some(i),
        })
        .collect();
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    for test in &rules.tests {
        let mut row = vec![String::new(); fields.len()];
        for (key, value, span) in &test.contact {
            match field_for(rules, &fields, key) {
                Some(i) => row[i] = value.clone(),
                None => errors.push(unknown_key(&fields, test, key, span.clone())),
            }
        }
        rows.push(row);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut runs = Vec::new();
    let mut engines: Vec<(Date, Engine)> = Vec::new();
    for (i, (test, row)) in rules.tests.iter().zip(&rows).enumerate() {
        let as_of = test.as_of.unwrap_or(default_as_of);
        if !engines.iter().any(|(d, _)| *d == as_of) {
            engines.push((as_of, Engine::compile_bound(rules, bindings.clone(), as_of)));
        }
        let Some((_, engine)) = engines.iter().find(|(d, _)| *d == as_of) else {
            continue;
        };
        let explanation = engine.explain(rules, row);
        runs.push(TestRun {
            test: i,
            mismatches: compare(rules, test, engine, row, &explanation),
            explanation,
            columns: fields.clone(),
        });
    }
    Ok(runs)
}

/// The synthetic column for a contact key: a field the rules read, by its name, or by one of
/// the headers a `[fields]` entry lists (so `"Job Title" = ...` works too).
fn field_for(rules: &Rules, fields: &[String], key: &str) -> Option<usize> {
    if let Some(i) = fields.iter().position(|f| f == key) {
        return Some(i);
    }
    let header = bind::Header::new(vec![key.to_string()]);
    fields
        .iter()
        .position(|f| bind::resolve_field(rules, &header, f) == Ok(Some(0)))
}

fn unknown_key(
    fields: &[String],
    test: &RuleTest,
    key: &str,
    span: crate::rules::Span,
) -> Diagnostic {
    let d = Diagnostic::error(
        span,
        format!(
            "test \"{}\" sets `{key}`, which no rule or route reads",
            test.name
        ),
    )
    .label("unknown field");
    match did_you_mean(key, fields.iter().map(String::as_str)) {
        Some(m) => d.help(format!("did you mean `{m}`?")),
        None => {
            let names: Vec<&str> = fields.iter().map(String::as_str).collect();
            let known = if names.is_empty() {
                "none".to_string()
            } else {
                crate::cmd::quoted(&names)
            };
            d.help(format!("the fields the rules read are {known}"))
        }
    }
}

fn compare(
    rules: &Rules,
    test: &RuleTest,
    engine: &Engine,
    row: &Vec<String>,
    e: &Explanation,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let expect = &test.expect;
    let outcome = &e.outcome;
    if let Some(tier) = expect.tier
        && tier != outcome.tier()
    {
        out.push(Mismatch {
            what: "tier",
            expected: tier.as_str().to_string(),
            actual: outcome.tier().as_str().to_string(),
        });
    }
    let queue = engine.queue_name(outcome);
    if let Some(q) = &expect.queue
        && q != queue
    {
        out.push(Mismatch {
            what: "queue",
            expected: q.clone(),
            actual: queue.to_string(),
        });
    }
    if let Some(score) = expect.score
        && score != outcome.score
    {
        out.push(Mismatch {
            what: "score",
            expected: score.to_string(),
            actual: outcome.score.to_string(),
        });
    }
    if let Some(expected) = &expect.rules {
        let mut want: Vec<&str> = expected.iter().map(String::as_str).collect();
        let mut got: Vec<&str> = outcome
            .hits
            .iter()
            .map(|h| rules.rules[h.rule].name.as_str())
            .collect();
        want.sort_unstable();
        got.sort_unstable();
        if want != got {
            let list = |v: &[&str]| {
                if v.is_empty() {
                    "none".to_string()
                } else {
                    v.join(", ")
                }
            };
            out.push(Mismatch {
                what: "rules",
                expected: list(&want),
                actual: list(&got),
            });
        }
    }
    if let Some((want, _)) = &expect.owner {
        let got = owner_of(rules, engine, row, outcome);
        if !owner_matches(rules, want, &got) {
            out.push(Mismatch {
                what: "owner",
                expected: want.clone(),
                actual: got,
            });
        }
    }
    out
}

/// Whether a test's `expect.owner` holds: the rep's name ignoring case (as owner cells are
/// matched), or `none` for any contact that gets no rep (unless a rep is named so), or the
/// whole text, `none (queue marketing)`.
fn owner_matches(rules: &Rules, want: &str, got: &str) -> bool {
    use crate::balance::{means_no_rep, rep_named, same_name};
    let no_rep = |name: &str| means_no_rep(name) && rep_named(rules, name).is_none();
    let any_none = want.eq_ignore_ascii_case("none") && no_rep(want) && no_rep(got);
    any_none || same_name(want, got)
}

/// The rep the balance gives a contact alone in the run (its territory, its owner column,
/// the reps' capacities and weights), or `none (...)` with why it gets none.
fn owner_of(
    rules: &Rules,
    engine: &Engine,
    row: &Vec<String>,
    outcome: &crate::engine::Outcome,
) -> String {
    use crate::balance::{Candidate, Decision, Plan, decide};
    let queue = engine.queue_name(outcome);
    if queue != rules.sales_queue() {
        return format!("none (queue {queue})");
    }
    let mut scratch = engine.scratch();
    let candidate = Candidate::of(rules, engine, row, (1, outcome.score), &mut scratch);
    let (decisions, _) = decide(&Plan::new(rules), &[candidate]);
    match decisions.first() {
        Some(Decision::Sales { rep: Some(r) }) => rules.reps[*r].name.clone(),
        Some(Decision::Waits(why)) => format!("none ({})", why.text()),
        _ => "none".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const RULES: &str = r#"version = 1
[fields]
title = ["Job Title", "title"]
seen = { column = "Last Seen", type = "date" }
[tiers]
warm = 30
[[rule]]
name = "Decision maker"
when = { field = "title", contains = "director" }
points = 20
[[rule]]
name = "Recent"
when = { field = "seen", within_days = 30 }
points = 15
[[rule]]
name = "Unsubscribed"
when = { field = "unsubscribed", is = true }
disqualify = true

[[test]]
name = "A recent director is warm"
contact = { title = "Art Director", seen = 2026-11-20 }
as_of = 2026-11-27
expect = { tier = "warm", queue = "sales", score = 35, rules = ["Recent", "Decision maker"] }

[[test]]
name = "Headers work as keys too"
contact = { "Job Title" = "Director", unsubscribed = "yes" }
expect = { tier = "disqualified", queue = "suppressed" }

[[test]]
name = "This one is wrong"
contact = { title = "Intern", seen = "2020-01-01" }
expect = { tier = "warm", score = 0, rules = ["Recent"] }
"#;

    fn rules(text: &str) -> Rules {
        crate::rules::from_str(Path::new("t.toml"), text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn today() -> Date {
        Date::new(2026, 11, 27).unwrap()
    }

    #[test]
    fn passing_and_failing_tests() {
        let r = rules(RULES);
        let runs = run_tests(&r, today()).unwrap();
        assert_eq!(
            runs.iter().map(TestRun::passed).collect::<Vec<_>>(),
            [true, true, false]
        );
        assert_eq!(
            runs[2].mismatches,
            [
                Mismatch {
                    what: "tier",
                    expected: "warm".into(),
                    actual: "cold".into()
                },
                Mismatch {
                    what: "rules",
                    expected: "Recent".into(),
                    actual: "none".into()
                },
            ]
        );
    }

    #[test]
    fn the_test_as_of_date_is_used() {
        // Without its own as_of, "Recent" depends on the run's date.
        let text = RULES.replace("as_of = 2026-11-27\n", "");
        let r = rules(&text);
        assert!(run_tests(&r, today()).unwrap()[0].passed());
        assert!(!run_tests(&r, Date::new(2027, 6, 1).unwrap()).unwrap()[0].passed());
    }

    #[test]
    fn a_contact_key_no_rule_reads_is_an_error_with_a_suggestion() {
        let text = RULES.replace(
            "contact = { title = \"Intern\"",
            "contact = { titel = \"Intern\"",
        );
        let r = rules(&text);
        let errs = run_tests(&r, today()).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs[0].message,
            "test \"This one is wrong\" sets `titel`, which no rule or route reads"
        );
        assert_eq!(errs[0].help.as_deref(), Some("did you mean `title`?"));
        assert_eq!(r.source.line_col(errs[0].span.start), (33, 13));
    }
}
