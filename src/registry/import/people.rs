//! Validating roster rows: first each row on its own (in parallel), then the rules that
//! look across rows (a citizen number seen twice, a household split across villages).

use std::collections::HashSet;

use rustc_hash::{FxHashMap as HashMap, FxHashSet};

use chrono::{Datelike, NaiveDate};

use super::report::BadCell;
use super::source::{Cell, Columns, Header, RawRow};
use crate::crypto::CitizenCipher;
use crate::domain::cccd::{CccdError, CitizenId};
use crate::domain::person::{
    FieldError, SchoolLevel, Sex, TargetGroup, TargetGroups, age_at_end_of, parse_birth_date, parse_code,
    parse_full_name, parse_label, parse_phone,
};
use crate::domain::text::match_key;
use crate::domain::unit::{VillageKind, parse_commune_code, village_code};

pub const COLUMNS: Columns = Columns {
    required: &["cccd", "ho_ten", "ngay_sinh", "gioi_tinh", "ma_xa", "thon", "ma_ho"],
    optional: &["dan_toc", "doi_tuong", "dien_thoai", "cap_hoc", "ma_to_chuc"],
};

/// A row that passed every check on its own, with its citizen number already encrypted and hashed.
#[derive(Debug, Clone)]
pub struct ValidPerson {
    pub line: u64,
    pub cccd_key: u64,
    pub cccd_hash: Vec<u8>,
    pub cccd_enc: Vec<u8>,
    pub full_name: String,
    /// `search_key(full_name)`, what the people search matches.
    pub name_folded: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub ethnicity: Option<String>,
    pub phone: Option<String>,
    pub commune_code: &'static str,
    pub village_name: String,
    pub village_key: String,
    /// Set by the cross-row pass.
    pub village_code: String,
    pub household_code: String,
    pub groups: TargetGroups,
    pub school_level: Option<SchoolLevel>,
    pub organisation_code: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewVillage {
    pub commune_code: &'static str,
    pub code: String,
    pub name: String,
    pub kind: VillageKind,
}

#[derive(Debug, Clone)]
pub struct HouseholdRow {
    pub commune_code: &'static str,
    pub code: String,
    pub village_code: String,
}

/// What the row-by-row checks need to know.
pub struct RowRules {
    pub today: NaiveDate,
    pub cipher: CitizenCipher,
    pub organisations: HashSet<String>,
    positions: [Option<usize>; 12],
}

/// Every column a people file may have, in their usual order.
pub const ALL_COLUMNS: [&str; 12] = [
    "cccd",
    "ho_ten",
    "ngay_sinh",
    "gioi_tinh",
    "ma_xa",
    "thon",
    "ma_ho",
    "dan_toc",
    "doi_tuong",
    "dien_thoai",
    "cap_hoc",
    "ma_to_chuc",
];

impl RowRules {
    pub fn new(header: &Header, today: NaiveDate, cipher: CitizenCipher, organisations: HashSet<String>) -> Self {
        let positions = ALL_COLUMNS.map(|c| header.position(c));
        Self { today, cipher, organisations, positions }
    }

    fn cell<'a, 'c>(&self, row: &'a [Cell<'c>], column: usize) -> Option<&'a Cell<'c>> {
        self.positions[column].and_then(|p| row.get(p))
    }

