//! The steps as values: what a parsed step says, with typed fields (counts as integers,
//! durations as [`Duration`], positions as `f64`, contacts by name, contact tables as
//! [`Contact`]s). Every bench matches on these enums without a wildcard, so a new step
//! does not compile until each bench handles it.
//!
//! The wording lives only in the catalogue ([`super::catalogue`]); [`super::parse`]
//! turns a step's text into one of these.

use std::time::Duration;

use phone::Contact;
use protocol::VibrationPattern;

/// A parsed step.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Configuration.
    Given(Given),
    /// Action.
    When(When),
    /// Check.
    Then(Then),
}

/// How a contact answers the phone's calls.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Answer {
    /// Never picks up.
    Never,
    /// The line is busy.
    Busy,
    /// Picks up after this long.
    After(Duration),
}

/// Given steps: configuration.
#[derive(Clone, Debug, PartialEq)]
pub enum Given {
    /// `a button paired with a phone`.
    Paired,
    /// `the phone has {n} emergency contacts` (generated, 1 to 5).
    ContactCount(usize),
    /// `the emergency contacts:` with a `name` and `phone` table.
    Contacts(Vec<Contact>),
    /// `the wearer's alert message is {text}`.
    AlertMessage(String),
    /// `the phone is at {lat}, {lon}`.
    PhoneAt {
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
    },
    /// `the phone has no location fix`.
    NoLocationFix,
    /// `the phone has no cellular network`.
    NoCellularNetwork,
    /// `contact {text} does not answer` / `is busy` / `answers after {n} s`.
    ContactAnswers {
        /// Contact name.
        contact: String,
        /// How.
        answer: Answer,
    },
    /// `the button battery is at {n}%` (state of charge, percent).
    ButtonBattery(f64),
    /// `the button is {n} m from the phone` (metres).
    ButtonDistance(f64),
    /// `the BLE link loses {n}% of packets` (percent).
    PacketLoss(f64),
    /// `the random seed is {n}`.
    Seed(u64),
}

/// When steps: actions.
#[derive(Clone, Debug, PartialEq)]
pub enum When {
    /// `the wearer presses / double-presses / triple-presses the button` (1 to 3).
    Presses(u32),
    /// `the wearer presses the button {n} times`: that many single presses, each
    /// after the previous one's click window closed (1 to 10,000).
    SeparatePresses(u32),
    /// `the wearer holds the button for {n} s`.
    Hold(Duration),
    /// `the wearer presses the button for {n} ms` (one raw press).
    RawPress(Duration),
    /// `the trace {text} is replayed` (the name as written).
    ReplayTrace(String),
    /// `{n} seconds / minutes / hours / days pass`.
    Pass(Duration),
    /// `the BLE link is lost for {n} s`.
    LinkLost(Duration),
    /// `Bluetooth is turned off / on on the phone`.
    Bluetooth {
        /// On.
        on: bool,
    },
    /// `the phone app restarts`.
    AppRestarts,
    /// `the phone app crashes after sending {n} SMS`.
    AppCrashesAfterSms(u32),
    /// `the phone app crashes while saving`.
    AppCrashesWhileSaving,
    /// `the button resets`.
    ButtonResets,
    /// `the phone regains cellular network`.
    NetworkBack,
    /// `the phone gets a location fix at {lat}, {lon}`.
    LocationFix {
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
    },
    /// `the wearer cancels on the phone`.
    CancelOnPhone,
    /// `an unpaired button sends a press`.
    StrangerPress,
    /// `an attacker replays the last alert event`.
    ReplayLastEvent,
    /// `an attacker sends a tampered alert event`.
    TamperedEvent,
    /// `an attacker connects to the button` (jamming the phone's connection).
    AttackerConnects,
    /// `the attacker disconnects`.
    AttackerDisconnects,
    /// `the attacker acknowledges every queued event`.
    AttackerAcksAll,
    /// `the attacker sets the button's clock to {n}` (ms since 1970 UTC).
    AttackerSetsClock(u64),
    /// `the attacker makes the button vibrate the {text} pattern` (`[{n} times]`).
    AttackerVibrates {
        /// The pattern.
        pattern: VibrationPattern,
        /// Writes, one vibration each.
        times: u32,
    },
    /// `the attacker clicks the button {n} times through the test service`.
    AttackerTestClicks(u32),
    /// `the button and the phone pair over the air while an attacker listens`.
    PairWhileListening,
    /// `the attacker forges a press with what it heard`.
    AttackerForgesPress,
    /// `the button is reset to its factory state` (its bond erased).
    FactoryReset,
    /// `the attacker tries to bond with the button` (no physical action).
    AttackerTriesToBond,
    /// `the wearer pairs the button with the phone` (the physical action, then pairing).
    WearerPairs,
    /// `an impostor takes over the button's address`.
    ImpostorTakesOver,
    /// `an attacker listens on the air` (the sniffer starts).
    AttackerListens,
    /// `the phone app is reinstalled` (durable state lost; the wearer pairs again).
    AppReinstalled,
    /// `a backup of the phone app is taken`.
    BackupTaken,
    /// `the phone app is restored from the backup`.
    BackupRestored,
}

