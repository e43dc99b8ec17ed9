//! Given steps: configuration only, in any order, before the simulation starts at the
//! first When or Then step. On the simulator a Given written after that applies to the
//! running world where that makes sense (network, position, loss, distance) and is
//! refused otherwise.

use phone::Contact;

use super::typed::{Answer, Given};
use super::{AlarmWorld, Args, StepDef};
use crate::platform::Answering;

type Built = Result<Given, String>;

/// The Given steps.
pub const STEPS: &[StepDef] = &[
    step!(
        Given,
        "setup",
        "a button paired with a phone",
        "a button paired with a phone",
        |_| -> Built { Ok(Given::Paired) }
    ),
    step!(
        Given,
        "setup",
        "the phone has {n} emergency contacts",
        "the phone has 3 emergency contacts",
        |a: &Args| -> Built { Ok(Given::ContactCount(a.int(0, 1, 5)? as usize)) }
    ),
    step!(
        Given,
        "setup",
        "the emergency contacts:",
        "the emergency contacts:",
        |a: &Args| -> Built { Ok(Given::Contacts(contacts_table(a)?)) }
    ),
    step!(
        Given,
        "setup",
        "the wearer's alert message is {text}",
        "the wearer's alert message is \"Help me, I am at home\"",
        |a: &Args| -> Built { Ok(Given::AlertMessage(a.text(0)?.to_string())) }
    ),
    step!(
        Given,
        "setup",
        "the phone is at {n}, {n}",
        "the phone is at 48.8566, 2.3522",
        |a: &Args| -> Built {
            let (lat, lon) = a.lat_lon(0)?;
            Ok(Given::PhoneAt { lat, lon })
        }
    ),
    step!(
        Given,
        "setup",
        "the phone has no location fix",
        "the phone has no location fix",
        |_| -> Built { Ok(Given::NoLocationFix) }
    ),
    step!(
        Given,
        "setup",
        "the phone has no cellular network",
        "the phone has no cellular network",
        |_| -> Built { Ok(Given::NoCellularNetwork) }
    ),
    step!(
        Given,
        "setup",
        "contact {text} does not answer",
        "contact \"Contact 2\" does not answer",
        |a: &Args| answers(a, Answer::Never)
    ),
    step!(
        Given,
        "setup",
        "contact {text} is busy",
        "contact \"Contact 1\" is busy",
        |a: &Args| answers(a, Answer::Busy)
    ),
    step!(
        Given,
        "setup",
        "contact {text} answers after {n} s",
        "contact \"Contact 3\" answers after 12 s",
        |a: &Args| answers(a, Answer::After(a.duration(1, 1.0, 3600.0, "0 to 3600 s")?))
    ),
    step!(
        Given,
        "setup",
        "the button battery is at {n}%",
        "the button battery is at 21%",
        |a: &Args| -> Built {
            Ok(Given::ButtonBattery(percent(
                a,
                "expected a state of charge from 0 to 100 %",
            )?))
        }
    ),
    step!(
        Given,
        "setup",
        "the button is {n} m from the phone",
        "the button is 8 m from the phone",
        |a: &Args| -> Built {
            let d = a.num(0)?;
            if !(0.0..=10_000.0).contains(&d) {
                return Err(format!("expected a distance from 0 to 10000 m, got {d}"));
            }
            Ok(Given::ButtonDistance(d))
        }
    ),
    step!(
        Given,
        "setup",
        "the BLE link loses {n}% of packets",
        "the BLE link loses 30% of packets",
        |a: &Args| -> Built {
            Ok(Given::PacketLoss(percent(
                a,
                "expected a loss rate from 0 to 100 %",
            )?))
        }
    ),
    step!(
        Given,
        "setup",
        "the random seed is {n}",
        "the random seed is 42",
        |a: &Args| -> Built { Ok(Given::Seed(a.int(0, 0, u64::MAX >> 11)?)) }
    ),
];

fn answers(a: &Args, answer: Answer) -> Built {
    Ok(Given::ContactAnswers {
        contact: a.text(0)?.to_string(),
        answer,
    })
}

