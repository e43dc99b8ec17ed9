//! Fuzz target `store_load`: see [`alarm_fuzz::store_load`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alarm_fuzz::store_load(data));
