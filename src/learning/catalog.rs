//! What every server keeps in memory about the content: the framework, the program tree, the
//! published lessons and their search index. It is rebuilt from the database when the change
//! counter moves (checked at most once a second), so several servers stay in step. Rendered lesson
//! versions never change, so they are cached for good.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::learning::content::{self, Program, Version};
use crate::learning::framework::{self, Framework};
use crate::learning::lesson::{self, Block, Check, LessonSource, Source};
use crate::learning::search::{Doc, SearchIndex};
use crate::store::Store;

const RECHECK_MS: i64 = 1000;

pub struct Snapshot {
    pub counter: i64,
    pub framework: Arc<Framework>,
    pub programs: Vec<Program>,
    /// Published lessons by slug: their published version.
    pub lessons: HashMap<String, Arc<LessonView>>,
    pub search: SearchIndex,
}

impl Snapshot {
    pub fn program(&self, code: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.code == code)
    }

    pub fn course(&self, code: &str) -> Option<(&Program, &content::Course)> {
        self.programs.iter().find_map(|p| p.courses.iter().find(|c| c.code == code).map(|c| (p, c)))
    }

    /// The course a lesson is first listed in, with the lesson before it in that course.
    pub fn course_of(&self, slug: &str) -> Option<(&Program, &content::Course)> {
        self.programs.iter().find_map(|p| p.courses.iter().find(|c| c.lessons().any(|l| l == slug)).map(|c| (p, c)))
    }
}

/// A lesson version ready to show.
pub struct LessonView {
    pub slug: String,
    pub version: i64,
    pub title: String,
    pub summary: String,
    pub level: u8,
    pub minutes: u16,
    pub competences: Vec<(String, String)>,
    pub themes: Vec<(String, String)>,
    pub sources: Vec<Source>,
    pub checks: Vec<Check>,
    pub parts: Vec<PartView>,
    pub audio: Option<String>,
    pub audio_recorded: bool,
    pub framework_version: String,
    pub plain: String,
}

pub struct PartView {
    pub title: String,
    pub blocks: Vec<BlockView>,
}

pub enum BlockView {
    Html(String),
    Image { src: String, alt: String, caption: String },
    Audio { src: String, transcript: String },
    Video { src: String, poster: String, transcript: String },
    Slides { images: Vec<String>, pdf: Option<String>, caption: String },
}

/// Renders a lesson source (stored version or editor preview) with the framework's names.
pub fn render(source: &LessonSource, framework: &Framework, version: i64, audio: Option<&str>) -> LessonView {
    let parts = lesson::blocks(&source.body, 1).unwrap_or_default();
    let parts = parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| PartView {
            title: part.title.unwrap_or_else(|| if i == 0 { "Mở đầu".into() } else { String::new() }),
            blocks: part.blocks.into_iter().map(|(_, b)| block_view(b)).collect(),
        })
        .collect();
    let competences = source
        .competences
        .iter()
        .map(|c| (c.clone(), framework.competence(c).map_or_else(String::new, |x| x.name_vi.clone())))
        .collect();
    let themes = source
        .themes
        .iter()
        .map(|t| (t.clone(), framework.theme(t).map_or_else(String::new, |x| x.name_vi.clone())))
        .collect();
    LessonView {
        slug: source.slug.clone(),
        version,
        title: source.title.clone(),
        summary: source.summary.clone(),
        level: source.level,
        minutes: source.minutes,
        competences,
        themes,
        sources: source.sources.clone(),
        checks: source.checks.clone(),
        parts,
        audio: audio.map(|k| format!("/media/{k}")),
        audio_recorded: false,
        framework_version: framework.version.clone(),
        plain: lesson::plain_text(&source.body),
    }
}

fn block_view(block: Block) -> BlockView {
    match block {
        Block::Markdown(md) => BlockView::Html(lesson::markdown_html(&md)),
        Block::Image { src, alt, caption } => BlockView::Image { src, alt, caption },
        Block::Audio { src, transcript } => BlockView::Audio { src, transcript: lesson::markdown_html(&transcript) },
        Block::Video { src, poster, transcript } => {
            BlockView::Video { src, poster: poster.unwrap_or_default(), transcript: lesson::markdown_html(&transcript) }
        }
        Block::Slides { srcs, caption } => {
            let pdf = srcs.iter().find(|s| s.ends_with(".pdf")).cloned();
            let images = srcs.into_iter().filter(|s| !s.ends_with(".pdf")).collect();
            BlockView::Slides { images, pdf, caption: lesson::markdown_html(&caption) }
        }
    }
}

