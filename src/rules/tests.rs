//! The rules format: what valid files mean, and where invalid ones are wrong.

use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<Rules, RulesError> {
    from_str(Path::new("rules.toml"), text)
}

fn ok(body: &str) -> Rules {
    let text = format!("version = 1\n[tiers]\nwarm = 50\n{body}");
    parse(&text).unwrap_or_else(|e| panic!("{e}"))
}

/// The errors of `text` as `line:col message` lines.
fn errors(text: &str) -> Vec<String> {
    let err = parse(text).expect_err("expected errors");
    err.errors()
        .map(|d| {
            let (line, col) = err.source.line_col(d.span.start);
            format!("{line}:{col} {}", d.message)
        })
        .collect()
}

/// Like `errors`, with `version = 1` and `[tiers] warm = 50` first (so lines start at 4).
fn body_errors(body: &str) -> Vec<String> {
    errors(&format!("version = 1\n[tiers]\nwarm = 50\n{body}"))
}

#[test]
fn design_md_example_without_balance_means_what_it_says() {
    let text = include_str!("../../tests/fixtures/design_example.toml");
    let without_balance = &text[..text.find("[balance]").unwrap()];
    let r = parse(without_balance).unwrap();
    assert_eq!(r.fields.len(), 4);
    let employees = r.field("employees").unwrap();
    assert_eq!(
        employees.columns,
        ["Company Size", "company_size", "employees"]
    );
    assert_eq!(employees.kind, FieldKind::Number);
    assert_eq!(r.field("title").unwrap().kind, FieldKind::Text);
    assert_eq!(r.field("demo").unwrap().columns, ["demo_requested"]);
    assert_eq!(
        r.groups
            .iter()
            .map(|g| (g.name.as_str(), g.max))
            .collect::<Vec<_>>(),
        [("fit", Some(50.0)), ("engagement", Some(60.0))]
    );
    assert_eq!(r.tiers.warm.score, 50.0);
    let hot = r.tiers.hot.as_ref().unwrap();
    assert_eq!((hot.score, hot.groups.clone()), (80.0, vec![(0, 30.0)]));
    assert_eq!(r.rules.len(), 9);
    assert_eq!(r.rules[0].name, "Decision maker");
    assert_eq!(r.rules[0].group, Some(0));
    assert_eq!(r.rules[0].points, Some(Points::Fixed(20.0)));
    let Some(Condition::Test(t)) = &r.rules[0].when else {
        panic!()
    };
    assert_eq!(t.field.name, "title");
    assert_eq!(
        t.op,
        Op::ContainsAny(vec![
            "director".into(),
            "vp".into(),
            "chief".into(),
            "head of".into()
        ])
    );
    assert!(
        matches!(&r.rules[3].points, Some(Points::Per { points, max: Some(m), .. }) if *points == 1.0 && *m == 10.0)
    );
    assert!(matches!(&r.rules[7].when, Some(Condition::All(parts)) if parts.len() == 2));
    assert!(r.rules[8].disqualify);
    assert_eq!(r.routes[0].queue, "marketing");
    assert_eq!(r.queue_names(), ["sales", "marketing", "suppressed"]);
}

#[test]
fn design_md_example_with_its_balance() {
    let text = include_str!("../../tests/fixtures/design_example.toml");
    let r = parse(text).unwrap_or_else(|e| panic!("{e}"));
    let b = r.balance.as_ref().unwrap();
    assert_eq!(b.sales_capacity, Some(200));
    assert_eq!((b.min_sales, b.overflow_queue.as_deref()), (None, None));
    assert!(r.holds_sales());
    assert_eq!(r.sales_queue(), "sales");
    assert_eq!(r.overflow_queue(), "marketing");
}

