//! The citizen identification number (CCCD, số định danh cá nhân).
//!
//! 12 digits: 1–3 the province where the birth was registered, 4 the century and sex,
//! 5–6 the last two digits of the birth year, 7–12 random (there is no checksum).

use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};

use super::Bilingual;
use super::person::Sex;

static PROVINCE_PREFIXES: LazyLock<HashSet<u16>> = LazyLock::new(|| {
    include_str!("../../data-builtin/cccd-province-codes.csv")
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').next()?.parse().ok())
        .collect()
});

/// Whether a three-digit prefix is the code of a province (as the provinces were before 2025).
pub fn is_known_prefix(prefix: u16) -> bool {
    PROVINCE_PREFIXES.contains(&prefix)
}

/// All known province prefixes, in increasing order.
pub fn known_prefixes() -> Vec<u16> {
    let mut all: Vec<u16> = PROVINCE_PREFIXES.iter().copied().collect();
    all.sort_unstable();
    all
}

/// Digits in a citizen number.
pub const CCCD_LEN: usize = 12;

/// A structurally valid citizen number. `Debug` never shows the digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CitizenId([u8; CCCD_LEN]);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CccdError {
    NotTwelveDigits,
    StoredAsNumber,
    UnknownProvince(String),
    BadCenturyDigit(char),
    YearMismatch { expected: u32, found: String },
    CenturyMismatch { year: i32 },
    SexMismatch,
}

impl CitizenId {
    /// Checks the shape: 12 ASCII digits, a known province prefix and a century digit we can read.
    pub fn parse(raw: &str) -> Result<Self, CccdError> {
        let bytes = raw.as_bytes();
        if bytes.len() != 12 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(CccdError::NotTwelveDigits);
        }
        let mut digits = [0u8; 12];
        digits.copy_from_slice(bytes);
        let prefix = u16::from(digits[0] - b'0') * 100 + u16::from(digits[1] - b'0') * 10 + u16::from(digits[2] - b'0');
        if !is_known_prefix(prefix) {
            return Err(CccdError::UnknownProvince(raw[..3].to_owned()));
        }
        if digits[3] > b'5' {
            return Err(CccdError::BadCenturyDigit(char::from(digits[3])));
        }
        Ok(Self(digits))
    }

    /// Parses and checks the number against the birth date and sex given with it.
    pub fn parse_for(raw: &str, birth: NaiveDate, sex: Sex) -> Result<Self, CccdError> {
        let id = Self::parse(raw)?;
        id.check_matches(birth, sex)?;
        Ok(id)
    }

    pub fn check_matches(&self, birth: NaiveDate, sex: Sex) -> Result<(), CccdError> {
        let year = birth.year();
        let code = self.0[3] - b'0';
        let century = 1900 + i32::from(code / 2) * 100;
        if !(century..century + 100).contains(&year) {
            return Err(CccdError::CenturyMismatch { year });
        }
        let two = u32::try_from(year % 100).unwrap_or_default();
        let found = u32::from(self.0[4] - b'0') * 10 + u32::from(self.0[5] - b'0');
        if two != found {
            return Err(CccdError::YearMismatch { expected: two, found: format!("{found:02}") });
        }
        let female = code % 2 == 1;
        if female != (sex == Sex::Female) {
            return Err(CccdError::SexMismatch);
        }
        Ok(())
    }

    /// Builds a number from its parts; the generator uses it. `serial` is taken modulo 10^6.
    pub fn compose(prefix: u16, birth_year: i32, sex: Sex, serial: u32) -> Option<Self> {
        if !is_known_prefix(prefix) || !(1900..2200).contains(&birth_year) {
            return None;
        }
        let century = u32::try_from((birth_year - 1900) / 100).ok()?;
        let code = century * 2 + u32::from(sex == Sex::Female);
        let text = format!("{prefix:03}{code}{:02}{:06}", birth_year % 100, serial % 1_000_000);
        Self::parse(&text).ok()
    }

    /// The birth year written in digits 4-6 (digit 4: the century, twice over for the sex; 5-6: the
    /// year in the century). Not sensitive alone: it places a person among the adults or the minors.
    pub fn birth_year(&self) -> i32 {
        let code = i32::from(self.0[3] - b'0');
        1900 + (code / 2) * 100 + i32::from(self.0[4] - b'0') * 10 + i32::from(self.0[5] - b'0')
    }

    /// The digits in clear. Only for encryption, hashing and showing a person their own record.
    pub fn expose(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The number as an integer: compact and unique, for duplicate checks in memory.
    pub fn as_u64(&self) -> u64 {
        self.0.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'))
    }
}

