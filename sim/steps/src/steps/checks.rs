//! Then steps: state checks, each also with the prefix `within {n} s `. Counts are
//! totals since the scenario started; an SMS is *received* once the simulated network
//! delivered it.

use phone::Warning;
use protocol::VibrationPattern;

use super::{AlarmWorld, Args, Kind, StepDef};
use crate::simulation::{fmt_s, Simulation};

macro_rules! then {
    ($pat:expr, $ex:expr, $f:expr) => {
        StepDef {
            kind: Kind::Then,
            pattern: $pat,
            example: $ex,
            check: true,
            domain: "checks",
            run: $f,
        }
    };
}

/// The Then steps.
pub const STEPS: &[StepDef] = &[
    then!(
        "every contact receives an SMS",
        "every contact receives an SMS",
        |w, a| w.check(a.within, &every_contact_sms)
    ),
    then!(
        "{n} contacts receive an SMS containing {text}",
        "2 contacts receive an SMS containing \"I need help\"",
        n_contacts_sms
    ),
    then!(
        "contact {text} receives an SMS containing {text}",
        "contact \"Alice\" receives an SMS containing \"Fall detected\"",
        contact_sms
    ),
    then!(
        "every SMS contains the location {n}, {n}",
        "every SMS contains the location 48.8566, 2.3522",
        every_sms_location
    ),
    then!(
        "the phone calls every contact",
        "the phone calls every contact",
        |w, a| w.check(a.within, &calls_every)
    ),
    then!(
        "the phone calls {text}",
        "the phone calls \"Contact 2\"",
        calls_contact
    ),
    then!(
        "contact {text} has been called {n} times",
        "contact \"Contact 1\" has been called 3 times",
        called_n
    ),
    then!("the siren is on", "the siren is on", |w, a| w
        .check(a.within, &|s| siren(s, true))),
    then!("the siren is off", "the siren is off", |w, a| w
        .check(a.within, &|s| siren(s, false))),
    then!(
        "an audio recording is in progress",
        "an audio recording is in progress",
        |w, a| w.check(a.within, &recording_now)
    ),
    then!(
        "an audio recording of at least {n} s is stored",
        "an audio recording of at least 10 s is stored",
        recording_stored
    ),
    then!(
        "a fall is reported to the phone",
        "a fall is reported to the phone",
        |w, a| w.check(a.within, &fall_reported)
    ),
    then!("no SMS is sent", "no SMS is sent", |w, a| w
        .check(a.within, &|s| exactly_sms(s, 0))),
    then!("no call is placed", "no call is placed", |w, a| w
        .check(a.within, &no_call)),
    then!("no alert is raised", "no alert is raised", |w, a| w
        .check(a.within, &no_alert)),
    then!(
        "exactly {n} SMS are sent",
        "exactly 5 SMS are sent",
        |w, a| {
            let n = a.int(0, 0, 1_000_000)? as usize;
            w.check(a.within, &|s| exactly_sms(s, n))
        }
    ),
    then!("the button vibrates", "the button vibrates", |w, a| w
        .check(a.within, &|s| vibrates(s, None))),
    then!(
        "the button vibrates the {text} pattern",
        "the button vibrates the \"sent\" pattern",
        vibrates_pattern
    ),
    then!(
        "the phone warns the wearer that the button battery is low",
        "the phone warns the wearer that the button battery is low",
        |w, a| {
            w.check(a.within, &|s| {
                warned(s, "the button battery is low", |x| {
                    matches!(x, Warning::BatteryLow(_))
                })
            })
        }
    ),
    then!(
        "the phone warns the wearer that the button is disconnected",
        "the phone warns the wearer that the button is disconnected",
        |w, a| {
            w.check(a.within, &|s| {
                warned(s, "the button is disconnected", |x| {
                    matches!(x, Warning::ButtonDisconnected)
                })
            })
        }
    ),
    then!(
        "the phone has rejected {n} events",
        "the phone has rejected 1 events",
        |w, a| {
            let n = a.int(0, 0, 1_000_000)? as u32;
            w.check(a.within, &|s| {
                let got = s.durable().rejected;
                (got == n).then_some(()).ok_or_else(|| {
                    format!("expected {n} rejected events, the phone rejected {got}")
                })
            })
        }
    ),
];

