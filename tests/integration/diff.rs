//! `leadsort diff`: two rule sets on the same contacts, what moves and why.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use crate::util::{self, CONTACTS, Env, RULES, ok};

/// The columns `--format csv` adds after the input's.
const ADDED: [&str; 7] = [
    "old_score",
    "old_tier",
    "old_queue",
    "new_score",
    "new_tier",
    "new_queue",
    "changed_by",
];

/// `leadsort diff --as-of 2026-11-27 --old old.toml --new new.toml ARGS...`
fn diff(env: &Env, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = env.cmd();
    cmd.args([
        "diff",
        "--as-of",
        "2026-11-27",
        "--old",
        "old.toml",
        "--new",
        "new.toml",
    ])
    .args(args);
    cmd
}

/// `CONTACTS` in contacts.csv, `RULES` as old.toml, and `new` as new.toml.
fn standard(new: &str) -> Env {
    let env = Env::new();
    env.write("contacts.csv", CONTACTS);
    env.write("old.toml", RULES);
    env.write("new.toml", new);
    env
}

/// `text` with `from` replaced by `to`; `from` must be there, or the test means nothing.
#[track_caller]
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` is not in the rules");
    text.replacen(from, to, 1)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn json(env: &Env, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let out = ok(&diff(env, &all).output().unwrap());
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}:\n{out}"))
}

/// Each moved contact's name (its `id`, else `#record`) and its changed_by, in order.
fn moves(report: &Value) -> Vec<(String, Vec<String>)> {
    report["moved"]
        .as_array()
        .expect("`moved` is a list")
        .iter()
        .map(|m| {
            let name = match &m["id"] {
                Value::String(id) => id.clone(),
                _ => format!("#{}", m["record"]),
            };
            let why = m["changed_by"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
            (name, why)
        })
        .collect()
}

/// `(name, [reason])` for each name: the same reason for every contact.
fn each(names: &[&str], reason: &str) -> Vec<(String, Vec<String>)> {
    names
        .iter()
        .map(|n| (n.to_string(), vec![reason.to_string()]))
        .collect()
}

/// A matrix of the JSON report as `(from, to, count)`, in its order.
fn cells(matrix: &Value) -> Vec<(String, String, u64)> {
    let mut out = Vec::new();
    for (from, row) in matrix.as_object().expect("a matrix is an object") {
        for (to, n) in row.as_object().expect("a matrix row is an object") {
            out.push((from.clone(), to.clone(), n.as_u64().unwrap()));
        }
    }
    out
}

/// The keys of the first object named `key` in pretty-printed JSON, in the order written
/// (`serde_json::Value` sorts them).
fn keys_in_order(raw: &str, key: &str) -> Vec<String> {
    let lines: Vec<&str> = raw.lines().collect();
    let open = format!("\"{key}\": {{");
    let start = lines
        .iter()
        .position(|l| l.trim_start() == open)
        .unwrap_or_else(|| panic!("no object {key}"));
    let indent = |l: &str| l.len() - l.trim_start().len();
    let inner = indent(lines[start]) + 2;
    lines[start + 1..]
        .iter()
        .take_while(|l| indent(l) >= inner)
        .filter(|l| indent(l) == inner)
        .filter_map(|l| l.trim_start().strip_prefix('"')?.split('"').next())
        .map(str::to_string)
        .collect()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped example (240 contacts) with the shipped rules as old.toml.
fn example() -> (Env, String) {
    let env = Env::new();
    env.write(
        "contacts.csv",
        std::fs::read(repo().join("examples/contacts.csv")).unwrap(),
    );
    let rules = std::fs::read_to_string(repo().join("rules.toml")).unwrap();
    (env, rules)
}

/// Contact ID, score, tier and score_engagement of every contact, from `leadsort classify`.
fn classified(env: &Env, rules: &str) -> Vec<(String, i64, String, i64)> {
    let out = ok(&env
        .classify(&["--rules", rules, "contacts.csv"])
        .output()
        .unwrap());
    let ids = util::column(&out, "Contact ID");
    let scores = util::column(&out, "score");
    let tiers = util::column(&out, "tier");
    let engagement = util::column(&out, "score_engagement");
    ids.into_iter()
        .zip(scores)
        .zip(tiers.into_iter().zip(engagement))
        .map(|((id, s), (t, e))| (id, s.parse().unwrap(), t, e.parse().unwrap()))
        .collect()
}

// ---- no change, no movement ------------------------------------------------------------------

#[test]
fn same_rules_move_nobody() {
    let env = standard(RULES);
    let report = json(&env, &["contacts.csv"]);
    assert_eq!(report["contacts"], 5);
    assert_eq!(report["moved"], Value::Array(vec![]));
    for matrix in ["tiers", "queues"] {
        let off_diagonal: Vec<_> = cells(&report[matrix])
            .into_iter()
            .filter(|(from, to, n)| from != to && *n > 0)
            .collect();
        assert_eq!(off_diagonal, [], "{matrix}");
    }
    assert_eq!(report["load"]["sales"]["change"], 0);

    let csv = ok(&diff(&env, &["--format", "csv", "contacts.csv"])
        .output()
        .unwrap());
    assert_eq!(util::rows(&csv).len(), 1, "only the header: {csv}");

    let text = ok(&diff(&env, &["contacts.csv"]).output().unwrap());
    assert!(text.contains("No contact changes tier or queue."), "{text}");
    assert!(text.contains("sales: 2 → 2 (no change)"), "{text}");
}

#[test]
fn the_shipped_rules_against_themselves_move_nobody() {
    let (env, rules) = example();
    env.write("old.toml", &rules);
    env.write("new.toml", &rules);
    let report = json(&env, &["contacts.csv"]);
    assert_eq!(report["contacts"], 240);
    assert_eq!(report["moved"].as_array().unwrap().len(), 0);
    let diagonal: u64 = cells(&report["tiers"])
        .iter()
        .filter(|(from, to, _)| from == to)
        .map(|c| c.2)
        .sum();
    assert_eq!(diagonal, 240);
}

// ---- what moves, and why ---------------------------------------------------------------------

#[test]
fn lowering_warm_from_50_to_40_moves_exactly_the_contacts_scoring_40_to_49() {
    let (env, rules) = example();
    let from = "warm = { score = 50, engagement = 15 }";
    env.write("old.toml", edit(&rules, from, "warm = 50"));
    env.write("new.toml", edit(&rules, from, "warm = 40"));

    let expected: BTreeSet<String> = classified(&env, "old.toml")
        .into_iter()
        .filter(|(_, score, tier, _)| tier != "disqualified" && (40..=49).contains(score))
        .map(|(id, ..)| id)
        .collect();
    assert!(expected.len() >= 10, "too few to mean much: {expected:?}");

    let report = json(&env, &["contacts.csv"]);
    let moved = moves(&report);
    let ids: BTreeSet<String> = moved.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids, expected);
    assert_eq!(ids.len(), moved.len(), "each contact once");
    for (id, why) in &moved {
        assert_eq!(why, &["tiers.warm 50 → 40"], "{id}");
    }
    for m in report["moved"].as_array().unwrap() {
        assert_eq!(m["old"]["tier"], "cold");
        assert_eq!(m["new"]["tier"], "warm");
        assert_eq!(m["old"]["score"], m["new"]["score"]);
    }
}

#[test]
fn lowering_a_warm_table_keeps_its_group_requirement() {
    let (env, rules) = example();
    let from = "warm = { score = 50, engagement = 15 }";
    env.write("old.toml", &rules);
    env.write(
        "new.toml",
        edit(&rules, from, "warm = { score = 40, engagement = 15 }"),
    );
    let expected: BTreeSet<String> = classified(&env, "old.toml")
        .into_iter()
        .filter(|(_, score, tier, engagement)| {
            tier != "disqualified" && (40..=49).contains(score) && *engagement >= 15
        })
        .map(|(id, ..)| id)
        .collect();
    assert!(!expected.is_empty());
    let moved = moves(&json(&env, &["contacts.csv"]));
    let ids: BTreeSet<String> = moved.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids, expected);
    assert!(moved.iter().all(|(_, why)| why == &["tiers.warm 50 → 40"]));
}

