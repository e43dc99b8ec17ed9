//! Crash exploration, exhaustive: for each scenario of a set (single, double and long
//! press, a fall, "I am safe", an SMS network outage), the phone app is killed right
//! after each command it issues in turn — every command of the scenario's crash-free
//! run, GATT writes, SMS, calls, siren, recorder, countdown, notes and durable writes
//! alike — and, separately, during each of its durable writes, torn at every class of
//! byte boundary (below). It restarts 2 s later from what storage holds. Each case
//! then checks that no alert was lost and none duplicated: every contact exactly one SMS
//! of each alert (and no other SMS), dials within the redial rule, one siren, one
//! recording, one countdown, one conference join, nothing left in the button's queue
//! or the app's outbox.
//!
//! Torn writes: a record is a 20-byte header (magic 0..4, generation 4..12, payload
//! length 12..16, CRC-32 16..20) and its payload; a torn write leaves the first `n`
//! bytes of the new record over the slot's old bytes. Whether such a slot reads back
//! depends only on which field the cut falls in and whether it falls at the very end,
//! so the cuts tried are: nothing (0), inside and at the end of each header field
//! (1, 4, 8, 12, 14, 16, 18, 20), one byte into the payload, half the record, all but
//! its last byte, and the whole record (the slot's older, longer tail may remain). The
//! store's own unit test checks every prefix length of real records, byte by byte.
//!
//! The case count is printed (`cargo test -p sim --test crash_explore -- --nocapture`).

use sim::sched::{Micros, SECOND};
use sim::simulation::{generated_contact, CrashPlan, Keep, Setup, Simulation};

const CONTACTS: usize = 2;
/// Dials a contact may get: the first call and `max_redials` more.
const MAX_DIALS: usize = 3;

const CUTS: &[Keep] = &[
    Keep::Bytes(0),
    Keep::Bytes(1),
    Keep::Bytes(4),
    Keep::Bytes(8),
    Keep::Bytes(12),
    Keep::Bytes(14),
    Keep::Bytes(16),
    Keep::Bytes(18),
    Keep::Bytes(20),
    Keep::Bytes(21),
    Keep::Half,
    Keep::AllBut(1),
    Keep::Bytes(usize::MAX),
];

/// What a scenario must produce, whatever the crash.
#[derive(Default)]
struct Expect {
    /// Texts each contact receives exactly once (as accepted by the network).
    sms: &'static [&'static str],
    /// Calls to every contact (1 to [`MAX_DIALS`] dials each), and one conference join.
    calls: bool,
    siren: bool,
    siren_on_at_end: bool,
    recording: bool,
    countdown: bool,
}

struct Scenario {
    name: &'static str,
    network: bool,
    script: fn(&mut Simulation),
    expect: Expect,
}

fn presses(sim: &mut Simulation, n: u32) {
    let (edges, last) = sim.hand.presses(sim.now(), n);
    for (t, d) in edges {
        sim.edge_at(t, d);
    }
    sim.run_until(last + 400_000);
}

fn hold(sim: &mut Simulation, s: u64) {
    let t = sim.now();
    sim.edge_at(t + 1000, true);
    sim.edge_at(t + 1000 + s * SECOND, false);
    sim.run_until(t + 2000 + s * SECOND);
}

fn fall(sim: &mut Simulation) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/traces/fall_forward.jsonl");
    sim.start_replay(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let deadline = sim.now() + 120 * SECOND;
    sim.run_until_cond(deadline, &|s| !s.replay_active());
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "single",
            network: true,
            script: |s| presses(s, 1),
            expect: Expect {
                sms: &["I need help."],
                ..Expect::default()
            },
        },
        Scenario {
            name: "double",
            network: true,
            script: |s| presses(s, 2),
            expect: Expect {
                sms: &["Join the conference"],
                calls: true,
                ..Expect::default()
            },
        },
        Scenario {
            name: "long",
            network: true,
            script: |s| hold(s, 3),
            expect: Expect {
                siren: true,
                siren_on_at_end: true,
                recording: true,
                ..Expect::default()
            },
        },
        Scenario {
            name: "fall",
            network: true,
            script: fall,
            expect: Expect {
                sms: &["Fall detected"],
                countdown: true,
                ..Expect::default()
            },
        },
        Scenario {
            name: "I am safe",
            network: true,
            script: |s| {
                presses(s, 1);
                s.advance(90 * SECOND);
                hold(s, 3);
                s.advance(5 * SECOND);
                presses(s, 3);
            },
            expect: Expect {
                sms: &["I need help.", "I am safe"],
                siren: true,
                recording: true,
                ..Expect::default()
            },
        },
        Scenario {
            name: "network outage",
            network: false,
            script: |s| {
                presses(s, 1);
                s.advance(60 * SECOND);
                s.set_network(true);
            },
            expect: Expect {
                sms: &["I need help."],
                ..Expect::default()
            },
        },
    ]
}

