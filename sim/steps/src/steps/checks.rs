//! Then steps: state checks, each also with the prefix `within {n} s `. Counts are
//! totals since the scenario started; an SMS is *received* once the network delivered
//! it. The checks are written once, over the [`Observation`] every bench provides.

use protocol::VibrationPattern;

use super::bench::{Bench, StepResult};
use super::observe::{Observation, Sms};
use super::typed::{Check, Then};
use super::{Args, StepDef};
use crate::simulation::fmt_s;
use crate::RunError;
use sim_world::impostor::Learned;

/// The Then steps.
pub const STEPS: &[StepDef] = &[
    step!(
        Then,
        "checks",
        "every contact receives an SMS",
        "every contact receives an SMS",
        |_| ok(Check::EveryContactReceivesSms)
    ),
    step!(
        Then,
        "checks",
        "{n} contacts receive an SMS containing {text}",
        "2 contacts receive an SMS containing \"I need help\"",
        |a: &Args| ok(Check::ContactsReceiveSms {
            count: a.int(0, 0, 5)? as usize,
            text: a.text(1)?.to_string(),
        })
    ),
    step!(
        Then,
        "checks",
        "contact {text} receives an SMS containing {text}",
        "contact \"Alice\" receives an SMS containing \"Fall detected\"",
        |a: &Args| ok(Check::ContactReceivesSms {
            contact: a.text(0)?.to_string(),
            text: a.text(1)?.to_string(),
        })
    ),
    step!(
        Then,
        "checks",
        "every SMS contains the location {n}, {n}",
        "every SMS contains the location 48.8566, 2.3522",
        |a: &Args| ok(Check::EverySmsHasLocation {
            lat: a.num(0)?,
            lon: a.num(1)?,
        })
    ),
    step!(
        Then,
        "checks",
        "the phone calls every contact",
        "the phone calls every contact",
        |_| ok(Check::CallsEveryContact)
    ),
    step!(
        Then,
        "checks",
        "the phone calls {text}",
        "the phone calls \"Contact 2\"",
        |a: &Args| ok(Check::Calls(a.text(0)?.to_string()))
    ),
    step!(
        Then,
        "checks",
        "contact {text} has been called {n} times",
        "contact \"Contact 1\" has been called 3 times",
        |a: &Args| ok(Check::CalledTimes {
            contact: a.text(0)?.to_string(),
            times: a.int(1, 0, 1000)? as usize,
        })
    ),
    step!(
        Then,
        "checks",
        "the siren is on",
        "the siren is on",
        |_| ok(Check::Siren { on: true })
    ),
    step!(
        Then,
        "checks",
        "the siren is off",
        "the siren is off",
        |_| ok(Check::Siren { on: false })
    ),
    step!(
        Then,
        "checks",
        "an audio recording is in progress",
        "an audio recording is in progress",
        |_| ok(Check::RecordingInProgress)
    ),
    step!(
        Then,
        "checks",
        "an audio recording of at least {n} s is stored",
        "an audio recording of at least 10 s is stored",
        |a: &Args| ok(Check::RecordingStored(a.duration(
            0,
            1.0,
            f64::MAX,
            "a length of at least 0 s"
        )?))
    ),
    step!(
        Then,
        "checks",
        "a fall is reported to the phone",
        "a fall is reported to the phone",
        |_| ok(Check::FallReported)
    ),
    step!(Then, "checks", "no SMS is sent", "no SMS is sent", |_| ok(
        Check::NoSms
    )),
    step!(
        Then,
        "checks",
        "no call is placed",
        "no call is placed",
        |_| ok(Check::NoCall)
    ),
    step!(
        Then,
        "checks",
        "no alert is raised",
        "no alert is raised",
        |_| ok(Check::NoAlert)
    ),
    step!(
        Then,
        "checks",
        "exactly {n} SMS are sent",
        "exactly 5 SMS are sent",
        |a: &Args| ok(Check::ExactlySms(a.int(0, 0, 1_000_000)? as usize))
    ),
    step!(
        Then,
        "checks",
        "the button vibrates",
        "the button vibrates",
        |_| ok(Check::Vibrates(None))
    ),
    step!(
        Then,
        "checks",
        "the button vibrates the {text} pattern",
        "the button vibrates the \"sent\" pattern",
        |a: &Args| ok(Check::Vibrates(Some(pattern(a.text(0)?)?)))
    ),
    step!(
        Then,
        "checks",
        "the phone warns the wearer that the button battery is low",
        "the phone warns the wearer that the button battery is low",
        |_| ok(Check::WarnsBatteryLow)
    ),
    step!(
        Then,
        "checks",
        "the phone has warned the wearer {n} times that the button battery is low",
        "the phone has warned the wearer 2 times that the button battery is low",
        |a: &Args| ok(Check::BatteryWarnings(a.int(0, 0, 1_000_000)? as usize))
    ),
    step!(
        Then,
        "checks",
        "the phone warns the wearer that the button is disconnected",
        "the phone warns the wearer that the button is disconnected",
        |_| ok(Check::WarnsDisconnected)
    ),
    step!(
        Then,
        "checks",
        "the phone warns the wearer that the button dropped {n} events",
        "the phone warns the wearer that the button dropped 6 events",
        |a: &Args| ok(Check::WarnsDropped(a.int(0, 1, u32::MAX.into())? as u32))
    ),
    step!(
        Then,
        "checks",
        "the phone has rejected {n} events",
        "the phone has rejected 1 events",
        |a: &Args| ok(Check::RejectedEvents(a.int(0, 0, 1_000_000)? as u32))
    ),
];

