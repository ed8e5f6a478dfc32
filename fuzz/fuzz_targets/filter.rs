//! `cargo +nightly fuzz run filter`: see fuzz/README.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    warroom::fuzzing::filter(data);
});
