//! The adaptive placement test's storage: a placement per learner and framework domain, its item
//! pool (single-choice and true/false items of the domain's competences, with their 2PL parameters:
//! calibrated where `hocvuso assessment calibrate` fitted them, the documented default from the
//! difficulty otherwise), the answers given, and at the end the learner's level per competence.
//! A placement never issues a certificate: it writes only `placement` and `learner_level`.

use std::collections::HashMap;

use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::irt::{self, Params};
use crate::domain::time::now;
use crate::learning::framework::Framework;
use crate::on_pool;
use crate::store::Store;

/// The kinds a placement page shows (one click each, quick on a phone).
pub const KINDS: [&str; 2] = ["single", "true_false"];

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PoolItem {
    pub id: String,
    pub version: i64,
    pub competence: String,
    pub a: f64,
    pub b: f64,
}

impl PoolItem {
    pub fn params(&self) -> Params {
        Params { a: self.a, b: self.b }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct State {
    pub pool: Vec<PoolItem>,
    /// Indices into the pool, in the order asked, with whether the answer was right.
    pub asked: Vec<(usize, bool)>,
    /// The item shown now, if the placement goes on.
    pub current: Option<usize>,
}

pub struct Placement {
    pub id: String,
    pub account_id: String,
    pub domain: String,
    pub finished: bool,
    pub theta: f64,
    pub se: f64,
    pub state: State,
}

/// Fitted parameters by item id.
pub async fn fitted(store: &Store) -> sqlx::Result<HashMap<String, Params>> {
    let rows: Vec<(String, f64, f64)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT item_id, discrimination, location FROM item_param"
    ).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|(id, a, b)| (id, Params { a, b })).collect())
}

/// Starts a placement over a domain; None when the bank has no item for it.
pub async fn start(
    store: &Store,
    framework: &Framework,
    account_id: &str,
    domain: &str,
) -> sqlx::Result<Option<String>> {
    let Some(domain) = framework.domains.iter().find(|d| d.code == domain) else { return Ok(None) };
    let codes: Vec<&str> = domain.competences.iter().map(|c| c.code.as_str()).collect();
    let fitted = fitted(store).await?;
    let pool: Vec<PoolItem> = crate::assessment::bank::entries(store)
        .await?
        .into_iter()
        .filter(|e| e.active && codes.contains(&e.competence.as_str()) && KINDS.contains(&e.kind.as_str()))
        .map(|e| {
            let p = fitted.get(&e.id).copied().unwrap_or_else(|| Params::from_difficulty(e.difficulty as u8));
            PoolItem { id: e.id, version: e.version, competence: e.competence, a: p.a, b: p.b }
        })
        .collect();
    if pool.is_empty() {
        return Ok(None);
    }
    let params: Vec<Params> = pool.iter().map(PoolItem::params).collect();
    let first = irt::choose(&params, &[], 0.0, &mut rand::rngs::StdRng::from_os_rng());
    let state = State { pool, asked: Vec::new(), current: first };
    let id = crate::crypto::random_token()[..32].to_owned();
    let json = serde_json::to_string(&state).expect("a placement serialises");
    on_pool!(store, pool => sqlx::query(
        "INSERT INTO placement (id, account_id, domain, started_at, theta, se, state) VALUES ($1, $2, $3, $4, 0, 1, $5)"
    ).bind(&id).bind(account_id).bind(&domain.code).bind(now()).bind(&json).execute(pool).await.map(|_| ()))?;
    Ok(Some(id))
}

pub async fn load(store: &Store, id: &str) -> sqlx::Result<Option<Placement>> {
    type Row = (String, String, String, Option<i64>, f64, f64, String);
    let row: Option<Row> = on_pool!(store, pool => sqlx::query_as(
        "SELECT id, account_id, domain, finished_at, theta, se, state FROM placement WHERE id = $1"
    ).bind(id).fetch_optional(pool).await)?;
    Ok(row.and_then(|(id, account_id, domain, finished_at, theta, se, state)| {
        let state = serde_json::from_str(&state).ok()?;
        Some(Placement { id, account_id, domain, finished: finished_at.is_some(), theta, se, state })
    }))
}

