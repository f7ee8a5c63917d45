//! Grading a sitting against a pass profile of the framework: the overall share and the share per
//! required competence, compared in whole thousandths so that "exactly at the threshold" is exact.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a profile asks: the overall share and the least share per required competence.
#[derive(Clone, Debug)]
pub struct PassRule<'a> {
    pub required: &'a [String],
    pub pass_share: f64,
    pub min_share_per_competence: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CompetenceScore {
    pub code: String,
    pub right: u32,
    pub total: u32,
    /// Met the profile's least share for one competence.
    pub met: bool,
}

impl CompetenceScore {
    pub fn percent(&self) -> u32 {
        percent(self.right, self.total)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Grade {
    pub right: u32,
    pub total: u32,
    pub competences: Vec<CompetenceScore>,
    pub passed: bool,
}

impl Grade {
    pub fn percent(&self) -> u32 {
        percent(self.right, self.total)
    }

    /// The required competences below their minimum: what to strengthen.
    pub fn weak(&self) -> impl Iterator<Item = &CompetenceScore> {
        self.competences.iter().filter(|c| !c.met)
    }
}

/// Rounded down, so a shown 70% never hides a 69.9% that failed.
pub fn percent(right: u32, total: u32) -> u32 {
    (right * 100).checked_div(total).unwrap_or(0)
}

fn per_mille(share: f64) -> u64 {
    (share * 1000.0).round().clamp(0.0, 1000.0) as u64
}

/// `right / total >= share`, exactly.
fn reaches(right: u32, total: u32, share: f64) -> bool {
    total > 0 && u64::from(right) * 1000 >= per_mille(share) * u64::from(total)
}

/// Grades answers given as (competence, right). A required competence with no question fails:
/// the paper did not show the skill.
pub fn grade(rule: &PassRule, answers: &[(&str, bool)]) -> Grade {
    let mut by: BTreeMap<&str, (u32, u32)> = rule.required.iter().map(|c| (c.as_str(), (0, 0))).collect();
    let (mut right, mut total) = (0, 0);
    for (code, ok) in answers {
        total += 1;
        right += u32::from(*ok);
        let entry = by.entry(code).or_default();
        entry.0 += u32::from(*ok);
        entry.1 += 1;
    }
    let competences: Vec<CompetenceScore> = by
        .into_iter()
        .map(|(code, (right, total))| {
            let required = rule.required.iter().any(|r| r == code);
            CompetenceScore {
                code: code.to_owned(),
                right,
                total,
                met: !required || reaches(right, total, rule.min_share_per_competence),
            }
        })
        .collect();
    let passed = reaches(right, total, rule.pass_share) && competences.iter().all(|c| c.met);
    Grade { right, total, competences, passed }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(required: &[String]) -> PassRule<'_> {
        PassRule { required, pass_share: 0.7, min_share_per_competence: 0.5 }
    }

    /// `n` answers for a competence, `right` of them right.
    fn answers(code: &'static str, right: usize, n: usize) -> Vec<(&'static str, bool)> {
        (0..n).map(|i| (code, i < right)).collect()
    }

    fn required() -> Vec<String> {
        ["1.1", "4.2", "2.6"].map(String::from).to_vec()
    }

    #[test]
    fn exactly_at_the_overall_threshold_passes() {
        let req = required();
        // 21 of 30 is exactly 0.7: 7/10 per competence.
        let given: Vec<_> = [answers("1.1", 7, 10), answers("4.2", 7, 10), answers("2.6", 7, 10)].concat();
        let g = grade(&rule(&req), &given);
        assert_eq!((g.right, g.total), (21, 30));
        assert!(g.passed);
        assert_eq!(g.percent(), 70);
    }

    #[test]
    fn one_below_the_overall_threshold_fails() {
        let req = required();
        let given: Vec<_> = [answers("1.1", 7, 10), answers("4.2", 7, 10), answers("2.6", 6, 10)].concat();
        let g = grade(&rule(&req), &given);
        assert_eq!(g.right, 20);
        assert!(!g.passed);
        assert!(g.weak().next().is_none(), "every competence met its minimum; the overall share failed");
    }

    #[test]
    fn one_competence_below_its_minimum_fails_a_high_overall_score() {
        let req = required();
        // 24 of 30 = 80% overall, but 2.6 has 4 of 10 < 50%.
        let given: Vec<_> = [answers("1.1", 10, 10), answers("4.2", 10, 10), answers("2.6", 4, 10)].concat();
        let g = grade(&rule(&req), &given);
        assert_eq!(g.percent(), 80);
        assert!(!g.passed);
        assert_eq!(g.weak().map(|c| c.code.as_str()).collect::<Vec<_>>(), vec!["2.6"]);
    }

    #[test]
    fn exactly_at_the_competence_minimum_is_met() {
        let req = required();
        let given: Vec<_> = [answers("1.1", 10, 10), answers("4.2", 10, 10), answers("2.6", 5, 10)].concat();
        let g = grade(&rule(&req), &given);
        assert!(g.passed, "{g:?}");
    }

    #[test]
    fn a_required_competence_without_questions_fails() {
        let req = required();
        let given: Vec<_> = [answers("1.1", 10, 10), answers("4.2", 10, 10)].concat();
        let g = grade(&rule(&req), &given);
        assert!(!g.passed);
        assert_eq!(g.weak().next().unwrap().code, "2.6");
    }

    #[test]
    fn a_share_that_floats_cannot_hold_exactly_is_still_exact() {
        // 0.75 of 40 = 30; 0.7 of 10 = 7; 0.3 is not exact in binary.
        let req = vec!["1.1".to_owned()];
        let r = PassRule { required: &req, pass_share: 0.3, min_share_per_competence: 0.3 };
        assert!(grade(&r, &answers("1.1", 3, 10)).passed);
        assert!(!grade(&r, &answers("1.1", 2, 10)).passed);
    }
}
