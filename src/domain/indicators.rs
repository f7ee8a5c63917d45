//! The plan's indicators (`data-builtin/targets.toml`) and which of them a person counts in.
//!
//! Pure: the tracking capability reads a person's facts, asks [`contributions`] before and after a
//! change, and adds the difference to the counters of the person's village, commune and province.
//! The rebuild's SQL states the same rules set-wise; the property test holds the two together.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use super::person::{SchoolLevel, TargetGroup, TargetGroups};

const SOURCE: &str = include_str!("../../data-builtin/targets.toml");

/// Who an indicator counts: its denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Population {
    /// Target group `can_bo`.
    PublicSector,
    /// Target group `hoc_sinh_sinh_vien` at the school levels of the year.
    Students,
    /// 18 and over on 31 December.
    Adults,
    /// `nguoi_lao_dong` in an organisation of kind `doanh_nghiep` or `hop_tac_xa`.
    EnterpriseWorkers,
    /// 16 and over on 31 December.
    #[serde(rename = "citizens_16_plus")]
    Citizens16Plus,
    /// Households of the registry.
    Households,
}

impl Population {
    /// The exam profile whose certificate the `certified` numerator asks for.
    pub fn profile(self) -> Option<TargetGroup> {
        match self {
            Self::PublicSector => Some(TargetGroup::Official),
            Self::Students => Some(TargetGroup::Student),
            Self::EnterpriseWorkers => Some(TargetGroup::Worker),
            Self::Adults | Self::Citizens16Plus | Self::Households => None,
        }
    }
}

/// Who of the population is counted as reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Numerator {
    /// A valid (not revoked) certificate of the population's profile; for a population without a
    /// profile, of any profile.
    Certified,
    /// Passed the assessment of any profile (every profile tests the basic competences).
    PassedBasic,
    /// A certificate's confirmation delivered to and acknowledged by VNeID.
    ConfirmedOnVneid,
    /// VNeID identity level 2 and a digital bank account.
    HasVneidAndBankAccount,
    /// A household with at least one member who completed at least one lesson.
    HouseholdWithLearner,
}

#[derive(Debug, Clone, Deserialize)]
struct YearTarget {
    year: i32,
    target: f64,
}

#[derive(Debug, Clone, Deserialize)]
struct RawIndicator {
    code: String,
    name_vi: String,
    population: Population,
    numerator: Numerator,
    targets: Vec<YearTarget>,
    seed_ref: String,
    /// `population_YYYY = ["primary", "secondary", "tertiary"]`.
    #[serde(flatten)]
    rest: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone)]
pub struct Indicator {
    pub code: String,
    pub name_vi: String,
    pub population: Population,
    pub numerator: Numerator,
    /// (year, share 0..1), in year order.
    pub targets: Vec<(i32, f64)>,
    /// For students: the school levels counted each year.
    pub school_levels: BTreeMap<i32, Vec<SchoolLevel>>,
    pub seed_ref: String,
}

impl Indicator {
    pub fn target(&self, year: i32) -> Option<f64> {
        self.targets.iter().find(|(y, _)| *y == year).map(|(_, t)| *t)
    }

    /// School levels counted in `year`; the nearest earlier year's list holds until the next.
    pub fn school_levels_in(&self, year: i32) -> &[SchoolLevel] {
        self.school_levels.range(..=year).next_back().map_or(&[], |(_, levels)| levels.as_slice())
    }
}

/// A structural rule of the plan (section IV.6): checked per unit, not a ratio.
#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    pub code: String,
    pub name_vi: String,
    pub seed_ref: String,
    #[serde(flatten)]
    pub parameters: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Reporting {
    pub cadence: String,
    pub due_day_of_last_month: u32,
    pub seed_ref: String,
}

#[derive(Debug, Deserialize)]
struct RawTargets {
    indicator: Vec<RawIndicator>,
    #[serde(default)]
    rule: Vec<Rule>,
    reporting: Reporting,
}

#[derive(Debug, Clone)]
pub struct Targets {
    pub indicators: Vec<Indicator>,
    pub rules: Vec<Rule>,
    pub reporting: Reporting,
}

