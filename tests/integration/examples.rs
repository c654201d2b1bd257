//! The shipped rules and examples, and the rules in README, never rot: each parses, each
//! example classifies its CSV cleanly, and the main example's output is snapshot-tested.

use std::path::{Path, PathBuf};

use crate::util::{column, rows};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn parse(path: &Path) -> leadsort::rules::Rules {
    let text = std::fs::read_to_string(path).unwrap();
    leadsort::rules::from_str(path, &text)
        .unwrap_or_else(|e| panic!("{}\n{}", path.display(), e.render(false)))
}

/// `leadsort classify` run from the repository root.
fn classify(args: &[&str]) -> std::process::Output {
    let mut cmd = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("leadsort"));
    cmd.current_dir(root())
        .env_remove("LEADSORT_RULES")
        .arg("classify")
        .arg("--as-of")
        .arg("2026-11-27")
        .args(args);
    cmd.output().unwrap()
}

fn example_rule_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_shipped_rules_parse() {
    let rules = parse(&root().join("rules.toml"));
    assert!(!rules.rules.is_empty());
    assert!(!rules.groups.is_empty(), "the starter shows groups");
    assert!(
        rules.rules.iter().any(|r| r.disqualify),
        "the starter shows a disqualifier"
    );
    assert!(
        !rules.routes.is_empty(),
        "the starter shows a recycling route"
    );
    assert!(rules.tiers.hot.is_some(), "the starter shows a hot tier");
}

