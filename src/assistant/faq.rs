//! The FAQ editors keep: question–answer pairs tagged by theme and competence. Every change moves
//! the content change counter in the same transaction, so every server rebuilds its index. The
//! built-in entries (`data-builtin/assistant-faq.toml`) are loaded once by `hocvuso assistant
//! faq-import` (and by `hocvuso demo`); after that they are the editors' to change.

use serde::Deserialize;

use crate::domain::text::clean;
use crate::identity::audit::Actor;
use crate::learning::framework::Framework;
use crate::on_pool;
use crate::store::Store;

pub const BUILTIN: &str = include_str!("../../data-builtin/assistant-faq.toml");

#[derive(Clone, Debug)]
pub struct Entry {
    pub id: i64,
    pub builtin_key: Option<String>,
    pub question: String,
    pub answer: String,
    pub themes: Vec<String>,
    pub competences: Vec<String>,
    pub hidden: bool,
}

/// What an editor (or the built-in file) gives: checked by [`Draft::check`].
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    #[serde(default)]
    pub key: Option<String>,
    pub question: String,
    pub answer: String,
    pub themes: Vec<String>,
    #[serde(default)]
    pub competences: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    faq: Vec<Draft>,
}

impl Draft {
    /// The problems of an entry, in Vietnamese, against the framework's codes.
    pub fn check(&mut self, framework: &Framework) -> Vec<String> {
        self.question = clean(&self.question);
        self.answer = clean(&self.answer);
        let mut problems = Vec::new();
        if !(5..=300).contains(&self.question.chars().count()) {
            problems.push("câu hỏi cần từ 5 đến 300 ký tự / the question needs 5 to 300 characters".to_owned());
        }
        if !(10..=3000).contains(&self.answer.chars().count()) {
            problems.push("câu trả lời cần từ 10 đến 3000 ký tự / the answer needs 10 to 3000 characters".to_owned());
        }
        if self.themes.is_empty() {
            problems.push("cần ít nhất một chủ đề / at least one theme".to_owned());
        }
        for t in &self.themes {
            if framework.theme(t).is_none() {
                problems.push(format!("không có chủ đề {t} / unknown theme {t}"));
            }
        }
        for c in &self.competences {
            if framework.competence(c).is_none() {
                problems.push(format!("không có năng lực {c} / unknown competence {c}"));
            }
        }
        problems
    }
}

/// The built-in entries, checked; problems name the entry.
pub fn builtin(framework: &Framework) -> anyhow::Result<Vec<Draft>> {
    parse(BUILTIN, framework)
}

pub fn parse(text: &str, framework: &Framework) -> anyhow::Result<Vec<Draft>> {
    let file: File = toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (n, mut draft) in file.faq.into_iter().enumerate() {
        let found = draft.check(framework);
        if draft.key.is_none() {
            problems.push(format!("mục {}: thiếu key / entry {}: no key", n + 1, n + 1));
        }
        problems.extend(found.into_iter().map(|p| format!("mục {} ({}): {p}", n + 1, draft.question)));
        out.push(draft);
    }
    if problems.is_empty() { Ok(out) } else { anyhow::bail!(problems.join("\n")) }
}

type Row = (i64, Option<String>, String, String, String, String, Option<i64>);

fn entry(row: Row) -> Entry {
    let (id, builtin_key, question, answer, themes, competences, hidden_at) = row;
    let split = |s: String| s.split_whitespace().map(str::to_owned).collect();
    Entry {
        id,
        builtin_key,
        question,
        answer,
        themes: split(themes),
        competences: split(competences),
        hidden: hidden_at.is_some(),
    }
}

macro_rules! faq_select {
    ($rest:literal) => {
        concat!("SELECT id, builtin_key, question, answer, themes, competences, hidden_at FROM assistant_faq ", $rest)
    };
}

/// Every entry, shown ones first, newest first.
pub async fn all(store: &Store) -> sqlx::Result<Vec<Entry>> {
    const SQL: &str = faq_select!("ORDER BY CASE WHEN hidden_at IS NULL THEN 0 ELSE 1 END, id DESC");
    let rows: Vec<Row> = on_pool!(store, pool => sqlx::query_as(SQL).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(entry).collect())
}

pub async fn shown(store: &Store) -> sqlx::Result<Vec<Entry>> {
    Ok(all(store).await?.into_iter().filter(|e| !e.hidden).collect())
}

