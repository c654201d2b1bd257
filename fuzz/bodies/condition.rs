// The body of the `condition` fuzz target, shared with the regression tests
// (tests/integration/fuzz_regressions.rs): both `include!` this file.
//
// The bytes are read as choices: a `when` condition built from every operator with values
// picked from lists of awkward literals, and one contact built from awkward cells. The
// condition is put into three rules, as itself, negated, and wrapped in `all`/`any`; then
// exactly one of the first two must match, the third exactly when the first does, and
// `explain` must say the same. Rules the validator refuses are rendered and dropped.

use std::path::Path;

use leadsort::engine::{Engine, Header, Outcome};
use leadsort::rules::toml_string;

/// Run one fuzz input: build a condition and a contact from it, and check the logic.
pub fn condition(data: &[u8]) {
    let mut choices = Choices(data);
    let when = choices.condition(0);
    let row: Vec<String> = (0..HEADER.len()).map(|_| choices.cell()).collect();
    let text = format!(
        r#"version = 1
[fields]
n = {{ column = "n", type = "number" }}
d = {{ column = "d", type = "date", formats = ["%m/%d/%Y", "%d.%m.%Y", "%Y%m%d"] }}
b = {{ column = "b", type = "bool" }}
o = {{ column = "absent", optional = true }}
[tiers]
warm = 1
[[rule]]
name = "holds"
when = {when}
points = 1
[[rule]]
name = "fails"
when = {{ not = {when} }}
points = 2
[[rule]]
name = "wrapped"
when = {{ all = [ {{ any = [ {when} ] }} ] }}
points = 4
"#
    );
    let rules = match leadsort::rules::from_str(Path::new("fuzz.toml"), &text) {
        Ok(rules) => rules,
        Err(e) => {
            assert!(!e.render(false).is_empty());
            return;
        }
    };
    let header = Header::new(HEADER.iter().map(|h| h.to_string()).collect());
    let as_of = jiff::civil::date(2026, 11, 27);
    let engine = Engine::compile(&rules, &header, as_of)
        .unwrap_or_else(|u| panic!("fields do not bind: {u:?}\n{text}"));
    let mut scratch = engine.scratch();
    let mut outcome = Outcome::default();
    engine.evaluate(&row, &mut scratch, &mut outcome);
    let hit = |rule: usize| outcome.hits.iter().any(|h| h.rule == rule);
    let context = || format!("\nwhen = {when}\nrow = {row:?}");
    assert!(
        hit(0) != hit(1),
        "a condition and its `not` both hold or both fail{}",
        context()
    );
    assert_eq!(
        hit(0),
        hit(2),
        "`all`/`any` of one condition is not that condition{}",
        context()
    );
    let points: i64 = [1, 2, 4]
        .iter()
        .enumerate()
        .filter(|(i, _)| hit(*i))
        .map(|(_, p)| p)
        .sum();
    assert_eq!(
        outcome.score,
        points,
        "the score is not the sum of the hits{}",
        context()
    );

    let explanation = engine.explain(&rules, &row);
    for trace in &explanation.rules {
        let holds = trace.when.as_ref().is_some_and(|w| w.holds());
        assert_eq!(
            holds,
            hit(trace.rule),
            "explain disagrees on rule {}{}",
            trace.rule,
            context()
        );
    }
    let mut reasons = String::new();
    engine.write_reasons(&outcome, &mut reasons);
    let _ = leadsort::cmd::explain::render_text(&rules, &explanation, &header.names, None);
}

/// The contact's columns: text, number, date, bool, email.
const HEADER: [&str; 5] = ["t", "n", "d", "b", "e"];

/// The fields a test may name: the columns, and an optional field the input lacks.
const FIELDS: [&str; 6] = ["t", "n", "d", "b", "e", "o"];

