//! Fuzz target `profile_json`: see [`alarm_fuzz::profile_json`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alarm_fuzz::profile_json(data));
