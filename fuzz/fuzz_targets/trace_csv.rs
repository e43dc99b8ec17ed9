//! Fuzz target `trace_csv`: the Csv trace reader, see [`alarm_fuzz::trace`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    alarm_fuzz::trace(sim_traces::TraceFormat::Csv, "trace.csv", data)
});
