//! The virtual BLE link between the button (peripheral) and the phone (central).
//!
//! Modelled, all in virtual time:
//! - advertising at the button's interval (fast, then slow), seen by the phone's
//!   continuous scan at the next advertising event (plus the 0–10 ms advDelay of the
//!   spec), each advertising event missed with the link's loss probability;
//! - connection set-up (`conn_setup_ms`, covering CONNECT_IND and service discovery);
//! - a connection-event grid (`conn_interval_ms`): a PDU goes out at the next connection
//!   event after it is queued, in order per direction; a lost packet is retransmitted by
//!   the link layer at the following event, so loss becomes delay — until no packet has
//!   passed for `supervision_timeout_ms`, when both sides declare the link lost;
//! - losses independent from packet to packet at the loss rate in force, drawn as the
//!   gaps between them (geometric, [`Stream::geometric`]): a draw per lost packet, not
//!   per packet, so a run of packets that all cross costs O(1) to skip;
//! - outages (nothing passes until they end), Bluetooth switched off on the phone,
//!   and loss from distance: log-distance path loss → RSSI → packet error rate.
//!
//! The link only computes *when* things arrive; the simulation delivers them. Every PDU
//! that crosses is recorded (for btsnoop captures).

use crate::rng::Stream;
use crate::sched::{Micros, MILLI};

/// Radio and link-layer parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkParams {
    /// Connection interval (ms).
    pub conn_interval_ms: u32,
    /// Slave latency: connection events the idle button may skip (it listens every
    /// `slave_latency + 1` events, and at every event where it has something to send).
    pub slave_latency: u16,
    /// Supervision timeout (ms).
    pub supervision_timeout_ms: u32,
    /// From the phone's CONNECT_IND to services discovered (ms).
    pub conn_setup_ms: u32,
    /// ATT MTU (bytes).
    pub att_mtu: u16,
}

impl Default for LinkParams {
    fn default() -> Self {
        Self {
            conn_interval_ms: 100,
            slave_latency: 9,
            supervision_timeout_ms: 4_000,
            conn_setup_ms: 150,
            att_mtu: 247,
        }
    }
}

/// Packet error rate at `distance_m` for the default radio: 0 dBm TX, 40 dB path loss at
/// 1 m, path-loss exponent 3.0 (body-worn, indoors), −94 dBm sensitivity, and a logistic
/// PER curve of 2 dB slope around sensitivity: `PER = 1 / (1 + exp((RSSI + 94) / 2))`
/// with `RSSI = −40 − 30·log10(d)`. Tabulated (and interpolated linearly) so that no
/// transcendental function of the platform's libm enters the timeline.
pub fn per_from_distance(distance_m: f64) -> f64 {
    // (distance m, PER) computed from the formula above.
    const TABLE: &[(f64, f64)] = &[
        (0.0, 0.0),
        (10.0, 0.000_000_3),
        (20.0, 0.000_027),
        (30.0, 0.000_66),
        (40.0, 0.007_2),
        (50.0, 0.036),
        (60.0, 0.10),
        (70.0, 0.21),
        (80.0, 0.36),
        (90.0, 0.51),
        (100.0, 0.64),
        (120.0, 0.83),
        (150.0, 0.95),
        (200.0, 0.995),
        (300.0, 1.0),
    ];
    if distance_m <= 0.0 {
        return 0.0;
    }
    for w in TABLE.windows(2) {
        let ((d0, p0), (d1, p1)) = (w[0], w[1]);
        if distance_m <= d1 {
            return p0 + (p1 - p0) * (distance_m - d0) / (d1 - d0);
        }
    }
    1.0
}

/// RSSI (dBm) at `distance_m`, from the same table's model, rounded (for advertisements).
pub fn rssi_from_distance(distance_m: f64) -> i16 {
    // −40 − 30·log10(d), with log10 by decades and linear inside (display only).
    let d = distance_m.max(0.1);
    let mut decades = 0.0;
    let mut x = d;
    while x >= 10.0 {
        x /= 10.0;
        decades += 1.0;
    }
    while x < 1.0 {
        x *= 10.0;
        decades -= 1.0;
    }
    let frac = (x - 1.0) / 9.0;
    (-40.0 - 30.0 * (decades + frac)).round() as i16
}

