//! Exit codes (DESIGN.md, "Exit codes"): one test per code and cause. Each checks the code,
//! that stderr starts with `leadsort: `, that it names the file or place, and that it shows no
//! contact data.

use std::process::Output;

use crate::util::{CONTACTS, Env, RULES};

/// Every email address in `CONTACTS`: none may ever appear in a message.
const EMAILS: [&str; 5] = [
    "ann@acme.com",
    "bob@gmail.com",
    "cy@initech.io",
    "di@globex.com",
    "ed@acme.com",
];

const HEADER: &str = "id,email,Job Title,Company Size,demo,unsubscribed,sales_status";

fn run(cmd: &mut assert_cmd::Command) -> Output {
    cmd.output().expect("leadsort runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The run failed with `code`, its message starts with `leadsort: `, contains every one of
/// `parts`, and shows no contact's email. Returns stderr for further checks.
#[track_caller]
fn assert_error(out: &Output, code: i32, parts: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "exit code; stderr:\n{err}");
    assert!(
        err.starts_with("leadsort: "),
        "stderr must start with `leadsort: `:\n{err}"
    );
    for part in parts {
        assert!(err.contains(part), "stderr lacks {part:?}:\n{err}");
    }
    for email in EMAILS {
        assert!(
            !err.contains(email),
            "stderr shows contact data {email:?}:\n{err}"
        );
    }
    err
}

/// `leadsort classify --as-of 2026-11-27` as a plain `std::process::Command`, set up like
/// `Env::classify`, for tests that need control over stdout.
fn std_classify(env: &Env) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("leadsort"));
    cmd.current_dir(env.root())
        .env_remove("LEADSORT_RULES")
        .env_remove("NO_COLOR")
        .env("TZ", "UTC")
        .args(["classify", "--as-of", "2026-11-27"]);
    cmd
}

/// Names of the files in `env`'s folder, sorted (temp files included).
fn files(env: &Env) -> Vec<String> {
    env.files()
}

// ---- 0 ---------------------------------------------------------------------------------

#[test]
fn success_exits_0_with_nothing_on_stderr() {
    let env = Env::standard();
    let out = run(&mut env.classify(&["contacts.csv"]));
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().count(),
        6,
        "header and five contacts:\n{stdout}"
    );
}

#[test]
fn help_exits_0_and_prints_usage_on_stdout() {
    let env = Env::new();
    let out = run(env.cmd().arg("--help"));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Usage: leadsort"), "{text}");
    assert!(text.contains("classify"), "{text}");
    assert_eq!(stderr(&out), "");

    let out = run(env.cmd().args(["classify", "--help"]));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in ["--rules", "--output", "--split", "--as-of", "--strict"] {
        assert!(text.contains(flag), "classify --help lacks {flag}:\n{text}");
    }
}

