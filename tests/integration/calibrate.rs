//! `leadsort calibrate`: rules checked against contacts whose outcome is known.
//!
//! The contacts are generated here with known true weights: the outcome is drawn from a
//! logistic model (a fixed-seed xorshift generator, so every run sees the same file), and
//! the rules give every signal the same points. Calibrate must tell the signals apart, find
//! the one that has no rule, and write a rules file that scores better.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::util::{self, Env, ok};

/// The true log-odds of converting: the intercept, then per signal.
const INTERCEPT: f64 = -2.6;
const DEMO: f64 = 2.4;
const WEBINAR: f64 = 1.4;
const LARGE: f64 = 0.8;
const SOFTWARE: f64 = 0.3;
/// A signal the rules do not have.
const NORTH: f64 = 1.6;

/// Equal points for four of the five signals: calibrate should tell them apart.
const RULES: &str = r#"# Every signal gets the same points: calibrate should tell them apart.
version = 1

[input]
id = "id"

[tiers]
warm = 20   # two signals

[[rule]]
name = "Asked for a demo"
when = { field = "demo", is = true }
points = 10

[[rule]]
name = "Attended a webinar"
when = { field = "webinar", is = true }
points = 10   # any webinar

[[rule]]
name = "Large company"
when = { field = "employees", at_least = 200 }
points = 10

[[rule]]
name = "Software"
when = { field = "industry", equals = "software" }
points = 10
"#;

/// xorshift64*: a small generator with a fixed seed, so the data never change.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[((self.next() * items.len() as f64) as usize).min(items.len() - 1)]
    }
}

/// 4000 contacts: id, demo, webinar, employees, industry, region, converted. Every 100th
/// contact has no outcome yet (an empty cell).
fn contacts() -> String {
    let mut rng = Rng(0x5EED_CA11_B2A7_E000);
    let mut csv = String::from("id,demo,webinar,employees,industry,region,converted\n");
    for id in 1..=4000 {
        let demo = rng.next() < 0.3;
        let webinar = rng.next() < 0.35;
        let employees = (10.0 * 300f64.powf(rng.next())).round() as u64; // 10 to 3000
        let industry = rng.pick(&["software", "Software", "retail", "finance", "health"]);
        let region = rng.pick(&["North", "south", "east", "west"]);
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        let eta = INTERCEPT
            + DEMO * flag(demo)
            + WEBINAR * flag(webinar)
            + LARGE * flag(employees >= 200)
            + SOFTWARE * flag(industry.eq_ignore_ascii_case("software"))
            + NORTH * flag(region == "North");
        let converted = rng.next() < 1.0 / (1.0 + (-eta).exp());
        let outcome = if id % 100 == 0 {
            ""
        } else if converted {
            "yes"
        } else {
            "no"
        };
        let yn = |b: bool| if b { "yes" } else { "no" };
        csv.push_str(&format!(
            "{id},{},{},{employees},{industry},{region},{outcome}\n",
            yn(demo),
            yn(webinar)
        ));
    }
    csv
}

fn env() -> Env {
    let env = Env::new();
    env.write("rules.toml", RULES);
    env.write("contacts.csv", contacts());
    env
}

/// `leadsort calibrate --as-of 2026-11-27 --outcome converted ARGS... contacts.csv`
fn calibrate(env: &Env, args: &[&str]) -> Output {
    env.cmd()
        .args([
            "calibrate",
            "--as-of",
            "2026-11-27",
            "--outcome",
            "converted",
        ])
        .args(args)
        .arg("contacts.csv")
        .output()
        .unwrap()
}

fn json(env: &Env, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(&calibrate(env, &all))).expect("--format json is JSON")
}

