//! Given steps: configuration only, in any order, before the simulation starts at the
//! first When or Then step. A Given written after that applies to the running world
//! where that makes sense (network, position, loss, distance) and is refused otherwise.

use phone::Contact;

use super::{AlarmWorld, Args, Kind, StepDef};
use crate::platform::Answering;
use crate::simulation::generated_contact;

macro_rules! given {
    ($pat:expr, $ex:expr, $f:expr) => {
        StepDef {
            kind: Kind::Given,
            pattern: $pat,
            example: $ex,
            check: false,
            domain: "setup",
            run: $f,
        }
    };
}

/// The Given steps.
pub const STEPS: &[StepDef] = &[
    given!(
        "a button paired with a phone",
        "a button paired with a phone",
        |_, _| Ok(())
    ),
    given!(
        "the phone has {n} emergency contacts",
        "the phone has 3 emergency contacts",
        contacts_n
    ),
    given!(
        "the emergency contacts:",
        "the emergency contacts:",
        contacts_table
    ),
    given!(
        "the wearer's alert message is {text}",
        "the wearer's alert message is \"Help me, I am at home\"",
        message
    ),
    given!(
        "the phone is at {n}, {n}",
        "the phone is at 48.8566, 2.3522",
        position
    ),
    given!(
        "the phone has no location fix",
        "the phone has no location fix",
        no_fix
    ),
    given!(
        "the phone has no cellular network",
        "the phone has no cellular network",
        no_network
    ),
    given!(
        "contact {text} does not answer",
        "contact \"Contact 2\" does not answer",
        |w, a| answering(w, a, Answering::Never)
    ),
    given!(
        "contact {text} is busy",
        "contact \"Contact 1\" is busy",
        |w, a| answering(w, a, Answering::Busy)
    ),
    given!(
        "contact {text} answers after {n} s",
        "contact \"Contact 3\" answers after 12 s",
        answers_after
    ),
    given!(
        "the button battery is at {n}%",
        "the button battery is at 21%",
        battery
    ),
    given!(
        "the button is {n} m from the phone",
        "the button is 8 m from the phone",
        distance
    ),
    given!(
        "the BLE link loses {n}% of packets",
        "the BLE link loses 30% of packets",
        loss
    ),
    given!("the random seed is {n}", "the random seed is 42", seed),
];

fn before_start(w: &AlarmWorld, what: &str) -> Result<(), String> {
    if w.started() {
        return Err(format!(
            "{what} must be set before the first When or Then step"
        ));
    }
    Ok(())
}

fn contacts_n(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    before_start(w, "contacts")?;
    let n = a.int(0, 1, 5)? as usize;
    w.setup.contacts = (1..=n).map(generated_contact).collect();
    Ok(())
}

fn contacts_table(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    before_start(w, "contacts")?;
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
    w.setup.contacts = contacts;
    Ok(())
}

fn message(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    before_start(w, "the alert message")?;
    w.setup.message = Some(a.text(0)?.to_string());
    Ok(())
}

fn lat_lon(a: &Args) -> Result<(f64, f64), String> {
    let (lat, lon) = (a.num(0)?, a.num(1)?);
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(format!(
            "expected latitude in -90..90 and longitude in -180..180, got {lat}, {lon}"
        ));
    }
    Ok((lat, lon))
}

fn position(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    let (lat, lon) = lat_lon(a)?;
    match w.sim.as_mut() {
        Some(s) => s.gps_fix(lat, lon),
        None => w.setup.fix = Some((lat, lon)),
    }
    Ok(())
}

fn no_fix(w: &mut AlarmWorld, _: &Args) -> Result<(), String> {
    match w.sim.as_mut() {
        Some(s) => s.gps_lost(),
        None => w.setup.fix = None,
    }
    Ok(())
}

fn no_network(w: &mut AlarmWorld, _: &Args) -> Result<(), String> {
    match w.sim.as_mut() {
        Some(s) => s.set_network(false),
        None => w.setup.network = false,
    }
    Ok(())
}

fn answering(w: &mut AlarmWorld, a: &Args, how: Answering) -> Result<(), String> {
    before_start(w, "a contact's answering")?;
    w.setup.answering.insert(a.text(0)?.to_string(), how);
    Ok(())
}

fn answers_after(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    let s = a.num(1)?;
    if !(0.0..=3600.0).contains(&s) {
        return Err(format!("expected 0 to 3600 s, got {s}"));
    }
    answering(w, a, Answering::After(s))
}

fn battery(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    before_start(w, "the battery level")?;
    let p = a.num(0)?;
    if !(0.0..=100.0).contains(&p) {
        return Err(format!(
            "expected a state of charge from 0 to 100 %, got {p}"
        ));
    }
    w.setup.battery_pct = Some(p);
    Ok(())
}

fn distance(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    let d = a.num(0)?;
    if !(0.0..=10_000.0).contains(&d) {
        return Err(format!("expected a distance from 0 to 10000 m, got {d}"));
    }
    match w.sim.as_mut() {
        Some(s) => s.set_distance(d),
        None => w.setup.distance_m = Some(d),
    }
    Ok(())
}

fn loss(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    let p = a.num(0)?;
    if !(0.0..=100.0).contains(&p) {
        return Err(format!("expected a loss rate from 0 to 100 %, got {p}"));
    }
    match w.sim.as_mut() {
        Some(s) => s.set_loss_pct(p),
        None => w.setup.loss_pct = Some(p),
    }
    Ok(())
}

fn seed(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    before_start(w, "the random seed")?;
    w.explicit_seed = Some(a.int(0, 0, u64::MAX >> 11)?);
    Ok(())
}
