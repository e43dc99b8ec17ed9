//! Unit tests of the firmware: delivery, and each defence of protocol version 2.

use super::*;
use crate::power::Consumer;
use protocol::gatt::{CONTROL_CHAR, TEST_INJECT_CHAR};
use protocol::wire::{ToButton, ToPhone};
use protocol::{BondKey, Command, EventFrame, Keys, PairingKeyPair, Session};

const KEY: BondKey = BondKey([1; 16]);
const UTC: u64 = 1_767_603_600_000;

fn boot(flash: Flash, now: u64) -> Button {
    let p = DeviceProfile::default();
    let battery = Button::fresh_battery(&p, 100.0);
    Button::boot(p, flash, battery, now, [9; 32])
}

fn drain(b: &mut Button) -> Vec<Action> {
    std::iter::from_fn(|| b.poll_action()).collect()
}

fn press(b: &mut Button, at_ms: u64, dur_ms: u64) {
    b.handle(at_ms * MS, Input::Edge { down: true });
    b.handle((at_ms + dur_ms) * MS, Input::Edge { down: false });
}

fn run_to(b: &mut Button, t: u64) {
    while let Some(d) = b.poll_timeout().filter(|&d| d <= t) {
        b.handle_timeout(d);
    }
}

fn write(b: &mut Button, now: u64, msg: &ToButton) {
    b.handle(
        now,
        Input::Write {
            char: CONTROL_CHAR,
            value: msg.encode(),
        },
    );
}

/// A phone speaking version 2 with `key`.
struct Phone {
    keys: Keys,
    session: Option<Session>,
    counter: u32,
    nonce: u8,
}

impl Phone {
    fn new(key: BondKey) -> Phone {
        Phone {
            keys: key.keys(),
            session: None,
            counter: 0,
            nonce: 0,
        }
    }

    /// Hello, and the session from the button's offer (`false`: no valid offer).
    fn hello(&mut self, b: &mut Button, now: u64) -> bool {
        self.nonce += 1;
        let phone_nonce = [self.nonce; 8];
        write(b, now, &ToButton::Hello { phone_nonce });
        self.session = drain(b).iter().find_map(|a| match a {
            Action::Indicate { value, .. } => match ToPhone::decode(value) {
                Ok(ToPhone::Offer {
                    session_id,
                    button_nonce,
                    tag,
                }) => {
                    Session::accept_offer(&self.keys, phone_nonce, session_id, button_nonce, &tag)
                }
                _ => None,
            },
            _ => None,
        });
        self.counter = 0;
        self.session.is_some()
    }

    fn signed(&mut self, cmd: Command) -> ToButton {
        self.counter += 1;
        let s = self.session.unwrap_or(Session {
            id: 0,
            phone_nonce: [0; 8],
            button_nonce: [0; 8],
        });
        s.sign(&self.keys, self.counter, cmd)
    }

    fn send(&mut self, b: &mut Button, now: u64, cmd: Command) {
        let m = self.signed(cmd);
        write(b, now, &m);
    }

    fn connect(&mut self, b: &mut Button, now: u64) {
        b.handle(now, Input::Connected);
        assert!(self.hello(b, now), "the bonded button offers a session");
        self.send(
            b,
            now,
            Command::SetTime {
                utc_ms: UTC + now / MS,
            },
        );
    }

    /// Frames of `actions` that open in this phone's session.
    fn frames(&self, actions: &[Action]) -> Vec<EventFrame> {
        let Some(s) = self.session else { return vec![] };
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Indicate { value, .. } | Action::Notify { value, .. } => {
                    match ToPhone::decode(value) {
                        Ok(ToPhone::Sealed { index, body }) => {
                            s.open(&self.keys, index, &body).ok().flatten()
                        }
                        _ => None,
                    }
                }
                _ => None,
            })
            .collect()
    }
}

fn events(frames: Vec<EventFrame>) -> Vec<EventFrame> {
    frames
        .into_iter()
        .filter(|f| f.kind != EventKind::Heartbeat)
        .collect()
}

fn refused(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::Log(DeviceEvent::Refused { .. })))
        .count()
}