/// Records the answer to the current item, estimates again and picks the next item or stops. At
/// the stop, the level of each competence of the domain is written in the same transaction.
pub async fn answer(store: &Store, placement: &mut Placement, right: bool, framework: &Framework) -> sqlx::Result<()> {
    let Some(current) = placement.state.current else { return Ok(()) };
    placement.state.asked.push((current, right));
    let given: Vec<(Params, bool)> =
        placement.state.asked.iter().map(|(i, r)| (placement.state.pool[*i].params(), *r)).collect();
    let (theta, se) = irt::eap(&given);
    let asked: Vec<usize> = placement.state.asked.iter().map(|(i, _)| *i).collect();
    let left = placement.state.pool.len() - asked.len();
    let finished = irt::done(asked.len(), se, left);
    placement.state.current = if finished {
        None
    } else {
        let params: Vec<Params> = placement.state.pool.iter().map(PoolItem::params).collect();
        irt::choose(&params, &asked, theta, &mut rand::rngs::StdRng::from_os_rng())
    };
    placement.theta = theta;
    placement.se = se;
    placement.finished = finished;
    let json = serde_json::to_string(&placement.state).expect("a placement serialises");
    let at = now();
    let codes: Vec<String> = framework
        .domains
        .iter()
        .find(|d| d.code == placement.domain)
        .map(|d| d.competences.iter().map(|c| c.code.clone()).collect())
        .unwrap_or_default();
    let mastered = theta >= irt::MASTERY;
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE placement SET theta = $1, se = $2, state = $3, finished_at = $4 WHERE id = $5")
            .bind(theta).bind(se).bind(&json).bind(finished.then_some(at)).bind(&placement.id)
            .execute(&mut *tx).await?;
        if finished {
            for code in &codes {
                sqlx::query(
                    "INSERT INTO learner_level (account_id, competence, theta, se, mastered, placed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, competence) DO UPDATE SET \
                     theta = excluded.theta, se = excluded.se, mastered = excluded.mastered, placed_at = excluded.placed_at")
                    .bind(&placement.account_id).bind(code).bind(theta).bind(se).bind(mastered).bind(at)
                    .execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Every stored answer usable for calibration, by respondent: exam sittings (the paper maps
/// positions to items) and placements. Returns (respondents, item ids, answers).
pub async fn stored_answers(store: &Store) -> sqlx::Result<(usize, Vec<String>, Vec<(usize, usize, bool)>)> {
    #[derive(Deserialize)]
    struct Drawn {
        id: String,
    }
    let papers: Vec<(String, String)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT id, paper FROM sitting WHERE submitted_at IS NOT NULL"
    ).fetch_all(pool).await)?;
    let answers: Vec<(String, i64, bool)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT a.sitting_id, a.position, a.correct FROM answer a JOIN sitting s ON s.id = a.sitting_id \
         WHERE s.submitted_at IS NOT NULL"
    ).fetch_all(pool).await)?;
    let placements: Vec<(String,)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT state FROM placement"
    ).fetch_all(pool).await)?;
    let mut items: Vec<String> = Vec::new();
    let index_of = |id: &str, items: &mut Vec<String>| match items.iter().position(|x| x == id) {
        Some(i) => i,
        None => {
            items.push(id.to_owned());
            items.len() - 1
        }
    };
    let mut respondent: HashMap<String, (usize, Vec<String>)> = HashMap::new();
    for (n, (id, paper)) in papers.into_iter().enumerate() {
        let drawn: Vec<Drawn> = serde_json::from_str(&paper).unwrap_or_default();
        respondent.insert(id, (n, drawn.into_iter().map(|d| d.id).collect()));
    }
    let mut out = Vec::new();
    for (sitting, position, correct) in answers {
        let Some((r, drawn)) = respondent.get(&sitting) else { continue };
        // Positions count from 0 in the answer rows.
        let Some(item) = usize::try_from(position).ok().and_then(|p| drawn.get(p)) else { continue };
        out.push((*r, index_of(item, &mut items), correct));
    }
    let mut next = respondent.len();
    for (state,) in placements {
        let Ok(state) = serde_json::from_str::<State>(&state) else { continue };
        for (i, right) in state.asked {
            out.push((next, index_of(&state.pool[i].id, &mut items), right));
        }
        next += 1;
    }
    Ok((next, items, out))
}

/// Writes fitted parameters, in one transaction.
pub async fn save_params(store: &Store, fitted: &[(String, Params, usize)]) -> sqlx::Result<()> {
    let at = now();
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        for (id, p, n) in fitted {
            sqlx::query(
                "INSERT INTO item_param (item_id, discrimination, location, answers, fitted_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (item_id) DO UPDATE SET discrimination = excluded.discrimination, \
                 location = excluded.location, answers = excluded.answers, fitted_at = excluded.fitted_at")
                .bind(id).bind(p.a).bind(p.b).bind(*n as i64).bind(at).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}
