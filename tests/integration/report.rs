//! `leadsort report`: the balance of a run as text, HTML and JSON. The numbers must be the
//! ones classify and check give for the same file, the pictures must match the numbers, and
//! the same input must give the same bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use regex::Regex;
use serde_json::Value;

use crate::util::{Env, column, ok};

const AS_OF: &str = "2026-11-27";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `leadsort SUBCOMMAND --as-of 2026-11-27 ARGS...` run from the repository root, with the
/// shipped rules.toml.
fn run_in_root(subcommand: &str, args: &[&str]) -> Output {
    assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("leadsort"))
        .current_dir(root())
        .env_remove("LEADSORT_RULES")
        .env_remove("NO_COLOR")
        .env("TZ", "UTC")
        .arg(subcommand)
        .args(["--as-of", AS_OF])
        .args(args)
        .output()
        .unwrap()
}

fn report(env: &Env, args: &[&str]) -> Output {
    env.cmd()
        .args(["report", "--as-of", AS_OF])
        .args(args)
        .output()
        .unwrap()
}

/// The lines of the section whose heading's first word is `title`, up to the blank line.
fn section<'a>(text: &'a str, title: &str) -> Vec<&'a str> {
    let start = text
        .split('\n')
        .position(|l| l.split_whitespace().next().map(|w| w.trim_end_matches(',')) == Some(title))
        .unwrap_or_else(|| panic!("no section {title:?} in\n{text}"));
    text.split('\n')
        .skip(start + 1)
        .take_while(|l| !l.is_empty())
        .collect()
}

/// `label → count` from a section's bar rows: `  label  ███▍  37  15.4%`.
fn bar_rows(lines: &[&str]) -> Vec<(String, u64)> {
    let row = Regex::new(r"^  \s*(\S.*?)\s+[█▏▎▍▌▋▊▉░│ ]*?\s*(\d+)\s+\d+\.\d%$").unwrap();
    lines
        .iter()
        .filter_map(|l| row.captures(l))
        .map(|c| (c[1].to_string(), c[2].parse().unwrap()))
        .collect()
}

/// classify --split's summary.json for the shipped example.
fn classify_summary(rules: Option<&Path>) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "examples/contacts.csv".to_string(),
        "--split".into(),
        dir.path().display().to_string(),
    ];
    if let Some(r) = rules {
        args.extend(["--rules".into(), r.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_in_root("classify", &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
        .unwrap()
}

/// A JSON object of counts, by name (serde_json sorts the keys).
fn counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
        .collect()
}

/// Pairs by name.
fn by_name<'a>(pairs: impl IntoIterator<Item = (&'a String, u64)>) -> BTreeMap<String, u64> {
    pairs.into_iter().map(|(k, n)| (k.clone(), n)).collect()
}