/// Run `sc` with `crash` armed from the start (after set-up); time then runs 15 minutes
/// (SMS retries, ring timeouts and redials all end within it).
fn run(sc: &Scenario, crash: Option<CrashPlan>) -> Simulation {
    let setup = Setup {
        seed: 7,
        contacts: (1..=CONTACTS).map(generated_contact).collect(),
        network: sc.network,
        ..Setup::default()
    };
    let mut sim = Simulation::new(setup).unwrap_or_else(|e| panic!("{e}"));
    sim.count_commands_from_now();
    if let Some(plan) = crash {
        sim.arm_crash(plan);
    }
    (sc.script)(&mut sim);
    let settle: Micros = 15 * 60 * SECOND;
    sim.advance(settle);
    sim
}

/// What went wrong in a case: lost (fewer than expected, or left undone) or
/// duplicated (more than expected).
#[derive(Default)]
struct Wrong {
    lost: Vec<String>,
    duplicated: Vec<String>,
}

impl Wrong {
    fn push(&mut self, got: usize, want: usize, what: String) {
        match got.cmp(&want) {
            std::cmp::Ordering::Less => self.lost.push(what),
            std::cmp::Ordering::Greater => self.duplicated.push(what),
            std::cmp::Ordering::Equal => {}
        }
    }
}

fn check(sc: &Scenario, sim: &Simulation) -> Wrong {
    let e = &sc.expect;
    let p = &sim.platform;
    let mut wrong = Wrong::default();
    for i in 1..=CONTACTS {
        let to = generated_contact(i).phone;
        for text in e.sms {
            let n = p
                .sms_sent
                .iter()
                .filter(|m| m.to == to && m.text.contains(text))
                .count();
            wrong.push(n, 1, format!("{to} got {n} SMS containing {text:?}"));
        }
        let dials = p.calls.iter().filter(|c| c.to == to).count();
        let (least, most) = if e.calls { (1, MAX_DIALS) } else { (0, 0) };
        let what = format!("{to} dialled {dials} times");
        if dials < least {
            wrong.lost.push(what);
        } else if dials > most {
            wrong.duplicated.push(what);
        }
    }
    let want_sms = CONTACTS * e.sms.len();
    let sent = p.sms_sent.len();
    wrong.push(
        sent,
        want_sms,
        format!("{sent} SMS sent, {want_sms} expected"),
    );
    let joins = p.conference.iter().filter(|(_, w)| w == "wearer").count();
    let counts = [
        ("conference joins", joins, usize::from(e.calls)),
        ("sirens", p.siren_starts as usize, usize::from(e.siren)),
        ("recordings", p.recordings.len(), usize::from(e.recording)),
        (
            "countdowns",
            p.countdowns_started as usize,
            usize::from(e.countdown),
        ),
    ];
    for (what, got, want) in counts {
        wrong.push(got, want, format!("{got} {what}, {want} expected"));
    }
    let mut undone = |bad: bool, what: &str| {
        if bad {
            wrong.lost.push(what.to_string());
        }
    };
    undone(
        p.siren_on != e.siren_on_at_end,
        "the siren is not in its expected state at the end",
    );
    undone(
        e.recording && !e.siren_on_at_end && p.recordings.iter().any(|r| r.end_us.is_none()),
        "a recording still runs after \"I am safe\"",
    );
    undone(sim.phone().is_none(), "the app is not running");
    undone(!sim.durable().outbox.is_empty(), "SMS left in the outbox");
    undone(sim.durable().bond.is_none(), "the app came back unbonded");
    undone(
        sim.button().is_some_and(|b| !b.flash().queue.is_empty()),
        "events left unacknowledged on the button",
    );
    wrong
}