#[test]
fn version_exits_0_and_prints_the_version() {
    let env = Env::new();
    let out = run(env.cmd().arg("--version"));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("leadsort {}\n", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(stderr(&out), "");
}

// ---- 2: usage --------------------------------------------------------------------------

#[test]
fn unknown_flag_exits_2() {
    let env = Env::standard();
    let out = run(&mut env.classify(&["--frobnicate", "contacts.csv"]));
    assert_error(&out, 2, &["--frobnicate"]);
    assert!(out.stdout.is_empty());
}

#[test]
fn output_together_with_split_exits_2() {
    let env = Env::standard();
    std::fs::create_dir(env.path("out")).unwrap();
    let out = run(&mut env.classify(&["-o", "out.csv", "--split", "out", "contacts.csv"]));
    assert_error(&out, 2, &["--output", "--split"]);
    assert!(!env.exists("out.csv"));
    assert_eq!(std::fs::read_dir(env.path("out")).unwrap().count(), 0);
}

#[test]
fn two_outputs_naming_one_file_exit_2_before_anything_is_written() {
    let env = Env::standard();
    std::fs::create_dir(env.path("out")).unwrap();
    let before = files(&env);
    for (args, options) in [
        (
            &["-o", "o.csv", "--summary", "o.csv"][..],
            "(-o and --summary)",
        ),
        (&["-o", "o.csv", "--lock", "o.csv"], "(-o and --lock)"),
        (
            &["-o", "o.csv", "--rejected", "./o.csv"],
            "(-o and --rejected)",
        ),
        (
            &["--rejected", "s.json", "--summary", "s.json"],
            "(--rejected and --summary)",
        ),
        (
            &["--split", "out", "--summary", "out/sales.csv"],
            "(--split and --summary)",
        ),
        (
            &["--split", "out", "--summary", "out/../out/rejected.csv"],
            "(--split and --summary)",
        ),
    ] {
        let out = run(env.classify(args).arg("contacts.csv"));
        let err = assert_error(&out, 2, &["named for two outputs", options]);
        assert!(out.stdout.is_empty(), "{args:?}: {err}");
        assert_eq!(files(&env), before, "{args:?} wrote something");
    }
    // The folder's own summary, named again: both are the one summary.
    let out = run(&mut env.classify(&[
        "--split",
        "out",
        "--summary",
        "out/summary.json",
        "contacts.csv",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(env.exists("out/summary.json"));
}

#[test]
fn bad_as_of_date_exits_2() {
    let env = Env::standard();
    // Not `env.classify`, which already passes a valid --as-of.
    let out = run(env
        .cmd()
        .args(["classify", "--as-of", "2026-13-01", "contacts.csv"]));
    assert_error(&out, 2, &["--as-of", "2026-13-01"]);
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_delimiter_exits_2() {
    let env = Env::standard();
    let out = run(&mut env.classify(&["-d", ";;", "contacts.csv"]));
    assert_error(&out, 2, &["--delimiter", ";;"]);
    assert!(out.stdout.is_empty());
}

#[test]
fn output_path_equal_to_input_path_exits_2_and_leaves_the_input_untouched() {
    let env = Env::standard();
    let out = run(&mut env.classify(&["-o", "contacts.csv", "contacts.csv"]));
    assert_error(&out, 2, &["contacts.csv is both an input and an output"]);
    assert_eq!(env.read("contacts.csv"), CONTACTS);
    assert_eq!(files(&env), ["contacts.csv", "rules.toml"]);

    // The same file under another spelling is still the input.
    let out = run(&mut env.classify(&["-o", "./contacts.csv", "contacts.csv"]));
    assert_error(&out, 2, &["contacts.csv is both an input and an output"]);
    assert_eq!(env.read("contacts.csv"), CONTACTS);
}

#[test]
fn output_over_the_file_on_stdin_or_a_hard_link_to_the_input_exits_2() {
    let env = Env::standard();
    let on_stdin = |file: &str| {
        std_classify(&env)
            .args(["-o", "contacts.csv", "-"])
            .stdin(std::fs::File::open(env.path(file)).unwrap())
            .output()
            .unwrap()
    };
    let out = on_stdin("contacts.csv");
    assert_error(
        &out,
        2,
        &["contacts.csv is both the input on stdin and an output"],
    );
    assert_eq!(env.read("contacts.csv"), CONTACTS);

    std::fs::hard_link(env.path("contacts.csv"), env.path("linked.csv")).unwrap();
    let out = run(&mut env.classify(&["-o", "linked.csv", "contacts.csv"]));
    assert_error(&out, 2, &["linked.csv is both an input and an output"]);
    // (Outputs are renamed into place: the link, not the input, would have been replaced.)
    assert_eq!(env.read("linked.csv"), CONTACTS);

    // Another file on stdin is no clash.
    env.write("other.csv", CONTACTS);
    let out = on_stdin("other.csv");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn output_over_the_rules_file_exits_2_and_leaves_it_untouched() {
    let env = Env::standard();
    let out = run(&mut env.classify(&["-o", "rules.toml", "contacts.csv"]));
    assert_error(&out, 2, &["rules.toml is both an input and an output"]);
    assert_eq!(env.read("rules.toml"), RULES);
}

#[test]
fn split_that_would_overwrite_the_input_exits_2_and_leaves_it_untouched() {
    let env = Env::standard();
    // The input is named like the queue file --split would write next to it.
    env.write("out/sales.csv", CONTACTS);
    let out = run(&mut env.classify(&["--split", "out", "out/sales.csv"]));
    assert_error(&out, 2, &["sales.csv is both an input and an output"]);
    assert_eq!(env.read("out/sales.csv"), CONTACTS);
    assert_eq!(files(&env), ["contacts.csv", "out/sales.csv", "rules.toml"]);
}

// ---- 65: the input data cannot be used --------------------------------------------------

#[test]
fn empty_input_exits_65() {
    let env = Env::standard();
    env.write("empty.csv", "");
    let out = run(&mut env.classify(&["empty.csv"]));
    assert_error(&out, 65, &["empty.csv", "empty"]);
    assert!(out.stdout.is_empty());
}

/// `CONTACTS` with the `Job Title` header misspelt, so the field `title` has no column.
fn misspelt_header_env() -> Env {
    let env = Env::standard();
    env.write(
        "contacts.csv",
        CONTACTS.replacen("Job Title", "Job Titel", 1),
    );
    env
}

#[test]
fn missing_column_exits_65_listing_headers_nearest_match_and_rules_position() {
    let env = misspelt_header_env();
    let out = run(&mut env.classify(&["-o", "out.csv", "contacts.csv"]));
    assert_error(
        &out,
        65,
        &[
            "contacts.csv has no column for field `title`",
            // `title` is first used on line 18, column 18 of RULES.
            "rules.toml:18:18",
            "closest header: `Job Titel`",
            "headers in contacts.csv: `id`, `email`, `Job Titel`, `Company Size`, `demo`, \
             `unsubscribed`, `sales_status`",
        ],
    );
    assert!(!env.exists("out.csv"), "no output may be created");
    assert_eq!(files(&env), ["contacts.csv", "rules.toml"]);
    assert!(out.stdout.is_empty());
}

/// A CSV given as the rules (its header, or a contact on a file without one): the TOML error
/// would show its first line under a caret. Said for what it is, with no cell shown, in
/// every command that reads rules.
#[test]
fn a_csv_given_as_the_rules_is_named_without_showing_its_line() {
    let env = Env::standard();
    env.write("nohdr.csv", "1,ann@acme.com,VP Sales,500,no,no,\n");
    for args in [
        &["classify", "--rules", "nohdr.csv", "contacts.csv"][..],
        &["check", "--rules", "nohdr.csv"],
        &[
            "diff",
            "--old",
            "rules.toml",
            "--new",
            "nohdr.csv",
            "contacts.csv",
        ],
    ] {
        let out = run(env.cmd().args(args));
        let err = assert_error(
            &out,
            78,
            &[
                "nohdr.csv:1: this is not a rules file",
                "is it the contacts file?",
            ],
        );
        assert!(
            !err.contains("ann@") && !err.contains("VP Sales"),
            "{args:?}: {err}"
        );
    }
    // An `=` in a cell (a tracked link) does not make the line TOML, nor does a single column.
    for first in [
        "1,ann@acme.com,VP Sales,https://acme.com/?utm_source=ads",
        "1,\"Ann Lee\",ann@acme.com,https://acme.com/?utm_source=ads",
        "ann@acme.com",
    ] {
        env.write("url.csv", format!("{first}\n"));
        let out = run(env.cmd().args(["check", "--rules", "url.csv"]));
        let err = assert_error(&out, 78, &["url.csv:1: this is not a rules file"]);
        assert!(!err.contains("ann@"), "{err}");
    }
    // A rules file saved with a byte order mark (Notepad) is read.
    env.write("bom.toml", format!("\u{feff}{RULES}"));
    let out = run(env.cmd().args(["check", "--rules", "bom.toml"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A TOML typo later in the file keeps its caret.
    env.write("typo.toml", "version = 1\n[tiers]\nwarm 1\n");
    let out = run(env.cmd().args(["check", "--rules", "typo.toml"]));
    assert_eq!(out.status.code(), Some(78));
    assert!(stderr(&out).contains("warm 1"), "{}", stderr(&out));
}

/// A header name holding a terminal's escape sequence (clear the screen) or a backspace is
/// shown escaped: read from a file, it must not drive the terminal.
#[test]
fn control_characters_in_header_names_are_escaped_in_messages() {
    let env = Env::standard();
    env.write(
        "esc.csv",
        "id,email,Job\x1b[2JTitel,Company Size,demo,unsubscribed,sales\x08status\n1,a@x.com,CFO,5,no,no,\n",
    );
    for cmd in ["classify", "check"] {
        let out = run(env.cmd().args([cmd, "--as-of", "2026-11-27", "esc.csv"]));
        let err = assert_error(&out, 65, &["Job\\u{1b}[2JTitel", "sales\\u{8}status"]);
        assert!(
            !err.contains('\x1b') && !err.contains('\x08'),
            "{cmd}: {err:?}"
        );
    }
}

/// A file without a header line: its first contact would be listed as the headers. The
/// message says why it shows none, and no cell of that row appears (in classify, check and
/// explain alike).
#[test]
fn a_first_line_that_is_a_contact_is_not_shown_as_headers() {
    let env = Env::standard();
    let first = "1,ann@acme.com,VP Sales,500,no,no,";
    env.write(
        "nohdr.csv",
        format!("{first}\n2,bob@gmail.com,Engineer,20,no,no,\n"),
    );
    for args in [
        &["classify", "--as-of", "2026-11-27", "nohdr.csv"][..],
        &["check", "--as-of", "2026-11-27", "nohdr.csv"],
        &[
            "explain",
            "--as-of",
            "2026-11-27",
            "--row",
            "1",
            "nohdr.csv",
        ],
    ] {
        let out = run(env.cmd().args(args));
        let err = assert_error(
            &out,
            65,
            &["the first line of nohdr.csv does not look like a header"],
        );
        for cell in ["VP Sales", "`500`", "`no`"] {
            assert!(!err.contains(cell), "{args:?} shows {cell}:\n{err}");
        }
    }
    // Rules that bind without it: --columns and the repeated-names warning keep quiet too.
    env.write(
        "optional.toml",
        "version = 1\n[fields]\nx = { column = \"x\", optional = true }\n[tiers]\nwarm = 1\n\
         [[rule]]\nname = \"A\"\nwhen = { field = \"x\", present = true }\npoints = 1\n",
    );
    let out = run(&mut env.classify(&["--rules", "optional.toml", "--columns", "id", "nohdr.csv"]));
    let err = assert_error(&out, 65, &["--columns: nohdr.csv has no column \"id\""]);
    assert!(
        err.contains("does not look like a header") && !err.contains("VP Sales"),
        "{err}"
    );
    let out = run(&mut env.classify(&["--rules", "optional.toml", "nohdr.csv"]));
    let err = stderr(&out);
    assert!(
        err.contains("the header repeats 1 name") && !err.contains("`no`"),
        "{err}"
    );
    // Without an email address: a phone number, a long number or a date gives it away.
    for first in [
        "10012345,Jane,Doe,CFO,Acme Corp",
        "Jane,Doe,+1 555 0199,CFO",
        "Jane,Doe,2024-05-26,CFO",
        "17,Jane,Doe,CFO,Acme",
        "Jane,Doe,CFO,Acme,4.5",
    ] {
        env.write("nohdr2.csv", format!("{first}\nJohn,Roe,2,CTO,Beta\n"));
        let out = run(&mut env.classify(&["nohdr2.csv"]));
        let err = assert_error(&out, 65, &["nohdr2.csv does not look like a header"]);
        assert!(!err.contains("Jane") && !err.contains("CFO"), "{err}");
    }
    // Read with the wrong --delimiter, a header line is one long column: judged by the
    // names it splits into, it is listed (with the delimiter to pass); a row of data is not.
    let long = "Record ID,First Name,Last Name,Job Title,Company Name,Number of Employees,\
                Industry,Lifecycle Stage";
    env.write(
        "wide.csv",
        format!("{long}\n1,Jo,Do,VP,Acme,50,SaaS,lead\n"),
    );
    let out = run(&mut env.classify(&["-d", ";", "wide.csv"]));
    assert_error(
        &out,
        65,
        &[
            &format!("headers in wide.csv: `{long}`"),
            "pass --delimiter ','",
        ],
    );
    env.write(
        "nohdr3.csv",
        "17,Jane,Doe,+1 555 0199\n18,John,Roe,+1 555 0198\n",
    );
    let out = run(&mut env.classify(&["-d", ";", "nohdr3.csv"]));
    let err = assert_error(&out, 65, &["nohdr3.csv does not look like a header"]);
    assert!(!err.contains("Jane"), "{err}");
    // Only words, no number or address: it names none of the fields the rules read, which a
    // header would. Not shown by classify, check or explain, nor as a "closest" name.
    env.write(
        "words.csv",
        "Jane,Doe,Chief Executive,Acme,Ohio\nJohn,Roe,Engineer,Beta,Utah\n",
    );
    for cmd in ["classify", "check", "explain"] {
        let mut args = vec![cmd, "--as-of", "2026-11-27", "words.csv"];
        if cmd == "explain" {
            args.extend(["--row", "1"]);
        }
        let out = run(env.cmd().args(&args));
        let err = assert_error(
            &out,
            65,
            &["the first line of words.csv names none of the columns the rules read"],
        );
        for cell in ["Jane", "Doe", "Chief", "Acme", "Ohio"] {
            assert!(!err.contains(cell), "{cmd} shows {cell}:\n{err}");
        }
    }
    // A header that names some of the fields is listed, with the closest name to a missing one.
    env.write(
        "some.csv",
        "id,email,Job Titel,employees,demo\n1,a@x.com,CFO,5,no\n",
    );
    let out = run(&mut env.classify(&["some.csv"]));
    assert_error(
        &out,
        65,
        &[
            "closest header: `Job Titel`",
            "headers in some.csv: `id`, `email`, `Job Titel`, `employees`, `demo`",
        ],
    );
    // A year or a month names a column: the headers are listed.
    env.write("years.csv", "Contact,email,2024,2024-01\nann,a@x.com,1,2\n");
    let out = run(&mut env.classify(&["years.csv"]));
    assert_error(
        &out,
        65,
        &["headers in years.csv: `Contact`, `email`, `2024`, `2024-01`"],
    );
}

#[test]
fn missing_column_leaves_an_existing_output_unchanged() {
    let env = misspelt_header_env();
    env.write("out.csv", "yesterday's output\n");
    let out = run(&mut env.classify(&["-o", "out.csv", "contacts.csv"]));
    assert_error(&out, 65, &["field `title`", "rules.toml:18:18"]);
    assert_eq!(env.read("out.csv"), "yesterday's output\n");
    assert_eq!(files(&env), ["contacts.csv", "out.csv", "rules.toml"]);
}

#[test]
fn strict_with_a_bad_row_exits_65_and_leaves_an_existing_output_unchanged() {
    let env = Env::standard();
    env.write("out.csv", "yesterday's output\n");
    // Record 3 (line 4) has 3 fields instead of 7.
    env.write(
        "bad.csv",
        format!("{HEADER}\n1,ann@acme.com,VP Sales,500,yes,no,\n2,bob@gmail.com,Engineer,10,no,no,\n3,cy@initech.io,Director\n"),
    );
    let out = run(&mut env.classify(&["--strict", "-o", "out.csv", "bad.csv"]));
    assert_error(
        &out,
        65,
        &[
            "bad.csv",
            "record 3",
            "line 4",
            "expected 7 fields, found 3",
        ],
    );
    assert_eq!(env.read("out.csv"), "yesterday's output\n");
    assert_eq!(
        files(&env),
        ["bad.csv", "contacts.csv", "out.csv", "rules.toml"]
    );
}

// ---- 66: an input file is missing -------------------------------------------------------

#[test]
fn missing_input_file_exits_66() {
    let env = Env::standard();
    let out = run(&mut env.classify(&["nope.csv"]));
    assert_error(&out, 66, &["nope.csv"]);
    assert!(out.stdout.is_empty());
}

#[test]
fn a_folder_as_input_exits_66_named_or_on_stdin() {
    let env = Env::standard();
    std::fs::create_dir(env.path("exports")).unwrap();
    let out = run(&mut env.classify(&["exports"]));
    assert_error(&out, 66, &["exports"]);
    let folder = std::fs::File::open(env.path("exports")).unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin!("leadsort"))
        .current_dir(env.root())
        .args(["classify", "--as-of", "2026-11-27", "-"])
        .stdin(folder)
        .output()
        .unwrap();
    assert_error(&out, 66, &["<stdin>"]);
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_default_rules_file_exits_66() {
    let env = Env::new();
    env.write("contacts.csv", CONTACTS);
    let out = run(&mut env.classify(&["contacts.csv"]));
    assert_error(&out, 66, &["rules.toml", "LEADSORT_RULES"]);
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_explicit_rules_file_exits_66() {
    let env = Env::standard();
    let out = run(&mut env.classify(&["--rules", "conf/missing.toml", "contacts.csv"]));
    assert_error(&out, 66, &["conf/missing.toml"]);
    assert!(out.stdout.is_empty());
}

// ---- 73: an output cannot be created ------------------------------------------------------

#[test]
fn output_into_a_missing_folder_exits_73() {
    let env = Env::standard();
    let out = run(&mut env.classify(&["-o", "nodir/out.csv", "contacts.csv"]));
    assert_error(&out, 73, &["nodir/out.csv"]);
    assert!(!env.exists("nodir"));
    assert!(out.stdout.is_empty());
}

#[test]
fn split_into_a_missing_folder_exits_73() {
    let env = Env::standard();
    let out = run(&mut env.classify(&["--split", "nodir", "contacts.csv"]));
    assert_error(&out, 73, &["nodir", "folder does not exist"]);
    assert!(!env.exists("nodir"));
    assert!(out.stdout.is_empty());

    // A file where the folder should be is named as what it is.
    env.write("scored.csv", "yesterday\n");
    let out = run(&mut env.classify(&["--split", "scored.csv", "contacts.csv"]));
    assert_error(&out, 73, &["scored.csv", "is a file, not a folder"]);
    assert_eq!(env.read("scored.csv"), "yesterday\n");
}

// ---- 74: I/O error while writing -------------------------------------------------------

/// The /dev/full tests must not overlap: a broken leadsort may replace the device.
static DEV_FULL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(unix)]
fn dev_full_is_a_device() -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata("/dev/full").is_ok_and(|m| m.file_type().is_char_device())
}

/// Put /dev/full back if the run under test replaced it with a regular file.
#[cfg(unix)]
fn restore_dev_full() {
    let _ = std::fs::remove_file("/dev/full");
    let _ = std::process::Command::new("mknod")
        .args(["-m", "666", "/dev/full", "c", "1", "7"])
        .status();
}

#[cfg(unix)]
#[test]
fn output_to_dev_full_exits_74() {
    let _lock = DEV_FULL.lock().unwrap_or_else(|e| e.into_inner());
    if !dev_full_is_a_device() {
        eprintln!("skipped: /dev/full is not available");
        return;
    }
    let env = Env::standard();
    let out = run(&mut env.classify(&["-o", "/dev/full", "contacts.csv"]));
    let still_a_device = dev_full_is_a_device();
    if !still_a_device {
        restore_dev_full();
    }
    assert!(
        still_a_device,
        "leadsort replaced the device /dev/full with a regular file (exit {:?}); \
         an output that is not a regular file must not be renamed over",
        out.status.code()
    );
    assert_error(&out, 74, &["/dev/full"]);
}

/// An error still exits with its code when stderr cannot take the message (cron with a full
/// mail spool, `2>&1 | head -c 10`): printing it must not panic and abort (134).
#[cfg(unix)]
#[test]
fn errors_keep_their_exit_code_when_stderr_is_full() {
    let _lock = DEV_FULL.lock().unwrap_or_else(|e| e.into_inner());
    if !dev_full_is_a_device() {
        eprintln!("skipped: /dev/full is not available");
        return;
    }
    let env = Env::standard();
    env.write("empty.toml", "");
    for (args, code) in [
        (&["classify", "--bogus"][..], 2),
        (&["classify", "missing.csv"], 66),
        (&["check", "--rules", "empty.toml"], 78),
        (&["classify", "--rules", "empty.toml", "contacts.csv"], 78),
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let status = std::process::Command::new(assert_cmd::cargo::cargo_bin!("leadsort"))
            .current_dir(env.root())
            .env_remove("LEADSORT_RULES")
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(full)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(code), "{args:?}");
    }
}

#[cfg(unix)]
#[test]
fn stdout_to_dev_full_exits_74() {
    let _lock = DEV_FULL.lock().unwrap_or_else(|e| e.into_inner());
    if !dev_full_is_a_device() {
        eprintln!("skipped: /dev/full is not available");
        return;
    }
    let env = Env::standard();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std_classify(&env)
        .arg("contacts.csv")
        .stdout(full)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert_error(&out, 74, &["stdout", "No space left on device"]);
}

// ---- 78: rules.toml is wrong --------------------------------------------------------------

/// Run with `rules.toml` = `rules` on the standard contacts.
fn with_rules(rules: &str) -> Output {
    let env = Env::standard();
    env.write("rules.toml", rules);
    let out = run(&mut env.classify(&["contacts.csv"]));
    assert!(out.stdout.is_empty(), "no output on a rules error");
    out
}

#[test]
fn invalid_toml_exits_78_with_line_and_column() {
    let out = with_rules("version = 1\n[tiers\nwarm = 40\n");
    assert_error(&out, 78, &["invalid TOML", "rules.toml:2:7", "2 | [tiers"]);
}

#[test]
fn rules_saved_as_latin1_exit_78_at_the_first_byte_that_is_not_utf8() {
    let env = Env::standard();
    let mut rules = RULES
        .replace("name = \"Decision", "name = \"D\u{e9}cision")
        .into_bytes();
    // é as Latin-1 saves it: the one byte 0xE9 in place of its two UTF-8 bytes.
    let at = rules.windows(2).position(|w| w == "é".as_bytes()).unwrap();
    rules.splice(at..at + 2, [0xE9]);
    env.write("rules.toml", &rules);
    let line = 1 + rules[..at].iter().filter(|&&b| b == b'\n').count();
    let out = run(&mut env.classify(&["contacts.csv"]));
    assert!(out.stdout.is_empty());
    let place = format!("rules.toml:{line}:10: the rules file is not UTF-8 text");
    let err = assert_error(&out, 78, &[&place, "Latin-1", "save it as UTF-8"]);
    // Only the place: a file that is not UTF-8 may be a contacts export given by mistake.
    assert!(!err.contains("cision"), "{err}");
    let out = run(env.cmd().args(["check", "contacts.csv"]));
    assert_error(&out, 78, &[&place]);

    // Notepad's "Unicode" is UTF-16, byte order mark first.
    let utf16: Vec<u8> = std::iter::once(0xFEFF)
        .chain(RULES.encode_utf16())
        .flat_map(u16::to_le_bytes)
        .collect();
    env.write("rules.toml", utf16);
    let out = run(&mut env.classify(&["contacts.csv"]));
    assert_error(
        &out,
        78,
        &["rules.toml:1:1: the rules file is not UTF-8", "UTF-16"],
    );
}

#[test]
fn unknown_key_exits_78_with_did_you_mean_source_line_and_caret() {
    let out = with_rules(
        r#"version = 1

[tiers]
warm = 40

[[rule]]
name = "Asked for a demo"
when = { field = "demo", is = true }
pionts = 30
"#,
    );
    let err = assert_error(
        &out,
        78,
        &[
            "unknown key `pionts`",
            "rules.toml:9:1",
            "9 | pionts = 30",
            "did you mean `points`?",
        ],
    );
    // The caret line sits under the key, exactly as wide as it.
    let lines: Vec<&str> = err.lines().collect();
    let source = lines
        .iter()
        .position(|l| l.ends_with("9 | pionts = 30"))
        .unwrap();
    let caret = lines[source + 1];
    let col = lines[source].find("pionts").unwrap();
    assert_eq!(caret.find('^'), Some(col), "caret under the key:\n{err}");
    assert!(caret[col..].starts_with("^^^^^^ "), "{err}");
    assert!(!caret[col..].starts_with("^^^^^^^"), "{err}");
}

#[test]
fn bad_regex_exits_78() {
    let out = with_rules(
        r#"version = 1

[tiers]
warm = 40

[[rule]]
name = "Odd mail"
when = { field = "email", matches = "(unclosed" }
points = 5
"#,
    );
    assert_error(
        &out,
        78,
        &[
            "invalid regular expression",
            "rules.toml:8:37",
            "unclosed group",
        ],
    );
}

#[test]
fn unknown_group_exits_78_with_did_you_mean() {
    let out = with_rules(&RULES.replacen("group = \"fit\"", "group = \"fitt\"", 1));
    // The first `group = "fit"` in RULES is on line 17, the value at column 9.
    assert_error(
        &out,
        78,
        &[
            "unknown group `fitt`",
            "rules.toml:17:9",
            "did you mean `fit`?",
        ],
    );
}

#[test]
fn duplicate_rule_name_ignoring_case_exits_78() {
    let out = with_rules(&RULES.replacen("name = \"Free mail\"", "name = \"decision MAKER\"", 1));
    let err = assert_error(
        &out,
        78,
        &["duplicate rule name \"decision MAKER\"", "rules.toml:33:8"],
    );
    assert_eq!(err.matches("duplicate rule name").count(), 1, "{err}");
}

#[test]
fn an_impossible_balance_is_a_rules_error_at_its_place() {
    let out = with_rules(&format!(
        "{RULES}\n[balance]\nsales_capacity = 200\nmin_sales = 300\n"
    ));
    // `min_sales` is on the fourth line after the last line of RULES.
    let at = format!("rules.toml:{}:13", RULES.lines().count() + 4);
    assert_error(
        &out,
        78,
        &["`min_sales` 300 is above `sales_capacity` 200", &at],
    );
}

#[test]
fn several_rules_errors_are_all_reported_in_one_run() {
    let out = with_rules(
        r#"version = 1

[groups]
fit = { max = 30 }

[tiers]
warm = 40

[[rule]]
name = "Decision maker"
group = "fitt"
when = { field = "Job Title", contains = "director" }
points = 20

[[rule]]
name = "Weird mail"
when = { field = "email", matches = "([a-z]+" }
points = 5

[[rule]]
name = "Asked for a demo"
when = { field = "demo", is = true }
pionts = 30
"#,
    );
    let err = assert_error(
        &out,
        78,
        &[
            "unknown group `fitt`",
            "rules.toml:11:9",
            "invalid regular expression",
            "rules.toml:17:37",
            "unknown key `pionts`",
            "rules.toml:23:1",
            "rules.toml has 3 errors",
        ],
    );
    // In file order.
    let group = err.find("unknown group").unwrap();
    let regex = err.find("invalid regular expression").unwrap();
    let key = err.find("unknown key").unwrap();
    assert!(group < regex && regex < key, "{err}");
}

// ---- broken pipe ------------------------------------------------------------------------

#[test]
fn closed_stdout_is_a_quiet_success() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let env = Env::standard();
    let mut csv = String::from(HEADER);
    csv.push('\n');
    for i in 0..5000 {
        csv.push_str(&format!(
            "{i},person{i}@example.com,Director of Things,{},yes,no,\n",
            i % 400
        ));
    }
    env.write("many.csv", csv);
    let mut child = std_classify(&env)
        .arg("many.csv")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    {
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut first).unwrap();
    } // the pipe closes here, long before leadsort is done
    let out = child.wait_with_output().unwrap();
    assert!(first.starts_with(HEADER), "{first}");
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}
