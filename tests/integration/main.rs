//! One integration-test binary that drives the real `leadsort` executable.
// Tests print notes with eprintln!, which the binary may not (see clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_macros)]

mod util;

mod balance;
mod calibrate;
mod check;
mod classify;
mod diff;
mod examples;
mod exit_codes;
mod explain;
mod formats;
mod fuzz_regressions;
mod init;
mod properties;
mod report;
mod robustness;
mod threads;
mod workbook_input;
mod workload;
