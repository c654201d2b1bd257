//! A scratch folder per test, and the `leadsort` binary ready to run in it.
#![allow(dead_code)] // shared by several test modules; not each uses every helper

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// One rule on `demo` and a warm tier: rules that lint clean, for tests about the input.
pub const DEMO_RULES: &str = "version = 1\n[tiers]\nwarm = 10\n[[rule]]\nname = \"Demo\"\n\
                              when = { field = \"demo\", is = true }\npoints = 20\n";

/// A small rules file used by many tests: a group, two tiers, a disqualifier and a route.
pub const RULES: &str = r#"
version = 1

[fields]
title = ["Job Title", "title"]
employees = { column = ["Company Size", "employees"], type = "number" }

[groups]
fit = { max = 30 }

[tiers]
warm = 40
hot = 70

[[rule]]
name = "Decision maker"
group = "fit"
when = { field = "title", contains_any = ["director", "vp", "chief"] }
points = 20

[[rule]]
name = "Large company"
group = "fit"
when = { field = "employees", at_least = 200 }
points = 15

[[rule]]
name = "Asked for a demo"
when = { field = "demo", is = true }
points = 30

[[rule]]
name = "Free mail"
when = { field = "email", domain_in = ["gmail.com"] }
points = -10

[[rule]]
name = "Unsubscribed"
when = { field = "unsubscribed", is = true }
disqualify = true

[[route]]
name = "Sales gave up"
when = { field = "sales_status", in = ["no response"] }
queue = "marketing"
"#;

/// Contacts for `RULES`: one per queue and tier.
pub const CONTACTS: &str = "\
id,email,Job Title,Company Size,demo,unsubscribed,sales_status
1,ann@acme.com,VP Sales,500,yes,no,
2,bob@gmail.com,Engineer,10,no,no,
3,cy@initech.io,Director,250,no,yes,
4,di@globex.com,Chief of Staff,\"1,200\",true,,no response
5,ed@acme.com,Director of IT,50,yes,no,
";

/// A temp folder with helpers to write inputs, run leadsort there and read outputs.
pub struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// With `rules.toml` = `RULES` and `contacts.csv` = `CONTACTS`.
    pub fn standard() -> Env {
        let env = Env::new();
        env.write("rules.toml", RULES);
        env.write("contacts.csv", CONTACTS);
        env
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("reading {name}: {e}"))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path(name).exists()
    }

    /// Every file name in the folder (recursively, relative), sorted.
    pub fn files(&self) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(base, &p, out);
                } else {
                    out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
                }
            }
        }
        let mut out = Vec::new();
        walk(self.root(), self.root(), &mut out);
        out.sort();
        out
    }

    /// `leadsort` with the folder as working directory and a clean environment.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("leadsort"));
        cmd.current_dir(self.root())
            .env_remove("LEADSORT_RULES")
            .env_remove("NO_COLOR")
            .env("TZ", "UTC");
        cmd
    }

    /// `leadsort classify --as-of 2026-11-27 ARGS...`
    pub fn classify(&self, args: &[&str]) -> Command {
        let mut cmd = self.cmd();
        cmd.arg("classify")
            .arg("--as-of")
            .arg("2026-11-27")
            .args(args);
        cmd
    }
}

/// Parse CSV text into rows of strings (header included).
pub fn rows(csv_text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The value of `column` in every data row.
pub fn column(csv_text: &str, column: &str) -> Vec<String> {
    let rows = rows(csv_text);
    let i = rows[0]
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no column {column} in {:?}", rows[0]));
    rows[1..].iter().map(|r| r[i].clone()).collect()
}

/// The stdout of a run that must have exited 0 (its stderr shown when it did not).
#[track_caller]
pub fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}
