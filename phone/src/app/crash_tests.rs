//! The write-ahead rules seen from the command stream: a write before every action
//! whose intent changed the state, loud recovery from damaged storage, rejected frames
//! counted without a write each. (The exhaustive crash exploration over whole
//! scenarios is `sim/tests/crash_explore.rs`.)

use super::testkit::{connected_app, drain, started_app, T0};
use super::*;
use crate::store::{record, StorageDamage};

fn persisted(c: &Command) -> Option<Durable> {
    match c {
        Command::Persist(b) => record::decode(b).ok().map(|(_, d)| d),
        _ => None,
    }
}

/// The state storage holds when command `i` runs.
fn stored_before(cmds: &[Command], i: usize) -> Option<Durable> {
    cmds[..i].iter().rev().find_map(persisted)
}

#[test]
fn every_sms_and_dial_is_recorded_as_possibly_done_just_before_it_runs() {
    let (mut app, mut b) = connected_app();
    app.handle(T0 + 1, b.event(1, EventKind::Double, vec![]));
    let mut cmds = drain(&mut app);
    app.handle(
        T0 + 2,
        Input::Location(Fix {
            lat: 1.0,
            lon: 2.0,
            accuracy_m: 3.0,
            utc_ms: T0 / 1000,
        }),
    );
    cmds.extend(drain(&mut app));
    let mut seen = (0, 0);
    for (i, c) in cmds.iter().enumerate() {
        let stored = stored_before(&cmds, i);
        match c {
            Command::SendSms { id, .. } => {
                seen.0 += 1;
                let m = stored.as_ref().and_then(|d| d.outbox.get(id).cloned());
                assert!(
                    m.is_some_and(|m| m.attempts == 1 && m.awaiting_since_us.is_some()),
                    "SMS {id} not recorded as handed over before it left"
                );
            }
            Command::Dial { id, .. } => {
                seen.1 += 1;
                let recorded = stored.is_some_and(|d| {
                    d.calls
                        .values()
                        .any(|c| c.call_id == Some(*id) && c.attempts == 1)
                });
                assert!(recorded, "call {id} not recorded before it was placed");
            }
            Command::JoinConference { url, .. } => {
                assert_eq!(stored.and_then(|d| d.conference), Some(url.clone()));
            }
            _ => {}
        }
    }
    assert_eq!(
        seen,
        (1, 1),
        "one SMS and one call for one contact: {cmds:?}"
    );
}

