//! `--threads N`: the output is the same bytes whatever N, on files the pipeline must cut
//! into many chunks (about 512 KiB each) at places quoted line breaks make hard to find.

use std::collections::BTreeMap;

use crate::util::Env;

/// A file of about `size` bytes with everything that makes cutting it into chunks hard:
/// notes over several lines (so chunk ends fall inside quotes), stray quotes that fool a
/// count of quotes, rows with the wrong number of fields and rows a stray quote runs over
/// (both rejected, in the middle), and one note larger than a chunk.
fn tricky(size: usize, line_end: &str) -> String {
    let nl = line_end;
    let mut csv =
        format!("id,email,Job Title,Company Size,demo,unsubscribed,sales_status,note{nl}");
    let mut id = 0;
    while csv.len() < size {
        id += 1;
        let row = match id % 11 {
            // A quoted note over several lines, with a comma, an escaped quote and a blank line.
            0 | 4 | 7 => format!(
                "{id},n{id}@acme.com,Director,300,yes,no,,\"Call back{nl}after Q3, \
                 \"\"maybe\"\"{nl}{nl}ok\"{nl}"
            ),
            // A stray quote in an unquoted cell: the quote count goes odd.
            2 => format!("{id},s{id}@acme.com,5'11\" VP,20,no,no,,tall{nl}"),
            // The wrong number of fields: rejected.
            5 if id % 3 == 0 => format!("{id},short@acme.com,Engineer{nl}"),
            // A quote that runs over the next rows: rejected, the rows after it read again.
            9 if id % 7 == 0 => format!(
                "{id},m{id}@acme.com,\"Chief,1,yes,no,,x{nl}{},r@acme.com,VP,5,no,no,,y{nl}",
                id + 100_000
            ),
            _ => format!(
                "{id},p{id}@gmail.com,Engineer,{},no,no,no response,plain{nl}",
                id % 700
            ),
        };
        csv.push_str(&row);
        if id == 4000 {
            // A note larger than a chunk, full of line breaks.
            let big = format!("line of a long note{nl}").repeat(40_000);
            csv.push_str(&format!("{id}0,big@acme.com,VP,900,yes,no,,\"{big}\"{nl}"));
        }
    }
    csv
}

/// Every file a run wrote in `out/`, and its stdout.
fn run(env: &Env, args: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let out = env.path("out");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir(&out).unwrap();
    let output = env.classify(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut files: BTreeMap<String, Vec<u8>> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.insert("stdout".into(), output.stdout);
    files
}

fn same_bytes_for_1_2_and_8_threads(line_end: &str) {
    let env = Env::standard();
    env.write("big.csv", tricky(3 << 20, line_end));
    let runs: Vec<_> = ["1", "2", "8"]
        .iter()
        .map(|threads| {
            let stdout = run(
                &env,
                &[
                    "--threads",
                    threads,
                    "--rejected",
                    "out/rejected.csv",
                    "big.csv",
                ],
            );
            let split = run(
                &env,
                &[
                    "--threads",
                    threads,
                    "--split",
                    "out",
                    "--summary",
                    "out/s.json",
                    "big.csv",
                ],
            );
            (stdout, split)
        })
        .collect();
    let (stdout, split) = &runs[0];
    // The file is what it is meant to be: many rows, some rejected, every queue used.
    let text = String::from_utf8_lossy(&stdout["stdout"]);
    assert!(text.lines().count() > 40_000, "{}", text.lines().count());
    let rejected = String::from_utf8_lossy(&stdout["rejected.csv"]);
    assert!(rejected.contains("expected 8 fields, found 3"));
    assert!(rejected.contains("runs over the next rows"));
    assert!(text.contains("\"line of a long note"));
    for name in [
        "sales.csv",
        "marketing.csv",
        "suppressed.csv",
        "rejected.csv",
        "s.json",
    ] {
        assert!(split.contains_key(name), "{name} in {:?}", split.keys());
    }
    for (threads, (other_stdout, other_split)) in ["2", "8"].iter().zip(&runs[1..]) {
        assert!(
            other_stdout == stdout,
            "stdout and rejected rows, {threads} threads"
        );
        for (name, bytes) in split {
            assert!(&other_split[name] == bytes, "{name}, {threads} threads");
        }
    }
}

#[test]
fn output_is_the_same_bytes_for_1_2_and_8_threads() {
    same_bytes_for_1_2_and_8_threads("\n");
}

#[test]
fn output_is_the_same_bytes_for_1_2_and_8_threads_with_crlf() {
    same_bytes_for_1_2_and_8_threads("\r\n");
}