/// A Then step: a state check, optionally with `within {n} s `.
#[derive(Clone, Debug, PartialEq)]
pub struct Then {
    /// The `within {n} s` prefix: let time run until the state holds, at most this long
    /// after the end of the last When step.
    pub within: Option<Duration>,
    /// What must hold.
    pub check: Check,
}

/// The states a Then step checks.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// `every contact receives an SMS`.
    EveryContactReceivesSms,
    /// `{n} contacts receive an SMS containing {text}`.
    ContactsReceiveSms {
        /// Exactly this many distinct contacts.
        count: usize,
        /// Case-sensitive substring.
        text: String,
    },
    /// `contact {text} receives an SMS containing {text}`.
    ContactReceivesSms {
        /// Contact name (or number).
        contact: String,
        /// Case-sensitive substring.
        text: String,
    },
    /// `every SMS contains the location {lat}, {lon}`.
    EverySmsHasLocation {
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
    },
    /// `the phone calls every contact`.
    CallsEveryContact,
    /// `the phone calls {text}`.
    Calls(String),
    /// `contact {text} has been called {n} times`.
    CalledTimes {
        /// Contact name (or number).
        contact: String,
        /// Dialled attempts.
        times: usize,
    },
    /// `the siren is on` / `off`.
    Siren {
        /// On.
        on: bool,
    },
    /// `an audio recording is in progress`.
    RecordingInProgress,
    /// `an audio recording of at least {n} s is stored`.
    RecordingStored(Duration),
    /// `a fall is reported to the phone`.
    FallReported,
    /// `no SMS is sent`.
    NoSms,
    /// `no call is placed`.
    NoCall,
    /// `no alert is raised`.
    NoAlert,
    /// `exactly {n} SMS are sent`.
    ExactlySms(usize),
    /// `the button vibrates` (any pattern) / `the button vibrates the {text} pattern`.
    Vibrates(Option<VibrationPattern>),
    /// `the phone warns the wearer that the button battery is low`.
    WarnsBatteryLow,
    /// `the phone has warned the wearer {n} times that the button battery is low`.
    BatteryWarnings(usize),
    /// `the phone warns the wearer that the button is disconnected`.
    WarnsDisconnected,
    /// `the phone warns the wearer that the button dropped {n} events`.
    WarnsDropped(u32),
    /// `the phone has rejected {n} events`.
    RejectedEvents(u32),
    /// `the button has rejected {n} commands`.
    RejectedCommands(u32),
    /// `the button has vibrated {n} times` (any pattern).
    VibratedTimes(usize),
    /// `the attacker cannot tell what the wearer did`.
    AttackerLearnsNothing,
    /// `the button has advertised at least {n} different addresses`.
    AdvertisedAddresses(usize),
    /// `the phone has not warned the wearer that the button battery is low`.
    NoBatteryWarning,
}
