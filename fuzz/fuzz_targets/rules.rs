//! Arbitrary text loaded as rules.toml and used every way leadsort uses rules
//! (see bodies/rules.rs).
#![no_main]

include!("../bodies/rules.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| rules(data));
