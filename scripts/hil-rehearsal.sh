#!/usr/bin/env bash
# The BlueZ D-Bus rehearsal of the hardware paths (docs/hil.md): a private D-Bus bus,
# bluezoo (a mock of BlueZ's D-Bus API, PyPI, GPL-2.0, run as a separate tool) with two
# virtual adapters, `sim hil serve` on one and `sim hil run` (btleplug) on the other.
# Runs every @hil feature, the GATT-client conformance suite and three faults through
# them, and prints the figures. No kernel Bluetooth, controller or radio is involved.
#
# Usage: scripts/hil-rehearsal.sh        (or: cargo xtask hil-rehearsal)
# Needs: dbus-daemon (Debian package dbus-daemon), python3 with venv, a C compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
TARGET=${CARGO_TARGET_DIR:-target}
KEY=000102030405060708090a0b0c0d0e0f
CENTRAL=00:00:00:C0:FF:EE            # the central's adapter (a public address)
BLUEZOO_VERSION=1.0.2
VENV=$TARGET/hil-venv
WORK=$(mktemp -d /tmp/hil-rehearsal.XXXXXX)
PIDS=()

KEEP=1
die() { echo "HIL REHEARSAL FAILED: $* (logs in $WORK)" >&2; exit 1; }

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ "$KEEP" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

echo "== hil rehearsal: setup"
if ! command -v dbus-daemon >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dbus-daemon dbus-bin >/dev/null) \
      || die "dbus-daemon could not be installed (apt-get install dbus-daemon)"
  else
    die "dbus-daemon is missing: install the dbus-daemon package"
  fi
fi
command -v dbus-send >/dev/null 2>&1 || die "dbus-send is missing: install the dbus-bin package"
if [ ! -x "$VENV/bin/bluezoo" ]; then
  python3 -m venv "$VENV" || die "python3 -m venv failed (install python3-venv)"
  "$VENV/bin/pip" install -q "bluezoo==$BLUEZOO_VERSION" || die "pip install bluezoo==$BLUEZOO_VERSION failed"
fi
cargo build -q -p sim --features hil
SIM=$TARGET/debug/sim
BUTTON=$($SIM hil address --key $KEY)
echo "button adapter $BUTTON (resolves with the bond key), central adapter $CENTRAL"

# A private bus, bluezoo and `sim hil serve`, fresh for each phase (bluezoo keeps the
# GATT objects of a connection for the life of its process).
start_rig() { # $1: phase name, $2…: extra arguments of sim hil serve
  local name=$1; shift
  local dir=$WORK/$name; mkdir -p "$dir"
  cat > "$dir/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$dir/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/><allow own="*"/>
    <allow send_type="method_call"/><allow send_type="signal"/>
    <allow send_type="method_return"/><allow send_type="error"/>
    <allow receive_type="method_call"/><allow receive_type="signal"/>
    <allow receive_type="method_return"/><allow receive_type="error"/>
  </policy>
</busconfig>
CONF
  PIDS+=("$(dbus-daemon --config-file="$dir/bus.conf" --fork --print-pid)")
  export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$dir/bus.sock
  "$VENV/bin/bluezoo" --auto-enable --scan-interval 1 -a "$BUTTON" -a "$CENTRAL" >"$dir/bluezoo.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 50); do
    dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.bluez 2>/dev/null | grep -q true && break
    sleep 0.1
  done
  CONTROL=$dir/control.sock
  "$SIM" hil serve --key $KEY --adapter "$BUTTON" --control "$CONTROL" "$@" \
    >"$dir/serve.out" 2>"$dir/serve.err" </dev/null &
  SERVE=$!; PIDS+=("$SERVE")
  for _ in $(seq 50); do [ -S "$CONTROL" ] && break; sleep 0.1; done
  [ -S "$CONTROL" ] || { cat "$dir/serve.err"; die "$name: sim hil serve did not start"; }
  DIR=$dir
}

stop_rig() {
  kill "$SERVE" 2>/dev/null || true
  wait "$SERVE" 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  PIDS=()
}

hil_run() { # $@: feature paths; prints the report, returns sim's exit code
  "$SIM" hil run "$@" --device "$BUTTON" --key $KEY --adapter "$CENTRAL" </dev/null
}

echo "== hil rehearsal: every @hil feature through btleplug against sim hil serve"
start_rig features
set +e; hil_run features >"$DIR/run.out" 2>"$DIR/run.err"; rc=$?; set -e
cat "$DIR/run.out"
[ $rc = 0 ] || { tail -40 "$DIR/run.err"; tail -40 "$DIR/serve.err"; die "sim hil run exited $rc"; }
grep -q " 0 failed, 0 not run on hardware" "$DIR/run.out" || die "some @hil scenario did not pass"
# Indications per second: a burst of 50 events while a phone is connected.
"$SIM" hil send --control "$CONTROL" quit
wait "$SERVE" || true
cat "$DIR/serve.out"
stop_rig