#[test]
fn an_sms_queued_behind_another_is_not_recorded_as_sent_before_its_turn() {
    let cfg = AppConfig::new(vec![
        crate::Contact::new("A", "+33611111111").unwrap_or_else(|e| panic!("{e}")),
        crate::Contact::new("B", "+33622222222").unwrap_or_else(|e| panic!("{e}")),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let mut app = PhoneApp::start(cfg, Durable::bonded(super::testkit::KEY), T0, [5; 32]);
    drain(&mut app);
    let mut b = super::testkit::FakeButton::new(super::testkit::KEY);
    b.connect(&mut app, T0);
    app.handle(T0 + 1, b.press(1));
    drain(&mut app);
    app.handle(
        T0 + 2,
        Input::Location(Fix {
            lat: 1.0,
            lon: 2.0,
            accuracy_m: 3.0,
            utc_ms: T0 / 1000,
        }),
    );
    let cmds = drain(&mut app);
    let sms: Vec<(usize, u64)> = cmds
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c {
            Command::SendSms { id, .. } => Some((i, *id)),
            _ => None,
        })
        .collect();
    assert_eq!(sms.len(), 2, "{cmds:?}");
    // When the first leaves, the second is in the outbox, not yet handed over.
    let d = stored_before(&cmds, sms[0].0).unwrap_or_else(|| panic!("no write"));
    assert_eq!(d.outbox.get(&sms[1].1).map(|m| m.attempts), Some(0));
}

#[test]
fn damaged_storage_is_announced_loudly_never_silently() {
    let cfg = started_app().config().clone();
    for (damage, warning) in [
        (
            StorageDamage::RecoveredOlderCopy {
                slot: 1,
                why: "record checksum mismatch".into(),
            },
            Warning::StorageRecovered,
        ),
        (
            StorageDamage::NothingReadable {
                why: "record does not start with PHS4 (or PHS3, PHS2)".into(),
            },
            Warning::StorageLost,
        ),
    ] {
        let loaded = Loaded {
            durable: Durable::bonded(super::testkit::KEY),
            generation: 7,
            damage: Some(damage),
        };
        let mut app = PhoneApp::start_loaded(cfg.clone(), loaded, T0, [1; 32]);
        let cmds = drain(&mut app);
        assert!(cmds.contains(&Command::Warn(warning)), "{cmds:?}");
        assert!(cmds.iter().any(|c| matches!(
            c,
            Command::Note(AppNote::StorageRecovered { .. } | AppNote::StorageLost { .. })
        )));
        // A good copy is written over the damaged slot at once.
        let gens: Vec<u64> = cmds
            .iter()
            .filter_map(|c| match c {
                Command::Persist(b) => record::decode(b).ok().map(|(g, _)| g),
                _ => None,
            })
            .collect();
        assert_eq!(gens, [8]);
    }
}

#[test]
fn an_app_updated_over_a_json_store_resumes_it_and_writes_the_binary_format() {
    // The previous app's store: an SMS handed over, its result unknown.
    let mut old = Durable::bonded(super::testkit::KEY);
    old.outbox.insert(
        3,
        crate::store::OutSms {
            to: "+33600000001".into(),
            text: "I need help.".into(),
            alert: 2,
            attempts: 1,
            awaiting_since_us: Some(T0 - 1),
        },
    );
    old.next_id = 3;
    let v3 = record::encode_v3(11, &old.to_json());
    let loaded = crate::store::load([None, Some(&v3)]);
    assert_eq!((loaded.generation, loaded.damage.clone()), (11, None));
    assert_eq!(loaded.durable, old);
    let cfg = started_app().config().clone();
    let mut app = PhoneApp::start_loaded(cfg, loaded, T0, [1; 32]);
    let mut cmds = drain(&mut app);
    // Something changes (a press arrives from the button): the next write is PHS4,
    // generation 12, and keeps the SMS.
    let (_, mut b) = connected_app();
    cmds.extend(b.connect(&mut app, T0 + 1));
    app.handle(T0 + 2, b.press(1));
    cmds.extend(drain(&mut app));
    let first = cmds
        .iter()
        .find_map(|c| match c {
            Command::Persist(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no write: {cmds:?}"));
    assert_eq!(&first[..4], b"PHS4");
    let (g, d) = record::decode(&first).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(g, 12);
    assert_eq!(
        d.outbox.get(&3).map(|m| m.text.as_str()),
        Some("I need help.")
    );
}

#[test]
fn junk_frames_are_counted_without_a_write_each() {
    let (mut app, b) = connected_app();
    let (mut writes, mut bytes) = (0, 0);
    for i in 0..2000u32 {
        app.handle(T0 + 10 + u64::from(i), b.value(vec![0xEE; 40]));
        for c in drain(&mut app) {
            if let Command::Persist(r) = c {
                writes += 1;
                bytes += r.len();
            }
        }
    }
    println!("2000 junk frames: {writes} writes, {bytes} bytes written");
    assert_eq!(app.durable().rejected, 2000);
    assert!(
        writes <= 2000 / REJECTED_EVERY + 1,
        "{writes} writes for 2000 junk frames"
    );
}

const REJECTED_EVERY: usize = wal::REJECTED_SAVE_EVERY as usize;

#[test]
fn the_rejected_counter_saturates() {
    let cfg = started_app().config().clone();
    let mut d = Durable::bonded(super::testkit::KEY);
    d.rejected = u32::MAX - 1;
    let mut app = PhoneApp::start(cfg, d, T0, [2; 32]);
    drain(&mut app);
    let mut b = super::testkit::FakeButton::new(super::testkit::KEY);
    b.connect(&mut app, T0);
    for i in 0..3 {
        app.handle(T0 + i, b.value(vec![1, 2, 3]));
        drain(&mut app);
    }
    assert_eq!(app.durable().rejected, u32::MAX);
}

#[test]
fn a_restart_asserts_the_siren_recorder_countdown_and_conference_again() {
    let cfg = started_app().config().clone();
    let mut d = Durable::bonded(super::testkit::KEY);
    d.siren_on = true;
    d.siren_used = true;
    d.countdown_used = true;
    d.countdown = Some(Countdown {
        ends_at_us: T0 + 12 * S,
        event_ms: T0 / 1000,
        late: false,
    });
    d.recording = Some(ActiveRecording {
        id: 9,
        start_ms: T0 / 1000,
        position: None,
        stopping: false,
    });
    d.conference = Some("https://meet/room".into());
    d.calls.insert(
        3,
        CallTask {
            to: "+33611111111".into(),
            attempts: 1,
            dial_at_us: None,
            call_id: Some(4),
            ringing_since_us: None,
            done: false,
        },
    );
    let mut app = PhoneApp::start(cfg, d, T0, [3; 32]);
    let cmds = drain(&mut app);
    for want in [
        wal::siren(true),
        wal::start_recording(9),
        Command::CountdownAlarm {
            on: true,
            seconds: 12,
        },
        wal::join("https://meet/room".into()),
    ] {
        assert!(cmds.contains(&want), "{want:?} not in {cmds:?}");
    }
    // The call placed without news times out like an unanswered one.
    assert_eq!(app.poll_timeout(), Some(T0 + 12 * S));
    let ring = u64::from(app.config().timings.ring_timeout_s) * S;
    assert_eq!(
        app.durable().calls.get(&3).and_then(|c| c.ringing_since_us),
        Some(T0)
    );
    app.handle_timeout(T0 + ring);
    assert!(drain(&mut app).contains(&Command::HangUp { id: 4 }));
}

/// A call task that can hear nothing more (answered then ended, or out of attempts)
/// leaves the store: it does not grow with every alert ever called.
#[test]
fn finished_call_tasks_leave_the_store() {
    let (mut app, mut b) = connected_app();
    app.handle(T0 + 1, b.event(1, EventKind::Double, vec![]));
    let cmds = drain(&mut app);
    let id = cmds
        .iter()
        .find_map(|c| match c {
            Command::Dial { id, .. } => Some(*id),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no dial in {cmds:?}"));
    let update = |update| Input::Call { id, update };
    app.handle(T0 + 2, update(CallUpdate::Ringing));
    app.handle(T0 + 3, update(CallUpdate::Answered));
    assert_eq!(app.durable().calls.len(), 1, "answered: the call goes on");
    app.handle(T0 + 4, update(CallUpdate::Ended));
    drain(&mut app);
    assert!(app.durable().calls.is_empty(), "{:?}", app.durable().calls);
}
