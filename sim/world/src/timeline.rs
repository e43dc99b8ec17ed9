//! The event timeline of a run: what the button, the link, the phone and the platform
//! did, in order, with virtual time. Its text rendering is what the determinism check
//! compares byte for byte and what insta snapshots hold.

use std::fmt::Write as _;

use serde::Serialize;

use crate::sched::Micros;

/// Which part of the system an entry comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// The wearer (hand, body).
    Wearer,
    /// The button firmware.
    Button,
    /// The virtual BLE link.
    Link,
    /// The phone app.
    Phone,
    /// Simulated platform services (SMS network, telephony, GPS, siren...).
    Platform,
    /// The harness itself (faults injected, steps).
    Harness,
}

impl Layer {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Wearer => "wearer",
            Layer::Button => "button",
            Layer::Link => "link",
            Layer::Phone => "phone",
            Layer::Platform => "platform",
            Layer::Harness => "harness",
        }
    }
}

/// One line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Virtual time (µs).
    pub t_us: Micros,
    /// Layer.
    pub layer: Layer,
    /// What happened.
    pub text: String,
}

/// The whole timeline.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// Entries in order.
    pub entries: Vec<Entry>,
    /// Keep at most this many entries (0 = unlimited); later ones are counted only.
    #[serde(skip)]
    pub cap: usize,
    /// Entries not kept because of the cap.
    pub dropped: u64,
}

impl Timeline {
    /// Append.
    pub fn push(&mut self, t_us: Micros, layer: Layer, text: String) {
        if self.cap > 0 && self.entries.len() >= self.cap {
            self.dropped += 1;
            return;
        }
        self.entries.push(Entry { t_us, layer, text });
    }

    /// Human table: `     12.345678 s  button    gesture single`.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for e in &self.entries {
            let _ = writeln!(
                s,
                "{:>8}.{:06} s  {:<8}  {}",
                e.t_us / 1_000_000,
                e.t_us % 1_000_000,
                e.layer.name(),
                e.text
            );
        }
        if self.dropped > 0 {
            let _ = writeln!(s, "({} more entries not kept)", self.dropped);
        }
        s
    }

    /// One JSON object per entry.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.entries).unwrap_or_default()
    }
}