fn school_stage(raw: &str) -> Result<&'static [SchoolLevel], String> {
    match raw {
        "primary" => Ok(&[SchoolLevel::Primary]),
        "secondary" => Ok(&[SchoolLevel::LowerSecondary, SchoolLevel::UpperSecondary]),
        "tertiary" => Ok(&[SchoolLevel::Tertiary]),
        other => Err(format!("unknown school stage {other:?}")),
    }
}

impl Targets {
    pub fn parse(text: &str) -> Result<Self, String> {
        let raw: RawTargets = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut indicators = Vec::with_capacity(raw.indicator.len());
        for i in raw.indicator {
            let mut school_levels = BTreeMap::new();
            for (key, value) in &i.rest {
                let Some(year) = key.strip_prefix("population_") else { continue };
                let year: i32 = year.parse().map_err(|_| format!("{}: bad key {key}", i.code))?;
                let stages = value.as_array().ok_or_else(|| format!("{}: {key} is not a list", i.code))?;
                let mut levels = Vec::new();
                for stage in stages {
                    levels.extend_from_slice(school_stage(stage.as_str().unwrap_or_default())?);
                }
                school_levels.insert(year, levels);
            }
            if i.population == Population::Students && school_levels.is_empty() {
                return Err(format!("{}: students without population_YYYY", i.code));
            }
            if let Some(t) = i.targets.iter().find(|t| !(0.0..=1.0).contains(&t.target)) {
                return Err(format!("{}: target {} outside 0..1", i.code, t.target));
            }
            let mut targets: Vec<(i32, f64)> = i.targets.iter().map(|t| (t.year, t.target)).collect();
            targets.sort_by_key(|(y, _)| *y);
            indicators.push(Indicator {
                code: i.code,
                name_vi: i.name_vi,
                population: i.population,
                numerator: i.numerator,
                targets,
                school_levels,
                seed_ref: i.seed_ref,
            });
        }
        Ok(Self { indicators, rules: raw.rule, reporting: raw.reporting })
    }

    /// Years that have a target in some indicator, ascending.
    pub fn years(&self) -> Vec<i32> {
        let mut years: Vec<i32> = self.indicators.iter().flat_map(|i| i.targets.iter().map(|(y, _)| *y)).collect();
        years.sort_unstable();
        years.dedup();
        years
    }

    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.code == code)
    }
}

/// The built-in targets (checked by a unit test, so the parse cannot fail at run time).
pub fn targets() -> &'static Targets {
    static TARGETS: LazyLock<Targets> =
        LazyLock::new(|| Targets::parse(SOURCE).expect("data-builtin/targets.toml is valid (unit-tested)"));
    &TARGETS
}

/// Kinds of organisation whose workers are "enterprise workers".
pub const ENTERPRISE_KINDS: [&str; 2] = ["doanh_nghiep", "hop_tac_xa"];

/// What the indicators need to know of one person of the registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonFacts {
    pub birth_year: i32,
    pub groups: TargetGroups,
    pub school_level: Option<SchoolLevel>,
    /// `organisation.kind` of the person's organisation.
    pub organisation_kind: Option<String>,
    /// Profiles passed.
    pub passed: TargetGroups,
    /// Profiles with a valid (not revoked) certificate.
    pub certified: TargetGroups,
    pub confirmed_on_vneid: bool,
    pub vneid_level: Option<i16>,
    pub bank_account: bool,
    /// Completed at least one lesson.
    pub learned: bool,
    /// Erasure removes who the person is, not what they did: it changes no indicator.
    pub erased: bool,
}

impl PersonFacts {
    /// Age on 31 December of `year`, from the birth year alone (kept after an erasure).
    pub fn age_at_end_of(&self, year: i32) -> i32 {
        year - self.birth_year
    }
}

/// One indicator the person is in the denominator of, and whether in its numerator too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contribution {
    /// Position in [`Targets::indicators`].
    pub indicator: usize,
    pub numerator: bool,
}