fn ok(c: Check) -> Result<Check, String> {
    Ok(c)
}

fn pattern(name: &str) -> Result<VibrationPattern, String> {
    VibrationPattern::from_name(name).ok_or_else(|| {
        format!(
            "unknown vibration pattern {name:?}: expected \"sent\", \"failed\" or \"countdown\""
        )
    })
}

/// Check a state on a bench: now, or — with `within` — letting time run until it holds,
/// at most that long after the end of the last When step.
pub(crate) fn check<B: Bench + ?Sized>(bench: &mut B, then: &Then) -> StepResult {
    if let Some(w) = then.within {
        bench.wait_until(w, &|o| evaluate(&then.check, o).is_ok())?;
    }
    let now = bench.observe()?;
    evaluate(&then.check, &now).map_err(|e| {
        RunError::StepFailed(match then.within {
            Some(w) => format!(
                "{e} (waited until {} s, {} s after the last action)",
                fmt_s(u64::try_from(bench.elapsed().as_micros()).unwrap_or(u64::MAX)),
                w.as_micros() as f64 / 1e6
            ),
            None => e,
        })
    })
}

/// `the phone has warned the wearer {n} times that the button battery is low`.
fn battery_warnings(o: &Observation, n: usize) -> Result<(), String> {
    let got = o
        .warnings
        .iter()
        .filter(|w| matches!(w, phone::Warning::BatteryLow(_)))
        .count();
    holds(got == n, || {
        format!("expected {n} low-battery warnings, the phone showed {got}")
    })
}

/// `the phone warns the wearer that the button dropped {n} events`: its latest such
/// warning gives that count.
fn warns_dropped(o: &Observation, n: u32) -> Result<(), String> {
    let last = o.warnings.iter().rev().find_map(|w| match w {
        phone::Warning::EventsDropped(k) => Some(*k),
        _ => None,
    });
    holds(last == Some(n), || match last {
        Some(k) => format!("the phone warned that the button dropped {k} events, not {n}"),
        None => "the phone never warned that the button dropped events".into(),
    })
}

