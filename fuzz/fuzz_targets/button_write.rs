//! Fuzz target `button_write`: see [`alarm_fuzz::button_write`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alarm_fuzz::button_write(data));
