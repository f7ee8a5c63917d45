//! Exams, one per pass profile, with settings an administrator can change, and the draw of a
//! sitting's paper: balanced across the profile's competences and, within each, across difficulties,
//! least-shown items first, in random order.

use std::collections::BTreeMap;

use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::assessment::bank::Entry;
use crate::identity::audit::Actor;
use crate::on_pool;
use crate::store::Store;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Exam {
    pub target_group: String,
    pub items: i64,
    pub minutes: i64,
    pub attempts_per_day: i64,
}

const SELECT: &str = "SELECT target_group, items, minutes, attempts_per_day FROM exam";

pub async fn all(store: &Store) -> sqlx::Result<Vec<Exam>> {
    let sql = format!("{SELECT} ORDER BY target_group");
    on_pool!(store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await)
}

pub async fn get(store: &Store, target_group: &str) -> sqlx::Result<Option<Exam>> {
    let sql = format!("{SELECT} WHERE target_group = $1");
    on_pool!(store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(target_group).fetch_optional(pool).await)
}

pub async fn update(store: &Store, exam: &Exam, actor: Actor<'_>) -> sqlx::Result<bool> {
    let n = on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(
            "UPDATE exam SET items = $1, minutes = $2, attempts_per_day = $3, updated_at = $4, updated_by = $5 \
             WHERE target_group = $6")
            .bind(exam.items).bind(exam.minutes).bind(exam.attempts_per_day)
            .bind(crate::domain::time::now()).bind(actor.account_id).bind(&exam.target_group)
            .execute(&mut *tx).await?.rows_affected();
        if n > 0 {
            let detail = serde_json::json!({"exam": exam.target_group, "items": exam.items, "minutes": exam.minutes,
                                            "attempts_per_day": exam.attempts_per_day});
            crate::audit_write!(&mut *tx, actor.entry("exam.update", detail))?;
            tx.commit().await?;
        }
        n
    });
    Ok(n > 0)
}

/// One drawn item: the version shown and the order its parts are shown in (`order[shown] = own`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PaperItem {
    pub id: String,
    pub version: i64,
    pub competence: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order: Vec<usize>,
}

/// Picks `n` items over the required competences: as even a share each as the bank allows, each
/// share with the mix of difficulties of that competence's items (so that two papers are equally
/// hard), the least exposed first (ties at random), then shuffles the paper.
/// Fails with the required competences that have no item at all.
pub fn draw(
    candidates: &[Entry],
    required: &[String],
    max_level: i64,
    n: usize,
    rng: &mut impl Rng,
) -> Result<Vec<Entry>, Vec<String>> {
    let mut by: BTreeMap<&str, Vec<&Entry>> = required.iter().map(|c| (c.as_str(), Vec::new())).collect();
    for entry in candidates.iter().filter(|e| e.active && e.level <= max_level) {
        if let Some(list) = by.get_mut(entry.competence.as_str()) {
            list.push(entry);
        }
    }
    let missing: Vec<String> = by.iter().filter(|(_, l)| l.is_empty()).map(|(c, _)| (*c).to_owned()).collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    for list in by.values_mut() {
        list.shuffle(rng);
        list.sort_by_key(|e| e.exposure);
    }
    // Quotas: an even share, the remainder to competences chosen at random, and what a
    // competence cannot fill goes to those that still have items.
    let mut order: Vec<&str> = by.keys().copied().collect();
    order.shuffle(rng);
    let mut quota: BTreeMap<&str, usize> = by.keys().map(|c| (*c, 0)).collect();
    let mut left = n;
    while left > 0 {
        let mut progressed = false;
        for code in &order {
            if left == 0 {
                break;
            }
            let q = quota.get_mut(code).expect("every competence has a quota");
            if *q < by[code].len() {
                *q += 1;
                left -= 1;
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    let mut paper: Vec<Entry> = Vec::with_capacity(n);
    for (code, list) in &by {
        paper.extend(by_difficulty(list, quota[code], rng).into_iter().cloned());
    }
    paper.shuffle(rng);
    Ok(paper)
}

/// Takes `q` of one competence's items (ordered least exposed first): each difficulty gets its
/// proportional share of `q`, the remainders going to the largest fractions (ties at random).
fn by_difficulty<'a>(list: &[&'a Entry], q: usize, rng: &mut impl Rng) -> Vec<&'a Entry> {
    let mut strata: BTreeMap<i64, Vec<&'a Entry>> = BTreeMap::new();
    for entry in list {
        strata.entry(entry.difficulty).or_default().push(entry);
    }
    let total = list.len().max(1);
    // (difficulty, share, remainder of the share's division)
    let mut shares: Vec<(i64, usize, usize)> =
        strata.iter().map(|(d, l)| (*d, q * l.len() / total, q * l.len() % total)).collect();
    let left = q - shares.iter().map(|s| s.1).sum::<usize>();
    shares.shuffle(rng);
    shares.sort_by_key(|s| std::cmp::Reverse(s.2));
    // A positive remainder means the share is below the stratum's size, so one more fits; and
    // there are at least `left` of them since the remainders add up to `left * total`.
    for share in shares.iter_mut().take(left) {
        share.1 += 1;
    }
    shares.iter().flat_map(|(d, share, _)| strata[d].iter().take(*share).copied()).collect()
}

