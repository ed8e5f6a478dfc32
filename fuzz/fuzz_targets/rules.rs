//! `cargo +nightly fuzz run rules`: see fuzz/README.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    warroom::fuzzing::rules(data);
});