fn view_of(version: &Version, framework: &Framework) -> LessonView {
    let mut view = render(&version.source, framework, version.version, version.audio_key.as_deref());
    view.audio_recorded = version.audio_recorded;
    view.framework_version = version.framework_version.clone();
    view
}

impl Default for Catalog {
    fn default() -> Self {
        Self::new()
    }
}

pub struct Catalog {
    current: RwLock<Arc<Snapshot>>,
    checked_ms: AtomicI64,
    rebuild: tokio::sync::Mutex<()>,
    versions: Mutex<HashMap<(String, i64), Arc<LessonView>>>,
}

impl Catalog {
    /// An empty catalog, filled from the database at the first read (so a server starts even while
    /// its database is briefly away, and says so with 503 until it answers).
    pub fn new() -> Self {
        let framework = Arc::new(Framework::parse(framework::BUILTIN).expect("the built-in framework parses"));
        let empty = Snapshot {
            counter: -1,
            framework,
            programs: Vec::new(),
            lessons: HashMap::new(),
            search: SearchIndex::build(std::iter::empty()).expect("an empty index"),
        };
        Self {
            current: RwLock::new(Arc::new(empty)),
            checked_ms: AtomicI64::new(0),
            rebuild: tokio::sync::Mutex::new(()),
            versions: Mutex::new(HashMap::new()),
        }
    }

    /// The current snapshot, rebuilt first if another server (or this one) changed the content.
    pub async fn snapshot(&self, store: &Store) -> anyhow::Result<Arc<Snapshot>> {
        let current = self.current.read().expect("catalog lock").clone();
        if now_ms() - self.checked_ms.load(Ordering::Relaxed) < RECHECK_MS {
            return Ok(current);
        }
        let _one_rebuild = self.rebuild.lock().await;
        let current = self.current.read().expect("catalog lock").clone();
        if now_ms() - self.checked_ms.load(Ordering::Relaxed) < RECHECK_MS {
            return Ok(current);
        }
        let counter = content::counter(store).await?;
        let fresh = if counter == current.counter { current } else { Arc::new(build(store).await?) };
        *self.current.write().expect("catalog lock") = fresh.clone();
        self.checked_ms.store(now_ms(), Ordering::Relaxed);
        Ok(fresh)
    }

    /// After this server changed the content: the next read checks the counter at once.
    pub fn invalidate(&self) {
        self.checked_ms.store(0, Ordering::Relaxed);
    }

    /// A given version of a lesson (a learner keeps the version they started).
    pub async fn version(&self, store: &Store, slug: &str, version: i64) -> anyhow::Result<Option<Arc<LessonView>>> {
        let key = (slug.to_owned(), version);
        if let Some(found) = self.versions.lock().expect("versions lock").get(&key) {
            return Ok(Some(found.clone()));
        }
        let Some(stored) = content::version(store, slug, version).await? else { return Ok(None) };
        let framework = self.snapshot(store).await?.framework.clone();
        let view = Arc::new(view_of(&stored, &framework));
        self.versions.lock().expect("versions lock").insert(key, view.clone());
        Ok(Some(view))
    }
}

async fn build(store: &Store) -> anyhow::Result<Snapshot> {
    let counter = content::counter(store).await?;
    let framework = Arc::new(framework::current(store).await?);
    let programs = content::structure(store).await?;
    let lessons: HashMap<String, Arc<LessonView>> =
        content::published(store).await?.iter().map(|v| (v.slug.clone(), Arc::new(view_of(v, &framework)))).collect();
    let search = SearchIndex::build(lessons.values().map(|l| Doc {
        slug: &l.slug,
        title: &l.title,
        summary: &l.summary,
        body: &l.plain,
    }))?;
    Ok(Snapshot { counter, framework, programs, lessons, search })
}

fn now_ms() -> i64 {
    crate::domain::time::now_ms()
}
