//! IMF-fixdate (RFC 9110 §5.6.7) rendering for the cookie `Expires` attribute, so the
//! crate needs no date library for one format.

use std::{
    fmt::Write,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// `Thu, 01 Jan 1970 00:00:00 GMT`: the `Expires` of a clearing cookie, as SuperTokens sends it.
pub(crate) const EPOCH_IMF_FIXDATE: &str = "Thu, 01 Jan 1970 00:00:00 GMT";

/// 9999-12-31T23:59:59Z: four-digit years are all the format allows.
const MAX_SECONDS: u64 = 253_402_300_799;

/// 365 days: supertokens-node's `oneYearInMs`, the access cookie's lifetime.
pub(crate) const ONE_YEAR: Duration = Duration::from_secs(365 * 24 * 60 * 60);

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Appends `time` as `Sun, 06 Nov 1994 08:49:37 GMT`. Times before 1970 render as the
/// epoch and times after 9999 as the last second of 9999.
pub(crate) fn write_imf_fixdate(out: &mut String, time: SystemTime) {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
        .min(MAX_SECONDS);
    let days = seconds / 86_400;
    let second_of_day = seconds % 86_400;
    // 1970-01-01 was a Thursday (index 4).
    let weekday = WEEKDAYS[((days + 4) % 7) as usize];
    let (year, month, day) = civil_from_days(days);
    let month = MONTHS[(month - 1) as usize];
    // Writing into a String cannot fail.
    let _ = write!(
        out,
        "{weekday}, {day:02} {month} {year:04} {:02}:{:02}:{:02} GMT",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    );
}

/// Howard Hinnant's `civil_from_days` for non-negative day counts: (year, month 1-12, day 1-31).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // March = 0
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(seconds: u64) -> String {
        let mut out = String::new();
        write_imf_fixdate(&mut out, UNIX_EPOCH + Duration::from_secs(seconds));
        out
    }

    #[test]
    fn known_dates() {
        assert_eq!(render(0), EPOCH_IMF_FIXDATE);
        assert_eq!(render(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(render(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(render(1_709_164_800), "Thu, 29 Feb 2024 00:00:00 GMT");
        assert_eq!(render(4_102_444_799), "Thu, 31 Dec 2099 23:59:59 GMT");
        assert_eq!(render(u64::MAX / 4), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn before_epoch_clamps() {
        let mut out = String::new();
        write_imf_fixdate(&mut out, UNIX_EPOCH - Duration::from_secs(10));
        assert_eq!(out, EPOCH_IMF_FIXDATE);
    }
}