#[test]
fn press_is_queued_then_sent_sealed_then_acked() {
    let mut b = boot(Flash::bonded(KEY), 0);
    press(&mut b, 100, 120);
    run_to(&mut b, 2_000 * MS);
    assert_eq!(b.flash().queue.len(), 1);
    b.handle(2_000 * MS, Input::Connected);
    let mut phone = Phone::new(KEY);
    assert!(phone.hello(&mut b, 2_000 * MS));
    assert!(drain(&mut b).is_empty(), "nothing before the clock is set");
    phone.send(&mut b, 2_010 * MS, Command::SetTime { utc_ms: UTC });
    let actions = drain(&mut b);
    let frames = phone.frames(&actions);
    assert_eq!(frames[0].kind, EventKind::Heartbeat, "the level, sealed");
    assert_eq!(frames[0].payload, vec![100]);
    let sent = events(frames);
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].kind, sent[0].seq), (EventKind::Single, 1));
    assert!(sent[0].clock_synced());
    phone.send(&mut b, 2_050 * MS, Command::Ack { seq: 1 });
    assert!(b.flash().queue.is_empty());
    assert_eq!(b.rejected_commands(), 0);
}

#[test]
fn queue_counters_and_rejections_survive_reset() {
    let mut b = boot(Flash::bonded(KEY), 0);
    press(&mut b, 0, 100);
    run_to(&mut b, 1_000 * MS);
    b.handle(1_000 * MS, Input::Connected);
    assert!(Phone::new(KEY).hello(&mut b, 1_000 * MS));
    write(&mut b, 1_000 * MS, &ToButton::PairConfirm { tag: [0; 16] });
    let (flash, battery) = b.into_parts();
    assert_eq!((flash.session_next, flash.rejected_commands), (2, 1));
    let mut b = Button::boot(
        DeviceProfile::default(),
        flash,
        battery,
        1_000 * MS,
        [3; 32],
    );
    drain(&mut b);
    press(&mut b, 1_100, 100);
    run_to(&mut b, 3_000 * MS);
    let seqs: Vec<u32> = b.flash().queue.events().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2]);
    assert_eq!((b.flash().boots, b.rejected_commands()), (2, 1));
    b.handle(3_000 * MS, Input::Connected);
    let mut phone = Phone::new(KEY);
    assert!(phone.hello(&mut b, 3_000 * MS));
    assert_eq!(
        phone.session.map(|s| s.id),
        Some(2),
        "a session id is never reused"
    );
}

#[test]
fn unacked_event_is_resent_after_timeout_and_on_reconnect_with_new_indices() {
    let mut b = boot(Flash::bonded(KEY), 0);
    let mut phone = Phone::new(KEY);
    phone.connect(&mut b, 0);
    press(&mut b, 0, 100);
    run_to(&mut b, 1_000 * MS);
    let first = drain(&mut b);
    assert_eq!(events(phone.frames(&first)).len(), 1);
    run_to(&mut b, 12_000 * MS);
    let second = drain(&mut b);
    assert_eq!(
        events(phone.frames(&second)).len(),
        1,
        "resent after ack timeout"
    );
    assert_ne!(
        first.last(),
        second.last(),
        "a retransmission is a new ciphertext"
    );
    b.handle(13_000 * MS, Input::Disconnected);
    phone.connect(&mut b, 14_000 * MS);
    let again = events(phone.frames(&drain(&mut b)));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].seq, 1);
}

#[test]
fn advertising_goes_slow_rotates_a_resolvable_address_and_never_stops() {
    let mut b = boot(Flash::bonded(KEY), 0);
    let irk = KEY.keys().irk;
    let Some(Action::Advertise {
        interval_ms: 100,
        address: first,
    }) = drain(&mut b).last().cloned()
    else {
        panic!("advertising fast")
    };
    assert!(first.resolves_with(&irk));
    assert!(!first.resolves_with(&BondKey([2; 16]).keys().irk));
    run_to(&mut b, 31_000 * MS);
    assert!(drain(&mut b).iter().any(
        |a| matches!(a, Action::Advertise { interval_ms: 1_000, address } if *address == first)
    ));
    run_to(&mut b, 3_600 * 1_000 * MS);
    let addrs: Vec<Address> = drain(&mut b)
        .iter()
        .filter_map(|a| match a {
            Action::Advertise { address, .. } => Some(*address),
            _ => None,
        })
        .collect();
    assert_eq!(addrs.len(), 4, "a new address every 15 minutes");
    assert!(addrs.iter().all(|a| a.resolves_with(&irk) && *a != first));
    let unbonded = boot(Flash::factory(), 0).address();
    assert!(!unbonded.resolves_with(&irk));
}

