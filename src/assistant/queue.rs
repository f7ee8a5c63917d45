//! Questions as they are kept: the text without personal numbers, no account, no address, no
//! session. Those the assistant could not answer, or that a learner marked "không giúp được",
//! are grouped for editors (same topic words, same group).

use super::text::{group_key, strip_personal};
use crate::domain::time::now;
use crate::on_pool;
use crate::store::Store;

/// Keeps a question; returns its id (random, so only the page that asked can mark it unhelpful).
pub async fn record(store: &Store, question: &str, answered: bool, top_lesson: Option<&str>) -> sqlx::Result<String> {
    let id = crate::crypto::random_token()[..32].to_owned();
    let text = strip_personal(question);
    let key = group_key(&text);
    on_pool!(store, pool => sqlx::query(
        "INSERT INTO assistant_question (id, asked_at, question, group_key, answered, top_lesson) VALUES ($1, $2, $3, $4, $5, $6)"
    ).bind(&id).bind(now()).bind(&text).bind(&key).bind(answered).bind(top_lesson).execute(pool).await.map(|_| ()))?;
    Ok(id)
}

/// Marks a question "không giúp được"; false when there is no such question.
pub async fn unhelpful(store: &Store, id: &str) -> sqlx::Result<bool> {
    let n = on_pool!(store, pool => sqlx::query(
        "UPDATE assistant_question SET unhelpful_at = $1 WHERE id = $2 AND unhelpful_at IS NULL"
    ).bind(now()).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// The question of an id (for the page after "không giúp được").
pub async fn question(store: &Store, id: &str) -> sqlx::Result<Option<String>> {
    on_pool!(store, pool => sqlx::query_scalar("SELECT question FROM assistant_question WHERE id = $1")
        .bind(id).fetch_optional(pool).await)
}

/// A group of open questions, for editors.
pub struct Group {
    pub key: String,
    pub count: i64,
    pub unanswered: i64,
    pub unhelpful: i64,
    pub example: String,
    pub last_at: i64,
}

/// Open groups (unanswered or unhelpful, not yet dealt with), the most asked first.
pub async fn groups(store: &Store, limit: i64) -> sqlx::Result<Vec<Group>> {
    let rows: Vec<(String, i64, i64, i64, String, i64)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT group_key, count(*), \
         sum(CASE WHEN answered THEN 0 ELSE 1 END), sum(CASE WHEN unhelpful_at IS NULL THEN 0 ELSE 1 END), \
         min(question), max(asked_at) \
         FROM assistant_question \
         WHERE resolved_at IS NULL AND (NOT answered OR unhelpful_at IS NOT NULL) \
         GROUP BY group_key ORDER BY count(*) DESC, max(asked_at) DESC LIMIT $1"
    ).bind(limit).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .map(|(key, count, unanswered, unhelpful, example, last_at)| Group {
            key,
            count,
            unanswered,
            unhelpful,
            example,
            last_at,
        })
        .collect())
}

/// An editor dealt with a group (answered it in the FAQ or wrote a lesson).
pub async fn resolve(store: &Store, key: &str) -> sqlx::Result<u64> {
    Ok(on_pool!(store, pool => sqlx::query(
        "UPDATE assistant_question SET resolved_at = $1 WHERE group_key = $2 AND resolved_at IS NULL"
    ).bind(now()).bind(key).execute(pool).await.map(|r| r.rows_affected()))?)
}
