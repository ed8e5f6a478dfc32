//! `cargo +nightly fuzz run journal`: see fuzz/README.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    warroom::fuzzing::journal(data);
});
