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

mod names;
use names::*;

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

// ---------------------------------------------------------------------------------------------
// Names and reference tables

// ---------------------------------------------------------------------------------------------
// Layout: communes, villages and organisations

/// The province the commune belonged to before 2025, for density, ethnicity and village naming.
/// Vĩnh Phúc's codes start at 08707 (Vĩnh Yên); `former_province_prefix` is only used for CCCD prefixes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Region {
    HoaBinh,
    PhuTho,
    VinhPhuc,
}

fn region(commune: &Commune) -> Region {
    match commune.code.parse::<u32>().unwrap_or_default() {
        ..6000 => Region::HoaBinh,
        6000..8707 => Region::PhuTho,
        _ => Region::VinhPhuc,
    }
}

/// What the people generator needs of a commune, precomputed.
struct Place {
    code: String,
    prefix: u16,
    weight: u32,
    village_names: Vec<String>,
    village_pick: Weighted<u32>,
    ethnic: Weighted<usize>,
    agencies: Vec<String>,
    primary: Vec<String>,
    lower_secondary: Vec<String>,
    upper_secondary: Vec<String>,
    employers: Vec<String>,
}

struct Layout {
    villages: Vec<VillageSpec>,
    organisations: Vec<OrgSpec>,
    places: Vec<Place>,
}

fn short_name(commune: &Commune) -> &str {
    commune.name.strip_prefix("Xã ").or_else(|| commune.name.strip_prefix("Phường ")).unwrap_or(&commune.name)
}

/// Ethnic mix in per-mille, in `ETHNIC_GROUPS` order.
fn ethnic_mix(region: Region, ward: bool, highland: bool) -> [u32; 9] {
    match (region, ward, highland) {
        (Region::HoaBinh, true, _) => [600, 350, 10, 15, 0, 20, 0, 0, 5],
        (Region::HoaBinh, false, _) => [250, 620, 40, 30, 0, 45, 10, 0, 5],
        (Region::PhuTho, true, _) => [970, 22, 2, 3, 0, 0, 0, 0, 3],
        (Region::PhuTho, false, true) => [600, 330, 40, 8, 10, 2, 2, 8, 2],
        (Region::PhuTho, false, false) => [975, 15, 4, 2, 1, 0, 0, 2, 1],
        (Region::VinhPhuc, true, _) => [985, 5, 0, 5, 0, 0, 0, 0, 5],
        (Region::VinhPhuc, false, _) => [975, 5, 6, 4, 6, 0, 0, 1, 3],
    }
}

/// Village kinds (thon, xom, ban) in per-cent.
fn village_kind_mix(region: Region, highland: bool) -> [u32; 3] {
    match (region, highland) {
        (Region::HoaBinh, _) => [5, 45, 50],
        (Region::PhuTho, true) => [40, 50, 10],
        (Region::PhuTho, false) => [60, 40, 0],
        (Region::VinhPhuc, _) => [90, 10, 0],
    }
}

struct Village {
    name: String,
    kind: &'static str,
    /// The place name inside a thôn or xóm name, reused for schools and cooperatives.
    base: Option<&'static str>,
}

fn village_list(rng: &mut ChaCha8Rng, ward: bool, kinds: [u32; 3], count: u32) -> Vec<Village> {
    if ward {
        return (1..=count)
            .map(|n| Village { name: format!("Tổ dân phố {n}"), kind: "to_dan_pho", base: None })
            .collect();
    }
    let kind_pick = Weighted::new([("thon", kinds[0]), ("xom", kinds[1]), ("ban", kinds[2])]);
    let mut out: Vec<Village> = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    let mut used_bases: Vec<&'static str> = Vec::new();
    for _ in 0..count {
        let kind = kind_pick.pick(rng);
        let label = match kind {
            "thon" => "Thôn",
            "xom" => "Xóm",
            _ => "Bản",
        };
        let pool = if kind == "ban" { BAN_NAMES } else { VILLAGE_NAMES };
        let mut base = None;
        for _ in 0..20 {
            let candidate = *pick_from(rng, pool);
            if !used_bases.contains(&candidate) {
                base = Some(candidate);
                break;
            }
        }
        let mut name = match base {
            Some(b) => format!("{label} {b}"),
            None => String::new(),
        };
        // Numbered names ("Thôn 3") are the fallback when the name pool runs dry, as in real communes.
        let mut number = 1;
        while name.is_empty() || taken.contains(&name.to_lowercase()) {
            name = format!("{label} {number}");
            number += 1;
        }
        if let Some(b) = base {
            used_bases.push(b);
        }
        taken.push(name.to_lowercase());
        out.push(Village { name, kind, base });
    }
    out
}

