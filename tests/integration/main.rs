//! One integration-test binary that drives the real `leadsort` executable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

mod classify;
mod examples;
mod exit_codes;
mod properties;
mod workload;