#[test]
fn the_text_shows_what_classify_and_check_count() {
    let text = ok(&run_in_root("report", &["examples/contacts.csv"]));
    let summary = classify_summary(None);
    let contacts = summary["contacts"].as_u64().unwrap();
    assert!(
        text.contains(&format!("{contacts} contacts, 0 rejected rows")),
        "{text}"
    );

    // Queues and tiers: classify's counts; tiers from the top.
    let queues = bar_rows(&section(&text, "Queues"));
    assert_eq!(
        by_name(queues.iter().map(|(q, n)| (q, *n))),
        counts(&summary["queues"]),
        "{text}"
    );
    let tiers = bar_rows(&section(&text, "Tiers"));
    assert_eq!(
        tiers.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        ["hot", "warm", "cold", "disqualified"],
        "{text}"
    );
    assert_eq!(
        by_name(tiers.iter().map(|(t, n)| (t, *n))),
        counts(&summary["tiers"]),
        "{text}"
    );

    // Each rule's matches: what check prints for the same file, in file order.
    let checked =
        String::from_utf8(run_in_root("check", &["examples/contacts.csv"]).stdout).unwrap();
    let check_row = Regex::new(r"^  (\S.*?)\s+(\d+)\s+\d+\.\d%(  \(never\))?$").unwrap();
    let expected: Vec<(String, u64)> = section(&checked, "rules")
        .iter()
        .filter_map(|l| check_row.captures(l))
        .map(|c| (c[1].to_string(), c[2].parse().unwrap()))
        .collect();
    assert!(expected.len() >= 10, "check printed its rules:\n{checked}");
    let report_row = Regex::new(r"^  (\S.*?)\s+[█▏▎▍▌▋▊▉]*\s*(\d+)\s+\d+\.\d%\s+(\S+)?$").unwrap();
    let shown: Vec<(String, u64)> = section(&text, "Rules")
        .iter()
        .filter_map(|l| report_row.captures(l))
        .map(|c| (c[1].to_string(), c[2].parse().unwrap()))
        .collect();
    assert_eq!(shown, expected, "{text}");

    // The histogram holds every contact once, and the warm threshold starts a bin.
    let bins = bar_rows(&section(&text, "Scores"));
    assert!(bins.len() >= 5, "{text}");
    assert_eq!(bins.iter().map(|(_, n)| n).sum::<u64>(), contacts);
    let scores = section(&text, "Scores");
    let warm = scores
        .iter()
        .position(|l| l.starts_with("  ── warm: score ≥ 50"))
        .unwrap_or_else(|| panic!("no warm line:\n{text}"));
    assert!(scores[warm + 1].trim_start().starts_with("50 to"), "{text}");

    // Unreadable cells per field, as classify counts them.
    let unreadable = counts(&summary["unreadable"]);
    assert!(unreadable.values().any(|n| *n > 0), "the example has some");
    let line = text
        .lines()
        .find(|l| l.starts_with("Unreadable cells: "))
        .unwrap();
    for (field, n) in &unreadable {
        let shown = format!("{field} {n}");
        let listed = line
            .trim_start_matches("Unreadable cells: ")
            .split(" (")
            .next()
            .unwrap()
            .split(", ")
            .any(|f| f == shown);
        assert_eq!(listed, *n > 0, "{shown}: {line}");
    }
    assert!(text.contains("Rejected rows: 0\n"), "{text}");
    assert!(text.contains("sales capacity: not set"), "{text}");
    assert!(text.contains("before group caps"), "{text}");
}

#[test]
fn the_json_names_the_input_and_rules_by_hash_as_the_summary_does() {
    // A monitor can tell that the report and the night's run read the same bytes.
    let json: Value = serde_json::from_slice(&ok_output(run_in_root(
        "report",
        &["examples/contacts.csv", "--format", "json"],
    )))
    .unwrap();
    let summary = classify_summary(None);
    for key in [
        "input_sha256",
        "rules_sha256",
        "rows",
        "contacts",
        "rejected",
    ] {
        assert!(!json[key].is_null(), "{key}");
        assert_eq!(json[key], summary[key], "{key}");
    }
}

#[test]
fn the_histogram_counts_are_the_scores_classify_writes() {
    let json: Value = serde_json::from_slice(&ok_output(run_in_root(
        "report",
        &["examples/contacts.csv", "--format", "json"],
    )))
    .unwrap();
    let out = run_in_root("classify", &["examples/contacts.csv"]);
    let scores: Vec<i64> = column(&String::from_utf8(out.stdout).unwrap(), "score")
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let bins = json["scores"]["bins"].as_array().unwrap();
    let width = json["scores"]["bin_width"].as_i64().unwrap();
    let mut total = 0;
    for bin in bins {
        let (from, to) = (bin["from"].as_i64().unwrap(), bin["to"].as_i64().unwrap());
        assert_eq!(to - from + 1, width);
        let real = scores.iter().filter(|s| (from..=to).contains(*s)).count() as u64;
        assert_eq!(
            bin["contacts"].as_u64().unwrap(),
            real,
            "bin {from} to {to}"
        );
        total += real;
    }
    assert_eq!(total, scores.len() as u64, "every score is in a bin");
    assert_eq!(json["contacts"].as_u64().unwrap(), scores.len() as u64);
}

