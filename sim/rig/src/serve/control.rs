//! The control channel of `sim hil serve`: one command a line, from a person at the
//! terminal or a test through a local socket. Parsing only; the host acts on them.

use std::time::Duration;

/// A command of the control channel.
#[derive(Clone, Debug, PartialEq)]
pub enum Control {
    /// `press`, `double`, `triple`, `press N`: N presses by the hand model.
    Press(u32),
    /// `hold SECONDS`: one press held that long.
    Hold(Duration),
    /// `reset`: the button reboots (what flash holds survives; the link drops).
    Reset,
    /// `battery PERCENT`: the cell's state of charge.
    Battery(f64),
    /// `refuse-writes on|off`: the D-Bus service refuses every write (a fault of the rig).
    RefuseWrites(bool),
    /// `burst N`: N "I am safe" events (triple presses) queued at once, to measure how
    /// fast indications go through (each acknowledged before the next is sent).
    Burst(u32),
    /// `status`: print the button's state.
    Status,
    /// `quit`: stop serving (prints the pacing lateness).
    Quit,
}

/// The commands, for `help` and error messages.
pub const CONTROL_HELP: &str = "press | double | triple | press N | hold SECONDS | reset | \
battery PERCENT | refuse-writes on|off | burst N | status | quit";

impl Control {
    /// Parse one line. Errors say what was expected.
    pub fn parse(line: &str) -> Result<Control, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let arg = |what: &str| -> Result<&str, String> {
            match words.as_slice() {
                [_, a] => Ok(a),
                _ => Err(format!(
                    "expected `{} {what}`",
                    words.first().unwrap_or(&"")
                )),
            }
        };
        let num = |what: &str| -> Result<f64, String> {
            let a = arg(what)?;
            a.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("expected {what}, found `{a}`"))
        };
        let Some(cmd) = words.first() else {
            return Err(format!("empty command; expected one of: {CONTROL_HELP}"));
        };
        let only = |c: Control| {
            if words.len() == 1 {
                Ok(c)
            } else {
                Err(format!("`{cmd}` takes no argument"))
            }
        };
        match *cmd {
            "press" if words.len() == 1 => Ok(Control::Press(1)),
            "press" => {
                let n = num("a count of presses (1..=10)")?;
                if (1.0..=10.0).contains(&n) && n.fract() == 0.0 {
                    Ok(Control::Press(n as u32))
                } else {
                    Err(format!("expected a count of presses (1..=10), found {n}"))
                }
            }
            "double" => only(Control::Press(2)),
            "triple" => only(Control::Press(3)),
            "hold" => {
                let s = num("a duration in seconds (0.1..=60)")?;
                if (0.1..=60.0).contains(&s) {
                    Ok(Control::Hold(Duration::from_secs_f64(s)))
                } else {
                    Err(format!(
                        "expected a duration in seconds (0.1..=60), found {s}"
                    ))
                }
            }
            "reset" => only(Control::Reset),
            "battery" => {
                let p = num("a percentage (0..=100)")?;
                if (0.0..=100.0).contains(&p) {
                    Ok(Control::Battery(p))
                } else {
                    Err(format!("expected a percentage (0..=100), found {p}"))
                }
            }
            "refuse-writes" => match arg("on|off")? {
                "on" => Ok(Control::RefuseWrites(true)),
                "off" => Ok(Control::RefuseWrites(false)),
                other => Err(format!("expected on or off, found `{other}`")),
            },
            "burst" => {
                let n = num("a count of events (1..=100)")?;
                if (1.0..=100.0).contains(&n) && n.fract() == 0.0 {
                    Ok(Control::Burst(n as u32))
                } else {
                    Err(format!("expected a count of events (1..=100), found {n}"))
                }
            }
            "status" => only(Control::Status),
            "quit" => only(Control::Quit),
            other => Err(format!(
                "unknown command `{other}`; expected one of: {CONTROL_HELP}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_and_bad_ones_say_what_was_expected() {
        assert_eq!(Control::parse("press"), Ok(Control::Press(1)));
        assert_eq!(Control::parse(" double "), Ok(Control::Press(2)));
        assert_eq!(Control::parse("triple"), Ok(Control::Press(3)));
        assert_eq!(Control::parse("press 4"), Ok(Control::Press(4)));
        assert_eq!(
            Control::parse("hold 3"),
            Ok(Control::Hold(Duration::from_secs(3)))
        );
        assert_eq!(Control::parse("battery 15"), Ok(Control::Battery(15.0)));
        assert_eq!(Control::parse("reset"), Ok(Control::Reset));
        assert_eq!(
            Control::parse("refuse-writes on"),
            Ok(Control::RefuseWrites(true))
        );
        assert_eq!(Control::parse("quit"), Ok(Control::Quit));
        assert_eq!(Control::parse("burst 20"), Ok(Control::Burst(20)));
        for (bad, says) in [
            ("", "empty command"),
            ("jump", "unknown command `jump`"),
            ("press 0", "count of presses"),
            ("press x", "found `x`"),
            ("hold", "expected `hold a duration"),
            ("hold 100", "0.1..=60"),
            ("battery 101", "0..=100"),
            ("battery NaN", "found `NaN`"),
            ("reset now", "takes no argument"),
            ("refuse-writes maybe", "on or off"),
        ] {
            let e = Control::parse(bad).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
