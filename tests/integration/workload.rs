//! leadsort agrees with an independent implementation of the benchmark workload
//! (benches/kit: WORKLOAD.md in Python's csv module) on generated contacts.

use std::path::PathBuf;
use std::process::Command;

use crate::util::Env;

fn kit(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("benches/kit")
        .join(name)
}

fn python(args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new("python3")
        .args(args)
        .output()
        .expect("python3 is needed for this test");
    assert!(
        out.status.success(),
        "python3 {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `check_output.py`'s line without the file name.
fn digest(env: &Env, file: &str) -> String {
    let line = python(&[
        kit("check_output.py").as_os_str(),
        env.path(file).as_os_str(),
    ]);
    line.split_once(' ').unwrap().1.trim().to_string()
}

#[test]
fn scores_tiers_and_queues_agree_with_the_python_peer() {
    let env = Env::new();
    let input = env.path("contacts.csv");
    python(&[
        kit("gen_contacts.py").as_os_str(),
        "20000".as_ref(),
        input.as_os_str(),
    ]);
    env.classify(&[
        "--rules",
        kit("rules.toml").to_str().unwrap(),
        "contacts.csv",
        "-o",
        "leadsort.csv",
    ])
    .assert()
    .success();
    python(&[
        kit("score_pycsv.py").as_os_str(),
        input.as_os_str(),
        env.path("peer.csv").as_os_str(),
    ]);
    let ours = digest(&env, "leadsort.csv");
    assert!(ours.contains("rows=20000 hdr_ok=True bad_cols=0"), "{ours}");
    assert_eq!(ours, digest(&env, "peer.csv"));
}