fn ok_output(out: Output) -> Vec<u8> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let env = Env::new();
    std::fs::copy(root().join("rules.toml"), env.path("rules.toml")).unwrap();
    std::fs::copy(
        root().join("examples/contacts.csv"),
        env.path("contacts.csv"),
    )
    .unwrap();
    let first = ok(&report(
        &env,
        &["contacts.csv", "--format", "text", "--html", "a.html"],
    ));
    let again = report(
        &env,
        &["contacts.csv", "--format", "text", "--html", "b.html"],
    );
    assert_eq!(ok(&again), first);
    assert_eq!(env.read("a.html"), env.read("b.html"));
    let json = |name: &str| ok(&report(&env, &["contacts.csv", "-o", name]));
    json("a.json");
    json("b.json");
    assert_eq!(env.read("a.json"), env.read("b.json"));
    // From stdin, the same report but for the input's name.
    let piped = env
        .cmd()
        .args(["report", "--as-of", AS_OF, "-"])
        .write_stdin(env.read("contacts.csv"))
        .output()
        .unwrap();
    assert_eq!(ok(&piped), first.replacen("contacts.csv", "<stdin>", 1));
    // Every line fits 80 columns.
    for line in first.lines() {
        assert!(line.chars().count() <= 80, "{line}");
    }
}