#[test]
fn balance_reps_and_decay() {
    let r = ok(r#"
[groups]
engagement = { max = 60, decay = { field = "last_seen", half_life_days = 90 } }
[[rule]]
name = "Demo"
group = "engagement"
when = { field = "demo", is = true }
points = 30
[[rule]]
name = "Webinar"
when = { field = "webinar", is = true }
points = 10
decay = { field = "webinar_date", half_life_days = 30.5 }
[balance]
sales_capacity = 50
min_sales = 10
overflow_queue = "waiting"
owner = "Account Owner"
[[rep]]
name = "Ann"
capacity = 20
weight = 2
when = { field = "country", in = ["US", "CA"] }
[[rep]]
name = "Bo"
capacity = 30
"#);
    let b = r.balance.as_ref().unwrap();
    assert_eq!((b.sales_capacity, b.min_sales), (Some(50), Some(10)));
    assert_eq!(r.overflow_queue(), "waiting");
    assert_eq!(b.owner.as_ref().unwrap().name, "Account Owner");
    assert!(r.queue_names().contains(&"waiting"));
    assert_eq!(r.reps.len(), 2);
    assert_eq!((r.reps[0].capacity, r.reps[0].weight), (20, 2.0));
    assert!(r.reps[0].when.is_some() && r.reps[1].when.is_none());
    assert_eq!(r.reps[1].weight, 1.0);
    // The group's decay applies to its rules; a rule's own wins.
    assert_eq!(r.decay_of(&r.rules[0]).unwrap().field.name, "last_seen");
    assert_eq!(r.decay_of(&r.rules[1]).unwrap().half_life_days, 30.5);
    let d = r.decay_of(&r.rules[0]).unwrap();
    assert_eq!(d.factor(0), 1.0);
    assert_eq!(
        d.factor(-5),
        1.0,
        "a date after the as-of date does not decay"
    );
    assert!((d.factor(90) - 0.5).abs() < 1e-12);
    assert!((d.factor(180) - 0.25).abs() < 1e-12);
    // Reps alone hold sales to the end of the run too.
    assert!(ok("[[rep]]\nname = \"A\"\ncapacity = 1\n").holds_sales());
    assert!(!ok("").holds_sales());
}

#[test]
fn balance_and_rep_errors() {
    let errs = body_errors(
        "[balance]\nsales_capacity = -1\nmin_sales = -1\noverflow_queue = \"rejected\"\nlimit = 3\n\
         [[rep]]\nname = \"A\"\n[[rep]]\nname = \"A\"\ncapacity = 2\nweight = 0\n",
    );
    let joined = errs.join("\n");
    for want in [
        "`sales_capacity` must be a whole number of at least 0",
        "`min_sales` must be a whole number of at least 0",
        "cannot be a queue name",
        "limit",
        "rep \"A\" has no `capacity`",
        "`weight` must be more than 0",
    ] {
        assert!(joined.contains(want), "{want} in {joined}");
    }
    let errs = body_errors("[balance]\nsales_capacity = 5\nmin_sales = 9\n");
    assert!(
        errs[0].contains("`min_sales` 9 is above `sales_capacity` 5"),
        "{errs:?}"
    );
    let errs = body_errors(
        "[[rule]]\nname = \"R\"\npoints = 1\ndecay = { field = \"d\", half_life_days = 0 }\n",
    );
    assert!(
        errs[0].contains("`half_life_days` must be more than 0"),
        "{errs:?}"
    );
    let errs = body_errors("[[rule]]\nname = \"R\"\npoints = 1\ndecay = { half_life_days = 9 }\n");
    assert!(errs[0].contains("`decay` has no `field`"), "{errs:?}");
    // A rep with an error is one error: a test naming that rep is not a second.
    let errs = body_errors(
        "[[rule]]\nname = \"R\"\npoints = 1\n[[rep]]\nname = \"Ann\"\ncapacity = -4\n\
         [[test]]\nname = \"T\"\ncontact = {}\nexpect = { owner = \"Ann\" }\n",
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("`capacity` must be"), "{errs:?}");
}

#[test]
fn defaults() {
    let r = ok("");
    assert!(r.tiers.hot.is_none());
    assert_eq!(r.queues.warm, "sales");
    assert_eq!(r.queues.cold, "marketing");
    assert_eq!(r.queues.disqualified, "suppressed");
    assert_eq!(r.queue_names(), ["sales", "marketing", "suppressed"]);
}

#[test]
fn fields_accept_a_string_a_list_or_a_table() {
    let r = ok(r#"
[fields]
a = "A"
b = ["B", "b"]
c = { column = "C", type = "date", formats = ["%d.%m.%Y"], optional = true }
"#);
    assert_eq!(r.field("a").unwrap().columns, ["A"]);
    assert_eq!(r.field("b").unwrap().columns, ["B", "b"]);
    let c = r.field("c").unwrap();
    assert_eq!(
        (c.kind, c.optional, c.formats.clone()),
        (FieldKind::Date, true, vec!["%d.%m.%Y".to_string()])
    );
}

#[test]
fn multiple_operators_become_all() {
    let r = ok(
        "[[rule]]\nname = \"R\"\nwhen = { field = \"n\", at_least = 1, at_most = 5 }\npoints = 1\n",
    );
    let Some(Condition::All(parts)) = &r.rules[0].when else {
        panic!()
    };
    assert_eq!(parts.len(), 2);
}

#[test]
fn operators_parse_their_values() {
    let op = |when: &str| {
        let r = ok(&format!(
            "[[rule]]\nname = \"R\"\nwhen = {when}\npoints = 1\n"
        ));
        match r.rules[0].when.clone() {
            Some(Condition::Test(t)) => t.op,
            other => panic!("{other:?}"),
        }
    };
    let d = |y, m, dd| jiff::civil::Date::new(y, m, dd).unwrap();
    assert_eq!(
        op(r#"{ field = "f", equals = "x" }"#),
        Op::Equals(Scalar::Text("x".into()))
    );
    assert_eq!(
        op(r#"{ field = "f", equals = 3 }"#),
        Op::Equals(Scalar::Number(3.0))
    );
    assert_eq!(
        op(r#"{ field = "f", not_equals = false }"#),
        Op::NotEquals(Scalar::Bool(false))
    );
    assert_eq!(
        op(r#"{ field = "f", in = ["a", 2] }"#),
        Op::In(vec![Scalar::Text("a".into()), Scalar::Number(2.0)])
    );
    assert_eq!(op(r#"{ field = "f", missing = true }"#), Op::Present(false));
    assert_eq!(
        op(r#"{ field = "f", between = [1, 2.5] }"#),
        Op::Between(1.0, 2.5)
    );
    assert_eq!(
        op(r#"{ field = "f", between = [2026-01-01, "2026-02-01"] }"#),
        Op::DateBetween(d(2026, 1, 1), d(2026, 2, 1))
    );
    assert_eq!(
        op(r#"{ field = "f", before = 2026-01-01 }"#),
        Op::Before(d(2026, 1, 1))
    );
    assert_eq!(
        op(r#"{ field = "f", after = "2026-01-01" }"#),
        Op::After(d(2026, 1, 1))
    );
    assert_eq!(
        op(r#"{ field = "f", within_days = 30 }"#),
        Op::WithinDays(30)
    );
    assert_eq!(op(r#"{ field = "f", gt = 1_000 }"#), Op::Gt(1000.0));
}

#[test]
fn version_is_required_and_must_be_1() {
    assert_eq!(errors("[tiers]\nwarm = 1\n"), ["1:1 missing `version = 1`"]);
    assert_eq!(
        errors("version = 2\n[tiers]\nwarm = 1\n"),
        ["1:11 unsupported rules format version"]
    );
}

#[test]
fn tiers_are_required() {
    assert_eq!(errors("version = 1\n"), ["1:12 missing `[tiers]` table"]);
    assert_eq!(
        errors("version = 1\n[tiers]\nhot = 80\n"),
        ["2:1 `[tiers]` has no `warm` threshold"]
    );
}

#[test]
fn invalid_toml_points_at_the_syntax_error() {
    let errs = errors("version = 1\n[tiers]\nwarm = \n");
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with("3:") && errs[0].contains("invalid TOML"),
        "{errs:?}"
    );
}

#[test]
fn unknown_keys_everywhere_with_suggestions() {
    let err = parse("version = 1\n[tiers]\nwarm = 50\n[[rule]]\nname = \"A\"\npionts = 20\n[[rules]]\nname = \"B\"\n").unwrap_err();
    let found: Vec<(String, Option<String>)> = err
        .errors()
        .map(|d| (d.message.clone(), d.help.clone()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "unknown key `pionts` in rule \"A\"".to_string(),
                Some("did you mean `points`?".to_string())
            ),
            (
                "unknown key `rules` in the rules file".to_string(),
                Some("did you mean `rule`?".to_string())
            ),
        ]
    );
}

#[test]
fn wrong_types() {
    assert_eq!(
        body_errors("[[rule]]\nname = \"A\"\npoints = \"20\"\n"),
        ["6:10 `points` must be a number, not a string"]
    );
    assert_eq!(
        body_errors("[[rule]]\nname = \"A\"\nwhen = { field = \"f\", in = \"x\" }\npoints = 1\n"),
        ["6:28 `in` must be a list, not a string"]
    );
    assert_eq!(
        body_errors(
            "[[rule]]\nname = \"A\"\nwhen = { field = \"f\", within_days = -1 }\npoints = 1\n"
        ),
        ["6:37 `within_days` must be 0 or more days"]
    );
    assert_eq!(
        body_errors(
            "[[rule]]\nname = \"A\"\nwhen = { field = \"f\", before = \"soon\" }\npoints = 1\n"
        ),
        ["6:32 `before` must be a date written year-month-day, like 2026-01-31"]
    );
}

#[test]
fn a_regex_too_big_is_not_called_invalid() {
    assert_eq!(
        body_errors(
            "[[rule]]\nname = \"A\"\nwhen = { field = \"f\", matches = '\\w{1000}{1000}' }\npoints = 1\n"
        ),
        ["6:33 regular expression too big"]
    );
}

#[test]
fn decay_true_says_nothing_and_decay_false_opts_out_of_the_groups() {
    assert_eq!(
        body_errors(
            "[[rule]]\nname = \"A\"\nwhen = { field = \"f\", present = true }\npoints = 1\ndecay = true\n"
        ),
        ["8:9 `decay = true` does not say how points fade"]
    );
    let r = ok(
        "[groups]\ng = { decay = { field = \"seen\", half_life_days = 30 } }\n\
         [[rule]]\nname = \"A\"\ngroup = \"g\"\nwhen = { field = \"f\", present = true }\npoints = -1\ndecay = false\n\
         [[rule]]\nname = \"B\"\ngroup = \"g\"\nwhen = { field = \"f\", present = true }\npoints = 1\n",
    );
    assert!(r.decay_of(&r.rules[0]).is_none());
    assert!(r.decay_of(&r.rules[1]).is_some());
}

#[test]
fn bad_regex() {
    assert_eq!(
        body_errors(
            "[[rule]]\nname = \"A\"\nwhen = { field = \"f\", matches = \"([a-z\" }\npoints = 1\n"
        ),
        ["6:33 invalid regular expression"]
    );
}

#[test]
fn unknown_group_and_operator_with_suggestions() {
    let err = parse(
        "version = 1\n[groups]\nfit = {}\n[tiers]\nwarm = 50\nhot = { score = 80, fitt = 1 }\n\
         [[rule]]\nname = \"A\"\ngroup = \"fitt\"\nwhen = { field = \"f\", equal = 1 }\npoints = 1\n",
    )
    .unwrap_err();
    let found: Vec<(String, Option<String>)> = err
        .errors()
        .map(|d| (d.message.clone(), d.help.clone()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "`fitt` in tier `hot` is not `score` or a group".into(),
                Some("did you mean `fit`?".into())
            ),
            (
                "unknown group `fitt`".into(),
                Some("did you mean `fit`?".into())
            ),
            (
                "unknown operator `equal`".into(),
                Some("did you mean `equals`?".into())
            ),
        ]
    );
}

#[test]
fn duplicate_names_ignore_case() {
    assert_eq!(
        body_errors(
            "[[rule]]\nname = \"Demo\"\npoints = 1\n[[rule]]\nname = \"demo \"\npoints = 2\n"
        ),
        ["8:8 duplicate rule name \"demo\""]
    );
    assert_eq!(
        body_errors(
            "[[route]]\nname = \"R\"\nwhen = { field = \"f\", present = true }\nqueue = \"a\"\n\
             [[route]]\nname = \"r\"\nwhen = { field = \"f\", present = true }\nqueue = \"b\"\n"
        ),
        ["9:8 duplicate route name \"r\""]
    );
}

#[test]
fn queue_names_must_be_safe_file_names() {
    for bad in ["sales/../x", "rejected", "Summary", "", "a b"] {
        let errs = body_errors(&format!(
            "[[route]]\nname = \"R\"\nwhen = {{ field = \"f\", present = true }}\nqueue = \"{bad}\"\n"
        ));
        assert_eq!(errs.len(), 1, "{bad}: {errs:?}");
    }
    assert_eq!(body_errors("[queues]\nwarm = \"sd r\"\n").len(), 1);
    assert_eq!(
        body_errors(
            "[[route]]\nname = \"R\"\nwhen = { field = \"f\", present = true }\nqueue = \"Sales\"\n"
        ),
        ["7:9 queue \"Sales\" differs from \"sales\" only in case"]
    );
    assert_eq!(
        body_errors(
            "[queues]\ncold = \"Nurture\"\n[[route]]\nname = \"R\"\nwhen = { field = \"f\", present = true }\nqueue = \"nurture\"\n"
        ),
        ["9:9 queue \"nurture\" differs from \"Nurture\" only in case"]
    );
    assert_eq!(
        body_errors("[queues]\nlukewarm = \"sdr\"\n"),
        ["5:1 unknown key `lukewarm` in [queues]"]
    );
}

#[test]
fn rule_shape_errors() {
    assert_eq!(
        body_errors("[[rule]]\nname = \"A\"\n"),
        ["4:1 rule \"A\" gives no points"]
    );
    assert_eq!(
        body_errors("[[rule]]\npoints = 1\n"),
        ["4:1 rule has no `name`"]
    );
    assert_eq!(
        body_errors(
            "[[rule]]\nname = \"A\"\npoints = 1\npoints_per = { field = \"f\", points = 1 }\n"
        ),
        ["7:14 a rule has `points` or `points_per`, not both"]
    );
    assert_eq!(
        body_errors("[[rule]]\nname = \"A; B\"\npoints = 1\n"),
        ["5:8 a name cannot contain `;` or a line break"]
    );
    assert_eq!(
        body_errors("[[rule]]\nname = \"A\"\nwhen = { field = \"f\" }\npoints = 1\n"),
        ["6:8 condition has no operator"]
    );
    assert_eq!(
        body_errors("[[rule]]\nname = \"A\"\nwhen = { all = [], field = \"f\" }\npoints = 1\n"),
        ["6:8 `all` must be alone in its table"]
    );
    assert_eq!(
        body_errors(
            "[[rule]]\nname = \"A\"\nwhen = { field = \"f\", between = [5, 1] }\npoints = 1\n"
        ),
        ["6:33 `between` bounds are the wrong way round"]
    );
}

#[test]
fn tier_and_group_consistency() {
    assert_eq!(
        errors("version = 1\n[tiers]\nwarm = 50\nhot = 40\ncold = 10\n"),
        [
            "4:7 hot (40) is below warm (50)",
            "5:1 `cold` has no threshold: it is every contact below warm"
        ]
    );
    assert_eq!(
        body_errors("[groups]\nfit = { min = 10, max = 5 }\n"),
        ["5:7 group `fit` has min 10 above max 5"]
    );
    assert_eq!(
        body_errors("[fields]\nx = { column = \"X\", type = \"numbr\" }\n"),
        ["5:28 unknown field type `numbr`"]
    );
    assert_eq!(
        body_errors("[fields]\nx = { column = \"X\", formats = [\"%Y\"] }\n"),
        ["5:31 `formats` only applies to fields with `type = \"date\"`"]
    );
    // A pattern that cannot read a date would leave every cell unreadable, without a word.
    let date = |format: &str| {
        format!("[fields]\nx = {{ column = \"X\", type = \"date\", formats = [\"{format}\"] }}\n")
    };
    assert_eq!(
        body_errors(&date("%m/%d")),
        [
            "5:46 date format \"%m/%d\" cannot read dates: it does not name a whole date (a year, a month and a day)"
        ]
    );
    let unknown = body_errors(&date("%d.%m.%Y %K"));
    assert!(
        unknown.len() == 1
            && unknown[0].starts_with("5:46 date format \"%d.%m.%Y %K\" cannot read dates"),
        "{unknown:?}"
    );
    let zone = body_errors(&date("%d.%m.%Y %Z"));
    assert!(
        zone.len() == 1
            && zone[0].contains("`%Z` (a time zone's abbreviation) can be written but not read"),
        "{zone:?}"
    );
    for good in [
        "%d.%m.%Y",
        "%m/%d/%y",
        "%B %d, %Y",
        "%d %b %Y %H:%M",
        "%Y-%m-%dT%H:%M:%S%z",
    ] {
        ok(&date(good));
    }
}

#[test]
fn every_error_in_one_run() {
    let text = "version = 1\n[tiers]\nwarm = 50\n\
                [[rule]]\nname = \"A\"\npionts = 20\n\
                [[rule]]\nname = \"B\"\nwhen = { field = \"f\", matches = \"(\" }\npoints = 1\n\
                [[rule]]\nname = \"C\"\ngroup = \"nope\"\npoints = 1\n";
    let errs = errors(text);
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs[0].starts_with("6:1 unknown key `pionts`"));
    assert!(errs[1].starts_with("9:33 invalid regular expression"));
    assert!(errs[2].starts_with("13:9 unknown group `nope`"));
}

#[test]
fn a_route_may_be_for_some_tiers_only() {
    let route = |tiers: &str| {
        format!(
            "[[rule]]\nname = \"A\"\npoints = 1\n[[route]]\nname = \"Big\"\nwhen = {{ field = \"size\", at_least = 1000 }}\n{tiers}queue = \"enterprise\"\n"
        )
    };
    let every = ok(&route(""));
    assert_eq!(every.routes[0].tiers, None);
    assert!(every.routes[0].for_tier(Tier::Cold));
    assert!(!every.routes[0].for_tier(Tier::Disqualified));
    let warm = ok(&route("tiers = [\"warm\"]\n"));
    assert_eq!(warm.routes[0].tiers, Some(vec![Tier::Warm]));
    assert!(warm.routes[0].for_tier(Tier::Warm));
    assert!(!warm.routes[0].for_tier(Tier::Cold));
    assert_eq!(
        body_errors(&route("tiers = [\"warm\", \"hot\"]\n")),
        ["10:18 these rules have no hot tier"]
    );
    assert_eq!(
        body_errors(&route("tiers = [\"warm\", \"lukewarm\"]\n")),
        ["10:18 unknown tier `lukewarm`"]
    );
    let twice = ok(&route("tiers = [\"warm\", \"cold\", \"warm\"]\n"));
    assert_eq!(twice.routes[0].tiers, Some(vec![Tier::Warm, Tier::Cold]));
    let hot = parse(&format!(
        "version = 1\n[tiers]\nwarm = 50\nhot = 80\n{}",
        route("tiers = [\"hot\"]\n")
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(hot.routes[0].tiers, Some(vec![Tier::Hot]));
    assert_eq!(
        body_errors(&route("tiers = [\"disqualified\"]\n")),
        ["10:10 a route cannot take disqualified contacts"]
    );
    assert_eq!(
        body_errors(&route("tiers = []\n")),
        ["10:9 `tiers` lists no tier"]
    );
    let string = body_errors(&route("tiers = \"warm\"\n"));
    assert!(
        string.len() == 1 && string[0].contains("list of strings"),
        "{string:?}"
    );
}

#[test]
fn points_beyond_a_billion_are_refused_where_they_are_written() {
    let rule = |points: &str| {
        format!("[[rule]]\nname = \"Big\"\nwhen = {{ field = \"x\", is = true }}\n{points}\n")
    };
    assert_eq!(
        body_errors(&rule("points = 9223372036854775807")),
        ["7:10 `points` must be between -1000000000 and 1000000000"]
    );
    assert_eq!(
        body_errors(&rule("points = -1e10")),
        ["7:10 `points` must be between -1000000000 and 1000000000"]
    );
    assert_eq!(
        body_errors(&rule(
            "points_per = { field = \"x\", points = 2e9, max = 5e9 }"
        )),
        [
            "7:38 `points` must be between -1000000000 and 1000000000",
            "7:49 `max` must be between -1000000000 and 1000000000",
        ]
    );
    let r = ok(&rule("points = -1000000000"));
    assert_eq!(r.rules[0].points, Some(Points::Fixed(-1e9)));
    let r = ok(&rule(
        "points_per = { field = \"x\", points = 1e9, max = 1e9 }",
    ));
    assert!(r.rules[0].points.is_some());
}

#[test]
fn contacts_held_back_from_sales_cannot_wait_in_sales() {
    let held = "contacts held back from sales would wait in `sales`, the sales queue";
    assert_eq!(
        body_errors("[balance]\nsales_capacity = 1\noverflow_queue = \"sales\"\n"),
        [format!("6:18 {held}")]
    );
    // The default, the cold tier's queue, is sales here.
    let cold_to_sales = "[queues]\ncold = \"sales\"\n";
    assert_eq!(
        body_errors(&format!("{cold_to_sales}[balance]\nsales_capacity = 1\n")),
        [format!("6:1 {held}")]
    );
    assert_eq!(
        body_errors(&format!(
            "{cold_to_sales}[[rep]]\nname = \"Ana\"\ncapacity = 5\n"
        )),
        [format!("6:1 {held}")]
    );
    // Fine: another queue to wait in, or nothing held back.
    ok(&format!(
        "{cold_to_sales}[balance]\nsales_capacity = 1\noverflow_queue = \"waiting\"\n"
    ));
    ok(&format!("{cold_to_sales}[balance]\nmin_sales = 1\n"));
}