/// The suggested points by rule name.
fn suggested(report: &Value, name: &str) -> f64 {
    report["suggested_points"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no suggested points for {name}"))["suggested"]
        .as_f64()
        .unwrap()
}

/// The AUC of classify's scores against the outcome, ties counted half; contacts without an
/// outcome left out.
fn classify_auc(env: &Env, rules: &str) -> f64 {
    let scored = scored(env, rules);
    let (pos, neg): (Vec<f64>, Vec<f64>) = (
        scored.iter().filter(|s| s.1).map(|s| s.0).collect(),
        scored.iter().filter(|s| !s.1).map(|s| s.0).collect(),
    );
    let mut wins = 0.0;
    for p in &pos {
        for n in &neg {
            wins += if p > n {
                1.0
            } else if p == n {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / (pos.len() * neg.len()) as f64
}

/// Score, converted? and tier of each contact with an outcome, as classify gives them.
fn scored(env: &Env, rules: &str) -> Vec<(f64, bool, String)> {
    let out = env
        .classify(&["--rules", rules, "contacts.csv"])
        .output()
        .unwrap();
    let csv = ok(&out);
    let score = util::column(&csv, "score");
    let converted = util::column(&csv, "converted");
    let tier = util::column(&csv, "tier");
    score
        .iter()
        .zip(&converted)
        .zip(&tier)
        .filter(|((_, c), _)| !c.is_empty())
        .map(|((s, c), t)| (s.parse().unwrap(), c == "yes", t.clone()))
        .collect()
}

#[test]
fn suggested_points_recover_the_order_of_the_true_weights() {
    let report = json(&env(), &[]);
    let demo = suggested(&report, "Asked for a demo");
    let webinar = suggested(&report, "Attended a webinar");
    let large = suggested(&report, "Large company");
    let software = suggested(&report, "Software");
    assert!(
        demo > webinar && webinar > large && large > software,
        "true weights {DEMO} > {WEBINAR} > {LARGE} > {SOFTWARE}, suggested {demo} {webinar} {large} {software}"
    );
    // Scaled to the file's own points: they add up to about the same.
    let sum = demo.abs() + webinar.abs() + large.abs() + software.abs();
    assert!((sum - 40.0).abs() <= 2.0, "{sum}");
    assert_eq!(report["suggested_points"]["adopted"], true);
}

#[test]
fn suggested_points_beat_equal_points_out_of_fold() {
    let report = json(&env(), &[]);
    let oof = &report["out_of_fold_auc"];
    let (now, better) = (
        oof["current"].as_f64().unwrap(),
        oof["suggested"].as_f64().unwrap(),
    );
    assert!(
        better > now + 0.01,
        "out of fold: equal points {now}, suggested {better}"
    );
    // The suggested rule adds what the rules lack.
    let with_rules = oof["with_suggested_rules"].as_f64().unwrap();
    assert!(with_rules > better + 0.01, "{with_rules} vs {better}");
}

#[test]
fn the_written_rules_load_keep_their_comments_and_classify_better() {
    let env = env();
    ok(&calibrate(&env, &["--write-rules", "new.toml"]));
    assert_eq!(
        env.read("rules.toml"),
        RULES,
        "the rules file is never changed"
    );
    let text = env.read("new.toml");
    leadsort::rules::from_str(Path::new("new.toml"), &text)
        .unwrap_or_else(|e| panic!("{}", e.render(false)));
    assert!(
        text.starts_with("# Every signal gets the same points"),
        "{text}"
    );
    // A comment of its own is kept, and says what the value was.
    assert!(
        text.contains("   # any webinar (calibrate: was 10)\n"),
        "{text}"
    );
    assert!(text.contains("   # calibrate: was 10\n"), "{text}");
    assert!(
        text.contains("   # two signals (calibrate: was 20, best F1)\n"),
        "{text}"
    );
    let (before, after) = (
        classify_auc(&env, "rules.toml"),
        classify_auc(&env, "new.toml"),
    );
    assert!(after > before + 0.01, "AUC {before} → {after}");
}

#[test]
fn a_column_that_matters_but_has_no_rule_is_suggested() {
    let env = env();
    let report = json(&env, &[]);
    let rules = report["suggested_rules"]["rules"].as_array().unwrap();
    let first = &rules[0];
    assert_eq!(first["column"], "region", "{rules:#?}");
    assert_eq!(first["operator"], "equals");
    assert_eq!(first["value"], "\"North\"");
    assert!(first["lift"].as_f64().unwrap() >= 1.5);
    assert!(first["held_out_lift"].as_f64().unwrap() >= 1.2);
    // Never the outcome or the id, and nothing the rules already cover.
    for r in rules {
        assert!(!["converted", "id"].contains(&r["column"].as_str().unwrap()));
        assert_ne!(r["column"], "demo", "{r}");
    }

    // Added with --add-suggested: a rule on region in the new file, which scores better still.
    ok(&calibrate(
        &env,
        &["--write-rules", "with-region.toml", "--add-suggested"],
    ));
    ok(&calibrate(&env, &["--write-rules", "points-only.toml"]));
    let text = env.read("with-region.toml");
    leadsort::rules::from_str(Path::new("with-region.toml"), &text)
        .unwrap_or_else(|e| panic!("{}", e.render(false)));
    assert!(
        text.contains(
            "# Suggested by `leadsort calibrate` from contacts.csv (outcome column `converted`)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "name = \"region: North\"\nwhen = { field = \"region\", equals = \"North\" }\npoints = "
        ),
        "{text}"
    );
    let (points_only, with_region) = (
        classify_auc(&env, "points-only.toml"),
        classify_auc(&env, "with-region.toml"),
    );
    assert!(
        with_region > points_only + 0.01,
        "{points_only} → {with_region}"
    );
}

#[test]
fn a_target_precision_gives_a_warm_queue_that_converts_at_least_that_well() {
    let env = env();
    let report = json(
        &env,
        &["--target-precision", "0.8", "--write-rules", "new.toml"],
    );
    assert_eq!(report["new_rules"]["chosen_by"], "target precision 80%");

    // On the current score: the threshold calibrate names, checked against classify.
    let t = report["thresholds"]["current"]["target_precision"]["threshold"]
        .as_f64()
        .unwrap();
    let now = scored(&env, "rules.toml");
    let above: Vec<_> = now.iter().filter(|s| s.0 >= t).collect();
    let rate = above.iter().filter(|s| s.1).count() as f64 / above.len() as f64;
    assert!(rate >= 0.8, "score >= {t}: {rate}");

    // The new file's warm queue, as classify gives it.
    let new = scored(&env, "new.toml");
    let warm: Vec<_> = new
        .iter()
        .filter(|s| s.2 == "warm" || s.2 == "hot")
        .collect();
    let converted = warm.iter().filter(|s| s.1).count();
    let precision = converted as f64 / warm.len() as f64;
    assert!(precision >= 0.8, "warm queue converts at {precision}");
    let recall = converted as f64 / new.iter().filter(|s| s.1).count() as f64;
    let reported = &report["new_rules"]["warm_queue"];
    assert_eq!(reported["contacts"].as_u64().unwrap() as usize, warm.len());
    assert!((reported["recall"].as_f64().unwrap() - recall).abs() < 1e-3);
}

/// `contacts()` with a coin for an outcome: `yes` with chance `rate`, from `seed`.
fn coin_outcomes(seed: u64, rate: f64) -> String {
    let mut coin = Rng(seed);
    contacts()
        .lines()
        .enumerate()
        .map(|(i, line)| match (i, line.rsplit_once(',')) {
            (0, _) | (_, None) => format!("{line}\n"),
            (_, Some((row, _))) => {
                format!("{row},{}\n", if coin.next() < rate { "yes" } else { "no" })
            }
        })
        .collect()
}

#[test]
fn an_outcome_the_score_does_not_tell_apart_keeps_the_threshold() {
    // The same contacts with a coin for an outcome: the best F1 would be a threshold fitted
    // to noise (sending nearly everyone to sales), so the warm threshold stays.
    let env = env();
    env.write("contacts.csv", coin_outcomes(0xC0FF_EE00_D1CE_0001, 0.3));
    let out = calibrate(&env, &["--format", "json"]);
    let report: Value = serde_json::from_str(&ok(&out)).unwrap();
    let new = &report["new_rules"];
    assert_eq!(new["warm"], 20.0, "{new}");
    let by = new["chosen_by"].as_str().unwrap();
    assert!(
        by.starts_with("kept: AUC 0.") && by.ends_with("no better than chance"),
        "{by}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the score tells converters apart no better than chance")
            && err.contains("contacts): the warm threshold is kept, as any other"),
        "{err}"
    );
    // A capacity still moves it (it is not fitted to noise), and the warning does not say
    // it is kept.
    let out = calibrate(&env, &["--format", "json", "--capacity", "300"]);
    let report: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(report["new_rules"]["chosen_by"], "capacity 300");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no better than chance") && !err.contains("the warm threshold is kept"),
        "{err}"
    );
    // With a signal it does tell apart, the best F1 moves the threshold as before.
    let out = calibrate(&self::env(), &["--format", "json"]);
    let report: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert!(
        !report["new_rules"]["chosen_by"]
            .as_str()
            .unwrap()
            .contains("chance")
    );
}

#[test]
fn points_that_beat_the_current_ones_out_of_fold_by_luck_are_not_used() {
    // A coin for an outcome, 10% yes: on these three coins the fitted points beat the current
    // ones out of fold by 0.03 to 0.07 in AUC, by luck alone (about one standard error).
    // Doing better is not enough: the gain must be clearly above its noise, and the score
    // above chance, else the new rules keep the current points.
    let env = env();
    for seed in [8, 21, 30] {
        env.write(
            "contacts.csv",
            coin_outcomes(0xC0FF_EE00_0000_0000 + seed, 0.1),
        );
        let out = calibrate(&env, &["--format", "json", "--write-rules", "new.toml"]);
        let report: Value = serde_json::from_str(&ok(&out)).unwrap();
        let oof = &report["out_of_fold_auc"];
        let (now, fitted) = (
            oof["current"].as_f64().unwrap(),
            oof["suggested"].as_f64().unwrap(),
        );
        assert!(
            fitted > now + 0.03,
            "seed {seed}: now {now}, fitted {fitted}"
        );
        let points = &report["suggested_points"];
        assert_eq!(points["adopted"], false, "seed {seed}: {points}");
        let why = points["not_adopted_because"].as_str().unwrap();
        assert!(
            why.starts_with("out of fold they gain +0.0") && why.contains("within the noise"),
            "seed {seed}: {why}"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("the suggested points are not used: out of fold they gain")
                && err.contains("the new rules keep the current points"),
            "{err}"
        );
        // The points written are the current ones, and so is the threshold (the current
        // score tells a coin no better than chance).
        let written = env.read("new.toml");
        let ten = written
            .lines()
            .filter(|l| l.starts_with("points = 10"))
            .count();
        assert!(ten == 4 && !written.contains("was 10"), "{written}");
        assert!(written.contains("warm = 20   # two signals (calibrate: was 20, kept: AUC"));
    }
    let text = ok(&calibrate(&env, &[]));
    assert!(
        text.contains(
            "Suggested points, NOT used: not clearly better than the current points out of fold"
        ),
        "{text}"
    );
}

#[test]
fn a_target_precision_no_threshold_reaches_keeps_the_threshold() {
    // Asked for 99.9%, no threshold converts that well: the warm threshold stays (a lower
    // one, the best F1, would only convert worse), and a warning says why.
    let env = env();
    let out = calibrate(&env, &["--format", "json", "--target-precision", "0.999"]);
    let report: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(report["new_rules"]["warm"], 20.0);
    assert_eq!(
        report["new_rules"]["chosen_by"],
        "kept: no threshold reaches 99.9%"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no threshold of the new score converts at 99.9% or more"),
        "{err}"
    );
}

#[test]
fn both_tables_of_thresholds_have_their_columns_in_the_same_place() {
    // The reasons for the suggested warm threshold make a long label in the second table.
    let text = ok(&calibrate(&env(), &["--target-precision", "0.999"]));
    assert!(
        text.contains("suggested warm (kept: no threshold reaches 99.9%)"),
        "{text}"
    );
    let lines: Vec<&str> = text.lines().collect();
    let mut ends = Vec::new();
    for (i, title) in lines.iter().enumerate() {
        if !title.starts_with("Thresholds on") {
            continue;
        }
        // Where the threshold column ends: every row's threshold (or `none`) ends there.
        let end = title.find("threshold  contacts").unwrap() + "threshold".len();
        ends.push(end);
        for row in lines[i + 1..].iter().take_while(|l| !l.is_empty()) {
            let (head, tail) = row.split_at(end);
            assert!(
                !head.ends_with(' ') && (tail.is_empty() || tail.starts_with(' ')),
                "misaligned:\n{title}\n{row}"
            );
        }
    }
    assert_eq!(ends.len(), 2, "{text}");
    assert_eq!(ends[0], ends[1], "{text}");
}

#[test]
fn warnings_the_new_rules_would_get_from_check_are_said() {
    // "Asked for a demo" in a group capped at its 10 points: the fitted points (the demo is
    // the strongest signal) go over the cap, which `check` warns about; calibrate says so.
    let env = env();
    let capped = RULES
        .replace("[tiers]", "[groups]\nintent = { max = 10 }\n\n[tiers]")
        .replace(
            "name = \"Asked for a demo\"\n",
            "name = \"Asked for a demo\"\ngroup = \"intent\"\n",
        );
    env.write("rules.toml", capped);
    let out = calibrate(&env, &["--write-rules", "new.toml"]);
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the new rules have 1 warning the current ones have not")
            && err.contains("rule \"Asked for a demo\" can give more than its group allows"),
        "{err}"
    );
}

#[test]
fn a_column_that_splits_converters_perfectly_is_called_a_leak() {
    // `closed_on` is filled in when a deal closes: it is the outcome, written again.
    let env = env();
    let csv: String = contacts()
        .lines()
        .enumerate()
        .map(|(i, line)| match i {
            0 => format!("{line},closed_on\n"),
            _ if line.ends_with(",yes") => format!("{line},2026-01-05\n"),
            _ => format!("{line},\n"),
        })
        .collect();
    env.write("contacts.csv", csv);
    let out = calibrate(&env, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "column `closed_on` tells converters from the others perfectly: is it filled in \
             after the outcome? Leave it out with --ignore-columns \"closed_on\""
        ),
        "{err}"
    );
    // Left out, it is not suggested, and nothing is said.
    let out = calibrate(&env, &["--ignore-columns", "closed_on"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("perfectly"));
}

#[test]
fn a_capacity_gives_a_threshold_that_sends_at_most_that_many() {
    let report = json(&env(), &["--capacity", "300"]);
    for side in ["current", "suggested"] {
        let cut = &report["thresholds"][side]["capacity"];
        assert!(cut["contacts"].as_u64().unwrap() <= 300, "{side}: {cut}");
    }
    assert_eq!(report["new_rules"]["chosen_by"], "capacity 300");
    assert!(
        report["new_rules"]["warm_queue"]["contacts"]
            .as_u64()
            .unwrap()
            <= 300
    );
}

#[test]
fn the_rules_sales_capacity_is_the_capacity_unless_one_is_given() {
    // Sales takes 300 a run: the best F1 alone would send it some 1,600 of these contacts.
    let env = env();
    env.write(
        "rules.toml",
        format!("{RULES}\n[balance]\nsales_capacity = 300\n"),
    );
    let report = json(&env, &[]);
    let new = &report["new_rules"];
    assert_eq!(new["chosen_by"], "sales_capacity 300", "{new}");
    assert_eq!(new["capacity"], 300);
    assert_eq!(new["capacity_from"], "sales_capacity");
    assert!(
        new["warm_queue"]["contacts"].as_u64().unwrap() <= 300,
        "{new}"
    );
    assert!(
        report["thresholds"]["current"]["capacity"]["contacts"]
            .as_u64()
            .unwrap()
            <= 300
    );
    let text = ok(&calibrate(&env, &[]));
    assert!(
        text.contains("  sales_capacity: at most 300 contacts "),
        "{text}"
    );
    assert!(
        text.contains(
            "sales capacity 300 ([balance] sales_capacity in the rules): the new warm queue's "
        ),
        "{text}"
    );
    // --capacity is what sales can take of these contacts: it wins.
    let report = json(&env, &["--capacity", "500"]);
    assert_eq!(report["new_rules"]["chosen_by"], "capacity 500");
    assert_eq!(report["new_rules"]["capacity_from"], "--capacity");
    // A capacity of 0 (a week without room) sets no threshold.
    env.write(
        "rules.toml",
        format!("{RULES}\n[balance]\nsales_capacity = 0\n"),
    );
    let report = json(&env, &[]);
    assert!(report["new_rules"]["capacity"].is_null());
    assert!(
        report["new_rules"]["chosen_by"]
            .as_str()
            .unwrap()
            .contains("best F1")
    );
}

#[test]
fn empty_outcomes_are_left_out_and_counted() {
    let report = json(&env(), &[]);
    assert_eq!(report["outcome"]["left_out_empty"], 40);
    assert_eq!(report["outcome"]["contacts"], 3960);
    let text = ok(&calibrate(&env(), &[]));
    assert!(
        text.contains("left out: 40 with an empty outcome cell"),
        "{text}"
    );
    assert!(text.contains("Tier "), "{text}");
    assert!(text.contains("Out-of-fold AUC"), "{text}");
}

#[test]
fn with_negative_values_other_outcomes_are_left_out_and_counted() {
    // A quarter of the contacts who did not convert have no decision yet.
    let env = env();
    let mut undecided = 0;
    let csv: String = contacts()
        .lines()
        .map(|line| match line.strip_suffix(",no") {
            Some(row) if row.split(',').next().unwrap().parse::<u32>().unwrap() % 4 == 0 => {
                undecided += 1;
                format!("{row},No decision\n")
            }
            _ => format!("{line}\n"),
        })
        .collect();
    env.write("contacts.csv", csv);
    // Without --negative they count as not converted.
    let report = json(&env, &[]);
    assert_eq!(report["outcome"]["contacts"], 3960);
    assert_eq!(report["outcome"]["left_out_other"], 0);
    let report = json(&env, &["--negative", " NO "]);
    let outcome = &report["outcome"];
    assert_eq!(outcome["negative"], serde_json::json!(["no"]));
    assert_eq!(outcome["contacts"], 3960 - undecided);
    assert_eq!(outcome["converted"], 1511);
    assert_eq!(outcome["left_out_empty"], 40);
    assert_eq!(outcome["left_out_other"], undecided);
    let values = outcome["values"].as_array().unwrap();
    let value = |v: &str| values.iter().find(|x| x["value"] == v).unwrap().clone();
    assert_eq!(value("no decision")["left_out"], true);
    assert_eq!(value("no decision")["contacts"], undecided);
    assert_eq!(
        (
            value("no")["left_out"].clone(),
            value("yes")["left_out"].clone()
        ),
        (false.into(), false.into())
    );
    let text = ok(&calibrate(&env, &["--negative", "no"]));
    assert!(
        text.contains(
            "converted when it is true, yes, 1, won, converted, y; not converted when it is no\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "left out: 40 with an empty outcome cell, {undecided} contacts with another outcome \
             (neither --positive nor --negative), 0 rows that could not be read"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("no decision {undecided} (left out)")),
        "{text}"
    );
    // A value cannot be both.
    let out = calibrate(&env, &["--positive", "yes,maybe", "--negative", "no,Maybe"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("`maybe` is given to both --positive and --negative"),
    );
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let env = env();
    for format in ["text", "json"] {
        let args = [
            "--format",
            format,
            "--write-rules",
            "a.toml",
            "--add-suggested",
        ];
        let first = ok(&calibrate(&env, &args));
        let a = env.read("a.toml");
        let second = ok(&calibrate(&env, &args));
        assert_eq!(first, second, "{format}");
        assert_eq!(a, env.read("a.toml"));
    }
}

#[cfg(unix)]
#[test]
fn signals_during_the_renames_wait_for_them() {
    // The rules file is renamed, the report not yet: both end new.
    let env = env();
    env.write("new.toml", "old\n");
    env.write("report.txt", "old\n");
    let mut cmd = crate::robustness::std_leadsort(&env);
    cmd.args([
        "calibrate",
        "--as-of",
        "2026-11-27",
        "--outcome",
        "converted",
    ])
    .args([
        "--write-rules",
        "new.toml",
        "-o",
        "report.txt",
        "contacts.csv",
    ]);
    let renamed = |env: &Env| env.read("new.toml") != "old\n";
    let out = crate::robustness::signal_at(&env, cmd, "slow-rename@report.txt", renamed, 2);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.read("report.txt").starts_with("Calibration of"));
}

#[test]
fn never_writes_over_the_rules_or_the_input() {
    let env = env();
    for target in ["rules.toml", "contacts.csv"] {
        let out = calibrate(&env, &["--write-rules", target]);
        assert_eq!(out.status.code(), Some(2), "{target}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("both an input and an output"));
    }
    assert_eq!(env.read("rules.toml"), RULES);
    assert_eq!(env.read("contacts.csv"), contacts());
}

#[test]
fn an_outcome_column_the_input_lacks_is_a_data_error() {
    let env = env();
    let out = env
        .cmd()
        .args(["calibrate", "--outcome", "convertd", "contacts.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("has no column `convertd` (from --outcome)"),
        "{err}"
    );
    assert!(err.contains("closest header: `converted`"), "{err}");
}

#[test]
fn an_outcome_with_no_converter_says_which_values_count() {
    let env = env();
    let out = env
        .cmd()
        .args([
            "calibrate",
            "--outcome",
            "converted",
            "--positive",
            "won",
            "contacts.csv",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--positive"));
}

#[test]
fn at_most_25_rules_are_suggested_and_the_rest_are_counted() {
    // 30 columns that each tell buyers apart as well as the others; the rules use one.
    let mut rng = Rng(0xC0FF_EE00_1234_5678);
    let columns = 30;
    let mut csv: Vec<String> = vec![
        std::iter::once("converted".to_string())
            .chain((1..=columns).map(|c| format!("signal{c}")))
            .collect::<Vec<_>>()
            .join(","),
    ];
    for _ in 0..1500 {
        let converted = rng.next() < 0.5;
        let mut row = vec![if converted { "yes" } else { "no" }.to_string()];
        for _ in 0..columns {
            let p = if converted { 0.8 } else { 0.2 };
            row.push(if rng.next() < p { "yes" } else { "no" }.to_string());
        }
        csv.push(row.join(","));
    }
    let env = Env::new();
    env.write("contacts.csv", csv.join("\n") + "\n");
    env.write(
        "rules.toml",
        "version = 1\n[tiers]\nwarm = 10\n\n[[rule]]\nname = \"First signal\"\nwhen = { field = \"signal1\", is = true }\npoints = 10\n",
    );
    let report = json(&env, &[]);
    let search = &report["suggested_rules"];
    assert_eq!(search["rules"].as_array().unwrap().len(), 25, "{search}");
    let unexamined = search["not_examined"].as_u64().unwrap();
    assert!(
        unexamined >= 4,
        "29 columns held, 25 suggested: {unexamined}"
    );
    let text = ok(&calibrate(&env, &[]));
    assert!(
        text.contains(&format!("{unexamined} more held but were not examined")),
        "{text}"
    );
}

#[test]
fn a_rule_that_reads_the_outcome_keeps_its_points_and_takes_no_weight() {
    let env = env();
    let leak = format!(
        "{RULES}\n[[rule]]\nname = \"Marked converted\"\nwhen = {{ field = \"converted\", equals = \"yes\" }}\npoints = 1\n"
    );
    env.write("leak.toml", &leak);
    let out = calibrate(
        &env,
        &[
            "-r",
            "leak.toml",
            "--write-rules",
            "new.toml",
            "--format",
            "json",
        ],
    );
    let report: Value = serde_json::from_str(&ok(&out)).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("reads the outcome column"), "{stderr}");
    let fitted = report["suggested_points"]["rules"].as_array().unwrap();
    assert!(fitted.iter().all(|r| r["name"] != "Marked converted"));
    // The others are fitted as without it: the demo still leads.
    assert!(suggested(&report, "Asked for a demo") > suggested(&report, "Software"));
    let new = env.read("new.toml");
    let rule = &new[new.find("name = \"Marked converted\"").unwrap()..];
    assert!(rule.contains("points = 1\n"), "{rule}");
}

#[test]
fn odd_headers_and_names_still_give_a_file_that_loads() {
    // An outcome header with a line break (it would end a comment in the new file and start
    // TOML) and a rule whose name differs from a suggestion's only by the case of a
    // non-ASCII letter (the loader ignores all case).
    let mut rng = Rng(0x0DD5_EED5_0000_0001);
    let mut csv = String::from("id,size,region,\"conv\nerted\"\n");
    for id in 1..=1500 {
        let zurich = rng.next() < 0.4;
        let p = if zurich { 0.7 } else { 0.2 };
        let converted = if rng.next() < p { "yes" } else { "no" };
        let region = if zurich { "ZÜRICH" } else { "Basel" };
        let size = (rng.next() * 100.0) as u32;
        csv.push_str(&format!("{id},{size},{region},{converted}\n"));
    }
    let env = Env::new();
    env.write("contacts.csv", csv);
    env.write(
        "rules.toml",
        "version = 1\n[input]\nid = \"id\"\n[tiers]\nwarm = 10\n\n\
         [[rule]]\nname = \"region: zürich\"\nwhen = { field = \"size\", at_least = 50 }\npoints = 10\n",
    );
    let out = env
        .cmd()
        .args([
            "calibrate",
            "--as-of",
            "2026-11-27",
            "--outcome",
            "conv\nerted",
        ])
        .args([
            "--add-suggested",
            "--write-rules",
            "new.toml",
            "--format",
            "json",
        ])
        .arg("contacts.csv")
        .output()
        .unwrap();
    let report: Value = serde_json::from_str(&ok(&out)).unwrap();
    let names: Vec<&str> = report["suggested_rules"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"region: ZÜRICH (suggested)"), "{names:?}");
    let new = env.read("new.toml");
    assert!(new.contains("(outcome column `conv erted`)"), "{new}");
    leadsort::rules::from_str(Path::new("new.toml"), &new)
        .unwrap_or_else(|e| panic!("{}\n{new}", e.render(false)));
}

#[test]
fn decayed_points_are_fitted_and_scored_as_classify_gives_them() {
    // A demo counts for what is left of it after decay: an old demo is worth little.
    let mut rng = Rng(0xDECA_1000_0000_0042);
    let mut csv = String::from("id,demo,webinar,seen,converted\n");
    for id in 1..=3000 {
        let demo = rng.next() < 0.5;
        let webinar = rng.next() < 0.5;
        let age = (rng.next() * 300.0) as i64;
        let left = 0.5f64.powf(age as f64 / 30.0);
        let eta =
            -1.5 + 3.0 * f64::from(u8::from(demo)) * left + 0.3 * f64::from(u8::from(webinar));
        let converted = rng.next() < 1.0 / (1.0 + (-eta).exp());
        let seen = jiff::civil::date(2026, 11, 27) - jiff::Span::new().days(age);
        let yn = |b: bool| if b { "yes" } else { "no" };
        csv.push_str(&format!(
            "{id},{},{},{seen},{}\n",
            yn(demo),
            yn(webinar),
            yn(converted)
        ));
    }
    let env = Env::new();
    env.write("contacts.csv", csv);
    env.write(
        "rules.toml",
        "version = 1\n[input]\nid = \"id\"\n[fields]\nseen = { column = \"seen\", type = \"date\" }\n\
         [tiers]\nwarm = 10\n\n\
         [[rule]]\nname = \"Asked for a demo\"\nwhen = { field = \"demo\", is = true }\npoints = 20\n\
         decay = { field = \"seen\", half_life_days = 30 }\n\n\
         [[rule]]\nname = \"Attended a webinar\"\nwhen = { field = \"webinar\", is = true }\npoints = 10\n",
    );
    let report = json(&env, &[]);
    // The rules already have the true model's shape: points fitted to the decayed demo and
    // scored with decay do about as well out of fold (fitted to "asked for a demo, ever",
    // they did much worse, and were thrown away).
    let oof = &report["out_of_fold_auc"];
    let (now, fitted) = (
        oof["current"].as_f64().unwrap(),
        oof["suggested"].as_f64().unwrap(),
    );
    assert!(
        fitted > now - 0.01,
        "out of fold: now {now}, suggested {fitted}"
    );
    // And the fit sees the demo for what it is worth: it stays the stronger rule.
    assert!(suggested(&report, "Asked for a demo") > suggested(&report, "Attended a webinar"));
}

/// README's calibrate transcript is what calibrate prints on this history (README says it is
/// the file the test suite generates) and these rules.
#[test]
fn readme_transcript_is_what_it_prints() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let start = readme
        .find("$ leadsort calibrate ")
        .expect("a calibrate transcript");
    let block = &readme[start..];
    let mut lines = block[..block.find("```").unwrap()].lines();
    let mut command = String::new();
    for line in lines.by_ref() {
        match line.strip_suffix('\\') {
            Some(head) => command.push_str(head),
            None => {
                command.push_str(line);
                break;
            }
        }
    }
    let args: Vec<&str> = command["$ leadsort ".len()..].split_whitespace().collect();
    assert!(args.contains(&"--as-of"), "`{command}` needs an --as-of");
    let env = Env::new();
    env.write("rules.toml", RULES);
    env.write("history.csv", contacts());
    let printed = ok(&env.cmd().args(&args).output().unwrap());
    if let Err(e) = crate::examples::matches_transcript(lines.collect(), printed.lines().collect())
    {
        panic!("README's `{command}` is not what it prints: {e}\n--- it prints:\n{printed}");
    }
}
