//! Fuzz target `feature_validate`: see [`alarm_fuzz::feature_validate`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alarm_fuzz::feature_validate(data));