#[test]
fn every_example_rule_set_classifies_its_csv_cleanly() {
    let files = example_rule_files();
    assert!(
        files.len() >= 2,
        "examples/ holds other rule sets: {files:?}"
    );
    for toml in files {
        parse(&toml);
        let csv = toml.with_extension("csv");
        assert!(
            csv.exists(),
            "{} has no matching {}",
            toml.display(),
            csv.display()
        );
        let out = classify(&["--rules", toml.to_str().unwrap(), csv.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "{}: {stderr}",
            toml.display()
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let queues = column(&stdout, "queue");
        assert!(queues.len() >= 30, "{}", toml.display());
        assert!(
            queues.iter().any(|q| q != &queues[0]),
            "{}: every contact in one queue",
            toml.display()
        );
    }
}

#[test]
fn the_main_example_runs_with_the_default_rules_and_matches_its_snapshot() {
    // The README's first command, without cargo: ./rules.toml is found by default.
    let out = classify(&["examples/contacts.csv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.is_empty(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let table = rows(&stdout);
    assert!(table.len() > 200, "at least 200 contacts");
    let queues = column(&stdout, "queue");
    for q in ["sales", "marketing", "suppressed"] {
        assert!(queues.iter().any(|x| x == q), "nobody in {q}");
    }
    assert!(
        column(&stdout, "reasons")
            .iter()
            .any(|r| r.contains("route: ")),
        "the recycling route fires"
    );
    insta::assert_snapshot!("contacts_classified", stdout);
}

#[test]
fn the_main_example_split_summary_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = classify(&[
        "examples/contacts.csv",
        "--split",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    let contacts = summary["contacts"].as_u64().unwrap();
    let sum = |key: &str| {
        summary[key]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(sum("queues"), contacts);
    assert_eq!(sum("tiers"), contacts);
    assert_eq!(
        summary["rows"].as_u64().unwrap(),
        contacts + summary["rejected"].as_u64().unwrap()
    );
    insta::assert_snapshot!(
        "contacts_summary",
        serde_json::to_string_pretty(&without_hashes(summary)).unwrap()
    );
}

/// ```toml blocks in README.md: the block with `version` is a whole file, with no warnings;
/// other blocks are
/// snippets that must parse after a minimal header (warm and hot tiers), and `[[test]]` snippets are appended to
/// the whole file and must pass `leadsort check`.
#[test]
fn readme_rules_blocks_parse_and_its_tests_pass() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .map(|b| &b[..b.find("```").unwrap()])
        .collect();
    let whole = blocks
        .iter()
        .find(|b| b.contains("version = 1"))
        .expect("a whole rules file in README");
    let rules = leadsort::rules::from_str(Path::new("README.md"), whole)
        .unwrap_or_else(|e| panic!("{}", e.render(false)));
    // The showcase passes the `check --deny-warnings` README recommends for CI.
    let warnings: Vec<String> = leadsort::rules::lint(&rules, true)
        .into_iter()
        .filter(|d| d.severity == leadsort::rules::Severity::Warning)
        .map(|d| d.message)
        .collect();
    assert_eq!(warnings, Vec::<String>::new(), "README's whole rules file");
    let mut tests = 0;
    for body in blocks.iter().filter(|b| !b.contains("version = 1")) {
        if body.contains("[[test]]") {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("rules.toml"), format!("{whole}\n{body}")).unwrap();
            let out = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("leadsort"))
                .current_dir(dir.path())
                .args(["check", "-q"])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "README test fails:\n{}",
                String::from_utf8_lossy(&out.stdout)
            );
            tests += 1;
        } else {
            // Both tiers, for snippets that name `hot`.
            let text = format!("version = 1\n[tiers]\nwarm = 50\nhot = 80\n{body}");
            leadsort::rules::from_str(Path::new("README.md"), &text).unwrap_or_else(|e| {
                panic!("README block does not parse:\n{body}\n{}", e.render(false))
            });
        }
    }
    assert!(blocks.len() >= 3 && tests >= 1);
}

/// The summary.json shown in README.md is the real one for the shipped example.
#[test]
fn readme_summary_json_is_the_real_one() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme.find("```json\n").expect("a json block in README") + "```json\n".len();
    let shown: serde_json::Value =
        serde_json::from_str(&readme[start..start + readme[start..].find("```").unwrap()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = classify(&[
        "examples/contacts.csv",
        "--split",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let real: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    // The hashes change with every edit of the example files: only their form is checked.
    assert_eq!(without_hashes(shown), without_hashes(real));
}

/// The summary with each `*_sha256` replaced by `"<sha256>"` after checking it is one.
fn without_hashes(mut summary: serde_json::Value) -> serde_json::Value {
    for (key, value) in summary.as_object_mut().unwrap().iter_mut() {
        if key.ends_with("_sha256") {
            let hex = value.as_str().unwrap_or_default();
            assert!(
                hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
                "{key}: {hex}"
            );
            *value = serde_json::json!("<sha256>");
        }
    }
    summary
}

/// The counts table in examples/README.md matches what each example gives.
#[test]
fn examples_readme_counts_are_the_real_ones() {
    let readme = std::fs::read_to_string(root().join("examples/README.md")).unwrap();
    let mut checked = 0;
    for line in readme.lines() {
        // | `saas-trial.toml` | sales 5, sdr 6, ... | hot 9, warm 7, ... |
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() != 5
            || !cells[1].starts_with('`')
            || !cells[1].ends_with(".toml`")
            || cells[2].contains('[')
        {
            continue;
        }
        let toml = cells[1].trim_matches('`');
        let rules = if toml == "rules.toml" {
            root().join(toml)
        } else {
            root().join("examples").join(toml)
        };
        let csv = if toml == "rules.toml" {
            root().join("examples/contacts.csv")
        } else {
            root().join("examples").join(toml).with_extension("csv")
        };
        let dir = tempfile::tempdir().unwrap();
        let out = classify(&[
            "--rules",
            rules.to_str().unwrap(),
            csv.to_str().unwrap(),
            "--split",
            dir.path().to_str().unwrap(),
        ]);
        assert!(out.status.success());
        let summary: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("summary.json")).unwrap(),
        )
        .unwrap();
        let listed = |obj: &serde_json::Value| {
            obj.as_object()
                .unwrap()
                .iter()
                .filter(|(_, n)| n.as_u64() != Some(0))
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
        };
        let mut want_queues: Vec<String> = cells[2].split(", ").map(String::from).collect();
        let mut want_tiers: Vec<String> = cells[3].split(", ").map(String::from).collect();
        let (mut queues, mut tiers) = (listed(&summary["queues"]), listed(&summary["tiers"]));
        for v in [&mut want_queues, &mut want_tiers, &mut queues, &mut tiers] {
            v.sort();
        }
        assert_eq!((queues, tiers), (want_queues, want_tiers), "{toml}");
        checked += 1;
    }
    assert!(
        checked >= 3,
        "found {checked} rows in the examples README table"
    );
}

/// The transcripts in README.md (a ```text block whose first line is `$ leadsort ...`) are
/// what leadsort prints: each is run in a folder holding the repository's rules.toml and
/// examples, and `rules-next.toml` made as README says (warm 50 → 45, "Looked at pricing"
/// 15 → 20), and its stdout compared line by line, a line `...` standing for any number of
/// lines; `# with sales_capacity = N` after a command runs it with that capacity added to the
/// rules. Transcripts that need other files (a history) or a shell (`\`, `|`) are left out;
/// every one that runs names its `--as-of`, so the day does not change it.
#[test]
fn readme_transcripts_are_what_leadsort_prints() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("examples")).unwrap();
    let contacts = "examples/contacts.csv";
    std::fs::copy(root().join(contacts), dir.path().join(contacts)).unwrap();
    let rules = std::fs::read_to_string(root().join("rules.toml")).unwrap();
    std::fs::write(dir.path().join("rules.toml"), &rules).unwrap();
    let pricing = "name   = \"Looked at pricing\"";
    let at = rules.find(pricing).unwrap();
    let next = format!(
        "{}{}",
        &rules[..at],
        rules[at..].replacen("points = 15", "points = 20", 1)
    )
    .replacen("warm = { score = 50,", "warm = { score = 45,", 1);
    assert!(next.contains("score = 45") && next[at..].contains("points = 20"));
    std::fs::write(dir.path().join("rules-next.toml"), next).unwrap();
    let mut checked = Vec::new();
    for block in readme.split("```text\n").skip(1) {
        let block = &block[..block.find("```").unwrap()];
        let mut lines = block.lines();
        let Some(command) = lines.next().and_then(|l| l.strip_prefix("$ leadsort ")) else {
            continue;
        };
        // `# with sales_capacity = N`: the same rules with that capacity, in a folder of
        // their own.
        let (command, capacity) = match command.split_once("# with sales_capacity = ") {
            Some((command, n)) => (command.trim_end(), Some(n.trim())),
            None => (command, None),
        };
        let here = match capacity {
            Some(n) => {
                let cap = dir.path().join(format!("capacity-{n}"));
                std::fs::create_dir_all(cap.join("examples")).unwrap();
                std::fs::copy(root().join(contacts), cap.join(contacts)).unwrap();
                let capped = format!("{rules}\n[balance]\nsales_capacity = {n}\n");
                std::fs::write(cap.join("rules.toml"), capped).unwrap();
                cap
            }
            None => dir.path().to_path_buf(),
        };
        let args: Vec<&str> = command.split_whitespace().collect();
        let runnable = !command.contains(['#', '\\', '|', '>', '"', '\''])
            && args
                .iter()
                .filter(|a| !a.starts_with('-') && a.contains('.'))
                .all(|file| here.join(file).exists());
        if !runnable {
            continue;
        }
        assert!(args.contains(&"--as-of"), "`{command}` needs an --as-of");
        let out = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("leadsort"))
            .current_dir(&here)
            .env_remove("LEADSORT_RULES")
            .env("NO_COLOR", "1")
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "`{command}` failed");
        let actual = String::from_utf8(out.stdout).unwrap();
        if let Err(e) = matches_transcript(lines.collect(), actual.lines().collect()) {
            panic!("README's `{command}` is not what it prints: {e}\n--- it prints:\n{actual}");
        }
        checked.push(format!(
            "{}{}",
            args[0],
            if capacity.is_some() {
                " (capacity)"
            } else {
                ""
            }
        ));
    }
    checked.sort();
    checked.dedup();
    assert_eq!(
        checked,
        ["check", "diff", "explain", "explain (capacity)", "report"],
        "transcripts checked"
    );
}

