//! The assistant's answer: the index kept current with the content (rebuilt when the content change
//! counter moves, as the catalog is), the passages that answer, and the plain "I do not know" with
//! human help when none does.

use std::sync::{Arc, RwLock};

use serde::Serialize;

use super::faq;
use super::index::{AssistantIndex, Hit, Origin};
use super::passages::{self, snippet};
use super::synonyms::Synonyms;
use super::text::folded_words;
use crate::learning::catalog::Snapshot;
use crate::learning::content;
use crate::store::Store;

/// The share of the question's topic words the best passage must hold to be given as the answer.
pub const MIN_COVERAGE: f32 = 0.45;
/// Further passages are shown when they hold at least this share.
const MIN_OTHER_COVERAGE: f32 = 0.35;
const SNIPPET_CHARS: usize = 600;

pub struct Built {
    pub counter: i64,
    pub index: AssistantIndex,
}

/// One per process, like the catalog.
pub struct Assistant {
    current: RwLock<Option<Arc<Built>>>,
    rebuild: tokio::sync::Mutex<()>,
}

impl Default for Assistant {
    fn default() -> Self {
        Self { current: RwLock::new(None), rebuild: tokio::sync::Mutex::new(()) }
    }
}

impl Assistant {
    /// The index for the content of `snapshot` (the catalog's current one), built if the content moved.
    pub async fn index(&self, store: &Store, snapshot: &Snapshot) -> anyhow::Result<Arc<Built>> {
        if let Some(built) = self.fresh(snapshot.counter) {
            return Ok(built);
        }
        let _one = self.rebuild.lock().await;
        if let Some(built) = self.fresh(snapshot.counter) {
            return Ok(built);
        }
        let built = Arc::new(build(store, snapshot).await?);
        *self.current.write().expect("assistant lock") = Some(built.clone());
        Ok(built)
    }

    fn fresh(&self, counter: i64) -> Option<Arc<Built>> {
        self.current.read().expect("assistant lock").as_ref().filter(|b| b.counter == counter).cloned()
    }
}

async fn build(store: &Store, snapshot: &Snapshot) -> anyhow::Result<Built> {
    let mut all = Vec::new();
    for version in content::published(store).await? {
        if snapshot.lessons.contains_key(&version.slug) {
            all.extend(passages::of_lesson(&version));
        }
    }
    all.extend(faq::shown(store).await?.iter().map(passages::of_faq));
    let index = AssistantIndex::build(all, Synonyms::builtin())?;
    Ok(Built { counter: snapshot.counter, index })
}

/// A passage as the API and the page show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PassageOut {
    /// The lesson's slug (`/bai-hoc/{lesson}`); null for an FAQ entry.
    pub lesson: Option<String>,
    /// The FAQ entry's id; null for a lesson.
    pub faq: Option<i64>,
    /// The lesson's title and the section's heading, or the FAQ question.
    pub title: String,
    pub snippet: String,
    pub competences: Vec<String>,
    pub themes: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Answer {
    pub found: bool,
    pub passages: Vec<PassageOut>,
    /// The best passage's lesson, for the editors' queue.
    pub top_lesson: Option<String>,
}

/// The passages that answer `question`, or none (`found` false).
pub fn answer(index: &AssistantIndex, question: &str) -> Answer {
    let hits = index.search(question, 8);
    // The answer is the best-ranked passage that holds enough of the question; others follow when
    // they hold a fair share.
    let Some(best) = hits.iter().position(|h| h.coverage >= MIN_COVERAGE) else {
        return Answer { found: false, passages: Vec::new(), top_lesson: None };
    };
    let chosen: Vec<&Hit> = std::iter::once(&hits[best])
        .chain(hits.iter().enumerate().filter(|(i, h)| *i != best && h.coverage >= MIN_OTHER_COVERAGE).map(|(_, h)| h))
        .take(3)
        .collect();
    let passages: Vec<PassageOut> = chosen.iter().map(|h| out(index, h)).collect();
    let top_lesson = passages.first().and_then(|p| p.lesson.clone());
    Answer { found: true, passages, top_lesson }
}

fn out(index: &AssistantIndex, hit: &Hit) -> PassageOut {
    let p = &index.passages[hit.passage];
    let (lesson, faq) = match &p.origin {
        Origin::Lesson { slug } => (Some(slug.clone()), None),
        Origin::Faq { id } => (None, Some(*id)),
    };
    let title = if p.heading.is_empty() { p.title.clone() } else { format!("{} — {}", p.title, p.heading) };
    PassageOut {
        lesson,
        faq,
        title,
        snippet: snippet(&p.text, SNIPPET_CHARS),
        competences: p.competences.clone(),
        themes: p.themes.clone(),
    }
}

/// Whether the question asks what to learn next ("nên học gì tiếp?", "học bài nào tiếp theo").
pub fn asks_what_next(question: &str) -> bool {
    let words = folded_words(question).join(" ");
    ["hoc gi", "hoc bai nao", "hoc tiep", "bai tiep", "hoc cai gi", "nen hoc"].iter().any(|p| words.contains(p))
}

/// The answer's text: the best passage's snippet with where it comes from, or the plain refusal.
pub fn text(answer: &Answer, help: &str) -> String {
    match answer.passages.first() {
        Some(p) => format!("Theo bài “{}”:\n{}", p.title, p.snippet),
        None => format!(
            "Xin lỗi, trợ lý chưa tìm thấy bài học nào trả lời câu hỏi này. Câu hỏi đã được ghi lại để người \
             biên tập bổ sung. {help}"
        ),
    }
}