#[test]
fn bad_writes_are_refused_counted_and_never_panic() {
    let mut b = boot(Flash::factory(), 0);
    b.handle(0, Input::Connected);
    for value in [
        vec![2, 0x99],
        vec![],
        Command::Vibrate(VibrationPattern::Sent).encode(),
    ] {
        b.handle(
            0,
            Input::Write {
                char: CONTROL_CHAR,
                value,
            },
        );
    }
    let edge = protocol::command::TestInjection::Edge { down: true }.encode();
    b.handle(
        0,
        Input::Write {
            char: TEST_INJECT_CHAR,
            value: edge,
        },
    );
    assert_eq!(refused(&drain(&mut b)), 4);
    assert_eq!(b.rejected_commands(), 4);
    assert!(b.gestures_idle(), "no test service in the default profile");
}

#[test]
fn forged_replayed_and_old_session_commands_are_counted_and_ignored() {
    let mut b = boot(Flash::bonded(KEY), 0);
    press(&mut b, 0, 100);
    run_to(&mut b, 1_000 * MS);
    let mut phone = Phone::new(KEY);
    phone.connect(&mut b, 1_000 * MS);
    let old_session_ack = phone.signed(Command::Ack { seq: 1 });
    // A new connection, a new session: the old session's command fails.
    b.handle(2_000 * MS, Input::Disconnected);
    phone.connect(&mut b, 3_000 * MS);
    drain(&mut b);
    write(&mut b, 3_000 * MS, &old_session_ack);
    // A stranger's key.
    let mut stranger = Phone::new(BondKey([2; 16]));
    stranger.session = phone.session;
    stranger.send(&mut b, 3_000 * MS, Command::Ack { seq: 1 });
    // A valid command, then its replay (same counter).
    let vib = phone.signed(Command::Vibrate(VibrationPattern::Sent));
    write(&mut b, 3_000 * MS, &vib);
    write(&mut b, 3_000 * MS, &vib);
    let actions = drain(&mut b);
    let vibrations = actions
        .iter()
        .filter(|a| matches!(a, Action::Vibrate { .. }))
        .count();
    assert_eq!(vibrations, 1);
    assert_eq!(b.rejected_commands(), 3);
    assert_eq!(b.flash().queue.len(), 1, "no forged Ack deleted the event");
}

#[test]
fn an_ack_from_a_stranger_deletes_nothing() {
    let mut b = boot(Flash::bonded(KEY), 0);
    press(&mut b, 0, 100);
    run_to(&mut b, 1_000 * MS);
    b.handle(1_000 * MS, Input::Connected);
    let mut stranger = Phone::new(BondKey([2; 16]));
    assert!(
        !stranger.hello(&mut b, 1_000 * MS),
        "an offer the stranger cannot verify"
    );
    for seq in 1..=64 {
        stranger.send(&mut b, 1_000 * MS, Command::Ack { seq });
        write(
            &mut b,
            1_000 * MS,
            &ToButton::Hello {
                phone_nonce: [0; 8],
            },
        );
    }
    assert_eq!(b.flash().queue.len(), 1);
    assert_eq!(b.rejected_commands(), 64);
}

#[test]
fn the_clock_is_bounded_monotonic_and_never_panics() {
    let mut b = boot(Flash::bonded(KEY), 0);
    let mut phone = Phone::new(KEY);
    b.handle(0, Input::Connected);
    assert!(phone.hello(&mut b, 0));
    for utc_ms in [u64::MAX, 1 << 63, i64::MAX as u64, 0, 1_000] {
        phone.send(&mut b, 0, Command::SetTime { utc_ms });
    }
    assert_eq!(
        b.rtc_ms(5 * MS),
        (5, false),
        "nothing out of 2020..2100 was set"
    );
    assert_eq!(b.rejected_commands(), 5);
    phone.send(&mut b, 0, Command::SetTime { utc_ms: UTC });
    let back = UTC - 60_000;
    let far = UTC + 11 * 365 * 86_400_000;
    phone.send(&mut b, 10 * MS, Command::SetTime { utc_ms: back });
    phone.send(&mut b, 10 * MS, Command::SetTime { utc_ms: far });
    assert_eq!(b.rejected_commands(), 7);
    assert_eq!(b.rtc_ms(1_000 * MS), (UTC + 1_000, true));
    // Within the tolerance behind: accepted, the clock stays put.
    phone.send(
        &mut b,
        2_000 * MS,
        Command::SetTime {
            utc_ms: UTC + 1_000,
        },
    );
    assert_eq!(b.rtc_ms(2_000 * MS), (UTC + 2_000, true));
    assert_eq!(b.rejected_commands(), 7);
    // Reading the clock far in the future cannot overflow either.
    assert!(b.rtc_ms(u64::MAX).1);
}

