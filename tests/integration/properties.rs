//! Invariants over random contacts and random rule sets:
//! every input row lands in exactly one output, and the score is the capped sum of the
//! points of the rules that matched.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;

use crate::util::{Env, rows};
use leadsort::engine::{Engine, Header, Outcome};

const COLUMNS: [&str; 6] = ["id", "email", "title", "size", "flag", "seen"];

/// Cells worth mixing: blanks, padding, odd numbers and dates, formulas, quotes, newlines.
const CELLS: &[&str] = &[
    "",
    " ",
    "yes",
    "No",
    "x",
    "maybe",
    "12",
    "1,200",
    "1.200,50",
    "N/A",
    "-5",
    "250",
    "Director",
    "vp sales",
    "Chief of Staff",
    "intern",
    "a@gmail.com",
    "B@Acme.com",
    "no-at-sign",
    "2026-11-01",
    "2025-01-01",
    "11/05/2026",
    "=1+2",
    "+1 555",
    "multi\nline",
    "say \"hi\"",
    "comma, inside",
    "Zoë Müller",
];

/// One condition template per column kind, filled with a random threshold.
fn condition(kind: usize, n: i64) -> String {
    match kind % 9 {
        0 => r#"{ field = "title", contains_any = ["director", "vp", "chief"] }"#.into(),
        1 => format!(r#"{{ field = "size", at_least = {} }}"#, n * 50),
        2 => r#"{ field = "flag", is = true }"#.into(),
        3 => format!(r#"{{ field = "seen", within_days = {} }}"#, n * 60),
        4 => r#"{ field = "email", domain_in = ["gmail.com"] }"#.into(),
        5 => r#"{ not = { field = "title", missing = true } }"#.into(),
        6 => format!(
            r#"{{ any = [ {{ field = "size", lt = {n} }}, {{ field = "flag", equals = "maybe" }} ] }}"#
        ),
        7 => r#"{ field = "title", matches = "^(vp|chief)" }"#.into(),
        _ => r#"{ field = "email", contains = "@" }"#.into(),
    }
}

#[derive(Debug, Clone)]
struct RuleSpec {
    kind: usize,
    n: i64,
    points: i64,
    group: Option<usize>,
    per: bool,
    disqualify: bool,
}

fn rule_spec() -> impl Strategy<Value = RuleSpec> {
    (
        0usize..9,
        0i64..6,
        -30i64..40,
        proptest::option::of(0usize..2),
        any::<bool>(),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(kind, n, points, group, per, disqualify)| RuleSpec {
            kind,
            n,
            points,
            group,
            per,
            disqualify,
        })
}

/// A rules file: two capped groups, random rules, a route on `flag`.
fn rules_toml(specs: &[RuleSpec], caps: (i64, i64), warm: i64) -> String {
    let mut t = format!(
        "version = 1\n[groups]\ng0 = {{ max = {} }}\ng1 = {{ max = {}, min = -{} }}\n[tiers]\nwarm = {warm}\nhot = {}\n",
        caps.0,
        caps.1,
        caps.1,
        warm + 30
    );
    for (i, s) in specs.iter().enumerate() {
        t.push_str(&format!("[[rule]]\nname = \"Rule {i}\"\n"));
        if let Some(g) = s.group {
            t.push_str(&format!("group = \"g{g}\"\n"));
        }
        if s.disqualify {
            t.push_str(&format!(
                "when = {}\ndisqualify = true\n",
                condition(s.kind, s.n)
            ));
        } else if s.per {
            t.push_str(&format!(
                "when = {}\npoints_per = {{ field = \"size\", points = {}, max = {} }}\n",
                condition(s.kind, s.n),
                s.points,
                s.n * 7 + 1
            ));
        } else {
            t.push_str(&format!(
                "when = {}\npoints = {}\n",
                condition(s.kind, s.n),
                s.points
            ));
        }
    }
    t.push_str("[[route]]\nname = \"Maybe\"\nwhen = { field = \"flag\", equals = \"maybe\" }\nqueue = \"review\"\n");
    t
}

/// A contact: a cell index per column after the id; a few rows get a field too many or too
/// few, or bytes that are not UTF-8.
#[derive(Debug, Clone)]
struct RowSpec {
    cells: Vec<usize>,
    shape: u8,
}

fn row_spec() -> impl Strategy<Value = RowSpec> {
    (
        prop::collection::vec(0..CELLS.len(), COLUMNS.len() - 1),
        prop::num::u8::ANY,
    )
        .prop_map(|(cells, shape)| RowSpec { cells, shape })
}

/// The CSV bytes, and the ids of all rows written.
fn csv_bytes(specs: &[RowSpec]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    w.write_record(COLUMNS).unwrap();
    for (i, r) in specs.iter().enumerate() {
        let mut fields: Vec<Vec<u8>> = vec![format!("id{i}").into_bytes()];
        fields.extend(r.cells.iter().map(|&c| CELLS[c].as_bytes().to_vec()));
        match r.shape {
            0..=9 => {
                fields.pop();
            }
            10..=19 => fields.push(b"extra".to_vec()),
            20..=26 => fields[2] = b"Caf\xe9".to_vec(), // Latin-1, not UTF-8
            _ => {}
        }
        w.write_record(&fields).unwrap();
    }
    w.into_inner().unwrap()
}

/// The `id` values in a queue or rejected file (for rejected, the id is the raw row's start).
fn ids_in(env: &Env, file: &str) -> Vec<String> {
    let bytes = std::fs::read(env.path(file)).unwrap();
    let mut r = csv::ReaderBuilder::new().from_reader(&bytes[..]);
    let header = r.byte_headers().unwrap().clone();
    let raw = header.iter().position(|h| h == b"row");
    r.byte_records()
        .map(|rec| {
            let rec = rec.unwrap();
            let id = match raw {
                Some(i) => rec[i].split(|b| *b == b',').next().unwrap().to_vec(),
                None => rec[0].to_vec(),
            };
            String::from_utf8(id).unwrap()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn every_row_lands_in_exactly_one_output(
        rules in prop::collection::vec(rule_spec(), 1..8),
        contacts in prop::collection::vec(row_spec(), 0..60),
        caps in (1i64..60, 1i64..60),
        warm in -10i64..60,
    ) {
        let env = Env::new();
        env.write("rules.toml", rules_toml(&rules, caps, warm));
        env.write("in.csv", csv_bytes(&contacts));
        std::fs::create_dir(env.path("out")).unwrap();
        let run = env.classify(&["in.csv", "--split", "out", "-q"]).output().unwrap();
        if run.status.code() == Some(65)
            && String::from_utf8_lossy(&run.stderr).contains("not one of the")
        {
            // Every row bad (by its shape, or a cell with a stray quote that merges rows into
            // one record): nothing written, nothing replaced.
            prop_assert_eq!(std::fs::read_dir(env.path("out")).unwrap().count(), 1, "the lock only");
            return Ok(());
        }
        prop_assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

        let summary: serde_json::Value = serde_json::from_str(&env.read("out/summary.json")).unwrap();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut per_file = BTreeMap::new();
        for file in ["sales.csv", "marketing.csv", "suppressed.csv", "review.csv", "rejected.csv"] {
            let ids = ids_in(&env, &format!("out/{file}"));
            per_file.insert(file, ids.len() as u64);
            for id in ids {
                *seen.entry(id).or_default() += 1;
            }
        }
        let expected: Vec<String> = (0..contacts.len()).map(|i| format!("id{i}")).collect();
        prop_assert_eq!(seen.keys().cloned().collect::<Vec<_>>(), {
            let mut e = expected.clone();
            e.sort();
            e
        });
        prop_assert!(seen.values().all(|&n| n == 1), "a row appears twice: {:?}", seen);
        prop_assert_eq!(summary["rows"].as_u64(), Some(contacts.len() as u64));
        prop_assert_eq!(summary["rejected"].as_u64(), Some(per_file["rejected.csv"]));
        for q in ["sales", "marketing", "suppressed", "review"] {
            prop_assert_eq!(summary["queues"][q].as_u64(), Some(per_file[format!("{q}.csv").as_str()]));
        }
    }

    #[test]
    fn the_score_is_the_capped_sum_of_matched_points(
        rules in prop::collection::vec(rule_spec(), 1..10),
        contacts in prop::collection::vec(prop::collection::vec(0..CELLS.len(), COLUMNS.len()), 1..30),
        caps in (1i64..60, 1i64..60),
        warm in -10i64..60,
    ) {
        let text = rules_toml(&rules, caps, warm);
        let parsed = leadsort::rules::from_str(Path::new("p.toml"), &text).unwrap();
        let header = Header::new(COLUMNS.iter().map(|s| s.to_string()).collect());
        let as_of = jiff::civil::Date::new(2026, 11, 27).unwrap();
        let engine = Engine::compile(&parsed, &header, as_of).unwrap();
        let mut scratch = engine.scratch();
        let mut out = Outcome::default();
        let mut reasons = String::new();
        for cells in contacts {
            let row: Vec<&str> = cells.iter().map(|&c| CELLS[c]).collect();
            engine.evaluate(&row[..], &mut scratch, &mut out);
            // Without reasons: the same decision, no hits recorded.
            let mut lean = Outcome::default();
            engine.evaluate_without_hits(&row[..], &mut scratch, &mut lean);
            prop_assert_eq!(&lean, &Outcome { hits: Vec::new(), ..out.clone() });
            // Recompute from the matched rules alone.
            let mut sums = [0.0f64; 2];
            let mut ungrouped = 0.0;
            for hit in &out.hits {
                match parsed.rules[hit.rule].group {
                    Some(g) => sums[g] += hit.points,
                    None => ungrouped += hit.points,
                }
            }
            let capped: Vec<f64> = sums.iter().zip(&parsed.groups).map(|(s, g)| g.clamp(*s)).collect();
            let total = ungrouped + capped.iter().sum::<f64>();
            prop_assert_eq!(out.score, total.round() as i64);
            prop_assert_eq!(&out.groups, &capped.iter().map(|c| c.round() as i64).collect::<Vec<_>>());
            // The disqualified flag comes from a matched disqualifier, and nothing else.
            let dq = out.hits.iter().any(|h| parsed.rules[h.rule].disqualify);
            prop_assert_eq!(out.disqualified, dq);
            prop_assert_eq!(out.tier() == leadsort::rules::Tier::Disqualified, dq);
            // explain sees the same outcome, and its points add up to the score.
            let e = engine.explain(&parsed, &row[..]);
            prop_assert_eq!(&e.outcome, &out);
            let traced: f64 = e.rules.iter().map(|r| r.points).sum::<f64>()
                + e.groups.iter().map(|g| g.capped - g.raw).sum::<f64>();
            prop_assert_eq!(traced.round() as i64, out.score);
            for t in &e.rules {
                let holds = t.when.as_ref().is_none_or(|w| w.holds());
                let per = matches!(parsed.rules[t.rule].points, Some(leadsort::rules::Points::Per { .. }));
                // A matched rule's condition holds; a rule whose condition holds matched,
                // unless it counts points per unit and the cell gave none.
                prop_assert!(!t.matched || holds, "{}", parsed.rules[t.rule].name);
                prop_assert!(t.matched || !holds || per, "{}", parsed.rules[t.rule].name);
            }
            // The reasons name every matched rule, in order, and add up to the score.
            engine.write_reasons(&out, &mut reasons);
            let named: Vec<usize> = out.hits.iter().map(|h| h.rule).collect();
            for (i, rule) in parsed.rules.iter().enumerate() {
                let listed = reasons.split("; ").any(|r| r.starts_with(&format!("{} ", rule.name)));
                prop_assert_eq!(listed, named.contains(&i), "{} in {:?}", rule.name, reasons);
            }
        }
    }
}

#[test]
fn header_only_input_gives_empty_queues() {
    let env = Env::new();
    env.write(
        "rules.toml",
        rules_toml(
            &[RuleSpec {
                kind: 0,
                n: 1,
                points: 5,
                group: None,
                per: false,
                disqualify: false,
            }],
            (10, 10),
            5,
        ),
    );
    env.write("in.csv", csv_bytes(&[]));
    std::fs::create_dir(env.path("out")).unwrap();
    env.classify(&["in.csv", "--split", "out", "-q"])
        .assert()
        .success();
    assert_eq!(rows(&env.read("out/sales.csv")).len(), 1);
    assert_eq!(ids_in(&env, "out/rejected.csv").len(), 0);
}