/// Every `<rect class="bar ...">` of the page: its attributes by name.
fn bars(html: &str) -> Vec<BTreeMap<String, String>> {
    let rect = Regex::new(r#"<rect class="bar[^"]*"[^>]*>"#).unwrap();
    let attr = Regex::new(r#"([a-z][a-z-]*)="([^"]*)""#).unwrap();
    rect.find_iter(html)
        .map(|m| {
            attr.captures_iter(m.as_str())
                .map(|c| (c[1].to_string(), c[2].to_string()))
                .collect()
        })
        .collect()
}

fn num(bar: &BTreeMap<String, String>, key: &str) -> f64 {
    bar[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key} in {bar:?}"))
}

/// The part of a queue's bar that shows the contacts waiting there over sales capacity.
fn is_waiting(bar: &BTreeMap<String, String>) -> bool {
    bar["class"].split(' ').any(|c| c == "waiting")
}

/// The bars of one chart (without the waiting parts): label, count, and the length that
/// shows it.
fn chart(html: &str, name: &str, length: &str) -> Vec<(String, u64, f64)> {
    bars(html)
        .iter()
        .filter(|b| b["data-chart"] == name && !is_waiting(b))
        .map(|b| {
            (
                b["data-label"].clone(),
                b["data-count"].parse().unwrap(),
                num(b, length),
            )
        })
        .collect()
}

/// Lengths proportional to counts, within the page's rounding (two decimals).
#[track_caller]
fn assert_proportional(bars: &[(String, u64, f64)]) {
    let (_, most, longest) = bars.iter().max_by_key(|(_, n, _)| *n).cloned().unwrap();
    assert!(most > 0 && longest > 0.0, "{bars:?}");
    for (label, n, len) in bars {
        let want = longest * *n as f64 / most as f64;
        assert!(
            (len - want).abs() <= 0.02,
            "{label}: {len} for {n}, want {want}: {bars:?}"
        );
    }
    for (a, na, la) in bars {
        for (b, nb, lb) in bars {
            if *nb > 0 && *lb > 0.0 {
                let (ratio_len, ratio_n) = (la / lb, *na as f64 / *nb as f64);
                assert!(
                    (ratio_len - ratio_n).abs() <= 0.01 * ratio_n.max(1.0),
                    "{a}/{b}: lengths {la}/{lb}, counts {na}/{nb}"
                );
            }
        }
    }
}

#[test]
fn the_page_draws_the_real_counts() {
    let env = Env::new();
    let page = env.path("balance.html");
    let out = run_in_root(
        "report",
        &["examples/contacts.csv", "--html", page.to_str().unwrap()],
    );
    assert_eq!(ok(&out), "", "--html alone prints nothing on stdout");
    let html = env.read("balance.html");
    let summary = classify_summary(None);

    // Self-contained: nothing from the network, no script.
    assert!(html.starts_with("<!doctype html>"));
    for banned in [
        "http://", "https://", "<script", "@import", "url(http", "<link", "<img",
    ] {
        assert!(!html.contains(banned), "the page has {banned:?}");
    }
    assert!(html.contains("<style>") && html.contains("<svg"));

    let queues = chart(&html, "queues", "width");
    assert_eq!(
        by_name(queues.iter().map(|(l, n, _)| (l, *n))),
        counts(&summary["queues"])
    );
    assert_proportional(&queues);

    let tiers = chart(&html, "tiers", "width");
    assert_eq!(
        by_name(tiers.iter().map(|(l, n, _)| (l, *n))),
        counts(&summary["tiers"])
    );
    assert_proportional(&tiers);

    // Histogram bins: each bar's count is the number of contacts classify scored in its
    // range, and its height shows it.
    let out = run_in_root("classify", &["examples/contacts.csv"]);
    let scores: Vec<i64> = column(&String::from_utf8(out.stdout).unwrap(), "score")
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let bins: Vec<BTreeMap<String, String>> = bars(&html)
        .into_iter()
        .filter(|b| b["data-chart"] == "scores")
        .collect();
    assert!(bins.len() >= 5);
    let mut total = 0;
    for b in &bins {
        let (from, to) = (num(b, "data-from") as i64, num(b, "data-to") as i64);
        let real = scores.iter().filter(|s| (from..=to).contains(*s)).count() as u64;
        assert_eq!(b["data-count"].parse::<u64>().unwrap(), real, "{b:?}");
        total += real;
    }
    assert_eq!(total, scores.len() as u64);
    assert_proportional(&chart(&html, "scores", "height"));
    // The warm threshold's line is at the left edge of the bin that starts at 50.
    let warm_bin = bins.iter().find(|b| b["data-from"] == "50").unwrap();
    let line =
        Regex::new(r#"<line class="threshold" data-tier="warm" data-score="50" x1="([\d.]+)""#)
            .unwrap();
    let x: f64 = line.captures(&html).expect("a warm line")[1]
        .parse()
        .unwrap();
    let left = num(warm_bin, "x");
    assert!(
        x <= left && left - x < 4.0,
        "warm line at {x}, bin at {left}"
    );

    // Rules: the hit-rate bars against all contacts.
    let rules = chart(&html, "rules", "width");
    let json: Value = serde_json::from_slice(&ok_output(run_in_root(
        "report",
        &["examples/contacts.csv", "--format", "json"],
    )))
    .unwrap();
    let hits: Vec<(String, u64)> = json["rule_hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["matches"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rules
            .iter()
            .map(|(l, n, _)| (l.clone(), *n))
            .collect::<Vec<_>>(),
        hits
    );
    assert_proportional(&rules);
}

/// A rules file of its own (so that edits to the shipped one cannot break the test): a
/// score from page views, warm at 5, and `balance` appended.
fn capacity_rules(balance: &str) -> String {
    format!(
        r#"version = 1
[fields]
views = {{ column = "Page Views", type = "number" }}
[tiers]
warm = 5
[[rule]]
name = "Page views"
points_per = {{ field = "views", points = 1, max = 20 }}
[[rule]]
name = "Unsubscribed"
when = {{ field = "Unsubscribed", is = true }}
disqualify = true
{balance}"#
    )
}

#[test]
fn a_sales_capacity_shows_sales_at_capacity_and_the_rest_waiting() {
    let env = Env::new();
    env.write("free.toml", capacity_rules(""));
    env.write(
        "capped.toml",
        capacity_rules("[balance]\nsales_capacity = 10\n"),
    );
    // What the rules send to sales without a capacity.
    let free = classify_summary(Some(&env.path("free.toml")));
    let sent = free["queues"]["sales"].as_u64().unwrap();
    let marketing = free["queues"]["marketing"].as_u64().unwrap();
    assert!(
        sent > 10,
        "the test needs more than 10 bound for sales: {free}"
    );

    let capped = env.path("capped.toml");
    let args = ["examples/contacts.csv", "--rules", capped.to_str().unwrap()];
    let text = ok(&run_in_root("report", &args));
    let queues = bar_rows(&section(&text, "Queues"));
    assert_eq!(queues[0], ("sales".to_string(), 10), "{text}");
    assert_eq!(
        queues[1],
        ("marketing".to_string(), marketing + sent - 10),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "│ sales capacity 10: the rules send {sent}, 10 go, {} wait in marketing (░)",
            sent - 10
        )),
        "{text}"
    );

    let json: Value = serde_json::from_slice(&ok_output(run_in_root(
        "report",
        &[&args[..], &["--format", "json"]].concat(),
    )))
    .unwrap();
    let b = &json["balance"];
    assert_eq!(b["sales_capacity"], 10);
    assert_eq!(b["bound_for_sales"].as_u64(), Some(sent));
    assert_eq!(b["sales"], 10);
    assert_eq!(b["over_capacity"].as_u64(), Some(sent - 10));
    assert_eq!(b["overflow_queue"], "marketing");
    // The same balance as classify's.
    let classified = classify_summary(Some(&capped));
    assert_eq!(json["queues"], classified["queues"]);
    assert_eq!(json["balance"], classified["balance"]);

    // The page: the capacity line, sales at 10, the waiting part of marketing.
    let page = env.path("capped.html");
    run_in_root(
        "report",
        &[&args[..], &["--html", page.to_str().unwrap()]].concat(),
    );
    let html = env.read("capped.html");
    assert!(html.contains("<line class=\"capacity\" data-capacity=\"10\""));
    let queues = chart(&html, "queues", "width");
    assert_eq!((queues[0].0.as_str(), queues[0].1), ("sales", 10));
    assert_proportional(&queues);
    let waiting: Vec<_> = bars(&html).into_iter().filter(is_waiting).collect();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["data-count"], (sent - 10).to_string());
    // The waiting part ends where marketing's bar ends, and is as long as its count says.
    let marketing_bar = bars(&html)
        .into_iter()
        .find(|b| b["data-chart"] == "queues" && b["data-label"] == "marketing")
        .unwrap();
    let end = |b: &BTreeMap<String, String>| num(b, "x") + num(b, "width");
    assert!((end(&waiting[0]) - end(&marketing_bar)).abs() < 0.02);
    let per_contact = num(&marketing_bar, "width") / num(&marketing_bar, "data-count");
    assert!((num(&waiting[0], "width") - per_contact * (sent - 10) as f64).abs() < 0.02);

    // A route to sales counts the contacts it sends, not those sales takes: said under the
    // routes when some wait, with the balance's own numbers.
    let route = "[[route]]\nname = \"Keen\"\nwhen = { field = \"views\", at_least = 1 }\nqueue = \"sales\"\n";
    for (name, balance, said) in [
        ("routed.toml", "[balance]\nsales_capacity = 10\n", true),
        ("routed-free.toml", "", false),
    ] {
        env.write(name, capacity_rules(&format!("{route}{balance}")));
        let path = env.path(name);
        let args = ["examples/contacts.csv", "--rules", path.to_str().unwrap()];
        let text = ok(&run_in_root("report", &args));
        let json: Value = serde_json::from_slice(&ok_output(run_in_root(
            "report",
            &[&args[..], &["--format", "json"]].concat(),
        )))
        .unwrap();
        let b = &json["balance"];
        let line = format!(
            "  routes to sales count contacts before the balance: of the {} bound for sales,\n  \
             sales took {} and {} wait in marketing (see Queues)",
            b["bound_for_sales"], b["sales"], b["over_capacity"]
        );
        assert_eq!(text.contains(&line), said, "{name}: {text}");
        assert_eq!(text.contains("before the balance"), said, "{name}: {text}");
        // check says it too, below its routes.
        let checked = run_in_root("check", &args);
        let checked = String::from_utf8_lossy(&checked.stdout);
        let line = format!(
            "routes to sales count contacts before the balance: of the {} bound for sales,\n  \
             sales takes {} and {} wait in marketing",
            b["bound_for_sales"], b["sales"], b["over_capacity"]
        );
        assert_eq!(checked.contains(&line), said, "{name}: {checked}");
    }
}

