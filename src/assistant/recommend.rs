//! What each learner should learn next: the lessons of their target group's programme, the weakest
//! competence first (from the latest exam's share per competence and the placement's estimate),
//! lessons already done or already mastered skipped.

use std::collections::HashMap;

use serde::Serialize;

use crate::app::AppState;
use crate::domain::grading::Grade;
use crate::domain::person::TargetGroups;
use crate::learning::catalog::Snapshot;
use crate::on_pool;

/// A competence at or above this share (or placed as mastered) is mastered.
pub const MASTERED: f64 = 0.8;
/// What an unknown competence counts as: neither weak nor strong.
const UNKNOWN: f64 = 0.5;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Recommendation {
    pub lesson: String,
    pub title: String,
    /// Why this lesson now, in Vietnamese.
    pub reason: String,
}

/// What is known of one learner, per competence: share in [0, 1] and whether placed as mastered.
#[derive(Debug, Default)]
pub struct Known {
    pub group: String,
    pub shares: HashMap<String, f64>,
    pub mastered: HashMap<String, bool>,
    pub done: Vec<String>,
}

pub async fn known(state: &AppState, account_id: &str, person_id: Option<i64>) -> sqlx::Result<Known> {
    let store = &state.store;
    let bits: Option<i64> = match person_id {
        Some(id) => on_pool!(store, pool => sqlx::query_scalar(
            "SELECT CAST(target_groups AS BIGINT) FROM person WHERE id = $1"
        ).bind(id).fetch_optional(pool).await)?,
        None => None,
    };
    let group = TargetGroups::from_bits(bits.unwrap_or(0)).iter().next().map_or("nguoi_dan", |g| g.code()).to_owned();
    let latest: Option<Option<String>> = on_pool!(store, pool => sqlx::query_scalar(
        "SELECT result FROM sitting WHERE account_id = $1 AND submitted_at IS NOT NULL ORDER BY submitted_at DESC LIMIT 1"
    ).bind(account_id).fetch_optional(pool).await)?;
    let mut shares = HashMap::new();
    let mut mastered = HashMap::new();
    let levels: Vec<(String, f64, bool)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT competence, theta, mastered FROM learner_level WHERE account_id = $1"
    ).bind(account_id).fetch_all(pool).await)?;
    for (code, theta, placed) in levels {
        shares.insert(code.clone(), super::irt::probability(1.0, 0.0, theta));
        mastered.insert(code, placed);
    }
    if let Some(grade) = latest.flatten().and_then(|r| serde_json::from_str::<Grade>(&r).ok()) {
        for c in grade.competences.iter().filter(|c| c.total > 0) {
            let share = f64::from(c.right) / f64::from(c.total);
            shares.insert(c.code.clone(), share);
            if share >= MASTERED {
                mastered.insert(c.code.clone(), true);
            }
        }
    }
    let done = crate::learning::progress::of(state, account_id)
        .await?
        .into_values()
        .filter(|r| r.done())
        .map(|r| r.lesson_slug)
        .collect();
    Ok(Known { group, shares, mastered, done })
}

impl Known {
    fn share(&self, code: &str) -> f64 {
        self.shares.get(code).copied().unwrap_or(UNKNOWN)
    }

    pub fn is_mastered(&self, code: &str) -> bool {
        self.mastered.get(code).copied().unwrap_or(false) || self.share(code) >= MASTERED
    }
}

/// The next lessons, at most `limit`: lessons of the group's programmes in their order, not done,
/// not mastered (every competence it teaches mastered), the weakest competence first.
pub fn next(snapshot: &Snapshot, known: &Known, limit: usize) -> Vec<Recommendation> {
    let mut order: Vec<&String> = Vec::new();
    for program in snapshot.programs.iter().filter(|p| p.target_group == known.group) {
        for slug in program.courses.iter().flat_map(|c| c.lessons()) {
            if !order.contains(&slug) {
                order.push(slug);
            }
        }
    }
    let mut candidates: Vec<(f64, usize, Recommendation)> = order
        .into_iter()
        .enumerate()
        .filter_map(|(n, slug)| {
            let lesson = snapshot.lessons.get(slug)?;
            if known.done.contains(slug) || lesson.competences.iter().all(|(c, _)| known.is_mastered(c)) {
                return None;
            }
            let (code, name) = lesson
                .competences
                .iter()
                .filter(|(c, _)| !known.is_mastered(c))
                .min_by(|a, b| known.share(&a.0).total_cmp(&known.share(&b.0)))?;
            let share = known.share(code);
            let reason = match known.shares.get(code) {
                Some(s) => format!("Năng lực {code} ({name}): bạn đạt khoảng {:.0} %.", s * 100.0),
                None => format!("Năng lực {code} ({name}): bài tiếp theo trong chương trình của bạn."),
            };
            Some((share, n, Recommendation { lesson: slug.clone(), title: lesson.title.clone(), reason }))
        })
        .collect();
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    candidates.into_iter().take(limit).map(|(_, _, r)| r).collect()
}

/// The lessons a learner masters already (every competence they teach), for the marks on pages.
pub fn mastered_lessons(snapshot: &Snapshot, known: &Known) -> Vec<String> {
    let mut out: Vec<String> = snapshot
        .lessons
        .values()
        .filter(|l| !l.competences.is_empty() && l.competences.iter().all(|(c, _)| known.is_mastered(c)))
        .map(|l| l.slug.clone())
        .collect();
    out.sort();
    out
}
