//! The one writer of learning records. Each record is an xAPI statement, optionally with the
//! learner's progress row it moves. Records that arrive together are written in one transaction
//! (group commit, `store::batch`).
//!
//! A statement id is the idempotency key: the same id with the same content is a harmless retry
//! (counted once); with different content it is a conflict.

use std::collections::{HashMap, HashSet};

use futures::future::BoxFuture;
use sqlx::QueryBuilder;

use crate::on_pool;
use crate::store::Store;
use crate::store::batch::{Batcher, firsts};

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
    /// The key of the xAPI client that wrote it, or `hocvuso` for the platform's own records.
    pub authority: String,
    /// A voiding statement's target (xAPI `voided` verb): voided in the same transaction, if it
    /// was written by the same client and is not itself a voiding statement.
    pub voids: Option<String>,
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

const INSERT_STATEMENTS: &str = "INSERT INTO xapi_statement \
    (id, stored_ms, actor_key, verb_id, activity_id, registration, content_hash, body, authority) ";

const INSERT_PROGRESS: &str = "INSERT INTO progress \
    (account_id, lesson_slug, version, position, seconds, score, started_at, completed_at, updated_at) ";

// The version stays the one the learner started until they complete it; time adds up, but never
// more than the server's clock says passed since this learner's previous event on the lesson (the
// seconds an event claims come from the page, which the client can rewrite).
const ON_PROGRESS_CONFLICT: &str = " ON CONFLICT (account_id, lesson_slug) DO UPDATE SET \
    version = CASE WHEN progress.completed_at IS NULL THEN progress.version ELSE excluded.version END, \
    position = excluded.position, seconds = progress.seconds + CASE \
        WHEN excluded.seconds <= excluded.updated_at - progress.updated_at THEN excluded.seconds \
        WHEN excluded.updated_at > progress.updated_at THEN excluded.updated_at - progress.updated_at \
        ELSE 0 END, \
    score = COALESCE(excluded.score, progress.score), \
    completed_at = COALESCE(progress.completed_at, excluded.completed_at), updated_at = excluded.updated_at";

fn write_batch<'a>(store: &'a Store, records: &'a [Record]) -> BoxFuture<'a, sqlx::Result<Vec<Outcome>>> {
    Box::pin(write_records(store, records))
}

/// A batch in a handful of statements, whatever its size (each statement is a round trip to the
/// database): the new statements in one insert, the hashes of ids already stored in one read, and
/// the progress rows in one upsert per run of distinct learner-lesson pairs.
async fn write_records(store: &Store, records: &[Record]) -> sqlx::Result<Vec<Outcome>> {
    let (offered, first) = firsts(records.iter().map(|r| &r.statement), |s| s.id.as_str());
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let mut insert = QueryBuilder::new(INSERT_STATEMENTS);
        insert.push_values(&offered, |mut row, s| {
            row.push_bind(&s.id).push_bind(s.stored_ms).push_bind(&s.actor_key).push_bind(&s.verb_id)
                .push_bind(&s.activity_id).push_bind(&s.registration).push_bind(&s.content_hash).push_bind(&s.body)
                .push_bind(&s.authority);
        });
        insert.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
        let stored: HashSet<String> = insert.build_query_scalar().fetch_all(&mut *tx).await?.into_iter().collect();
        let known: Vec<&str> = offered.iter().map(|s| s.id.as_str()).filter(|id| !stored.contains(*id)).collect();
        let mut existing: HashMap<String, String> = HashMap::new();
        if !known.is_empty() {
            let mut read = QueryBuilder::new("SELECT id, content_hash FROM xapi_statement WHERE id IN (");
            let mut ids = read.separated(", ");
            for id in known {
                ids.push_bind(id);
            }
            read.push(")");
            existing = read.build_query_as::<(String, String)>().fetch_all(&mut *tx).await?.into_iter().collect();
        }
        let mut outcomes = Vec::with_capacity(records.len());
        let mut changes = Vec::new();
        for record in records {
            let s = &record.statement;
            let outcome = if stored.contains(&s.id) {
                if std::ptr::eq(first[s.id.as_str()], s) {
                    changes.extend(record.progress.as_ref());
                    Outcome::Stored
                } else if first[s.id.as_str()].content_hash == s.content_hash {
                    Outcome::Duplicate
                } else {
                    Outcome::Conflict
                }
            } else if existing.get(&s.id) == Some(&s.content_hash) {
                Outcome::Duplicate
            } else {
                Outcome::Conflict
            };
            outcomes.push(outcome);
        }
        for record in records {
            let s = &record.statement;
            if let Some(target) = &s.voids
                && stored.contains(&s.id)
                && std::ptr::eq(first[s.id.as_str()], s)
            {
                sqlx::query("UPDATE xapi_statement SET voided = TRUE WHERE id = $1 AND authority = $2 AND verb_id <> $3")
                    .bind(target).bind(&s.authority).bind(&s.verb_id).execute(&mut *tx).await?;
            }
        }
        for run in distinct_runs(&changes) {
            let mut upsert = QueryBuilder::new(INSERT_PROGRESS);
            upsert.push_values(run, |mut row, p| {
                row.push_bind(&p.account_id).push_bind(&p.slug).push_bind(p.version).push_bind(p.position)
                    .push_bind(p.seconds).push_bind(p.score).push_bind(p.at).push_bind(p.completed.then_some(p.at))
                    .push_bind(p.at);
            });
            upsert.push(ON_PROGRESS_CONFLICT);
            upsert.build().execute(&mut *tx).await?;
        }
        // Only a registry person's first completed lesson changes a fact the indicators count: one
        // read for the batch's completions, and nothing more unless someone learned for the first time.
        let completions: Vec<(&str, i64)> =
            changes.iter().filter(|p| p.completed).map(|p| (p.account_id.as_str(), p.at)).collect();
        if !completions.is_empty() {
            let mut first = QueryBuilder::new(
                "SELECT a.id, a.person_id FROM account a JOIN person p ON p.id = a.person_id \
                 WHERE p.learned_at IS NULL AND a.id IN (");
            let mut ids = first.separated(", ");
            for (account, _) in &completions {
                ids.push_bind(*account);
            }
            first.push(")");
            let learners: Vec<(String, i64)> = first.build_query_as().fetch_all(&mut *tx).await?;
            if !learners.is_empty() {
                let people: Vec<i64> = learners.iter().map(|(_, p)| *p).collect();
                let mut conn: crate::tracking::Conn = (&mut *tx).into();
                let snapshot = crate::tracking::counters::before(&mut conn, &people).await?;
                for (account, person) in &learners {
                    let at = completions.iter().find(|(a, _)| a == account).map_or(0, |(_, at)| *at);
                    sqlx::query("UPDATE person SET learned_at = $1 WHERE id = $2 AND learned_at IS NULL")
                        .bind(at).bind(*person).execute(&mut *tx).await?;
                }
                let mut conn: crate::tracking::Conn = (&mut *tx).into();
                crate::tracking::counters::settle(&mut conn, snapshot).await?;
            }
        }
        tx.commit().await?;
        Ok(outcomes)
    })
}