echo "== hil rehearsal: indications per second (burst of 50, each acknowledged by the phone),"
echo "   pacing lateness while a 100 Hz accelerometer trace is replayed"
start_rig burst --trace scenarios/traces/walking.jsonl
BURST_FEATURE=$WORK/burst.feature
cat > "$BURST_FEATURE" <<'FEAT'
Feature: Burst
  @hil
  Scenario: The phone stays connected while a burst is delivered
    Given the phone has 1 emergency contacts
    When 20 seconds pass
    Then no SMS is sent
FEAT
hil_run "$BURST_FEATURE" >"$DIR/run.out" 2>"$DIR/run.err" &
RUN=$!
# The scenario's phone is the second to connect (the first one settles the button).
for _ in $(seq 600); do [ "$(grep -c ClockSet "$DIR/serve.err")" -ge 2 ] && break; sleep 0.1; done
sleep 1
"$SIM" hil send --control "$CONTROL" burst 50
wait $RUN || true
"$SIM" hil send --control "$CONTROL" quit
wait "$SERVE" || true
grep "burst:" "$DIR/serve.err" || die "the burst was not delivered"
cat "$DIR/serve.out"
stop_rig

echo "== hil rehearsal: GATT-client conformance suite (btleplug) against sim hil serve"
start_rig conformance
HIL_DEVICE=$BUTTON HIL_KEY=$KEY HIL_ADAPTER=$CENTRAL \
  cargo test -q -p sim-rig --features hil --test conformance -- --nocapture 2>&1 | tee "$DIR/conf.out" | grep -v "^central:"
grep -q "8/8 checks passed" "$DIR/conf.out" || die "conformance suite failed"
stop_rig

FAULT_FEATURE=$WORK/fault.feature
cat > "$FAULT_FEATURE" <<'FEAT'
Feature: Faults on the rehearsal rig
  @hil
  Scenario: Two presses, the rig breaks between them
    Given the phone has 1 emergency contacts
    When the wearer presses the button
    And 6 seconds pass
    And the wearer presses the button
    Then within 5 s exactly 2 SMS are sent
FEAT

# Run the fault scenario; when the first event is acknowledged, break the rig with
# "$@"; expect exit code 1, the clear error $1, and the first SMS kept in the report.
fault() { # $1: phase, $2: error text expected, $3…: the command that breaks the rig
  local name=$1 expect=$2; shift 2
  hil_run "$FAULT_FEATURE" >"$DIR/run.out" 2>"$DIR/run.err" &
  local run=$!
  for _ in $(seq 600); do grep -q "Acked" "$DIR/serve.err" && break; sleep 0.1; done
  sleep 1
  "$@" >/dev/null
  set +e; wait $run; local rc=$?; set -e
  cat "$DIR/run.out"
  [ $rc = 1 ] || die "$name: expected exit code 1, got $rc"
  grep -q "$expect" "$DIR/run.out" || die "$name: no clear error ($expect)"
  grep -q "SMS to .*I need help" "$DIR/run.out" || die "$name: the SMS the phone sent is not in the report"
  grep -q "recorded event #" "$DIR/run.out" || die "$name: the event the phone recorded is not in the report"
  ! grep -q "already seen in this session" "$DIR/run.out" || die "$name: a value reached the phone twice"
}

echo "== hil rehearsal: fault: sim hil serve killed mid-scenario"
start_rig killed
fault killed "an injection write failed" kill -9 "$SERVE"
stop_rig

echo "== hil rehearsal: fault: the central's adapter powered off mid-scenario"
start_rig poweroff
fault poweroff "adapter was switched off" dbus-send --system --print-reply --dest=org.bluez /org/bluez/hci1 \
  org.freedesktop.DBus.Properties.Set string:org.bluez.Adapter1 string:Powered variant:boolean:false
stop_rig

echo "== hil rehearsal: fault: writes refused by the D-Bus service mid-scenario"
start_rig refused
fault refused "an injection write failed" "$SIM" hil send --control "$CONTROL" refuse-writes on
grep -q "not permitted" "$DIR/run.err" || die "refused writes: the central did not name the refusal"
grep "not permitted" "$DIR/run.err" | head -1
stop_rig

KEEP=0
echo "hil rehearsal: 6 passed, 0 failed"
