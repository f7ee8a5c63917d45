//! Exams, one per pass profile, with settings an administrator can change, and the draw of a
//! sitting's paper: balanced across the profile's competences, least-shown items first, in random order.

use std::collections::BTreeMap;

use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::assessment::bank::Entry;
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

pub async fn update(store: &Store, exam: &Exam, by: &str) -> sqlx::Result<bool> {
    let n = on_pool!(store, pool => sqlx::query(
        "UPDATE exam SET items = $1, minutes = $2, attempts_per_day = $3, updated_at = $4, updated_by = $5 \
         WHERE target_group = $6")
        .bind(exam.items).bind(exam.minutes).bind(exam.attempts_per_day)
        .bind(crate::identity::accounts::now()).bind(by).bind(&exam.target_group)
        .execute(pool).await?.rows_affected());
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

/// Picks `n` items over the required competences: as even a share each as the bank allows,
/// the least exposed first (ties at random), then shuffles the paper.
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
    let mut paper: Vec<Entry> =
        by.iter().flat_map(|(code, list)| list.iter().take(quota[code]).map(|e| (*e).clone())).collect();
    paper.shuffle(rng);
    Ok(paper)
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