#[test]
fn a_group_requirement_on_a_tier_is_named() {
    let env = standard(&edit(RULES, "warm = 40", "warm = { score = 40, fit = 25 }"));
    // Contact 5 has fit 20: now short of warm. 1 and 4 have fit 30.
    assert_eq!(
        moves(&json(&env, &["--id-column", "id", "contacts.csv"])),
        each(&["5"], "tiers.warm.fit none → 25")
    );
}

#[test]
fn changing_a_rules_points_moves_exactly_the_contacts_it_matches() {
    // Asked for a demo 30 → 5: contacts 1 and 4 drop from 60 to 35, contact 5 from 50 to 25.
    let env = standard(&edit(RULES, "points = 30", "points = 5"));
    let report = json(&env, &["--id-column", "id", "contacts.csv"]);
    assert_eq!(
        moves(&report),
        each(&["1", "4", "5"], "Asked for a demo: +30 → +5")
    );
    let scores: Vec<(i64, i64)> = report["moved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["old"]["score"].as_i64().unwrap(),
                m["new"]["score"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(scores, [(60, 35), (60, 35), (50, 25)]);
}

#[test]
fn a_points_change_that_keeps_every_tier_moves_nobody() {
    // Demo 30 → 25: 55, 55 and 45 are all still warm.
    let env = standard(&edit(RULES, "points = 30", "points = 25"));
    assert_eq!(moves(&json(&env, &["contacts.csv"])), []);
}

#[test]
fn only_the_changes_that_made_the_difference_are_named() {
    // Demo 30 → 31 and warm 40 → 55: contact 5 (50 → 51) falls to cold because of the
    // threshold alone; 51 would be warm under the old one. 1 and 4 (61) stay warm.
    let new = edit(RULES, "points = 30", "points = 31");
    let env = standard(&edit(&new, "warm = 40", "warm = 55"));
    assert_eq!(
        moves(&json(&env, &["--id-column", "id", "contacts.csv"])),
        each(&["5"], "tiers.warm 40 → 55")
    );
}

#[test]
fn a_new_rule_moves_the_contacts_it_matches() {
    let new = format!(
        "{RULES}\n[[rule]]\nname = \"Gmail bonus\"\n\
         when = {{ field = \"email\", domain_in = [\"gmail.com\"] }}\npoints = 60\n"
    );
    let env = standard(&new);
    assert_eq!(
        moves(&json(&env, &["--id-column", "id", "contacts.csv"])),
        each(&["2"], "Gmail bonus: new rule (+60)")
    );
}

#[test]
fn a_removed_rule_moves_the_contacts_it_matched() {
    let demo = "[[rule]]\nname = \"Asked for a demo\"\n\
                when = { field = \"demo\", is = true }\npoints = 30\n";
    let env = standard(&edit(RULES, demo, ""));
    assert_eq!(
        moves(&json(&env, &["--id-column", "id", "contacts.csv"])),
        each(&["1", "4", "5"], "Asked for a demo: rule removed (was +30)")
    );
}

#[test]
fn a_rule_that_matches_differently_is_named() {
    // "Decision maker" no longer counts "director": contact 5 (Director of IT) drops to 30.
    let env = standard(&edit(
        RULES,
        r#"contains_any = ["director", "vp", "chief"]"#,
        r#"contains_any = ["vp", "chief"]"#,
    ));
    assert_eq!(
        moves(&json(&env, &["--id-column", "id", "contacts.csv"])),
        each(&["5"], "Decision maker: no longer matches (was +20)")
    );
}

#[test]
fn a_group_cap_change_is_named_where_it_changes_the_subtotal() {
    // fit capped at 5: 1 and 4 fall to 35, 5 to 35; all cold. 3 is disqualified anyway.
    let env = standard(&edit(RULES, "fit = { max = 30 }", "fit = { max = 5 }"));
    assert_eq!(
        moves(&json(&env, &["--id-column", "id", "contacts.csv"])),
        each(&["1", "4", "5"], "groups.fit.max 30 → 5")
    );
}

#[test]
fn an_added_route_changes_the_queue_not_the_tier() {
    let new = format!(
        "{RULES}\n[[route]]\nname = \"Big accounts\"\n\
         when = {{ field = \"employees\", at_least = 500 }}\nqueue = \"enterprise\"\n"
    );
    let env = standard(&new);
    let report = json(&env, &["--id-column", "id", "contacts.csv"]);
    // Contact 4 (1,200 employees) is caught by the earlier route first.
    assert_eq!(moves(&report), each(&["1"], "route: Big accounts"));
    let m = &report["moved"][0];
    assert_eq!(m["old"]["tier"], m["new"]["tier"]);
    assert_eq!(m["old"]["queue"], "sales");
    assert_eq!(m["new"]["queue"], "enterprise");
    assert_eq!(report["queues"]["sales"]["enterprise"], 1);
    assert_eq!(report["queues"]["enterprise"]["enterprise"], 0);
    assert_eq!(report["load"]["queues"]["enterprise"]["new"], 1);
    assert_eq!(report["load"]["sales"]["old"], 2);
    assert_eq!(report["load"]["sales"]["new"], 1);
}

#[test]
fn an_added_disqualifier_suppresses_the_contacts_it_matches() {
    let new = format!(
        "{RULES}\n[[rule]]\nname = \"Competitor\"\n\
         when = {{ field = \"email\", domain_in = [\"acme.com\"] }}\ndisqualify = true\n"
    );
    let env = standard(&new);
    let report = json(&env, &["--id-column", "id", "contacts.csv"]);
    assert_eq!(
        moves(&report),
        each(&["1", "5"], "Competitor: new rule (disqualifies)")
    );
    for m in report["moved"].as_array().unwrap() {
        assert_eq!(m["new"]["tier"], "disqualified");
        assert_eq!(m["new"]["queue"], "suppressed");
        assert_eq!(m["old"]["score"], m["new"]["score"], "keeps its score");
    }
}

#[test]
fn a_disqualifier_that_now_gives_points_is_named() {
    let env = standard(&edit(RULES, "disqualify = true", "points = 5"));
    // Contact 3: 30 disqualified → 35 cold.
    assert_eq!(
        moves(&json(&env, &["--id-column", "id", "contacts.csv"])),
        each(&["3"], "Unsubscribed: disqualifies → +5")
    );
}

#[test]
fn a_renamed_tier_queue_is_named_and_shown_in_the_sales_load() {
    let env = standard(&format!(
        "{RULES}\n[queues]\nwarm = \"sdr\"\nhot = \"sdr\"\n"
    ));
    let report = json(&env, &["--id-column", "id", "contacts.csv"]);
    assert_eq!(moves(&report), each(&["1", "5"], "queues.warm sales → sdr"));
    assert_eq!(
        report["load"]["sales"]["old_queues"],
        serde_json::json!(["sales"])
    );
    assert_eq!(
        report["load"]["sales"]["new_queues"],
        serde_json::json!(["sdr"])
    );
    let text = ok(&diff(&env, &["contacts.csv"]).output().unwrap());
    assert!(
        text.contains("sales → sdr: 2 → 2 (no change), 40.0% → 40.0% of contacts"),
        "{text}"
    );
}

// ---- the report ------------------------------------------------------------------------------

#[test]
fn matrices_and_loads_add_up_to_the_contacts() {
    let (env, rules) = example();
    env.write("old.toml", &rules);
    // Several changes at once, so contacts move in every direction.
    let new = edit(
        &rules,
        "warm = { score = 50, engagement = 15 }",
        "warm = 45",
    );
    let new = edit(
        &new,
        "fit        = { max = 50 }",
        "fit        = { max = 30 }",
    );
    env.write("new.toml", new);
    let report = json(&env, &["contacts.csv"]);
    let contacts = report["contacts"].as_u64().unwrap();
    assert_eq!(contacts, 240);
    for matrix in ["tiers", "queues"] {
        let all = cells(&report[matrix]);
        assert_eq!(all.iter().map(|c| c.2).sum::<u64>(), contacts, "{matrix}");
        let moved: u64 = all.iter().filter(|c| c.0 != c.1).map(|c| c.2).sum();
        assert!(moved > 0, "{matrix}: nothing moved, the test means nothing");
    }
    let loads = report["load"]["queues"].as_object().unwrap();
    let old: u64 = loads.values().map(|l| l["old"].as_u64().unwrap()).sum();
    let new: u64 = loads.values().map(|l| l["new"].as_u64().unwrap()).sum();
    assert_eq!((old, new), (contacts, contacts));
    // Each queue's load is its matrix row (old) and column (new).
    for (queue, load) in loads {
        let row: u64 = cells(&report["queues"])
            .iter()
            .filter(|c| &c.0 == queue)
            .map(|c| c.2)
            .sum();
        let column: u64 = cells(&report["queues"])
            .iter()
            .filter(|c| &c.1 == queue)
            .map(|c| c.2)
            .sum();
        assert_eq!(
            (load["old"].as_u64(), load["new"].as_u64()),
            (Some(row), Some(column))
        );
    }
    // A contact moves when its tier or queue changes: at least the off-diagonal tier mass.
    let tier_moves: u64 = cells(&report["tiers"])
        .iter()
        .filter(|c| c.0 != c.1)
        .map(|c| c.2)
        .sum();
    assert!(report["moved"].as_array().unwrap().len() as u64 >= tier_moves);
}

#[test]
fn each_reps_load_is_shown_when_a_capacity_changes() {
    // Ann is back from holiday (capacity 0 to 1): no contact changes queue, but the reps'
    // loads do.
    let reps = |ann: u32| {
        format!(
            "{RULES}\n[[rep]]\nname = \"Ann\"\ncapacity = {ann}\n[[rep]]\nname = \"Bo\"\ncapacity = 5\n"
        )
    };
    let env = standard(&reps(1));
    env.write("old.toml", reps(0));
    let report = json(&env, &["contacts.csv"]);
    assert_eq!(report["moved"], serde_json::json!([]));
    let load = &report["load"]["reps"];
    assert_eq!(load["Ann"]["old"], 0, "{load}");
    assert_eq!(load["Ann"]["new"], 1, "{load}");
    assert_eq!(load["Bo"]["change"], -1, "{load}");
    let text = ok(&diff(&env, &["contacts.csv"]).output().unwrap());
    assert!(
        text.contains("Load by rep (contacts each rep takes)"),
        "{text}"
    );
    // Without reps there is no such section, and the JSON's is empty.
    let env = standard(&edit(RULES, "points = 30", "points = 5"));
    assert_eq!(
        json(&env, &["contacts.csv"])["load"]["reps"],
        serde_json::json!({})
    );
    let text = ok(&diff(&env, &["contacts.csv"]).output().unwrap());
    assert!(!text.contains("Load by rep"), "{text}");
}

#[test]
fn json_has_the_documented_shape() {
    let env = standard(&edit(RULES, "points = 30", "points = 5"));
    let report = json(&env, &["contacts.csv"]);
    let keys: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "as_of",
            "contacts",
            "input",
            "load",
            "moved",
            "new_rules",
            "old_rules",
            "queues",
            "rejected",
            "tiers"
        ]
    );
    assert_eq!(report["as_of"], "2026-11-27");
    assert_eq!(report["old_rules"], "old.toml");
    assert_eq!(report["new_rules"], "new.toml");
    // Matrices: {old: {new: count}}, every tier (hot first) and every queue, in order.
    let raw = ok(&diff(&env, &["--format", "json", "contacts.csv"])
        .output()
        .unwrap());
    let tiers = ["hot", "warm", "cold", "disqualified"];
    assert_eq!(keys_in_order(&raw, "tiers"), tiers);
    assert_eq!(keys_in_order(&raw, "warm"), tiers, "the columns of a row");
    assert_eq!(report["tiers"]["warm"]["cold"], 3);
    assert_eq!(
        keys_in_order(&raw, "queues"),
        ["sales", "marketing", "suppressed"]
    );
    // Load: the sales queues and one entry per queue.
    let sales = &report["load"]["sales"];
    assert_eq!(
        sales,
        &serde_json::json!({
            "old_queues": ["sales"], "new_queues": ["sales"],
            "old": 2, "new": 0, "change": -2, "old_share": 0.4, "new_share": 0.0
        })
    );
    assert_eq!(
        report["load"]["queues"]["marketing"],
        serde_json::json!({"old": 2, "new": 4, "change": 2, "old_share": 0.4, "new_share": 0.8})
    );
    // A moved contact: record (and id when known), old and new placement, changed_by.
    assert_eq!(
        report["moved"][0],
        serde_json::json!({
            "record": 1,
            "old": {"score": 60, "tier": "warm", "queue": "sales"},
            "new": {"score": 35, "tier": "cold", "queue": "marketing"},
            "changed_by": ["Asked for a demo: +30 → +5"]
        })
    );
}

