//! Fuzz target `wire_to_button`: see [`alarm_fuzz::wire_to_button`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alarm_fuzz::wire_to_button(data));
