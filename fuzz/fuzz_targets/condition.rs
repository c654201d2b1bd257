//! A condition built from the fuzzer's bytes, checked for logic on an awkward contact
//! (see bodies/condition.rs).
#![no_main]

include!("../bodies/condition.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| condition(data));
