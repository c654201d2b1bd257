//! Every input the fuzzers crashed on (`fuzz/regressions/<target>/`), and their seeds
//! (`fuzz/seeds/<target>/`), replayed through the fuzz targets' own bodies without libFuzzer,
//! so that a fixed crash stays fixed. See fuzz/README.md.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// The `classify` target: bytes read as a CSV, scored and written back.
mod classify_target {
    include!("../../fuzz/bodies/classify.rs");
}

/// The `rules` target: text loaded as rules.toml, linted, tested, compiled and explained.
mod rules_target {
    include!("../../fuzz/bodies/rules.rs");
}

/// The `condition` target: a condition built from bytes, checked against its negation.
mod condition_target {
    include!("../../fuzz/bodies/condition.rs");
}

#[test]
fn classify_inputs_that_crashed_or_seeded_the_fuzzer() {
    replay("classify", classify_target::classify);
}

#[test]
fn rules_inputs_that_crashed_or_seeded_the_fuzzer() {
    replay("rules", rules_target::rules);
}

#[test]
fn condition_inputs_that_crashed_or_seeded_the_fuzzer() {
    replay("condition", condition_target::condition);
}

/// Run `body` on every file kept for `target`; report every file that panics, not just the
/// first.
fn replay(target: &str, body: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files: Vec<PathBuf> = Vec::new();
    for folder in ["regressions", "seeds"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(folder).join(target)) else {
            continue;
        };
        files.extend(entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()));
    }
    files.sort();
    assert!(!files.is_empty(), "no inputs kept for the {target} target");
    let failed: Vec<String> = files
        .iter()
        .filter(|file| {
            let data = std::fs::read(file).unwrap();
            catch_unwind(AssertUnwindSafe(|| body(&data))).is_err()
        })
        .map(|file| file.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} {target} inputs panic (see the messages above):\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}
