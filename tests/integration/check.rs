//! `leadsort check`: every problem of a rules file in one run, lints, [[test]]s, and the fit
//! to a CSV. Rendered messages are snapshot-tested so their quality cannot decay unnoticed.

use std::process::Output;

use crate::util::{CONTACTS, Env, RULES};

fn check(env: &Env, args: &[&str]) -> Output {
    env.cmd()
        .arg("check")
        .arg("--as-of")
        .arg("2026-11-27")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// The file of the issue's acceptance test: a misspelt key, a bad regex, a field the CSV
/// does not have, and a tier no contact can reach.
const FOUR_PROBLEMS: &str = r#"version = 1

[tiers]
warm = 60

[[rule]]
name = "Decision maker"
when = { field = "Job Title", contains_any = ["director", "vp"] }
pionts = 20

[[rule]]
name = "Work email"
when = { field = "email", matches = "@(?!gmail)" }
points = 10

[[rule]]
name = "Large company"
when = { field = "employes", at_least = 200 }
points = 15
"#;

#[test]
fn four_problems_are_reported_in_one_run_each_at_its_place() {
    let env = Env::new();
    env.write("rules.toml", FOUR_PROBLEMS);
    env.write("contacts.csv", "Job Title,email,employees\nVP,a@b.c,300\n");
    let out = check(&env, &["contacts.csv"]);
    assert_eq!(out.status.code(), Some(78));
    let err = stderr(&out);
    for place in [
        "rules.toml:4:8",   // warm = 60 is unreachable
        "rules.toml:9:1",   // pionts
        "rules.toml:13:37", // the regex
        "rules.toml:18:18", // employes
    ] {
        assert!(err.contains(place), "{place} missing from:\n{err}");
    }
    assert!(err.contains("did you mean `points`?"));
    assert!(err.contains("did you mean `employees`?"));
    insta::assert_snapshot!("four_problems", err);
}

#[test]
fn rendered_errors_keep_their_shape() {
    // One snapshot per kind of mistake people make.
    let cases = [
        ("invalid_toml", "version = 1\n[tiers]\nwarm = \n"),
        (
            "unknown_operator",
            "version = 1\n[tiers]\nwarm = 1\n[[rule]]\nname = \"A\"\nwhen = { field = \"x\", equal = \"y\" }\npoints = 1\n",
        ),
        (
            "unknown_group",
            "version = 1\n[groups]\nfit = {}\n[tiers]\nwarm = 1\n[[rule]]\nname = \"A\"\ngroup = \"fitt\"\npoints = 1\n",
        ),
        (
            "duplicate_rule",
            "version = 1\n[tiers]\nwarm = 1\n[[rule]]\nname = \"Demo\"\npoints = 1\n[[rule]]\nname = \"demo\"\npoints = 2\n",
        ),
        (
            "test_expects_unknown_queue",
            "version = 1\n[tiers]\nwarm = 1\n[[rule]]\nname = \"A\"\npoints = 1\n[[test]]\nname = \"t\"\ncontact = {}\nexpect = { queue = \"slaes\" }\n",
        ),
        (
            "balance",
            "version = 1\n[tiers]\nwarm = 1\n[balance]\nsales_capacity = 10\nmin_sales = 20\n",
        ),
    ];
    for (name, rules) in cases {
        let env = Env::new();
        env.write("rules.toml", rules);
        let out = check(&env, &[]);
        assert_eq!(out.status.code(), Some(78), "{name}");
        insta::assert_snapshot!(name, stderr(&out));
    }
}

#[test]
fn a_clean_file_exits_0_and_says_so() {
    let env = Env::new();
    // RULES' hot tier is out of reach (a lint); without it the file is clean.
    env.write("rules.toml", RULES.replace("hot = 70\n", ""));
    let out = check(&env, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "rules.toml: 5 rules, 1 route, 1 group, 0 tests; 0 warnings\n"
    );
}

#[test]
fn warnings_alone_exit_0_unless_denied() {
    let env = Env::new();
    env.write("rules.toml", RULES.replace("hot = 70", "hot = 700"));
    let out = check(&env, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("warning: no contact can be hot"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("1 warning"));
    let denied = check(&env, &["--deny-warnings"]);
    assert_eq!(denied.status.code(), Some(78));
    assert!(stderr(&denied).contains("1 warning in rules.toml (--deny-warnings)"));
    // -q hides warnings, unless --deny-warnings makes them what fails the run: a CI log
    // then says why.
    let quiet = check(&env, &["-q"]);
    assert_eq!(quiet.status.code(), Some(0));
    assert!(!stderr(&quiet).contains("no contact can be hot"));
    let quiet = check(&env, &["-q", "--deny-warnings"]);
    assert_eq!(quiet.status.code(), Some(78));
    assert!(
        stderr(&quiet).contains("no contact can be hot"),
        "{}",
        stderr(&quiet)
    );
}

/// What would make `classify --deny-warnings` fail on a CSV makes `check --deny-warnings` on
/// it fail too (exit 65, the CSV's fault), so CI catches it before the nightly run does.
#[test]
fn deny_warnings_counts_the_csvs_warnings_too() {
    let env = Env::standard();
    env.write("rules.toml", crate::util::DEMO_RULES);
    let header = "id,email,Job Title,Company Size,demo,unsubscribed,sales_status";
    env.write(
        "short.csv",
        format!("{header}\n1,a@acme.com,VP,10,no,no,\n2,b@acme.com\n"),
    );
    env.write(
        "repeated.csv",
        format!("{header},sales_status\n1,a@acme.com,VP,10,no,no,,x\n"),
    );
    env.write("empty.csv", format!("{header}\n"));
    // Cells most contacts have that the demo rule cannot read: it would fail for them, unsaid.
    env.write(
        "unsure.csv",
        format!("{header}\n1,a@acme.com,VP,10,maybe,no,\n2,b@acme.com,VP,10,soon,no,\n3,c@acme.com,VP,10,yes,no,\n"),
    );
    for (csv, warning) in [
        (
            "unsure.csv",
            "field `demo` could not be read in 2 of 3 contacts",
        ),
        (
            "short.csv",
            "1 row of short.csv could not be read and was left out",
        ),
        ("repeated.csv", "the header repeats `sales_status`"),
        ("empty.csv", "empty.csv has a header but no contacts"),
    ] {
        let out = check(&env, &[csv]);
        assert_eq!(out.status.code(), Some(0), "{csv}: {}", stderr(&out));
        assert!(stderr(&out).contains(warning), "{csv}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("; 1 warning\n"),
            "{csv}: {}",
            stdout(&out)
        );
        let denied = check(&env, &["--deny-warnings", csv]);
        assert_eq!(denied.status.code(), Some(65), "{csv}: {}", stderr(&denied));
        assert!(
            stderr(&denied).contains(&format!("1 warning about {csv} (--deny-warnings)")),
            "{}",
            stderr(&denied)
        );
        // -q keeps what fails the run: the warning is said.
        let quiet = check(&env, &["-q", "--deny-warnings", csv]);
        assert_eq!(quiet.status.code(), Some(65));
        assert!(
            stderr(&quiet).contains(warning),
            "{csv}: {}",
            stderr(&quiet)
        );
    }
    let clean = check(&env, &["--deny-warnings", "contacts.csv"]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
}

#[test]
fn lints_find_what_is_legal_but_wrong() {
    let env = Env::new();
    env.write(
        "rules.toml",
        r#"version = 1
[fields]
demo = { column = "demo", type = "bool" }
[groups]
fit = { max = 10 }
[tiers]
warm = 20
[[rule]]
name = "Big"
group = "fit"
when = { field = "demo", at_least = 1 }
points = 25
[[rule]]
name = "Same"
when = { field = "demo", at_least = 1 }
points = 5
[[rule]]
name = "Nothing"
when = { field = "x", in = [] }
points = 5
[[route]]
name = "Typo"
when = { field = "x", present = true }
queue = "marketting"
"#,
    );
    let out = check(&env, &[]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    for want in [
        "rule \"Big\" can never match here",
        "rule \"Big\" can give more than its group allows",
        "rules \"Big\" and \"Same\" have the same condition",
        "rule \"Nothing\" can never match here",
        "sends contacts to `marketting`, which nothing else mentions",
        "did you mean `marketing`?",
    ] {
        assert!(err.contains(want), "{want:?} missing from:\n{err}");
    }
}

#[test]
fn a_broken_rule_is_not_blamed_on_the_rest() {
    // "Region" has an error and is left out of the lints; its field and its points still
    // count for something, so the field is not called unused and the tier out of reach is
    // only out of reach of the rules without errors.
    let env = Env::new();
    env.write(
        "rules.toml",
        r#"version = 1
[fields]
region = { column = "Region" }
[tiers]
warm = 10
[[rule]]
name = "Region"
when = { field = "region", contains = "" }
points = 10
"#,
    );
    let out = check(&env, &[]);
    assert_eq!(out.status.code(), Some(78));
    let err = stderr(&out);
    assert!(err.contains("`contains` must not be empty"), "{err}");
    assert!(
        err.contains("the highest score the rules without errors can give is 0"),
        "{err}"
    );
    assert!(!err.contains("not used by any rule"), "{err}");
}

const TESTED: &str = r#"version = 1
[fields]
title = ["Job Title", "title"]
[tiers]
warm = 20
[[rule]]
name = "Director"
when = { field = "title", contains = "director" }
points = 20
[[rule]]
name = "Unsubscribed"
when = { field = "unsubscribed", is = true }
disqualify = true

[[test]]
name = "Directors are warm"
contact = { "Job Title" = "Art Director" }
expect = { tier = "warm", queue = "sales", score = 20, rules = ["Director"] }

[[test]]
name = "Unsubscribed directors are suppressed"
contact = { title = "Director", unsubscribed = "yes" }
expect = { tier = "disqualified", queue = "suppressed" }
"#;

#[test]
fn tests_in_the_rules_file_pass() {
    let env = Env::new();
    env.write("rules.toml", TESTED);
    let out = check(&env, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "rules.toml: 2 rules, 0 routes, 0 groups, 2 tests; 0 warnings\n\n\
         tests: 2 passed, 0 failed\n  ok      Directors are warm\n  ok      Unsubscribed directors are suppressed\n"
    );
}

const WITH_REPS: &str = r#"version = 1
[fields]
country = { column = "Country", optional = true }
[tiers]
warm = 20
[[rule]]
name = "Demo"
when = { field = "demo", is = true }
points = 20
[balance]
owner = "owner"
[[rep]]
name = "Elena"
capacity = 10
when = { field = "country", in = ["DE", "FR"] }
[[rep]]
name = "Sam"
capacity = 10

[[test]]
name = "EMEA goes to Elena"
contact = { demo = "yes", Country = "DE" }
expect = { queue = "sales", owner = "Elena" }

[[test]]
name = "The rest to Sam"
contact = { demo = "yes", Country = "US" }
expect = { owner = "Sam" }

[[test]]
name = "An owner keeps the contact"
contact = { demo = "yes", Country = "US", owner = "elena" }
expect = { owner = "Elena" }
"#;

#[test]
fn tests_can_expect_the_rep_the_balance_gives() {
    let env = Env::new();
    env.write("rules.toml", WITH_REPS);
    let out = check(&env, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("tests: 3 passed, 0 failed"),
        "{}",
        stdout(&out)
    );
    // A territory that matches no one: the test says who got the contact instead.
    env.write(
        "rules.toml",
        WITH_REPS.replace("[\"DE\", \"FR\"]", "[\"de-DE\"]"),
    );
    let out = check(&env, &[]);
    assert_eq!(out.status.code(), Some(78));
    assert!(
        stdout(&out).contains("owner: expected Elena, got Sam"),
        "{}",
        stdout(&out)
    );
    // A cold contact has no owner, and says why.
    env.write(
        "rules.toml",
        WITH_REPS.replace(
            "contact = { demo = \"yes\", Country = \"DE\" }",
            "contact = { Country = \"DE\" }",
        ),
    );
    let out = check(&env, &[]);
    assert!(
        stdout(&out).contains("owner: expected Elena, got none (queue marketing)"),
        "{}",
        stdout(&out)
    );
    // `none` expects no rep, whatever the reason; the whole text, that reason; names ignore
    // case. Each fails where it should.
    let cold = "\n[[test]]\nname = \"Cold\"\ncontact = { Country = \"DE\" }\nexpect = { owner = \"OWNER\" }\n";
    for (owner, passes) in [
        ("none", true),
        ("none (queue marketing)", true),
        ("none (queue sales)", false),
        ("elena", false),
    ] {
        env.write(
            "rules.toml",
            format!("{WITH_REPS}{}", cold.replace("OWNER", owner)),
        );
        let out = check(&env, &[]);
        assert_eq!(
            out.status.code(),
            Some(if passes { 0 } else { 78 }),
            "{owner}: {}{}",
            stdout(&out),
            stderr(&out)
        );
    }
    env.write(
        "rules.toml",
        WITH_REPS.replace("owner = \"Sam\" }", "owner = \"sAM\" }"),
    );
    assert_eq!(check(&env, &[]).status.code(), Some(0));
    // A name no [[rep]] has is an error at its place.
    env.write(
        "rules.toml",
        WITH_REPS.replace("owner = \"Sam\" }", "owner = \"Samm\" }"),
    );
    let out = check(&env, &[]);
    assert_eq!(out.status.code(), Some(78));
    let err = stderr(&out);
    assert!(
        err.contains("no [[rep]] is named \"Samm\"") && err.contains("did you mean \"Sam\"?"),
        "{err}"
    );
    // With a CSV, what each rep would take: a territory that matches no one shows as 0.
    env.write(
        "rules.toml",
        WITH_REPS.replace("[\"DE\", \"FR\"]", "[\"de-DE\"]"),
    );
    env.write(
        "c.csv",
        "demo,Country,owner\nyes,DE,\nyes,FR,\nyes,US,\nno,DE,\n",
    );
    let out = check(&env, &["c.csv"]);
    assert!(
        stdout(&out).contains("\nreps: Elena 0/10, Sam 3/10\n"),
        "{}",
        stdout(&out)
    );
    // An owner the CRM names in full is no rep: classify --deny-warnings would fail on it,
    // so check --deny-warnings does.
    env.write("rules.toml", WITH_REPS);
    env.write(
        "c.csv",
        "demo,Country,owner\nyes,US,Sam Jones\nyes,US,sam\n",
    );
    let out = check(&env, &["--deny-warnings", "c.csv"]);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 contact bound for sales names an owner that is no [[rep]]"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_failing_test_shows_expected_actual_and_the_breakdown() {
    let env = Env::new();
    env.write("rules.toml", TESTED.replace("score = 20", "score = 25"));
    let out = check(&env, &[]);
    assert_eq!(out.status.code(), Some(78));
    let text = stdout(&out);
    assert!(text.contains("tests: 1 passed, 1 failed"), "{text}");
    assert!(
        text.contains("  FAILED  Directors are warm (line 15)"),
        "{text}"
    );
    assert!(text.contains("score: expected 25, got 20"), "{text}");
    assert!(text.contains("[x] Director"), "{text}");
    assert!(
        text.contains("title contains \"director\": title = \"Art Director\" -> yes"),
        "{text}"
    );
    assert!(stderr(&out).contains("1 of 2 tests in rules.toml failed"));
    // -q (for a CI log): only the failed test, not the passing one or the counts.
    let quiet = check(&env, &["-q"]);
    assert_eq!(quiet.status.code(), Some(78));
    let text = stdout(&quiet);
    assert!(
        text.contains("  FAILED  Directors are warm (line 15)"),
        "{text}"
    );
    assert!(
        !text.contains("ok ") && !text.contains("rules.toml: 2 rules"),
        "{text}"
    );
    env.write("rules.toml", TESTED);
    env.write("contacts.csv", "Job Title,unsubscribed\nDirector,no\n");
    let quiet = check(&env, &["-q", "contacts.csv"]);
    assert_eq!(quiet.status.code(), Some(0), "{}", stderr(&quiet));
    assert_eq!(stdout(&quiet), "", "all passed: nothing to say");
}

#[test]
fn a_test_naming_an_unknown_field_is_an_error_at_its_place() {
    let env = Env::new();
    env.write(
        "rules.toml",
        TESTED.replace("title = \"Director\"", "titel = \"Director\""),
    );
    let out = check(&env, &[]);
    assert_eq!(out.status.code(), Some(78));
    let err = stderr(&out);
    assert!(err.contains("rules.toml:22:13"), "{err}");
    assert!(err.contains("did you mean `title`?"), "{err}");
}

#[test]
fn with_a_csv_it_shows_bindings_hit_rates_and_unreadable_cells() {
    let env = Env::standard();
    env.write(
        "contacts.csv",
        format!("{CONTACTS}6,x@y.z,Intern,lots,maybe,no,\n"),
    );
    let out = check(&env, &["contacts.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("contacts.csv: 6 contacts, 0 rejected, as of 2026-11-27; 0 warnings\n"),
        "{text}"
    );
    assert!(
        text.contains("  title         \"Job Title\" (column 3)"),
        "{text}"
    );
    assert!(
        text.contains("  employees     \"Company Size\" (column 4)"),
        "{text}"
    );
    // Decision maker: contacts 1, 3, 4, 5 of 6.
    assert!(
        text.contains("  Decision maker             4   66.7%"),
        "{text}"
    );
    assert!(
        text.contains("  Sales gave up              1   16.7%  -> marketing"),
        "{text}"
    );
    assert!(
        text.contains("unreadable cells: employees 1, demo 1"),
        "{text}"
    );
    assert!(
        text.contains("queues: sales 2 (33.3%), marketing 3 (50.0%), suppressed 1 (16.7%)"),
        "{text}"
    );
}

#[test]
fn rules_that_match_no_one_or_everyone_are_marked() {
    let env = Env::standard();
    env.write("contacts.csv", CONTACTS);
    env.write(
        "rules.toml",
        format!(
            "{RULES}\n[[rule]]\nname = \"Has an email\"\nwhen = {{ field = \"email\", contains = \"@\" }}\npoints = 1\n\
             \n[[rule]]\nname = \"Nobody\"\nwhen = {{ field = \"email\", contains = \"@nowhere.invalid\" }}\npoints = 1\n"
        ),
    );
    let out = check(&env, &["contacts.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let line = |name: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no line for {name}: {text}"))
            .to_string()
    };
    assert!(
        line("Has an email").ends_with("100.0%  (every contact)"),
        "{text}"
    );
    assert!(line("Nobody").ends_with("0.0%  (never)"), "{text}");
    assert!(line("Decision maker").ends_with('%'), "{text}");
}

#[test]
fn a_csv_that_does_not_fit_exits_65() {
    let env = Env::standard();
    env.write("other.csv", "id,email\n1,a@b.c\n");
    let out = check(&env, &["other.csv"]);
    assert_eq!(out.status.code(), Some(65));
    let err = stderr(&out);
    assert!(
        err.contains("other.csv has no column for field `title`"),
        "{err}"
    );
    assert!(err.contains("rules.toml:"), "{err}");
    assert!(!err.contains("a@b.c"), "no contact data in messages");
}

#[test]
fn the_shipped_rules_pass_their_own_tests_on_the_shipped_example() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("leadsort"))
        .current_dir(&root)
        .args([
            "check",
            "--as-of",
            "2026-11-27",
            "--deny-warnings",
            "examples/contacts.csv",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("tests: 6 passed, 0 failed"));
}

/// The shipped example in contacts.csv, and the text of the shipped rules.
fn shipped_example() -> (Env, String) {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let env = Env::new();
    env.write(
        "contacts.csv",
        std::fs::read(root.join("examples/contacts.csv")).unwrap(),
    );
    (
        env,
        std::fs::read_to_string(root.join("rules.toml")).unwrap(),
    )
}

/// check's queue counts are those classify writes: with a sales capacity, the contacts over
/// it are counted in the overflow queue.
#[test]
fn queue_counts_follow_the_balance_as_classify_does() {
    let (env, rules) = shipped_example();
    for balance in [
        "[balance]\nsales_capacity = 20\noverflow_queue = \"waiting\"\n",
        "[balance]\noverflow_queue = \"waiting\"\n[[rep]]\nname = \"Ana\"\ncapacity = 7\n",
    ] {
        env.write("rules.toml", format!("{rules}\n{balance}"));
        let out = check(&env, &["contacts.csv"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        let line = text.lines().find(|l| l.starts_with("queues: ")).unwrap();
        let classify = env
            .classify(&["contacts.csv", "--summary", "s.json"])
            .output()
            .unwrap();
        assert!(classify.status.success());
        let summary: serde_json::Value = serde_json::from_str(&env.read("s.json")).unwrap();
        let queues = summary["queues"].as_object().unwrap();
        assert!(queues["waiting"].as_u64().unwrap() > 0, "{balance}");
        for (queue, n) in queues {
            assert!(
                line.contains(&format!("{queue} {n} (")),
                "{balance}: {queue} {n} in {line}"
            );
        }
    }
}

/// A line break in an email merges rows (a stray quote): classify rejects such a row, and so
/// do check, explain and diff, so that their counts, balance and numbering agree with it.
#[test]
fn rows_classify_rejects_are_rejected_by_check_explain_and_diff() {
    let env = Env::new();
    env.write(
        "rules.toml",
        "version = 1\n[tiers]\nwarm = 1\n[[rule]]\nname = \"n\"\n\
         points_per = { field = \"n\", points = 1, max = 20 }\n[[rule]]\nname = \"x\"\n\
         when = { field = \"email\", ends_with = \"x.com\" }\npoints = 1\n\
         [balance]\nsales_capacity = 1\n",
    );
    env.write(
        "c.csv",
        "id,name,email,n\n1,Ann,\"a@x.com\n\",9\n2,Bob,b@x.com,3\n",
    );
    let classify = env.classify(&["c.csv"]).output().unwrap();
    assert!(String::from_utf8_lossy(&classify.stdout).contains("2,Bob,b@x.com,3,4,warm,sales,"));
    let out = check(&env, &["c.csv"]);
    let text = stdout(&out);
    assert!(text.contains("c.csv: 1 contact, 1 rejected"), "{text}");
    assert!(text.contains("queues: sales 1 (100.0%)"), "{text}");
    let explain = env
        .cmd()
        .args(["explain", "--as-of", "2026-11-27", "--row", "2", "c.csv"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&explain.stdout).contains("score 4, tier warm, queue sales"),
        "{}",
        String::from_utf8_lossy(&explain.stdout)
    );
    let diff = env
        .cmd()
        .args([
            "diff",
            "--as-of",
            "2026-11-27",
            "--old",
            "rules.toml",
            "--new",
            "rules.toml",
        ])
        .args(["--format", "json", "c.csv"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&diff.stdout).unwrap();
    assert_eq!(
        (report["contacts"].as_u64(), report["rejected"].as_u64()),
        (Some(1), Some(1))
    );
}

/// Fewer contacts to sales than `min_sales` fails `classify --deny-warnings`, and so it fails
/// `check --deny-warnings` on the same file.
#[test]
fn deny_warnings_counts_min_sales_as_classify_does() {
    let (env, rules) = shipped_example();
    env.write(
        "rules.toml",
        format!("{rules}\n[balance]\nmin_sales = 1000\n"),
    );
    let warning = "sales gets 37 contacts, fewer than min_sales = 1000";
    let classify = env
        .classify(&["--deny-warnings", "contacts.csv", "-o", "out.csv"])
        .output()
        .unwrap();
    assert_eq!(classify.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&classify.stderr).contains(warning));
    let out = check(&env, &["--deny-warnings", "contacts.csv"]);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(stderr(&out).contains(warning), "{}", stderr(&out));
    env.write(
        "rules.toml",
        format!("{rules}\n[balance]\nmin_sales = 37\n"),
    );
    assert_eq!(
        check(&env, &["--deny-warnings", "contacts.csv"])
            .status
            .code(),
        Some(0)
    );
}
