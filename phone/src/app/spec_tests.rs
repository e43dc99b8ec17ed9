//! Unit tests of the behaviours of SPEC §3 that a QA suite found wrong: the text when
//! no position was ever known, "I am safe" counted from delivery, the disconnect
//! warning counted from the last exchange (across restarts), and battery warnings
//! once per threshold.

use super::testkit::{connected_app, drain, T0};
use super::*;

fn sms_texts(cmds: &[Command]) -> Vec<(u64, String, String)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::SendSms { id, to, text } => Some((*id, to.clone(), text.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn without_any_fix_the_sms_says_position_unknown_in_lower_case() {
    let (mut app, mut b) = connected_app();
    app.handle(T0 + 1, b.press(1));
    drain(&mut app);
    let at = app.poll_timeout().unwrap_or(u64::MAX);
    assert_eq!(at, T0 + 1 + 10 * S, "the fix wait");
    app.handle_timeout(at);
    let sms = sms_texts(&drain(&mut app));
    assert_eq!(sms.len(), 1);
    assert!(sms[0].2.contains("position unknown"), "{:?}", sms[0].2);
}

const MIN: u64 = 60 * S;

/// A press with a current fix: returns the ids of the alert SMS handed to the service.
fn alert_sent(app: &mut PhoneApp, b: &mut super::testkit::FakeButton, at: u64) -> Vec<u64> {
    app.handle(at, b.press(1));
    let fix = Fix {
        lat: 48.8566,
        lon: 2.3522,
        accuracy_m: 5.0,
        utc_ms: at / 1000,
    };
    app.handle(at, Input::Location(fix));
    let ids: Vec<u64> = sms_texts(&drain(app)).iter().map(|s| s.0).collect();
    for &id in &ids {
        app.handle(at + S / 5, Input::SmsResult { id, ok: true });
    }
    drain(app);
    ids
}

fn safe_sms(app: &mut PhoneApp, b: &mut super::testkit::FakeButton, seq: u32, at: u64) -> usize {
    app.handle(at, b.event(seq, EventKind::Triple, vec![]));
    app.handle_timeout(at + 11 * S);
    let cmds = drain(app);
    sms_texts(&cmds)
        .iter()
        .filter(|s| s.2.contains("I am safe"))
        .count()
}

#[test]
fn i_am_safe_goes_only_to_contacts_whose_alert_was_delivered() {
    let (mut app, mut b) = connected_app();
    let ids = alert_sent(&mut app, &mut b, T0 + 1);
    assert_eq!(ids.len(), 1);
    // Accepted but not delivered: nobody has received an alert.
    assert_eq!(safe_sms(&mut app, &mut b, 2, T0 + MIN), 0);
}

#[test]
fn i_am_safe_counts_the_window_from_the_delivery() {
    let (mut app, mut b) = connected_app();
    let ids = alert_sent(&mut app, &mut b, T0 + 1);
    // The network held the SMS back for 40 minutes.
    app.handle(T0 + 40 * MIN, Input::SmsDelivered { id: ids[0] });
    // 65 minutes after it was sent, 25 after it was delivered.
    assert_eq!(safe_sms(&mut app, &mut b, 2, T0 + 65 * MIN), 1);
    // And the window closes 30 minutes after the delivery.
    let (mut app, mut b) = connected_app();
    let ids = alert_sent(&mut app, &mut b, T0 + 1);
    app.handle(T0 + 2 * S, Input::SmsDelivered { id: ids[0] });
    assert_eq!(safe_sms(&mut app, &mut b, 2, T0 + 31 * MIN), 0);
}

fn warned_disconnected(cmds: &[Command]) -> bool {
    cmds.contains(&Command::Warn(Warning::ButtonDisconnected))
}

/// The link goes silent at `T0 + 10 s`; the central gives it up 4 s later.
fn lost_at_10_s() -> PhoneApp {
    let (mut app, b) = connected_app();
    let lost = Input::Gatt(GattEvent::LinkLost {
        device: b.dev.clone(),
        silent_us: 4 * S,
    });
    app.handle(T0 + 14 * S, lost);
    drain(&mut app);
    app
}

#[test]
fn the_disconnect_warning_counts_from_the_last_exchange_not_from_the_timeout() {
    let mut app = lost_at_10_s();
    assert_eq!(app.poll_timeout(), Some(T0 + 70 * S));
    app.handle_timeout(T0 + 70 * S - 1);
    assert!(!warned_disconnected(&drain(&mut app)));
    app.handle_timeout(T0 + 70 * S);
    assert!(warned_disconnected(&drain(&mut app)));
}

#[test]
fn an_app_restart_during_the_outage_does_not_restart_the_count() {
    let app = lost_at_10_s();
    let mut again = PhoneApp::start(
        app.config().clone(),
        app.durable().clone(),
        T0 + 40 * S,
        [6; 32],
    );
    drain(&mut again);
    assert_eq!(again.poll_timeout(), Some(T0 + 70 * S));
    again.handle_timeout(T0 + 70 * S);
    let cmds = drain(&mut again);
    assert!(warned_disconnected(&cmds));
    // Warned once: a later restart in the same outage does not warn again.
    let durable = cmds
        .iter()
        .rev()
        .find_map(|c| match c {
            Command::Persist(b) => crate::store::record::decode(b).ok().map(|(_, d)| d),
            _ => None,
        })
        .unwrap_or_else(|| panic!("not persisted: {cmds:?}"));
    let mut third = PhoneApp::start(again.config().clone(), durable, T0 + 80 * S, [7; 32]);
    third.handle_timeout(T0 + 100 * S);
    assert!(!warned_disconnected(&drain(&mut third)));
}

#[test]
fn a_reconnection_forgets_the_loss() {
    let mut app = lost_at_10_s();
    let mut b = super::testkit::FakeButton::new(super::testkit::KEY);
    b.connect(&mut app, T0 + 20 * S);
    assert_eq!(app.durable().link_lost, None);
}

fn battery_warnings(cmds: &[Command]) -> usize {
    cmds.iter()
        .filter(|c| matches!(c, Command::Warn(Warning::BatteryLow(_))))
        .count()
}

#[test]
fn battery_warnings_fire_once_per_threshold_crossed() {
    let (mut app, mut b) = connected_app();
    let mut warnings = 0;
    for (i, pct) in [25u8, 21, 20, 19, 15, 11, 10, 9, 5, 1, 0]
        .into_iter()
        .enumerate()
    {
        app.handle(
            T0 + i as u64 * 60 * S,
            b.event(0, EventKind::Heartbeat, vec![pct]),
        );
        warnings += battery_warnings(&drain(&mut app));
        let want = match pct {
            21.. => 0,
            11..=20 => 1,
            _ => 2,
        };
        assert_eq!(warnings, want, "at {pct} %");
    }
}

#[test]
fn a_button_connecting_below_both_thresholds_warns_once() {
    let (mut app, mut b) = connected_app();
    let mut warnings = 0;
    for i in 0..10u8 {
        app.handle(
            T0 + u64::from(i) * 60 * S,
            b.event(0, EventKind::Heartbeat, vec![9 - i % 2]),
        );
        warnings += battery_warnings(&drain(&mut app));
    }
    // A low-battery event of the same crossing adds nothing.
    app.handle(T0 + 11 * 60 * S, b.event(1, EventKind::LowBattery, vec![8]));
    warnings += battery_warnings(&drain(&mut app));
    assert_eq!(warnings, 1);
}
