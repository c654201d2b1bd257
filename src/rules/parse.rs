//! rules.toml → the validated model, collecting every problem with its place in the file.
//!
//! The TOML is parsed into a tree that keeps a span for every key and value
//! (`toml::de::DeTable`), then walked by hand. Walking by hand, rather than deriving serde
//! structs, lets one run report all problems at once, each at the exact key or value, with a
//! did-you-mean drawn from the keys that were valid at that spot.

use std::collections::HashSet;

use jiff::civil::Date;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use super::diag::{Diagnostic, Severity, did_you_mean};
use super::model::*;

type Value<'i> = Spanned<DeValue<'i>>;

/// Parse and validate `source`: the rules if there is no error, else every error found.
pub fn parse(source: Source) -> Result<Rules, (Source, Vec<Diagnostic>)> {
    match parse_lenient(source.clone()) {
        (Some(rules), diagnostics)
            if !diagnostics.iter().any(|d| d.severity == Severity::Error) =>
        {
            Ok(rules)
        }
        (_, diagnostics) => Err((source, diagnostics)),
    }
}

/// Parse as much as can be parsed: the valid part of the rules (entries with errors left
/// out), if the file's skeleton (TOML syntax, `[tiers]`) holds, and every error, in file
/// order. `check` lints and binds the partial rules so one run reports everything.
pub fn parse_lenient(source: Source) -> (Option<Rules>, Vec<Diagnostic>) {
    let (rules, mut diagnostics) = {
        let text = source.text.as_str();
        match DeTable::parse(text) {
            Ok(doc) => {
                let mut cx = Walker::default();
                let rules = cx.document(doc.get_ref(), doc.span());
                (rules, cx.diagnostics)
            }
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let message = format!("invalid TOML: {}", e.message().trim_end());
                (None, vec![Diagnostic::error(span, message)])
            }
        }
    };
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    let rules = rules.map(|mut r| {
        r.source = source.clone();
        r
    });
    (rules, diagnostics)
}

/// A table being read: remembers which keys were asked for, so that whatever is left over
/// is an unknown key, with a suggestion from the keys that were valid here.
struct Table<'a, 'i> {
    entries: &'a DeTable<'i>,
    span: Span,
    /// Names the table in messages, e.g. `rule "Decision maker"`.
    what: String,
    asked: Vec<&'static str>,
}

impl<'a, 'i> Table<'a, 'i> {
    fn new(entries: &'a DeTable<'i>, span: Span, what: impl Into<String>) -> Self {
        Table {
            entries,
            span,
            what: what.into(),
            asked: Vec::new(),
        }
    }

    fn get(&mut self, key: &'static str) -> Option<&'a Value<'i>> {
        self.asked.push(key);
        self.entries
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| v)
    }

    /// Whether a key was given that has not been asked for (so far).
    fn has_unknown(&self) -> bool {
        self.entries
            .iter()
            .any(|(k, _)| !self.asked.contains(&k.get_ref().as_ref()))
    }

    fn has(&self, key: &str) -> bool {
        self.entries
            .iter()
            .any(|(k, _)| k.get_ref().as_ref() == key)
    }

    /// Report every key that was never asked for.
    fn finish(self, cx: &mut Walker) {
        for (key, _) in self.entries.iter() {
            let name = key.get_ref().as_ref();
            if self.asked.contains(&name) {
                continue;
            }
            let hint = did_you_mean(name, self.asked.iter().copied())
                .map(|s| format!("did you mean `{s}`?"))
                .or_else(|| {
                    (!self.asked.is_empty())
                        .then(|| format!("expected one of {}", list(&self.asked)))
                });
            cx.push(
                Diagnostic::error(key.span(), format!("unknown key `{name}` in {}", self.what))
                    .label("unknown key")
                    .maybe_help(hint),
            );
        }
    }
}