pub fn in_population(indicator: &Indicator, facts: &PersonFacts, year: i32) -> bool {
    match indicator.population {
        Population::PublicSector => facts.groups.contains(TargetGroup::Official),
        Population::Students => {
            facts.groups.contains(TargetGroup::Student)
                && facts.school_level.is_some_and(|l| indicator.school_levels_in(year).contains(&l))
        }
        Population::Adults => facts.age_at_end_of(year) >= 18,
        Population::Citizens16Plus => facts.age_at_end_of(year) >= 16,
        Population::EnterpriseWorkers => {
            facts.groups.contains(TargetGroup::Worker)
                && facts.organisation_kind.as_deref().is_some_and(|k| ENTERPRISE_KINDS.contains(&k))
        }
        // Counted per household, not per person: see `household_counts`.
        Population::Households => false,
    }
}

pub fn reached(indicator: &Indicator, facts: &PersonFacts) -> bool {
    match indicator.numerator {
        Numerator::Certified => match indicator.population.profile() {
            Some(profile) => facts.certified.contains(profile),
            None => !facts.certified.is_empty(),
        },
        Numerator::PassedBasic => !facts.passed.is_empty(),
        Numerator::ConfirmedOnVneid => facts.confirmed_on_vneid,
        Numerator::HasVneidAndBankAccount => facts.vneid_level.is_some_and(|l| l >= 2) && facts.bank_account,
        Numerator::HouseholdWithLearner => false,
    }
}

/// The person-level indicators of `year` whose denominator the person is in, and for each whether
/// the numerator too. Households are counted apart ([`household_counts`]).
pub fn contributions(targets: &Targets, facts: &PersonFacts, year: i32) -> Vec<Contribution> {
    targets
        .indicators
        .iter()
        .enumerate()
        .filter(|(_, i)| i.target(year).is_some() && in_population(i, facts, year))
        .map(|(n, i)| Contribution { indicator: n, numerator: reached(i, facts) })
        .collect()
}

/// A household's (denominator, numerator) for an indicator over households, given how many of its
/// members have learned: every household counts, and it is reached once one member learned.
pub fn household_counts(learners: i64) -> (i64, i64) {
    (1, i64::from(learners > 0))
}

/// People still missing to reach `target` of `denominator`, rounded up, never below zero.
pub fn gap(target: f64, numerator: i64, denominator: i64) -> i64 {
    // Thousandths of the share, so 0.7 × 10 is exactly 7 and not 7.000000000000001 rounded up to 8.
    let per_mille = (target * 1000.0).round().clamp(0.0, 1000.0) as i64;
    let needed = (per_mille * denominator + 999) / 1000;
    (needed - numerator).max(0)
}

