//! `cargo +nightly fuzz run kql`: see fuzz/README.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    warroom::fuzzing::kql(data);
});
