//! The one writer of learning records. Each record is an xAPI statement, optionally with the
//! learner's progress row it moves. Records that arrive together are written in one transaction
//! (group commit, `store::batch`).
//!
//! A statement id is the idempotency key: the same id with the same content is a harmless retry
//! (counted once); with different content it is a conflict.

use futures::future::BoxFuture;

use crate::on_pool;
use crate::store::Store;
use crate::store::batch::Batcher;

/// Most records written in one transaction.
const BATCH: usize = 512;

#[derive(Clone, Debug)]
pub struct Statement {
    pub id: String,
    pub stored_ms: i64,
    pub actor_key: String,
    pub verb_id: String,
    pub activity_id: Option<String>,
    pub registration: Option<String>,
    pub content_hash: String,
    pub body: String,
}

#[derive(Clone, Debug)]
pub struct ProgressChange {
    pub account_id: String,
    pub slug: String,
    pub version: i64,
    pub position: i64,
    pub seconds: i64,
    pub score: Option<i64>,
    pub completed: bool,
    pub at: i64,
}

#[derive(Clone, Debug)]
pub struct Record {
    pub statement: Statement,
    pub progress: Option<ProgressChange>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    /// The same statement again: nothing changed.
    Duplicate,
    /// The id is taken by a different statement.
    Conflict,
}

/// The one writer of learning records (group commit, see `store::batch`).
pub type Writer = Batcher<Record, Outcome>;

pub fn start(store: Store) -> Writer {
    Batcher::start(store, BATCH, "learning records", write_batch)
}

const INSERT_STATEMENT: &str = "INSERT INTO xapi_statement \
    (id, stored_ms, actor_key, verb_id, activity_id, registration, content_hash, body) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING";

// The version stays the one the learner started until they complete it; time adds up.
const UPSERT_PROGRESS: &str = "INSERT INTO progress \
    (account_id, lesson_slug, version, position, seconds, score, started_at, completed_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7) \
    ON CONFLICT (account_id, lesson_slug) DO UPDATE SET \
    version = CASE WHEN progress.completed_at IS NULL THEN progress.version ELSE excluded.version END, \
    position = excluded.position, seconds = progress.seconds + excluded.seconds, \
    score = COALESCE(excluded.score, progress.score), \
    completed_at = COALESCE(progress.completed_at, excluded.completed_at), updated_at = excluded.updated_at";

fn write_batch<'a>(store: &'a Store, records: &'a [Record]) -> BoxFuture<'a, sqlx::Result<Vec<Outcome>>> {
    Box::pin(write_records(store, records))
}

async fn write_records(store: &Store, records: &[Record]) -> sqlx::Result<Vec<Outcome>> {
    let mut outcomes = Vec::with_capacity(records.len());
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        for record in records {
            let s = &record.statement;
            let inserted = sqlx::query(INSERT_STATEMENT)
                .bind(&s.id).bind(s.stored_ms).bind(&s.actor_key).bind(&s.verb_id).bind(&s.activity_id)
                .bind(&s.registration).bind(&s.content_hash).bind(&s.body)
                .execute(&mut *tx).await?.rows_affected();
            if inserted == 0 {
                let existing: String = sqlx::query_scalar("SELECT content_hash FROM xapi_statement WHERE id = $1")
                    .bind(&s.id).fetch_one(&mut *tx).await?;
                outcomes.push(if existing == s.content_hash { Outcome::Duplicate } else { Outcome::Conflict });
                continue;
            }
            if let Some(p) = &record.progress {
                sqlx::query(UPSERT_PROGRESS)
                    .bind(&p.account_id).bind(&p.slug).bind(p.version).bind(p.position).bind(p.seconds)
                    .bind(p.score).bind(p.at).bind(p.completed.then_some(p.at))
                    .execute(&mut *tx).await?;
            }
            outcomes.push(Outcome::Stored);
        }
        tx.commit().await?;
    });
    Ok(outcomes)
}
