//! `leadsort classify`, end to end: every flag and the output contract of DESIGN.md.

use std::collections::BTreeMap;
use std::process::Output;

use predicates::prelude::*;

use crate::util::{self, CONTACTS, Env, RULES};

/// The header leadsort writes for `CONTACTS` scored with `RULES`.
const OUT_HEADER: &str = "id,email,Job Title,Company Size,demo,unsubscribed,sales_status,\
                          score,score_fit,tier,queue,reasons";

/// Each contact of `CONTACTS` scored with `RULES` as of 2026-11-27, worked out by hand:
/// fit is capped at 30, warm from 40, hot (70) is out of reach, the route sends contact 4 to
/// marketing, and contact 3 is disqualified but keeps its score.
const OUT_ROWS: [&str; 5] = [
    // Decision maker 20 + Large company 15 = fit 35, capped at 30; + demo 30 = 60: warm.
    "1,ann@acme.com,VP Sales,500,yes,no,,60,30,warm,sales,\
     Decision maker +20; Large company +15; Asked for a demo +30; fit capped at 30 -5",
    // Only the free mail rule: -10, cold.
    "2,bob@gmail.com,Engineer,10,no,no,,-10,0,cold,marketing,Free mail -10",
    // fit 35 capped at 30; unsubscribed: disqualified, score still 30.
    "3,cy@initech.io,Director,250,no,yes,,30,30,disqualified,suppressed,\
     Decision maker +20; Large company +15; Unsubscribed (disqualified); fit capped at 30 -5",
    // Like contact 1 (\"1,200\" reads as 1200), but sales gave up: back to marketing.
    "4,di@globex.com,Chief of Staff,\"1,200\",true,,no response,60,30,warm,marketing,\
     Decision maker +20; Large company +15; Asked for a demo +30; fit capped at 30 -5; \
     route: Sales gave up",
    // Decision maker 20 (fit, under the cap) + demo 30 = 50: warm.
    "5,ed@acme.com,Director of IT,50,yes,no,,50,20,warm,sales,\
     Decision maker +20; Asked for a demo +30",
];

/// The header and the given contacts (1-based, as in `CONTACTS`), each line ending in `\n`.
fn expected(contacts: &[usize]) -> String {
    let mut out = format!("{OUT_HEADER}\n");
    for &c in contacts {
        out.push_str(OUT_ROWS[c - 1]);
        out.push('\n');
    }
    out
}

const INPUT_HEADER: &str = "id,email,Job Title,Company Size,demo,unsubscribed,sales_status";

