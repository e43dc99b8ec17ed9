//! The event timeline of a run: what the button, the link, the phone and the platform
//! did, in order, with virtual time. Every entry is a typed [`Observed`] with its text
//! rendered once; the text rendering is what the determinism check compares byte for
//! byte and what insta snapshots hold, [`Timeline::to_json`] gives each entry's kind and
//! fields as JSON values.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{json, Value};

use crate::observed::Observed;
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
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Virtual time (µs).
    pub t_us: Micros,
    /// Layer.
    pub layer: Layer,
    /// What happened, typed; [`Entry::text`] renders it.
    pub what: Observed,
}

impl Entry {
    /// What happened, as text: rendered from [`Entry::what`] when asked (a world keeps
    /// no text of its own, and a fleet's muted timeline renders none).
    pub fn text(&self) -> String {
        self.what.to_string()
    }

    /// `{"t_us", "layer", "kind", "fields": {…}, "text"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "t_us": self.t_us,
            "layer": self.layer,
            "kind": self.what.kind(),
            "fields": self.what.fields(),
            "text": self.text(),
        })
    }
}

/// The whole timeline.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// Entries in order.
    pub entries: Vec<Entry>,
    /// Keep at most this many entries (0 = unlimited); later ones are counted only.
    pub cap: usize,
    /// Entries not kept because of the cap (or because the timeline is muted).
    pub dropped: u64,
    /// Keep no entry and render no text (a fleet reads the typed series instead):
    /// entries are only counted in `dropped`.
    pub muted: bool,
}

impl Timeline {
    /// Append an observation (its text is rendered only when asked: [`Entry::text`]).
    pub fn push(&mut self, t_us: Micros, layer: Layer, what: Observed) {
        self.push_entry(Entry { t_us, layer, what });
    }

    /// Append an entry (dropped, and counted, when muted or full).
    pub fn push_entry(&mut self, e: Entry) {
        if self.muted || (self.cap > 0 && self.entries.len() >= self.cap) {
            self.dropped += 1;
            return;
        }
        self.entries.push(e);
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
                e.what
            );
        }
        if self.dropped > 0 {
            let _ = writeln!(s, "({} more entries not kept)", self.dropped);
        }
        s
    }

    /// One JSON object per entry ([`Entry::to_json`]).
    pub fn to_json(&self) -> Value {
        Value::Array(self.entries.iter().map(Entry::to_json).collect())
    }
}
