//! The wearer's settings: emergency contacts (1 to 5, numbers in E.164), the alert
//! message, timings of the phone-side behaviour, and the message texts (English by
//! default, every one replaceable for translation).

use serde::{Deserialize, Serialize};

use crate::PhoneError;

/// One emergency contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Display name.
    pub name: String,
    /// Phone number in E.164 form (`+` then 7 to 15 digits, no leading zero).
    pub phone: String,
}

impl Contact {
    /// A validated contact.
    pub fn new(name: &str, phone: &str) -> Result<Self, PhoneError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(PhoneError::InvalidContact {
                name: name.into(),
                reason: "empty name".into(),
            });
        }
        validate_e164(phone).map_err(|reason| PhoneError::InvalidContact {
            name: name.into(),
            reason,
        })?;
        Ok(Contact {
            name: name.into(),
            phone: phone.into(),
        })
    }
}

/// Check that `number` is E.164: `+`, a non-zero digit, 6 to 14 more digits.
pub fn validate_e164(number: &str) -> Result<(), String> {
    let digits = number
        .strip_prefix('+')
        .ok_or_else(|| format!("phone number {number:?} is not E.164: expected a leading '+'"))?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "phone number {number:?} is not E.164: expected only digits after '+'"
        ));
    }
    if !(7..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err(format!(
            "phone number {number:?} is not E.164: expected 7 to 15 digits, the first not 0"
        ));
    }
    Ok(())
}

/// The message texts. `{message}` etc. are not templates: the app composes these pieces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Texts {
    /// The wearer's own alert message (single press).
    pub alert_message: String,
    /// Fall alert opening.
    pub fall: String,
    /// "I am safe" message.
    pub safe: String,
    /// Conference invitation, followed by the link.
    pub join_conference: String,
    /// Said on alert calls.
    pub call_message: String,
    /// Marker for events delivered late, followed by when they happened.
    pub sent_late: String,
    /// Before a position link.
    pub position: String,
    /// Before a last-known position link.
    pub last_known_position: String,
    /// When no position was ever known: written exactly so, lower-case, in the SMS.
    pub position_unknown: String,
    /// Opening of a follow-up SMS carrying a position that came late.
    pub position_update: String,
}

impl Default for Texts {
    fn default() -> Self {
        Texts {
            alert_message: "I need help.".into(),
            fall: "Fall detected: the wearer may need help.".into(),
            safe: "I am safe.".into(),
            join_conference: "Join the conference:".into(),
            call_message: "This is an emergency alert. The wearer of the alarm button needs help. Join the conference sent to you by SMS.".into(),
            sent_late: "sent late, it happened at".into(),
            position: "Position:".into(),
            last_known_position: "Last known position:".into(),
            position_unknown: "position unknown".into(),
            position_update: "Position update:".into(),
        }
    }
}

/// Timings of the phone-side behaviour (seconds unless named otherwise).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timings {
    /// Wait this long for a position fix before sending with the last known one.
    pub fix_wait_s: u32,
    /// An alert call ringing this long unanswered is hung up.
    pub ring_timeout_s: u32,
    /// A call unanswered or busy is dialled again this long after it ended.
    pub redial_after_s: u32,
    /// Extra attempts after the first call.
    pub max_redials: u32,
    /// Fall countdown.
    pub fall_countdown_s: u32,
    /// No new fall is raised this long after one.
    pub fall_refractory_s: u32,
    /// "I am safe" goes to contacts alerted in this window.
    pub safe_window_s: u32,
    /// Events delivered this long after they happened are marked late.
    pub late_after_s: u32,
    /// Warn the wearer after the button has been disconnected this long.
    pub disconnect_warning_s: u32,
    /// Unsent SMS are retried at least this often.
    pub sms_retry_s: u32,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            fix_wait_s: 10,
            ring_timeout_s: 30,
            redial_after_s: 60,
            max_redials: 2,
            fall_countdown_s: 30,
            fall_refractory_s: 60,
            safe_window_s: 30 * 60,
            late_after_s: 10 * 60,
            disconnect_warning_s: 60,
            sms_retry_s: 30,
        }
    }
}

/// Everything the wearer configured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppConfig {
    /// Emergency contacts (1 to 5).
    pub contacts: Vec<Contact>,
    /// Texts.
    pub texts: Texts,
    /// Timings.
    pub timings: Timings,
    /// Base of conference links (an alert id is appended).
    pub conference_base_url: String,
    /// Battery levels (percent) at which the wearer is warned, highest first.
    pub battery_warn_levels: Vec<u8>,
}

impl AppConfig {
    /// A configuration with these contacts and the default texts and timings.
    pub fn new(contacts: Vec<Contact>) -> Result<Self, PhoneError> {
        let c = AppConfig {
            contacts,
            texts: Texts::default(),
            timings: Timings::default(),
            conference_base_url: "https://meet.alarm-button.example/room/".into(),
            battery_warn_levels: vec![20, 10],
        };
        c.validate()?;
        Ok(c)
    }

    /// Check the number of contacts and each number.
    pub fn validate(&self) -> Result<(), PhoneError> {
        if self.contacts.is_empty() || self.contacts.len() > 5 {
            return Err(PhoneError::ContactCount(self.contacts.len()));
        }
        for c in &self.contacts {
            Contact::new(&c.name, &c.phone)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164() {
        assert!(validate_e164("+33600000001").is_ok());
        assert!(validate_e164("0600000001").is_err());
        assert!(validate_e164("+0600000001").is_err());
        assert!(validate_e164("+33 6 00").is_err());
        assert!(validate_e164("+123").is_err());
        assert!(validate_e164("+1234567890123456").is_err());
    }

    #[test]
    fn contact_count() {
        assert!(AppConfig::new(vec![]).is_err());
        let six: Vec<_> = (1..=6)
            .map(|i| Contact::new(&format!("C{i}"), &format!("+3360000000{i}")).unwrap())
            .collect();
        assert!(matches!(
            AppConfig::new(six),
            Err(PhoneError::ContactCount(6))
        ));
    }
}
