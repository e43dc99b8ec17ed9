//! Fuzz target `wire_to_phone`: see [`alarm_fuzz::wire_to_phone`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alarm_fuzz::wire_to_phone(data));
