//! Dates: the proleptic Gregorian calendar as days since 1970-01-01 (for
//! POSIX timestamps such as a C2SP tlog-cosignature's), ISO 8601 dates
//! (`YYYY-MM-DD`, the manifest's `election.date`), and the Solar Hijri
//! (Jalali) calendar Iran uses, for display (`spec/site.md` §2).
//!
//! The Solar Hijri year starts at Nowruz (1 Farvardin, the March
//! equinox); months 1–6 have 31 days, 7–11 have 30, and Esfand (12) has
//! 29, or 30 in a leap year. The official calendar fixes Nowruz by
//! astronomy; for the years 1343–1472 SH (1964-03-21 to 2094-03-19) that
//! coincides with the 33-year arithmetic rule used here: a year is leap
//! when `year mod 33` is one of 1, 5, 9, 13, 17, 22, 26, 30. Outside those
//! years [`jalali_from_gregorian`] refuses rather than guess.
//!
//! Pure functions, no clock: the caller passes the date or timestamp.

use std::fmt;

/// A calendar date. Months and days count from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// The year.
    pub year: i64,
    /// The month, 1–12.
    pub month: u32,
    /// The day of the month, from 1.
    pub day: u32,
}

/// A date this module cannot read or convert.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not `YYYY-MM-DD`, or no such Gregorian day.
    #[error("{0:?} is not a Gregorian date YYYY-MM-DD")]
    NotIso(String),
    /// Outside the years where the arithmetic rule is the official calendar.
    #[error("{0} is outside the Solar Hijri years 1343–1472 this conversion covers")]
    OutOfRange(Date),
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn gregorian_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn gregorian_month_days(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if gregorian_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days from 1970-01-01 to the Gregorian `d` (negative before). `d` must
/// be a valid date (as [`parse_iso`] and [`gregorian_from_days`] give).
pub fn days_from_gregorian(d: Date) -> i64 {
    // Count from 1 March so that the leap day ends the year: the years
    // then repeat every 400 (146,097 days), and the months from March
    // follow the 153-days-per-5-months pattern.
    let y = if d.month <= 2 { d.year - 1 } else { d.year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((d.month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d.day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The Gregorian date `days` after 1970-01-01 (the inverse of
/// [`days_from_gregorian`]).
pub fn gregorian_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    Date {
        year: yoe + era * 400 + i64::from(month <= 2),
        month,
        day,
    }
}

/// A UTC time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utc {
    /// The Gregorian date.
    pub date: Date,
    /// Hours, minutes, seconds.
    pub hms: (u32, u32, u32),
}

/// The UTC date and time of a POSIX timestamp (seconds since the epoch).
pub fn utc_from_posix(secs: u64) -> Utc {
    let days = (secs / 86_400) as i64;
    let rem = (secs % 86_400) as u32;
    Utc {
        date: gregorian_from_days(days),
        hms: (rem / 3600, rem % 3600 / 60, rem % 60),
    }
}

impl fmt::Display for Utc {
    /// RFC 3339 (`YYYY-MM-DDTHH:MM:SSZ`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m, s) = self.hms;
        write!(f, "{}T{h:02}:{m:02}:{s:02}Z", self.date)
    }
}

/// Reads an ISO 8601 calendar date `YYYY-MM-DD`.
///
/// # Errors
/// [`DateError::NotIso`] for anything else, including a day the month
/// does not have.
pub fn parse_iso(s: &str) -> Result<Date, DateError> {
    let bad = || DateError::NotIso(s.chars().take(40).collect());
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u32, DateError> {
        let part = &s[r];
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse().map_err(|_| bad())
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let year = i64::from(year);
    if !(1..=12).contains(&month) || day == 0 || day > gregorian_month_days(year, month) {
        return Err(bad());
    }
    Ok(Date { year, month, day })
}

/// The first and last Solar Hijri years [`jalali_from_gregorian`] covers.
pub const JALALI_YEARS: (i64, i64) = (1343, 1472);

/// Whether a Solar Hijri year is leap under the 33-year rule.
pub fn jalali_leap(year: i64) -> bool {
    matches!(year.rem_euclid(33), 1 | 5 | 9 | 13 | 17 | 22 | 26 | 30)
}

fn jalali_year_days(year: i64) -> i64 {
    if jalali_leap(year) {
        366
    } else {
        365
    }
}

/// 1 Farvardin 1404 was 2025-03-21: the anchor the years are counted from.
const NOWRUZ_1404: Date = Date {
    year: 2025,
    month: 3,
    day: 21,
};

/// The Solar Hijri date of a Gregorian date.
///
/// # Errors
/// [`DateError::OutOfRange`] outside the years [`JALALI_YEARS`].
pub fn jalali_from_gregorian(g: Date) -> Result<Date, DateError> {
    let mut offset = days_from_gregorian(g) - days_from_gregorian(NOWRUZ_1404);
    let mut year = 1404;
    // Walk whole years from the anchor: at most 130 steps in range.
    while offset < 0 {
        year -= 1;
        if year < JALALI_YEARS.0 {
            return Err(DateError::OutOfRange(g));
        }
        offset += jalali_year_days(year);
    }
    while offset >= jalali_year_days(year) {
        offset -= jalali_year_days(year);
        year += 1;
        if year > JALALI_YEARS.1 {
            return Err(DateError::OutOfRange(g));
        }
    }
    // Offset within the year: six months of 31 days, then months of 30.
    let (month, day) = if offset < 186 {
        (offset / 31 + 1, offset % 31 + 1)
    } else {
        ((offset - 186) / 30 + 7, (offset - 186) % 30 + 1)
    };
    Ok(Date {
        year,
        month: month as u32,
        day: day as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(year: i64, month: u32, day: u32) -> Date {
        Date { year, month, day }
    }

    #[test]
    fn known_solar_hijri_dates() {
        for (g, j) in [
            (d(2025, 6, 27), d(1404, 4, 6)),
            (d(2025, 3, 21), d(1404, 1, 1)),
            // 1403 is leap: Esfand has 30 days.
            (d(2025, 3, 20), d(1403, 12, 30)),
            (d(2024, 3, 20), d(1403, 1, 1)),
            (d(2024, 3, 19), d(1402, 12, 29)),
            (d(2026, 3, 21), d(1405, 1, 1)),
            (d(2026, 3, 20), d(1404, 12, 29)),
            // Election days: 8 Tir 1403, 28 Khordad 1400, 24 Khordad 1392.
            (d(2024, 6, 28), d(1403, 4, 8)),
            (d(2021, 6, 18), d(1400, 3, 28)),
            (d(2013, 6, 14), d(1392, 3, 24)),
            // 22 Bahman 1357; 1 Mehr (month 7) and the last day of Shahrivar.
            (d(1979, 2, 11), d(1357, 11, 22)),
            (d(2025, 9, 23), d(1404, 7, 1)),
            (d(2025, 9, 22), d(1404, 6, 31)),
            // A Gregorian leap day.
            (d(2024, 2, 29), d(1402, 12, 10)),
            // The ends of the range.
            (d(1964, 3, 21), d(1343, 1, 1)),
        ] {
            assert_eq!(jalali_from_gregorian(g), Ok(j), "{g}");
        }
    }

    #[test]
    fn leap_years_under_the_33_year_rule() {
        let leap: Vec<i64> = (1390..=1410).filter(|&y| jalali_leap(y)).collect();
        assert_eq!(leap, vec![1391, 1395, 1399, 1403, 1408]);
        // Every day of a leap and a common year maps to a distinct date
        // and the year rolls over exactly after its length.
        for year in [1403, 1404] {
            let start = days_from_gregorian(gregorian_from_days(
                days_from_gregorian(NOWRUZ_1404) + if year == 1403 { -366 } else { 0 },
            ));
            let len = jalali_year_days(year);
            let last = jalali_from_gregorian(gregorian_from_days(start + len - 1)).unwrap();
            assert_eq!(last, d(year, 12, if year == 1403 { 30 } else { 29 }));
            let next = jalali_from_gregorian(gregorian_from_days(start + len)).unwrap();
            assert_eq!(next, d(year + 1, 1, 1));
        }
    }

    #[test]
    fn out_of_range_is_refused() {
        assert!(matches!(
            jalali_from_gregorian(d(1964, 3, 20)),
            Err(DateError::OutOfRange(_))
        ));
        assert!(matches!(
            jalali_from_gregorian(d(2200, 1, 1)),
            Err(DateError::OutOfRange(_))
        ));
        assert!(jalali_from_gregorian(d(2093, 3, 20)).is_ok());
    }

    #[test]
    fn gregorian_days_round_trip() {
        assert_eq!(days_from_gregorian(d(1970, 1, 1)), 0);
        assert_eq!(days_from_gregorian(d(2000, 3, 1)), 11_017);
        assert_eq!(gregorian_from_days(-1), d(1969, 12, 31));
        for days in (-800_000..800_000).step_by(97) {
            assert_eq!(days_from_gregorian(gregorian_from_days(days)), days);
        }
        assert_eq!(
            utc_from_posix(1_751_000_000).to_string(),
            "2025-06-27T04:53:20Z"
        );
    }

    #[test]
    fn iso_dates_are_checked() {
        assert_eq!(parse_iso("2025-06-27"), Ok(d(2025, 6, 27)));
        assert_eq!(parse_iso("2024-02-29"), Ok(d(2024, 2, 29)));
        for bad in [
            "2025-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-6-27",
            "۲۰۲۵-۰۶-۲۷",
            "",
            "2025-06-27T00",
            "+025-06-27",
        ] {
            assert!(parse_iso(bad).is_err(), "{bad}");
        }
    }
}
