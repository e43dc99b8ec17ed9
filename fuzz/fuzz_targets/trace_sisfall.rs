//! Fuzz target `trace_sisfall`: the SisFall trace reader, see [`alarm_fuzz::trace`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    alarm_fuzz::trace(sim_traces::TraceFormat::SisFall, "F01_SA01_R01.txt", data)
});