/// Direction of a PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Button → phone.
    ToPhone = 0,
    /// Phone → button.
    ToButton = 1,
}

/// One PDU that crossed the air, for captures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AirPdu {
    /// When it arrived.
    pub t_us: Micros,
    /// Direction.
    pub dir: Dir,
    /// ATT PDU bytes (opcode first).
    pub att: Vec<u8>,
    /// Connection it belongs to.
    pub conn: u64,
}

/// Connection or link-level happenings the link schedules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEv {
    /// The phone's scan caught an advertisement (valid if `gen` is current).
    AdvSeen {
        /// Discovery generation.
        gen: u64,
    },
    /// The connection set-up the phone started ends (succeeds or fails) now, if `req`
    /// is still the current request.
    Established {
        /// Connection request number.
        gen: u64,
    },
    /// Check whether the connection `conn` is still alive (supervision timeout).
    Supervision {
        /// Connection id.
        conn: u64,
    },
    /// An outage ended.
    OutageEnd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Conn {
    id: u64,
    anchor: Micros,
    /// A packet already known to be lost for good ends the link at this time.
    doomed_at: Option<Micros>,
}

/// The link's state.
#[derive(Debug)]
pub struct VirtualLink {
    /// Parameters.
    pub params: LinkParams,
    conn: Option<Conn>,
    conn_counter: u64,
    adv: Option<(Micros, u32)>,
    scanning: bool,
    phone_radio: bool,
    outage_until: Option<Micros>,
    loss_set: f64,
    distance_m: f64,
    /// Packets that will still cross before the next one lost, at the loss rate in
    /// force (`None`: not drawn yet, or the rate changed since).
    gap: Option<u64>,
    gen: u64,
    connect_req: u64,
    next_free: [Micros; 2],
    /// PDUs that crossed.
    pub capture: Vec<AirPdu>,
    /// Whether to record PDUs.
    pub capture_on: bool,
}

impl VirtualLink {
    /// A link with nobody advertising or scanning.
    pub fn new(params: LinkParams) -> Self {
        Self {
            params,
            conn: None,
            conn_counter: 0,
            adv: None,
            scanning: false,
            phone_radio: true,
            outage_until: None,
            loss_set: 0.0,
            distance_m: 1.0,
            gap: None,
            gen: 0,
            connect_req: 0,
            next_free: [0; 2],
            capture: Vec::new(),
            capture_on: false,
        }
    }

    /// Whether PDUs put on the connection from `now` on depend only on the radio
    /// stream: connected, not doomed, no outage after `now`, nothing recorded.
    pub fn clear_from(&self, now: Micros) -> bool {
        self.conn.is_some_and(|c| c.doomed_at.is_none())
            && self.outage_until.is_none_or(|u| u <= now)
            && !self.capture_on
    }

    /// The connection interval.
    pub(crate) fn interval(&self) -> Micros {
        u64::from(self.params.conn_interval_ms) * MILLI
    }

    fn supervision(&self) -> Micros {
        u64::from(self.params.supervision_timeout_ms) * MILLI
    }

    /// Probability that one packet is lost.
    pub fn loss(&self) -> f64 {
        let d = per_from_distance(self.distance_m);
        // Independent causes: set loss rate and distance.
        1.0 - (1.0 - self.loss_set) * (1.0 - d)
    }

    /// Set the packet loss rate (0..=1).
    pub fn set_loss(&mut self, now: Micros, p: f64) -> Vec<(Micros, LinkEv)> {
        self.loss_set = p.clamp(0.0, 1.0);
        self.gap = None;
        self.idle_doom(now)
    }

    /// Set the distance between button and phone.
    pub fn set_distance(&mut self, now: Micros, m: f64) -> Vec<(Micros, LinkEv)> {
        self.distance_m = m.max(0.0);
        self.gap = None;
        self.idle_doom(now)
    }

    /// Whether the next packet sent is lost.
    fn lost(&mut self, rng: &mut Stream) -> bool {
        if self.crossing_ahead(rng) == 0 {
            // The loss the gap led to: the next packet draws a new gap.
            self.gap = None;
            return true;
        }
        self.crossed(1);
        false
    }