#[test]
fn unauthenticated_vibrate_writes_cost_no_battery() {
    let mut b = boot(Flash::bonded(KEY), 0);
    b.handle(0, Input::Connected);
    let before = b.battery().consumed_uah(Consumer::Motor);
    let vib = Command::Vibrate(VibrationPattern::Failed).encode();
    let mut stranger = Phone::new(BondKey([2; 16]));
    for i in 0..8_000u64 {
        let value = if i % 2 == 0 {
            vib.clone()
        } else {
            stranger
                .signed(Command::Vibrate(VibrationPattern::Failed))
                .encode()
        };
        b.handle(
            i * 100,
            Input::Write {
                char: CONTROL_CHAR,
                value,
            },
        );
    }
    assert_eq!(b.battery().consumed_uah(Consumer::Motor), before);
    assert!(!drain(&mut b)
        .iter()
        .any(|a| matches!(a, Action::Vibrate { .. })));
    assert_eq!(b.rejected_commands(), 8_000);
    assert!(!b.is_dead());
}

#[test]
fn a_low_cell_browns_out_on_a_genuine_vibration_and_low_battery_is_queued() {
    let p = DeviceProfile::default();
    let mut b = Button::boot(
        p.clone(),
        Flash::bonded(KEY),
        Button::fresh_battery(&p, 20.4),
        0,
        [1; 32],
    );
    b.handle(0, Input::Connected);
    run_to(&mut b, 30 * 86_400 * 1_000 * MS);
    let kinds: Vec<(EventKind, Vec<u8>)> = b
        .flash()
        .queue
        .events()
        .iter()
        .map(|e| (e.kind, e.payload.as_slice().to_vec()))
        .collect();
    assert_eq!(kinds, vec![(EventKind::LowBattery, vec![20])]);
    let mut weak = Button::boot(
        p.clone(),
        Flash::bonded(KEY),
        Button::fresh_battery(&p, 8.0),
        0,
        [1; 32],
    );
    let mut phone = Phone::new(KEY);
    phone.connect(&mut weak, 0);
    phone.send(&mut weak, 10, Command::Vibrate(VibrationPattern::Sent));
    assert!(weak.is_dead());
    assert!(drain(&mut weak).contains(&Action::BrownOut));
}

#[test]
fn heartbeats_every_minute_carry_the_level_and_cost_radio() {
    let mut b = boot(Flash::bonded(KEY), 0);
    let mut phone = Phone::new(KEY);
    phone.connect(&mut b, 0);
    drain(&mut b);
    let radio = b.battery().consumed_uah(Consumer::Radio);
    run_to(&mut b, 600 * 1_000 * MS);
    let beats = phone.frames(&drain(&mut b));
    assert_eq!(beats.len(), 10);
    assert!(beats
        .iter()
        .all(|f| f.kind == EventKind::Heartbeat && f.payload == vec![100]));
    assert!(b.battery().consumed_uah(Consumer::Radio) > radio);
}

/// Pair `phone` over the air with `b` (pairing mode required); returns the two codes.
fn pair(b: &mut Button, now: u64, entropy: u8) -> Result<(BondKey, ConfirmCode, ConfirmCode), u32> {
    let kp = PairingKeyPair::from_entropy([entropy; 32]);
    write(
        b,
        now,
        &ToButton::PairRequest {
            phone_public: kp.public(),
        },
    );
    let button_public = drain(b)
        .iter()
        .find_map(|a| match a {
            Action::Indicate { value, .. } => match ToPhone::decode(value) {
                Ok(ToPhone::PairResponse { button_public }) => Some(button_public),
                _ => None,
            },
            _ => None,
        })
        .ok_or(b.rejected_commands())?;
    let p = kp.agree(&kp.public(), &button_public).map_err(|_| 0u32)?;
    let button_code = b.pairing_code().ok_or(0u32)?;
    write(
        b,
        now,
        &ToButton::PairConfirm {
            tag: p.phone_confirm(),
        },
    );
    let done = drain(b).iter().any(|a| match a {
        Action::Indicate { value, .. } => matches!(
            ToPhone::decode(value),
            Ok(ToPhone::PairDone { tag }) if p.check_button_confirm(&tag)
        ),
        _ => false,
    });
    if done {
        Ok((p.key, p.code, button_code))
    } else {
        Err(b.rejected_commands())
    }
}