/// Picks `n` distinct items of a pool (n ≤ pool length).
fn distinct<'a>(rng: &mut ChaCha8Rng, pool: &[&'a str], n: usize) -> Vec<&'a str> {
    let mut chosen: Vec<&'a str> = Vec::with_capacity(n);
    while chosen.len() < n.min(pool.len()) {
        let item = *pick_from(rng, pool);
        if !chosen.contains(&item) {
            chosen.push(item);
        }
    }
    chosen
}

impl Layout {
    fn new(seed: u64) -> Self {
        let mut rng = rng_for(seed, STREAM_LAYOUT);
        let communes: &'static [Commune] = &COMMUNES;

        // Density: Vĩnh Phúc's lowland communes are the most populous, Hòa Bình's mountain ones the least.
        let traits: Vec<(u32, bool)> = communes
            .iter()
            .map(|c| {
                let base = match region(c) {
                    Region::HoaBinh => 80,
                    Region::PhuTho => 100,
                    Region::VinhPhuc => 130,
                };
                let jitter = rng.random_range(60..=160u32);
                let mut weight = base * jitter / 100;
                if c.is_ward() {
                    weight = weight * 3 / 2;
                }
                let highland = match region(c) {
                    Region::HoaBinh => true,
                    Region::PhuTho => !c.is_ward() && chance(&mut rng, 300),
                    Region::VinhPhuc => false,
                };
                (weight, highland)
            })
            .collect();
        let min_weight = traits.iter().map(|t| t.0).min().unwrap_or(0);
        let max_weight = traits.iter().map(|t| t.0).max().unwrap_or(0).max(min_weight + 1);

        let mut villages = Vec::new();
        let mut organisations = Vec::new();
        let mut places = Vec::with_capacity(communes.len());
        for (commune, &(weight, highland)) in communes.iter().zip(&traits) {
            let region = region(commune);
            let ward = commune.is_ward();
            let count =
                (8 + (weight - min_weight) * 28 / (max_weight - min_weight) + rng.random_range(0..=4u32)).clamp(8, 40);
            let list = village_list(&mut rng, ward, village_kind_mix(region, highland), count);
            let village_pick = Weighted::new((0..count).map(|i| (i, rng.random_range(2..=6u32))));
            let bases: Vec<&'static str> = list.iter().filter_map(|v| v.base).collect();
            for (n, v) in (1..).zip(&list) {
                villages.push(VillageSpec {
                    commune_code: commune.code.clone(),
                    code: unit::village_code(&commune.code, n),
                    name: v.name.clone(),
                    kind: v.kind,
                });
            }

            let first = organisations.len();
            let orgs = commune_organisations(&mut rng, commune, weight, &bases);
            organisations.extend(orgs);
            let of_kind = |prefix: &str| -> Vec<String> {
                organisations[first..].iter().filter(|o| o.code.starts_with(prefix)).map(|o| o.code.clone()).collect()
            };
            let place = Place {
                code: commune.code.clone(),
                prefix: commune.former_province_prefix(),
                weight,
                village_names: list.into_iter().map(|v| v.name).collect(),
                village_pick,
                ethnic: Weighted::new(ethnic_mix(region, ward, highland).into_iter().enumerate()),
                agencies: organisations[first..]
                    .iter()
                    .filter(|o| o.kind == "co_quan")
                    .map(|o| o.code.clone())
                    .collect(),
                primary: of_kind("TH-"),
                lower_secondary: of_kind("THCS-"),
                upper_secondary: of_kind("THPT-"),
                employers: organisations[first..]
                    .iter()
                    .filter(|o| o.kind == "doanh_nghiep" || o.kind == "hop_tac_xa")
                    .map(|o| o.code.clone())
                    .collect(),
            };
            places.push(place);
        }
        Self { villages, organisations, places }
    }
}

