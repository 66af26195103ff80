//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One parsed `Set-Cookie` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    pub expires: Option<String>,
    /// Every attribute except `Expires`, in order, as written.
    pub attributes: Vec<String>,
}

pub fn parse_set_cookie(line: &str) -> SetCookie {
    let mut parts = line.split("; ");
    let pair = parts.next().expect("name=value");
    let (name, value) = pair.split_once('=').expect("name=value");
    let mut expires = None;
    let mut attributes = Vec::new();
    for part in parts {
        match part.strip_prefix("Expires=") {
            Some(date) => expires = Some(date.to_owned()),
            None => attributes.push(part.to_owned()),
        }
    }
    assert!(
        !line.contains("Max-Age"),
        "SuperTokens never sends Max-Age: {line}"
    );
    SetCookie {
        name: name.to_owned(),
        value: value.to_owned(),
        expires,
        attributes,
    }
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_imf_fixdate(date: &str) -> SystemTime {
    let fields: Vec<&str> = date.split([' ', ':']).collect();
    assert_eq!(fields.len(), 8, "{date}");
    assert_eq!(fields[7], "GMT", "{date}");
    let day: u64 = fields[1].parse().expect("day");
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == fields[2])
    .expect("month") as u64
        + 1;
    let year: u64 = fields[3].parse().expect("year");
    let (h, m, s): (u64, u64, u64) = (
        fields[4].parse().expect("hour"),
        fields[5].parse().expect("minute"),
        fields[6].parse().expect("second"),
    );
    // Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    UNIX_EPOCH + Duration::from_secs(days * 86_400 + h * 3600 + m * 60 + s)
}

pub fn assert_close(actual: SystemTime, expected: SystemTime, slack: Duration) {
    let difference = actual
        .duration_since(expected)
        .or_else(|_| expected.duration_since(actual))
        .expect("comparable");
    assert!(
        difference <= slack,
        "{actual:?} is not within {slack:?} of {expected:?}"
    );
}