    fn text<'a>(&self, row: &'a [Cell<'_>], column: usize) -> &'a str {
        self.cell(row, column).map(Cell::text).unwrap_or_default()
    }

    pub fn check(&self, raw: &RawRow) -> Result<ValidPerson, Vec<BadCell>> {
        let mut bad = Vec::new();
        let line = raw.line;
        let cells = raw.cells();
        let row: &[Cell] = &cells;
        for (i, name) in ALL_COLUMNS.iter().enumerate() {
            if matches!(self.cell(row, i), Some(Cell::NotUtf8)) {
                bad.push(BadCell::new(
                    line,
                    name,
                    "",
                    &FieldError::new("ô không phải văn bản UTF-8", "the cell is not UTF-8 text"),
                ));
            }
        }
        if !bad.is_empty() {
            return Err(bad);
        }
        let name = parse_full_name(self.text(row, 1));
        let birth = parse_birth_date(self.text(row, 2), self.today);
        let sex = Sex::parse(self.text(row, 3));
        let commune = parse_commune_code(self.text(row, 4));
        let village = parse_label(self.text(row, 5), "tên thôn", "village name");
        let household = parse_code(self.text(row, 6), "mã hộ", "household code");
        let ethnicity = optional(self.text(row, 7), |v| parse_label(v, "dân tộc", "ethnicity"));
        let phone = optional(self.text(row, 9), parse_phone);
        let organisation = optional(self.text(row, 11), |v| {
            if self.organisations.contains(v) {
                Ok(v.to_owned())
            } else {
                Err(FieldError::new(
                    format!("mã tổ chức \"{v}\" chưa có; hãy nhập tổ chức trước (hocvuso import organisations)"),
                    format!("organisation \"{v}\" is unknown; import organisations first"),
                ))
            }
        });
        let groups = TargetGroups::parse(self.text(row, 8));
        let declared_level = optional(self.text(row, 10), SchoolLevel::parse);

        let cccd = match (self.cell(row, 0), &birth, &sex) {
            (Some(Cell::Number(_)), _, _) => Err(Some(CccdError::StoredAsNumber)),
            (_, Ok(b), Ok(s)) => CitizenId::parse_for(self.text(row, 0), *b, *s).map_err(Some),
            // The number's own shape can still be checked when the date or sex is bad.
            _ => CitizenId::parse(self.text(row, 0)).map_err(Some).and(Err(None)),
        };
        if let Err(Some(e)) = &cccd {
            bad.push(BadCell::new(line, "cccd", self.text(row, 0), e));
        }
        let mut field = |column: usize, result: Result<(), FieldError>| {
            if let Err(e) = result {
                bad.push(BadCell::new(line, ALL_COLUMNS[column], self.text(row, column), &e));
            }
        };
        field(1, name.as_ref().map(|_| ()).map_err(Clone::clone));
        field(2, birth.as_ref().map(|_| ()).map_err(Clone::clone));
        field(3, sex.as_ref().map(|_| ()).map_err(Clone::clone));
        field(4, commune.as_ref().map(|_| ()).map_err(Clone::clone));
        field(5, village.as_ref().map(|_| ()).map_err(Clone::clone));
        field(6, household.as_ref().map(|_| ()).map_err(Clone::clone));
        field(7, ethnicity.as_ref().map(|_| ()).map_err(Clone::clone));
        field(8, groups.as_ref().map(|_| ()).map_err(Clone::clone));
        field(9, phone.as_ref().map(|_| ()).map_err(Clone::clone));
        field(10, declared_level.as_ref().map(|_| ()).map_err(Clone::clone));
        field(11, organisation.as_ref().map(|_| ()).map_err(Clone::clone));

        // Rules between fields, once each field is good.
        let (Ok(birth), Ok(mut groups), Ok(declared_level)) = (birth, groups, declared_level) else {
            return Err(bad);
        };
        let age = age_at_end_of(birth, self.today.year());
        if groups.is_empty() && age >= 18 {
            groups.insert(TargetGroup::Citizen);
        }
        let school_level = if groups.contains(TargetGroup::Student) {
            match declared_level.map_or_else(|| SchoolLevel::for_age(age), Ok) {
                Ok(level) => Some(level),
                Err(e) => {
                    field(8, Err(e));
                    None
                }
            }
        } else if declared_level.is_some() {
            field(
                10,
                Err(FieldError::new(
                    "chỉ ghi cấp học cho học sinh, sinh viên (doi_tuong có hoc_sinh_sinh_vien)",
                    "a school level is only for pupils and students (doi_tuong hoc_sinh_sinh_vien)",
                )),
            );
            None
        } else {
            None
        };
        if groups.contains(TargetGroup::Official) && age < 18 {
            field(8, Err(FieldError::new("cán bộ phải từ 18 tuổi", "an official must be 18 or older")));
        }
        if !bad.is_empty() {
            return Err(bad);
        }
        let (Ok(cccd), Ok(full_name), Ok(sex), Ok(commune), Ok(village_name), Ok(household_code)) =
            (cccd, name, sex, commune, village, household)
        else {
            return Err(bad);
        };
        let sealed = self.cipher.seal(&cccd);
        Ok(ValidPerson {
            line,
            cccd_key: cccd.as_u64(),
            cccd_hash: sealed.hash,
            cccd_enc: sealed.blob,
            name_folded: crate::domain::text::search_key(&full_name),
            full_name,
            birth_date: birth,
            sex,
            ethnicity: ethnicity.unwrap_or_default(),
            phone: phone.unwrap_or_default(),
            commune_code: commune.code.as_str(),
            village_key: match_key(&village_name),
            village_name,
            village_code: String::new(),
            household_code,
            groups,
            school_level,
            organisation_code: organisation.unwrap_or_default(),
        })
    }
}

fn optional<T>(raw: &str, parse: impl FnOnce(&str) -> Result<T, FieldError>) -> Result<Option<T>, FieldError> {
    if raw.is_empty() { Ok(None) } else { parse(raw).map(Some) }
}

/// The villages a people import can place people in: those in the database and those it creates.
#[derive(Debug, Default)]
pub struct VillageBook {
    /// Commune → village name key → village code.
    by_key: HashMap<&'static str, HashMap<String, String>>,
    next_number: HashMap<&'static str, u32>,
}

impl VillageBook {
    /// `existing`: (commune, village code, name key) of the villages already in the database.
    pub fn new(existing: Vec<(String, String, String)>) -> Self {
        let mut book = Self::default();
        for (commune, code, key) in existing {
            let Ok(c) = parse_commune_code(&commune) else { continue };
            let commune: &'static str = c.code.as_str();
            let number = code.rsplit('-').next().and_then(|n| n.parse::<u32>().ok()).unwrap_or(0);
            let next = book.next_number.entry(commune).or_insert(1);
            *next = (*next).max(number + 1);
            book.by_key.entry(commune).or_default().insert(key, code);
        }
        book
    }

