//! Structured series of a run, for reports and plots: link state, battery level, marked
//! moments, queued and received events. Every entry comes from a typed happening (a
//! link change, a firmware log event, a command of the app, a harness fault), never from
//! the timeline's text. When asked, the fall detector's own signals and decisions
//! ([`DetectorLog`], `fall_probe.rs`) and the trace's raw accelerometer samples.

use protocol::EventKind;

use crate::fall_probe::DetectorLog;
use crate::sched::Micros;

/// What a marker marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MarkerKind {
    /// The button classified a gesture (detail: the event kind).
    Gesture,
    /// The fall detector fired (detail: the peak).
    Fall,
    /// The app sent an SMS (detail: the number).
    Sms,
    /// The app dialled (detail: the number).
    Call,
    /// The siren went on or off.
    Siren,
    /// A recording started or stopped.
    Recording,
    /// A fall countdown started.
    Countdown,
    /// The app warned the wearer.
    Warning,
    /// The app rejected an event frame.
    Rejected,
    /// The harness injected a fault.
    Fault,
}

impl MarkerKind {
    /// Every kind, in display order.
    pub const ALL: [MarkerKind; 10] = [
        MarkerKind::Gesture,
        MarkerKind::Fall,
        MarkerKind::Sms,
        MarkerKind::Call,
        MarkerKind::Siren,
        MarkerKind::Recording,
        MarkerKind::Countdown,
        MarkerKind::Warning,
        MarkerKind::Rejected,
        MarkerKind::Fault,
    ];

    /// Lower-case name (as reports print it).
    pub const fn name(self) -> &'static str {
        match self {
            MarkerKind::Gesture => "gesture",
            MarkerKind::Fall => "fall",
            MarkerKind::Sms => "sms",
            MarkerKind::Call => "call",
            MarkerKind::Siren => "siren",
            MarkerKind::Recording => "recording",
            MarkerKind::Countdown => "countdown",
            MarkerKind::Warning => "warning",
            MarkerKind::Rejected => "rejected",
            MarkerKind::Fault => "fault",
        }
    }
}

impl std::fmt::Display for MarkerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Structured series of a run, for reports and plots.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// Link state changes: (time, connected).
    pub link: Vec<(Micros, bool)>,
    /// Battery level reports: (time, percent).
    pub battery: Vec<(Micros, u8)>,
    /// Marked moments: (time, kind, detail).
    pub markers: Vec<(Micros, MarkerKind, String)>,
    /// Events the button queued: (time, sequence number, kind).
    pub queued: Vec<(Micros, u32, EventKind)>,
    /// Events the phone recorded for the first time: (time, sequence number).
    pub received: Vec<(Micros, u32)>,
    /// The wearer's contact edges on the button, from the hand or a trace: (time, down).
    pub edges: Vec<(Micros, bool)>,
    /// The replayed trace's own accelerometer samples (mg, as read, before the device's
    /// front end), when asked for ([`Simulation::record_accel`](crate::simulation::Simulation::record_accel)).
    pub raw_accel: Option<Vec<(Micros, [i16; 3])>>,
    /// The fall detector's signals and judgements, when asked for
    /// ([`Simulation::explain_falls`](crate::simulation::Simulation::explain_falls)).
    pub detector: Option<DetectorLog>,
}

impl Series {
    /// Move `other`'s entries to the end of this series.
    pub(crate) fn append(&mut self, other: &mut Series) {
        fn take<T>(to: &mut Vec<T>, from: &mut Vec<T>) {
            if !from.is_empty() {
                to.append(from);
                crate::shared::keep_little(from);
            }
        }
        take(&mut self.link, &mut other.link);
        take(&mut self.battery, &mut other.battery);
        take(&mut self.markers, &mut other.markers);
        take(&mut self.queued, &mut other.queued);
        take(&mut self.received, &mut other.received);
    }
}