impl fmt::Debug for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CitizenId(••••••••••••)")
    }
}

impl Bilingual for CccdError {
    fn vi(&self) -> String {
        match self {
            Self::NotTwelveDigits => "số định danh phải gồm đúng 12 chữ số".into(),
            Self::StoredAsNumber => {
                "số định danh được lưu dạng số trong Excel nên đã mất số 0 ở đầu; hãy định dạng cột là văn bản (Text)"
                    .into()
            }
            Self::UnknownProvince(p) => format!("mã tỉnh \"{p}\" ở 3 chữ số đầu không tồn tại"),
            Self::BadCenturyDigit(d) => format!("chữ số thứ 4 (thế kỷ và giới tính) \"{d}\" không hợp lệ"),
            Self::YearMismatch { expected, found } => {
                format!("chữ số thứ 5–6 là \"{found}\" nhưng năm sinh kết thúc bằng \"{expected:02}\"")
            }
            Self::CenturyMismatch { year } => {
                format!("chữ số thứ 4 không khớp với thế kỷ của năm sinh {year}")
            }
            Self::SexMismatch => "chữ số thứ 4 không khớp với giới tính".into(),
        }
    }

    fn en(&self) -> String {
        match self {
            Self::NotTwelveDigits => "a citizen number has exactly 12 digits".into(),
            Self::StoredAsNumber => {
                "the citizen number was stored as a number in Excel and lost its leading zero; format the column as text".into()
            }
            Self::UnknownProvince(p) => format!("province code \"{p}\" in the first 3 digits does not exist"),
            Self::BadCenturyDigit(d) => format!("digit 4 (century and sex) \"{d}\" is not valid"),
            Self::YearMismatch { expected, found } => format!(
                "digits 5–6 are \"{found}\" but the birth year ends in \"{expected:02}\""
            ),
            Self::CenturyMismatch { year } => {
                format!("digit 4 does not match the century of birth year {year}")
            }
            Self::SexMismatch => "digit 4 does not match the sex".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn accepts_a_consistent_number() {
        assert!(CitizenId::parse_for("025090123456", date(1990, 5, 1), Sex::Male).is_ok());
        assert!(CitizenId::parse_for("026305000001", date(2005, 1, 1), Sex::Female).is_ok());
    }

    #[test]
    fn rejects_each_broken_part() {
        assert_eq!(CitizenId::parse("02519012345"), Err(CccdError::NotTwelveDigits));
        assert_eq!(CitizenId::parse("02519012345a"), Err(CccdError::NotTwelveDigits));
        assert!(matches!(CitizenId::parse("003190123456"), Err(CccdError::UnknownProvince(_))));
        assert!(matches!(CitizenId::parse("025690123456"), Err(CccdError::BadCenturyDigit('6'))));
        let id = CitizenId::parse("025090123456").unwrap();
        assert_eq!(id.check_matches(date(1990, 1, 1), Sex::Female), Err(CccdError::SexMismatch));
        assert!(matches!(id.check_matches(date(1991, 1, 1), Sex::Male), Err(CccdError::YearMismatch { .. })));
        assert!(matches!(id.check_matches(date(2090, 1, 1), Sex::Male), Err(CccdError::CenturyMismatch { .. })));
    }

    #[test]
    fn the_birth_year_is_read_from_digits_four_to_six() {
        assert_eq!(CitizenId::parse("025090123456").unwrap().birth_year(), 1990);
        assert_eq!(CitizenId::parse("026312000001").unwrap().birth_year(), 2012);
        assert_eq!(CitizenId::parse("025199000001").unwrap().birth_year(), 1999);
        assert_eq!(CitizenId::compose(25, 2009, Sex::Female, 7).unwrap().birth_year(), 2009);
    }

    #[test]
    fn debug_hides_the_digits() {
        let id = CitizenId::parse("025090123456").unwrap();
        assert!(!format!("{id:?}").contains("0251"));
    }
}