/// Whether a state holds in an observation (why not, when it does not).
pub(crate) fn evaluate(c: &Check, o: &Observation) -> Result<(), String> {
    match c {
        Check::EveryContactReceivesSms => every_contact_sms(o),
        Check::ContactsReceiveSms { count, text } => n_contacts_sms(o, *count, text),
        Check::ContactReceivesSms { contact, text } => contact_sms(o, contact, text),
        Check::EverySmsHasLocation { lat, lon } => every_sms_location(o, *lat, *lon),
        Check::CallsEveryContact => calls_every(o),
        Check::Calls(who) => holds(calls_to(o, &number_of(o, who)?) > 0, || {
            format!("{who} has not been called")
        }),
        Check::CalledTimes { contact, times } => {
            let got = calls_to(o, &number_of(o, contact)?);
            let want = *times;
            holds(got == want, || {
                format!("{contact} has been called {got} times, expected {want}")
            })
        }
        Check::Siren { on } => holds(o.siren_on == *on, || {
            format!("the siren is {}", if o.siren_on { "on" } else { "off" })
        }),
        Check::RecordingInProgress => holds(o.recording_now, || {
            "no audio recording is in progress".into()
        }),
        Check::RecordingStored(d) => recording_stored(o, d.as_millis() as u64),
        Check::FallReported => holds(o.falls_reported > 0, || {
            "no fall event reached the phone".into()
        }),
        Check::NoSms => exactly_sms(o, 0),
        Check::NoCall => holds(o.calls.is_empty(), || {
            format!("{} calls were placed", o.calls.len())
        }),
        Check::NoAlert => no_alert(o),
        Check::ExactlySms(n) => exactly_sms(o, *n),
        Check::Vibrates(p) => vibrates(o, *p),
        Check::WarnsBatteryLow => warned(o, "the button battery is low", |w| {
            matches!(w, phone::Warning::BatteryLow(_))
        }),
        Check::BatteryWarnings(n) => battery_warnings(o, *n),
        Check::WarnsDisconnected => warned(o, "the button is disconnected", |w| {
            matches!(w, phone::Warning::ButtonDisconnected)
        }),
        Check::WarnsDropped(n) => warns_dropped(o, *n),
        Check::RejectedEvents(n) => {
            let got = o.rejected_events;
            holds(got == *n, || {
                format!("expected {n} rejected events, the phone rejected {got}")
            })
        }
        Check::RejectedCommands(n) => {
            let got = o.rejected_commands;
            holds(got == *n, || {
                format!("expected {n} rejected commands, the button rejected {got}")
            })
        }
        Check::VibratedTimes(n) => {
            let got = o.vibrations.len();
            holds(got == *n, || {
                format!("expected {n} vibrations, the button vibrated {got} times")
            })
        }
        Check::AttackerLearnsNothing => learns_nothing(o),
        Check::AdvertisedAddresses(n) => {
            let got = listened(o)?.addresses;
            holds(got >= *n, || {
                format!("the button advertised {got} different addresses, expected at least {n}")
            })
        }
        Check::NoBatteryWarning => holds(
            !o.warnings
                .iter()
                .any(|w| matches!(w, phone::Warning::BatteryLow(_))),
            || "the phone warned the wearer that the button battery is low".into(),
        ),
    }
}

/// What the listener learned, or why there is nothing to check.
fn listened(o: &Observation) -> Result<&Learned, String> {
    o.learned.as_ref().ok_or_else(|| {
        "nobody listened on the air (add \"When an attacker listens on the air\")".into()
    })
}

/// The sniffer heard something, and none of it shows an event in clear.
fn learns_nothing(o: &Observation) -> Result<(), String> {
    let l = listened(o)?;
    if l.pdus == 0 {
        return Err("the listener recorded nothing: nothing to judge".into());
    }
    holds(l.in_clear.is_empty(), || {
        format!(
            "the listener read what the wearer did in {} of {} PDUs: {}",
            l.in_clear.len(),
            l.pdus,
            l.in_clear.join("; ")
        )
    })
}

fn holds(ok: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(why())
    }
}

/// The number of a contact given by name (or by number).
fn number_of(o: &Observation, who: &str) -> Result<String, String> {
    o.contacts
        .iter()
        .find(|c| c.name == who || c.phone == who)
        .map(|c| c.phone.clone())
        .ok_or_else(|| {
            let names: Vec<&str> = o.contacts.iter().map(|c| c.name.as_str()).collect();
            format!("no contact named {who:?} (contacts: {names:?})")
        })
}

/// One indented line per SMS: when, to whom, what.
fn sms_lines(sms: &[Sms]) -> String {
    let lines: Vec<String> = sms
        .iter()
        .map(|m| format!("  at {} s to {}: {}", fmt_s(m.at_us), m.to, m.text))
        .collect();
    lines.join("\n")
}

fn received_summary(o: &Observation) -> String {
    if o.sms_received.is_empty() {
        return "no SMS was delivered".into();
    }
    format!("SMS delivered:\n{}", sms_lines(&o.sms_received))
}

fn every_contact_sms(o: &Observation) -> Result<(), String> {
    let missing: Vec<&str> = o
        .contacts
        .iter()
        .filter(|c| !o.sms_received.iter().any(|m| m.to == c.phone))
        .map(|c| c.name.as_str())
        .collect();
    holds(missing.is_empty(), || {
        format!("no SMS received by {missing:?}; {}", received_summary(o))
    })
}

