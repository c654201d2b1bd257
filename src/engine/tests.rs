//! Every operator and the score arithmetic, on single cells. As of 2026-11-27 throughout.

use std::path::Path;

use jiff::civil::Date;

use super::*;
use crate::rules;

fn as_of() -> Date {
    Date::new(2026, 11, 27).unwrap()
}

/// An engine for `body` (rules.toml without version and tiers) over `header`.
fn engine(body: &str, header: &[&str]) -> Engine {
    let text = format!("version = 1\n[tiers]\nwarm = 50\n{body}");
    let rules =
        rules::from_str(Path::new("test.toml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let header = Header::new(header.iter().map(|s| s.to_string()).collect());
    Engine::compile(&rules, &header, as_of()).unwrap()
}

fn run(engine: &Engine, row: &[&str]) -> (Outcome, String, Stats) {
    let mut scratch = engine.scratch();
    let mut out = Outcome::default();
    engine.evaluate(row, &mut scratch, &mut out);
    // Without reasons, the same decision with no hits recorded.
    let mut lean = Outcome::default();
    engine.evaluate_without_hits(row, &mut engine.scratch(), &mut lean);
    assert!(lean.hits.is_empty());
    assert_eq!(
        lean,
        Outcome {
            hits: Vec::new(),
            ..out.clone()
        },
        "{row:?}"
    );
    let mut reasons = String::new();
    engine.write_reasons(&out, &mut reasons);
    (out, reasons, scratch.stats)
}

/// Whether `when` (on field `f`) matches a contact whose `f` cell is `cell`.
fn matches(when: &str, cell: &str) -> bool {
    let e = engine(
        &format!("[[rule]]\nname = \"R\"\nwhen = {when}\npoints = 1\n"),
        &["f"],
    );
    !run(&e, &[cell]).0.hits.is_empty()
}

/// Check a table of (cell, expected) for one condition.
fn check(when: &str, cases: &[(&str, bool)]) {
    for (cell, want) in cases {
        assert_eq!(matches(when, cell), *want, "when = {when}, cell {cell:?}");
    }
}

#[test]
fn equals_text_ignores_case_and_surrounding_space() {
    check(
        r#"{ field = "f", equals = "Software" }"#,
        &[
            ("software", true),
            (" SOFTWARE ", true),
            ("Software\t", true),
            ("Softwares", false),
            ("", false),
        ],
    );
}

#[test]
fn equals_case_sensitive_still_trims() {
    check(
        r#"{ field = "f", equals = "Software", case_sensitive = true }"#,
        &[
            ("Software", true),
            (" Software ", true),
            ("software", false),
        ],
    );
}

#[test]
fn equals_folds_non_ascii_case() {
    check(
        r#"{ field = "f", equals = "Müller" }"#,
        &[("MÜLLER", true), ("müller", true), ("Muller", false)],
    );
}

#[test]
fn equals_number_bool_and_date_compare_by_type() {
    check(
        r#"{ field = "f", equals = 200 }"#,
        &[
            ("200", true),
            ("200.0", true),
            (" 200 ", true),
            ("1,200", false),
            ("abc", false),
            ("", false),
        ],
    );
    check(
        r#"{ field = "f", equals = true }"#,
        &[("yes", true), ("X", true), ("no", false), ("", false)],
    );
    check(
        r#"{ field = "f", equals = 2026-01-05 }"#,
        &[
            ("2026-01-05", true),
            ("2026-01-05T09:00:00Z", true),
            ("2026-01-06", false),
        ],
    );
}

#[test]
fn string_literals_take_the_declared_type_of_their_field() {
    let e = engine(
        "[fields]\nd = { column = \"d\", type = \"date\", formats = [\"%m/%d/%Y\"] }\n\
         n = { column = \"n\", type = \"number\" }\nb = { column = \"b\", type = \"bool\" }\n\
         [[rule]]\nname = \"D\"\nwhen = { field = \"d\", equals = \"2026-11-03\" }\npoints = 1\n\
         [[rule]]\nname = \"N\"\nwhen = { field = \"n\", in = [\"1,200\", \"5\"] }\npoints = 10\n\
         [[rule]]\nname = \"B\"\nwhen = { field = \"b\", equals = \"yes\" }\npoints = 100\n",
        &["d", "n", "b"],
    );
    assert_eq!(run(&e, &["11/03/2026", "1200", "TRUE"]).0.score, 111);
    assert_eq!(run(&e, &["2026-11-03T10:00:00Z", "5.0", "1"]).0.score, 111);
    assert_eq!(run(&e, &["2026-11-04", "12", "no"]).0.score, 0);
}

#[test]
fn not_equals() {
    check(
        r#"{ field = "f", not_equals = "Software" }"#,
        &[("Retail", true), (" software", false), ("", true)],
    );
    // A number test on an empty or unreadable cell is false, whichever way it points.
    check(
        r#"{ field = "f", not_equals = 5 }"#,
        &[("6", true), ("5", false), ("", false), ("five", false)],
    );
}

#[test]
fn in_and_not_in() {
    check(
        r#"{ field = "f", in = ["US", "CA"] }"#,
        &[("us", true), (" CA ", true), ("UK", false), ("", false)],
    );
    check(
        r#"{ field = "f", in = [1, 2] }"#,
        &[("2", true), ("2.0", true), ("3", false), ("", false)],
    );
    check(
        r#"{ field = "f", in = ["none", 0] }"#,
        &[("None", true), ("0", true), ("1", false)],
    );
    check(
        r#"{ field = "f", not_in = ["student", "intern"] }"#,
        &[
            ("Student", false),
            (" INTERN ", false),
            ("Engineer", true),
            ("", true),
        ],
    );
    check(
        r#"{ field = "f", in = [] }"#,
        &[("anything", false), ("", false)],
    );
}

#[test]
fn substring_operators() {
    check(
        r#"{ field = "f", contains = "director" }"#,
        &[
            ("Art Director", true),
            ("DIRECTORATE", true),
            ("dir", false),
            ("", false),
        ],
    );
    check(
        r#"{ field = "f", contains_any = ["vp", "chief", "head of"] }"#,
        &[
            ("SVP Ops", true),
            ("Chief of Staff", true),
            ("HEAD OF GROWTH", true),
            ("Vice President", false),
            ("", false),
        ],
    );
    check(
        r#"{ field = "f", starts_with = "head" }"#,
        &[
            ("Head of Growth", true),
            ("  head of data", true),
            ("Ahead", false),
        ],
    );
    check(
        r#"{ field = "f", ends_with = "officer" }"#,
        &[
            ("Chief Executive Officer", true),
            ("CFO officer ", true),
            ("Officer Dibble", false),
        ],
    );
}

#[test]
fn matches_is_a_case_insensitive_regex_unless_told() {
    check(
        r#"{ field = "f", matches = "^(vp|svp)\\b" }"#,
        &[
            ("VP Sales", true),
            (" svp, ops", true),
            ("vpn admin", false),
            ("", false),
        ],
    );
    check(
        r#"{ field = "f", matches = "^VP", case_sensitive = true }"#,
        &[("VP Sales", true), ("vp sales", false)],
    );
}

#[test]
fn domain_in_reads_after_the_last_at() {
    check(
        r#"{ field = "f", domain_in = ["gmail.com", "yahoo.com"] }"#,
        &[
            ("ann@Gmail.com", true),
            ("ann@gmail.com ", true),
            ("x@y@yahoo.com", true),
            ("ann@sub.gmail.com", false),
            ("gmail.com", false),
            ("", false),
        ],
    );
}

#[test]
fn is_reads_booleans() {
    check(
        r#"{ field = "f", is = true }"#,
        &[
            ("yes", true),
            ("Y", true),
            ("1", true),
            ("x", true),
            ("TRUE", true),
            ("no", false),
            ("", false),
            ("maybe", false),
        ],
    );
    check(
        r#"{ field = "f", is = false }"#,
        &[
            ("no", true),
            ("", true),
            ("0", true),
            ("N", true),
            ("yes", false),
            ("maybe", false),
        ],
    );
}

#[test]
fn present_and_missing_treat_blank_as_empty() {
    check(
        r#"{ field = "f", present = true }"#,
        &[("a", true), ("  ", false), ("", false)],
    );
    check(
        r#"{ field = "f", missing = true }"#,
        &[("", true), (" \t", true), ("a", false)],
    );
    check(
        r#"{ field = "f", missing = false }"#,
        &[("a", true), ("", false)],
    );
}

#[test]
fn number_comparisons() {
    let bad = [("", false), ("N/A", false), ("ten", false)];
    check(
        r#"{ field = "f", gt = 10 }"#,
        &[("11", true), ("10", false), ("10.5", true)],
    );
    check(
        r#"{ field = "f", at_least = 10 }"#,
        &[("10", true), ("9.99", false), ("1,200", true)],
    );
    check(
        r#"{ field = "f", lt = 10 }"#,
        &[("9", true), ("10", false), ("-3", true)],
    );
    check(
        r#"{ field = "f", at_most = 10 }"#,
        &[("10", true), ("10.01", false)],
    );
    check(
        r#"{ field = "f", between = [10, 20] }"#,
        &[("10", true), ("20", true), ("20.01", false), ("9", false)],
    );
    for op in [
        "gt = 0",
        "at_least = 0",
        "lt = 100",
        "at_most = 100",
        "between = [0, 100]",
    ] {
        check(&format!("{{ field = \"f\", {op} }}"), &bad);
    }
}

#[test]
fn several_operators_in_one_table_all_hold() {
    check(
        r#"{ field = "f", at_least = 10, at_most = 20 }"#,
        &[("15", true), ("25", false), ("5", false)],
    );
}

#[test]
fn day_arithmetic_at_the_boundaries() {
    // 2026-10-28 is exactly 30 days before 2026-11-27.
    check(
        r#"{ field = "f", within_days = 30 }"#,
        &[
            ("2026-10-28", true),
            ("2026-10-27", false),
            ("2026-12-25", true),
            ("2026-11-27T23:00:00", true),
            ("", false),
            ("soon", false),
        ],
    );
    // 2026-05-31 is exactly 180 days before.
    check(
        r#"{ field = "f", older_than_days = 180 }"#,
        &[
            ("2026-05-31", false),
            ("2026-05-30", true),
            ("", false),
            ("31/05/2026", false),
        ],
    );
    check(
        r#"{ field = "f", before = 2026-01-01 }"#,
        &[("2025-12-31", true), ("2026-01-01", false)],
    );
    check(
        r#"{ field = "f", after = "2026-01-01" }"#,
        &[("2026-01-02", true), ("2026-01-01", false)],
    );
    check(
        r#"{ field = "f", between = [2026-01-01, 2026-01-31] }"#,
        &[
            ("2026-01-01", true),
            ("2026-01-31", true),
            ("2026-02-01", false),
        ],
    );
}

#[test]
fn date_formats_come_from_the_field() {
    let e = engine(
        "[fields]\nseen = { column = \"Seen\", type = \"date\", formats = [\"%d/%m/%Y\"] }\n\
         [[rule]]\nname = \"Recent\"\nwhen = { field = \"seen\", within_days = 30 }\npoints = 10\n",
        &["Seen"],
    );
    assert_eq!(run(&e, &["05/11/2026"]).0.score, 10);
    assert_eq!(run(&e, &["2026-11-05"]).0.score, 10);
    assert_eq!(run(&e, &["05/11/2025"]).0.score, 0);
    let (_, _, stats) = run(&e, &["11/25/2026"]);
    assert_eq!(stats.unreadable, vec![1]);
}

#[test]
fn combinators() {
    check(
        r#"{ all = [ { field = "f", contains = "a" }, { field = "f", contains = "b" } ] }"#,
        &[("ab", true), ("a", false)],
    );
    check(
        r#"{ any = [ { field = "f", equals = "x" }, { field = "f", equals = "y" } ] }"#,
        &[("Y", true), ("z", false)],
    );
    check(
        r#"{ not = { field = "f", in = ["x", "y"] } }"#,
        &[("z", true), ("x", false)],
    );
    // `not` inverts the result; an unreadable cell made the inner test false.
    check(
        r#"{ not = { field = "f", at_least = 10 } }"#,
        &[("5", true), ("15", false), ("n/a", true)],
    );
}

#[test]
fn points_per_multiplies_and_caps() {
    let e = engine(
        "[[rule]]\nname = \"Views\"\npoints_per = { field = \"f\", points = 1, max = 10 }\n",
        &["f"],
    );
    let score = |cell: &str| run(&e, &[cell]).0.score;
    assert_eq!(score("3"), 3);
    assert_eq!(score("15"), 10);
    assert_eq!(score("-5"), 0);
    assert_eq!(score(""), 0);
    assert_eq!(score("2.5"), 3, "half away from zero");
    let (out, reasons, stats) = run(&e, &["lots"]);
    assert_eq!((out.score, out.hits.len(), reasons.as_str()), (0, 0, ""));
    assert_eq!(stats.unreadable, vec![1]);
    assert_eq!(run(&e, &["4"]).1, "Views +4");

    let neg = engine(
        "[[rule]]\nname = \"Bounces\"\npoints_per = { field = \"f\", points = -2, max = 10 }\n",
        &["f"],
    );
    assert_eq!(run(&neg, &["3"]).0.score, -6);
    assert_eq!(run(&neg, &["8"]).0.score, -10);
    assert_eq!(run(&neg, &["8"]).1, "Bounces -10");
}

const GROUPED: &str = r#"
[groups]
fit = { max = 30, min = -5 }
engagement = {}

[[rule]]
name = "Title"
group = "fit"
when = { field = "title", contains = "director" }
points = 20

[[rule]]
name = "Size"
group = "fit"
when = { field = "size", at_least = 200 }
points = 15

[[rule]]
name = "Tiny"
group = "fit"
when = { field = "size", at_most = 5 }
points = -25

[[rule]]
name = "Demo"
group = "engagement"
when = { field = "demo", is = true }
points = 30

[[rule]]
name = "Free mail"
when = { field = "email", domain_in = ["gmail.com"] }
points = -10
"#;

#[test]
fn group_caps_and_floors_show_in_the_reasons() {
    let e = engine(GROUPED, &["title", "size", "demo", "email"]);
    let (out, reasons, _) = run(&e, &["Director", "500", "yes", "a@gmail.com"]);
    assert_eq!(out.groups, vec![30, 30]);
    assert_eq!(out.score, 50);
    assert_eq!(
        reasons,
        "Title +20; Size +15; Demo +30; Free mail -10; fit capped at 30 -5"
    );

    let (out, reasons, _) = run(&e, &["Intern", "3", "no", "a@acme.com"]);
    assert_eq!(out.groups, vec![-5, 0]);
    assert_eq!(out.score, -5);
    assert_eq!(reasons, "Tiny -25; fit floored at -5 +20");
}

#[test]
fn the_score_is_the_capped_sum_of_the_reasons() {
    let e = engine(GROUPED, &["title", "size", "demo", "email"]);
    for row in [
        ["Director", "500", "yes", "a@gmail.com"],
        ["Intern", "3", "no", "a@acme.com"],
        ["", "", "", ""],
        ["director", "1,000", "x", "b@GMAIL.COM"],
    ] {
        let (out, _, _) = run(&e, &row);
        let hits: f64 = out.hits.iter().map(|h| h.points).sum();
        let clamps: f64 = out.clamps.iter().map(|c| c.delta).sum();
        assert_eq!(out.score, (hits + clamps).round() as i64, "{row:?}");
    }
}

const TIERED: &str = r#"
[groups]
fit = { max = 50 }

[tiers]
warm = 50
hot = { score = 80, fit = 30 }

[queues]
hot = "key-accounts"

[[rule]]
name = "Fit"
group = "fit"
points_per = { field = "fit", points = 1 }

[[rule]]
name = "Other"
points_per = { field = "other", points = 1 }

[[rule]]
name = "Unsubscribed"
when = { field = "unsub", is = true }
disqualify = true

[[route]]
name = "Partner"
when = { field = "status", equals = "partner" }
queue = "partners"

[[route]]
name = "Also partner"
when = { field = "status", contains = "part" }
queue = "marketing"
"#;

/// TIERED has its own [tiers]; build it without the default ones.
fn tiered() -> Engine {
    let rules = rules::from_str(Path::new("t.toml"), &format!("version = 1\n{TIERED}")).unwrap();
    let header = Header::new(
        ["fit", "other", "unsub", "status"]
            .map(String::from)
            .to_vec(),
    );
    Engine::compile(&rules, &header, as_of()).unwrap()
}

#[test]
fn tiers_from_the_top_with_group_requirements() {
    let e = tiered();
    let tier = |fit: &str, other: &str| {
        let (out, _, _) = run(&e, &[fit, other, "", ""]);
        (out.tier(), e.queue_name(&out).to_string())
    };
    assert_eq!(tier("30", "50"), (Tier::Hot, "key-accounts".into()));
    assert_eq!(
        tier("29", "60"),
        (Tier::Warm, "sales".into()),
        "hot needs fit 30"
    );
    assert_eq!(
        tier("20", "30"),
        (Tier::Warm, "sales".into()),
        "warm from exactly 50"
    );
    assert_eq!(tier("20", "29"), (Tier::Cold, "marketing".into()));
    assert_eq!(
        e.queues,
        vec![
            "key-accounts",
            "sales",
            "marketing",
            "suppressed",
            "partners"
        ]
    );
}

#[test]
fn disqualified_keeps_its_score_and_skips_routes() {
    let e = tiered();
    let (out, reasons, _) = run(&e, &["40", "50", "yes", "partner"]);
    assert_eq!(out.score, 90);
    assert_eq!(out.tier(), Tier::Disqualified);
    assert_eq!(e.queue_name(&out), "suppressed");
    assert_eq!(out.route, None);
    assert_eq!(reasons, "Fit +40; Other +50; Unsubscribed (disqualified)");
}

#[test]
fn the_first_matching_route_decides() {
    let e = tiered();
    let (out, reasons, _) = run(&e, &["40", "50", "no", "Partner"]);
    assert_eq!(
        out.tier(),
        Tier::Hot,
        "a route changes the queue, not the tier"
    );
    assert_eq!(e.queue_name(&out), "partners");
    assert!(reasons.ends_with("; route: Partner"), "{reasons}");
    let (out, _, _) = run(&e, &["0", "0", "", "partial"]);
    assert_eq!(e.queue_name(&out), "marketing");
}

#[test]
fn a_route_for_some_tiers_passes_the_others_by() {
    // Ahead of the file's own routes: the first route that is for the tier and matches.
    let text = format!("version = 1\n{TIERED}").replacen("[[route]]", "[[route]]\nname = \"Cold\"\nwhen = { field = \"status\", present = true }\ntiers = [\"cold\"]\nqueue = \"nurture\"\n[[route]]", 1);
    let rules = rules::from_str(Path::new("t.toml"), &text).unwrap_or_else(|e| panic!("{e}"));
    let header = Header::new(
        ["fit", "other", "unsub", "status"]
            .map(String::from)
            .to_vec(),
    );
    let e = Engine::compile(&rules, &header, as_of()).unwrap();
    // A hot partner: the cold-only route passes it by, the file's "Partner" route takes it.
    let (out, _, _) = run(&e, &["40", "50", "no", "Partner"]);
    assert_eq!(out.tier(), Tier::Hot);
    assert_eq!(e.queue_name(&out), "partners");
    // A cold contact with a status: the cold-only route.
    let (out, reasons, _) = run(&e, &["0", "0", "", "partial"]);
    assert_eq!(out.tier(), Tier::Cold);
    assert_eq!(e.queue_name(&out), "nurture");
    assert!(reasons.ends_with("route: Cold"), "{reasons}");
    // The explanation says why a route was passed by.
    let explained = e.explain(&rules, &["40", "50", "no", "Partner"][..]);
    let cold = &explained.routes[0];
    assert!(!cold.for_tier && cold.when.holds() && !cold.matched());
}

#[test]
fn unreadable_cells_count_once_per_row_and_field() {
    let e = engine(
        "[[rule]]\nname = \"A\"\nwhen = { field = \"n\", at_least = 5 }\npoints = 1\n\
         [[rule]]\nname = \"B\"\nwhen = { field = \"n\", lt = 2 }\npoints = 1\n\
         [[rule]]\nname = \"C\"\nwhen = { field = \"d\", within_days = 5 }\npoints = 1\n",
        &["n", "d"],
    );
    let mut scratch = e.scratch();
    let mut out = Outcome::default();
    for row in [
        ["x", "2026-11-27"],
        ["1,5", "yesterday"],
        ["3", ""],
        ["", "2026-02-30"],
    ] {
        e.evaluate(&row[..], &mut scratch, &mut out);
    }
    assert_eq!(e.typed_fields, vec!["n", "d"]);
    assert_eq!(scratch.stats.unreadable, vec![2, 2]);
}

#[test]
fn a_declared_type_counts_unreadable_cells_even_for_text_rules() {
    let e = engine(
        "[fields]\nsize = { column = \"Size\", type = \"number\" }\n\
         [[rule]]\nname = \"A\"\nwhen = { field = \"size\", equals = \"unknown\" }\npoints = 1\n",
        &["Size"],
    );
    let (out, _, stats) = run(&e, &["Unknown"]);
    assert_eq!(out.score, 1);
    assert_eq!(stats.unreadable, vec![1]);
}

#[test]
fn optional_fields_absent_from_the_input_read_as_empty() {
    let e = engine(
        "[fields]\nstatus = { column = \"Status\", optional = true }\n\
         [[rule]]\nname = \"No status\"\nwhen = { field = \"status\", missing = true }\npoints = 5\n",
        &["Other"],
    );
    assert_eq!(
        e.bindings,
        vec![Binding {
            field: "status".into(),
            column: None
        }]
    );
    assert_eq!(run(&e, &["x"]).0.score, 5);
}

#[test]
fn fields_resolve_by_alias_then_loosely() {
    let e = engine(
        "[fields]\ntitle = [\"Job Title\", \"title\"]\n\
         [[rule]]\nname = \"T\"\nwhen = { field = \"title\", present = true }\npoints = 1\n\
         [[rule]]\nname = \"S\"\nwhen = { field = \"company_size\", at_least = 1 }\npoints = 1\n",
        &["title", "Company Size", "Job Title"],
    );
    assert_eq!(e.bindings[0].column, Some(2), "first alias present wins");
    assert_eq!(e.bindings[1].column, Some(1), "company_size ~ Company Size");
}

#[test]
fn missing_columns_name_the_closest_header() {
    let text = "version = 1\n[tiers]\nwarm = 1\n[[rule]]\nname = \"A\"\nwhen = { field = \"employes\", gt = 1 }\npoints = 1\n";
    let rules = rules::from_str(Path::new("t.toml"), text).unwrap();
    let header = Header::new(vec!["email".into(), "employees".into()]);
    let err = Engine::compile(&rules, &header, as_of()).unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(err[0].field, "employes");
    assert_eq!(
        err[0].problem,
        Problem::Missing {
            closest: Some("employees".into()),
            declared: None,
        }
    );
    assert_eq!(rules.source.position(&err[0].span), "t.toml:6:18");
    // A name close to one [fields] declares is most likely that field, misspelt.
    let text = "version = 1\n[fields]\nindustry = { column = \"Industry\" }\n[tiers]\nwarm = 1\n\
                [[rule]]\nname = \"A\"\nwhen = { field = \"industy\", equals = \"saas\" }\npoints = 1\n";
    let rules = rules::from_str(Path::new("t.toml"), text).unwrap();
    let header = Header::new(vec!["Industry".into()]);
    let err = Engine::compile(&rules, &header, as_of()).unwrap_err();
    assert_eq!(
        err[0].problem,
        Problem::Missing {
            closest: Some("Industry".into()),
            declared: Some("industry".into()),
        }
    );
}

#[test]
fn points_format_in_reasons() {
    assert_eq!(fmt_number(20.0), "20");
    assert_eq!(fmt_number(-10.0), "-10");
    assert_eq!(fmt_number(2.5), "2.5");
    assert_eq!(fmt_number(1.0 / 3.0), "0.33");
    let e = engine("[[rule]]\nname = \"Half\"\npoints = 0.5\n", &["f"]);
    assert_eq!(run(&e, &["x"]).1, "Half +0.5");
    assert_eq!(run(&e, &["x"]).0.score, 1, "0.5 rounds away from zero");
}

/// Every reasons text is made of what `reasons_alphabet` says: encoders rely on it to skip
/// quoting.
#[test]
fn the_reasons_alphabet_covers_every_reasons_text() {
    let mut texts = Vec::new();
    let e = engine(GROUPED, &["title", "size", "demo", "email"]);
    for row in [
        ["Director", "500", "yes", "a@gmail.com"],
        ["Intern", "3", "no", "a@acme.com"],
    ] {
        texts.push((e.reasons_alphabet(), run(&e, &row).1));
    }
    let t = tiered();
    for row in [["2.5", "-1.25", "no", "partner"], ["7", "1", "yes", "x"]] {
        texts.push((t.reasons_alphabet(), run(&t, &row).1));
    }
    for (alphabet, text) in &texts {
        assert!(!text.is_empty());
        assert!(alphabet.first[usize::from(text.as_bytes()[0])], "{text}");
        for b in text.bytes() {
            assert!(
                alphabet.any[usize::from(b)],
                "{:?} in {text}",
                char::from(b)
            );
        }
    }
    // And nothing more than that: a comma appears only if a name has one.
    assert!(!texts[0].0.any[usize::from(b',')]);
    let comma = engine(
        "[[rule]]\nname = \"Big, busy\"\nwhen = { field = \"f\", present = true }\npoints = 1\n",
        &["f"],
    );
    assert!(comma.reasons_alphabet().any[usize::from(b',')]);
}

/// `reasons()` gives, one by one, exactly what the reasons text says.
#[test]
fn reason_items_say_what_the_reasons_text_says() {
    let points = |p: f64| {
        let mut s = String::new();
        if p >= 0.0 {
            s.push('+');
        }
        push_number(&mut s, p);
        s
    };
    let render = |e: &Engine, out: &Outcome| -> String {
        let parts: Vec<String> = e
            .reasons(out)
            .map(|r| match r {
                Reason::Rule {
                    rule,
                    points: p,
                    decayed_from,
                    disqualified,
                } => {
                    let mut s = rule.to_string();
                    if let Some(p) = p {
                        s.push(' ');
                        s.push_str(&points(p));
                    }
                    if let Some(from) = decayed_from {
                        s.push_str(" (decayed from ");
                        push_number(&mut s, from);
                        s.push(')');
                    }
                    if disqualified {
                        s.push_str(" (disqualified)");
                    }
                    s
                }
                Reason::Cap {
                    group,
                    limit,
                    floor,
                    points: p,
                } => {
                    let how = if floor { "floored" } else { "capped" };
                    let mut l = String::new();
                    push_number(&mut l, limit);
                    format!("{group} {how} at {l} {}", points(p))
                }
                Reason::Route { route } => format!("route: {route}"),
            })
            .collect();
        parts.join("; ")
    };
    let grouped = engine(GROUPED, &["title", "size", "demo", "email"]);
    let tiered = tiered();
    let cases: [(&Engine, &[&str]); 5] = [
        (&grouped, &["Director", "500", "yes", "a@gmail.com"]),
        (&grouped, &["Intern", "3", "no", "a@acme.com"]),
        (&tiered, &["2.5", "-1.25", "no", "partner"]),
        (&tiered, &["7", "1", "yes", "x"]),
        (&tiered, &["40", "", "no", ""]),
    ];
    for (e, row) in cases {
        let (out, text, _) = run(e, row);
        assert_eq!(render(e, &out), text, "{row:?}");
    }
}

/// Points halve every half-life since the date; no date, or a date after the as-of date,
/// leaves them whole. A group's decay applies to its rules that have none of their own.
#[test]
fn decay_fades_points_with_the_age_of_a_date() {
    let e = engine(
        r#"
[groups]
engagement = { decay = { field = "seen", half_life_days = 30 } }
[[rule]]
name = "Demo"
group = "engagement"
when = { field = "demo", is = true }
points = 40
[[rule]]
name = "Webinar"
group = "engagement"
when = { field = "webinar", is = true }
points = 10
decay = { field = "webinar_on", half_life_days = 10 }
[[rule]]
name = "Big"
when = { field = "size", at_least = 100 }
points = 20
"#,
        &["demo", "seen", "webinar", "webinar_on", "size"],
    );
    // 2026-11-27 as of: 30 days before is 2026-10-28, 10 days before is 2026-11-17.
    let (out, reasons, _) = run(&e, &["yes", "2026-10-28", "yes", "2026-11-17", "500"]);
    let points: Vec<f64> = out.hits.iter().map(|h| h.points).collect();
    assert_eq!(points, vec![20.0, 5.0, 20.0]);
    assert_eq!(out.score, 45);
    assert_eq!(
        reasons,
        "Demo +20 (decayed from 40); Webinar +5 (decayed from 10); Big +20"
    );
    // 60 days: a quarter.
    let (out, _, _) = run(&e, &["yes", "2026-09-28", "no", "", "1"]);
    assert_eq!(out.hits[0].points, 10.0);
    // No date, an unreadable one, a date after the as-of date: no decay.
    for seen in ["", "someday", "2026-12-25"] {
        let (out, reasons, _) = run(&e, &["yes", seen, "no", "", "1"]);
        assert_eq!(out.score, 40, "{seen:?}");
        assert_eq!(reasons, "Demo +40", "{seen:?}");
    }
    // Rounded half away from zero at the end: 40 * 0.5^(45/30) = 14.14 → 14.
    let (out, reasons, _) = run(&e, &["yes", "2026-10-13", "no", "", "1"]);
    assert_eq!(out.score, 14);
    assert_eq!(reasons, "Demo +14.14 (decayed from 40)");
    // Over a thousand half-lives (40 years at 10 days): the points are 0, and the reasons still
    // say what they were, in text and in JSON Lines.
    let (out, reasons, _) = run(&e, &["no", "", "yes", "1986-11-27", "1"]);
    assert_eq!(out.score, 0);
    assert_eq!(reasons, "Webinar +0 (decayed from 10)");
    let from: Vec<_> = (e.reasons(&out))
        .map(|r| match r {
            Reason::Rule { decayed_from, .. } => decayed_from,
            _ => None,
        })
        .collect();
    assert_eq!(from, vec![Some(10.0)]);
}

#[test]
fn a_penalty_decays_to_plus_0_and_decay_false_keeps_it_whole() {
    let rules = r#"
[groups]
engagement = { decay = { field = "seen", half_life_days = 30 } }
[[rule]]
name = "Gone quiet"
group = "engagement"
when = { field = "seen", older_than_days = 180 }
points = -20
"#;
    // Ten years quiet: -20 × 0.5^122 is -0.000…, shown +0 rather than -0.
    let e = engine(rules, &["seen"]);
    let (out, reasons, _) = run(&e, &["2016-11-27"]);
    assert_eq!(out.score, 0);
    assert_eq!(reasons, "Gone quiet +0 (decayed from -20)");
    let e = engine(&format!("{rules}decay = false\n"), &["seen"]);
    let (out, reasons, _) = run(&e, &["2016-11-27"]);
    assert_eq!(out.score, -20);
    assert_eq!(reasons, "Gone quiet -20");
}

/// The points before decay are given exactly however far they decayed: points times a tiny
/// factor can fall below what a float holds exactly, and dividing it back would not return
/// them.
#[test]
fn decayed_from_is_exact_after_any_decay() {
    for points in ["0.3", "0.7", "1.1", "33.3"] {
        let e = engine(
            &format!(
                "[[rule]]\nname = \"Seen\"\nwhen = {{ field = \"seen\", contains = \"-\" }}\n\
                 points = {points}\ndecay = {{ field = \"seen\", half_life_days = 1 }}\n"
            ),
            &["seen"],
        );
        let expected: f64 = points.parse().unwrap();
        for seen in ["2026-11-26", "2023-01-01", "1900-01-01"] {
            let (out, _, _) = run(&e, &[seen]);
            let from: Vec<_> = (e.reasons(&out))
                .map(|r| match r {
                    Reason::Rule { decayed_from, .. } => decayed_from,
                    _ => None,
                })
                .collect();
            assert_eq!(from, vec![Some(expected)], "{points} since {seen}");
        }
    }
}

#[test]
fn reps_territories_and_the_owner_column() {
    let text = "version = 1\n[tiers]\nwarm = 10\n[[rule]]\nname = \"A\"\npoints = 10\n\
                [balance]\nowner = \"Owner\"\n\
                [[rep]]\nname = \"Ann\"\ncapacity = 5\nwhen = { field = \"country\", in = [\"US\"] }\n\
                [[rep]]\nname = \"Bo\"\ncapacity = 5\n\
                [[rep]]\nname = \"Cy\"\ncapacity = 5\nwhen = { field = \"country\", in = [\"US\", \"CA\"] }\n";
    let rules = rules::from_str(Path::new("t.toml"), text).unwrap();
    let header = Header::new(["country", "Owner"].map(String::from).to_vec());
    let e = Engine::compile(&rules, &header, as_of()).unwrap();
    let mut scratch = e.scratch();
    let mut out = Outcome::default();
    for (row, want) in [
        (["US", " Bo "], 0b101),
        (["CA", ""], 0b100),
        (["FR", ""], 0),
    ] {
        e.evaluate(&row[..], &mut scratch, &mut out);
        assert_eq!(e.territories(&row[..], &mut scratch), want, "{row:?}");
    }
    assert_eq!(e.owner(&["US", " Bo "][..]), "Bo");
}

/// The rules `rules` in order, rule `i` after `gaps[i]` rules that test whether column
/// `filler` is filled (which no probe and no range decides): so that rules on one column
/// lie apart among the matched-rules bits. The rule file, and where each of `rules` is.
fn spread(rules: &[String], gaps: &[usize], filler: &str) -> (String, Vec<usize>) {
    let mut body = String::new();
    let mut at = Vec::new();
    let mut next = 0;
    for (i, (rule, &gap)) in rules.iter().zip(gaps).enumerate() {
        for k in 0..gap {
            body.push_str(&format!(
                "[[rule]]\nname = \"F{i}.{k}\"\nwhen = {{ field = \"{filler}\", present = true }}\npoints = 1\n"
            ));
        }
        body.push_str(rule);
        at.push(next + gap);
        next += gap + 1;
    }
    (body, at)
}

mod shared_probes {
    //! Tests of one kind on one column share one probe per row (`probe`): the result must be
    //! what each test gives on its own.
    use proptest::prelude::*;

    use super::*;

    const PIECES: &[&str] = &[
        "vp",
        "VP",
        "sales",
        "Sales",
        "lead",
        "Müller",
        "MÜLLER",
        "straße",
        "école",
        "ÉCOLE",
        "gmail.com",
        "GMail.com",
        "acme.io",
        "x",
        "@",
        " ",
        "",
    ];
    pub(super) const PATTERNS: &[&str] = &["^vp", "sales$", "m.ller", r"\bx\b", "(?i)école", "a+"];

    fn piece() -> impl Strategy<Value = String> {
        proptest::sample::select(PIECES).prop_map(str::to_string)
    }

    /// A needle or listed word: not blank (the rules forbid it).
    fn word() -> impl Strategy<Value = String> {
        proptest::sample::select(&PIECES[..PIECES.len() - 2]).prop_map(str::to_string)
    }

    pub(super) fn list() -> impl Strategy<Value = String> {
        proptest::collection::vec(word(), 1..4).prop_map(|v| {
            let quoted: Vec<String> = v.iter().map(|w| format!("{w:?}")).collect();
            format!("[{}]", quoted.join(", "))
        })
    }

    /// One test on column `f` or `g`, any of the kinds probes share (and one they do not).
    pub(super) fn test() -> impl Strategy<Value = String> {
        let op = prop_oneof![
            list().prop_map(|l| format!("contains_any = {l}")),
            word().prop_map(|w| format!("contains = {w:?}")),
            list().prop_map(|l| format!("in = {l}")),
            list().prop_map(|l| format!("not_in = {l}")),
            list().prop_map(|l| format!("domain_in = {l}")),
            proptest::sample::select(PATTERNS).prop_map(|p| format!("matches = {p:?}")),
            word().prop_map(|w| format!("equals = {w:?}")),
        ];
        (proptest::sample::select(&["f", "g"][..]), op, any::<bool>()).prop_map(
            |(field, op, case)| format!("{{ field = \"{field}\", {op}, case_sensitive = {case} }}"),
        )
    }

    pub(super) fn cell() -> impl Strategy<Value = String> {
        proptest::collection::vec(piece(), 0..5).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
        #[test]
        fn a_shared_probe_gives_what_each_test_gives_alone(
            tests in proptest::collection::vec(test(), 1..10),
            rows in proptest::collection::vec((cell(), cell()), 1..6),
            gaps in proptest::collection::vec(0..120usize, 10),
        ) {
            let rule = |i: usize, when: &str| {
                format!("[[rule]]\nname = \"R{i}\"\nwhen = {when}\npoints = 1\n")
            };
            // Rule i is test i, after `gaps[i]` rules that no probe decides: a probe's
            // neighbouring tests then lie words apart among the matched-rules bits, near
            // enough to be decided four at a time or too far (see `Quad` in the engine).
            let singles: Vec<String> = tests.iter().enumerate().map(|(i, t)| rule(i, t)).collect();
            let (mut all, at) = spread(&singles, &gaps, "f");
            let shift = at.last().map_or(0, |last| last + 1 - tests.len());
            // And nested tests on the same probes: rule n + i is `all` of tests i and i + 1
            // (wrapping), rule 2n + i is `not` test i.
            let n = tests.len();
            for i in 0..n {
                let both = format!("{{ all = [{}, {}] }}", tests[i], tests[(i + 1) % n]);
                all.push_str(&rule(n + i, &both));
            }
            for (i, t) in tests.iter().enumerate() {
                all.push_str(&rule(2 * n + i, &format!("{{ not = {t} }}")));
            }
            // And rule 3n + i is `any` of tests i and i + 1.
            for i in 0..n {
                let either = format!("{{ any = [{}, {}] }}", tests[i], tests[(i + 1) % n]);
                all.push_str(&rule(3 * n + i, &either));
            }
            let together = engine(&all, &["f", "g"]);
            let alone: Vec<Engine> = tests
                .iter()
                .map(|t| engine(&rule(0, t), &["f", "g"]))
                .collect();
            // One scratch across rows, as a worker keeps it: stale bits would show. The rows
            // twice over: the second time, every probe answers from its cache of cells.
            let mut scratch = together.scratch();
            let mut out = Outcome::default();
            for (f, g) in rows.iter().chain(&rows) {
                let row = [f.as_str(), g.as_str()];
                together.evaluate(&row[..], &mut scratch, &mut out);
                let wants: Vec<bool> =
                    alone.iter().map(|e| !run(e, &row).0.hits.is_empty()).collect();
                // Rules past the tests moved up by the fillers.
                let got = |rule: usize| {
                    let rule = if rule < n { at[rule] } else { rule + shift };
                    out.hits.iter().any(|h| h.rule == rule)
                };
                for i in 0..n {
                    prop_assert_eq!(got(i), wants[i], "rule {} on {:?}", tests[i], row);
                    prop_assert_eq!(got(n + i), wants[i] && wants[(i + 1) % n], "all, {:?}", row);
                    prop_assert_eq!(got(2 * n + i), !wants[i], "not {} on {:?}", tests[i], row);
                    prop_assert_eq!(got(3 * n + i), wants[i] || wants[(i + 1) % n], "any, {:?}", row);
                }
            }
        }
    }
}

/// Typed rules decided together (a column's comparisons by one search, see `Steps` in the
/// matcher) hold where each alone does.
mod typed_together {
    use proptest::prelude::*;

    use super::*;

    const NUMBERS: &[&str] = &["-1", "0", "5", "10", "10.5", "1e9"];
    const DATES: &[&str] = &["2025-12-31", "2026-01-01", "2026-10-28", "2026-11-27"];
    const DAYS: &[&str] = &["0", "1", "30", "365"];

    /// One comparison on column `n` (numbers), `d` (dates) or `b` (booleans).
    pub(super) fn test() -> impl Strategy<Value = String> {
        let pick = |list: &'static [&'static str]| proptest::sample::select(list);
        let number = (
            pick(&["gt", "at_least", "lt", "at_most", "equals", "not_equals"]),
            pick(NUMBERS),
        )
            .prop_map(|(op, x)| format!("field = \"n\", {op} = {x}"));
        let between = (pick(NUMBERS), pick(NUMBERS)).prop_map(|(a, b)| {
            let value = |x: &str| x.parse::<f64>().unwrap_or_default();
            let (lo, hi) = if value(a) <= value(b) { (a, b) } else { (b, a) };
            format!("field = \"n\", between = [{lo}, {hi}]")
        });
        let date = (pick(&["before", "after"]), pick(DATES))
            .prop_map(|(op, x)| format!("field = \"d\", {op} = {x}"));
        let age = (pick(&["within_days", "older_than_days"]), pick(DAYS))
            .prop_map(|(op, x)| format!("field = \"d\", {op} = {x}"));
        let flag = (pick(&["is", "equals"]), any::<bool>())
            .prop_map(|(op, x)| format!("field = \"b\", {op} = {x}"));
        prop_oneof![number, between, date, age, flag].prop_map(|t| format!("{{ {t} }}"))
    }

    /// A contact: each cell readable, empty or not of its column's type.
    pub(super) fn row() -> impl Strategy<Value = [String; 3]> {
        let cell =
            |list: &'static [&'static str]| proptest::sample::select(list).prop_map(str::to_string);
        (
            cell(&[
                "", "N/A", "-1", "0", "5", "10", "10.5", "1,200", "1e9", "-0",
            ]),
            cell(&[
                "",
                "soon",
                "2025-12-31",
                "2026-01-01",
                "2026-10-28",
                "2026-11-27",
                "2027-03-01",
            ]),
            cell(&["", "yes", "no", "maybe", "1", "0"]),
        )
            .prop_map(|(n, d, b)| [n, d, b])
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
        #[test]
        fn typed_rules_together_hold_where_each_alone_does(
            tests in proptest::collection::vec(test(), 4..40),
            gaps in proptest::collection::vec(0..40usize, 40),
            rows in proptest::collection::vec(row(), 1..6),
        ) {
            // Rule i is test i, after `gaps[i]` rules on another column: a column's rules
            // then lie apart among the matched-rules bits, over several words.
            let rule = |name: String, when: &str| {
                format!("[[rule]]\nname = \"{name}\"\nwhen = {when}\npoints = 1\n")
            };
            let singles: Vec<String> =
                (tests.iter().enumerate()).map(|(i, t)| rule(format!("R{i}"), t)).collect();
            let (all, at) = spread(&singles, &gaps, "t");
            let header = ["n", "d", "b", "t"];
            let together = engine(&all, &header);
            let alone: Vec<Engine> = tests
                .iter()
                .map(|t| engine(&rule("R".into(), t), &header))
                .collect();
            let mut scratch = together.scratch();
            let mut out = Outcome::default();
            for [n, d, b] in &rows {
                let row = [n.as_str(), d.as_str(), b.as_str(), ""];
                together.evaluate(&row[..], &mut scratch, &mut out);
                for (i, e) in alone.iter().enumerate() {
                    let want = !run(e, &row).0.hits.is_empty();
                    let got = out.hits.iter().any(|h| h.rule == at[i]);
                    prop_assert_eq!(got, want, "{} on {:?}", tests[i], row);
                }
            }
        }
    }
}

