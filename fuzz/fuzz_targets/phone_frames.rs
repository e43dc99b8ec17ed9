//! Fuzz target `phone_frames`: see [`alarm_fuzz::phone_frames`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alarm_fuzz::phone_frames(data));