fn commune_organisations(
    rng: &mut ChaCha8Rng,
    commune: &Commune,
    weight: u32,
    village_bases: &[&'static str],
) -> Vec<OrgSpec> {
    let code = &commune.code;
    let short = short_name(commune);
    let ward = commune.is_ward();
    let mut out = Vec::new();
    let mut push = |code: String, name: String, kind: &'static str| {
        out.push(OrgSpec { code, name, kind, commune_code: commune.code.clone() });
    };

    push(format!("UB-{code}"), format!("UBND {}", commune.name), "co_quan");
    if commune.name == CAPITAL {
        for (agency, name) in PROVINCE_AGENCIES {
            push((*agency).to_owned(), (*name).to_owned(), "co_quan");
        }
    }

    // Schools carry the commune's name; a second school takes a village's or a patron's name.
    let patrons = distinct(rng, SCHOOL_PATRONS, 2);
    let second_name = match village_bases.iter().find(|b| **b != short) {
        Some(b) if !ward => *b,
        _ => patrons[0],
    };
    push(format!("TH-{code}-1"), format!("Trường Tiểu học {short}"), "truong_hoc");
    if weight >= 150 || (ward && chance(rng, 500)) {
        push(format!("TH-{code}-2"), format!("Trường Tiểu học {second_name}"), "truong_hoc");
    }
    push(format!("THCS-{code}-1"), format!("Trường THCS {short}"), "truong_hoc");
    if ward && weight >= 200 {
        push(format!("THCS-{code}-2"), format!("Trường THCS {}", patrons[1]), "truong_hoc");
    }
    let has_upper = ward || chance(rng, if weight >= 120 { 700 } else { 250 });
    if has_upper {
        push(format!("THPT-{code}-1"), format!("Trường THPT {short}"), "truong_hoc");
    }

    let enterprises = if ward { rng.random_range(3..=5u32) } else { rng.random_range(1..=3u32) };
    for (n, sector) in (1..).zip(distinct(rng, ENTERPRISE_SECTORS, enterprises as usize)) {
        let brand = if chance(rng, 300) { short } else { *pick_from(rng, ENTERPRISE_BRANDS) };
        let form = if chance(rng, 650) { "TNHH" } else { "CP" };
        push(format!("DN-{code}-{n}"), format!("Công ty {form} {sector} {brand}"), "doanh_nghiep");
    }
    let cooperatives = if ward { rng.random_range(0..=1u32) } else { rng.random_range(1..=3u32) };
    for (n, product) in (1..).zip(distinct(rng, COOPERATIVE_PRODUCTS, cooperatives as usize)) {
        let place = if village_bases.is_empty() || chance(rng, 500) { short } else { *pick_from(rng, village_bases) };
        push(format!("HTX-{code}-{n}"), format!("Hợp tác xã {product} {place}"), "hop_tac_xa");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Citizen numbers

const SERIAL_SPACE: u32 = 1_000_000;
/// Coprime with 10^6, so `counter * A + B mod 10^6` is a bijection.
const SERIAL_MULTIPLIER: u64 = 387_433;

/// Hands out the six random-looking digits of citizen numbers without ever repeating one:
/// a counter per (prefix, century/sex digit, two-digit year) bucket goes through a bijection of 0..10^6.
struct Serials {
    prefixes: Vec<u16>,
    index_of: Vec<usize>,
    counters: Vec<u32>,
    offset_key: u64,
    round_keys: [u32; 3],
}

impl Serials {
    fn new(seed: u64) -> Self {
        let prefixes = cccd::known_prefixes();
        let mut index_of = vec![usize::MAX; 1000];
        for (i, p) in prefixes.iter().enumerate() {
            index_of[usize::from(*p)] = i;
        }
        let mut rng = rng_for(seed, STREAM_SERIALS);
        Self {
            counters: vec![0; prefixes.len() * 6 * 100],
            prefixes,
            index_of,
            offset_key: rng.random_range(0..u64::from(SERIAL_SPACE)),
            round_keys: [rng.random(), rng.random(), rng.random()],
        }
    }

    /// Any known prefix other than `own`: people born elsewhere before moving here.
    fn other_prefix(&self, rng: &mut ChaCha8Rng, own: u16) -> u16 {
        let own_index = self.index_of[usize::from(own)];
        let i = index(rng, self.prefixes.len() - 1);
        self.prefixes[if i >= own_index { i + 1 } else { i }]
    }

    /// The prefix actually used and a fresh serial; a full bucket moves on to the next prefix.
    fn next(&mut self, prefix: u16, year: i32, sex: Sex) -> (u16, u32) {
        let century_sex =
            usize::try_from((year - 1900) / 100).unwrap_or_default() * 2 + usize::from(sex == Sex::Female);
        let two_digit = usize::try_from(year % 100).unwrap_or_default();
        let start = self.index_of[usize::from(prefix)];
        for step in 0..self.prefixes.len() {
            let p = (start + step) % self.prefixes.len();
            let bucket = (p * 6 + century_sex) * 100 + two_digit;
            let counter = self.counters[bucket];
            if counter < SERIAL_SPACE {
                self.counters[bucket] += 1;
                return (self.prefixes[p], self.permute(counter, bucket));
            }
        }
        panic!("every citizen-number bucket for {year} is full");
    }

    /// An affine map then a three-round decimal Feistel network: both bijective on 0..10^6,
    /// together they hide the counter so serials look random.
    fn permute(&self, counter: u32, bucket: usize) -> u32 {
        let space = u64::from(SERIAL_SPACE);
        let offset = (bucket as u64 * 7_919 + self.offset_key) % space;
        let x = (u64::from(counter) * SERIAL_MULTIPLIER + offset) % space;
        let (mut high, mut low) = ((x / 1000) as u32, (x % 1000) as u32);
        for key in self.round_keys {
            let f = ((low ^ key).wrapping_mul(0x9E37_79B1) >> 16) % 1000;
            (high, low) = (low, (high + f) % 1000);
        }
        high * 1000 + low
    }
}

// ---------------------------------------------------------------------------------------------
// People

const REFERENCE_YEAR: i32 = REFERENCE_DATE.0;
const MAX_AGE: i32 = 100;

/// Weight of each age of a family's youngest child, by five-year band from 0–4 to 30.
const YOUNGEST_CHILD_WEIGHT: [u32; 7] = [5, 4, 4, 7, 7, 4, 2];

/// Household sizes 1–7 in per-mille; mean ≈ 3.5 as in the 2019 census.
const HOUSEHOLD_SIZES: [(usize, u32); 7] = [(1, 110), (2, 180), (3, 220), (4, 240), (5, 130), (6, 70), (7, 50)];

#[derive(Clone, Copy)]
struct Member {
    age: i32,
    sex: Sex,
    surname: &'static str,
    ethnic: usize,
}

/// Precomputed tables for drawing people.
struct Tables {
    sizes: Weighted<usize>,
    surnames: Vec<Weighted<&'static str>>,
    elder_age: Weighted<i32>,
    older_husband_age: Weighted<i32>,
    youngest_child: Weighted<i32>,
    youngest_child_with_grandparents: Weighted<i32>,
    spacing: Weighted<i32>,
    grandparents_of_five: Weighted<usize>,
    grandparents_of_more: Weighted<usize>,
    spouse_gap: Weighted<i32>,
    mother_at_first_birth: Weighted<i32>,
}

impl Tables {
    fn new() -> Self {
        Self {
            sizes: Weighted::new(HOUSEHOLD_SIZES),
            surnames: SURNAMES.iter().map(|t| Weighted::new(t.iter().copied())).collect(),
            // Fewer people at each older age: 60 is the most common, 95 the rarest.
            elder_age: Weighted::new((60..=95).map(|a| (a, (98 - a) as u32))),
            older_husband_age: Weighted::new((55..=92).map(|a| (a, (95 - a) as u32))),
            // Grown-up children often live with their parents until they marry.
            youngest_child: Weighted::new((0..=30).map(|a| (a, YOUNGEST_CHILD_WEIGHT[a as usize / 5]))),
            youngest_child_with_grandparents: Weighted::new((0..=12).map(|a| (a, 1))),
            grandparents_of_five: Weighted::new([(0, 40), (1, 35), (2, 25)]),
            grandparents_of_more: Weighted::new([(0, 25), (1, 35), (2, 40)]),
            spacing: Weighted::new([(1, 2), (2, 4), (3, 4), (4, 3)]),
            spouse_gap: Weighted::new([(0, 2), (1, 3), (2, 3), (3, 2), (4, 1), (5, 1)]),
            mother_at_first_birth: Weighted::new((20..=34).zip([6, 8, 10, 11, 11, 10, 9, 8, 6, 5, 4, 3, 2, 2, 1])),
        }
    }
}

/// Draws households and turns their members into rows; kept apart from the iterator state
/// so that a place can be borrowed while the random stream is advanced.
struct Maker {
    rng: ChaCha8Rng,
    tables: Tables,
    serials: Serials,
    members: Vec<Member>,
}

impl Maker {
    fn member(&mut self, age: i32, sex: Sex, ethnic: usize) -> Member {
        Member { age: age.clamp(0, MAX_AGE), sex, surname: self.tables.surnames[ethnic].pick(&mut self.rng), ethnic }
    }

    fn random_sex(&mut self, female_per_mille: u32) -> Sex {
        if chance(&mut self.rng, female_per_mille) { Sex::Female } else { Sex::Male }
    }

    /// A spouse is usually of the same group; otherwise of any group living in the commune.
    fn spouse_ethnic(&mut self, place: &Place, own: usize) -> usize {
        if chance(&mut self.rng, 850) { own } else { place.ethnic.pick(&mut self.rng) }
    }

    fn couple(&mut self, place: &Place, ethnic: usize, husband_age: i32) {
        let gap = self.tables.spouse_gap.pick(&mut self.rng);
        let husband = self.member(husband_age, Sex::Male, ethnic);
        let wife_ethnic = self.spouse_ethnic(place, ethnic);
        let wife = self.member((husband_age - gap).max(18), Sex::Female, wife_ethnic);
        self.members.extend([husband, wife]);
    }

    /// Fills `members`: the head first, then spouse, children (eldest first), grandparents.
    fn household(&mut self, place: &Place) {
        self.members.clear();
        let size = self.tables.sizes.pick(&mut self.rng);
        let ethnic = place.ethnic.pick(&mut self.rng);
        match size {
            1 => {
                let person = if chance(&mut self.rng, 600) {
                    let age = self.tables.elder_age.pick(&mut self.rng);
                    let sex = self.random_sex(680);
                    self.member(age, sex, ethnic)
                } else {
                    let age = self.rng.random_range(19..=45);
                    let sex = self.random_sex(400);
                    self.member(age, sex, ethnic)
                };
                self.members.push(person);
            }
            2 => match self.rng.random_range(0..100u32) {
                0..45 => {
                    let age = self.tables.older_husband_age.pick(&mut self.rng);
                    self.couple(place, ethnic, age);
                }
                45..60 => {
                    let age = self.rng.random_range(21..=35);
                    self.couple(place, ethnic, age);
                }
                60..90 => self.family(place, ethnic, 1, 1, 0),
                _ => {
                    // Grandparents raising a grandchild while the parents work away.
                    let age = self.rng.random_range(50..=80);
                    let sex = self.random_sex(750);
                    let grandparent = self.member(age, sex, ethnic);
                    let child_age = self.rng.random_range(1..=15);
                    let child_sex = self.random_sex(480);
                    let mut child = self.member(child_age, child_sex, ethnic);
                    if sex == Sex::Male {
                        child.surname = grandparent.surname;
                    }
                    self.members.extend([grandparent, child]);
                }
            },
            n => {
                let grandparents = match n {
                    3 => 0,
                    4 => usize::from(chance(&mut self.rng, 300)),
                    5 => self.tables.grandparents_of_five.pick(&mut self.rng),
                    _ => self.tables.grandparents_of_more.pick(&mut self.rng),
                };
                let parents = if chance(&mut self.rng, 100) { 1 } else { 2 };
                self.family(place, ethnic, parents, n - parents - grandparents, grandparents);
            }
        }
    }

    /// Parents, children 20–40 years younger than each parent, and the head's own parents.
    fn family(&mut self, place: &Place, ethnic: usize, parents: usize, kids: usize, grandparents: usize) {
        let rng = &mut self.rng;
        let youngest = if grandparents > 0 {
            self.tables.youngest_child_with_grandparents.pick(rng)
        } else {
            self.tables.youngest_child.pick(rng)
        };
        let mut ages = [youngest; 7];
        for i in 1..kids {
            ages[i] = ages[i - 1] + self.tables.spacing.pick(rng);
        }
        let eldest = ages[kids - 1];
        let span = eldest - youngest;
        // span ≤ 16, so both parents stay within 20–40 years of every child.
        let gap = self.tables.spouse_gap.pick(rng).min(20 - span);
        let at_first = self.tables.mother_at_first_birth.pick(rng).min(40 - gap - span);
        let mother_age = eldest + at_first;
        let father_age = mother_age + gap;

        let father = self.member(father_age, Sex::Male, ethnic);
        let mother_ethnic = if parents == 2 { self.spouse_ethnic(place, ethnic) } else { ethnic };
        let mother = self.member(mother_age, Sex::Female, mother_ethnic);
        let (with_father, with_mother) = match parents {
            2 => (true, true),
            _ if chance(&mut self.rng, 200) => (true, false),
            _ => (false, true),
        };
        if with_father {
            self.members.push(father);
        }
        if with_mother {
            self.members.push(mother);
        }
        for &age in ages[..kids].iter().rev() {
            let sex = self.random_sex(480);
            let mut child = self.member(age, sex, ethnic);
            child.surname = father.surname;
            self.members.push(child);
        }
        if grandparents > 0 {
            // The head's own parents: a grandfather carries the head's surname.
            let head = if with_father { father } else { mother };
            let gap_up = self.rng.random_range(23..=36).min(MAX_AGE - head.age).max(20);
            let grandfather_age = head.age + gap_up;
            let grandmother_age = (grandfather_age - self.tables.spouse_gap.pick(&mut self.rng)).max(head.age + 20);
            let grandmother_ethnic = self.spouse_ethnic(place, head.ethnic);
            let grandmother = self.member(grandmother_age, Sex::Female, grandmother_ethnic);
            let mut grandfather = self.member(grandfather_age, Sex::Male, head.ethnic);
            grandfather.surname = head.surname;
            if grandparents == 2 {
                self.members.extend([grandfather, grandmother]);
            } else if chance(&mut self.rng, 700) {
                // Women outlive men: a lone grandparent is most often the grandmother.
                self.members.push(grandmother);
            } else {
                self.members.push(grandfather);
            }
        }
    }

    fn full_name(&mut self, m: &Member, birth_year: i32) -> String {
        let rng = &mut self.rng;
        let female = m.sex == Sex::Female;
        let (middle, given_pool): (&str, &[&str]) = if m.ethnic == HMONG && chance(rng, 700) {
            let middle = if female { "Thị" } else { "A" };
            (middle, if female { HMONG_FEMALE_GIVEN } else { HMONG_MALE_GIVEN })
        } else {
            let traditional = match (birth_year, female) {
                (..1975, false) => 650,
                (..1975, true) => 850,
                (..2000, false) => 400,
                (..2000, true) => 550,
                (_, false) => 150,
                (_, true) => 250,
            };
            let middle = match (chance(rng, traditional), female) {
                (true, false) => "Văn",
                (true, true) => "Thị",
                (false, false) => *pick_from(rng, MALE_MIDDLE),
                (false, true) => *pick_from(rng, FEMALE_MIDDLE),
            };
            (middle, if female { FEMALE_GIVEN } else { MALE_GIVEN })
        };
        // Four-word names like "Nguyễn Thị Thu Hà" are common among women born since the 1970s.
        let second = if female && middle == "Thị" && birth_year >= 1970 && chance(rng, 200) {
            Some(*pick_from(rng, FEMALE_MIDDLE))
        } else {
            None
        };
        let mut given = *pick_from(rng, given_pool);
        while given == middle || Some(given) == second {
            given = *pick_from(rng, given_pool);
        }
        let mut name = String::with_capacity(40);
        name.push_str(m.surname);
        name.push(' ');
        name.push_str(middle);
        if let Some(s) = second {
            name.push(' ');
            name.push_str(s);
        }
        name.push(' ');
        name.push_str(given);
        name
    }

    fn row(&mut self, place: &Place, village: &str, household: &str, m: &Member) -> [String; 12] {
        let year = REFERENCE_YEAR - m.age;
        let month = self.rng.random_range(1..=12u32);
        let day = self.rng.random_range(1..=days_in_month(year, month));
        let birth = if chance(&mut self.rng, 850) {
            format!("{day}/{month}/{year}")
        } else {
            format!("{year}-{month:02}-{day:02}")
        };

        // Births registered since the 1 July 2025 merger get the new province's code.
        let prefix = if chance(&mut self.rng, 30) {
            self.serials.other_prefix(&mut self.rng, place.prefix)
        } else if (year, month) >= (2025, 7) {
            25
        } else {
            place.prefix
        };
        let (prefix, serial) = self.serials.next(prefix, year, m.sex);
        let cccd = CitizenId::compose(prefix, year, m.sex, serial)
            .expect("a known prefix and a birth year in 1900–2199")
            .expose()
            .to_owned();
        let name = self.full_name(m, year);

        let rng = &mut self.rng;
        let age = m.age;
        let mut official = false;
        let mut student = false;
        let mut worker = false;
        let groups = if age < 6 {
            ""
        } else if age < 18 {
            student = true;
            "hoc_sinh_sinh_vien"
        } else {
            official = (22..=60).contains(&age) && chance(rng, 30);
            student = !official && (18..=22).contains(&age) && chance(rng, 300);
            worker = !official && age <= 60 && chance(rng, 206);
            match (official, student, worker) {
                (true, _, _) => "nguoi_dan|can_bo",
                (false, true, true) => "nguoi_dan|hoc_sinh_sinh_vien|nguoi_lao_dong",
                (false, true, false) => "nguoi_dan|hoc_sinh_sinh_vien",
                (false, false, true) => "nguoi_dan|nguoi_lao_dong",
                (false, false, false) => "nguoi_dan",
            }
        };
        let level = match age {
            6..=10 => "tieu_hoc",
            11..=14 => "thcs",
            15..=17 => "thpt",
            _ => "dai_hoc",
        };
        // Half the pupils leave the level empty: the importer derives it from the age.
        let school_level = if student && chance(rng, 500) { level } else { "" };
        let org: &str = if official {
            pick_from(rng, &place.agencies).as_str()
        } else if worker && !place.employers.is_empty() && chance(rng, 500) {
            pick_from(rng, &place.employers).as_str()
        } else if student && age < 18 {
            let schools = match level {
                "tieu_hoc" => &place.primary,
                "thcs" => &place.lower_secondary,
                _ => &place.upper_secondary,
            };
            if schools.is_empty() { "" } else { pick_from(rng, schools).as_str() }
        } else {
            ""
        };
        let phone = if age >= 18 && chance(rng, 700) {
            let prefix = pick_from(rng, PHONE_PREFIXES);
            format!("{prefix}{:07}", rng.random_range(0..10_000_000u32))
        } else {
            String::new()
        };

        [
            cccd,
            name,
            birth,
            m.sex.label_vi().to_owned(),
            place.code.clone(),
            village.to_owned(),
            household.to_owned(),
            ETHNIC_GROUPS[m.ethnic].to_owned(),
            groups.to_owned(),
            phone,
            school_level.to_owned(),
            org.to_owned(),
        ]
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Splits `count` over the places by weight (largest remainder), at least one each when there are enough.
fn quotas(count: u64, places: &[Place]) -> Vec<u64> {
    let n = places.len() as u64;
    let floor = if count >= n { 1 } else { 0 };
    let rest = count - floor * n;
    let total: u128 = places.iter().map(|p| u128::from(p.weight)).sum();
    let mut out: Vec<u64> = Vec::with_capacity(places.len());
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(places.len());
    for (i, p) in places.iter().enumerate() {
        let exact = u128::from(rest) * u128::from(p.weight);
        out.push(floor + (exact / total) as u64);
        remainders.push((exact % total, i));
    }
    let assigned: u64 = out.iter().sum();
    // Ties go to the earlier commune, so the split never depends on sort stability.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in remainders.iter().take((count - assigned) as usize) {
        out[i] += 1;
    }
    out
}

/// People: an iterator of rows (12 strings in `PEOPLE_HEADER` order), exactly `count` rows,
/// deterministic from (count, seed). Households are whole and grouped by commune.
pub struct People {
    places: Vec<Place>,
    quotas: Vec<u64>,
    maker: Maker,
    place: usize,
    left_in_place: u64,
    household_number: u32,
    /// Rows of the current household, last member first so that `pop` keeps the household's order.
    pending: Vec<[String; 12]>,
    remaining: u64,
}

impl People {
    pub fn new(count: u64, seed: u64) -> Self {
        let places = Layout::new(seed).places;
        let quotas = quotas(count, &places);
        let left_in_place = quotas.first().copied().unwrap_or(0);
        Self {
            places,
            quotas,
            maker: Maker {
                rng: rng_for(seed, STREAM_PEOPLE),
                tables: Tables::new(),
                serials: Serials::new(seed),
                members: Vec::with_capacity(7),
            },
            place: 0,
            left_in_place,
            household_number: 0,
            pending: Vec::with_capacity(7),
            remaining: count,
        }
    }

    fn next_household(&mut self) {
        while self.left_in_place == 0 {
            self.place += 1;
            self.left_in_place = self.quotas[self.place];
            self.household_number = 0;
        }
        let place = &self.places[self.place];
        let maker = &mut self.maker;
        maker.household(place);
        // The commune's last household is cut to fit its quota; the head comes first, so it keeps an adult.
        let size = (maker.members.len() as u64).min(self.left_in_place) as usize;
        self.left_in_place -= size as u64;
        self.household_number += 1;
        let household = format!("HO-{:06}", self.household_number);
        let village_index = place.village_pick.pick(&mut maker.rng) as usize;
        let village = &place.village_names[village_index];
        let members = std::mem::take(&mut maker.members);
        for member in members[..size].iter().rev() {
            let row = maker.row(place, village, &household, member);
            self.pending.push(row);
        }
        maker.members = members;
    }
}

impl Iterator for People {
    type Item = [String; 12];

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        if self.pending.is_empty() {
            self.next_household();
        }
        self.remaining -= 1;
        self.pending.pop()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        (left, Some(left))
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