/// Consecutive runs in which no learner-lesson pair repeats: PostgreSQL refuses an upsert that
/// touches one row twice, and the order of one learner's events must hold.
fn distinct_runs<'a>(changes: &'a [&'a ProgressChange]) -> Vec<&'a [&'a ProgressChange]> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut keys: HashSet<(&str, &str)> = HashSet::new();
    for (i, p) in changes.iter().enumerate() {
        if !keys.insert((&p.account_id, &p.slug)) {
            runs.push(&changes[start..i]);
            start = i;
            keys.clear();
            keys.insert((&p.account_id, &p.slug));
        }
    }
    if start < changes.len() {
        runs.push(&changes[start..]);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(account: &str, slug: &str) -> ProgressChange {
        ProgressChange {
            account_id: account.into(),
            slug: slug.into(),
            version: 1,
            position: 0,
            seconds: 0,
            score: None,
            completed: false,
            at: 0,
        }
    }

    fn record(id: &str, hash: &str) -> Record {
        let statement = Statement {
            id: id.into(),
            stored_ms: 0,
            actor_key: "acc-1".into(),
            verb_id: "http://adlnet.gov/expapi/verbs/completed".into(),
            activity_id: None,
            registration: None,
            content_hash: hash.into(),
            body: "{}".into(),
            authority: "hocvuso".into(),
            voids: None,
        };
        Record { statement, progress: None }
    }

    /// Retries and rivals that land in the group of the statement they repeat (HTTP tests cannot
    /// make two posts share a group on purpose).
    #[tokio::test]
    async fn a_group_tells_retries_and_rivals_of_its_own_statements() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&crate::config::DatabaseUrl::Sqlite(dir.path().join("t.db"))).await.unwrap();
        store.migrate().await.unwrap();
        let group = [record("x", "h1"), record("x", "h1"), record("x", "h2"), record("y", "h3")];
        let outcomes = write_records(&store, &group).await.unwrap();
        assert_eq!(outcomes, [Outcome::Stored, Outcome::Duplicate, Outcome::Conflict, Outcome::Stored]);
        let outcomes = write_records(&store, &[record("y", "h9"), record("x", "h1")]).await.unwrap();
        assert_eq!(outcomes, [Outcome::Conflict, Outcome::Duplicate]);
    }

    #[test]
    fn runs_split_where_a_pair_repeats_and_keep_the_order() {
        let (a1, b1, a2, a1_again) = (change("a", "1"), change("b", "1"), change("a", "2"), change("a", "1"));
        let changes = [&a1, &b1, &a2, &a1_again];
        let runs = distinct_runs(&changes);
        let lens: Vec<usize> = runs.iter().map(|r| r.len()).collect();
        assert_eq!(lens, [3, 1]);
        assert!(std::ptr::eq(runs[1][0], &a1_again));
        assert!(distinct_runs(&[]).is_empty());
    }
}