#[test]
fn csv_has_the_input_columns_then_old_and_new_placement_and_changed_by() {
    let env = standard(&edit(RULES, "points = 30", "points = 5"));
    let out = ok(&diff(&env, &["--format", "csv", "contacts.csv"])
        .output()
        .unwrap());
    let rows = util::rows(&out);
    let input = util::rows(CONTACTS);
    let mut header = input[0].clone();
    header.extend(ADDED.iter().map(|s| s.to_string()));
    assert_eq!(rows[0], header);
    assert_eq!(rows.len(), 4, "contacts 1, 4 and 5 move:\n{out}");
    for (row, contact) in rows[1..].iter().zip([1, 4, 5]) {
        assert_eq!(
            row[..input[0].len()],
            input[contact][..],
            "contact {contact}"
        );
    }
    assert_eq!(
        rows[1][input[0].len()..],
        [
            "60",
            "warm",
            "sales",
            "35",
            "cold",
            "marketing",
            "Asked for a demo: +30 → +5"
        ]
    );
}

#[test]
fn csv_joins_several_reasons_and_escapes_formulas() {
    let env = Env::new();
    env.write(
        "contacts.csv",
        "id,email,Job Title,Company Size,demo,unsubscribed,sales_status\n\
         =1+1,ann@acme.com,VP Sales,500,yes,no,\n",
    );
    env.write("old.toml", RULES);
    let new = edit(RULES, "points = 30", "points = 10");
    env.write("new.toml", edit(&new, "points = 20", "points = 0"));
    let out = ok(&diff(&env, &["--format", "csv", "contacts.csv"])
        .output()
        .unwrap());
    let rows = util::rows(&out);
    assert_eq!(rows[1][0], "'=1+1", "a formula is escaped as in classify");
    // fit 0 + 15 = 15, demo 10: 25, cold.
    assert_eq!(
        rows[1].last().unwrap(),
        "Decision maker: +20 → +0; Asked for a demo: +30 → +10"
    );
}