/// The number of a contact given by name (or by number).
fn number_of(s: &Simulation, who: &str) -> Result<String, String> {
    s.app_config()
        .contacts
        .iter()
        .find(|c| c.name == who || c.phone == who)
        .map(|c| c.phone.clone())
        .ok_or_else(|| {
            let names: Vec<&str> = s
                .app_config()
                .contacts
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            format!("no contact named {who:?} (contacts: {names:?})")
        })
}

/// One indented line per SMS: when, to whom, what.
fn sms_lines(sms: &[crate::platform::Sms]) -> String {
    let lines: Vec<String> = sms
        .iter()
        .map(|m| format!("  at {} s to {}: {}", fmt_s(m.t_us), m.to, m.text))
        .collect();
    lines.join("\n")
}

fn received_summary(s: &Simulation) -> String {
    if s.platform.sms_delivered.is_empty() {
        return "no SMS was delivered".into();
    }
    format!("SMS delivered:\n{}", sms_lines(&s.platform.sms_delivered))
}

fn every_contact_sms(s: &Simulation) -> Result<(), String> {
    let missing: Vec<&str> = s
        .app_config()
        .contacts
        .iter()
        .filter(|c| !s.platform.sms_delivered.iter().any(|m| m.to == c.phone))
        .map(|c| c.name.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "no SMS received by {missing:?}; {}",
            received_summary(s)
        ))
    }
}

fn n_contacts_sms(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    let n = a.int(0, 0, 5)? as usize;
    let text = a.text(1)?.to_string();
    w.check(a.within, &|s| {
        let mut who: Vec<&str> = s
            .platform
            .sms_delivered
            .iter()
            .filter(|m| m.text.contains(&text))
            .map(|m| m.to.as_str())
            .collect();
        who.sort();
        who.dedup();
        if who.len() == n {
            Ok(())
        } else {
            Err(format!(
                "expected {n} contacts to receive an SMS containing {text:?}, {} did {who:?}; {}",
                who.len(),
                received_summary(s)
            ))
        }
    })
}

fn contact_sms(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    let who = a.text(0)?.to_string();
    let text = a.text(1)?.to_string();
    w.check(a.within, &|s| {
        let number = number_of(s, &who)?;
        if s.platform
            .sms_delivered
            .iter()
            .any(|m| m.to == number && m.text.contains(&text))
        {
            Ok(())
        } else {
            Err(format!(
                "{who} received no SMS containing {text:?}; {}",
                received_summary(s)
            ))
        }
    })
}

fn every_sms_location(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    let (lat, lon) = (format!("{:.6}", a.num(0)?), format!("{:.6}", a.num(1)?));
    w.check(a.within, &|s| {
        if s.platform.sms_sent.is_empty() {
            return Err("no SMS has been sent".into());
        }
        match s
            .platform
            .sms_sent
            .iter()
            .find(|m| !(m.text.contains(&lat) && m.text.contains(&lon)))
        {
            None => Ok(()),
            Some(m) => Err(format!("an SMS to {} lacks {lat}, {lon}: {}", m.to, m.text)),
        }
    })
}

fn calls_to(s: &Simulation, number: &str) -> usize {
    s.platform.calls.iter().filter(|c| c.to == number).count()
}

fn calls_every(s: &Simulation) -> Result<(), String> {
    let missing: Vec<&str> = s
        .app_config()
        .contacts
        .iter()
        .filter(|c| calls_to(s, &c.phone) == 0)
        .map(|c| c.name.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "not called: {missing:?} ({} calls placed)",
            s.platform.calls.len()
        ))
    }
}

fn calls_contact(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    let who = a.text(0)?.to_string();
    w.check(a.within, &|s| {
        let n = number_of(s, &who)?;
        (calls_to(s, &n) > 0)
            .then_some(())
            .ok_or_else(|| format!("{who} has not been called"))
    })
}