#[test]
fn pairing_without_the_key_on_the_air_and_rebonding_only_after_the_physical_action() {
    let mut b = boot(Flash::factory(), 0);
    press(&mut b, 0, 100);
    run_to(&mut b, 1_000 * MS);
    b.handle(1_000 * MS, Input::Connected);
    assert!(drain(&mut b)
        .iter()
        .all(|a| !matches!(a, Action::Indicate { .. })));
    // Factory-fresh, but no physical action: the first device that asks is refused.
    assert_eq!(pair(&mut b, 1_000 * MS, 4), Err(1));
    b.handle(1_000 * MS, Input::PairingAction);
    let (key, phone_code, button_code) =
        pair(&mut b, 1_000 * MS, 5).unwrap_or_else(|n| panic!("{n}"));
    assert_eq!(phone_code, button_code);
    assert_eq!(b.flash().bond, Some(key));
    // The queued press goes out under the new bond.
    let mut phone = Phone::new(key);
    assert!(phone.hello(&mut b, 1_000 * MS));
    phone.send(&mut b, 1_000 * MS, Command::SetTime { utc_ms: UTC });
    assert_eq!(events(phone.frames(&drain(&mut b))).len(), 1);
    // Bonded: a pairing request outside the window is refused and counted.
    assert_eq!(pair(&mut b, 2_000 * MS, 6), Err(2));
    b.handle(3_000 * MS, Input::PairingAction);
    let (new_key, ..) = pair(&mut b, 4_000 * MS, 7).unwrap_or_else(|n| panic!("{n}"));
    assert_ne!(new_key, key);
    // The old bond's phone cannot open a session any more.
    b.handle(5_000 * MS, Input::Disconnected);
    b.handle(6_000 * MS, Input::Connected);
    assert!(!Phone::new(key).hello(&mut b, 6_000 * MS));
    assert!(Phone::new(new_key).hello(&mut b, 6_000 * MS));
    // The window closes after 60 s.
    b.handle(7_000 * MS, Input::PairingAction);
    assert!(pair(&mut b, 68_000 * MS, 8).is_err());
}

#[test]
fn a_man_in_the_middle_gets_a_code_that_differs() {
    let mut b = boot(Flash::factory(), 0);
    b.handle(0, Input::Connected);
    b.handle(0, Input::PairingAction);
    let phone = PairingKeyPair::from_entropy([1; 32]);
    let mitm = PairingKeyPair::from_entropy([2; 32]);
    // The attacker relays its own key to the button and the button's... its own to the phone.
    write(
        &mut b,
        0,
        &ToButton::PairRequest {
            phone_public: mitm.public(),
        },
    );
    let button_code = b.pairing_code();
    let on_phone = phone
        .agree(&phone.public(), &mitm.public())
        .ok()
        .map(|p| p.code);
    assert!(button_code.is_some() && on_phone.is_some());
    assert_ne!(button_code, on_phone);
}

#[test]
fn unbond_by_the_bonded_phone_only() {
    let mut b = boot(Flash::bonded(KEY), 0);
    let mut phone = Phone::new(KEY);
    phone.connect(&mut b, 0);
    let mut stranger = Phone::new(BondKey([2; 16]));
    stranger.session = phone.session;
    stranger.send(&mut b, 0, Command::Unbond);
    assert!(b.is_bonded());
    phone.send(&mut b, 0, Command::Unbond);
    assert!(!b.is_bonded());
}

#[test]
fn a_flat_cell_browns_out_at_boot_and_while_advertising_and_sends_nothing() {
    let p = DeviceProfile::default();
    let boot_on = |soc| {
        Button::boot(
            p.clone(),
            Flash::bonded(KEY),
            Button::fresh_battery(&p, soc),
            0,
            [1; 32],
        )
    };
    let mut flat = boot_on(0.0);
    assert!(flat.is_dead());
    assert!(drain(&mut flat).contains(&Action::BrownOut));
    // Advertising (no radio pulse accounted) until the cell is flat: the button dies
    // then, and a later connection hears nothing from it.
    let mut b = boot_on(0.5);
    drain(&mut b);
    run_to(&mut b, 30 * 86_400 * 1_000 * MS);
    assert!(
        b.is_dead(),
        "the cell ran flat: {} %",
        b.battery().soc_percent(0)
    );
    assert!(drain(&mut b).contains(&Action::BrownOut));
    assert_eq!(b.poll_timeout(), None);
}