fn run(cmd: &mut assert_cmd::Command) -> Output {
    cmd.output().expect("leadsort runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// The run succeeded; its stdout.
#[track_caller]
fn ok_stdout(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text(&out.stdout)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `leadsort classify --as-of DATE ARGS...` (for tests that pick their own date).
fn classify_as_of(env: &Env, date: &str, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = env.cmd();
    cmd.arg("classify").arg("--as-of").arg(date).args(args);
    cmd
}

/// Every file under `dir` (relative name → bytes).
fn snapshot(dir: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn names(dir: &std::path::Path) -> Vec<String> {
    snapshot(dir).into_keys().collect()
}

fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

// ---- the default output -----------------------------------------------------------------

#[test]
fn stdout_has_input_columns_then_score_groups_tier_queue_reasons() {
    let env = Env::standard();
    let out = run(&mut env.classify(&["contacts.csv"]));
    assert_eq!(ok_stdout(&out), expected(&[1, 2, 3, 4, 5]));
    assert_eq!(stderr(&out), "");
}

#[test]
fn input_cells_are_passed_through_unchanged_and_in_order() {
    let env = Env::standard();
    let out = ok_stdout(&run(&mut env.classify(&["contacts.csv"])));
    let input = util::rows(CONTACTS);
    let output = util::rows(&out);
    assert_eq!(output.len(), input.len());
    for (i, o) in input.iter().zip(&output) {
        assert_eq!(&o[..i.len()], &i[..]);
        assert_eq!(
            o.len(),
            i.len() + 5,
            "score, score_fit, tier, queue, reasons"
        );
    }
}

#[test]
fn group_subtotal_is_capped_and_the_cap_shown_in_reasons() {
    let env = Env::standard();
    let out = ok_stdout(&run(&mut env.classify(&["contacts.csv"])));
    assert_eq!(
        util::column(&out, "score_fit"),
        ["30", "0", "30", "30", "20"]
    );
    assert_eq!(util::column(&out, "score"), ["60", "-10", "30", "60", "50"]);
    let reasons = util::column(&out, "reasons");
    assert!(
        reasons[0].ends_with("; fit capped at 30 -5"),
        "{}",
        reasons[0]
    );
    assert!(!reasons[4].contains("capped"), "{}", reasons[4]);
}

#[test]
fn route_overrides_the_tier_queue_and_is_named_last_in_reasons() {
    let env = Env::standard();
    let out = ok_stdout(&run(&mut env.classify(&["contacts.csv"])));
    assert_eq!(
        util::column(&out, "tier"),
        ["warm", "cold", "disqualified", "warm", "warm"]
    );
    assert_eq!(
        util::column(&out, "queue"),
        ["sales", "marketing", "suppressed", "marketing", "sales"]
    );
    let reasons = util::column(&out, "reasons");
    assert!(
        reasons[3].ends_with("; route: Sales gave up"),
        "{}",
        reasons[3]
    );
    assert_eq!(
        reasons.iter().filter(|r| r.contains("route:")).count(),
        1,
        "{reasons:?}"
    );
}

#[test]
fn disqualified_contact_keeps_its_score_and_is_suppressed() {
    let env = Env::standard();
    // Even a route that matches does not move a disqualified contact.
    env.write(
        "contacts.csv",
        format!("{INPUT_HEADER}\n3,cy@initech.io,Director,250,no,yes,no response\n"),
    );
    let out = ok_stdout(&run(&mut env.classify(&["contacts.csv"])));
    assert_eq!(
        out,
        format!(
            "{OUT_HEADER}\n3,cy@initech.io,Director,250,no,yes,no response,30,30,disqualified,\
             suppressed,Decision maker +20; Large company +15; Unsubscribed (disqualified); \
             fit capped at 30 -5\n"
        )
    );
}

#[test]
fn hot_tier_needs_its_score_and_group_subtotal() {
    let env = Env::new();
    env.write(
        "rules.toml",
        r#"version = 1

[groups]
fit = { max = 50 }

[tiers]
warm = 20
hot = { score = 40, fit = 30 }

[[rule]]
name = "Decision maker"
group = "fit"
when = { field = "title", contains = "director" }
points = 30

[[rule]]
name = "Demo"
when = { field = "demo", is = true }
points = 40
"#,
    );
    env.write(
        "c.csv",
        "id,title,demo\n1,Director,yes\n2,Clerk,yes\n3,Director,no\n4,Clerk,no\n",
    );
    let out = ok_stdout(&run(&mut env.classify(&["c.csv"])));
    assert_eq!(
        out,
        "id,title,demo,score,score_fit,tier,queue,reasons\n\
         1,Director,yes,70,30,hot,sales,Decision maker +30; Demo +40\n\
         2,Clerk,yes,40,0,warm,sales,Demo +40\n\
         3,Director,no,30,30,warm,sales,Decision maker +30\n\
         4,Clerk,no,0,0,cold,marketing,\n"
    );
}

// ---- where the rules come from ----------------------------------------------------------

/// A rules file whose one rule is named `name` and gives `points` for a demo.
fn marker_rules(name: &str, points: i32) -> String {
    format!(
        "version = 1\n[tiers]\nwarm = 1\n[[rule]]\nname = \"{name}\"\n\
         when = {{ field = \"demo\", is = true }}\npoints = {points}\n"
    )
}

#[test]
fn rules_default_to_rules_toml_in_the_working_folder() {
    let env = Env::standard();
    env.write("rules.toml", marker_rules("From default", 3));
    let out = ok_stdout(&run(&mut env.classify(&["contacts.csv"])));
    assert_eq!(
        util::column(&out, "reasons"),
        [
            "From default +3",
            "",
            "",
            "From default +3",
            "From default +3"
        ]
    );
    // A crontab line `LEADSORT_RULES=` clears the variable: the same as not setting it.
    let cleared = ok_stdout(&run(env
        .classify(&["contacts.csv"])
        .env("LEADSORT_RULES", "")));
    assert_eq!(cleared, out);
}

#[test]
fn leadsort_rules_env_var_overrides_the_default() {
    let env = Env::standard();
    env.write("conf/env.toml", marker_rules("From env", 5));
    let out = ok_stdout(&run(env
        .classify(&["contacts.csv"])
        .env("LEADSORT_RULES", "conf/env.toml")));
    assert_eq!(
        util::column(&out, "reasons"),
        ["From env +5", "", "", "From env +5", "From env +5"]
    );
    assert_eq!(util::column(&out, "score"), ["5", "0", "0", "5", "5"]);
    // A path from the variable that names nothing says where it came from.
    let out = run(env
        .classify(&["contacts.csv"])
        .env("LEADSORT_RULES", "conf/gone.toml"));
    assert_eq!(out.status.code(), Some(66));
    assert!(
        stderr(&out).contains("(the path is $LEADSORT_RULES's)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rules_flag_overrides_the_env_var_and_the_default() {
    let env = Env::standard();
    env.write("conf/env.toml", marker_rules("From env", 5));
    env.write("conf/flag.toml", marker_rules("From flag", 7));
    for flag in ["-r", "--rules"] {
        let out = ok_stdout(&run(env
            .classify(&[flag, "conf/flag.toml", "contacts.csv"])
            .env("LEADSORT_RULES", "conf/env.toml")));
        assert_eq!(
            util::column(&out, "reasons"),
            ["From flag +7", "", "", "From flag +7", "From flag +7"],
            "{flag}"
        );
    }
}

// ---- stdin, determinism -----------------------------------------------------------------

#[test]
fn stdin_dash_gives_the_same_bytes_as_the_file() {
    let env = Env::standard();
    let from_file = run(&mut env.classify(&["contacts.csv"])).stdout;
    let out = run(env.classify(&["-"]).write_stdin(CONTACTS));
    assert_eq!(ok_stdout(&out), text(&from_file));
    assert_eq!(text(&from_file), expected(&[1, 2, 3, 4, 5]));
}

#[test]
fn piped_stdin_without_a_file_argument_gives_the_same_bytes_as_the_file() {
    let env = Env::standard();
    let from_file = run(&mut env.classify(&["contacts.csv"])).stdout;
    let out = run(env.classify(&[]).write_stdin(CONTACTS));
    assert_eq!(ok_stdout(&out), text(&from_file));
    assert_eq!(stderr(&out), "");
}

#[test]
fn two_runs_give_identical_bytes() {
    let env = Env::standard();
    std::fs::create_dir(env.path("a")).unwrap();
    std::fs::create_dir(env.path("b")).unwrap();
    let first = run(&mut env.classify(&["contacts.csv"]));
    let second = run(&mut env.classify(&["contacts.csv"]));
    assert_eq!(ok_stdout(&first), ok_stdout(&second));
    run(&mut env.classify(&["--split", "a", "contacts.csv"]));
    run(&mut env.classify(&["--split", "b", "contacts.csv"]));
    let (a, b) = (snapshot(&env.path("a")), snapshot(&env.path("b")));
    assert_eq!(a.len(), 6, "5 outputs and the run lock");
    assert_eq!(a, b);
}

// ---- -o FILE ----------------------------------------------------------------------------

#[test]
fn output_file_gets_the_stdout_bytes_and_stdout_stays_empty() {
    let env = Env::standard();
    let stdout = ok_stdout(&run(&mut env.classify(&["contacts.csv"])));
    for flag in ["-o", "--output"] {
        let out = run(&mut env.classify(&[flag, "scored.csv", "contacts.csv"]));
        assert_eq!(ok_stdout(&out), "", "{flag}");
        assert_eq!(stderr(&out), "");
        assert_eq!(env.read("scored.csv"), stdout, "{flag}");
    }
    assert_eq!(env.files(), ["contacts.csv", "rules.toml", "scored.csv"]);
}

#[test]
fn output_file_replaces_an_older_one() {
    let env = Env::standard();
    env.write(
        "scored.csv",
        "old contents that are longer than nothing\n".repeat(100),
    );
    ok_stdout(&run(&mut env.classify(&[
        "-o",
        "scored.csv",
        "contacts.csv",
    ])));
    assert_eq!(env.read("scored.csv"), expected(&[1, 2, 3, 4, 5]));
}

#[cfg(unix)]
#[test]
fn output_files_are_readable_by_the_owner_only() {
    let env = Env::standard();
    std::fs::create_dir(env.path("out")).unwrap();
    ok_stdout(&run(&mut env.classify(&[
        "-o",
        "scored.csv",
        "contacts.csv",
    ])));
    assert_eq!(mode(&env.path("scored.csv")), 0o600);
    ok_stdout(&run(&mut env.classify(&["--split", "out", "contacts.csv"])));
    for name in names(&env.path("out")) {
        assert_eq!(mode(&env.path("out").join(&name)), 0o600, "{name}");
    }
}

// ---- --split DIR ------------------------------------------------------------------------

/// `CONTACTS` plus a row with too few fields (record 6, line 7).
fn contacts_with_a_bad_row() -> String {
    format!("{CONTACTS}6,fay@acme.com,Director\n")
}

#[test]
fn split_writes_one_file_per_queue_with_only_its_contacts() {
    let env = Env::standard();
    env.write("contacts.csv", contacts_with_a_bad_row());
    std::fs::create_dir(env.path("out")).unwrap();
    let out = run(&mut env.classify(&["--split", "out", "contacts.csv"]));
    assert_eq!(ok_stdout(&out), "", "nothing on stdout with --split");
    let dir = env.path("out");
    // No temp file (`.….leadsort-tmp`) left behind.
    assert_eq!(
        names(&dir),
        [
            ".leadsort.lock",
            "marketing.csv",
            "rejected.csv",
            "sales.csv",
            "summary.json",
            "suppressed.csv"
        ]
    );
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    assert_eq!(read("sales.csv"), expected(&[1, 5]));
    assert_eq!(read("marketing.csv"), expected(&[2, 4]));
    assert_eq!(read("suppressed.csv"), expected(&[3]));
    assert_eq!(
        read("rejected.csv"),
        "record,line,reason,row\n6,7,\"expected 7 fields, found 3\",\"6,fay@acme.com,Director\"\n"
    );
}

#[test]
fn split_summary_counts_add_up_to_the_input_rows() {
    let env = Env::standard();
    env.write("contacts.csv", contacts_with_a_bad_row());
    std::fs::create_dir(env.path("out")).unwrap();
    ok_stdout(&run(&mut env.classify(&["--split", "out", "contacts.csv"])));
    let s = json(&env.path("out/summary.json"));
    assert_eq!(s["input"], "contacts.csv");
    assert_eq!(s["as_of"], "2026-11-27");
    assert_eq!(s["rows"], 6);
    assert_eq!(s["contacts"], 5);
    assert_eq!(s["rejected"], 1);
    assert_eq!(
        s["queues"],
        serde_json::json!({"sales": 2, "marketing": 2, "suppressed": 1})
    );
    assert_eq!(
        s["tiers"],
        serde_json::json!({"hot": 0, "warm": 3, "cold": 1, "disqualified": 1})
    );
    let sum = |v: &serde_json::Value| -> u64 {
        v.as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum()
    };
    let data_rows = contacts_with_a_bad_row().lines().count() as u64 - 1;
    assert_eq!(s["rows"].as_u64(), Some(data_rows));
    assert_eq!(
        sum(&s["queues"]) + s["rejected"].as_u64().unwrap(),
        data_rows
    );
    assert_eq!(
        sum(&s["tiers"]) + s["rejected"].as_u64().unwrap(),
        data_rows
    );
}

#[test]
fn split_writes_a_file_for_a_route_queue_and_header_only_files_for_empty_queues() {
    let env = Env::standard();
    env.write(
        "rules.toml",
        RULES.replacen("queue = \"marketing\"", "queue = \"recycle\"", 1),
    );
    // No disqualified contact: suppressed stays empty.
    let without_3: String = CONTACTS
        .lines()
        .filter(|l| !l.starts_with("3,"))
        .map(|l| format!("{l}\n"))
        .collect();
    env.write("contacts.csv", without_3);
    std::fs::create_dir(env.path("out")).unwrap();
    ok_stdout(&run(&mut env.classify(&["--split", "out", "contacts.csv"])));
    let dir = env.path("out");
    assert_eq!(
        names(&dir),
        [
            ".leadsort.lock",
            "marketing.csv",
            "recycle.csv",
            "rejected.csv",
            "sales.csv",
            "summary.json",
            "suppressed.csv"
        ]
    );
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    assert_eq!(
        read("recycle.csv"),
        expected(&[4]).replace(",marketing,", ",recycle,")
    );
    assert_eq!(read("marketing.csv"), expected(&[2]));
    assert_eq!(read("sales.csv"), expected(&[1, 5]));
    assert_eq!(read("suppressed.csv"), format!("{OUT_HEADER}\n"));
    assert_eq!(read("rejected.csv"), "record,line,reason,row\n");
    let s = json(&dir.join("summary.json"));
    assert_eq!(
        s["queues"],
        serde_json::json!({"sales": 2, "marketing": 1, "suppressed": 0, "recycle": 1})
    );
}

/// Yesterday's run: the standard contacts split into out/ by rules that route to a queue
/// named `recycle`; those rules.
fn split_with_recycle_queue() -> (Env, String) {
    let env = Env::standard();
    let yesterday = RULES.replacen("queue = \"marketing\"", "queue = \"recycle\"", 1);
    env.write("rules.toml", &yesterday);
    std::fs::create_dir(env.path("out")).unwrap();
    ok_stdout(&run(&mut env.classify(&["--split", "out", "contacts.csv"])));
    (env, yesterday)
}

#[test]
fn a_queue_the_rules_no_longer_have_has_its_split_files_removed() {
    // Yesterday's rules routed contacts to `recycle`; today's call it `nurture`. Yesterday's
    // recycle.csv would hold contacts that are now elsewhere. Only what the last run wrote
    // (its summary names the queues and the format) goes.
    let (env, yesterday) = split_with_recycle_queue();
    assert_eq!(json(&env.path("out/summary.json"))["format"], "csv");
    env.write("out/recycle.xlsx", "a workbook the last run did not write");
    env.write("out/recycle.txt", "not leadsort's");
    env.write("out/vip.csv", "not a queue the summary names");
    env.write(
        "rules.toml",
        yesterday.replace("\"recycle\"", "\"nurture\""),
    );
    // -q too: a file removed is always said.
    let out = run(&mut env.classify(&["-q", "--split", "out", "contacts.csv"]));
    ok_stdout(&out);
    let err = stderr(&out);
    assert!(!env.exists("out/recycle.csv"));
    let said = format!(
        "removed {}: its queue was the last run's and is not in these rules",
        std::path::Path::new("out").join("recycle.csv").display()
    );
    assert!(err.contains(&said), "{err}");
    assert!(!err.contains("warning"), "a note, not a warning: {err}");
    assert_eq!(
        env.read("out/nurture.csv"),
        expected(&[4]).replace(",marketing,", ",nurture,")
    );
    for kept in ["recycle.xlsx", "recycle.txt", "vip.csv", "sales.csv"] {
        assert!(env.exists(&format!("out/{kept}")), "{kept}");
    }
    // The next run has nothing to remove.
    let out = run(&mut env.classify(&["--split", "out", "contacts.csv"]));
    assert!(!stderr(&out).contains("removed"), "{}", stderr(&out));
}

/// A folder the last run wrote with another rules file is another job's (a client's, for
/// an agency): its queue files are kept, and the run says so, even with -q.
#[test]
fn a_split_folder_last_written_with_other_rules_keeps_its_files() {
    let (env, yesterday) = split_with_recycle_queue();
    env.write(
        "client-b.toml",
        yesterday.replace("\"recycle\"", "\"nurture\""),
    );
    let out = run(&mut env.classify(&[
        "-q",
        "--rules",
        "client-b.toml",
        "--split",
        "out",
        "contacts.csv",
    ]));
    ok_stdout(&out);
    let err = stderr(&out);
    assert!(env.exists("out/recycle.csv"), "{err}");
    assert!(!err.contains("removed"), "{err}");
    assert!(
        err.contains("the folder's last run used other rules than client-b.toml (its summary.json names \"rules.toml\"), so its files of queues these rules do not have were kept:"),
        "{err}"
    );
    // The same rules file named another way is the same job.
    env.write("rules.toml", yesterday.replace("\"recycle\"", "\"again\""));
    ok_stdout(&run(&mut env.classify(&[
        "--rules",
        "rules.toml",
        "--split",
        "out",
        "contacts.csv",
    ])));
    env.write("rules.toml", &yesterday);
    let out =
        run(&mut env.classify(&["--rules", "./rules.toml", "--split", "out", "contacts.csv"]));
    assert!(stderr(&out).contains("removed"), "{}", stderr(&out));
    assert!(!env.exists("out/again.csv"));
}

#[test]
fn a_left_over_queue_file_that_is_the_input_or_differs_only_in_case_is_kept() {
    // Re-scoring yesterday's out/recycle.csv into out/ after renaming the queue: the input
    // stays. A queue renamed only in case (Recycle to recycle) is the same file where the
    // file system ignores case: kept, since it may be the file just written.
    let (env, yesterday) = split_with_recycle_queue();
    env.write(
        "rules.toml",
        yesterday.replace("\"recycle\"", "\"nurture\""),
    );
    let input = env.read("out/recycle.csv");
    let out = run(&mut env.classify(&["--split", "out", "out/recycle.csv"]));
    ok_stdout(&out);
    assert_eq!(env.read("out/recycle.csv"), input);
    assert!(!stderr(&out).contains("removed"), "{}", stderr(&out));

    env.write(
        "rules.toml",
        yesterday.replace("\"recycle\"", "\"Recycle\""),
    );
    ok_stdout(&run(&mut env.classify(&["--split", "out", "contacts.csv"])));
    env.write("rules.toml", &yesterday);
    let out = run(&mut env.classify(&["--split", "out", "contacts.csv"]));
    ok_stdout(&out);
    assert!(env.exists("out/recycle.csv") && env.exists("out/Recycle.csv"));
    assert!(!stderr(&out).contains("removed"), "{}", stderr(&out));
}

#[test]
fn split_into_the_folder_holding_the_input_is_allowed() {
    // The input is not one of the files --split writes, so nothing refuses the run.
    let env = Env::standard();
    let out = run(&mut env.classify(&["--split", ".", "contacts.csv"]));
    assert_eq!(ok_stdout(&out), "");
    assert_eq!(env.read("contacts.csv"), CONTACTS);
    assert_eq!(env.read("sales.csv"), expected(&[1, 5]));
}

#[test]
fn failed_runs_leave_previous_split_outputs_byte_identical() {
    let env = Env::standard();
    std::fs::create_dir(env.path("out")).unwrap();
    ok_stdout(&run(&mut env.classify(&["--split", "out", "contacts.csv"])));
    let before = snapshot(&env.path("out"));
    assert_eq!(before.len(), 6, "5 outputs and the run lock");

    // A field the rules need is missing.
    env.write(
        "needs_phone.toml",
        "version = 1\n[tiers]\nwarm = 1\n[[rule]]\nname = \"Phone\"\n\
         when = { field = \"phone\", present = true }\npoints = 1\n",
    );
    let out = run(&mut env.classify(&["-r", "needs_phone.toml", "--split", "out", "contacts.csv"]));
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert_eq!(snapshot(&env.path("out")), before);

    // A bad row under --strict, after good rows were already scored.
    env.write("bad.csv", contacts_with_a_bad_row());
    let out = run(&mut env.classify(&["--strict", "--split", "out", "bad.csv"]));
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert_eq!(snapshot(&env.path("out")), before);
}

// ---- --as-of and day-based rules --------------------------------------------------------

const DAY_RULES: &str = r#"version = 1

[fields]
last_seen = { column = "last_seen", type = "date" }

[tiers]
warm = 10

[[rule]]
name = "Recently active"
when = { field = "last_seen", within_days = 30 }
points = 10

[[rule]]
name = "Gone quiet"
when = { field = "last_seen", older_than_days = 180 }
points = -20
"#;

/// 30 and 31 days, 180 and 181 days before 2026-11-27; empty, unreadable, in the future.
const DAYS: &str = "id,last_seen\n1,2026-10-28\n2,2026-10-27\n3,2026-05-31\n4,2026-05-30\n\
                    5,\n6,soon\n7,2026-12-25\n";

fn day_env() -> Env {
    let env = Env::new();
    env.write("rules.toml", DAY_RULES);
    env.write("days.csv", DAYS);
    env
}

#[test]
fn within_days_holds_up_to_exactly_n_days_and_older_than_days_from_n_plus_one() {
    let env = day_env();
    let out = ok_stdout(&run(&mut classify_as_of(&env, "2026-11-27", &["days.csv"])));
    assert_eq!(
        out,
        "id,last_seen,score,tier,queue,reasons\n\
         1,2026-10-28,10,warm,sales,Recently active +10\n\
         2,2026-10-27,0,cold,marketing,\n\
         3,2026-05-31,0,cold,marketing,\n\
         4,2026-05-30,-20,cold,marketing,Gone quiet -20\n\
         5,,0,cold,marketing,\n\
         6,soon,0,cold,marketing,\n\
         7,2026-12-25,10,warm,sales,Recently active +10\n"
    );
}

#[test]
fn as_of_moves_the_day_boundaries() {
    let env = day_env();
    let out = ok_stdout(&run(&mut classify_as_of(&env, "2026-11-28", &["days.csv"])));
    assert_eq!(
        util::column(&out, "reasons"),
        [
            "",
            "",
            "Gone quiet -20",
            "Gone quiet -20",
            "",
            "",
            "Recently active +10"
        ]
    );
    // A year later everything dated is quiet, the future date included.
    let out = ok_stdout(&run(&mut classify_as_of(&env, "2027-11-27", &["days.csv"])));
    assert_eq!(
        util::column(&out, "score"),
        ["-20", "-20", "-20", "-20", "0", "0", "-20"]
    );
}

#[test]
fn unreadable_dates_are_counted_in_the_summary() {
    let env = day_env();
    ok_stdout(&run(&mut env.classify(&[
        "--summary",
        "s.json",
        "days.csv",
    ])));
    assert_eq!(
        json(&env.path("s.json"))["unreadable"],
        serde_json::json!({"last_seen": 1})
    );
    // One in seven is said in the summary; a field most contacts' cells do not read in is
    // warned about, and --deny-warnings refuses the run.
    let out = run(&mut env.classify(&["days.csv"]));
    assert!(
        !stderr(&out).contains("could not be read"),
        "{}",
        stderr(&out)
    );
    env.write(
        "us.csv",
        "id,last_seen\n1,10/28/2026\n2,10/27/2026\n3,2026-05-31\n",
    );
    let out = run(&mut env.classify(&["us.csv"]));
    ok_stdout(&out);
    assert!(
        stderr(&out).contains(
            "field `last_seen` could not be read in 2 of 3 contacts: its conditions are false \
             for them (dates in another form need `formats` under [fields])"
        ),
        "{}",
        stderr(&out)
    );
    let out = run(&mut env.classify(&["--deny-warnings", "-o", "out.csv", "us.csv"]));
    assert_eq!(out.status.code(), Some(65));
    assert!(!env.exists("out.csv"));
}

/// A field that lists several headers (one rules file for several exports) reads the first
/// it finds: an export with two of them gets a warning that the other goes unread, before
/// any row (so --deny-warnings replaces nothing, stdout included).
#[test]
fn an_export_with_two_of_a_fields_headers_is_warned_about() {
    let env = Env::standard();
    let rules = RULES.replace(
        "[fields]\n",
        "[fields]\nunsubscribed = [\"unsubscribed\", \"opted_out\"]\n",
    );
    env.write("rules.toml", rules);
    let (head, body) = CONTACTS.split_once('\n').unwrap();
    let body: String = body.lines().map(|l| format!("{l},yes\n")).collect();
    env.write("two.csv", format!("{head},opted_out\n{body}"));
    let out = run(&mut env.classify(&["two.csv"]));
    assert!(
        stderr(&out).contains(
            "field `unsubscribed`, which a disqualifying rule or a route reads, can read the \
             headers `unsubscribed`, `opted_out`, and the input has each of them: only \
             `unsubscribed` is read"
        ),
        "{}",
        stderr(&out)
    );
    // -q does not hide it; the header read is named as the input spells it, whichever of
    // the list it is (an exact name beats a loose one listed before it).
    env.write(
        "two2.csv",
        format!(
            "{},opted_out\n{body}",
            head.replace("unsubscribed", "UNSUBSCRIBED")
        ),
    );
    let out = run(&mut env.classify(&["-q", "two2.csv"]));
    assert!(
        stderr(&out).contains("only `opted_out` is read"),
        "{}",
        stderr(&out)
    );
    let out = run(&mut env.classify(&["--deny-warnings", "two.csv"]));
    assert_eq!(out.status.code(), Some(65));
    assert!(out.stdout.is_empty());
    // One of them: nothing to say.
    let out = run(&mut env.classify(&["contacts.csv"]));
    assert_eq!(stderr(&out), "");
}

/// A spreadsheet's totals row at the bottom is scored as a contact: said, with its line,
/// whatever the threads; a contact whose first cell happens to be `Total` (a company of
/// that name) with text in its other cells is not.
#[test]
fn a_totals_row_is_warned_about_and_a_company_named_total_is_not() {
    let env = Env::standard();
    let company = CONTACTS.replace("\n", "\nTotal,x@total.example,VP,500,no,no,\n");
    let company = company.trim_end_matches("Total,x@total.example,VP,500,no,no,\n");
    env.write("company.csv", company);
    for threads in ["1", "2"] {
        let out = run(&mut env.classify(&["--threads", threads, "company.csv"]));
        assert_eq!(stderr(&out), "", "{threads}");
    }
    // Nor a contact with an address whose other cells are numbers.
    env.write(
        "numeric.csv",
        format!("{CONTACTS}Total,jo@total.example,5,100000,12,4,92400\n"),
    );
    let out = run(&mut env.classify(&["numeric.csv"]));
    assert!(!stderr(&out).contains("totals row"), "{}", stderr(&out));
    env.write("totals.csv", format!("{CONTACTS}Total,,,\"1,760\",3,,\n"));
    for threads in ["1", "2"] {
        let out = run(&mut env.classify(&["--threads", threads, "totals.csv"]));
        assert!(
            stderr(&out).contains(
                "1 row of totals.csv looks like a spreadsheet's totals row (the first is record 6, \
                 line 7: its first cell names a total, its other cells are numbers or empty) and \
                 was scored as a contact"
            ),
            "{threads}: {}",
            stderr(&out)
        );
    }
    let out = run(env
        .cmd()
        .args(["check", "--as-of", "2026-11-27", "totals.csv"]));
    assert!(
        stderr(&out).contains("looks like a spreadsheet's totals row"),
        "{}",
        stderr(&out)
    );
}

/// One cell a disqualifying rule cannot read is one contact who should not be contacted and
/// is: warned about at once, and --deny-warnings refuses the run.
#[test]
fn a_cell_a_disqualifying_rule_cannot_read_is_warned_about() {
    let env = Env::standard();
    env.write(
        "c.csv",
        format!("{CONTACTS}7,g@acme.com,VP,10,yes (asked by phone),yes (by phone),\n"),
    );
    let out = run(&mut env.classify(&["c.csv"]));
    ok_stdout(&out);
    assert!(
        stderr(&out).contains(
            "field `unsubscribed` could not be read in 1 of 6 contacts: the disqualifying rule \
             \"Unsubscribed\" could not disqualify them"
        ),
        "{}",
        stderr(&out)
    );
    // The demo column is as unreadable, in one of six: not said, as before.
    assert!(!stderr(&out).contains("`demo`"), "{}", stderr(&out));
    // A cron job's -q does not hide it: someone who opted out may be in a queue.
    let out = run(&mut env.classify(&["-q", "c.csv"]));
    assert!(
        stderr(&out).contains("\"Unsubscribed\" could not disqualify them")
            && stderr(&out).contains("may be in a queue (said even with -q)"),
        "{}",
        stderr(&out)
    );
    // A German or French export's yes is read: `Ja` disqualifies.
    env.write(
        "de.csv",
        format!("{CONTACTS}7,g@acme.com,VP,10,Nein,Ja,\n8,h@acme.com,VP,10,non,OUI,\n"),
    );
    let out = run(&mut env.classify(&["-q", "de.csv"]));
    assert_eq!(stderr(&out), "");
    let scored = ok_stdout(&out);
    let queues = util::column(&scored, "queue");
    assert_eq!(&queues[5..], ["suppressed", "suppressed"], "{scored}");
    let out = run(&mut env.classify(&["--deny-warnings", "-o", "out.csv", "c.csv"]));
    assert_eq!(out.status.code(), Some(65));
    assert!(!env.exists("out.csv"));
    // Under a `not`, an unreadable cell makes the test false and the rule disqualify: no
    // contact escaped it, nothing to say.
    env.write(
        "rules.toml",
        RULES.replace(
            "when = { field = \"unsubscribed\", is = true }",
            "when = { not = { field = \"unsubscribed\", is = false } }",
        ),
    );
    let out = run(&mut env.classify(&["c.csv"]));
    ok_stdout(&out);
    assert!(
        !stderr(&out).contains("could not disqualify"),
        "{}",
        stderr(&out)
    );
}

/// The empty rows a spreadsheet exports below (or inside) its table, `,,,,`, are blank
/// lines: no empty contacts, on any number of threads, in any command.
#[test]
fn rows_of_separators_only_are_blank_lines() {
    let env = Env::standard();
    let mut lines = CONTACTS.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    env.write(
        "sheet.csv",
        format!(
            "{header}\n{}\n,,,,,,\n{}\n,,,,,,\n,,,,,,\n",
            rows[..2].join("\n"),
            rows[2..].join("\n")
        ),
    );
    for threads in ["1", "2"] {
        let out = run(&mut env.classify(&["--threads", threads, "sheet.csv"]));
        assert_eq!(
            ok_stdout(&out),
            expected(&[1, 2, 3, 4, 5]),
            "{threads} threads"
        );
    }
    let out = run(env
        .cmd()
        .args(["check", "--as-of", "2026-11-27", "sheet.csv"]));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("sheet.csv: 5 contacts, 0 rejected"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A title above the header (and a blank line): --skip-rows 1 reads the table, the
/// delimiter sniffed from the header, and line numbers stay the file's. Without it, the
/// missing-column error says what to pass.
#[test]
fn skip_rows_passes_a_title_above_the_header() {
    let env = Env::standard();
    let semi = CONTACTS.replace("\"1,200\"", "1200").replace(',', ";");
    env.write(
        "titled.csv",
        format!("Contacts exported 2026-11-27;;;;;;\r\n\r\n{semi}6;short\n"),
    );
    let out = run(&mut env.classify(&["--skip-rows", "1", "--rejected", "rej.csv", "titled.csv"]));
    assert_eq!(
        ok_stdout(&out),
        expected(&[1, 2, 3, 4, 5]).replace("\"1,200\"", "1200")
    );
    // The short row is on line 9: the title, a blank line, the header, five contacts.
    assert!(
        env.read("rej.csv").contains("\n6,9,"),
        "{}",
        env.read("rej.csv")
    );
    // A title of two lines in one quoted cell is one row; empty rows, `,,,,` ones too, are
    // not counted; line numbers are still the file's.
    env.write(
        "two-lines.csv",
        format!(",,,,,,\n\"Contacts\nQ4 2026\",,,,,,\n,,,,,,\n{CONTACTS}6,short\n"),
    );
    let out = run(&mut env.classify(&[
        "--skip-rows",
        "1",
        "--rejected",
        "rej2.csv",
        "two-lines.csv",
    ]));
    assert_eq!(ok_stdout(&out), expected(&[1, 2, 3, 4, 5]));
    assert!(
        env.read("rej2.csv").contains("\n6,11,"),
        "{}",
        env.read("rej2.csv")
    );
    // Lines ended by a bare CR; a quote inside a title's cell (27" screens); an escaped
    // quote in a quoted title of two lines.
    for (name, title, eol) in [
        ("cr.csv", "Contacts", "\r"),
        ("inch.csv", "Monitors 27\" and up,,", "\n"),
        ("escaped.csv", "\"say \"\"hi\"\"\nthere\",x", "\n"),
    ] {
        let body = CONTACTS.replace('\n', eol);
        env.write(name, format!("{title}{eol}{body}"));
        let out = run(&mut env.classify(&["--skip-rows", "1", name]));
        assert_eq!(
            ok_stdout(&out).replace("\r\n", "\n"),
            expected(&[1, 2, 3, 4, 5]),
            "{name}"
        );
    }
    let out = run(&mut env.classify(&["--skip-rows", "30", "two-lines.csv"]));
    assert!(
        stderr(&out).contains(
            "two-lines.csv: --skip-rows 30 skips past the end of the file (8 rows before it)"
        ),
        "{}",
        stderr(&out)
    );
    let out = run(&mut env.classify(&["titled.csv"]));
    assert_eq!(out.status.code(), Some(65));
    assert!(
        stderr(&out).contains(
            "the first row has one of 7 cells filled: if it is a title above \
                               the header, pass --skip-rows 1"
        ),
        "{}",
        stderr(&out)
    );
    // A title alone on its line (no trailing commas) too.
    env.write("one-cell.csv", format!("Contacts November\n{CONTACTS}"));
    let out = run(&mut env.classify(&["one-cell.csv"]));
    assert_eq!(out.status.code(), Some(65));
    assert!(
        stderr(&out).contains(
            "the first row is one cell: if it is a title above the header, pass --skip-rows 1"
        ),
        "{}",
        stderr(&out)
    );
}

/// A file none of whose rows can be read (an older Excel's encoding) must not empty
/// yesterday's outputs: exit 65, with the first row's line and reason.
#[test]
fn a_run_that_reads_not_one_row_replaces_nothing() {
    let env = Env::standard();
    let mut bytes = CONTACTS.lines().next().unwrap().as_bytes().to_vec();
    bytes
        .extend_from_slice(b"\n1,jos\xe9@acme.com,VP,10,no,no,\n2,ren\xe9@acme.com,VP,10,no,no,\n");
    env.write("latin1.csv", &bytes);
    env.write("o.csv", "yesterday");
    let out = run(&mut env.classify(&["-o", "o.csv", "latin1.csv"]));
    assert_eq!(out.status.code(), Some(65));
    assert!(
        stderr(&out)
            .contains("not one of the 2 rows of latin1.csv could be read (the first, line 2:"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.read("o.csv"), "yesterday");
    // Two header-only exports joined: no contact was lost, as for one (a warning).
    let header = CONTACTS.lines().next().unwrap();
    env.write("headers.csv", format!("{header}\n{header}\n"));
    let out = run(&mut env.classify(&["headers.csv"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // One row readable is a run, with its warning.
    bytes.extend_from_slice(b"3,ann@acme.com,VP,10,no,no,\n");
    env.write("latin1.csv", &bytes);
    let out = run(&mut env.classify(&["-o", "o.csv", "latin1.csv"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A German export's amounts: `decimal = ","` reads 12,50 as 12.5 and 3.400 as 3400, which
/// without it are unreadable (a mark that could be either).
#[test]
fn a_decimal_comma_field_reads_european_numbers() {
    let env = Env::new();
    env.write(
        "de.csv",
        "id;Betrag\n1;3.400\n2;12,50\n3;1.250,00 €\n4;12,500\n",
    );
    let rules = |decimal: &str| {
        format!(
            "version = 1\n[fields]\namount = {{ column = \"Betrag\", type = \"number\"{decimal} }}\n\
             [tiers]\nwarm = 1\n[[rule]]\nname = \"Big\"\nwhen = {{ field = \"amount\", at_least = 1000 }}\npoints = 1\n\
             [[rule]]\nname = \"Some\"\nwhen = {{ field = \"amount\", between = [10, 20] }}\npoints = 2\n"
        )
    };
    env.write("rules.toml", rules(", decimal = \",\""));
    let out = run(&mut env.classify(&["de.csv"]));
    assert_eq!(
        util::column(&ok_stdout(&out), "score"),
        ["1", "2", "1", "2"]
    );
    env.write("rules.toml", rules(""));
    let out = run(&mut env.classify(&["de.csv"]));
    assert_eq!(
        util::column(&ok_stdout(&out), "score"),
        ["0", "0", "1", "1"]
    );
    assert!(stderr(&out).contains("`decimal = \",\"` under [fields] reads a decimal comma"));
    env.write("rules.toml", rules(", decimal = \";\""));
    let out = run(&mut env.classify(&["de.csv"]));
    assert_eq!(out.status.code(), Some(78));
}

/// `-o -` is stdout, as `-` is stdin: no file named `-`.
#[test]
fn dash_o_dash_writes_to_stdout() {
    let env = Env::standard();
    let out = run(&mut env.classify(&["-o", "-", "contacts.csv"]));
    assert_eq!(ok_stdout(&out), expected(&[1, 2, 3, 4, 5]));
    assert!(!env.exists("-"));
    // Side files cannot be stdout: refused, not written to a file named `-`.
    for option in ["--summary", "--rejected", "--lock"] {
        let out = run(&mut env.classify(&[option, "-", "contacts.csv"]));
        assert_eq!(out.status.code(), Some(2), "{option}");
        assert!(!env.exists("-"), "{option}");
    }
}

/// A side file named by a path that is stdout (a pipe here) would be written into the rows:
/// refused as `-` is, in every command with an output on stdout. With the rows in a file,
/// stdout may take it.
#[test]
fn a_side_file_that_is_stdout_is_refused_when_stdout_carries_the_output() {
    let env = Env::standard();
    for (option, path) in [("--summary", "/dev/stdout"), ("--rejected", "/dev/fd/1")] {
        let out = run(&mut env.classify(&[option, path, "contacts.csv"]));
        assert_eq!(out.status.code(), Some(2), "{option}");
        assert!(
            stderr(&out).contains(&format!(
                "{option} {path} is stdout, which carries the output"
            )),
            "{}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty(), "{option}");
    }
    // /dev/null is no stdout to mix into, even when stdout is /dev/null too.
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin!("leadsort"))
        .current_dir(env.root())
        .args([
            "classify",
            "--as-of",
            "2026-11-27",
            "--summary",
            "/dev/null",
            "contacts.csv",
        ])
        .stdout(std::fs::File::create("/dev/null").unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    let out = run(&mut env.classify(&["-o", "o.csv", "--summary", "/dev/stdout", "contacts.csv"]));
    assert!(
        ok_stdout(&out).contains("\"contacts\": 5"),
        "{}",
        ok_stdout(&out)
    );
    let out = run(env.cmd().args([
        "report",
        "--as-of",
        "2026-11-27",
        "--html",
        "/dev/stdout",
        "contacts.csv",
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

/// Contacts and rules both from stdin: whichever is read first would take it all. Refused
/// before reading; rules from stdin with the contacts in a file still work.
#[test]
fn rules_and_contacts_cannot_both_come_from_stdin() {
    let env = Env::standard();
    for args in [
        &["--rules", "/dev/stdin", "-"][..],
        &["--rules", "/dev/stdin"],
        &["--rules", "/dev/stdin", "/dev/stdin"],
        &["--rules", "-", "contacts.csv"],
    ] {
        let out = run(env.classify(args).write_stdin(CONTACTS));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!stderr(&out).contains("Contact ID"), "{}", stderr(&out));
    }
    let out = run(env
        .cmd()
        .args(["diff", "--old", "rules.toml", "--new", "/dev/stdin", "-"])
        .write_stdin(CONTACTS));
    assert_eq!(out.status.code(), Some(2));
    let out = run(env
        .classify(&["--rules", "/dev/stdin", "contacts.csv"])
        .write_stdin(RULES));
    assert_eq!(ok_stdout(&out), expected(&[1, 2, 3, 4, 5]));
}

/// An export with a header and no rows empties every output: said even with -q. A run that
/// then refuses to replace anything does not point at files it did not write.
#[test]
fn no_contacts_is_said_even_quietly_and_unwritten_rejects_point_nowhere() {
    let env = Env::standard();
    let header = CONTACTS.lines().next().unwrap();
    env.write("empty.csv", format!("{header}\n"));
    let out = run(&mut env.classify(&["-q", "-o", "o.csv", "empty.csv"]));
    assert!(
        stderr(&out).contains("empty.csv has a header but no contacts"),
        "{}",
        stderr(&out)
    );
    env.write("short.csv", format!("{CONTACTS}6,f@acme.com\n"));
    let out = run(&mut env.classify(&[
        "--rejected",
        "rej.csv",
        "--min-contacts",
        "100",
        "short.csv",
    ]));
    assert_eq!(out.status.code(), Some(65));
    let err = stderr(&out);
    assert!(
        err.contains(
            "1 of 6 rows in short.csv could not be read and was rejected (the first on line 7: \
             expected 7 fields, found 2)\n"
        ),
        "{err}"
    );
    assert!(!env.exists("rej.csv"));
}

// ---- delimiters -------------------------------------------------------------------------

/// `CONTACTS` with another delimiter (the quoted `"1,200"` written as `1200`).
fn contacts_delimited_by(delimiter: char) -> String {
    CONTACTS
        .replace("\"1,200\"", "1200")
        .replace(',', &delimiter.to_string())
}

#[test]
fn delimiter_flag_reads_semicolon_files() {
    let env = Env::standard();
    env.write("semi.csv", contacts_delimited_by(';'));
    let want = expected(&[1, 2, 3, 4, 5]).replace("\"1,200\"", "1200");
    for args in [["-d", ";"], ["--delimiter", ";"]] {
        let out = run(env.classify(&args).arg("semi.csv"));
        assert_eq!(ok_stdout(&out), want, "{args:?}");
    }
}

#[test]
fn tsv_file_is_read_as_tab_separated() {
    let env = Env::standard();
    env.write("contacts.tsv", contacts_delimited_by('\t'));
    let out = run(&mut env.classify(&["contacts.tsv"]));
    assert_eq!(
        ok_stdout(&out),
        expected(&[1, 2, 3, 4, 5]).replace("\"1,200\"", "1200")
    );
}

#[test]
fn a_semicolon_file_without_delimiter_flag_is_sniffed_from_its_header() {
    let env = Env::standard();
    env.write("semi.csv", contacts_delimited_by(';'));
    let out = run(&mut env.classify(&["semi.csv"]));
    // Output is always comma-separated.
    assert_eq!(
        ok_stdout(&out),
        expected(&[1, 2, 3, 4, 5]).replace("\"1,200\"", "1200")
    );
}

#[test]
fn an_excel_sep_line_sets_the_delimiter_and_is_not_a_contact() {
    let env = Env::standard();
    env.write(
        "sep.csv",
        format!("sep=;\r\n{}", contacts_delimited_by(';')),
    );
    let out = run(&mut env.classify(&["sep.csv", "--summary", "s.json"]));
    assert_eq!(
        ok_stdout(&out),
        expected(&[1, 2, 3, 4, 5]).replace("\"1,200\"", "1200")
    );
    assert!(env.read("s.json").contains("\"rows\": 5,"));
}

// ---- rows that cannot be read -----------------------------------------------------------

/// Record 1 spans lines 2-3 (a quoted newline); records 2, 3 and 4 are bad (too few fields,
/// too many, invalid UTF-8) on lines 4, 5 and 6; record 5 (line 7) is fine.
const BAD_ROWS: &[u8] = b"id,email,Job Title,Company Size,demo,unsubscribed,sales_status\n\
1,ann@acme.com,\"VP\nSales\",500,yes,no,\n\
2,short@x.com,Engineer\n\
3,cy@initech.io,Director,250,no,no,,extra\n\
4,\xff\xfe@x.com,Director,250,no,no,\n\
5,ed@acme.com,Director of IT,50,yes,no,\n";

#[test]
fn bad_rows_go_to_the_rejected_file_with_record_line_and_reason() {
    let env = Env::standard();
    env.write("bad.csv", BAD_ROWS);
    let out = run(&mut env.classify(&["--rejected", "rejected.csv", "bad.csv"]));
    let stdout = ok_stdout(&out);
    let rejected = std::fs::read(env.path("rejected.csv")).unwrap();
    assert_eq!(
        rejected,
        b"record,line,reason,row\n\
2,4,\"expected 7 fields, found 3\",\"2,short@x.com,Engineer\"\n\
3,5,\"expected 7 fields, found 8\",\"3,cy@initech.io,Director,250,no,no,,extra\"\n\
4,6,\"column 2 (email) is not valid UTF-8: if the file comes from an older Excel, pass --encoding windows-1252\",\
\"4,\xff\xfe@x.com,Director,250,no,no,\"\n"
            .to_vec(),
        "{}",
        String::from_utf8_lossy(&rejected)
    );
    // The readable rows are still scored.
    assert_eq!(
        stdout,
        format!(
            "{OUT_HEADER}\n1,ann@acme.com,\"VP\nSales\",500,yes,no,,60,30,warm,sales,\
             Decision maker +20; Large company +15; Asked for a demo +30; fit capped at 30 -5\n{}\n",
            OUT_ROWS[4]
        )
    );
    assert_eq!(
        stderr(&out),
        "leadsort: warning: 3 of 5 rows in bad.csv could not be read and were rejected \
         (see rejected.csv)\n\
         leadsort: warning: bad.csv has rows that are not UTF-8 (the first is record 4, line 6): \
         if it comes from an older Excel, run again with --encoding windows-1252\n"
    );
}

#[test]
fn bad_rows_without_a_rejected_file_are_counted_in_a_warning() {
    let env = Env::standard();
    env.write("bad.csv", BAD_ROWS);
    let out = run(&mut env.classify(&["bad.csv"]));
    assert_eq!(util::column(&ok_stdout(&out), "id"), ["1", "5"]);
    assert_eq!(
        stderr(&out),
        "leadsort: warning: 3 of 5 rows in bad.csv could not be read and were rejected \
         (the first on line 4: expected 7 fields, found 3; use --rejected FILE to keep them)\n\
         leadsort: warning: bad.csv has rows that are not UTF-8 (the first is record 4, line 6): \
         if it comes from an older Excel, run again with --encoding windows-1252\n"
    );
    assert_eq!(env.files(), ["bad.csv", "contacts.csv", "rules.toml"]);
}

#[test]
fn strict_exits_65_at_the_first_bad_row() {
    let env = Env::standard();
    env.write("bad.csv", BAD_ROWS);
    env.write("scored.csv", "before\n");
    env.classify(&["--strict", "-o", "scored.csv", "bad.csv"])
        .assert()
        .code(65)
        .stderr(predicate::str::starts_with(
            "leadsort: error: bad.csv: record 2 (line 4): expected 7 fields, found 3\n",
        ))
        .stderr(predicate::str::contains("record 3").not())
        .stderr(predicate::str::contains("discard").not());
    assert_eq!(env.read("scored.csv"), "before\n");
    // On stdout, the rows before it are out already.
    let out = run(&mut env.classify(&["--strict", "bad.csv"]));
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rows before it went to stdout as they were scored: discard them"),
        "{err}"
    );
}

// ---- what the run says ------------------------------------------------------------------

#[test]
fn summary_flag_writes_the_counts_as_json() {
    let env = Env::standard();
    let out = run(&mut env.classify(&["--summary", "s.json", "contacts.csv"]));
    assert_eq!(ok_stdout(&out), expected(&[1, 2, 3, 4, 5]));
    let s = json(&env.path("s.json"));
    assert_eq!(s["leadsort_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(s["input"], "contacts.csv");
    assert_eq!(s["rules"], "rules.toml");
    assert_eq!(s["as_of"], "2026-11-27");
    assert_eq!(s["rows"], 5);
    assert_eq!(s["contacts"], 5);
    assert_eq!(s["rejected"], 0);
    assert_eq!(
        s["queues"],
        serde_json::json!({"sales": 2, "marketing": 2, "suppressed": 1})
    );
    assert_eq!(
        s["tiers"],
        serde_json::json!({"hot": 0, "warm": 3, "cold": 1, "disqualified": 1})
    );
    assert_eq!(s["missing_optional_fields"], serde_json::json!([]));
    assert_eq!(s["warnings"], serde_json::json!([]));
}

#[test]
fn verbose_prints_the_run_summary_on_stderr() {
    let env = Env::standard();
    for flag in ["-v", "--verbose"] {
        let out =
            run(env
                .cmd()
                .arg(flag)
                .args(["classify", "--as-of", "2026-11-27", "contacts.csv"]));
        assert_eq!(ok_stdout(&out), expected(&[1, 2, 3, 4, 5]));
        let err = stderr(&out);
        assert!(
            err.starts_with(
                "leadsort: 5 contacts from contacts.csv (as of 2026-11-27), rules rules.toml\n"
            ),
            "{err}"
        );
        for line in [
            r"(?m)^leadsort:\s+sales\s+2\s+40\.0%$",
            r"(?m)^leadsort:\s+marketing\s+2\s+40\.0%$",
            r"(?m)^leadsort:\s+suppressed\s+1\s+20\.0%$",
            r"(?m)^leadsort:\s+rejected\s+0$",
            r"(?m)^leadsort:\s+tiers: hot 0, warm 3, cold 1, disqualified 1$",
        ] {
            assert!(
                predicate::str::is_match(line).unwrap().eval(&err),
                "{line} in\n{err}"
            );
        }
    }
}

#[test]
fn one_contact_is_counted_in_the_singular() {
    let env = Env::standard();
    let one: String = CONTACTS.lines().take(2).map(|l| format!("{l}\n")).collect();
    env.write("one.csv", one);
    let out = run(env.cmd().arg("-v").args([
        "classify",
        "--as-of",
        "2026-11-27",
        "one.csv",
        "-o",
        "out.csv",
    ]));
    let err = stderr(&out);
    assert!(
        err.starts_with("leadsort: 1 contact from one.csv (as of 2026-11-27)"),
        "{err}"
    );
    let out = run(env
        .cmd()
        .args(["report", "--as-of", "2026-11-27", "one.csv"]));
    assert!(ok_stdout(&out).contains("\n1 contact, 0 rejected rows\n"));
}

/// `-q` leaves one warning: rejected rows are always counted (DESIGN: "nothing is dropped
/// silently"). A clean run under `-q` prints nothing.
#[test]
fn quiet_prints_only_the_count_of_rejected_rows() {
    let env = Env::standard();
    env.write("bad.csv", BAD_ROWS);
    for flag in ["-q", "--quiet"] {
        let out = run(env
            .cmd()
            .arg(flag)
            .args(["classify", "--as-of", "2026-11-27", "bad.csv"]));
        assert_eq!(util::column(&ok_stdout(&out), "id"), ["1", "5"], "{flag}");
        let err = stderr(&out);
        assert!(
            err.lines().count() == 1
                && err.starts_with("leadsort: warning: 3 of 5 rows in bad.csv could not be read"),
            "{flag}: {err}"
        );
        let clean =
            run(env
                .cmd()
                .arg(flag)
                .args(["classify", "--as-of", "2026-11-27", "contacts.csv"]));
        ok_stdout(&clean);
        assert_eq!(stderr(&clean), "", "{flag}");
    }
}

#[test]
fn clean_run_prints_nothing_on_stderr_when_it_is_not_a_terminal() {
    let env = Env::standard();
    std::fs::create_dir(env.path("out")).unwrap();
    for args in [
        &["contacts.csv"][..],
        &["-o", "scored.csv", "contacts.csv"],
        &["--split", "out", "contacts.csv"],
    ] {
        let out = run(&mut env.classify(args));
        ok_stdout(&out);
        assert_eq!(stderr(&out), "", "{args:?}");
    }
}

// ---- formulas ---------------------------------------------------------------------------

const FORMULA_RULES: &str = r#"version = 1
[tiers]
warm = 10
[[rule]]
name = "Demo"
when = { field = "demo", is = true }
points = 20
"#;

const FORMULAS: &str = "id,name,note,demo\n\
1,\"=HYPERLINK(\"\"http://evil\"\")\",-5,yes\n\
2,+1 555 0100,@SUM(A1),no\n\
3,-2+3,=1+1,no\n\
4,\"\tcmd\",+3.25,no\n";

#[test]
fn formula_cells_get_a_leading_quote_but_plain_numbers_do_not() {
    let env = Env::new();
    env.write("rules.toml", FORMULA_RULES);
    env.write("f.csv", FORMULAS);
    let out = ok_stdout(&run(&mut env.classify(&["f.csv"])));
    assert_eq!(
        out,
        "id,name,note,demo,score,tier,queue,reasons\n\
         1,\"'=HYPERLINK(\"\"http://evil\"\")\",-5,yes,20,warm,sales,Demo +20\n\
         2,'+1 555 0100,'@SUM(A1),no,0,cold,marketing,\n\
         3,'-2+3,'=1+1,no,0,cold,marketing,\n\
         4,'\tcmd,+3.25,no,0,cold,marketing,\n"
    );
}

#[test]
fn no_escape_formulas_writes_cells_exactly_as_read() {
    let env = Env::new();
    env.write("rules.toml", FORMULA_RULES);
    env.write("f.csv", FORMULAS);
    let out = ok_stdout(&run(&mut env.classify(&["--no-escape-formulas", "f.csv"])));
    // Rows are copied through as written (row 4 keeps its quotes around the tab).
    assert_eq!(
        out,
        "id,name,note,demo,score,tier,queue,reasons\n\
         1,\"=HYPERLINK(\"\"http://evil\"\")\",-5,yes,20,warm,sales,Demo +20\n\
         2,+1 555 0100,@SUM(A1),no,0,cold,marketing,\n\
         3,-2+3,=1+1,no,0,cold,marketing,\n\
         4,\"\tcmd\",+3.25,no,0,cold,marketing,\n"
    );
}

// ---- odd but valid inputs ---------------------------------------------------------------

#[test]
fn header_only_input_gives_header_only_output_and_a_warning() {
    let env = Env::standard();
    env.write("contacts.csv", format!("{INPUT_HEADER}\n"));
    let out = run(&mut env.classify(&["contacts.csv"]));
    assert_eq!(ok_stdout(&out), format!("{OUT_HEADER}\n"));
    assert_eq!(
        stderr(&out),
        "leadsort: warning: contacts.csv has a header but no contacts\n"
    );
}

#[test]
fn missing_optional_field_reads_as_empty_and_is_named_once() {
    let env = Env::standard();
    env.write(
        "rules.toml",
        r#"version = 1

[fields]
phone = { column = ["Phone", "phone_number"], optional = true }

[tiers]
warm = 1

[[rule]]
name = "No phone"
when = { field = "phone", missing = true }
points = -5

[[rule]]
name = "Has phone"
when = { field = "phone", present = true }
points = 5

[[rule]]
name = "Landline"
when = { field = "phone", starts_with = "0" }
points = 1
"#,
    );
    let out = run(&mut env.classify(&["--summary", "s.json", "contacts.csv"]));
    let stdout = ok_stdout(&out);
    assert_eq!(util::column(&stdout, "reasons"), ["No phone -5"; 5]);
    assert_eq!(util::column(&stdout, "score"), ["-5"; 5]);
    assert_eq!(
        stderr(&out),
        "leadsort: warning: optional field `phone` not in the input: read as empty for every \
         contact\n"
    );
    assert_eq!(
        json(&env.path("s.json"))["missing_optional_fields"],
        serde_json::json!(["phone"])
    );
    // Known from the header: --deny-warnings refuses before a row is written, stdout included.
    let out = run(&mut env.classify(&["--deny-warnings", "contacts.csv"]));
    assert_eq!(out.status.code(), Some(65));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(stderr(&out).contains("1 warning (--deny-warnings)"));
}

/// A summary that cannot be written stops the run before anything is written to stdout.
#[test]
fn a_summary_that_cannot_be_written_stops_the_run_before_any_row() {
    let env = Env::standard();
    let out = run(&mut env.classify(&["--summary", "nowhere/s.json", "contacts.csv"]));
    assert_eq!(out.status.code(), Some(73), "{}", stderr(&out));
    assert!(stderr(&out).contains("nowhere/s.json"));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

#[test]
fn duplicate_header_used_by_a_rule_exits_65() {
    let env = Env::standard();
    env.write(
        "contacts.csv",
        "id,email,Job Title,Company Size,demo,unsubscribed,sales_status,email\n\
         1,ann@acme.com,VP Sales,500,yes,no,,ann@gmail.com\n",
    );
    env.classify(&["contacts.csv"])
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::starts_with("leadsort: "))
        .stderr(predicate::str::contains("field `email`"))
        .stderr(predicate::str::contains("rules.toml:34:18"))
        .stderr(predicate::str::contains("more than once"))
        .stderr(predicate::str::contains("ann@").not());
}

#[test]
fn duplicate_header_not_used_by_the_rules_only_warns() {
    let env = Env::standard();
    let doubled: String = CONTACTS
        .lines()
        .map(|l| {
            let id = l.split(',').next().unwrap();
            format!("{id},{l}\n")
        })
        .collect();
    env.write("contacts.csv", doubled);
    let out = run(&mut env.classify(&["contacts.csv"]));
    let want: String = expected(&[1, 2, 3, 4, 5])
        .lines()
        .map(|l| {
            let id = l.split(',').next().unwrap();
            format!("{id},{l}\n")
        })
        .collect();
    assert_eq!(ok_stdout(&out), want);
    assert_eq!(
        stderr(&out),
        "leadsort: warning: the header repeats `id` (the rules do not use it)\n"
    );
}

#[test]
fn blank_lines_and_crlf_line_endings_are_accepted() {
    let env = Env::standard();
    env.write(
        "contacts.csv",
        format!("\r\n{}\r\n", CONTACTS.replace('\n', "\r\n\r\n")),
    );
    let out = run(&mut env.classify(&["--rejected", "rejected.csv", "contacts.csv"]));
    assert_eq!(ok_stdout(&out), expected(&[1, 2, 3, 4, 5]));
    assert_eq!(stderr(&out), "");
    assert_eq!(env.read("rejected.csv"), "record,line,reason,row\n");
}

#[test]
fn utf8_bom_is_stripped_from_the_header() {
    let env = Env::standard();
    env.write("contacts.csv", format!("\u{feff}{CONTACTS}"));
    let out = run(&mut env.classify(&["contacts.csv"]));
    let stdout = ok_stdout(&out);
    assert!(stdout.starts_with("id,"), "{stdout:?}");
    assert_eq!(stdout, expected(&[1, 2, 3, 4, 5]));
}