pub async fn one(store: &Store, id: i64) -> sqlx::Result<Option<Entry>> {
    const SQL: &str = faq_select!("WHERE id = $1");
    let row: Option<Row> = on_pool!(store, pool => sqlx::query_as(SQL).bind(id).fetch_optional(pool).await)?;
    Ok(row.map(entry))
}

fn by(actor: &Actor<'_>) -> Option<String> {
    (actor.account_id != Actor::CLI.account_id).then(|| actor.account_id.to_owned())
}

/// Adds an entry (`id` None) or changes one; returns its id, or None when there is no such entry.
pub async fn save(store: &Store, id: Option<i64>, draft: &Draft, actor: Actor<'_>) -> sqlx::Result<Option<i64>> {
    let at = crate::domain::time::now();
    let (themes, competences) = (draft.themes.join(" "), draft.competences.join(" "));
    let by = by(&actor);
    let saved = on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let saved: Option<i64> = match id {
            None => sqlx::query_scalar(
                "INSERT INTO assistant_faq (question, answer, themes, competences, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
                .bind(&draft.question).bind(&draft.answer).bind(&themes).bind(&competences).bind(at).bind(&by)
                .fetch_optional(&mut *tx).await?,
            Some(id) => sqlx::query_scalar(
                "UPDATE assistant_faq SET question = $1, answer = $2, themes = $3, competences = $4, updated_at = $5, \
                 updated_by = $6 WHERE id = $7 RETURNING id")
                .bind(&draft.question).bind(&draft.answer).bind(&themes).bind(&competences).bind(at).bind(&by).bind(id)
                .fetch_optional(&mut *tx).await?,
        };
        if let Some(id) = saved {
            crate::audit_write!(&mut *tx, actor.entry("assistant.faq.save", serde_json::json!({"faq": id})))?;
            sqlx::query("UPDATE content_change SET counter = counter + 1 WHERE id = 1").execute(&mut *tx).await?;
        }
        tx.commit().await?;
        saved
    });
    Ok(saved)
}

/// Hides an entry from the assistant (or shows it again).
pub async fn set_hidden(store: &Store, id: i64, hidden: bool, actor: Actor<'_>) -> sqlx::Result<bool> {
    let at = crate::domain::time::now();
    let hidden_at = hidden.then_some(at);
    let n = on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let n = sqlx::query("UPDATE assistant_faq SET hidden_at = $1, updated_at = $2 WHERE id = $3")
            .bind(hidden_at).bind(at).bind(id).execute(&mut *tx).await?.rows_affected();
        if n > 0 {
            let detail = serde_json::json!({"faq": id, "hidden": hidden});
            crate::audit_write!(&mut *tx, actor.entry("assistant.faq.hide", detail))?;
            sqlx::query("UPDATE content_change SET counter = counter + 1 WHERE id = 1").execute(&mut *tx).await?;
        }
        tx.commit().await?;
        n
    });
    Ok(n > 0)
}

/// Loads entries with keys, in one transaction; an entry whose key is already there is left as the
/// editors made it. Returns how many were added.
pub async fn import(store: &Store, drafts: &[Draft], actor: Actor<'_>) -> sqlx::Result<u64> {
    let at = crate::domain::time::now();
    let added = on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let mut added = 0;
        for d in drafts {
            added += sqlx::query(
                "INSERT INTO assistant_faq (builtin_key, question, answer, themes, competences, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (builtin_key) DO NOTHING")
                .bind(&d.key).bind(&d.question).bind(&d.answer).bind(d.themes.join(" ")).bind(d.competences.join(" "))
                .bind(at).execute(&mut *tx).await?.rows_affected();
        }
        crate::audit_write!(&mut *tx, actor.entry("assistant.faq.import", serde_json::json!({"added": added})))?;
        sqlx::query("UPDATE content_change SET counter = counter + 1 WHERE id = 1").execute(&mut *tx).await?;
        tx.commit().await?;
        added
    });
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_entries_are_valid_against_the_builtin_framework() {
        let framework = Framework::parse(crate::learning::framework::BUILTIN).unwrap();
        let entries = builtin(&framework).unwrap();
        assert!(entries.len() >= 30);
        let mut keys: Vec<_> = entries.iter().map(|e| e.key.clone().unwrap()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), entries.len(), "keys are unique");
        let mut bad = Draft { question: "Hỏi?".into(), answer: "ngắn".into(), ..Default::default() };
        assert_eq!(bad.check(&framework).len(), 3);
    }
}