/// numerator / denominator, none when nobody is counted.
pub fn value(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(t: &Targets, c: &[Contribution]) -> Vec<(String, bool)> {
        c.iter().map(|c| (t.indicators[c.indicator].code.clone(), c.numerator)).collect()
    }

    fn groups(raw: &str) -> TargetGroups {
        TargetGroups::parse(raw).unwrap()
    }

    #[test]
    fn the_built_in_file_parses_with_every_indicator_and_year() {
        let t = Targets::parse(SOURCE).unwrap();
        assert_eq!(t.indicators.len(), 7);
        assert_eq!(t.years(), vec![2025, 2026]);
        assert_eq!(t.rules.len(), 4);
        assert_eq!(t.reporting.due_day_of_last_month, 25);
        let students = t.indicator("hoc_sinh_sinh_vien_ky_nang_so").unwrap();
        assert_eq!(
            students.school_levels_in(2025),
            &[SchoolLevel::LowerSecondary, SchoolLevel::UpperSecondary, SchoolLevel::Tertiary]
        );
        assert!(students.school_levels_in(2026).contains(&SchoolLevel::Primary));
        assert_eq!(t.indicator("xac_nhan_vneid").unwrap().target(2025), Some(0.70));
    }

    #[test]
    fn ages_are_taken_on_31_december_of_the_year() {
        let t = targets();
        // Born 31 December 2007: 18 on 31 December 2025. Born 1 January 2008: 17 all 2025 long.
        let born_2007 = PersonFacts { birth_year: 2007, ..Default::default() };
        let born_2008 = PersonFacts { birth_year: 2008, ..Default::default() };
        let adult = |f: &PersonFacts, y| code_of(t, &contributions(t, f, y)).iter().any(|(c, _)| c == "xac_nhan_vneid");
        assert!(adult(&born_2007, 2025));
        assert!(!adult(&born_2008, 2025));
        assert!(adult(&born_2008, 2026));
        // 16 for the digital identity: born 2009 is 16 in 2025, born 2010 is not.
        let id = |y: i32| {
            code_of(t, &contributions(t, &PersonFacts { birth_year: y, ..Default::default() }, 2025))
                .iter()
                .any(|(c, _)| c == "danh_tinh_so")
        };
        assert!(id(2009));
        assert!(!id(2010));
    }

    #[test]
    fn populations_and_numerators_by_hand() {
        let t = targets();
        // An official of 40 who passed and is certified in the public-sector profile, confirmed on
        // VNeID, level 2 but no bank account.
        let official = PersonFacts {
            birth_year: 1985,
            groups: groups("can_bo"),
            passed: groups("can_bo"),
            certified: groups("can_bo"),
            confirmed_on_vneid: true,
            vneid_level: Some(2),
            ..Default::default()
        };
        assert_eq!(
            code_of(t, &contributions(t, &official, 2025)),
            vec![
                ("can_bo_ky_nang_so".to_owned(), true),
                ("nguoi_truong_thanh_ky_nang_so".to_owned(), true),
                ("xac_nhan_vneid".to_owned(), true),
                ("danh_tinh_so".to_owned(), false),
            ]
        );
        // A primary pupil of 10: no student indicator in 2025, in it in 2026; certified in the
        // citizen profile only, which is not the students' profile.
        let pupil = PersonFacts {
            birth_year: 2015,
            groups: groups("hoc_sinh_sinh_vien"),
            school_level: Some(SchoolLevel::Primary),
            certified: groups("nguoi_dan"),
            ..Default::default()
        };
        assert!(contributions(t, &pupil, 2025).is_empty());
        assert_eq!(code_of(t, &contributions(t, &pupil, 2026)), vec![("hoc_sinh_sinh_vien_ky_nang_so".into(), false)]);
        // A worker counts as enterprise worker only in an enterprise or cooperative.
        let mut worker = PersonFacts {
            birth_year: 1990,
            groups: groups("nguoi_lao_dong"),
            organisation_kind: Some("co_quan".into()),
            certified: groups("nguoi_lao_dong"),
            vneid_level: Some(2),
            bank_account: true,
            ..Default::default()
        };
        let has =
            |f: &PersonFacts, code: &str| code_of(t, &contributions(t, f, 2025)).into_iter().find(|(c, _)| c == code);
        assert_eq!(has(&worker, "nguoi_lao_dong_dn_ky_nang_so"), None);
        worker.organisation_kind = Some("hop_tac_xa".into());
        assert_eq!(has(&worker, "nguoi_lao_dong_dn_ky_nang_so"), Some(("nguoi_lao_dong_dn_ky_nang_so".into(), true)));
        assert_eq!(has(&worker, "danh_tinh_so"), Some(("danh_tinh_so".into(), true)));
        // Certified but not passed cannot happen; passed without a certificate counts for adults.
        assert_eq!(
            has(&worker, "nguoi_truong_thanh_ky_nang_so"),
            Some(("nguoi_truong_thanh_ky_nang_so".into(), false))
        );
        // Erasure changes nothing.
        let erased = PersonFacts { erased: true, ..worker.clone() };
        assert_eq!(contributions(t, &erased, 2025), contributions(t, &worker, 2025));
    }

    #[test]
    fn gaps_round_up_and_never_go_below_zero() {
        assert_eq!(gap(0.8, 0, 10), 8);
        assert_eq!(gap(0.8, 0, 11), 9); // 8.8 people → 9
        assert_eq!(gap(0.7, 0, 10), 7); // exactly 7, no float noise
        assert_eq!(gap(0.7, 9, 10), 0);
        assert_eq!(gap(1.0, 1233, 2467), 1234);
        assert_eq!(gap(0.8, 0, 0), 0);
        assert_eq!(value(1, 4), Some(0.25));
        assert_eq!(value(0, 0), None);
        assert_eq!(household_counts(0), (1, 0));
        assert_eq!(household_counts(3), (1, 1));
    }
}
