//! Fuzz target `trace_fallalld`: the FallAllD trace reader, see [`alarm_fuzz::trace`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    alarm_fuzz::trace(
        sim_traces::TraceFormat::FallAllD,
        "S01_D01_T01_R01.dat",
        data,
    )
});