#[derive(Default)]
struct Tally {
    cases: usize,
    crashes: usize,
    lost: usize,
    duplicated: usize,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, what: String, w: Wrong) {
        self.cases += 1;
        self.lost += usize::from(!w.lost.is_empty());
        self.duplicated += usize::from(!w.duplicated.is_empty());
        if !w.lost.is_empty() || !w.duplicated.is_empty() {
            self.failures.push(format!(
                "{what}: lost [{}] duplicated [{}]",
                w.lost.join("; "),
                w.duplicated.join("; ")
            ));
        }
    }
}

/// Crash after command k, for every k of the crash-free run.
fn after_every_command(sc: &Scenario, commands: u64, t: &mut Tally) {
    for k in 1..=commands {
        let sim = run(sc, Some(CrashPlan::AfterCommands(k)));
        if sim.crash_armed() {
            t.failures.push(format!(
                "{}: crash after command {k} never happened",
                sc.name
            ));
            continue;
        }
        t.crashes += 1;
        let r = check(sc, &sim);
        t.record(format!("{} crash after command {k}", sc.name), r);
    }
}

/// Crash during write j, torn at every cut, for every write of the crash-free run.
fn during_every_write(sc: &Scenario, writes: u64, t: &mut Tally) {
    for j in 1..=writes {
        for &keep in CUTS {
            let nth = u32::try_from(j).unwrap_or(u32::MAX);
            let sim = run(sc, Some(CrashPlan::TornWrite { nth, keep }));
            if sim.crash_armed() {
                t.failures
                    .push(format!("{}: write {j} never happened", sc.name));
                continue;
            }
            t.crashes += 1;
            let r = check(sc, &sim);
            t.record(format!("{} write {j} torn at {keep:?}", sc.name), r);
        }
    }
}

/// `CRASH_CASE="single after 11"` or `"single write 4 Half"`: print that case's
/// timeline (to study a failure).
#[test]
fn one_case_timeline() {
    let Ok(case) = std::env::var("CRASH_CASE") else {
        return;
    };
    let words: Vec<&str> = case.split(' ').collect();
    let (name, rest) = words.split_at(words.len() - 2);
    let name = name.join(" ");
    let n: u64 = rest[1].parse().unwrap_or(1);
    let plan = match rest[0] {
        "after" => CrashPlan::AfterCommands(n),
        _ => CrashPlan::TornWrite {
            nth: n as u32,
            keep: Keep::Half,
        },
    };
    let sc = scenarios()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no scenario {name:?}"));
    let sim = run(&sc, Some(plan));
    println!("{}", sim.timeline.render());
}

#[test]
fn no_alert_lost_or_duplicated_by_a_crash_at_any_point() {
    let mut t = Tally::default();
    for sc in scenarios() {
        let base = run(&sc, None);
        let w = check(&sc, &base);
        assert!(
            w.lost.is_empty() && w.duplicated.is_empty(),
            "{} without a crash: lost {:?} duplicated {:?}",
            sc.name,
            w.lost,
            w.duplicated
        );
        let commands = base.commands_executed();
        let writes = base.platform.writes;
        let before = t.cases;
        after_every_command(&sc, commands, &mut t);
        during_every_write(&sc, writes, &mut t);
        println!(
            "crash exploration: {:<15} {commands:>4} commands, {writes:>3} writes x {} cuts: {} cases",
            sc.name,
            CUTS.len(),
            t.cases - before
        );
    }
    println!(
        "crash exploration: {} cases ({} crashes), {} lost, {} duplicated",
        t.cases, t.crashes, t.lost, t.duplicated
    );
    assert!(
        t.failures.is_empty(),
        "{} failing cases, first ones:\n{}",
        t.failures.len(),
        t.failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