#[test]
fn a_transmission_the_cell_cannot_carry_browns_out_before_it_leaves() {
    let p = DeviceProfile::default();
    // At 1 % a radio pulse browns a coin cell out (see `power`).
    let mut b = Button::boot(
        p.clone(),
        Flash::bonded(KEY),
        Button::fresh_battery(&p, 1.0),
        0,
        [1; 32],
    );
    press(&mut b, 100, 120);
    run_to(&mut b, 2_000 * MS);
    assert_eq!(b.flash().queue.len(), 1);
    let mut phone = Phone::new(KEY);
    phone.connect(&mut b, 2_000 * MS);
    let actions = drain(&mut b);
    assert!(b.is_dead());
    assert!(actions.contains(&Action::BrownOut));
    assert!(phone.frames(&actions).is_empty(), "no heartbeat, no press");
    assert_eq!(b.flash().queue.len(), 1, "the press stays queued in flash");
}

/// The bulk path does each heartbeat's bookkeeping exactly as the full path does.
#[cfg(feature = "fast-forward")]
#[test]
fn idle_heartbeats_in_bulk_leave_the_button_as_the_full_path_does() {
    let start = |soc: f64| {
        let mut b = Button::boot(
            DeviceProfile::default(),
            Flash::bonded(KEY),
            Button::fresh_battery(&DeviceProfile::default(), soc),
            0,
            [7; 32],
        );
        let mut phone = Phone::new(KEY);
        phone.connect(&mut b, 0);
        drain(&mut b);
        b
    };
    // Just above a level boundary, so that the level drops within the run.
    for soc in [100.0, 57.0001, 35.0001] {
        let (mut full, mut bulk) = (start(soc), start(soc));
        let until = 2 * 86_400 * 1_000 * MS;
        let level_before = full.level();
        run_to(&mut full, until);
        if soc < 100.0 {
            assert!(
                full.level() < level_before,
                "{soc}%: the level drops on the way"
            );
        }
        let notified = |actions: &[Action]| {
            actions
                .iter()
                .filter(|a| matches!(a, Action::Notify { .. }))
                .count() as u32
        };
        let beats = notified(&drain(&mut full));
        // The host's loop: a run when the button is idle, else the full path.
        let (mut in_bulk, mut one_by_one) = (0, 0);
        loop {
            if let Some(run) = bulk.idle_heartbeats(until + 1, u64::MAX) {
                in_bulk += run.count;
                continue;
            }
            match bulk.poll_timeout().filter(|&d| d <= until) {
                Some(due) => bulk.handle_timeout(due),
                None => break,
            }
            one_by_one += notified(&drain(&mut bulk));
        }
        assert!(in_bulk > 2_500, "{soc}%: {in_bulk} heartbeats in bulk");
        assert_eq!(in_bulk + one_by_one, beats, "{soc}%: as many heartbeats");
        assert_eq!(bulk.level(), full.level(), "{soc}%");
        assert_eq!(
            bulk.core.next_heartbeat_at, full.core.next_heartbeat_at,
            "{soc}%"
        );
        assert_eq!(bulk.core.next_level_at, full.core.next_level_at, "{soc}%");
        assert_eq!(
            bulk.core.session.map(|s| s.next_index),
            full.core.session.map(|s| s.next_index),
            "{soc}%"
        );
        assert_eq!(
            bulk.battery().soc_permille(until),
            full.battery().soc_permille(until),
            "{soc}%"
        );
        assert_eq!(
            bulk.battery().consumed_uah(Consumer::Radio),
            full.battery().consumed_uah(Consumer::Radio),
            "{soc}%"
        );
    }
}

/// A run declines when the button has anything else to do.
#[cfg(feature = "fast-forward")]
#[test]
fn idle_heartbeats_decline_with_an_event_queued() {
    let mut b = boot(Flash::bonded(KEY), 0);
    let mut phone = Phone::new(KEY);
    phone.connect(&mut b, 0);
    drain(&mut b);
    press(&mut b, 1_000, 100);
    run_to(&mut b, 2_000 * MS);
    drain(&mut b);
    assert_eq!(b.idle_heartbeats(u64::MAX, u64::MAX), None);
}