    /// The village's code, creating it (and noting it in `created`) when it is new.
    fn resolve(&mut self, person: &ValidPerson, created: &mut Vec<NewVillage>) -> Option<String> {
        let villages = self.by_key.entry(person.commune_code).or_default();
        if let Some(code) = villages.get(&person.village_key) {
            return Some(code.clone());
        }
        let next = self.next_number.entry(person.commune_code).or_insert(1);
        if *next > 999 {
            return None;
        }
        let code = village_code(person.commune_code, *next);
        *next += 1;
        created.push(NewVillage {
            commune_code: person.commune_code,
            code: code.clone(),
            name: person.village_name.clone(),
            kind: VillageKind::from_name(&person.village_name),
        });
        villages.insert(person.village_key.clone(), code.clone());
        Some(code)
    }
}

/// The rules that look across rows, applied in file order so that "the later row is bad" holds.
#[derive(Default)]
pub struct CrossRowRules {
    first_line_of: HashMap<u64, u64>,
    /// Commune → household code → (village name key, first line).
    households: HashMap<&'static str, HashMap<String, (String, u64)>>,
}

/// One chunk of checked rows ready to be written, with what the writer notes of them gathered
/// here (the writer is the import's bottleneck).
#[derive(Debug, Default)]
pub struct Batch {
    pub villages: Vec<NewVillage>,
    pub households: Vec<HouseholdRow>,
    pub people: Vec<ValidPerson>,
    /// The distinct communes and organisations of `people`.
    pub communes: Vec<&'static str>,
    pub organisations: Vec<String>,
}

impl CrossRowRules {
    pub fn apply(
        &mut self,
        checked: Vec<Result<ValidPerson, Vec<BadCell>>>,
        villages: &mut VillageBook,
        bad: &mut Vec<BadCell>,
    ) -> Batch {
        let mut batch = Batch { people: Vec::with_capacity(checked.len()), ..Batch::default() };
        for result in checked {
            let mut person = match result {
                Ok(p) => p,
                Err(cells) => {
                    bad.extend(cells);
                    continue;
                }
            };
            if let Some(first) = self.first_line_of.get(&person.cccd_key) {
                bad.push(BadCell::new(
                    person.line,
                    "cccd",
                    "",
                    &FieldError::new(
                        format!("số định danh đã có ở dòng {first}"),
                        format!("the same citizen number is already on row {first}"),
                    ),
                ));
                continue;
            }
            if let Some((village_key, first)) =
                self.households.get(person.commune_code).and_then(|h| h.get(&person.household_code))
                && *village_key != person.village_key
            {
                bad.push(BadCell::new(
                    person.line,
                    "thon",
                    &person.village_name,
                    &FieldError::new(
                        format!(
                            "hộ {} đã ở thôn khác (dòng {first}); mọi thành viên của hộ phải cùng thôn",
                            person.household_code
                        ),
                        format!(
                            "household {} is in another village on row {first}; all its members live in one village",
                            person.household_code
                        ),
                    ),
                ));
                continue;
            }
            let Some(code) = villages.resolve(&person, &mut batch.villages) else {
                bad.push(BadCell::new(
                    person.line,
                    "thon",
                    &person.village_name,
                    &FieldError::new("xã đã có 999 thôn", "the commune already has 999 villages"),
                ));
                continue;
            };
            person.village_code = code;
            self.first_line_of.insert(person.cccd_key, person.line);
            let households = self.households.entry(person.commune_code).or_default();
            if !households.contains_key(&person.household_code) {
                households.insert(person.household_code.clone(), (person.village_key.clone(), person.line));
                batch.households.push(HouseholdRow {
                    commune_code: person.commune_code,
                    code: person.household_code.clone(),
                    village_code: person.village_code.clone(),
                });
            }
            batch.people.push(person);
        }
        let mut communes: FxHashSet<&'static str> = FxHashSet::default();
        let mut organisations: FxHashSet<&str> = FxHashSet::default();
        for p in &batch.people {
            communes.insert(p.commune_code);
            if let Some(code) = &p.organisation_code {
                organisations.insert(code);
            }
        }
        batch.organisations = organisations.into_iter().map(str::to_owned).collect();
        batch.communes = communes.into_iter().collect();
        batch
    }
}