const TEXTS: [&str; 16] = [
    "", " ", "x", "X", "ceo", "Director", "ü", "Ü", "ß", "İ", "ﬃ", "ǅ", "a b", "\"", "\\", "@",
];
const NUMBERS: [&str; 12] = [
    "0",
    "-1",
    "1",
    "2.5",
    "-0.0",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-inf",
    "200",
    "9223372036854775807",
];
const DATES: [&str; 5] = [
    "0001-01-01",
    "1970-01-01",
    "2026-11-27",
    "2026-11-28",
    "9999-12-31",
];
const DAYS: [&str; 7] = [
    "0",
    "1",
    "-1",
    "30",
    "36500",
    "9223372036854775807",
    "-9223372036854775808",
];
const REGEXES: [&str; 8] = ["^a", "(?i)é$", "\\bceo\\b", "a|", ".*", "[", "^$", "(?-i)X"];
const DOMAINS: [&str; 6] = [
    "gmail.com",
    "GMAIL.COM",
    "",
    "@",
    "ü.example",
    "b@gmail.com",
];
const CELLS: [&str; 36] = [
    "",
    " ",
    "x",
    "X",
    "1",
    "-1",
    "0",
    "1,200",
    "$1,200.50",
    "1.200,5",
    "1e400",
    "NaN",
    "inf",
    "2026-11-27",
    "11/27/2026",
    "27.11.2026",
    "20261127",
    "2026-11-27T10:00:00Z",
    "9999-12-31",
    "0000-01-01",
    "yes",
    "NO",
    "true",
    "a@gmail.com",
    " A@GMAIL.COM ",
    "@",
    "a@b@gmail.com",
    "ü",
    "Ü",
    "ß",
    "İ",
    "ǅ",
    "\n",
    "\"",
    "ceo",
    "Director of IT",
];

/// Choices read from the fuzzer's bytes; past the end every choice is the first.
struct Choices<'a>(&'a [u8]);

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn pick<'t>(&mut self, from: &[&'t str]) -> &'t str {
        from[usize::from(self.byte()) % from.len()]
    }

    /// A `when` value, nested at most four deep.
    fn condition(&mut self, depth: usize) -> String {
        let kind = if depth >= 4 { 9 } else { self.byte() % 10 };
        match kind {
            0 | 1 => {
                let parts: Vec<String> = (0..=self.byte() % 3)
                    .map(|_| self.condition(depth + 1))
                    .collect();
                let key = if kind == 0 { "all" } else { "any" };
                format!("{{ {key} = [{}] }}", parts.join(", "))
            }
            2 => format!("{{ not = {} }}", self.condition(depth + 1)),
            _ => self.test(),
        }
    }

    /// One operator on one field.
    fn test(&mut self) -> String {
        let field = self.pick(&FIELDS);
        let op = self.pick(&leadsort::rules::OPERATORS);
        let value = match op {
            "equals" | "not_equals" => self.scalar(),
            "in" | "not_in" => self.list(Self::scalar),
            "contains" | "starts_with" | "ends_with" => self.text(),
            "contains_any" => self.list(Self::text),
            "matches" => toml_string(self.pick(&REGEXES)),
            "domain_in" => self.list(|c| toml_string(c.pick(&DOMAINS))),
            "is" | "present" | "missing" => ["true", "false"][usize::from(self.byte() % 2)].into(),
            "within_days" | "older_than_days" => self.pick(&DAYS).into(),
            "before" | "after" => self.pick(&DATES).into(),
            "between" => {
                let bounds = if self.byte() & 1 == 0 {
                    &DATES[..]
                } else {
                    &NUMBERS[..]
                };
                format!("[{}, {}]", self.pick(bounds), self.pick(bounds))
            }
            _ => self.pick(&NUMBERS).into(),
        };
        let case = if self.byte() & 3 == 0 {
            ", case_sensitive = true"
        } else {
            ""
        };
        format!("{{ field = \"{field}\", {op} = {value}{case} }}")
    }

    fn scalar(&mut self) -> String {
        match self.byte() % 4 {
            0 => self.pick(&NUMBERS).into(),
            1 => self.pick(&DATES).into(),
            2 => ["true", "false"][usize::from(self.byte() % 2)].into(),
            _ => self.text(),
        }
    }

    fn text(&mut self) -> String {
        toml_string(self.pick(&TEXTS))
    }

    fn list(&mut self, item: fn(&mut Self) -> String) -> String {
        let items: Vec<String> = (0..self.byte() % 4).map(|_| item(self)).collect();
        format!("[{}]", items.join(", "))
    }

    /// A cell: an awkward value from the list, or up to 15 raw bytes as text.
    fn cell(&mut self) -> String {
        let b = self.byte();
        if b < 128 {
            return CELLS[usize::from(b) % CELLS.len()].to_string();
        }
        let n = usize::from(b % 16).min(self.0.len());
        let (raw, rest) = self.0.split_at(n);
        self.0 = rest;
        String::from_utf8_lossy(raw).into_owned()
    }
}

