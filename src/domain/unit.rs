//! The administrative tree: province → commune (xã, phường) → village (thôn, bản, xóm, tổ dân phố).

use std::sync::LazyLock;

use serde::Serialize;

use super::person::{FieldError, excerpt};

pub const PROVINCE_CODE: &str = "25";
pub const PROVINCE_NAME: &str = "Tỉnh Phú Thọ";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    Tinh,
    Xa,
    Thon,
}

impl UnitLevel {
    pub fn code(self) -> &'static str {
        match self {
            Self::Tinh => "tinh",
            Self::Xa => "xa",
            Self::Thon => "thon",
        }
    }

    pub fn parse_code(raw: &str) -> Option<Self> {
        [Self::Tinh, Self::Xa, Self::Thon].into_iter().find(|l| l.code() == raw)
    }
}

/// A commune of the province, built in from the official list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commune {
    pub code: String,
    pub name: String,
    /// `xã` or `phường`.
    pub kind: String,
}

impl Commune {
    pub fn is_ward(&self) -> bool {
        self.kind == "phường"
    }

    /// The province whose code a person born here before 2025 most likely has as CCCD prefix:
    /// the province of 2025 was formed from Hòa Bình (017), Phú Thọ (025) and Vĩnh Phúc (026).
    pub fn former_province_prefix(&self) -> u16 {
        match self.code.parse::<u32>().unwrap_or_default() {
            ..6000 => 17,
            8707.. => 26,
            _ => 25,
        }
    }
}

pub static COMMUNES: LazyLock<Vec<Commune>> = LazyLock::new(|| {
    include_str!("../../data-builtin/phu-tho-communes.csv")
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split(',').collect();
            Commune { code: cols[0].to_owned(), name: cols[1].to_owned(), kind: cols[2].to_owned() }
        })
        .collect()
});

/// The communes by code, for lookups: an import looks one up for each of millions of rows.
static BY_CODE: LazyLock<Vec<&'static Commune>> = LazyLock::new(|| {
    let mut sorted: Vec<&'static Commune> = COMMUNES.iter().collect();
    sorted.sort_by(|a, b| a.code.cmp(&b.code));
    sorted
});

pub fn commune(code: &str) -> Option<&'static Commune> {
    BY_CODE.binary_search_by(|c| c.code.as_str().cmp(code)).ok().map(|i| BY_CODE[i])
}

/// A commune code given in an import or a URL: five digits, one of the province's communes.
pub fn parse_commune_code(raw: &str) -> Result<&'static Commune, FieldError> {
    if raw.len() != 5 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::new(
            format!("mã xã \"{}\" phải gồm 5 chữ số", excerpt(raw)),
            format!("commune code \"{}\" must be 5 digits", excerpt(raw)),
        ));
    }
    commune(raw).ok_or_else(|| {
        FieldError::new(
            format!("mã xã \"{raw}\" không thuộc tỉnh Phú Thọ"),
            format!("commune code \"{raw}\" is not a commune of Phú Thọ"),
        )
    })
}

/// The kind of a village-level unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VillageKind {
    Thon,
    Ban,
    Xom,
    ToDanPho,
}

impl VillageKind {
    pub const ALL: [Self; 4] = [Self::Thon, Self::Ban, Self::Xom, Self::ToDanPho];

    pub fn code(self) -> &'static str {
        match self {
            Self::Thon => "thon",
            Self::Ban => "ban",
            Self::Xom => "xom",
            Self::ToDanPho => "to_dan_pho",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL.into_iter().find(|k| k.code() == raw).ok_or_else(|| {
            FieldError::new(
                format!("loại \"{}\" không có; dùng thon, ban, xom, to_dan_pho", excerpt(raw)),
                format!("kind \"{}\" is unknown; use thon, ban, xom, to_dan_pho", excerpt(raw)),
            )
        })
    }

    /// Guesses the kind from a village's name ("Tổ dân phố 3", "Bản Lác"), `thon` otherwise.
    pub fn from_name(name: &str) -> Self {
        let lower = name.to_lowercase();
        if lower.starts_with("tổ dân phố") || lower.starts_with("tdp") {
            Self::ToDanPho
        } else if lower.starts_with("bản ") {
            Self::Ban
        } else if lower.starts_with("xóm ") {
            Self::Xom
        } else {
            Self::Thon
        }
    }
}

/// A village code: the commune code, a dash and three digits (`07900-004`).
pub fn village_code(commune: &str, number: u32) -> String {
    format!("{commune}-{number:03}")
}

pub fn parse_village_code(raw: &str) -> Result<(&'static Commune, u32), FieldError> {
    let bad = || {
        FieldError::new(
            format!("mã thôn \"{}\" phải có dạng mã xã-3 chữ số, ví dụ 07900-004", excerpt(raw)),
            format!("village code \"{}\" must be the commune code, a dash and 3 digits, e.g. 07900-004", excerpt(raw)),
        )
    };
    let (commune_part, number) = raw.split_once('-').ok_or_else(bad)?;
    if number.len() != 3 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let commune = parse_commune_code(commune_part)?;
    Ok((commune, number.parse().map_err(|_| bad())?))
}

/// Organisation kinds of the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgKind {
    CoQuan,
    TruongHoc,
    DoanhNghiep,
    HopTacXa,
}

impl OrgKind {
    pub const ALL: [Self; 4] = [Self::CoQuan, Self::TruongHoc, Self::DoanhNghiep, Self::HopTacXa];

    pub fn code(self) -> &'static str {
        match self {
            Self::CoQuan => "co_quan",
            Self::TruongHoc => "truong_hoc",
            Self::DoanhNghiep => "doanh_nghiep",
            Self::HopTacXa => "hop_tac_xa",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL.into_iter().find(|k| k.code() == raw).ok_or_else(|| {
            FieldError::new(
                format!(
                    "loại tổ chức \"{}\" không có; dùng co_quan, truong_hoc, doanh_nghiep, hop_tac_xa",
                    excerpt(raw)
                ),
                format!(
                    "organisation kind \"{}\" is unknown; use co_quan, truong_hoc, doanh_nghiep, hop_tac_xa",
                    excerpt(raw)
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_province_has_148_communes() {
        assert_eq!(COMMUNES.len(), 148);
        assert_eq!(COMMUNES.iter().filter(|c| c.is_ward()).count(), 15);
    }

    #[test]
    fn commune_codes_are_checked() {
        assert!(parse_commune_code("04792").is_ok());
        assert!(parse_commune_code("00001").is_err());
        assert!(parse_commune_code("4792").is_err());
    }

    #[test]
    fn every_commune_is_found_by_its_code() {
        for c in COMMUNES.iter() {
            assert_eq!(commune(&c.code).map(|found| &found.name), Some(&c.name));
        }
        assert!(commune("99999").is_none());
    }

    #[test]
    fn village_codes_round_trip() {
        let code = village_code("04792", 4);
        assert_eq!(code, "04792-004");
        assert_eq!(parse_village_code(&code).unwrap().1, 4);
        assert!(parse_village_code("04792-4").is_err());
    }
}
