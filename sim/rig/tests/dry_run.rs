//! A rig dry run: every `@hil` scenario of the project's features, run by the rig's
//! runner against the simulator's virtual central (its button exposes the test service,
//! presses are injected through it) on virtual time, through the same step parser and
//! the same Then checks as the simulator. No scenario may fail; each either passes or
//! is reported as not run on this bench.

use std::path::PathBuf;

use protocol::BondKey;
use sim_rig::rig::{plan, run_scenarios, HilOptions, HilReport, ScenarioStatus, VirtualClock};
use sim_steps::steps::{self, Check, Given, Step, When};
use sim_world::simulation::EPOCH_UTC_MS;
use sim_world::virtual_client::VirtualGattClient;

const KEY: BondKey = BondKey([0x42; 16]);

fn dry_run(paths: &[String]) -> HilReport {
    let planned = plan(paths).unwrap_or_else(|e| panic!("{e}"));
    let mut link = VirtualGattClient::new(KEY, 7);
    let device = link.device().clone();
    let mut clock = VirtualClock::new(EPOCH_UTC_MS * 1_000);
    let opts = HilOptions {
        interactive: false,
        ..HilOptions::new(KEY)
    };
    run_scenarios(&mut link, &mut clock, &device, &opts, &planned)
}

#[test]
fn every_hil_feature_passes_a_dry_run_on_the_virtual_bench() {
    let features = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../features");
    let report = dry_run(&[features.display().to_string()]);
    println!("{}", report.render());
    assert!(report.scenarios.len() >= 6, "{}", report.render());
    assert_eq!(report.failed(), 0, "{}", report.render());
    assert_eq!(
        report.passed(),
        report.scenarios.len(),
        "{}",
        report.render()
    );
}

/// A step of the catalogue, by its example (the rig's tests write no step wording).
fn example(pred: impl Fn(&Step) -> bool) -> String {
    steps::catalogue()
        .iter()
        .map(|(d, _)| d)
        .find(|d| steps::parse(d.kind, d.example, None).is_ok_and(|s| pred(&s)))
        .map(|d| format!("{} {}", d.kind.name(), d.example))
        .unwrap_or_else(|| panic!("no such step in the catalogue"))
}

fn scenario(name: &str, steps: &[String]) -> String {
    let body: Vec<String> = steps.iter().map(|s| format!("    {s}\n")).collect();
    format!("  @hil\n  Scenario: {name}\n{}\n", body.concat())
}

