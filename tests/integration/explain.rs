//! `leadsort explain`: one contact, rule by rule, adding up to what classify gives it.

use std::path::PathBuf;
use std::process::Output;

use crate::util::{Env, column};

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn explain(env: &Env, args: &[&str]) -> Output {
    env.cmd()
        .arg("explain")
        .arg("--as-of")
        .arg("2026-11-27")
        .args(args)
        .output()
        .unwrap()
}

/// RULES with an id column.
fn env() -> Env {
    let env = Env::standard();
    env.write(
        "rules.toml",
        format!("{}\n[input]\nid = \"id\"\n", crate::util::RULES),
    );
    env
}

#[test]
fn text_shows_every_rule_with_the_cell_it_read() {
    let env = env();
    let out = explain(&env, &["contacts.csv", "--id", "4"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let expected = [
        "contact 4, record 4 (line 5) of contacts.csv, as of 2026-11-27",
        "score 60, tier warm, queue marketing",
        "  [x] Decision maker             +20  (fit)",
        "        title contains_any [\"director\", \"vp\", \"chief\"]: Job Title = \"Chief of Staff\" -> yes",
        "  [x] Large company              +15  (fit)",
        "        employees at_least 200: Company Size = \"1,200\" (read as 1200) -> yes",
        "  [ ] Free mail                    -",
        "  fit          35 -> 30  (max 30)",
        "  hot   score 60, 10 short of 70: not met",
        "  warm  score 60 >= 40: met",
        "  route \"Sales gave up\": matched, so marketing",
        "      sales_status in [\"no response\"]: sales_status = \"no response\" -> yes",
    ];
    for line in expected {
        assert!(
            text.lines().any(|l| l == line),
            "missing line {line:?} in:\n{text}"
        );
    }
}

#[test]
fn a_cold_contact_is_told_how_far_from_warm_it_is() {
    let env = env();
    let text = stdout(&explain(&env, &["contacts.csv", "--row", "2"]));
    assert!(
        text.contains("  warm  score -10, 50 short of 40: not met"),
        "{text}"
    );
    assert!(text.contains("  tier cold goes to marketing"), "{text}");
}

#[test]
fn a_disqualified_contact_names_its_disqualifier() {
    let env = env();
    let text = stdout(&explain(&env, &["contacts.csv", "--id", "3"]));
    assert!(
        text.contains("  [x] Unsubscribed      disqualifies"),
        "{text}"
    );
    assert!(
        text.contains("  disqualified by Unsubscribed (the score still counts, the tier does not)"),
        "{text}"
    );
    assert!(
        text.contains("  disqualified contacts go to suppressed"),
        "{text}"
    );
}

#[test]
fn json_has_the_documented_shape() {
    let env = env();
    let out = explain(&env, &["contacts.csv", "--id", "1", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["score"], 60);
    assert_eq!(v["tier"], "warm");
    assert_eq!(v["queue"], "sales");
    assert_eq!(v["decided_by"]["tier"], "warm");
    assert_eq!(v["contact"]["id"], "1");
    assert_eq!(v["contact"]["record"], 1);
    let rules = v["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 5);
    assert_eq!(rules[0]["name"], "Decision maker");
    assert_eq!(rules[0]["matched"], true);
    assert_eq!(rules[0]["points"], 20.0);
    assert_eq!(rules[3]["matched"], false);
    assert_eq!(rules[3]["points"], 0.0);
    assert_eq!(rules[0]["when"]["cell"], "VP Sales");
    assert_eq!(v["groups"][0]["name"], "fit");
    assert_eq!(v["groups"][0]["before_cap"], 35.0);
    assert_eq!(v["groups"][0]["after_cap"], 30.0);
    assert_eq!(v["tiers"][0]["tier"], "hot");
    assert_eq!(v["tiers"][0]["points_short"], 10.0);
}

#[test]
fn points_add_up_to_the_score_classify_gives_for_the_shipped_example() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let run = |args: &[&str]| {
        assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("leadsort"))
            .current_dir(&root)
            .args(args)
            .output()
            .unwrap()
    };
    let classified = stdout(&run(&[
        "classify",
        "--as-of",
        "2026-11-27",
        "examples/contacts.csv",
    ]));
    let scores = column(&classified, "score");
    let queues = column(&classified, "queue");
    // Every 7th contact keeps the test fast; the property tests cover the engine in full.
    for n in (1..=scores.len()).step_by(7) {
        let out = run(&[
            "explain",
            "--as-of",
            "2026-11-27",
            "examples/contacts.csv",
            "--row",
            &n.to_string(),
            "--format",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let rules: f64 = v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["points"].as_f64().unwrap())
            .sum();
        let caps: f64 = v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["after_cap"].as_f64().unwrap() - g["before_cap"].as_f64().unwrap())
            .sum();
        let score: i64 = scores[n - 1].parse().unwrap();
        assert_eq!((rules + caps).round() as i64, score, "contact {n}");
        assert_eq!(v["score"], score, "contact {n}");
        assert_eq!(v["queue"], queues[n - 1].as_str(), "contact {n}");
    }
}

#[test]
fn row_and_id_errors() {
    let env = env();
    let missing = explain(&env, &["contacts.csv", "--id", "99"]);
    assert_eq!(missing.status.code(), Some(65));
    assert!(stderr(&missing).contains("contacts.csv: no contact has the id \"99\""));
    let beyond = explain(&env, &["contacts.csv", "--row", "9"]);
    assert_eq!(beyond.status.code(), Some(65));
    assert!(stderr(&beyond).contains("contacts.csv has 5 records, not 9"));
    let both = explain(&env, &["contacts.csv", "--row", "1", "--id", "1"]);
    assert_eq!(both.status.code(), Some(2));
    let neither = explain(&env, &["contacts.csv"]);
    assert_eq!(neither.status.code(), Some(2));
}

#[test]
fn id_needs_an_id_column_and_the_flag_overrides_the_rules() {
    let env = Env::standard(); // RULES has no [input] id; CONTACTS has a column `id`
    let header = crate::util::CONTACTS.lines().next().unwrap();
    let rows = crate::util::CONTACTS.split_once('\n').unwrap().1;
    // Without a column named like an id column: refused.
    env.write(
        "no_id.csv",
        format!("{}\n{rows}", header.replacen("id,", "n,", 1)),
    );
    let out = explain(&env, &["no_id.csv", "--id", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "--id needs an id column, and no column of no_id.csv is named id, Contact ID, \
             Record ID, Lead ID"
        ),
        "{}",
        stderr(&out)
    );
    // A column named like one, in any case and spelling, is used.
    for name in ["id", "ID", "Contact ID", "record_id", "lead-id"] {
        env.write(
            "named.csv",
            format!("{}\n{rows}", header.replacen("id,", &format!("{name},"), 1)),
        );
        let out = explain(&env, &["named.csv", "--id", "3"]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert!(
            stdout(&out).starts_with("contact 3, record 3 (line 4)"),
            "{name}"
        );
        let missing = explain(&env, &["named.csv", "--id", "99"]);
        let said = format!("no contact has the id \"99\" (in column `{name}`)");
        assert!(stderr(&missing).contains(&said), "{}", stderr(&missing));
    }
    // Two columns of the most likely name: the next name, as one column has it.
    env.write(
        "two.csv",
        "ID,Contact ID,id,email,Job Title,Company Size,demo,unsubscribed,sales_status\n\
         x,c1,1,ann@acme.com,VP Sales,500,yes,no,\n\
         x,c2,2,bob@gmail.com,Engineer,10,no,no,\n",
    );
    let out = explain(&env, &["two.csv", "--id", "c2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("contact c2, record 2 (line 3)"));
    let by_email = explain(
        &env,
        &[
            "contacts.csv",
            "--id",
            "cy@initech.io",
            "--id-column",
            "email",
        ],
    );
    assert_eq!(by_email.status.code(), Some(0), "{}", stderr(&by_email));
    assert!(stdout(&by_email).starts_with("contact cy@initech.io, record 3 (line 4)"));
    let bad = explain(&env, &["contacts.csv", "--id", "1", "--id-column", "mail"]);
    assert_eq!(bad.status.code(), Some(65));
    assert!(stderr(&bad).contains("no id column `mail`"));
}

#[test]
fn duplicate_ids_show_the_first_and_warn() {
    let env = env();
    env.write(
        "dup.csv",
        format!("{}1,zed@acme.com,Intern,1,no,no,\n", crate::util::CONTACTS),
    );
    let out = explain(&env, &["dup.csv", "--id", "1"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("record 1 (line 2)"));
    assert!(
        stderr(&out)
            .contains("1 more contact in dup.csv has this id; showing the first (record 1)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_rejected_row_cannot_be_explained() {
    let env = env();
    env.write(
        "bad.csv",
        "id,email,Job Title,Company Size,demo,unsubscribed,sales_status\n1,a,b\n",
    );
    let out = explain(&env, &["bad.csv", "--row", "1"]);
    assert_eq!(out.status.code(), Some(65));
    assert!(
        stderr(&out).contains("record 1 could not be read (line 2): expected 7 fields, found 3"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn reads_stdin() {
    let env = env();
    let from_file = stdout(&explain(&env, &["contacts.csv", "--id", "5"]));
    let from_stdin = env
        .cmd()
        .args(["explain", "--as-of", "2026-11-27", "-", "--id", "5"])
        .write_stdin(env.read("contacts.csv"))
        .output()
        .unwrap();
    assert_eq!(
        stdout(&from_stdin),
        from_file.replace("of contacts.csv", "of <stdin>")
    );
}

#[test]
fn a_route_for_other_tiers_is_passed_by_and_says_so() {
    let env = env();
    // The rules with a last route "Big companies" for `tiers` (replacing the one written
    // before, if any).
    let route = |tiers: &str| {
        let rules = env.read("rules.toml");
        let rules = rules
            .split("\n[[route]]\nname = \"Big")
            .next()
            .unwrap()
            .to_string();
        env.write(
            "rules.toml",
            format!(
                "{rules}\n[[route]]\nname = \"Big companies\"\nwhen = {{ field = \"employees\", at_least = 200 }}\ntiers = {tiers}\nqueue = \"key\"\n"
            ),
        );
    };
    // Contact 1 is warm, at a company of 500.
    let queue_of_1 = |env: &Env| {
        let out = env.classify(&["contacts.csv"]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        column(&String::from_utf8(out.stdout).unwrap(), "queue")[0].clone()
    };
    route("[\"hot\"]");
    assert_eq!(queue_of_1(&env), "sales");
    let text = stdout(&explain(&env, &["contacts.csv", "--id", "1"]));
    assert!(
        text.contains(
            "\n  route \"Big companies\": no, it is for tier hot only\n  tier warm goes to sales\n"
        ),
        "{text}"
    );
    let out = explain(&env, &["contacts.csv", "--id", "1", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let big = &json["routes"][1];
    assert_eq!(big["name"], "Big companies");
    assert_eq!(
        (&big["for_tier"], &big["matched"]),
        (&false.into(), &false.into())
    );
    assert_eq!(
        big["when"]["holds"], true,
        "its condition holds; its tier does not"
    );
    assert_eq!(json["decided_by"]["tier"], "warm");
    route("[\"warm\", \"hot\"]");
    assert_eq!(queue_of_1(&env), "key");
    let text = stdout(&explain(&env, &["contacts.csv", "--id", "1"]));
    assert!(
        text.contains("  route \"Big companies\": matched, so key\n"),
        "{text}"
    );
}

#[test]
fn a_points_per_without_max_says_when_it_stopped_at_a_billion_even_decayed() {
    let env = Env::new();
    env.write(
        "rules.toml",
        r#"version = 1
[tiers]
warm = 50
[fields]
seen = { column = "seen", type = "date" }
[[rule]]
name = "Units"
points_per = { field = "units", points = 1000000000 }
decay = { field = "seen", half_life_days = 10 }
"#,
    );
    // Ten days before --as-of: half the points.
    env.write(
        "c.csv",
        "id,units,seen\n1,5,2026-11-17\n2,5,\n3,0.5,2026-11-17\n",
    );
    let cap = "(at most 1000000000, the most a rule gives)";
    let row = |n: &str| {
        let out = explain(&env, &["c.csv", "--row", n]);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let decayed = row("1");
    assert!(
        decayed.contains("+500000000") && decayed.contains(cap),
        "{decayed}"
    );
    let whole = row("2");
    assert!(
        whole.contains("+1000000000") && whole.contains(cap),
        "{whole}"
    );
    let under = row("3");
    assert!(
        under.contains("+250000000") && !under.contains(cap),
        "{under}"
    );
}

/// An id typed in another case finds its contact when no id matches exactly, with a warning;
/// an exact match always comes first (some CRMs' ids differ by case alone).
#[test]
fn an_id_in_another_case_is_found_when_none_matches_exactly() {
    let env = Env::standard();
    env.write(
        "c.csv",
        "id,email,Job Title,Company Size,demo,unsubscribed,sales_status\n\
         1,Tom@Baker.example,VP,10,no,no,\n\
         2,tom@baker.example,VP,10,yes,no,\n\
         3,Ann@Acme.example,VP,10,no,no,\n",
    );
    let first_line = |out: &Output| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let out = explain(
        &env,
        &["c.csv", "--id-column", "email", "--id", "ann@acme.example"],
    );
    assert!(
        first_line(&out).contains("record 3"),
        "{}",
        first_line(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("differs only in case"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Two in another case: which one is meant is not guessed.
    let out = explain(
        &env,
        &["c.csv", "--id-column", "email", "--id", "TOM@BAKER.EXAMPLE"],
    );
    assert_eq!(out.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&out.stderr).contains("and 2 have it in another case"));
    let out = explain(
        &env,
        &["c.csv", "--id-column", "email", "--id", "tom@baker.example"],
    );
    assert!(
        first_line(&out).contains("record 2"),
        "{}",
        first_line(&out)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("differs only in case"));
}