fn called_n(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    let who = a.text(0)?.to_string();
    let n = a.int(1, 0, 1000)? as usize;
    w.check(a.within, &|s| {
        let got = calls_to(s, &number_of(s, &who)?);
        (got == n)
            .then_some(())
            .ok_or_else(|| format!("{who} has been called {got} times, expected {n}"))
    })
}

fn siren(s: &Simulation, on: bool) -> Result<(), String> {
    (s.platform.siren_on == on).then_some(()).ok_or_else(|| {
        format!(
            "the siren is {}",
            if s.platform.siren_on { "on" } else { "off" }
        )
    })
}

fn recording_now(s: &Simulation) -> Result<(), String> {
    s.platform
        .recordings
        .iter()
        .any(|r| r.end_us.is_none())
        .then_some(())
        .ok_or_else(|| "no audio recording is in progress".into())
}

fn recording_stored(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    let min_ms = (a.num(0)? * 1000.0).round() as u64;
    w.check(a.within, &|s| {
        let d = s.durable();
        let best = d.recordings.iter().map(|r| r.end_ms - r.start_ms).max();
        match best {
            Some(ms) if ms >= min_ms && d.recordings.iter().any(|r| r.sha256.len() == 64) => Ok(()),
            Some(ms) => Err(format!(
                "the longest stored recording lasts {} s",
                fmt_s(ms * 1000)
            )),
            None => Err("no audio recording is stored".into()),
        }
    })
}

fn fall_reported(s: &Simulation) -> Result<(), String> {
    s.durable()
        .events
        .values()
        .any(|e| e.kind == "fall")
        .then_some(())
        .ok_or_else(|| "no fall event reached the phone".into())
}

fn exactly_sms(s: &Simulation, n: usize) -> Result<(), String> {
    let got = s.platform.sms_sent.len();
    (got == n).then_some(()).ok_or_else(|| {
        format!(
            "expected {n} SMS sent, {got} were:\n{}",
            sms_lines(&s.platform.sms_sent)
        )
    })
}

fn no_call(s: &Simulation) -> Result<(), String> {
    s.platform
        .calls
        .is_empty()
        .then_some(())
        .ok_or_else(|| format!("{} calls were placed", s.platform.calls.len()))
}

fn no_alert(s: &Simulation) -> Result<(), String> {
    let p = &s.platform;
    let mut raised = Vec::new();
    if !p.sms_sent.is_empty() || p.sms_refused > 0 {
        raised.push(format!("{} SMS", p.sms_sent.len() + p.sms_refused as usize));
    }
    if !p.calls.is_empty() {
        raised.push(format!("{} calls", p.calls.len()));
    }
    if p.siren_ever {
        raised.push("the siren".into());
    }
    if !p.recordings.is_empty() {
        raised.push("a recording".into());
    }
    if p.countdowns_started > 0 {
        raised.push("a fall countdown".into());
    }
    raised
        .is_empty()
        .then_some(())
        .ok_or_else(|| format!("an alert was raised: {}", raised.join(", ")))
}

fn vibrates(s: &Simulation, p: Option<VibrationPattern>) -> Result<(), String> {
    let ok = s.vibrations.iter().any(|(_, v)| p.is_none_or(|p| p == *v));
    ok.then_some(()).ok_or_else(|| {
        let seen: Vec<&str> = s.vibrations.iter().map(|(_, v)| v.name()).collect();
        format!(
            "the button has not vibrated{} (patterns played: {seen:?})",
            p.map_or(String::new(), |p| format!(" the {:?} pattern", p.name()))
        )
    })
}

fn vibrates_pattern(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    let name = a.text(0)?;
    let p = VibrationPattern::from_name(name).ok_or_else(|| {
        format!(
            "unknown vibration pattern {name:?}: expected \"sent\", \"failed\" or \"countdown\""
        )
    })?;
    w.check(a.within, &|s| vibrates(s, Some(p)))
}

fn warned(s: &Simulation, what: &str, f: fn(&Warning) -> bool) -> Result<(), String> {
    s.platform
        .warnings
        .iter()
        .any(|(_, x)| f(x))
        .then_some(())
        .ok_or_else(|| format!("the phone has not warned that {what}"))
}