    /// Consecutive packets lost before one crosses, at most `cap`.
    fn failures(&mut self, rng: &mut Stream, cap: u64) -> u64 {
        let mut n = 0;
        while n < cap && self.lost(rng) {
            n += 1;
        }
        n
    }

    /// How many packets will cross, one after the other, before the next one lost
    /// (`u64::MAX` on a lossless link). Draws the gap if it is not drawn yet: the
    /// draws are the ones sending those packets would make.
    pub fn crossing_ahead(&mut self, rng: &mut Stream) -> u64 {
        let p = self.loss();
        if p <= 0.0 {
            return u64::MAX;
        }
        *self.gap.get_or_insert_with(|| rng.geometric(1.0 - p))
    }

    /// `n` packets crossed (sent in bulk elsewhere): at most [`Self::crossing_ahead`].
    pub fn crossed(&mut self, n: u64) {
        if let Some(g) = self.gap.as_mut() {
            *g = g.saturating_sub(n);
        }
    }

    /// An idle connection exchanges empty packets at every connection event: when the
    /// loss is so high that a whole supervision timeout's worth of consecutive losses is
    /// likely (probability ≥ 1 %), the connection is lost one supervision timeout from
    /// now even if no data flows. (Computed by repeated multiplication, not `powf`.)
    pub fn idle_doom(&mut self, now: Micros) -> Vec<(Micros, LinkEv)> {
        let Some(c) = self.conn else {
            return Vec::new();
        };
        let n = self.supervision() / self.interval();
        let p = self.loss();
        let mut q = 1.0;
        for _ in 0..n {
            q *= p;
            if q < 0.01 {
                return Vec::new();
            }
        }
        let doom = now + self.supervision();
        if let Some(c) = self.conn.as_mut() {
            c.doomed_at = Some(c.doomed_at.map_or(doom, |d| d.min(doom)));
        }
        vec![(doom, LinkEv::Supervision { conn: c.id })]
    }

    /// Distance between button and phone.
    pub fn distance(&self) -> f64 {
        self.distance_m
    }

    /// Current connection id.
    pub fn conn_id(&self) -> Option<u64> {
        self.conn.map(|c| c.id)
    }

    /// Whether an outage is in force at `t`.
    pub fn in_outage(&self, t: Micros) -> bool {
        self.outage_until.is_some_and(|u| t < u)
    }

    /// Whether the phone's radio is on.
    pub fn phone_radio(&self) -> bool {
        self.phone_radio
    }

    /// Establish the connection at once (scenario start: bonded and connected).
    pub fn connect_now(&mut self, now: Micros) -> u64 {
        self.conn_counter += 1;
        self.conn = Some(Conn {
            id: self.conn_counter,
            anchor: now,
            doomed_at: None,
        });
        self.adv = None;
        self.next_free = [now; 2];
        self.conn_counter
    }

    /// Drop the connection (both sides are told by the caller).
    pub fn drop_conn(&mut self) -> Option<u64> {
        self.conn.take().map(|c| c.id)
    }

    /// The button advertises (again) at `interval_ms`.
    pub fn set_advertising(
        &mut self,
        now: Micros,
        interval_ms: u32,
        rng: &mut Stream,
    ) -> Vec<(Micros, LinkEv)> {
        self.adv = Some((now, interval_ms));
        self.discover(now, rng)
    }

    /// The button stopped advertising (it is off).
    pub fn stop_advertising(&mut self) {
        self.adv = None;
        self.gen += 1;
    }

    /// The phone scans or stops.
    pub fn set_scanning(
        &mut self,
        now: Micros,
        on: bool,
        rng: &mut Stream,
    ) -> Vec<(Micros, LinkEv)> {
        self.scanning = on;
        if on {
            self.discover(now, rng)
        } else {
            self.gen += 1;
            Vec::new()
        }
    }

    /// The phone's Bluetooth radio switched on or off.
    pub fn set_phone_radio(
        &mut self,
        now: Micros,
        on: bool,
        rng: &mut Stream,
    ) -> Vec<(Micros, LinkEv)> {
        self.phone_radio = on;
        if on {
            self.discover(now, rng)
        } else {
            self.scanning = false;
            self.gen += 1;
            Vec::new()
        }
    }