#[test]
fn outputs_never_replace_an_input() {
    let env = Env::standard();
    let before = env.read("contacts.csv");
    for args in [
        ["contacts.csv", "--html", "contacts.csv"],
        ["contacts.csv", "--html", "rules.toml"],
        ["contacts.csv", "-o", "contacts.csv"],
    ] {
        let out = report(&env, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("both an input and an output"));
    }
    assert_eq!(env.read("contacts.csv"), before);
    assert_eq!(env.read("rules.toml"), crate::util::RULES);
    // -o is for text or JSON; the page has its own flag.
    let out = report(&env, &["contacts.csv", "-o", "page.html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!env.exists("page.html"));
    let out = report(&env, &["contacts.csv", "--html", "x.html", "-o", "x.html"]);
    assert_eq!(out.status.code(), Some(2));
    // One file named two ways, before it exists: the page would be renamed over by the text.
    let out = report(
        &env,
        &[
            "contacts.csv",
            "--html",
            "./balance.out",
            "-o",
            "balance.out",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--html and -o both name"));
    assert!(!env.exists("balance.out"));
}

#[test]
fn a_page_that_cannot_be_written_leaves_nothing_behind() {
    let env = Env::standard();
    let out = report(&env, &["contacts.csv", "--html", "missing/balance.html"]);
    assert_eq!(out.status.code(), Some(73));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("leadsort: error: cannot create"));
    assert_eq!(env.files(), ["contacts.csv", "rules.toml"]);
    // With -o too, neither is written when one fails.
    let out = report(
        &env,
        &[
            "contacts.csv",
            "-o",
            "report.txt",
            "--html",
            "missing/balance.html",
        ],
    );
    assert_eq!(out.status.code(), Some(73));
    assert_eq!(env.files(), ["contacts.csv", "rules.toml"]);
}

/// `leadsort diff` of the rules against themselves on `csv`: what it says of the input.
fn diff_against_itself(env: &Env, csv: &str) -> Output {
    env.cmd()
        .args([
            "diff",
            "--as-of",
            AS_OF,
            "--old",
            "rules.toml",
            "--new",
            "rules.toml",
        ])
        .arg(csv)
        .output()
        .unwrap()
}

/// A file not one of whose rows can be read gives no report and no diff (exit 65), as
/// classify replaces nothing: last month's report stays.
#[test]
fn report_and_diff_of_a_file_with_no_readable_row_exit_65() {
    let env = Env::standard();
    let header = crate::util::CONTACTS.lines().next().unwrap();
    env.write("bad.csv", format!("{header}\na,b\nc\n"));
    env.write("last.txt", "last month");
    let out = report(&env, &["bad.csv", "-o", "last.txt"]);
    assert_eq!(out.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not one of the 2 rows of bad.csv"));
    assert_eq!(env.read("last.txt"), "last month");
    let out = diff_against_itself(&env, "bad.csv");
    assert_eq!(out.status.code(), Some(65));
}

/// The header's warnings are classify's: report and diff read the same files.
#[test]
fn report_and_diff_warn_of_a_repeated_column_as_classify_does() {
    let env = Env::standard();
    env.write(
        "twice.csv",
        "id,email,Job Title,Company Size,demo,unsubscribed,sales_status,note,note\n\
         1,a@acme.com,VP,10,no,no,,x,y\n",
    );
    let said = "the header repeats `note`";
    let out = report(&env, &["twice.csv"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains(said));
    let out = diff_against_itself(&env, "twice.csv");
    assert!(String::from_utf8_lossy(&out.stderr).contains(said));
}

#[test]
fn rejected_rows_and_unreadable_cells_are_counted() {
    let env = Env::standard();
    env.write(
        "odd.csv",
        format!(
            "{}6,x@y.z,VP,lots,no,no,\n7,too,few\n",
            crate::util::CONTACTS
        ),
    );
    let out = report(&env, &["odd.csv"]);
    let text = ok(&out);
    assert!(text.contains("6 contacts, 1 rejected row\n"), "{text}");
    assert!(text.contains("Rejected rows: 1\n"), "{text}");
    assert!(text.contains("Unreadable cells: employees 1"), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 of 7 rows in odd.csv could not be read"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_header_without_contacts_still_reports() {
    let env = Env::standard();
    env.write(
        "empty.csv",
        "id,email,Job Title,Company Size,demo,unsubscribed,sales_status\n",
    );
    let out = report(&env, &["empty.csv"]);
    let text = ok(&out);
    assert!(text.contains("0 contacts, 0 rejected rows"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("has a header but no contacts"));
}

/// The sample in README.md is the real output: every line it shows (between the `$` line
/// and the end of the block, `...` lines standing for lines left out) is in the real output,
/// in that order.
#[test]
fn readme_report_sample_is_the_real_output() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("## See the balance (report)")
        .expect("README has the report section");
    let section = &readme[start..];
    let block_start = section
        .find("```text\n$ leadsort report")
        .expect("a sample")
        + 8;
    let block = &section[block_start..block_start + section[block_start..].find("```").unwrap()];
    let mut lines = block.lines();
    let command = lines
        .next()
        .unwrap()
        .trim_start_matches("$ leadsort report ");
    let args: Vec<&str> = command
        .split_whitespace()
        .filter(|a| !a.starts_with("--as-of") && *a != AS_OF)
        .collect();
    let real = ok(&run_in_root("report", &args));
    let mut rest = real.lines();
    for shown in lines.filter(|l| l.trim() != "...") {
        assert!(
            rest.any(|l| l == shown),
            "README shows a line the report does not print (or not in that order):\n{shown}\n\nreal:\n{real}"
        );
    }
}

#[test]
fn a_workbook_reports_as_its_csv_does() {
    let env = Env::standard();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, line) in crate::util::rows(crate::util::CONTACTS).iter().enumerate() {
        for (c, cell) in line.iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string(r as u32, c as u16, cell).unwrap();
            }
        }
    }
    book.save(env.path("contacts.xlsx")).unwrap();
    let from_csv = ok(&report(&env, &["contacts.csv"]));
    let from_book = ok(&report(&env, &["contacts.xlsx"]));
    assert_eq!(
        from_book,
        from_csv.replacen("contacts.csv", "contacts.xlsx", 1)
    );
    assert!(
        from_csv.contains("5 contacts, 0 rejected rows"),
        "{from_csv}"
    );
}

#[test]
fn rules_of_billions_of_points_still_give_a_readable_histogram() {
    // Scores at both ends of what rules can give (a billion points a rule), and 0: the bins
    // on the warm threshold's grid cover them all.
    let env = Env::new();
    env.write(
        "rules.toml",
        r#"version = 1
[tiers]
warm = 50
[[rule]]
name = "Huge"
when = { field = "size", at_least = 10 }
points = 1000000000
[[rule]]
name = "Per unit"
when = { field = "size", at_least = 10 }
points_per = { field = "units", points = 1000000000 }
[[rule]]
name = "Negative"
when = { field = "size", at_most = 5 }
points = -1000000000
[[rule]]
name = "Negative per unit"
when = { field = "size", at_most = 5 }
points_per = { field = "units", points = -1000000000 }
"#,
    );
    // A billion points per unit times 10^13 units stops at a billion.
    env.write(
        "c.csv",
        "id,email,size,units\n1,a@b.com,20,10000000000000\n2,c@d.com,1,10000000000000\n\
         3,e@f.com,7,0\n",
    );
    let scored = ok(&env
        .classify(&["--rules", "rules.toml", "c.csv"])
        .output()
        .unwrap());
    assert!(
        scored.contains(",2000000000,warm,sales,Huge +1000000000; Per unit +1000000000\n")
            && scored.contains(",-2000000000,cold,marketing,")
            && scored.contains("Negative -1000000000; Negative per unit -1000000000\n"),
        "{scored}"
    );
    let text = ok(&report(&env, &["c.csv"]));
    let bins = bar_rows(&section(&text, "Scores"));
    // Each label whole (`from to to`), the bins following on from each other.
    let edges: Vec<(i128, i128)> = bins
        .iter()
        .map(|(label, _)| {
            let (from, to) = label.split_once(" to ").expect(label);
            (
                from.trim().parse().expect(label),
                to.trim().parse().expect(label),
            )
        })
        .collect();
    assert!(
        edges.first().is_some_and(|e| e.0 <= -2_000_000_000),
        "{text}"
    );
    assert!(edges.last().is_some_and(|e| e.1 >= 2_000_000_000), "{text}");
    for pair in edges.windows(2) {
        assert_eq!(pair[0].1 + 1, pair[1].0, "{text}");
    }
    assert!(edges.iter().any(|e| e.0 == 50), "warm starts a bin: {text}");
    assert_eq!(bins.iter().map(|(_, n)| n).sum::<u64>(), 3, "{text}");
    assert_eq!(text.matches("── warm").count(), 1, "{text}");

    // The page: every bin drawn, the warm line at the left edge of the bin warm starts.
    ok(&report(&env, &["c.csv", "--html", "page.html"]));
    let html = std::fs::read_to_string(env.path("page.html")).unwrap();
    let bars = bars(&html);
    let scores: Vec<_> = bars
        .iter()
        .filter(|b| b["data-chart"] == "scores")
        .collect();
    assert_eq!(scores.len(), bins.len());
    let warm_bin = scores.iter().find(|b| b["data-from"] == "50").unwrap();
    let line =
        Regex::new(r#"class="threshold" data-tier="warm" data-score="50" x1="([0-9.]+)""#).unwrap();
    let x: f64 = line.captures(&html).unwrap()[1].parse().unwrap();
    // (A bar starts half a gap of at most 4 after its slot.)
    let left = num(warm_bin, "x");
    assert!(
        (0.0..=2.0).contains(&(left - x)),
        "warm line at {x}, its bar at {left}"
    );
}

/// Rows left out of the report are counted even under `-q`, as in classify and diff.
#[test]
fn quiet_still_counts_the_rows_left_out() {
    let env = Env::standard();
    env.write(
        "bad.csv",
        "id,email,Job Title,Company Size,demo,unsubscribed,sales_status\n\
         1,a@acme.com,VP,10,no,no,\n2,b@acme.com\n",
    );
    let out = env
        .cmd()
        .args(["-q", "report", "--as-of", AS_OF, "bad.csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("leadsort: warning: 1 of 2 rows in bad.csv could not be read"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn json_rule_points_are_to_the_cent_as_the_text_shows_them() {
    // 0.333 a unit over 1 + 2 + 4 units: 2.331 in floating point, 2.33 as shown.
    let env = Env::new();
    env.write(
        "rules.toml",
        "version = 1\n[tiers]\nwarm = 100\n[[rule]]\nname = \"Per unit\"\n\
         points_per = { field = \"n\", points = 0.333, max = 100 }\n",
    );
    env.write("c.csv", "n\n1\n2\n4\n");
    let out = report(&env, &["--format", "json", "c.csv"]);
    let json: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(
        json["rule_hits"][0]["points"], 2.33,
        "{}",
        json["rule_hits"]
    );
    let text = ok(&report(&env, &["c.csv"]));
    assert!(text.contains("+2.33"), "{text}");
}
