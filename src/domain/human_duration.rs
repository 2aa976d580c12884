use serde::{Deserialize, Serialize};
use std::fmt;

/// A span written the way people write it in configuration and chat: `7d`, `12h`,
/// `10m`, `1h30m`, `0d`. Units: `w`, `d`, `h`, `m`, `s`. At most a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "crate::domain::Scalar", into = "String")]
pub struct HumanDuration {
    seconds: u64,
}

const MAX_SECONDS: u64 = 366 * 86_400;
const UNITS: [(char, u64); 5] = [
    ('w', 604_800),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HumanDurationError {
    #[error("{0:?} is not a duration: write a number and a unit, like 7d, 12h, 10m or 1h30m")]
    Malformed(String),
    #[error("{0:?} is longer than a year; use at most 366d")]
    TooLong(String),
}

impl HumanDuration {
    pub const fn from_seconds(seconds: u64) -> Self {
        Self { seconds }
    }

    pub fn parse(raw: &str) -> Result<Self, HumanDurationError> {
        let text = raw.trim();
        let malformed = || HumanDurationError::Malformed(raw.to_owned());
        if text.is_empty() {
            return Err(malformed());
        }
        let mut seconds: u64 = 0;
        let mut number = String::new();
        for c in text.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let unit = UNITS
                .iter()
                .find(|(u, _)| *u == c.to_ascii_lowercase())
                .ok_or_else(malformed)?;
            if number.is_empty() {
                return Err(malformed());
            }
            let n: u64 = number.parse().map_err(|_| malformed())?;
            seconds = n
                .checked_mul(unit.1)
                .and_then(|s| seconds.checked_add(s))
                .ok_or_else(|| HumanDurationError::TooLong(raw.to_owned()))?;
            number.clear();
        }
        if !number.is_empty() {
            return Err(malformed());
        }
        if seconds > MAX_SECONDS {
            return Err(HumanDurationError::TooLong(raw.to_owned()));
        }
        Ok(Self { seconds })
    }

    pub fn as_seconds(self) -> u64 {
        self.seconds
    }

    pub fn to_chrono(self) -> chrono::TimeDelta {
        // At most a year of seconds: always within TimeDelta's range.
        chrono::TimeDelta::seconds(self.seconds as i64)
    }
}

impl TryFrom<String> for HumanDuration {
    type Error = HumanDurationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<HumanDuration> for String {
    fn from(value: HumanDuration) -> Self {
        value.to_string()
    }
}

impl fmt::Display for HumanDuration {
    /// The shortest canonical form, such that `parse(display(d)) == d`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.seconds == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.seconds;
        // Weeks are left out: "14d" reads better than "2w" in reminder lists.
        for (unit, size) in UNITS.iter().skip(1) {
            if rest >= *size {
                write!(f, "{}{}", rest / size, unit)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

crate::domain::try_from_scalar!(HumanDuration);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_and_compound_units() {
        let cases = [
            ("7d", 604_800),
            ("12h", 43_200),
            ("10m", 600),
            ("0d", 0),
            ("1h30m", 5_400),
            ("2w", 1_209_600),
            ("90s", 90),
            ("1D", 86_400),
        ];
        for (text, seconds) in cases {
            assert_eq!(
                HumanDuration::parse(text).map(HumanDuration::as_seconds),
                Ok(seconds),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_malformed_and_too_long() {
        for bad in ["", "7", "d", "7x", "-1d", "1.5h", "h7", "7 d"] {
            assert!(
                matches!(
                    HumanDuration::parse(bad),
                    Err(HumanDurationError::Malformed(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            HumanDuration::parse("367d"),
            Err(HumanDurationError::TooLong(_))
        ));
        assert!(matches!(
            HumanDuration::parse("99999999999999999999w"),
            Err(HumanDurationError::Malformed(_))
        ));
        assert!(matches!(
            HumanDuration::parse("9999999999999999w"),
            Err(HumanDurationError::TooLong(_))
        ));
    }

    #[test]
    fn display_round_trips() {
        for seconds in [
            0,
            1,
            59,
            60,
            61,
            3_600,
            5_400,
            86_400,
            90_061,
            1_209_600,
            MAX_SECONDS,
        ] {
            let d = HumanDuration::from_seconds(seconds);
            assert_eq!(HumanDuration::parse(&d.to_string()), Ok(d), "{d}");
        }
        assert_eq!(HumanDuration::from_seconds(90_061).to_string(), "1d1h1m1s");
        assert_eq!(HumanDuration::from_seconds(0).to_string(), "0s");
    }
}