#[test]
fn steps_a_rig_cannot_perform_are_not_run_and_checks_can_fail() {
    let press = example(|s| *s == Step::When(When::Presses(1)));
    let then = |c: Check| example(move |s| matches!(s, Step::Then(t) if t.check == c));
    let lossy = example(|s| matches!(s, Step::Given(Given::PacketLoss(_))));
    let contacts = example(|s| matches!(s, Step::Given(Given::ContactCount(3))));
    let exactly =
        example(|s| matches!(s, Step::Then(t) if matches!(t.check, Check::ExactlySms(5))));
    let no_network = example(|s| *s == Step::Given(Given::NoCellularNetwork));
    let short = example(|s| matches!(s, Step::When(When::Pass(d)) if d.as_secs() < 60));
    let days = example(|s| matches!(s, Step::When(When::Pass(d)) if d.as_secs() > 86_400));
    let feature = format!(
        "Feature: F\n\n{}{}{}{}",
        scenario(
            "lossy",
            &[lossy, press.clone(), then(Check::EveryContactReceivesSms)]
        ),
        scenario(
            "wrong count",
            &[contacts, press.clone(), short.clone(), exactly]
        ),
        scenario(
            "refused SMS raise an alert",
            &[
                no_network,
                press,
                short,
                then(Check::NoSms),
                then(Check::NoAlert)
            ]
        ),
        scenario("a long wait", &[days.replacen("When", "Given", 0)]),
    );
    let untagged = format!(
        "  Scenario: untagged\n    {}\n",
        example(|s| matches!(s, Step::When(When::Pass(_))))
    );
    let dir = std::env::temp_dir().join(format!("rig-dry-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let f = dir.join("x.feature");
    std::fs::write(&f, format!("{feature}{untagged}")).unwrap_or_else(|e| panic!("{e}"));
    let report = dry_run(&[f.display().to_string()]);
    let _ = std::fs::remove_dir_all(&dir);
    println!("{}", report.render());
    let status: Vec<&ScenarioStatus> = report.scenarios.iter().map(|s| &s.status).collect();
    assert_eq!(status.len(), 4);
    assert!(
        matches!(status[0], ScenarioStatus::NotRunOnHardware(w) if w.contains("radio is real")),
        "{status:?}"
    );
    assert!(
        matches!(status[1], ScenarioStatus::Failed(w) if w.contains("expected 5 SMS sent, 3 were")),
        "{status:?}"
    );
    // SPEC §4: refused SMS attempts are an alert too.
    assert!(
        matches!(status[2], ScenarioStatus::Failed(w) if w.contains("an alert was raised: ") && w.contains(" SMS")),
        "{status:?}"
    );
    assert!(
        matches!(status[3], ScenarioStatus::NotRunOnHardware(w) if w.contains("real time")),
        "{status:?}"
    );
    assert_eq!(
        (report.passed(), report.failed(), report.not_run()),
        (0, 2, 2)
    );
}

/// The virtual central, whose adapter is switched off after `off_at` of pumped time.
struct SwitchedOff {
    inner: VirtualGattClient,
    pumped: std::time::Duration,
    off_at: std::time::Duration,
    told: bool,
}

impl phone::GattClient for SwitchedOff {
    type Error = <VirtualGattClient as phone::GattClient>::Error;
    fn start_scan(&mut self) -> Result<(), Self::Error> {
        self.inner.start_scan()
    }
    fn stop_scan(&mut self) -> Result<(), Self::Error> {
        self.inner.stop_scan()
    }
    fn connect(&mut self, d: &phone::DeviceId) -> Result<(), Self::Error> {
        self.inner.connect(d)
    }
    fn subscribe(&mut self, d: &phone::DeviceId, c: protocol::Uuid) -> Result<(), Self::Error> {
        self.inner.subscribe(d, c)
    }
    fn write(
        &mut self,
        d: &phone::DeviceId,
        c: protocol::Uuid,
        v: &[u8],
        id: u64,
    ) -> Result<(), Self::Error> {
        self.inner.write(d, c, v, id)
    }
    fn disconnect(&mut self, d: &phone::DeviceId) -> Result<(), Self::Error> {
        self.inner.disconnect(d)
    }
    fn poll_event(&mut self) -> Option<phone::GattEvent> {
        if self.pumped >= self.off_at && !self.told {
            self.told = true;
            return Some(phone::GattEvent::Power(false));
        }
        self.inner.poll_event()
    }
}

impl sim_rig::rig::RigLink for SwitchedOff {
    fn pump(&mut self, d: std::time::Duration) {
        self.pumped += d;
        sim_rig::rig::RigLink::pump(&mut self.inner, d);
    }
    fn has_characteristic(&self, device: &phone::DeviceId, char: protocol::Uuid) -> bool {
        self.inner.has_characteristic(device, char)
    }
}

#[test]
fn an_adapter_switched_off_fails_clearly_and_keeps_what_the_phone_recorded() {
    let press = example(|s| *s == Step::When(When::Presses(1)));
    let short = example(|s| matches!(s, Step::When(When::Pass(d)) if d.as_secs() < 60));
    let every =
        example(|s| matches!(s, Step::Then(t) if t.check == Check::EveryContactReceivesSms));
    let feature = format!("Feature: F\n\n{}", scenario("off", &[press, short, every]));
    let dir = std::env::temp_dir().join(format!("rig-off-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let f = dir.join("off.feature");
    std::fs::write(&f, feature).unwrap_or_else(|e| panic!("{e}"));
    let planned = plan(&[f.display().to_string()]).unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_dir_all(&dir);
    let inner = VirtualGattClient::new(KEY, 7);
    let device = inner.device().clone();
    // Settling (3 s) and the press are over by 8 s; the wait is still running.
    let mut link = SwitchedOff {
        inner,
        pumped: std::time::Duration::ZERO,
        off_at: std::time::Duration::from_secs(8),
        told: false,
    };
    let mut clock = VirtualClock::new(EPOCH_UTC_MS * 1_000);
    let opts = HilOptions {
        interactive: false,
        ..HilOptions::new(KEY)
    };
    let report = run_scenarios(&mut link, &mut clock, &device, &opts, &planned);
    let text = report.render();
    println!("{text}");
    assert!(!report.ok(), "{text}");
    let sc = &report.scenarios[0];
    assert!(
        matches!(&sc.status, ScenarioStatus::Failed(w) if w.contains("adapter was switched off")),
        "{text}"
    );
    assert!(text.contains("SMS to "), "{text}");
    assert!(text.contains("recorded event #"), "{text}");
    assert!(sc.press_to_sms.is_some(), "{text}");
}
