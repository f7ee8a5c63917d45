//! A deterministic synthetic population of Phú Thọ for `hocvuso generate` and `hocvuso demo`:
//! villages, organisations and people of the 148 real communes, in the import format.
//!
//! Everything is drawn from ChaCha8 streams seeded from the seed with integer weights only, so the
//! same (count, seed) gives the same bytes on every machine, and nothing depends on the day it runs.

use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::domain::cccd::{self, CitizenId};
use crate::domain::person::Sex;
use crate::domain::unit::{self, COMMUNES, Commune};

mod layout;
mod names;
mod people;
mod serials;

use layout::*;
use names::*;
pub use people::People;
use serials::*;

/// Reference date for ages: output must not depend on the day it runs.
pub const REFERENCE_DATE: (i32, u32, u32) = (2025, 12, 31);

/// The columns of the people import, in their usual order.
pub const PEOPLE_HEADER: [&str; 12] = crate::registry::import::people::ALL_COLUMNS;
pub const UNITS_HEADER: [&str; 4] = ["ma_xa", "ma_thon", "ten_thon", "loai"];
pub const ORGANISATIONS_HEADER: [&str; 4] = ["ma_to_chuc", "ten", "loai", "ma_xa"];

/// A village-level unit of a commune, as the units file lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VillageSpec {
    pub commune_code: String,
    pub code: String,
    pub name: String,
    pub kind: &'static str,
}

/// An organisation people can belong to, as the organisations file lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSpec {
    pub code: String,
    pub name: String,
    pub kind: &'static str,
    pub commune_code: String,
}

/// The villages of every commune (deterministic from seed): 8–40 per commune, more for larger communes.
/// Wards have "Tổ dân phố N"; communes a mix of thôn, xóm and (mostly in former Hòa Bình) bản.
/// Names are unique within a commune, case-insensitively.
pub fn villages(seed: u64) -> Vec<VillageSpec> {
    Layout::new(seed).villages
}

/// Organisations of every commune (deterministic from seed): the people's committee, schools, enterprises,
/// cooperatives, and a few province agencies attached to Phường Việt Trì.
pub fn organisations(seed: u64) -> Vec<OrgSpec> {
    Layout::new(seed).organisations
}

/// Writes the people file: UTF-8 without BOM, comma-separated, header first. Returns the rows written.
pub fn write_people_csv(count: u64, seed: u64, out: impl Write) -> anyhow::Result<u64> {
    write_csv(out, &PEOPLE_HEADER, People::new(count, seed))
}

/// Writes the units (villages) file. Returns the rows written.
pub fn write_units_csv(seed: u64, out: impl Write) -> anyhow::Result<u64> {
    let rows = villages(seed).into_iter().map(|v| [v.commune_code, v.code, v.name, v.kind.to_owned()]);
    write_csv(out, &UNITS_HEADER, rows)
}

/// Writes the organisations file. Returns the rows written.
pub fn write_organisations_csv(seed: u64, out: impl Write) -> anyhow::Result<u64> {
    let rows = organisations(seed).into_iter().map(|o| [o.code, o.name, o.kind.to_owned(), o.commune_code]);
    write_csv(out, &ORGANISATIONS_HEADER, rows)
}

fn write_csv<R: AsRef<[String]>>(
    out: impl Write,
    header: &[&str],
    rows: impl Iterator<Item = R>,
) -> anyhow::Result<u64> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(header)?;
    let mut written = 0;
    for row in rows {
        writer.write_record(row.as_ref())?;
        written += 1;
    }
    writer.flush()?;
    Ok(written)
}

// ---------------------------------------------------------------------------------------------
// Random helpers

/// Independent streams, so that adding draws to one kind of output never shifts another.
const STREAM_LAYOUT: u64 = 1;
const STREAM_PEOPLE: u64 = 2;
const STREAM_SERIALS: u64 = 3;

fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Draws with probability `per_mille`/1000; integer draws keep results identical across platforms.
fn chance(rng: &mut ChaCha8Rng, per_mille: u32) -> bool {
    rng.random_range(0..1000u32) < per_mille
}

/// Uniform index into a slice (sampled as u32, so it does not depend on the platform's usize).
fn index(rng: &mut ChaCha8Rng, len: usize) -> usize {
    rng.random_range(0..u32::try_from(len).unwrap_or(u32::MAX)) as usize
}

fn pick_from<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[index(rng, items.len())]
}

/// A choice with integer weights, precomputed once.
struct Weighted<T> {
    items: Vec<T>,
    cumulative: Vec<u32>,
}

impl<T: Copy> Weighted<T> {
    fn new(pairs: impl IntoIterator<Item = (T, u32)>) -> Self {
        let mut items = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0;
        for (item, weight) in pairs {
            total += weight;
            items.push(item);
            cumulative.push(total);
        }
        assert!(total > 0, "a weighted table needs some weight");
        Self { items, cumulative }
    }

    fn pick(&self, rng: &mut ChaCha8Rng) -> T {
        let total = *self.cumulative.last().unwrap_or(&1);
        let r = rng.random_range(0..total);
        self.items[self.cumulative.partition_point(|&c| c <= r)]
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet, HashSet};