/// Issue 14's queue: a full queue keeps the first alert, logs and counts what went, and
/// every heartbeat then tells the phone how many went.
#[test]
fn a_full_queue_keeps_the_first_alert_and_reports_the_drops_in_heartbeats() {
    let mut b = boot(Flash::bonded(KEY), 0);
    let cap = firmware::queue::QUEUE_CAPACITY as u64;
    for i in 0..cap + 3 {
        press(&mut b, 1_000 + i * 1_000, 100);
    }
    run_to(&mut b, (2_000 + (cap + 3) * 1_000) * MS);
    let log = drain(&mut b);
    let dropped: Vec<u32> = log
        .iter()
        .filter_map(|a| match a {
            Action::Log(DeviceEvent::Dropped { seq }) => Some(*seq),
            _ => None,
        })
        .collect();
    assert_eq!(dropped, vec![2, 3, 4], "the second-oldest goes each time");
    let q = b.flash().queue.events();
    assert_eq!(q.len(), cap as usize);
    assert_eq!(q[0].seq, 1, "the first alert stays");
    assert_eq!(
        q.last().map(|e| e.seq),
        Some(cap as u32 + 3),
        "the latest too"
    );
    assert_eq!(b.flash().queue.dropped(), 3);
    // The count survives a reset and rides in the heartbeat after the level.
    let (flash, battery) = b.into_parts();
    let mut b = Button::boot(
        DeviceProfile::default(),
        flash,
        battery,
        200_000 * MS,
        [4; 32],
    );
    let mut phone = Phone::new(KEY);
    let now = 200_000 * MS;
    phone.connect(&mut b, now);
    let beats: Vec<Vec<u8>> = phone
        .frames(&drain(&mut b))
        .into_iter()
        .filter(|f| f.kind == EventKind::Heartbeat)
        .map(|f| f.payload.to_vec())
        .collect();
    let mut want = vec![100];
    want.extend_from_slice(&3u32.to_le_bytes());
    assert_eq!(beats, vec![want]);
}

/// Issue 14's queue: an event the phone never acknowledges does not block the next.
#[test]
fn an_unacknowledged_head_does_not_block_the_events_behind_it() {
    let mut b = boot(Flash::bonded(KEY), 0);
    press(&mut b, 0, 100);
    press(&mut b, 1_000, 100);
    run_to(&mut b, 2_000 * MS);
    let mut phone = Phone::new(KEY);
    let mut now = 2_000 * MS;
    phone.connect(&mut b, now);
    let sent = |b: &mut Button, phone: &Phone| -> Vec<u32> {
        events(phone.frames(&drain(b)))
            .iter()
            .map(|f| f.seq)
            .collect()
    };
    assert_eq!(sent(&mut b, &phone), vec![1]);
    // The phone rejects #1 silently: after the timeout #2 goes, and the phone acks it.
    let timeout = u64::from(DeviceProfile::default().link.ack_timeout_ms) * MS;
    now += timeout;
    run_to(&mut b, now);
    assert_eq!(sent(&mut b, &phone), vec![2]);
    phone.send(&mut b, now, Command::Ack { seq: 2 });
    // Then #1 again, in turn.
    assert_eq!(sent(&mut b, &phone), vec![1]);
    let seqs: Vec<u32> = b.flash().queue.events().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1]);
}

/// Issue 14's queue: the sequence counter never wraps to reuse a number.
#[test]
fn sequence_numbers_refuse_rather_than_wrap() {
    let mut flash = Flash::bonded(KEY);
    flash.queue.set_seq_next(u32::MAX - 1);
    let mut b = boot(flash, 0);
    press(&mut b, 0, 100);
    press(&mut b, 1_000, 100);
    run_to(&mut b, 2_000 * MS);
    let log = drain(&mut b);
    assert!(log.contains(&Action::Log(DeviceEvent::Queued {
        seq: u32::MAX - 1,
        kind: EventKind::Single
    })));
    assert!(log.contains(&Action::Log(DeviceEvent::NotQueued {
        kind: EventKind::Single
    })));
    let seqs: Vec<u32> = b.flash().queue.events().iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        vec![u32::MAX - 1],
        "no event numbered 0, 1 or u32::MAX"
    );
}