    /// An outage from `now` for `dur`.
    pub fn start_outage(&mut self, now: Micros, dur: Micros) -> Vec<(Micros, LinkEv)> {
        let until = now + dur;
        self.outage_until = Some(self.outage_until.map_or(until, |u| u.max(until)));
        let mut out = vec![(until, LinkEv::OutageEnd)];
        if let Some(c) = self.conn {
            out.push((now + self.supervision(), LinkEv::Supervision { conn: c.id }));
        }
        self.gen += 1;
        out
    }

    /// An outage ended (if no later one extends it): look for the button again.
    pub fn outage_end(&mut self, now: Micros, rng: &mut Stream) -> Vec<(Micros, LinkEv)> {
        if self.outage_until.is_some_and(|u| u <= now) {
            self.outage_until = None;
        }
        self.discover(now, rng)
    }

    /// Whether a supervision check at `now` finds connection `conn` lost.
    pub fn supervision_lost(&self, now: Micros, conn: u64) -> bool {
        match self.conn {
            Some(c) if c.id == conn => self.in_outage(now) || c.doomed_at.is_some_and(|d| d <= now),
            _ => false,
        }
    }

    /// Schedule the phone's discovery of the advertising button, if it can happen.
    pub fn discover(&mut self, now: Micros, rng: &mut Stream) -> Vec<(Micros, LinkEv)> {
        self.gen += 1;
        let Some((anchor, interval_ms)) = self.adv else {
            return Vec::new();
        };
        if self.conn.is_some() || !self.scanning || !self.phone_radio || self.hopeless() {
            return Vec::new();
        }
        let start = self.outage_until.map_or(now, |u| u.max(now));
        let interval = u64::from(interval_ms) * MILLI;
        let k = start.saturating_sub(anchor).div_ceil(interval);
        let missed = self.failures(rng, 1_000);
        let jitter = rng.range(0, 10) * MILLI;
        let at = anchor + (k + missed) * interval + jitter;
        vec![(at, LinkEv::AdvSeen { gen: self.gen })]
    }

    /// Whether a discovery or establishment event of generation `gen` still holds.
    pub fn current_gen(&self, gen: u64) -> bool {
        gen == self.gen
            && self.conn.is_none()
            && self.adv.is_some()
            && self.scanning
            && self.phone_radio
    }

    /// The phone asked to connect after seeing an advertisement at `now`.
    pub fn request_connection(&mut self, now: Micros) -> Vec<(Micros, LinkEv)> {
        // Only a newer request or the connection itself supersedes a request: changes of
        // the advertising interval or new discoveries do not.
        self.connect_req += 1;
        let at = now + u64::from(self.params.conn_setup_ms) * MILLI;
        vec![(
            at,
            LinkEv::Established {
                gen: self.connect_req,
            },
        )]
    }

    /// Whether `req` is the pending connection request.
    pub fn current_request(&self, req: u64) -> bool {
        req == self.connect_req && self.conn.is_none()
    }

    /// Connection set-up completed at `now`; returns the connection id, or `None` when it
    /// failed (the button is not advertising or unreachable, or the phone's radio is off).
    pub fn establish(&mut self, now: Micros) -> Option<u64> {
        if self.adv.is_none() || !self.phone_radio || self.in_outage(now) || self.hopeless() {
            return None;
        }
        Some(self.connect_now(now))
    }

    /// Whether the link is so lossy that a connection cannot be kept.
    pub fn hopeless(&self) -> bool {
        self.loss() >= 0.999
    }