    use chrono::NaiveDate;

    use super::*;
    use crate::domain::person::{self, SchoolLevel, TargetGroup, TargetGroups};
    use crate::domain::text;

    fn today() -> NaiveDate {
        let (y, m, d) = REFERENCE_DATE;
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn every_row_passes_the_domain_parsers() {
        let seed = 7;
        let village_names: BTreeSet<(String, String)> =
            villages(seed).into_iter().map(|v| (v.commune_code, v.name)).collect();
        let orgs: BTreeMap<String, OrgSpec> = organisations(seed).into_iter().map(|o| (o.code.clone(), o)).collect();
        let mut rows = 0;
        for row in People::new(40_000, seed) {
            rows += 1;
            let [cccd, name, birth, sex, commune, village, household, ethnic, groups, phone, level, org] = &row;
            let commune = unit::parse_commune_code(commune).unwrap();
            assert!(village_names.contains(&(commune.code.clone(), village.clone())), "{village}");
            let birth = person::parse_birth_date(birth, today()).unwrap();
            let sex = Sex::parse(sex).unwrap();
            CitizenId::parse_for(cccd, birth, sex).unwrap();
            assert_eq!(text::clean(name), *name, "NFC and trimmed");
            person::parse_full_name(name).unwrap();
            assert!(name.split(' ').count() >= 3, "{name}");
            person::parse_code(household, "mã hộ", "household code").unwrap();
            assert!(ETHNIC_GROUPS.contains(&ethnic.as_str()));
            let groups = TargetGroups::parse(groups).unwrap();
            let age = person::age_at_end_of(birth, REFERENCE_DATE.0);
            assert!((0..=100).contains(&age));
            match age {
                ..6 => assert!(groups.is_empty()),
                6..18 => assert_eq!(groups.iter().collect::<Vec<_>>(), [TargetGroup::Student]),
                _ => assert!(groups.contains(TargetGroup::Citizen)),
            }
            if !phone.is_empty() {
                assert!(age >= 18);
                assert_eq!(person::parse_phone(phone).unwrap(), *phone);
            }
            if !level.is_empty() {
                assert!(groups.contains(TargetGroup::Student));
                assert_eq!(SchoolLevel::parse(level).unwrap(), SchoolLevel::for_age(age).unwrap());
            }
            if !org.is_empty() {
                let spec = &orgs[org.as_str()];
                assert_eq!(spec.commune_code, commune.code);
                if groups.contains(TargetGroup::Official) {
                    assert_eq!(spec.kind, "co_quan");
                }
            }
        }
        assert_eq!(rows, 40_000);
    }

    #[test]
    fn counts_are_exact_and_every_commune_gets_people() {
        for count in [0, 1, 147, 148, 1_000, 12_345] {
            let mut per_commune: BTreeMap<String, u64> = BTreeMap::new();
            let people = People::new(count, 3);
            assert_eq!(people.size_hint(), (count as usize, Some(count as usize)));
            for row in people {
                *per_commune.entry(row[4].clone()).or_default() += 1;
            }
            assert_eq!(per_commune.values().sum::<u64>(), count);
            if count >= 148 {
                assert_eq!(per_commune.len(), 148);
            }
        }
    }

    #[test]
    fn citizen_numbers_are_unique() {
        let mut seen = HashSet::new();
        for row in People::new(300_000, 11) {
            assert!(seen.insert(CitizenId::parse(&row[0]).unwrap().as_u64()));
        }
    }

    #[test]
    fn serial_permutation_is_a_bijection() {
        let serials = Serials::new(5);
        let mut hit = vec![false; SERIAL_SPACE as usize];
        for counter in 0..SERIAL_SPACE {
            let s = serials.permute(counter, 1234) as usize;
            assert!(!hit[s]);
            hit[s] = true;
        }
    }

    #[test]
    fn output_is_deterministic_for_a_seed() {
        let run = |seed| {
            let mut out = Vec::new();
            write_people_csv(5_000, seed, &mut out).unwrap();
            write_units_csv(seed, &mut out).unwrap();
            write_organisations_csv(seed, &mut out).unwrap();
            out
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn csv_files_start_with_their_header() {
        let mut out = Vec::new();
        assert_eq!(write_people_csv(10, 1, &mut out).unwrap(), 10);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(&format!("{}\n", PEOPLE_HEADER.join(","))));
        assert_eq!(text.lines().count(), 11);
        let mut out = Vec::new();
        let units = write_units_csv(1, &mut out).unwrap();
        assert_eq!(units as usize, villages(1).len());
        assert!(String::from_utf8(out).unwrap().starts_with("ma_xa,ma_thon,ten_thon,loai\n"));
        let mut out = Vec::new();
        write_organisations_csv(1, &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().starts_with("ma_to_chuc,ten,loai,ma_xa\n"));
    }

    #[test]
    fn village_names_are_unique_per_commune() {
        let all = villages(9);
        for commune in COMMUNES.iter() {
            let mine: Vec<&VillageSpec> = all.iter().filter(|v| v.commune_code == commune.code).collect();
            assert!((8..=40).contains(&mine.len()), "{} has {}", commune.name, mine.len());
            let keys: BTreeSet<String> = mine.iter().map(|v| text::match_key(&v.name)).collect();
            assert_eq!(keys.len(), mine.len(), "{}", commune.name);
            for (n, v) in (1..).zip(&mine) {
                assert_eq!(v.code, unit::village_code(&commune.code, n));
                unit::parse_village_code(&v.code).unwrap();
                assert_eq!(unit::VillageKind::from_name(&v.name).code(), v.kind);
                assert_eq!(text::clean(&v.name), v.name);
                if commune.is_ward() {
                    assert_eq!(v.kind, "to_dan_pho");
                }
            }
        }
        assert!(all.iter().any(|v| v.kind == "ban"));
        assert!(all.iter().any(|v| v.kind == "xom"));
        assert!(all.iter().any(|v| v.kind == "thon"));
    }

    #[test]
    fn organisations_are_valid_and_complete() {
        let orgs = organisations(9);
        let codes: BTreeSet<&str> = orgs.iter().map(|o| o.code.as_str()).collect();
        assert_eq!(codes.len(), orgs.len(), "codes are unique");
        for o in &orgs {
            person::parse_code(&o.code, "mã tổ chức", "organisation code").unwrap();
            unit::OrgKind::parse(o.kind).unwrap();
            unit::parse_commune_code(&o.commune_code).unwrap();
            assert_eq!(text::clean(&o.name), o.name);
        }
        for commune in COMMUNES.iter() {
            let mine: Vec<&OrgSpec> = orgs.iter().filter(|o| o.commune_code == commune.code).collect();
            assert!(mine.iter().any(|o| o.name == format!("UBND {}", commune.name)));
            assert!(mine.iter().any(|o| o.name.starts_with("Trường Tiểu học ")));
            assert!(mine.iter().any(|o| o.name.starts_with("Trường THCS ")));
            assert!(mine.iter().any(|o| o.kind == "doanh_nghiep"));
        }
        assert!(orgs.iter().any(|o| o.name == "Sở Khoa học và Công nghệ tỉnh Phú Thọ"));
        assert!(orgs.iter().any(|o| o.name.starts_with("Trường THPT ")));
        assert!(orgs.iter().any(|o| o.kind == "hop_tac_xa"));
    }

    #[test]
    fn households_are_families_in_one_village() {
        let mut households: BTreeMap<(String, String), Vec<[String; 12]>> = BTreeMap::new();
        for row in People::new(100_000, 5) {
            households.entry((row[4].clone(), row[6].clone())).or_default().push(row);
        }
        let mut sizes = 0usize;
        for members in households.values() {
            assert!((1..=7).contains(&members.len()));
            sizes += members.len();
            assert!(members.iter().all(|m| m[5] == members[0][5]), "one village per household");
            let age = |m: &[String; 12]| {
                person::age_at_end_of(person::parse_birth_date(&m[2], today()).unwrap(), REFERENCE_DATE.0)
            };
            assert!(members.iter().any(|m| age(m) >= 18), "someone grown up in every household");
        }
        let mean = sizes as f64 / households.len() as f64;
        assert!((3.3..3.7).contains(&mean), "mean household size {mean}");
    }

    #[test]
    fn population_looks_like_the_region() {
        let mut under_15 = 0;
        let mut over_64 = 0;
        let mut kinh = 0;
        let mut nguyen = 0;
        let mut iso_dates = 0;
        let mut adults = 0;
        let mut phones = 0;
        let mut hoa_binh = 0;
        let mut hoa_binh_muong = 0;
        let count = 200_000;
        for row in People::new(count, 21) {
            let age = person::age_at_end_of(person::parse_birth_date(&row[2], today()).unwrap(), REFERENCE_DATE.0);
            under_15 += u32::from(age < 15);
            over_64 += u32::from(age >= 65);
            kinh += u32::from(row[7] == "Kinh");
            nguyen += u32::from(row[1].starts_with("Nguyễn "));
            iso_dates += u32::from(row[2].contains('-'));
            if age >= 18 {
                adults += 1;
                phones += u32::from(!row[9].is_empty());
            }
            if unit::commune(&row[4]).unwrap().former_province_prefix() == 17 {
                hoa_binh += 1;
                hoa_binh_muong += u32::from(row[7] == "Mường");
            }
        }
        let share = |n: u32, of: u32| f64::from(n) / f64::from(of);
        let count = count as u32;
        assert!((0.20..0.26).contains(&share(under_15, count)), "under 15: {}", share(under_15, count));
        assert!((0.06..0.10).contains(&share(over_64, count)), "65+: {}", share(over_64, count));
        assert!(share(kinh, count) > 0.7);
        assert!((0.2..0.35).contains(&share(nguyen, count)), "Nguyễn: {}", share(nguyen, count));
        assert!((0.1..0.2).contains(&share(iso_dates, count)));
        assert!((0.65..0.75).contains(&share(phones, adults)));
        assert!((0.5..0.7).contains(&share(hoa_binh_muong, hoa_binh)));
    }
}