fn list(keys: &[&str]) -> String {
    let mut seen = Vec::new();
    for k in keys {
        if !seen.contains(k) {
            seen.push(k);
        }
    }
    seen.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every operator a condition accepts, in the order the docs list them.
pub const OPERATORS: [&str; 23] = [
    "equals",
    "not_equals",
    "in",
    "not_in",
    "contains",
    "contains_any",
    "starts_with",
    "ends_with",
    "matches",
    "domain_in",
    "is",
    "present",
    "missing",
    "gt",
    "at_least",
    "lt",
    "at_most",
    "between",
    "within_days",
    "older_than_days",
    "before",
    "after",
    "case_sensitive",
];

/// Reps are tracked in a 64-bit mask per contact.
pub const MAX_REPS: usize = 64;

const RESERVED_QUEUES: [&str; 2] = ["rejected", "summary"];

/// What a `[[test]]` may name: the rules' queues and rules.
struct TestContext {
    queues: Vec<String>,
    rules: Vec<String>,
    has_hot: bool,
}

#[derive(Default)]
struct Walker {
    diagnostics: Vec<Diagnostic>,
    /// Rule and route names as read (even from invalid entries), to find duplicates.
    names: Vec<(&'static str, String, Span)>,
    /// Queue names as written in [queues] and routes, to find names differing only in case.
    queue_spans: Vec<(String, Span)>,
}

impl Walker {
    fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    // ---- typed values -------------------------------------------------------------------

    fn type_error(&mut self, v: &Value, key: &str, expected: &str) {
        self.push(
            Diagnostic::error(
                v.span(),
                format!("`{key}` must be {expected}, not {}", describe(v.get_ref())),
            )
            .label(format!("expected {expected}")),
        );
    }

    fn string(&mut self, v: &Value, key: &str) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.type_error(v, key, "a string");
                None
            }
        }
    }

    fn nonempty_string(&mut self, v: &Value, key: &str) -> Option<String> {
        let s = self.string(v, key)?;
        if s.trim().is_empty() {
            self.push(
                Diagnostic::error(v.span(), format!("`{key}` must not be empty")).label("empty"),
            );
            return None;
        }
        Some(s)
    }

    fn boolean(&mut self, v: &Value, key: &str) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.type_error(v, key, "true or false");
                None
            }
        }
    }

    fn number(&mut self, v: &Value, key: &str) -> Option<f64> {
        let n = match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|i| i as f64),
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            _ => {
                self.type_error(v, key, "a number");
                return None;
            }
        };
        match n {
            Some(n) if n.is_finite() => Some(n),
            _ => {
                self.push(Diagnostic::error(
                    v.span(),
                    format!("`{key}` must be a finite number"),
                ));
                None
            }
        }
    }

    /// A rule's points (or points per unit, or their cap): at most a billion either way, so
    /// that the points of every rule add up exactly (a score is a sum of doubles) and the
    /// reasons add up to the score.
    fn points(&mut self, v: &Value, key: &str) -> Option<f64> {
        let n = self.number(v, key)?;
        if n.abs() > MAX_POINTS {
            self.push(
                Diagnostic::error(
                    v.span(),
                    format!("`{key}` must be between -1000000000 and 1000000000"),
                )
                .label("too large for a score"),
            );
            return None;
        }
        Some(n)
    }

    fn whole_days(&mut self, v: &Value, key: &str) -> Option<i64> {
        match v.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) if n >= 0 => Some(n),
                _ => {
                    self.push(
                        Diagnostic::error(v.span(), format!("`{key}` must be 0 or more days"))
                            .label("expected a number of days"),
                    );
                    None
                }
            },
            _ => {
                self.type_error(v, key, "a whole number of days");
                None
            }
        }
    }

    /// A TOML date (`2026-01-31`) or a string holding one.
    fn date(&mut self, v: &Value, key: &str) -> Option<Date> {
        let parsed = match v.get_ref() {
            DeValue::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt
                .date
                .and_then(|d| Date::new(d.year as i16, d.month as i8, d.day as i8).ok()),
            DeValue::String(s) => crate::engine::cell::parse_iso_date(s.trim()),
            _ => None,
        };
        if parsed.is_none() {
            // A string is allowed, so say what is wrong with this one: its form (a rule's
            // date is year-month-day, whatever `formats` the CSV's cells use) or its day.
            let (message, label) = match v.get_ref() {
                DeValue::String(_) => (
                    format!("`{key}` must be a date written year-month-day, like 2026-01-31"),
                    "not a date in that form",
                ),
                other => (
                    format!(
                        "`{key}` must be a date like 2026-01-31, not {}",
                        describe(other)
                    ),
                    "expected a date",
                ),
            };
            self.push(
                Diagnostic::error(v.span(), message)
                    .label(label)
                    .help("`formats` under [fields] is for the CSV's cells; dates in rules.toml are always year-month-day"),
            );
        }
        parsed
    }

    fn array<'a, 'i>(
        &mut self,
        v: &'a Value<'i>,
        key: &str,
        expected: &str,
    ) -> Option<&'a DeArray<'i>> {
        match v.get_ref() {
            DeValue::Array(a) => Some(a),
            _ => {
                self.type_error(v, key, expected);
                None
            }
        }
    }

    /// A list whose every item `item` can read; every bad item is reported.
    fn list<T>(
        &mut self,
        v: &Value,
        key: &str,
        expected: &str,
        item: impl Fn(&mut Self, &Value, &str) -> Option<T>,
    ) -> Option<Vec<T>> {
        let items = self.array(v, key, expected)?;
        let read: Vec<Option<T>> = items.iter().map(|i| item(self, i, key)).collect();
        read.into_iter().collect()
    }

    fn strings(&mut self, v: &Value, key: &str) -> Option<Vec<String>> {
        self.list(v, key, "a list of strings", Self::string)
    }

    /// A string or a list of strings, as in `column = "x"` or `column = ["x", "y"]`.
    fn one_or_more_strings(&mut self, v: &Value, key: &str) -> Option<Vec<String>> {
        let out = match v.get_ref() {
            DeValue::String(s) => vec![s.to_string()],
            DeValue::Array(_) => self.strings(v, key)?,
            _ => {
                self.type_error(v, key, "a string or a list of strings");
                return None;
            }
        };
        if out.is_empty() || out.iter().any(|s| s.trim().is_empty()) {
            self.push(Diagnostic::error(
                v.span(),
                format!("`{key}` needs at least one non-empty name"),
            ));
            return None;
        }
        Some(out)
    }

    fn table<'a, 'i>(
        &mut self,
        v: &'a Value<'i>,
        key: &str,
        what: impl Into<String>,
    ) -> Option<Table<'a, 'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(Table::new(t, v.span(), what)),
            _ => {
                self.type_error(v, key, "a table");
                None
            }
        }
    }

    fn scalar(&mut self, v: &Value, key: &str) -> Option<Scalar> {
        match v.get_ref() {
            DeValue::String(s) => Some(Scalar::Text(s.to_string())),
            DeValue::Integer(_) | DeValue::Float(_) => self.number(v, key).map(Scalar::Number),
            DeValue::Boolean(b) => Some(Scalar::Bool(*b)),
            DeValue::Datetime(_) => self.date(v, key).map(Scalar::Date),
            _ => {
                self.type_error(v, key, "a string, number, true/false or date");
                None
            }
        }
    }

    fn scalars(&mut self, v: &Value, key: &str) -> Option<Vec<Scalar>> {
        self.list(v, key, "a list", Self::scalar)
    }

    // ---- the document ------------------------------------------------------------------

    fn document(&mut self, doc: &DeTable, span: Span) -> Option<Rules> {
        let mut top = Table::new(doc, span, "the rules file");
        let end = doc_end(doc);
        match top.get("version") {
            None => self.push(
                Diagnostic::error(0..0, "missing `version = 1`")
                    .label("expected `version = 1` at the top of the file")
                    .help("add `version = 1` as the first line: it is the rules format version"),
            ),
            Some(v) => match v.get_ref() {
                DeValue::Integer(i) if i.as_str() == "1" => {}
                _ => self.push(
                    Diagnostic::error(v.span(), "unsupported rules format version")
                        .label("this leadsort reads version 1")
                        .help("set `version = 1`"),
                ),
            },
        }
        let fields = top.get("fields").map_or_else(Vec::new, |v| self.fields(v));
        let groups = top.get("groups").map_or_else(Vec::new, |v| self.groups(v));
        let tiers = match top.get("tiers") {
            Some(v) => self.tiers(v, &groups),
            None => {
                self.push(
                    Diagnostic::error(end..end, "missing `[tiers]` table")
                        .label("expected a [tiers] table")
                        .help("add `[tiers]` with `warm = 50` (the score from which a contact is warm)"),
                );
                None
            }
        };
        let queues = top
            .get("queues")
            .map_or_else(|| Some(TierQueues::default()), |v| self.queues(v));
        let rules = top.get("rule").map_or_else(Vec::new, |v| {
            self.array_of_tables(v, "rule", |cx, t| cx.rule(t, &groups))
        });
        // Without a readable [tiers], any tier a route names may be one.
        let has_hot = tiers.as_ref().is_none_or(|t| t.hot.is_some());
        let routes = top.get("route").map_or_else(Vec::new, |v| {
            self.array_of_tables(v, "route", |cx, t| cx.route(t, has_hot))
        });
        let input = top
            .get("input")
            .map_or_else(|| Some(InputSettings::default()), |v| self.input(v));
        let tests = match (&queues, &tiers) {
            (Some(q), Some(t)) => {
                let mut known: Vec<String> =
                    vec![q.warm.clone(), q.cold.clone(), q.disqualified.clone()];
                if t.hot.is_some() {
                    known.push(q.hot.clone());
                }
                known.extend(routes.iter().map(|r| r.queue.clone()));
                let names: Vec<String> = rules.iter().map(|r| r.name.clone()).collect();
                let cx = TestContext {
                    queues: known,
                    rules: names,
                    has_hot: t.hot.is_some(),
                };
                top.get("test").map_or_else(Vec::new, |v| {
                    self.array_of_tables(v, "test", |w, t| w.test(t, &cx))
                })
            }
            _ => Vec::new(),
        };
        let balance = top.get("balance").map(|v| self.balance(v));
        let before = self.diagnostics.len();
        let reps = top.get("rep").map_or_else(Vec::new, |v| {
            self.array_of_tables(v, "rep", |cx, t| cx.rep(t))
        });
        // A rep with an error is left out: tests naming it would fail twice over.
        let reps_whole = self.diagnostics[before..]
            .iter()
            .all(|d| d.severity != Severity::Error);
        if reps.len() > MAX_REPS {
            self.push(
                Diagnostic::error(
                    top.get("rep").map_or(0..0, |v| v.span()),
                    format!("{} reps: leadsort takes at most {MAX_REPS}", reps.len()),
                )
                .label("too many [[rep]] tables"),
            );
        }
        top.finish(self);
        if reps_whole {
            self.check_test_owners(&tests, &reps);
        }
        if let Some(q) = &queues {
            self.check_queue_case(q);
            self.check_overflow(q, balance.as_ref().and_then(Option::as_ref), &reps);
        }
        self.check_unique("rule");
        self.check_unique("route");
        self.check_unique("test");
        self.check_unique("rep");
        let decays = rules.iter().filter_map(|r| r.decay.as_ref());
        for d in decays.chain(groups.iter().filter_map(|g| g.decay.as_ref())) {
            if let Some(f) = fields.iter().find(|f| f.name == d.field.name)
                && f.kind != FieldKind::Date
            {
                self.push(
                    Diagnostic::error(
                        d.field.span.clone(),
                        format!("`decay` reads a date, but field `{}` is declared as {:?}", f.name, f.kind)
                    )
                    .label("not a date field")
                    .help("declare it with `type = \"date\"` in [fields], or decay from another field"),
                );
            }
        }
        Some(Rules {
            source: Source::new(Default::default(), String::new()),
            fields,
            groups,
            tiers: tiers?,
            queues: queues?,
            rules,
            routes,
            input: input?,
            balance: match balance {
                Some(b) => Some(b?),
                None => None,
            },
            reps,
            tests,
        })
    }

    // ---- [input] and [[test]] ----------------------------------------------------------

    fn input(&mut self, v: &Value) -> Option<InputSettings> {
        let mut t = self.table(v, "input", "[input]")?;
        let id = t.get("id").map(|i| self.field_ref(i));
        t.finish(self);
        Some(InputSettings {
            id: match id {
                Some(Some(f)) => Some(f),
                Some(None) => return None,
                None => None,
            },
        })
    }

    fn test(&mut self, mut t: Table, cx: &TestContext) -> Option<RuleTest> {
        let name = match t.get("name") {
            Some(v) => self.rule_name(v, "test"),
            None => {
                self.push(
                    Diagnostic::error(t.span.clone(), "test has no `name`")
                        .label("expected `name = \"...\"`"),
                );
                None
            }
        };
        if let Some(n) = &name {
            t.what = format!("test \"{n}\"");
        }
        let contact = match t.get("contact") {
            Some(c) => self.contact(c),
            None => {
                self.push(
                    Diagnostic::error(t.span.clone(), format!("{} has no `contact`", t.what))
                        .label("expected `contact = { field = \"value\", ... }`"),
                );
                None
            }
        };
        let as_of = match t.get("as_of") {
            Some(d) => self.date(d, "as_of").map(Some),
            None => Some(None),
        };
        let expect = match t.get("expect") {
            Some(e) => self.expect(e, cx),
            None => {
                self.push(
                    Diagnostic::error(t.span.clone(), format!("{} has no `expect`", t.what))
                        .label("expected `expect = { tier = \"warm\", ... }`"),
                );
                None
            }
        };
        let span = t.span.clone();
        t.finish(self);
        Some(RuleTest {
            name: name?,
            contact: contact?,
            as_of: as_of?,
            expect: expect?,
            span,
        })
    }

    /// `contact = { field = value, ... }`: values of any scalar type, kept as cell text.
    fn contact(&mut self, v: &Value) -> Option<Vec<(String, String, Span)>> {
        let DeValue::Table(entries) = v.get_ref() else {
            self.type_error(v, "contact", "a table of field values");
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (key, value) in entries.iter() {
            let text = match value.get_ref() {
                DeValue::String(s) => Some(s.to_string()),
                DeValue::Integer(i) => Some(i.as_str().to_string()),
                DeValue::Float(f) => Some(f.as_str().to_string()),
                DeValue::Boolean(b) => Some(b.to_string()),
                DeValue::Datetime(d) => Some(d.to_string()),
                _ => {
                    self.type_error(
                        value,
                        key.get_ref(),
                        "a cell value (text, number, true/false or date)",
                    );
                    None
                }
            };
            match text {
                Some(t) => out.push((
                    key.get_ref().to_string(),
                    t,
                    key.span().start..value.span().end,
                )),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn expect(&mut self, v: &Value, cx: &TestContext) -> Option<Expect> {
        let mut t = self.table(v, "expect", "`expect`")?;
        let mut ok = true;
        let tier = t.get("tier").and_then(|tv| {
            let name = self.string(tv, "tier")?;
            let tier = Tier::from_name(&name).filter(|t| *t != Tier::Hot || cx.has_hot);
            if tier.is_none() {
                let names: Vec<&str> = Tier::ALL
                    .iter()
                    .filter(|t| **t != Tier::Hot || cx.has_hot)
                    .map(|t| t.as_str())
                    .collect();
                self.push(
                    Diagnostic::error(tv.span(), format!("unknown tier `{name}`"))
                        .label("not a tier of these rules")
                        .help(match did_you_mean(&name, names.iter().copied()) {
                            Some(m) => format!("did you mean `{m}`?"),
                            None => format!("the tiers are {}", list(&names)),
                        }),
                );
            }
            tier
        });
        ok &= t.has("tier") == tier.is_some();
        let queue = t.get("queue").and_then(|qv| {
            let name = self.string(qv, "queue")?;
            if cx.queues.contains(&name) {
                return Some(name);
            }
            self.push(
                Diagnostic::error(qv.span(), format!("unknown queue `{name}`"))
                    .label("no tier or route sends contacts here")
                    .help(
                        match did_you_mean(&name, cx.queues.iter().map(String::as_str)) {
                            Some(m) => format!("did you mean `{m}`?"),
                            None => {
                                let names: Vec<&str> =
                                    cx.queues.iter().map(String::as_str).collect();
                                format!("the queues are {}", list(&names))
                            }
                        },
                    ),
            );
            None
        });
        ok &= t.has("queue") == queue.is_some();
        let score = t
            .get("score")
            .and_then(|sv| match self.number(sv, "score") {
                Some(n) if n.fract() == 0.0 => Some(n as i64),
                Some(_) => {
                    self.push(Diagnostic::error(
                        sv.span(),
                        "`score` must be a whole number: scores are rounded",
                    ));
                    None
                }
                None => None,
            });
        ok &= t.has("score") == score.is_some();
        let rules = match t.get("rules") {
            None => None,
            Some(rv) => {
                let names = self.strings(rv, "rules");
                let items: Vec<Value> = match rv.get_ref() {
                    DeValue::Array(a) => a.iter().cloned().collect(),
                    _ => Vec::new(),
                };
                for (name, item) in names.iter().flatten().zip(&items) {
                    if !cx.rules.contains(name) {
                        ok = false;
                        self.push(
                            Diagnostic::error(item.span(), format!("no rule is named \"{name}\""))
                                .label("unknown rule")
                                .maybe_help(
                                    did_you_mean(name, cx.rules.iter().map(String::as_str))
                                        .map(|m| format!("did you mean \"{m}\"?")),
                                ),
                        );
                    }
                }
                ok &= names.is_some();
                names
            }
        };
        // Checked against the [[rep]]s once they are read (see `check_test_owners`).
        let owner = t
            .get("owner")
            .and_then(|ov| Some((self.nonempty_string(ov, "owner")?, ov.span())));
        ok &= t.has("owner") == owner.is_some();
        if t.entries.is_empty() {
            self.push(
                Diagnostic::error(v.span(), "`expect` checks nothing")
                    .label("expected `tier`, `queue`, `score`, `rules` or `owner`"),
            );
            ok = false;
        }
        t.finish(self);
        ok.then(|| Expect {
            tier,
            queue,
            score,
            rules,
            owner,
            span: v.span(),
        })
    }

    /// A test's `expect.owner` must name a `[[rep]]`.
    fn check_test_owners(&mut self, tests: &[RuleTest], reps: &[Rep]) {
        for test in tests {
            let Some((name, span)) = &test.expect.owner else {
                continue;
            };
            // `none` (or the full text a test failure shows, `none (queue marketing)`): the
            // contact gets no rep. Names are matched ignoring case, as owner cells are.
            let known = reps
                .iter()
                .any(|r| crate::balance::same_name(&r.name, name));
            if known || crate::balance::means_no_rep(name) {
                continue;
            }
            let names = reps.iter().map(|r| r.name.as_str());
            self.push(
                Diagnostic::error(span.clone(), format!("no [[rep]] is named \"{name}\""))
                    .label("unknown rep")
                    .help(match did_you_mean(name, names.clone()) {
                        Some(m) => format!("did you mean \"{m}\"?"),
                        None if reps.is_empty() => {
                            "`owner` is the rep the balance gives a contact: add [[rep]] tables"
                                .to_string()
                        }
                        None => {
                            let names: Vec<&str> = names.collect();
                            format!("the reps are {}", list(&names))
                        }
                    }),
            );
        }
    }

    fn check_unique(&mut self, kind: &str) {
        let mut seen: HashSet<String> = HashSet::new();
        let names: Vec<(String, Span)> = self
            .names
            .iter()
            .filter(|(k, _, _)| *k == kind)
            .map(|(_, n, s)| (n.clone(), s.clone()))
            .collect();
        for (name, span) in names {
            if !seen.insert(name.to_lowercase()) {
                self.push(
                    Diagnostic::error(span, format!("duplicate {kind} name \"{name}\""))
                        .label(format!("another {kind} already has this name"))
                        .help(format!(
                            "give every {kind} its own name (case is ignored): reasons and explanations show it"
                        )),
                );
            }
        }
    }

    fn array_of_tables<T>(
        &mut self,
        v: &Value,
        key: &'static str,
        mut each: impl FnMut(&mut Self, Table) -> Option<T>,
    ) -> Vec<T> {
        let Some(items) = self.array(v, key, &format!("an array of tables, written [[{key}]]"))
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            if let Some(t) = self.table(item, key, format!("[[{key}]]"))
                && let Some(x) = each(self, t)
            {
                out.push(x);
            }
        }
        out
    }

    // ---- [fields] ------------------------------------------------------------------------

    fn fields(&mut self, v: &Value) -> Vec<Field> {
        let Some(table) = self.table(v, "fields", "[fields]") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in table.entries.iter() {
            let name = key.get_ref().to_string();
            let span = key.span().start..value.span().end;
            let field = match value.get_ref() {
                DeValue::String(_) | DeValue::Array(_) => {
                    self.one_or_more_strings(value, &name).map(|columns| Field {
                        name: name.clone(),
                        columns,
                        kind: FieldKind::Text,
                        formats: Vec::new(),
                        optional: false,
                        decimal: Decimal::Either,
                        span: span.clone(),
                    })
                }
                DeValue::Table(_) => self.field_table(&name, value, span),
                _ => {
                    self.type_error(value, &name, "a column name, a list of them, or a table");
                    None
                }
            };
            out.extend(field);
        }
        out
    }

    fn field_table(&mut self, name: &str, v: &Value, span: Span) -> Option<Field> {
        let mut t = self.table(v, name, format!("field `{name}`"))?;
        let columns = match t.get("column") {
            Some(c) => self.one_or_more_strings(c, "column"),
            None => {
                self.push(
                    Diagnostic::error(v.span(), format!("field `{name}` has no `column`"))
                        .label("expected `column = \"Header\"` or a list of headers"),
                );
                None
            }
        };
        let kind = match t.get("type") {
            None => Some(FieldKind::Text),
            Some(tv) => self.string(tv, "type").and_then(|s| {
                let kind = FieldKind::from_name(&s);
                if kind.is_none() {
                    self.push(
                        Diagnostic::error(tv.span(), format!("unknown field type `{s}`"))
                            .label("unknown type")
                            .maybe_help(
                                did_you_mean(&s, FieldKind::NAMES)
                                    .map(|m| format!("did you mean `{m}`?"))
                                    .or(Some("the types are text, number, date and bool".into())),
                            ),
                    );
                }
                kind
            }),
        };
        let optional = t
            .get("optional")
            .map_or(Some(false), |o| self.boolean(o, "optional"));
        let formats = match t.get("formats") {
            None => Some(Vec::new()),
            Some(fv) => {
                let formats = self.strings(fv, "formats");
                if kind.is_some_and(|k| k != FieldKind::Date) {
                    self.push(
                        Diagnostic::error(
                            fv.span(),
                            "`formats` only applies to fields with `type = \"date\"`",
                        )
                        .label("not a date field"),
                    );
                }
                if let Some(bad) = formats.iter().flatten().find(|f| !f.contains('%')) {
                    self.push(
                        Diagnostic::error(
                            fv.span(),
                            format!("date format \"{bad}\" has no % directive"),
                        )
                        .help("formats are strftime patterns, e.g. \"%m/%d/%Y\" or \"%d.%m.%Y\""),
                    );
                } else if kind == Some(FieldKind::Date)
                    && let Some((bad, why)) = (formats.iter().flatten()).find_map(|f| {
                        crate::engine::cell::check_date_format(f)
                            .err()
                            .map(|why| (f, why))
                    })
                {
                    self.push(
                        Diagnostic::error(
                            fv.span(),
                            format!("date format \"{bad}\" cannot read dates: {why}"),
                        )
                        .help("formats are strftime patterns, e.g. \"%m/%d/%Y\" or \"%d.%m.%Y\""),
                    );
                }
                formats
            }
        };
        let decimal = match t.get("decimal") {
            None => Some(Decimal::Either),
            Some(dv) => self.string(dv, "decimal").and_then(|d| {
                if kind.is_some_and(|k| k != FieldKind::Number) {
                    self.push(
                        Diagnostic::error(
                            dv.span(),
                            "`decimal` only applies to fields with `type = \"number\"`",
                        )
                        .label("not a number field"),
                    );
                }
                match d.as_str() {
                    "," => Some(Decimal::Comma),
                    "." => Some(Decimal::Point),
                    _ => {
                        self.push(
                            Diagnostic::error(dv.span(), format!("decimal = \"{d}\" is not a decimal mark"))
                                .label("expected \",\" or \".\"")
                                .help("decimal = \",\" reads 12,50 as 12.5 and 3.400 as 3400 (German, French exports)"),
                        );
                        None
                    }
                }
            }),
        };
        t.finish(self);
        Some(Field {
            name: name.to_string(),
            columns: columns?,
            kind: kind?,
            formats: formats?,
            optional: optional?,
            decimal: decimal?,
            span,
        })
    }

    // ---- [groups] ------------------------------------------------------------------------

    fn groups(&mut self, v: &Value) -> Vec<Group> {
        let Some(table) = self.table(v, "groups", "[groups]") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in table.entries.iter() {
            let name = key.get_ref().to_string();
            if !is_identifier(&name) {
                self.push(
                    Diagnostic::error(key.span(), format!("group name `{name}` cannot be a column name"))
                        .help("use letters, digits, `_`, `-` and `.`, not first `-` or `.`: the subtotal is written as column score_<group>"),
                );
                continue;
            }
            let Some(mut t) = self.table(value, &name, format!("group `{name}`")) else {
                continue;
            };
            let max = t.get("max").and_then(|m| self.number(m, "max"));
            let min = t.get("min").and_then(|m| self.number(m, "min"));
            let decay = t.get("decay").and_then(|d| self.decay(d));
            if let (Some(lo), Some(hi)) = (min, max)
                && lo > hi
            {
                self.push(
                    Diagnostic::error(
                        value.span(),
                        format!("group `{name}` has min {lo} above max {hi}"),
                    )
                    .label("min must not exceed max"),
                );
            }
            t.finish(self);
            out.push(Group {
                name,
                max,
                min,
                decay,
                span: key.span().start..value.span().end,
            });
        }
        out
    }

    // ---- [tiers] and [queues] ----------------------------------------------------------

    fn tiers(&mut self, v: &Value, groups: &[Group]) -> Option<Tiers> {
        let mut t = self.table(v, "tiers", "[tiers]")?;
        let warm = match t.get("warm") {
            Some(w) => self.tier_rule(w, "warm", groups),
            None => {
                self.push(
                    Diagnostic::error(v.span(), "`[tiers]` has no `warm` threshold")
                        .label("expected `warm = <score>`")
                        .help("add `warm = 50`: contacts scoring at least that are warm"),
                );
                None
            }
        };
        let hot = t.get("hot").map(|h| (h, self.tier_rule(h, "hot", groups)));
        if let Some(c) = t
            .entries
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == "cold")
        {
            t.asked.push("cold");
            self.push(
                Diagnostic::error(
                    c.0.span(),
                    "`cold` has no threshold: it is every contact below warm",
                )
                .label("remove this"),
            );
        }
        t.finish(self);
        let warm = warm?;
        let hot = match hot {
            Some((hv, Some(hot))) => {
                if hot.score < warm.score {
                    self.push(
                        Diagnostic::error(
                            hv.span(),
                            format!("hot ({}) is below warm ({})", hot.score, warm.score),
                        )
                        .label("hot must need at least the warm score"),
                    );
                }
                Some(hot)
            }
            Some((_, None)) => return None,
            None => None,
        };
        Some(Tiers { warm, hot })
    }

    fn tier_rule(&mut self, v: &Value, tier: &str, groups: &[Group]) -> Option<TierRule> {
        match v.get_ref() {
            DeValue::Integer(_) | DeValue::Float(_) => self.number(v, tier).map(|score| TierRule {
                score,
                groups: Vec::new(),
                span: v.span(),
            }),
            DeValue::Table(entries) => {
                let mut score = None;
                let mut reqs = Vec::new();
                let mut ok = true;
                for (key, value) in entries.iter() {
                    let name = key.get_ref().as_ref();
                    if name == "score" {
                        score = self.number(value, "score");
                        ok &= score.is_some();
                    } else if let Some(id) = groups.iter().position(|g| g.name == name) {
                        match self.number(value, name) {
                            Some(n) => reqs.push((id, n)),
                            None => ok = false,
                        }
                    } else {
                        ok = false;
                        let candidates =
                            std::iter::once("score").chain(groups.iter().map(|g| g.name.as_str()));
                        self.push(
                            Diagnostic::error(
                                key.span(),
                                format!("`{name}` in tier `{tier}` is not `score` or a group"),
                            )
                            .label("unknown group")
                            .maybe_help(
                                did_you_mean(name, candidates)
                                    .map(|m| format!("did you mean `{m}`?")),
                            ),
                        );
                    }
                }
                if score.is_none() && ok {
                    self.push(
                        Diagnostic::error(v.span(), format!("tier `{tier}` has no `score`"))
                            .label("expected `score = <points>`"),
                    );
                }
                (ok && score.is_some()).then(|| TierRule {
                    score: score.unwrap_or_default(),
                    groups: reqs,
                    span: v.span(),
                })
            }
            _ => {
                self.type_error(v, tier, "a score or a table like { score = 80, fit = 30 }");
                None
            }
        }
    }

    fn queues(&mut self, v: &Value) -> Option<TierQueues> {
        let mut t = self.table(v, "queues", "[queues]")?;
        let mut q = TierQueues::default();
        let mut spans = Vec::new();
        let mut ok = true;
        for (key, slot) in [
            ("hot", &mut q.hot),
            ("warm", &mut q.warm),
            ("cold", &mut q.cold),
            ("disqualified", &mut q.disqualified),
        ] {
            if let Some(value) = t.get(key) {
                match self.queue_name(value, key) {
                    Some(name) => {
                        *slot = name;
                        spans.push((key, value.span()));
                    }
                    None => ok = false,
                }
            }
        }
        q.spans = spans;
        t.finish(self);
        ok.then_some(q)
    }

    fn queue_name(&mut self, v: &Value, key: &str) -> Option<String> {
        let name = self.nonempty_string(v, key)?;
        if !is_queue_name(&name) {
            self.push(
                Diagnostic::error(v.span(), format!("\"{name}\" cannot be a queue name"))
                    .label("invalid queue name")
                    .help("use letters, digits, `_`, `-` and `.`, not first `-` or `.` (a queue becomes a file name); `rejected` and `summary` are taken"),
            );
            return None;
        }
        self.queue_spans.push((name.clone(), v.span()));
        Some(name)
    }

    /// `Sales` next to `sales` would be two queues and two files that collide on systems
    /// that ignore case in file names.
    fn check_queue_case(&mut self, queues: &TierQueues) {
        let mut known: Vec<String> = vec![
            queues.hot.clone(),
            queues.warm.clone(),
            queues.cold.clone(),
            queues.disqualified.clone(),
        ];
        for (name, span) in self.queue_spans.clone() {
            if let Some(other) = known
                .iter()
                .find(|k| **k != name && k.eq_ignore_ascii_case(&name))
            {
                self.push(
                    Diagnostic::error(span, format!("queue \"{name}\" differs from \"{other}\" only in case"))
                        .label("same name, different case")
                        .help(format!("write \"{other}\": queue names become file names, and some systems ignore case")),
                );
            } else {
                known.push(name);
            }
        }
    }

    // ---- [[rule]] and [[route]] --------------------------------------------------------

    fn rule(&mut self, mut t: Table, groups: &[Group]) -> Option<Rule> {
        let name = match t.get("name") {
            Some(v) => self.rule_name(v, "rule"),
            None => {
                self.push(
                    Diagnostic::error(t.span.clone(), "rule has no `name`")
                        .label("expected `name = \"...\"`"),
                );
                None
            }
        };
        if let Some(n) = &name {
            t.what = format!("rule \"{n}\"");
        }
        let group = t.get("group").and_then(|g| {
            let gname = self.string(g, "group")?;
            let id = groups.iter().position(|x| x.name == gname);
            if id.is_none() {
                let help = did_you_mean(&gname, groups.iter().map(|x| x.name.as_str()))
                    .map(|m| format!("did you mean `{m}`?"))
                    .unwrap_or_else(|| {
                        "declare it under [groups], e.g. `fit = { max = 50 }`".to_string()
                    });
                self.push(
                    Diagnostic::error(g.span(), format!("unknown group `{gname}`"))
                        .label("not declared in [groups]")
                        .help(help),
                );
            }
            Some(id)
        });
        let when = t.get("when").map(|w| self.condition(w));
        let fixed = t.get("points").map(|p| self.points(p, "points"));
        let per = t.get("points_per").map(|p| (p.span(), self.points_per(p)));
        let disqualify = t.get("disqualify").map(|d| self.boolean(d, "disqualify"));
        // `decay = false`: not the group's decay either (a penalty that should not fade).
        let decay = t.get("decay").map(|d| match d.get_ref() {
            DeValue::Boolean(false) => Some(None),
            DeValue::Boolean(true) => {
                self.push(
                    Diagnostic::error(d.span(), "`decay = true` does not say how points fade")
                        .label("expected `decay = { field = \"last_seen\", half_life_days = 90 }`")
                        .help("`decay = false` keeps a rule's points whole in a group that decays"),
                );
                None
            }
            _ => self.decay(d).map(Some),
        });
        let points = match (fixed, per) {
            (Some(_), Some((span, _))) => {
                self.push(
                    Diagnostic::error(span, "a rule has `points` or `points_per`, not both")
                        .label("remove one"),
                );
                return None;
            }
            (Some(Some(n)), None) => Some(Points::Fixed(n)),
            (None, Some((_, Some(p)))) => Some(p),
            (None, None) => None,
            _ => return None, // the value was invalid and reported
        };
        let disqualify = match disqualify {
            Some(Some(d)) => d,
            Some(None) => return None,
            None => false,
        };
        // A typo such as `pionts` is reported as an unknown key; "gives no points" would
        // only repeat it.
        if points.is_none() && !disqualify && !t.has_unknown() {
            self.push(
                Diagnostic::error(t.span.clone(), format!("{} gives no points", t.what))
                    .label("this rule does nothing")
                    .help("add `points = <n>`, `points_per = { field = \"...\", points = 1, max = 10 }` or `disqualify = true`"),
            );
        }
        let span = t.span.clone();
        t.finish(self);
        Some(Rule {
            name: name?,
            group: group.unwrap_or(None),
            when: match when {
                Some(Some(c)) => Some(c),
                Some(None) => return None,
                None => None,
            },
            points,
            disqualify,
            decay: match &decay {
                Some(Some(d)) => d.clone(),
                Some(None) => return None,
                None => None,
            },
            no_decay: matches!(decay, Some(Some(None))),
            span,
        })
    }

    /// `decay = { field = "last_seen", half_life_days = 90 }`.
    fn decay(&mut self, v: &Value) -> Option<Decay> {
        let mut t = self.table(v, "decay", "`decay`")?;
        let field = t.get("field").and_then(|f| self.field_ref(f));
        let half_life = t.get("half_life_days").and_then(|h| {
            let n = self.number(h, "half_life_days")?;
            if n <= 0.0 {
                self.push(
                    Diagnostic::error(h.span(), "`half_life_days` must be more than 0")
                        .label("points halve every this many days"),
                );
                return None;
            }
            Some(n)
        });
        let missing: Vec<&str> = [
            ("field", field.is_none() && !t.has("field")),
            (
                "half_life_days",
                half_life.is_none() && !t.has("half_life_days"),
            ),
        ]
        .into_iter()
        .filter(|(_, m)| *m)
        .map(|(k, _)| k)
        .collect();
        if !missing.is_empty() {
            self.push(
                Diagnostic::error(
                    v.span(),
                    format!("`decay` has no `{}`", missing.join("` or `")),
                )
                .label("expected `decay = { field = \"last_seen\", half_life_days = 90 }`"),
            );
        }
        t.finish(self);
        Some(Decay {
            field: field?,
            half_life_days: half_life?,
            span: v.span(),
        })
    }

    // ---- [balance] and [[rep]] ---------------------------------------------------------

    fn balance(&mut self, v: &Value) -> Option<Balance> {
        let mut t = self.table(v, "balance", "[balance]")?;
        let sales_capacity = t
            .get("sales_capacity")
            .and_then(|c| self.count(c, "sales_capacity", 0));
        let min_sales = t
            .get("min_sales")
            .and_then(|c| self.count(c, "min_sales", 0));
        if let (Some(cap), Some(min), Some(m)) = (sales_capacity, min_sales, t.get("min_sales"))
            && min > cap
        {
            self.push(
                Diagnostic::error(
                    m.span(),
                    format!("`min_sales` {min} is above `sales_capacity` {cap}"),
                )
                .label("sales can never get this many"),
            );
        }
        let overflow = t.get("overflow_queue");
        let overflow_span = overflow.map(|q| q.span());
        let overflow_queue = overflow.and_then(|q| self.queue_name(q, "overflow_queue"));
        let owner = t.get("owner").and_then(|f| self.field_ref(f));
        // Trimmed, as the owner cells they are matched with are.
        let former_owners = t
            .get("former_owners")
            .and_then(|f| self.strings(f, "former_owners"))
            .unwrap_or_default()
            .into_iter()
            .map(|name| name.trim().to_string())
            .collect();
        t.finish(self);
        Some(Balance {
            sales_capacity,
            min_sales,
            overflow_queue,
            overflow_span,
            owner,
            former_owners,
            span: v.span(),
        })
    }

    /// Contacts held back from sales (over capacity, or no rep with room) must wait somewhere
    /// else than sales, or the capacity would hold nobody back.
    fn check_overflow(&mut self, queues: &TierQueues, balance: Option<&Balance>, reps: &[Rep]) {
        let holds = balance.is_some_and(|b| b.sales_capacity.is_some()) || !reps.is_empty();
        let overflow = balance.and_then(|b| b.overflow_queue.as_deref());
        if !holds || overflow.unwrap_or(&queues.cold) != queues.warm {
            return;
        }
        let (span, help) = match balance.and_then(|b| b.overflow_span.clone()) {
            Some(span) => (
                span,
                "name the queue where they should wait, such as \"marketing\"",
            ),
            None => (
                balance.map_or_else(|| reps[0].span.clone(), |b| b.span.clone()),
                "they wait in the cold tier's queue, which is the sales queue here: set \
                 `overflow_queue` in [balance] to where they should wait",
            ),
        };
        self.push(
            Diagnostic::error(
                span,
                format!(
                    "contacts held back from sales would wait in `{}`, the sales queue",
                    queues.warm
                ),
            )
            .label("over capacity, but still in sales")
            .help(help),
        );
    }

    fn rep(&mut self, mut t: Table) -> Option<Rep> {
        let name = match t.get("name") {
            Some(v) => self.rule_name(v, "rep"),
            None => {
                self.push(
                    Diagnostic::error(t.span.clone(), "rep has no `name`")
                        .label("expected `name = \"...\"`"),
                );
                None
            }
        };
        if let Some(n) = &name {
            t.what = format!("rep \"{n}\"");
        }
        let capacity = match t.get("capacity") {
            Some(c) => self.count(c, "capacity", 0),
            None => {
                self.push(
                    Diagnostic::error(t.span.clone(), format!("{} has no `capacity`", t.what))
                        .label("expected `capacity = <contacts per run>`"),
                );
                None
            }
        };
        let weight = match t.get("weight") {
            Some(w) => {
                let n = self.number(w, "weight")?;
                if n <= 0.0 {
                    self.push(
                        Diagnostic::error(w.span(), "`weight` must be more than 0")
                            .label("a rep's share of the round-robin"),
                    );
                    return None;
                }
                Some(n)
            }
            None => Some(1.0),
        };
        let when = t.get("when").map(|w| self.condition(w));
        let span = t.span.clone();
        t.finish(self);
        Some(Rep {
            name: name?,
            capacity: capacity?,
            weight: weight?,
            when: match when {
                Some(Some(c)) => Some(c),
                Some(None) => return None,
                None => None,
            },
            span,
        })
    }

    /// A whole number of at least `min`.
    fn count(&mut self, v: &Value, key: &str, min: u64) -> Option<u64> {
        match v.get_ref() {
            DeValue::Integer(i) => match u64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) if n >= min => Some(n),
                _ => {
                    self.push(
                        Diagnostic::error(
                            v.span(),
                            format!("`{key}` must be a whole number of at least {min}"),
                        )
                        .label(format!("expected {min} or more")),
                    );
                    None
                }
            },
            _ => {
                self.type_error(v, key, "a whole number");
                None
            }
        }
    }

    fn rule_name(&mut self, v: &Value, kind: &'static str) -> Option<String> {
        let name = self.nonempty_string(v, "name")?;
        if name.contains([';', '\n', '\r']) {
            self.push(
                Diagnostic::error(v.span(), "a name cannot contain `;` or a line break")
                    .label("reasons are separated by `;`"),
            );
            return None;
        }
        let name = name.trim().to_string();
        self.names.push((kind, name.clone(), v.span()));
        Some(name)
    }

    fn points_per(&mut self, v: &Value) -> Option<Points> {
        let mut t = self.table(v, "points_per", "`points_per`")?;
        let field = t.get("field").and_then(|f| self.field_ref(f));
        let points = t.get("points").and_then(|p| self.points(p, "points"));
        let max = match t.get("max") {
            None => Some(None),
            Some(m) => match self.points(m, "max") {
                Some(n) if n > 0.0 => Some(Some(n)),
                Some(_) => {
                    self.push(
                        Diagnostic::error(m.span(), "`max` must be above 0")
                            .label("a cap on the points"),
                    );
                    None
                }
                None => None,
            },
        };
        if !t.has("field") || !t.has("points") {
            self.push(
                Diagnostic::error(v.span(), "`points_per` needs `field` and `points`")
                    .help("e.g. points_per = { field = \"page_views\", points = 1, max = 10 }"),
            );
        }
        t.finish(self);
        Some(Points::Per {
            field: field?,
            points: points?,
            max: max?,
        })
    }

    fn route(&mut self, mut t: Table, has_hot: bool) -> Option<Route> {
        let name = match t.get("name") {
            Some(v) => self.rule_name(v, "route"),
            None => {
                self.push(
                    Diagnostic::error(t.span.clone(), "route has no `name`")
                        .label("expected `name = \"...\"`"),
                );
                None
            }
        };
        if let Some(n) = &name {
            t.what = format!("route \"{n}\"");
        }
        let when = match t.get("when") {
            Some(w) => self.condition(w),
            None => {
                self.push(
                    Diagnostic::error(t.span.clone(), format!("{} has no `when`", t.what))
                        .label("expected `when = { ... }`"),
                );
                None
            }
        };
        let queue = match t.get("queue") {
            Some(q) => self.queue_name(q, "queue"),
            None => {
                self.push(
                    Diagnostic::error(t.span.clone(), format!("{} has no `queue`", t.what))
                        .label("expected `queue = \"...\"`"),
                );
                None
            }
        };
        let tiers_value = t.get("tiers");
        let tiers_span = tiers_value.map(|v| v.span());
        let tiers = match tiers_value {
            Some(v) => self.route_tiers(v, has_hot).map(Some),
            None => Some(None),
        };
        let span = t.span.clone();
        t.finish(self);
        Some(Route {
            name: name?,
            when: when?,
            tiers: tiers?,
            queue: queue?,
            span,
            tiers_span,
        })
    }

    /// A route's `tiers = ["warm", "hot"]`: tiers these rules have, but `disqualified`
    /// (routes never apply to disqualified contacts).
    fn route_tiers(&mut self, v: &Value, has_hot: bool) -> Option<Vec<Tier>> {
        // Each name with its place, so that a wrong one is underlined alone.
        let names = self.list(v, "tiers", "a list of strings", |p, item, key| {
            p.string(item, key).map(|name| (name, item.span()))
        })?;
        if names.is_empty() {
            self.push(
                Diagnostic::error(v.span(), "`tiers` lists no tier")
                    .label("expected at least one tier")
                    .help("leave `tiers` out to route contacts of every tier"),
            );
            return None;
        }
        let known: Vec<&str> = [Tier::Hot, Tier::Warm, Tier::Cold]
            .into_iter()
            .filter(|t| *t != Tier::Hot || has_hot)
            .map(Tier::as_str)
            .collect();
        let (mut tiers, mut ok) = (Vec::new(), true);
        for (name, span) in &names {
            ok &= known.contains(&name.as_str());
            match Tier::from_name(name).filter(|t| known.contains(&t.as_str())) {
                // Named twice is named once.
                Some(tier) if tiers.contains(&tier) => {}
                Some(tier) => tiers.push(tier),
                None if name == Tier::Disqualified.as_str() => self.push(
                    Diagnostic::error(span.clone(), "a route cannot take disqualified contacts")
                        .label("`disqualified` in `tiers`")
                        .help("disqualified contacts always go to the disqualified queue"),
                ),
                None if name == Tier::Hot.as_str() => self.push(
                    Diagnostic::error(span.clone(), "these rules have no hot tier")
                        .label("`hot` in `tiers`")
                        .help("add `hot = <score>` to [tiers], or leave `hot` out"),
                ),
                None => self.push(
                    Diagnostic::error(span.clone(), format!("unknown tier `{name}`"))
                        .label("not a tier of these rules")
                        .help(match did_you_mean(name, known.iter().copied()) {
                            Some(m) => format!("did you mean `{m}`?"),
                            None => format!("the tiers are {}", list(&known)),
                        }),
                ),
            }
        }
        ok.then_some(tiers)
    }

    // ---- conditions --------------------------------------------------------------------

    fn field_ref(&mut self, v: &Value) -> Option<FieldRef> {
        self.nonempty_string(v, "field").map(|name| FieldRef {
            name,
            span: v.span(),
        })
    }

    fn condition(&mut self, v: &Value) -> Option<Condition> {
        let mut t = self.table(v, "when", "condition")?;
        let combinators: Vec<&str> = ["all", "any", "not"]
            .into_iter()
            .filter(|k| t.has(k))
            .collect();
        if !combinators.is_empty() {
            if combinators.len() > 1 || t.entries.len() > 1 {
                self.push(
                    Diagnostic::error(
                        v.span(),
                        format!("`{}` must be alone in its table", combinators[0]),
                    )
                    .label("one combinator per table")
                    .help("nest them: { all = [ { field = ..., ... }, { any = [...] } ] }"),
                );
                return None;
            }
            let key = combinators[0];
            let inner = t.get(if key == "all" {
                "all"
            } else if key == "any" {
                "any"
            } else {
                "not"
            })?;
            return if key == "not" {
                self.condition(inner).map(|c| Condition::Not(Box::new(c)))
            } else {
                let items = self.array(inner, key, "a list of conditions")?;
                if items.is_empty() {
                    self.push(Diagnostic::error(
                        inner.span(),
                        format!("`{key}` needs at least one condition"),
                    ));
                    return None;
                }
                let mut parts = Vec::new();
                let mut ok = true;
                for item in items.iter() {
                    match self.condition(item) {
                        Some(c) => parts.push(c),
                        None => ok = false,
                    }
                }
                ok.then(|| {
                    if key == "all" {
                        Condition::All(parts)
                    } else {
                        Condition::Any(parts)
                    }
                })
            };
        }
        let Some(field_v) = t.get("field") else {
            self.push(
                Diagnostic::error(v.span(), "condition has no `field`")
                    .label("expected `field = \"...\"`, or `all`, `any` or `not`"),
            );
            return None;
        };
        let field = self.field_ref(field_v);
        let case_sensitive = t
            .get("case_sensitive")
            .map_or(Some(false), |c| self.boolean(c, "case_sensitive"));
        let mut tests = Vec::new();
        let mut ok = field.is_some() && case_sensitive.is_some();
        for (key, value) in t.entries.iter() {
            let op_name = key.get_ref().as_ref();
            if op_name == "field" || op_name == "case_sensitive" {
                continue;
            }
            if !OPERATORS.contains(&op_name) {
                let hint = did_you_mean(op_name, OPERATORS.iter().copied().chain(["field"]))
                    .map(|m| format!("did you mean `{m}`?"))
                    .unwrap_or_else(|| {
                        "see the operator list in README (equals, in, contains, at_least, ...)"
                            .into()
                    });
                self.push(
                    Diagnostic::error(key.span(), format!("unknown operator `{op_name}`"))
                        .label("unknown operator")
                        .help(hint),
                );
                ok = false;
                continue;
            }
            match self.op(op_name, value, case_sensitive.unwrap_or(false)) {
                Some(op) => tests.push((op, key.span().start..value.span().end)),
                None => ok = false,
            }
        }
        // Every key was checked in the loop above (unknown operators included), so there is
        // no `t.finish` here: it would report them twice.
        if ok && tests.is_empty() {
            self.push(
                Diagnostic::error(v.span(), "condition has no operator")
                    .label("expected e.g. `equals = \"...\"`, `in = [...]` or `at_least = 10`"),
            );
            return None;
        }
        if !ok {
            return None;
        }
        let field = field?;
        let case_sensitive = case_sensitive?;
        let mut tests: Vec<Condition> = tests
            .into_iter()
            .map(|(op, span)| {
                Condition::Test(Test {
                    field: field.clone(),
                    op,
                    case_sensitive,
                    span,
                })
            })
            .collect();
        // Several operators on one field all have to hold.
        Some(if tests.len() == 1 {
            tests.remove(0)
        } else {
            Condition::All(tests)
        })
    }

    fn op(&mut self, key: &str, v: &Value, case_sensitive: bool) -> Option<Op> {
        Some(match key {
            "equals" => Op::Equals(self.scalar(v, key)?),
            "not_equals" => Op::NotEquals(self.scalar(v, key)?),
            "in" => Op::In(self.scalars(v, key)?),
            "not_in" => Op::NotIn(self.scalars(v, key)?),
            "contains" => Op::Contains(self.nonempty_string(v, key)?),
            "contains_any" => Op::ContainsAny(self.strings(v, key)?),
            "starts_with" => Op::StartsWith(self.nonempty_string(v, key)?),
            "ends_with" => Op::EndsWith(self.nonempty_string(v, key)?),
            "domain_in" => Op::DomainIn(self.strings(v, key)?),
            "matches" => {
                let pattern = self.string(v, key)?;
                match regex::RegexBuilder::new(&pattern)
                    .case_insensitive(!case_sensitive)
                    .build()
                {
                    Ok(_) => {}
                    Err(regex::Error::CompiledTooBig(limit)) => {
                        self.push(
                            Diagnostic::error(v.span(), "regular expression too big")
                                .label(format!("compiles to more than {} MiB", limit >> 20))
                                .help("split it over several rules, or list plain words with `contains_any`"),
                        );
                        return None;
                    }
                    Err(e) => {
                        let detail = e.to_string();
                        let last = detail.lines().rfind(|l| l.starts_with("error:"));
                        self.push(
                            Diagnostic::error(v.span(), "invalid regular expression")
                                .label(last.unwrap_or("invalid regex").trim_start_matches("error: ").to_string())
                                .help("patterns use Rust regex syntax: https://docs.rs/regex/latest/regex/#syntax"),
                        );
                        return None;
                    }
                }
                Op::Matches(pattern)
            }
            "is" => Op::Is(self.boolean(v, key)?),
            "present" => Op::Present(self.boolean(v, key)?),
            "missing" => Op::Present(!self.boolean(v, key)?),
            "gt" => Op::Gt(self.number(v, key)?),
            "at_least" => Op::AtLeast(self.number(v, key)?),
            "lt" => Op::Lt(self.number(v, key)?),
            "at_most" => Op::AtMost(self.number(v, key)?),
            "between" => return self.between(v),
            "within_days" => Op::WithinDays(self.whole_days(v, key)?),
            "older_than_days" => Op::OlderThanDays(self.whole_days(v, key)?),
            "before" => Op::Before(self.date(v, key)?),
            "after" => Op::After(self.date(v, key)?),
            _ => return None,
        })
    }

    fn between(&mut self, v: &Value) -> Option<Op> {
        let items = self.array(v, "between", "a list of two bounds, [low, high]")?;
        if items.len() != 2 {
            self.push(
                Diagnostic::error(v.span(), "`between` needs exactly two bounds, [low, high]")
                    .label(format!("{} given", items.len())),
            );
            return None;
        }
        let (lo, hi) = (&items[0], &items[1]);
        let dates = matches!(lo.get_ref(), DeValue::Datetime(_) | DeValue::String(_));
        if dates {
            let (lo, hi) = (self.date(lo, "between")?, self.date(hi, "between")?);
            if lo > hi {
                self.push(
                    Diagnostic::error(v.span(), "`between` bounds are the wrong way round")
                        .label("low must come first"),
                );
                return None;
            }
            Some(Op::DateBetween(lo, hi))
        } else {
            let (lo, hi) = (self.number(lo, "between")?, self.number(hi, "between")?);
            if lo > hi {
                self.push(
                    Diagnostic::error(v.span(), "`between` bounds are the wrong way round")
                        .label("low must come first"),
                );
                return None;
            }
            Some(Op::Between(lo, hi))
        }
    }
}

/// Whether `s` can name a queue: an identifier, and not a file `--split` writes for itself.
pub fn is_queue_name(s: &str) -> bool {
    is_identifier(s) && !RESERVED_QUEUES.contains(&s.to_lowercase().as_str())
}

/// Letters, digits, `_`, `-`, `.`: safe as a file name and a column suffix.
fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(['.', '-'])
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn describe(v: &DeValue) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a decimal number",
        DeValue::Boolean(_) => "true/false",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

/// The end of the last value in the document: where "missing table" errors point.
fn doc_end(doc: &DeTable) -> usize {
    doc.iter().map(|(_, v)| v.span().end).max().unwrap_or(0)
}