/// Whether `actual` reads as `shown`, where a line `...` in `shown` skips any lines, and
/// `...` within a line any part of it (README shortens long lists so).
pub fn matches_transcript(shown: Vec<&str>, actual: Vec<&str>) -> Result<(), String> {
    let same = |shown: &str, actual: &str| {
        let (shown, actual) = (shown.trim_end(), actual.trim_end());
        match shown.split_once("...") {
            Some((head, tail)) => {
                actual.len() >= head.len() + tail.len()
                    && actual.starts_with(head)
                    && actual.ends_with(tail)
            }
            None => actual == shown,
        }
    };
    // The runs of lines between the `...` lines, each found whole, in order; the first
    // starts the output unless `...` comes first, the last ends it unless `...` comes last.
    let segments: Vec<&[&str]> = shown.split(|l| l.trim() == "...").collect();
    let last = segments.len() - 1;
    let mut at = 0;
    for (k, segment) in segments.iter().enumerate() {
        let fits = |start: usize| {
            start + segment.len() <= actual.len()
                && segment
                    .iter()
                    .zip(&actual[start..])
                    .all(|(s, a)| same(s, a))
        };
        let found = match (k, k == last) {
            (0, _) if last == 0 => (actual.len() == segment.len() && fits(0)).then_some(0),
            (0, _) => fits(0).then_some(0),
            (_, true) if segment.is_empty() => Some(actual.len()),
            (_, true) => actual
                .len()
                .checked_sub(segment.len())
                .filter(|&start| start >= at && fits(start)),
            _ => (at..=actual.len()).find(|&start| fits(start)),
        };
        match found {
            Some(start) => at = start + segment.len(),
            None => {
                let first = segment.first().unwrap_or(&"");
                return Err(format!("no lines from `{first}` where README shows them"));
            }
        }
    }
    Ok(())
}

/// README's summary.json is what the run on the shipped example writes, byte for byte.
#[test]
fn readme_summary_json_is_what_the_example_run_writes() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.json");
    let out = classify(&[
        "examples/contacts.csv",
        "-o",
        dir.path().join("out.csv").to_str().unwrap(),
        "--summary",
        summary.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&summary).unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let at = readme
        .find("**summary.json** (and `--summary FILE`)")
        .unwrap();
    let start = at + readme[at..].find("```json\n").unwrap() + "```json\n".len();
    let end = start + readme[start..].find("```").unwrap();
    assert_eq!(
        &readme[start..end],
        written,
        "README's summary.json is out of date"
    );
}
