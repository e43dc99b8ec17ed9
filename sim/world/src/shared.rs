//! What the world's parts share: the virtual clock, the one event queue, and the
//! observations not yet handed to the [`crate::simulation::Simulation`]'s timeline and
//! series.
//!
//! The air ([`crate::air::Air`]) and the platform ([`crate::platform::Platform`]) are the
//! app's two ports; both schedule into the same queue and observe into the same journal,
//! through one `Rc<RefCell<Shared>>`, so the order of scheduled events (time, then
//! insertion) and of timeline lines is the order in which things happen, whichever part
//! makes them happen. No borrow of it is ever held across a call into another part.

use std::cell::RefCell;
use std::rc::Rc;

use phone::gatt::GattEvent;
use protocol::VibrationPattern;

use crate::air::AirEv;
use crate::observed::Observed;
use crate::platform::PlatformEv;
use crate::sched::{Micros, Scheduler};
use crate::series::{MarkerKind, Series};
use crate::timeline::{Layer, Timeline};

/// Everything the world schedules.
#[derive(Clone, Debug)]
pub(crate) enum Ev {
    /// A raw contact edge of the wearer's hand.
    Edge { down: bool },
    /// Something of the air (link, delivery, boot).
    Air(AirEv),
    /// Something of the platform (SMS, calls, location, recorder).
    Platform(PlatformEv),
    /// The app starts again after a restart.
    PhoneStart,
    /// A GATT event given to the phone as if from the air (attacks, strangers).
    Inject(GattEvent),
    /// The next record of the replayed trace.
    TraceNext,
    /// The sensor keeps reading `mg` after a trace ended, `left` more samples.
    AccelHold { mg: [i16; 3], left: u32 },
}

/// The shared clock, queue and journal.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Virtual time now.
    pub now: Micros,
    /// The one event queue.
    pub sched: Scheduler<Ev>,
    /// Timeline lines not yet flushed to the simulation's timeline.
    pub timeline: Timeline,
    /// Series entries not yet flushed.
    pub series: Series,
    /// Vibrations not yet flushed.
    pub vibrations: Vec<(Micros, VibrationPattern)>,
}

/// Entries a journal keeps room for between steps: enough for a step's usual few
/// without allocating again, little for thousands of worlds kept side by side.
const JOURNAL_ROOM: usize = 4;

/// Give back a drained journal's room beyond [`JOURNAL_ROOM`] (the timeline's and
/// the series' parts of [`Shared`], at the end of every step).
pub(crate) fn keep_little<T>(journal: &mut Vec<T>) {
    if journal.capacity() > JOURNAL_ROOM {
        journal.shrink_to(JOURNAL_ROOM);
    }
}

/// The handle every part holds.
pub(crate) type Core = Rc<RefCell<Shared>>;

impl Shared {
    /// Schedule `ev` at `at`.
    pub fn at(&mut self, at: Micros, ev: Ev) {
        self.sched.at(at, ev);
    }

    /// A timeline line of free text, now.
    pub fn note(&mut self, layer: Layer, text: String) {
        self.observe(layer, Observed::Note(text));
    }

    /// A typed observation, now.
    pub fn observe(&mut self, layer: Layer, what: Observed) {
        self.timeline.push(self.now, layer, what);
    }

    /// A marker, now.
    pub fn mark(&mut self, kind: MarkerKind, detail: String) {
        self.series.markers.push((self.now, kind, detail));
    }
}