fn percent(a: &Args, expected: &str) -> Result<f64, String> {
    let p = a.num(0)?;
    if !(0.0..=100.0).contains(&p) {
        return Err(format!("{expected}, got {p}"));
    }
    Ok(p)
}

/// The contacts of a table with `name` and `phone` columns (SPEC §4), 1 to 5 of them.
fn contacts_table(a: &Args) -> Result<Vec<Contact>, String> {
    let rows = a
        .table
        .as_ref()
        .ok_or("expected a table with `name` and `phone` columns")?;
    let header = rows.first().ok_or("the contacts table is empty")?;
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("the contacts table needs a `{name}` column, found {header:?}"))
    };
    let (ni, pi) = (col("name")?, col("phone")?);
    let mut contacts = Vec::new();
    for (i, row) in rows.iter().enumerate().skip(1) {
        let cell = |j: usize| {
            row.get(j)
                .map(|s| s.trim())
                .ok_or_else(|| format!("row {i} is missing a cell"))
        };
        contacts.push(Contact::new(cell(ni)?, cell(pi)?).map_err(|e| format!("row {i}: {e}"))?);
    }
    if contacts.is_empty() || contacts.len() > 5 {
        return Err(format!(
            "expected 1 to 5 emergency contacts, got {}",
            contacts.len()
        ));
    }
    Ok(contacts)
}

// ---- on the simulator --------------------------------------------------------------

fn before_start(w: &AlarmWorld, what: &str) -> Result<(), String> {
    if w.started() {
        return Err(format!(
            "{what} must be set before the first When or Then step"
        ));
    }
    Ok(())
}

pub(super) fn contacts(w: &mut AlarmWorld, contacts: Vec<Contact>) -> Result<(), String> {
    before_start(w, "contacts")?;
    w.setup.contacts = contacts;
    Ok(())
}

pub(super) fn message(w: &mut AlarmWorld, text: &str) -> Result<(), String> {
    before_start(w, "the alert message")?;
    w.setup.message = Some(text.to_string());
    Ok(())
}

pub(super) fn position(w: &mut AlarmWorld, at: Option<(f64, f64)>) -> Result<(), String> {
    match (w.sim.as_mut(), at) {
        (Some(s), Some((lat, lon))) => s.gps_fix(lat, lon),
        (Some(s), None) => s.gps_lost(),
        (None, fix) => w.setup.fix = fix,
    }
    Ok(())
}

pub(super) fn no_network(w: &mut AlarmWorld) -> Result<(), String> {
    match w.sim.as_mut() {
        Some(s) => s.set_network(false),
        None => w.setup.network = false,
    }
    Ok(())
}

pub(super) fn answering(w: &mut AlarmWorld, who: &str, answer: Answer) -> Result<(), String> {
    before_start(w, "a contact's answering")?;
    let how = match answer {
        Answer::Never => Answering::Never,
        Answer::Busy => Answering::Busy,
        Answer::After(d) => Answering::After(d.as_micros() as f64 / 1e6),
    };
    w.setup.answering.insert(who.to_string(), how);
    Ok(())
}

pub(super) fn battery(w: &mut AlarmWorld, pct: f64) -> Result<(), String> {
    before_start(w, "the battery level")?;
    w.setup.battery_pct = Some(pct);
    Ok(())
}

pub(super) fn distance(w: &mut AlarmWorld, m: f64) -> Result<(), String> {
    match w.sim.as_mut() {
        Some(s) => s.set_distance(m),
        None => w.setup.distance_m = Some(m),
    }
    Ok(())
}

pub(super) fn loss(w: &mut AlarmWorld, pct: f64) -> Result<(), String> {
    match w.sim.as_mut() {
        Some(s) => s.set_loss_pct(pct),
        None => w.setup.loss_pct = Some(pct),
    }
    Ok(())
}

pub(super) fn seed(w: &mut AlarmWorld, seed: u64) -> Result<(), String> {
    before_start(w, "the random seed")?;
    w.explicit_seed = Some(seed);
    Ok(())
}