fn n_contacts_sms(o: &Observation, n: usize, text: &str) -> Result<(), String> {
    let mut who: Vec<&str> = o
        .sms_received
        .iter()
        .filter(|m| m.text.contains(text))
        .map(|m| m.to.as_str())
        .collect();
    who.sort();
    who.dedup();
    holds(who.len() == n, || {
        format!(
            "expected {n} contacts to receive an SMS containing {text:?}, {} did {who:?}; {}",
            who.len(),
            received_summary(o)
        )
    })
}

fn contact_sms(o: &Observation, who: &str, text: &str) -> Result<(), String> {
    let number = number_of(o, who)?;
    holds(
        o.sms_received
            .iter()
            .any(|m| m.to == number && m.text.contains(text)),
        || {
            format!(
                "{who} received no SMS containing {text:?}; {}",
                received_summary(o)
            )
        },
    )
}

fn every_sms_location(o: &Observation, lat: f64, lon: f64) -> Result<(), String> {
    let (lat, lon) = (format!("{lat:.6}"), format!("{lon:.6}"));
    if o.sms_sent.is_empty() {
        return Err("no SMS has been sent".into());
    }
    match o
        .sms_sent
        .iter()
        .find(|m| !(m.text.contains(&lat) && m.text.contains(&lon)))
    {
        None => Ok(()),
        Some(m) => Err(format!("an SMS to {} lacks {lat}, {lon}: {}", m.to, m.text)),
    }
}

fn calls_to(o: &Observation, number: &str) -> usize {
    o.calls.iter().filter(|c| c.to == number).count()
}

fn calls_every(o: &Observation) -> Result<(), String> {
    let missing: Vec<&str> = o
        .contacts
        .iter()
        .filter(|c| calls_to(o, &c.phone) == 0)
        .map(|c| c.name.as_str())
        .collect();
    holds(missing.is_empty(), || {
        format!("not called: {missing:?} ({} calls placed)", o.calls.len())
    })
}

fn recording_stored(o: &Observation, min_ms: u64) -> Result<(), String> {
    let best = o.stored_recordings.iter().map(|r| r.length_ms).max();
    match best {
        Some(ms) if ms >= min_ms && o.stored_recordings.iter().any(|r| r.hashed) => Ok(()),
        Some(ms) => Err(format!(
            "the longest stored recording lasts {} s",
            fmt_s(ms * 1000)
        )),
        None => Err("no audio recording is stored".into()),
    }
}

fn exactly_sms(o: &Observation, n: usize) -> Result<(), String> {
    let got = o.sms_sent.len();
    holds(got == n, || {
        format!(
            "expected {n} SMS sent, {got} were:\n{}",
            sms_lines(&o.sms_sent)
        )
    })
}

/// SPEC §4: no SMS sent (nor refused), no call, no siren, no recording and no fall
/// countdown; warnings shown to the wearer alone do not count.
fn no_alert(o: &Observation) -> Result<(), String> {
    let mut raised = Vec::new();
    if !o.sms_sent.is_empty() || o.sms_refused > 0 {
        raised.push(format!("{} SMS", o.sms_sent.len() + o.sms_refused as usize));
    }
    if !o.calls.is_empty() {
        raised.push(format!("{} calls", o.calls.len()));
    }
    if o.siren_ever {
        raised.push("the siren".into());
    }
    if o.recordings_started > 0 {
        raised.push("a recording".into());
    }
    if o.countdowns_started > 0 {
        raised.push("a fall countdown".into());
    }
    holds(raised.is_empty(), || {
        format!("an alert was raised: {}", raised.join(", "))
    })
}

fn vibrates(o: &Observation, p: Option<VibrationPattern>) -> Result<(), String> {
    let ok = o.vibrations.iter().any(|v| p.is_none_or(|p| p == *v));
    holds(ok, || {
        let seen: Vec<&str> = o.vibrations.iter().map(|v| v.name()).collect();
        format!(
            "the button has not vibrated{} (patterns played: {seen:?})",
            p.map_or(String::new(), |p| format!(" the {:?} pattern", p.name()))
        )
    })
}

fn warned(o: &Observation, what: &str, f: fn(&phone::Warning) -> bool) -> Result<(), String> {
    holds(o.warnings.iter().any(f), || {
        format!("the phone has not warned that {what}")
    })
}
