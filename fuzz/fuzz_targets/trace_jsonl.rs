//! Fuzz target `trace_jsonl`: the Jsonl trace reader, see [`alarm_fuzz::trace`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    alarm_fuzz::trace(sim_traces::TraceFormat::Jsonl, "trace.jsonl", data)
});
