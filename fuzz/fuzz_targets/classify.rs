//! Arbitrary bytes read as a contacts CSV and run through classify (see bodies/classify.rs).
#![no_main]

include!("../bodies/classify.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| classify(data));