/// Rules that are an `all` or an `any` of many tests (typed and probes' tests, their leaves
/// decided together, see `Lists` in the engine) hold where the tests, one by one, say so.
mod lists_of_leaves {
    use proptest::prelude::*;

    use super::*;

    /// A test a list decides as a leaf: a typed one, or one of a probe on `f` or `g`.
    fn leaf() -> impl Strategy<Value = String> {
        use super::shared_probes::{PATTERNS, list};
        let op = prop_oneof![
            list().prop_map(|l| format!("contains_any = {l}")),
            list().prop_map(|l| format!("in = {l}")),
            list().prop_map(|l| format!("not_in = {l}")),
            list().prop_map(|l| format!("domain_in = {l}")),
            proptest::sample::select(PATTERNS).prop_map(|p| format!("matches = {p:?}")),
        ];
        let text = (proptest::sample::select(&["f", "g"][..]), op)
            .prop_map(|(field, op)| format!("{{ field = \"{field}\", {op} }}"));
        prop_oneof![super::typed_together::test(), text]
    }

    /// A rule: one test, or an `all` (`false`) or `any` (`true`) of several.
    #[derive(Debug, Clone)]
    enum Rule {
        Single(String),
        List(bool, Vec<String>),
    }

    fn rule() -> impl Strategy<Value = Rule> {
        prop_oneof![
            2 => leaf().prop_map(Rule::Single),
            // Up to eight tests (decided in planes), sometimes one of them twice...
            2 => (any::<bool>(), proptest::collection::vec(leaf(), 2..=8), 0..2usize).prop_map(
                |(any, mut tests, twice)| {
                    tests.extend(tests[..twice].to_vec());
                    Rule::List(any, tests)
                }
            ),
            // ...and up to 79 (one by one, their leaves' bits crossing words).
            1 => (any::<bool>(), proptest::collection::vec(leaf(), 9..80))
                .prop_map(|(any, tests)| Rule::List(any, tests)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        #[test]
        fn a_list_holds_where_its_tests_one_by_one_say(
            rules in proptest::collection::vec(rule(), 1..160),
            rows in proptest::collection::vec(
                (super::typed_together::row(), super::shared_probes::cell(), super::shared_probes::cell()),
                1..5,
            ),
        ) {
            // Up to 160 rules: planes of several words, and quads and range searches
            // reaching across them.
            let mut body = String::new();
            for (i, r) in rules.iter().enumerate() {
                let when = match r {
                    Rule::Single(test) => test.clone(),
                    Rule::List(any, tests) => {
                        let kind = if *any { "any" } else { "all" };
                        format!("{{ {kind} = [{}] }}", tests.join(", "))
                    }
                };
                body.push_str(&format!("[[rule]]\nname = \"R{i}\"\nwhen = {when}\npoints = 1\n"));
            }
            // A word list is a probe's test only where its column has two: these make every
            // list's tests leaves.
            for field in ["f", "g"] {
                for op in ["in", "domain_in"] {
                    let when = format!("{{ field = \"{field}\", {op} = [\"zz\"] }}");
                    body.push_str(&format!("[[rule]]\nname = \"{field} {op}\"\nwhen = {when}\npoints = 1\n"));
                }
            }
            let text = format!("version = 1\n[tiers]\nwarm = 50\n{body}");
            let parsed = rules::from_str(Path::new("test.toml"), &text).unwrap();
            let header = ["n", "d", "b", "f", "g"].map(String::from).to_vec();
            let engine = Engine::compile(&parsed, &Header::new(header), as_of()).unwrap();
            let mut scratch = engine.scratch();
            let mut out = Outcome::default();
            for ([n, d, b], f, g) in &rows {
                let row = [n.as_str(), d.as_str(), b.as_str(), f.as_str(), g.as_str()];
                engine.evaluate(&row[..], &mut scratch, &mut out);
                // The explanation decides each test on its own, through the conditions.
                let explained = engine.explain(&parsed, &row[..]);
                for (i, trace) in explained.rules.iter().enumerate() {
                    let want = trace.when.as_ref().is_some_and(|w| w.holds());
                    let got = out.hits.iter().any(|h| h.rule == i);
                    prop_assert_eq!(got, want, "rule {} {:?} on {:?}", i, rules.get(i), row);
                }
            }
            // Every list was decided as a list of leaves.
            let decided = engine.plan.lists.as_ref().map_or(0, |l| {
                let planes = l.all.iter().chain(&l.any).map(|w| w.count_ones() as usize);
                planes.sum::<usize>() + l.long.len()
            });
            let lists = rules.iter().filter(|r| matches!(r, Rule::List(..))).count();
            prop_assert_eq!(decided, lists);
        }
    }
}

#[test]
fn short_lists_far_down_a_big_rule_file_are_decided_in_their_own_words() {
    // 130 rules of one test, then two lists of two tests: the lists' planes span the
    // third word of rules only.
    let single = "[[rule]]\nname = \"S{i}\"\nwhen = { field = \"n\", equals = {i} }\npoints = 1\n";
    let mut body: String = (0..130)
        .map(|i| single.replace("{i}", &i.to_string()))
        .collect();
    body.push_str(concat!(
        "[[rule]]\nname = \"All\"\nwhen = { all = [{ field = \"n\", at_least = 5 }, { field = \"b\", is = true }] }\npoints = 1000\n",
        "[[rule]]\nname = \"Any\"\nwhen = { any = [{ field = \"n\", lt = 0 }, { field = \"b\", is = true }] }\npoints = 10000\n",
    ));
    let e = engine(&body, &["n", "b"]);
    assert_eq!(
        e.plan.lists.as_ref().map(|l| (l.first, l.width)),
        Some((2, 1))
    );
    let score = |n: &str, b: &str| run(&e, &[n, b]).0.score;
    assert_eq!(score("7", "yes"), 11000 + 1);
    assert_eq!(score("7", "no"), 1);
    assert_eq!(score("3", "yes"), 10000 + 1);
    assert_eq!(score("-1", "no"), 10000);
}

#[test]
fn a_list_past_a_word_of_tests_reads_every_one() {
    // One test differs from the others, at every place of a list of 70 (bits across two
    // words, and a whole word of 64), and the list starts at several places in the bits.
    let holds = "{ field = \"n\", at_least = 0 }";
    let fails = "{ field = \"n\", lt = 0 }";
    for before in [0, 1, 63] {
        for odd in [0, 1, 62, 63, 64, 69] {
            let list = |kind: &str, usual: &str, other: &str| {
                let tests: Vec<&str> = (0..70)
                    .map(|i| if i == odd { other } else { usual })
                    .collect();
                format!("{{ {kind} = [{}] }}", tests.join(", "))
            };
            // `before` leaves of another list first, then the two lists under test.
            let mut body = String::new();
            if before > 0 {
                let tests = vec![holds; before + 1].join(", ");
                body.push_str(&format!(
                    "[[rule]]\nname = \"F\"\nwhen = {{ any = [{tests}] }}\npoints = 1\n"
                ));
            }
            let all = list("all", holds, fails);
            let any = list("any", fails, holds);
            body.push_str(&format!(
                "[[rule]]\nname = \"All\"\nwhen = {all}\npoints = 10\n"
            ));
            body.push_str(&format!(
                "[[rule]]\nname = \"Any\"\nwhen = {any}\npoints = 100\n"
            ));
            let e = engine(&body, &["n"]);
            let (out, reasons, _) = run(&e, &["5"]);
            let first = if before > 0 { 1 } else { 0 };
            // All fails on its one failing test; Any holds on its one holding test.
            assert_eq!(out.score, 100 + first, "{before} {odd}: {reasons}");
        }
    }
}

#[test]
fn thousands_of_thresholds_on_one_column_are_decided_one_by_one() {
    // 2,000 rules on one column: masks per interval would take 4,002 x 32 words, past the
    // limit, so they stay comparisons of their own; the results are the same.
    let body: String = (0..2000)
        .map(|i| format!("[[rule]]\nname = \"R{i}\"\nwhen = {{ field = \"n\", at_least = {i} }}\npoints = 1\n"))
        .collect();
    let e = engine(&body, &["n"]);
    for n in [0usize, 63, 64, 1000, 1999, 5000] {
        let (out, _, _) = run(&e, &[&n.to_string()]);
        let rules: Vec<usize> = out.hits.iter().map(|h| h.rule).collect();
        assert_eq!(rules, (0..=n.min(1999)).collect::<Vec<_>>(), "n = {n}");
    }
    let (out, _, _) = run(&e, &["none"]);
    assert!(out.hits.is_empty());
}

#[test]
fn many_whole_point_rules_score_and_disqualify_without_reasons_too() {
    // 100 rules worth 1 to 100 (past a word of rules: without reasons, the score is summed
    // four rules at a time), rule i matching n >= i, and a disqualifier after them.
    let mut body: String = (0..100)
        .map(|i| {
            format!(
                "[[rule]]\nname = \"R{i}\"\nwhen = {{ field = \"n\", at_least = {i} }}\npoints = {}\n",
                i + 1
            )
        })
        .collect();
    body.push_str(
        "[[rule]]\nname = \"Stop\"\nwhen = { field = \"stop\", is = true }\ndisqualify = true\n",
    );
    let e = engine(&body, &["n", "stop"]);
    for n in [0usize, 3, 4, 63, 64, 98, 99, 500] {
        for (stop, disqualified) in [("yes", true), ("no", false)] {
            let row = [n.to_string(), stop.to_string()];
            let row: Vec<&str> = row.iter().map(String::as_str).collect();
            let mut lean = Outcome::default();
            e.evaluate_without_hits(&row[..], &mut e.scratch(), &mut lean);
            let last = n.min(99) + 1;
            assert_eq!(lean.score as usize, last * (last + 1) / 2, "n = {n}");
            assert_eq!(
                lean.tier() == Tier::Disqualified,
                disqualified,
                "n = {n}, {stop}"
            );
            // And the same as with reasons recorded.
            assert_eq!(run(&e, &row).0.score, lean.score, "n = {n}");
        }
    }
}

#[test]
fn rules_past_the_sixty_fourth_count_in_file_order() {
    // 150 rules: rule i matches n >= i and is worth i points, so n = 130 matches rules 0..=130
    // across three words of the matched-rules bits.
    // Then the same, every other rule wrapped in an `all`: the plan decides the two halves in
    // separate loops, so the words of the matched-rules bits are filled in turn by each.
    // Then with the first 70 rules on a second column holding the same number: each
    // column's rules are decided together (`Steps`), the second's from word 1 on.
    for (wrap, split) in [(false, false), (true, false), (false, true)] {
        let body: String = (0..150)
            .map(|i| {
                let field = if split && i < 70 { "m" } else { "n" };
                let test = format!("{{ field = \"{field}\", at_least = {i} }}");
                let when = if wrap && i % 2 == 1 {
                    format!("{{ all = [{test}] }}")
                } else {
                    test
                };
                format!("[[rule]]\nname = \"R{i}\"\nwhen = {when}\npoints = {i}\n")
            })
            .collect();
        let e = engine(&body, &["n", "m"]);
        for n in [0usize, 63, 64, 65, 127, 128, 130, 149, 200] {
            let (out, reasons, _) = run(&e, &[&n.to_string(), &n.to_string()]);
            let last = n.min(149);
            let rules: Vec<usize> = out.hits.iter().map(|h| h.rule).collect();
            assert_eq!(rules, (0..=last).collect::<Vec<_>>(), "n = {n}");
            assert_eq!(out.score as usize, last * (last + 1) / 2, "n = {n}");
            let first = reasons.split("; ").take(3).collect::<Vec<_>>();
            assert_eq!(
                first,
                ["R0 +0", "R1 +1", "R2 +2"][..last.min(2) + 1],
                "n = {n}"
            );
            assert_eq!(reasons.split("; ").count(), last + 1, "n = {n}");
        }
    }
}

proptest::proptest! {
    /// `round` is `f64::round` (half away from zero) cast to `i64`, for every kind of f64.
    #[test]
    fn round_is_half_away_from_zero(
        x in proptest::num::f64::ANY,
        half in proptest::sample::select(vec![0.5, -0.5, 2.5, -2.5, 0.49999999999999994, 1e300]),
    ) {
        proptest::prop_assert_eq!(round(x), x.round() as i64, "{}", x);
        proptest::prop_assert_eq!(round(half), half.round() as i64, "{}", half);
        let near = (x % 1e6).trunc() + 0.5;
        proptest::prop_assert_eq!(round(near), near.round() as i64, "{}", near);
    }
}

#[test]
fn points_per_stops_at_max_else_at_the_most_a_rule_gives() {
    let n = Value::Number(1e13);
    assert_eq!(per_points(n, 1e9, None), crate::rules::MAX_POINTS);
    assert_eq!(per_points(n, -1e9, None), -crate::rules::MAX_POINTS);
    assert_eq!(per_points(n, -1.0, Some(5.0)), -5.0);
    assert_eq!(per_points(Value::Number(3.0), 2.5, None), 7.5);
    assert_eq!(per_points(Value::Number(-3.0), 2.5, None), 0.0);
}