    /// When a PDU queued at `now` in direction `dir` arrives, or `None` when the link
    /// will be lost first (the caller then learns it through a supervision event).
    pub fn transmit(
        &mut self,
        now: Micros,
        dir: Dir,
        rng: &mut Stream,
    ) -> (Option<Micros>, Vec<(Micros, LinkEv)>) {
        let Some(conn) = self.conn else {
            return (None, Vec::new());
        };
        let interval = self.interval();
        let mut start = now.max(self.next_free[dir as usize]);
        if let Some(u) = self.outage_until.filter(|&u| u > start) {
            start = u;
        }
        // The next connection event strictly after `start` (a reply never shares its
        // event). Towards the button, an event it listens to: every `latency + 1` events
        // when idle, or the one right after it last transmitted (it stays awake then).
        let k = start.saturating_sub(conn.anchor) / interval + 1;
        let mut first = conn.anchor + k * interval;
        let mut step = interval;
        if dir == Dir::ToButton {
            let awake = self.next_free[Dir::ToPhone as usize] + interval >= first;
            if !awake {
                step = interval * (u64::from(self.params.slave_latency) + 1);
                let k = start.saturating_sub(conn.anchor) / step + 1;
                first = conn.anchor + k * step;
            }
        }
        let cap = self.supervision() / step + 1;
        let fails = self.failures(rng, cap);
        if fails * step >= self.supervision() {
            let doom = first + self.supervision();
            if let Some(c) = self.conn.as_mut() {
                c.doomed_at = Some(c.doomed_at.map_or(doom, |d| d.min(doom)));
            }
            return (None, vec![(doom, LinkEv::Supervision { conn: conn.id })]);
        }
        let at = first + fails * step;
        self.next_free[dir as usize] = at;
        (Some(at), Vec::new())
    }

    /// Record a PDU that crossed.
    pub fn record(&mut self, t_us: Micros, dir: Dir, att: Vec<u8>) {
        if self.capture_on {
            let conn = self.conn.map_or(0, |c| c.id);
            self.capture.push(AirPdu {
                t_us,
                dir,
                att,
                conn,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Component;

    #[test]
    fn per_table_is_monotonic() {
        let mut last = 0.0;
        for d in 0..400 {
            let p = per_from_distance(f64::from(d));
            assert!(p >= last && (0.0..=1.0).contains(&p));
            last = p;
        }
        assert!(per_from_distance(5.0) < 1e-6);
        assert!(per_from_distance(250.0) > 0.99);
        assert_eq!(rssi_from_distance(1.0), -40);
        assert_eq!(rssi_from_distance(10.0), -70);
    }

    #[test]
    fn lossless_delivery_is_next_connection_event_in_order() {
        let mut rng = Stream::new(1, Component::Radio);
        let mut l = VirtualLink::new(LinkParams::default());
        l.connect_now(0);
        let (a, _) = l.transmit(5_000, Dir::ToPhone, &mut rng);
        let (b, _) = l.transmit(6_000, Dir::ToPhone, &mut rng);
        assert_eq!(a, Some(100_000));
        assert!(b >= a);
    }

    #[test]
    fn an_idle_button_hears_the_phone_at_its_latency_events_only() {
        let mut rng = Stream::new(1, Component::Radio);
        let mut l = VirtualLink::new(LinkParams::default());
        l.connect_now(0);
        // Idle: the button listens every (9 + 1) x 100 ms.
        let (w, _) = l.transmit(2_005_000, Dir::ToButton, &mut rng);
        assert_eq!(w, Some(3_000_000));
        // Right after the button transmitted, it is awake for the next event.
        let (up, _) = l.transmit(3_250_000, Dir::ToPhone, &mut rng);
        assert_eq!(up, Some(3_300_000));
        let (reply, _) = l.transmit(3_300_000, Dir::ToButton, &mut rng);
        assert_eq!(reply, Some(3_400_000));
    }

    #[test]
    fn outage_delays_and_supervision_ends_link() {
        let mut rng = Stream::new(1, Component::Radio);
        let mut l = VirtualLink::new(LinkParams::default());
        let id = l.connect_now(0);
        let evs = l.start_outage(1_000_000, 10_000_000);
        assert!(evs.contains(&(5_000_000, LinkEv::Supervision { conn: id })));
        assert!(l.supervision_lost(5_000_000, id));
        let mut short = VirtualLink::new(LinkParams::default());
        let id = short.connect_now(0);
        short.start_outage(1_000_000, 1_000_000);
        assert!(!short.supervision_lost(5_000_000, id));
        let (t, _) = short.transmit(1_100_000, Dir::ToButton, &mut rng);
        assert!(t.is_some_and(|t| t >= 2_000_000));
    }
}
