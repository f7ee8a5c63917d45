//! Layout: the communes, their villages and organisations, and what the people generator needs of each.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::*;

/// The province the commune belonged to before 2025, for density, ethnicity and village naming.
/// Vĩnh Phúc's codes start at 08707 (Vĩnh Yên); `former_province_prefix` is only used for CCCD prefixes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Region {
    HoaBinh,
    PhuTho,
    VinhPhuc,
}

pub(super) fn region(commune: &Commune) -> Region {
    match commune.code.parse::<u32>().unwrap_or_default() {
        ..6000 => Region::HoaBinh,
        6000..8707 => Region::PhuTho,
        _ => Region::VinhPhuc,
    }
}

/// What the people generator needs of a commune, precomputed.
pub(super) struct Place {
    pub(super) code: String,
    pub(super) prefix: u16,
    pub(super) weight: u32,
    pub(super) village_names: Vec<String>,
    pub(super) village_pick: Weighted<u32>,
    pub(super) ethnic: Weighted<usize>,
    pub(super) agencies: Vec<String>,
    pub(super) primary: Vec<String>,
    pub(super) lower_secondary: Vec<String>,
    pub(super) upper_secondary: Vec<String>,
    pub(super) employers: Vec<String>,
}

pub(super) struct Layout {
    pub(super) villages: Vec<VillageSpec>,
    pub(super) organisations: Vec<OrgSpec>,
    pub(super) places: Vec<Place>,
}

pub(super) fn short_name(commune: &Commune) -> &str {
    commune.name.strip_prefix("Xã ").or_else(|| commune.name.strip_prefix("Phường ")).unwrap_or(&commune.name)
}

/// Ethnic mix in per-mille, in `ETHNIC_GROUPS` order.
pub(super) fn ethnic_mix(region: Region, ward: bool, highland: bool) -> [u32; 9] {
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
pub(super) fn village_kind_mix(region: Region, highland: bool) -> [u32; 3] {
    match (region, highland) {
        (Region::HoaBinh, _) => [5, 45, 50],
        (Region::PhuTho, true) => [40, 50, 10],
        (Region::PhuTho, false) => [60, 40, 0],
        (Region::VinhPhuc, _) => [90, 10, 0],
    }
}

pub(super) struct Village {
    pub(super) name: String,
    pub(super) kind: &'static str,
    /// The place name inside a thôn or xóm name, reused for schools and cooperatives.
    pub(super) base: Option<&'static str>,
}

pub(super) fn village_list(rng: &mut ChaCha8Rng, ward: bool, kinds: [u32; 3], count: u32) -> Vec<Village> {
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
pub(super) fn distinct<'a>(rng: &mut ChaCha8Rng, pool: &[&'a str], n: usize) -> Vec<&'a str> {
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
    pub(super) fn new(seed: u64) -> Self {
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

pub(super) fn commune_organisations(
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