/// A random order of `len` things.
pub fn shuffled(len: usize, rng: &mut impl Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(rng);
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn entry(id: usize, competence: &str, level: i64, exposure: i64) -> Entry {
        Entry {
            id: format!("i{id}"),
            version: 1,
            competence: competence.to_owned(),
            level,
            difficulty: 1,
            kind: "single".into(),
            active: true,
            exposure,
        }
    }

    #[test]
    fn balanced_by_competence_and_level_capped() {
        let required: Vec<String> = ["1.1", "2.6", "4.2"].map(String::from).to_vec();
        let mut bank = Vec::new();
        for (i, c) in ["1.1", "2.6", "4.2", "6.2"].iter().cycle().take(80).enumerate() {
            bank.push(entry(i, c, if i % 10 == 0 { 3 } else { 2 }, 0));
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let paper = draw(&bank, &required, 2, 30, &mut rng).unwrap();
        assert_eq!(paper.len(), 30);
        for c in &required {
            assert_eq!(paper.iter().filter(|e| &e.competence == c).count(), 10);
        }
        assert!(paper.iter().all(|e| e.level <= 2 && e.competence != "6.2"));
    }

    #[test]
    fn least_exposed_first_and_shortfall_moves_to_others() {
        let required: Vec<String> = ["1.1", "4.2"].map(String::from).to_vec();
        let mut bank: Vec<Entry> = (0..10).map(|i| entry(i, "1.1", 1, if i < 5 { 9 } else { 0 })).collect();
        bank.push(entry(100, "4.2", 1, 0));
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let paper = draw(&bank, &required, 2, 6, &mut rng).unwrap();
        assert_eq!(paper.len(), 6);
        assert_eq!(paper.iter().filter(|e| e.competence == "4.2").count(), 1);
        // Five of 1.1 were needed and five had never been shown.
        assert!(paper.iter().filter(|e| e.competence == "1.1").all(|e| e.exposure == 0));
    }

    /// Each competence of the bank below has 4 easy, 8 medium and 4 hard items: a share of 4 is
    /// always 1, 2 and 1, a share of 3 always one of each, and over many sittings every item of a
    /// difficulty is shown about as often as the others.
    #[test]
    fn every_paper_has_the_mix_of_difficulties_and_exposure_spreads() {
        let required: Vec<String> = ["1.1", "2.6", "4.2"].map(String::from).to_vec();
        let mut bank: Vec<Entry> = Vec::new();
        for (c, code) in required.iter().enumerate() {
            for i in 0..16 {
                let mut e = entry(c * 100 + i, code, 1, 0);
                e.difficulty = [1, 2, 2, 3][i % 4];
                bank.push(e);
            }
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for size in [12, 9] {
            for _ in 0..200 {
                let paper = draw(&bank, &required, 1, size, &mut rng).unwrap();
                for code in &required {
                    let of = |d: i64| paper.iter().filter(|e| &e.competence == code && e.difficulty == d).count();
                    if size == 12 {
                        assert_eq!((of(1), of(2), of(3)), (1, 2, 1), "{code}");
                    } else {
                        // Shares 0.75, 1.5 and 0.75: the two largest fractions take the remainder.
                        assert_eq!((of(1), of(2), of(3)), (1, 1, 1), "{code}");
                    }
                }
                for drawn in &paper {
                    bank.iter_mut().find(|e| e.id == drawn.id).unwrap().exposure += 1;
                }
            }
        }
        for code in &required {
            for d in 1..=3 {
                let shown: Vec<i64> =
                    bank.iter().filter(|e| &e.competence == code && e.difficulty == d).map(|e| e.exposure).collect();
                let (lo, hi) = (shown.iter().min().unwrap(), shown.iter().max().unwrap());
                assert!(hi - lo <= 1, "{code} difficulty {d}: exposure {shown:?}");
            }
        }
    }

    #[test]
    fn a_competence_without_items_is_named() {
        let required: Vec<String> = ["1.1", "5.1"].map(String::from).to_vec();
        let bank = vec![entry(1, "1.1", 1, 0), entry(2, "5.1", 3, 0)];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        assert_eq!(draw(&bank, &required, 2, 2, &mut rng).unwrap_err(), vec!["5.1".to_owned()]);
    }
}

#[cfg(test)]
mod shipped_bank {
    use super::*;
    use crate::learning::framework::{BUILTIN, Framework};
    use rand::SeedableRng;

    /// The bank in `content/cau-hoi` fills every exam at its default size, evenly.
    #[test]
    fn the_shipped_bank_fills_every_default_exam() {
        let framework = Framework::parse(BUILTIN).unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content");
        let items = crate::assessment::bank::load(&dir, &framework).unwrap().unwrap();
        assert!(items.len() >= 270, "{} items", items.len());
        let entries: Vec<Entry> = items
            .iter()
            .map(|i| Entry {
                id: i.id.clone(),
                version: 1,
                competence: i.competence.clone(),
                level: i64::from(i.level),
                difficulty: i64::from(i.difficulty),
                kind: i.task.kind().into(),
                active: true,
                exposure: 0,
            })
            .collect();
        for (group, size) in [("nguoi_dan", 30), ("can_bo", 40), ("hoc_sinh_sinh_vien", 30), ("nguoi_lao_dong", 30)] {
            let profile = framework.profile(group).unwrap();
            for c in &profile.required {
                let usable = entries.iter().filter(|e| &e.competence == c && e.level <= i64::from(profile.min_level));
                assert!(usable.count() >= 10, "{group}: competence {c} has fewer than 10 usable items");
            }
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
            let paper = draw(&entries, &profile.required, i64::from(profile.min_level), size, &mut rng).unwrap();
            assert_eq!(paper.len(), size, "{group}");
            let per = size / profile.required.len();
            for c in &profile.required {
                let n = paper.iter().filter(|e| &e.competence == c).count();
                assert!(n == per || n == per + 1, "{group}: {c} drew {n}");
            }
        }
    }
}
