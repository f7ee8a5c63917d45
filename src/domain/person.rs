//! Facts about a person, each parsed once from raw text.

use chrono::{Datelike, NaiveDate};

use super::Bilingual;

/// A rule broken by one field of a person's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub vi: String,
    pub en: String,
}

impl FieldError {
    pub fn new(vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self { vi: vi.into(), en: en.into() }
    }
}

impl Bilingual for FieldError {
    fn vi(&self) -> String {
        self.vi.clone()
    }
    fn en(&self) -> String {
        self.en.clone()
    }
}

const MAX_TEXT: usize = 120;

fn bounded(raw: &str, what_vi: &str, what_en: &str) -> Result<(), FieldError> {
    if raw.is_empty() {
        return Err(FieldError::new(format!("thiếu {what_vi}"), format!("{what_en} is missing")));
    }
    if raw.chars().count() > MAX_TEXT {
        return Err(FieldError::new(
            format!("{what_vi} dài quá {MAX_TEXT} ký tự"),
            format!("{what_en} is longer than {MAX_TEXT} characters"),
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(FieldError::new(
            format!("{what_vi} chứa ký tự điều khiển"),
            format!("{what_en} contains control characters"),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw.to_lowercase().as_str() {
            "nam" => Ok(Self::Male),
            "nữ" => Ok(Self::Female),
            _ => Err(FieldError::new(
                format!("giới tính \"{}\" phải là \"Nam\" hoặc \"Nữ\"", excerpt(raw)),
                format!("sex \"{}\" must be \"Nam\" or \"Nữ\"", excerpt(raw)),
            )),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Male => "nam",
            Self::Female => "nu",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Male => "Nam",
            Self::Female => "Nữ",
        }
    }
}

/// A birth date: `D/M/YYYY` (one or two digits for day and month) or `YYYY-MM-DD`,
/// not in the future and not before 1900.
pub fn parse_birth_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    let bad_format = || {
        FieldError::new(
            format!("ngày sinh \"{}\" phải có dạng N/T/NNNN hoặc NNNN-TT-NN", excerpt(raw)),
            format!("birth date \"{}\" must be D/M/YYYY or YYYY-MM-DD", excerpt(raw)),
        )
    };
    let numbers = |parts: Vec<&str>, widths: [(usize, usize); 3]| -> Option<[u32; 3]> {
        if parts.len() != 3 {
            return None;
        }
        let mut out = [0u32; 3];
        for (i, part) in parts.iter().enumerate() {
            let (min, max) = widths[i];
            if part.len() < min || part.len() > max || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            out[i] = part.parse().ok()?;
        }
        Some(out)
    };
    let (y, m, d) = if raw.contains('/') {
        let [d, m, y] = numbers(raw.split('/').collect(), [(1, 2), (1, 2), (4, 4)]).ok_or_else(bad_format)?;
        (y, m, d)
    } else {
        let [y, m, d] = numbers(raw.split('-').collect(), [(4, 4), (2, 2), (2, 2)]).ok_or_else(bad_format)?;
        (y, m, d)
    };
    let year = i32::try_from(y).map_err(|_| bad_format())?;
    let date = NaiveDate::from_ymd_opt(year, m, d).ok_or_else(|| {
        FieldError::new(
            format!("ngày sinh \"{}\" không tồn tại", excerpt(raw)),
            format!("birth date \"{}\" does not exist", excerpt(raw)),
        )
    })?;
    if date > today {
        return Err(FieldError::new(
            format!("ngày sinh \"{}\" ở tương lai", excerpt(raw)),
            format!("birth date \"{}\" is in the future", excerpt(raw)),
        ));
    }
    if year < 1900 {
        return Err(FieldError::new(
            format!("năm sinh {year} trước năm 1900"),
            format!("birth year {year} is before 1900"),
        ));
    }
    Ok(date)
}

/// Age in whole years on 31 December of `year`: indicators use this so that a population
/// changes only when a person's facts change.
pub fn age_at_end_of(birth: NaiveDate, year: i32) -> i32 {
    year - birth.year()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetGroup {
    Citizen,
    Official,
    Student,
    Worker,
}

impl TargetGroup {
    pub const ALL: [Self; 4] = [Self::Citizen, Self::Official, Self::Student, Self::Worker];

    pub fn code(self) -> &'static str {
        match self {
            Self::Citizen => "nguoi_dan",
            Self::Official => "can_bo",
            Self::Student => "hoc_sinh_sinh_vien",
            Self::Worker => "nguoi_lao_dong",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Citizen => "Người dân",
            Self::Official => "Cán bộ, công chức, viên chức",
            Self::Student => "Học sinh, sinh viên",
            Self::Worker => "Người lao động",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Self::Citizen => 1,
            Self::Official => 2,
            Self::Student => 4,
            Self::Worker => 8,
        }
    }
}

/// The set of target groups a person belongs to, stored as a small bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TargetGroups(u8);

impl TargetGroups {
    /// `|`-separated codes; empty means none given.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let mut set = Self::default();
        for code in raw.split('|').map(str::trim).filter(|c| !c.is_empty()) {
            let group = TargetGroup::ALL.into_iter().find(|g| g.code() == code).ok_or_else(|| {
                FieldError::new(
                    format!(
                        "đối tượng \"{}\" không có; dùng nguoi_dan, can_bo, hoc_sinh_sinh_vien, nguoi_lao_dong",
                        excerpt(code)
                    ),
                    format!(
                        "target group \"{}\" is unknown; use nguoi_dan, can_bo, hoc_sinh_sinh_vien, nguoi_lao_dong",
                        excerpt(code)
                    ),
                )
            })?;
            set.insert(group);
        }
        Ok(set)
    }

    pub fn insert(&mut self, group: TargetGroup) {
        self.0 |= group.bit();
    }

    pub fn contains(self, group: TargetGroup) -> bool {
        self.0 & group.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn bits(self) -> i64 {
        i64::from(self.0)
    }

    pub fn from_bits(bits: i64) -> Self {
        Self(u8::try_from(bits & 0x0f).unwrap_or_default())
    }

    pub fn iter(self) -> impl Iterator<Item = TargetGroup> {
        TargetGroup::ALL.into_iter().filter(move |g| self.contains(*g))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchoolLevel {
    Primary,
    LowerSecondary,
    UpperSecondary,
    Tertiary,
}

impl SchoolLevel {
    pub const ALL: [Self; 4] = [Self::Primary, Self::LowerSecondary, Self::UpperSecondary, Self::Tertiary];

    pub fn code(self) -> &'static str {
        match self {
            Self::Primary => "tieu_hoc",
            Self::LowerSecondary => "thcs",
            Self::UpperSecondary => "thpt",
            Self::Tertiary => "dai_hoc",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL.into_iter().find(|l| l.code() == raw).ok_or_else(|| {
            FieldError::new(
                format!("cấp học \"{}\" không có; dùng tieu_hoc, thcs, thpt, dai_hoc", excerpt(raw)),
                format!("school level \"{}\" is unknown; use tieu_hoc, thcs, thpt, dai_hoc", excerpt(raw)),
            )
        })
    }

    /// The usual level for an age in the Vietnamese school system (grade 1 at 6).
    pub fn for_age(age: i32) -> Result<Self, FieldError> {
        match age {
            ..=5 => Err(FieldError::new(
                format!("{age} tuổi là chưa đến tuổi đi học phổ thông"),
                format!("at {age} a child is not yet of school age"),
            )),
            6..=10 => Ok(Self::Primary),
            11..=14 => Ok(Self::LowerSecondary),
            15..=17 => Ok(Self::UpperSecondary),
            _ => Ok(Self::Tertiary),
        }
    }
}

/// A full name: its exact letters are kept (after NFC), only its length and characters are checked.
pub fn parse_full_name(raw: &str) -> Result<String, FieldError> {
    bounded(raw, "họ tên", "full name")?;
    if raw.chars().any(|c| c.is_ascii_digit()) {
        return Err(FieldError::new("họ tên chứa chữ số", "full name contains digits"));
    }
    Ok(raw.to_owned())
}

/// A free label such as an ethnicity or a village name.
pub fn parse_label(raw: &str, what_vi: &str, what_en: &str) -> Result<String, FieldError> {
    bounded(raw, what_vi, what_en)?;
    Ok(raw.to_owned())
}

/// A code given by a commune or an organisation: letters, digits and `-_./`, at most 40.
pub fn parse_code(raw: &str, what_vi: &str, what_en: &str) -> Result<String, FieldError> {
    bounded(raw, what_vi, what_en)?;
    if raw.len() > 40 || !raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b)) {
        return Err(FieldError::new(
            format!("{what_vi} \"{}\" chỉ được gồm chữ không dấu, chữ số và - _ . / (tối đa 40)", excerpt(raw)),
            format!("{what_en} \"{}\" may hold only ASCII letters, digits and - _ . / (40 at most)", excerpt(raw)),
        ));
    }
    Ok(raw.to_owned())
}

/// A Vietnamese phone number: 10 digits starting with 0, or +84 followed by 9 digits.
/// Stored in the national form `0xxxxxxxxx`.
pub fn parse_phone(raw: &str) -> Result<String, FieldError> {
    let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect();
    let national = match compact.strip_prefix("+84") {
        Some(rest) => format!("0{rest}"),
        None => compact,
    };
    if national.len() == 10 && national.starts_with('0') && national.bytes().all(|b| b.is_ascii_digit()) {
        Ok(national)
    } else {
        Err(FieldError::new(
            format!("số điện thoại \"{}\" phải gồm 10 chữ số bắt đầu bằng 0", excerpt(raw)),
            format!("phone number \"{}\" must be 10 digits starting with 0", excerpt(raw)),
        ))
    }
}

/// At most 40 characters of a value, for messages: a 1 MB field must not become a 1 MB report line.
pub fn excerpt(raw: &str) -> String {
    let mut chars = raw.chars();
    let head: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() { format!("{head}…") } else { head }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    #[test]
    fn both_date_forms_parse() {
        let want = NaiveDate::from_ymd_opt(1990, 3, 7).unwrap();
        assert_eq!(parse_birth_date("7/3/1990", today()), Ok(want));
        assert_eq!(parse_birth_date("07/03/1990", today()), Ok(want));
        assert_eq!(parse_birth_date("1990-03-07", today()), Ok(want));
    }

    #[test]
    fn impossible_and_future_dates_are_refused() {
        assert!(parse_birth_date("31/2/1990", today()).is_err());
        assert!(parse_birth_date("1/1/2099", today()).is_err());
        assert!(parse_birth_date("1990/3/7", today()).is_err());
        assert!(parse_birth_date("7-3-1990", today()).is_err());
        assert!(parse_birth_date("", today()).is_err());
    }

    #[test]
    fn sex_accepts_any_case() {
        assert_eq!(Sex::parse("NỮ"), Ok(Sex::Female));
        assert_eq!(Sex::parse("nam"), Ok(Sex::Male));
        assert!(Sex::parse("nu").is_err());
    }

    #[test]
    fn groups_parse_and_reject_unknown() {
        let groups = TargetGroups::parse("can_bo|nguoi_dan").unwrap();
        assert!(groups.contains(TargetGroup::Official) && groups.contains(TargetGroup::Citizen));
        assert!(!groups.contains(TargetGroup::Student));
        assert!(TargetGroups::parse("").unwrap().is_empty());
        assert!(TargetGroups::parse("giao_vien").is_err());
    }

    #[test]
    fn phone_forms() {
        assert_eq!(parse_phone("+84 912 345 678").unwrap(), "0912345678");
        assert!(parse_phone("12345").is_err());
    }
}