#[test]
fn text_shows_counts_matrices_sales_load_and_moves() {
    let env = standard(&edit(RULES, "points = 30", "points = 5"));
    let text = ok(&diff(&env, &["--id-column", "email", "contacts.csv"])
        .output()
        .unwrap());
    insta::assert_snapshot!(text, @r"
    Old rules: old.toml
    New rules: new.toml
    Contacts:  5 compared from contacts.csv (as of 2026-11-27)
    Moved:     3 contacts (60.0%) change tier or queue

    Tiers (rows: old, columns: new)
      old \ new     hot  warm  cold  disqualified
      hot             0     0     0             0
      warm            0     0     3             0
      cold            0     0     1             0
      disqualified    0     0     0             1

    Queues (rows: old, columns: new)
      old \ new   sales  marketing  suppressed
      sales           0          2           0
      marketing       0          2           0
      suppressed      0          0           1

    Load by queue
      queue       old  new  change
      sales         2    0      -2
      marketing     2    4      +2
      suppressed    1    1       0

    Sales load (the queues of the warm and hot tiers)
      sales: 2 → 0 (-2), 40.0% → 0.0% of contacts

    Moved contacts (3, by email)
      ann@acme.com   60  warm  sales      →  35  cold  marketing  because: Asked for a demo: +30 → +5
      di@globex.com  60  warm  marketing  →  35  cold  marketing  because: Asked for a demo: +30 → +5
      ed@acme.com    50  warm  sales      →  25  cold  marketing  because: Asked for a demo: +30 → +5
    ");
}

#[test]
fn text_lists_at_most_50_moved_contacts() {
    let env = Env::new();
    let mut csv = String::from("id,demo\n");
    for i in 1..=60 {
        csv.push_str(&format!("{i},yes\n"));
    }
    env.write("contacts.csv", csv);
    let rules = "version = 1\n[tiers]\nwarm = 40\n[[rule]]\nname = \"Demo\"\n\
                 when = { field = \"demo\", is = true }\npoints = 50\n";
    env.write("old.toml", rules);
    env.write("new.toml", edit(rules, "points = 50", "points = 10"));
    let text = ok(&diff(&env, &["--id-column", "id", "contacts.csv"])
        .output()
        .unwrap());
    let listed = text.lines().filter(|l| l.contains("because:")).count();
    assert_eq!(listed, 50, "{text}");
    assert!(
        text.contains("  ... and 10 more (use --format csv for all)"),
        "{text}"
    );
    let csv = ok(&diff(&env, &["--format", "csv", "contacts.csv"])
        .output()
        .unwrap());
    assert_eq!(util::rows(&csv).len(), 61, "csv lists all");
}

// ---- naming contacts -------------------------------------------------------------------------

#[test]
fn moved_contacts_are_named_by_id_column_else_input_id_else_record() {
    let new = edit(RULES, "points = 30", "points = 5");
    let env = standard(&new);
    let names = |env: &Env, args: &[&str]| -> Vec<String> {
        moves(&json(env, args))
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    };
    assert_eq!(names(&env, &["contacts.csv"]), ["#1", "#4", "#5"]);
    assert_eq!(
        names(&env, &["--id-column", "email", "contacts.csv"]),
        ["ann@acme.com", "di@globex.com", "ed@acme.com"]
    );

    // `[input] id` of the new rules; the flag still wins.
    env.write("new.toml", format!("{new}\n[input]\nid = \"email\"\n"));
    assert_eq!(
        names(&env, &["contacts.csv"]),
        ["ann@acme.com", "di@globex.com", "ed@acme.com"]
    );
    assert_eq!(
        names(&env, &["--id-column", "id", "contacts.csv"]),
        ["1", "4", "5"]
    );
    let text = ok(&diff(&env, &["contacts.csv"]).output().unwrap());
    assert!(text.contains("Moved contacts (3, by email)"), "{text}");

    // Only the new rules' `[input] id` counts.
    env.write("old.toml", format!("{RULES}\n[input]\nid = \"id\"\n"));
    assert_eq!(names(&env, &["contacts.csv"])[0], "ann@acme.com");
}

#[test]
fn records_count_contacts_from_one_in_text() {
    let env = standard(&edit(RULES, "points = 30", "points = 5"));
    let text = ok(&diff(&env, &["contacts.csv"]).output().unwrap());
    assert!(text.contains("\n  record 4  "), "{text}");
}

#[test]
fn an_unknown_id_column_is_exit_65() {
    let env = standard(RULES);
    let out = diff(&env, &["--id-column", "Contact", "contacts.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(
        stderr(&out).contains("no id column `Contact`"),
        "{}",
        stderr(&out)
    );
}

// ---- input and output ------------------------------------------------------------------------

#[test]
fn reads_stdin_given_dash_or_nothing() {
    let env = standard(&edit(RULES, "points = 30", "points = 5"));
    for args in [&["-"][..], &[]] {
        let mut all = vec!["--format", "csv", "--id-column", "id"];
        all.extend_from_slice(args);
        let out = ok(&diff(&env, &all).write_stdin(CONTACTS).output().unwrap());
        assert_eq!(util::column(&out, "id"), ["1", "4", "5"], "{args:?}");
    }
    let report: Value = serde_json::from_str(&ok(&diff(&env, &["--format", "json"])
        .write_stdin(CONTACTS)
        .output()
        .unwrap()))
    .unwrap();
    assert_eq!(report["input"], "<stdin>");
}

#[test]
fn output_file_is_written_and_stdout_stays_empty() {
    let env = standard(&edit(RULES, "points = 30", "points = 5"));
    let out = diff(
        &env,
        &["--format", "csv", "-o", "moved.csv", "contacts.csv"],
    )
    .output()
    .unwrap();
    assert_eq!(ok(&out), "");
    assert_eq!(util::rows(&env.read("moved.csv")).len(), 4);
    assert_eq!(
        env.files(),
        ["contacts.csv", "moved.csv", "new.toml", "old.toml"]
    );
}

#[test]
fn the_output_files_extension_picks_the_format_unless_format_says() {
    let env = standard(&edit(RULES, "points = 30", "points = 5"));
    let write = |args: &[&str]| {
        let out = diff(&env, args).output().unwrap();
        assert_eq!(ok(&out), "", "{args:?}");
    };
    write(&["-o", "moved.CSV", "contacts.csv"]);
    assert_eq!(util::rows(&env.read("moved.CSV")).len(), 4);
    write(&["-o", "diff.json", "contacts.csv"]);
    let report: Value = serde_json::from_str(&env.read("diff.json")).unwrap();
    assert_eq!(report["contacts"], 5);
    write(&["-o", "diff.txt", "contacts.csv"]);
    assert!(env.read("diff.txt").contains("sales:"));
    write(&["--format", "text", "-o", "report.json", "contacts.csv"]);
    assert!(env.read("report.json").contains("sales:"));
}

#[test]
fn output_over_an_input_is_refused() {
    let env = standard(RULES);
    for target in ["contacts.csv", "new.toml"] {
        let out = diff(&env, &["-o", target, "contacts.csv"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{target}");
    }
    assert_eq!(env.read("contacts.csv"), CONTACTS);
}

#[test]
fn unreadable_rows_are_skipped_and_warned_about() {
    let env = standard(&edit(RULES, "points = 30", "points = 5"));
    env.write(
        "contacts.csv",
        format!("{CONTACTS}6,too,few\n7,zed@acme.com,VP,10,yes,no,\n"),
    );
    let out = diff(
        &env,
        &["--format", "json", "--id-column", "id", "contacts.csv"],
    )
    .output()
    .unwrap();
    let report: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(report["contacts"], 6);
    assert_eq!(report["rejected"], 1);
    assert_eq!(
        moves(&report).into_iter().map(|m| m.0).collect::<Vec<_>>(),
        ["1", "4", "5", "7"]
    );
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("leadsort: warning: 1 of 7 rows in contacts.csv could not be read"),
        "{err}"
    );
}

// ---- errors ----------------------------------------------------------------------------------

#[test]
fn a_column_only_the_new_rules_need_is_exit_65_naming_the_file_and_field() {
    let new = format!(
        "{RULES}\n[[rule]]\nname = \"Region\"\nwhen = {{ field = \"region\", equals = \"EU\" }}\npoints = 5\n"
    );
    let env = standard(&new);
    let out = diff(&env, &["contacts.csv"]).output().unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert_eq!(out.stdout, b"");
    insta::assert_snapshot!(stderr(&out), @r"
    leadsort: error: the new rules (--new new.toml) cannot be applied to contacts.csv:
    leadsort:   contacts.csv has no column for field `region` (used at new.toml:49:18)
    leadsort:   headers in contacts.csv: `id`, `email`, `Job Title`, `Company Size`, `demo`, `unsubscribed`, `sales_status`
    leadsort:   fix the name in the rules, list the header under [fields], or mark the field `optional = true`
    ");
}

#[test]
fn a_broken_old_rules_file_is_exit_78_rendered_with_its_place() {
    let env = standard(RULES);
    env.write("old.toml", edit(RULES, "points = 30", "pionts = 30"));
    let out = diff(&env, &["-o", "out.txt", "contacts.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    assert!(!env.exists("out.txt"));
    insta::assert_snapshot!(stderr(&out), @r#"
    leadsort: error: unknown key `pionts` in rule "Asked for a demo"
      --> old.toml:30:1
       |
    30 | pionts = 30
       | ^^^^^^ unknown key
       |
    help: did you mean `points`?
    "#);
}

#[test]
fn a_missing_rules_file_is_exit_66() {
    let env = standard(RULES);
    let out = env
        .cmd()
        .args([
            "diff",
            "--old",
            "nope.toml",
            "--new",
            "new.toml",
            "contacts.csv",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(66));
    assert!(stderr(&out).contains("nope.toml"), "{}", stderr(&out));
}

#[test]
fn both_rules_files_are_required() {
    let env = standard(RULES);
    let out = env
        .cmd()
        .args(["diff", "--new", "new.toml", "contacts.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--old"), "{}", stderr(&out));
}

#[test]
fn help_has_examples() {
    let env = Env::new();
    let out = ok(&env.cmd().args(["diff", "--help"]).output().unwrap());
    assert!(out.contains("Examples:"), "{out}");
    assert!(
        out.contains("leadsort diff --old rules.toml --new"),
        "{out}"
    );
    for flag in [
        "--old",
        "--new",
        "--as-of",
        "--id-column",
        "--format",
        "--output",
    ] {
        assert!(out.contains(flag), "{flag}");
    }
}

/// With a sales capacity or reps, the balance decides who goes to sales: diff counts and
/// moves contacts where classify puts them, on both sides, and says when the balance moved
/// one.
#[test]
fn diff_applies_the_balance_as_classify_does() {
    let (env, rules) = example();
    let balance = |settings: &str| format!("{rules}\n{settings}");
    let variants = [
        ("plain", rules.clone()),
        (
            "capacity 20",
            balance("[balance]\nsales_capacity = 20\noverflow_queue = \"waiting\"\n"),
        ),
        (
            "capacity 2000",
            balance("[balance]\nsales_capacity = 2000\noverflow_queue = \"waiting\"\n"),
        ),
        ("capacity 0", balance("[balance]\nsales_capacity = 0\n")),
        (
            "reps",
            balance(
                "[balance]\noverflow_queue = \"waiting\"\n\
                 [[rep]]\nname = \"Ana\"\ncapacity = 6\nwhen = { field = \"country\", in = [\"US\"] }\n\
                 [[rep]]\nname = \"Bo\"\ncapacity = 9\n",
            ),
        ),
    ];
    // Each contact's queue under each variant, from classify.
    let mut queues = Vec::new();
    for (name, text) in &variants {
        let file = format!("{}.toml", name.replace(' ', "_"));
        env.write(&file, text);
        let out = ok(&env
            .classify(&["--rules", &file, "contacts.csv"])
            .output()
            .unwrap());
        let ids = util::column(&out, "Contact ID");
        let queue = util::column(&out, "queue");
        queues.push((
            file,
            ids.into_iter()
                .zip(queue)
                .collect::<std::collections::BTreeMap<_, _>>(),
        ));
    }
    let mut balance_moves = 0;
    for (old_file, old_queues) in &queues {
        for (new_file, new_queues) in &queues {
            env.write("old.toml", env.read(old_file));
            env.write("new.toml", env.read(new_file));
            let report = json(&env, &["contacts.csv"]);
            for (side, want) in [("old", old_queues), ("new", new_queues)] {
                for (queue, load) in report["load"]["queues"].as_object().unwrap() {
                    let classify = want.values().filter(|q| *q == queue).count() as u64;
                    assert_eq!(
                        load[side].as_u64(),
                        Some(classify),
                        "{old_file} → {new_file}: {side} {queue}"
                    );
                }
            }
            let mut moved = 0;
            for m in report["moved"].as_array().unwrap() {
                let id = m["id"].as_str().unwrap();
                assert_eq!(m["old"]["queue"], old_queues[id].as_str(), "{id}");
                assert_eq!(m["new"]["queue"], new_queues[id].as_str(), "{id}");
                let why = m["changed_by"].to_string();
                balance_moves += usize::from(why.contains("balance ("));
                moved += usize::from(old_queues[id] != new_queues[id]);
            }
            let differ = old_queues
                .iter()
                .filter(|(id, q)| new_queues[*id] != **q)
                .count();
            assert_eq!(
                moved, differ,
                "{old_file} → {new_file}: every queue change is a move"
            );
        }
    }
    assert!(balance_moves > 0, "some moves are the balance's");
}

/// A contact that falls to cold fell for the changes that took points away: a new rule that
/// gave it points, or none, is no reason.
#[test]
fn because_names_only_changes_that_pushed_the_way_the_contact_moved() {
    let env = Env::new();
    env.write("d.csv", "id,demo,pv\n1,yes,5\n");
    let rule = |name: &str, body: &str| format!("[[rule]]\nname = \"{name}\"\n{body}\n");
    let head = "version = 1\n[tiers]\nwarm = 30\n";
    env.write(
        "old.toml",
        format!(
            "{head}{}",
            rule(
                "Demo",
                "when = { field = \"demo\", is = true }\npoints = 30"
            )
        ),
    );
    env.write(
        "new.toml",
        format!(
            "{head}{}{}",
            rule(
                "Demo",
                "when = { field = \"demo\", is = true }\npoints = 10"
            ),
            rule(
                "Page views",
                "points_per = { field = \"pv\", points = 1, max = 10 }"
            ),
        ),
    );
    let out = diff(&env, &["d.csv"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("→  15  cold  marketing  because: Demo: +30 → +10\n"),
        "{text}"
    );
}
