//! Programs → courses → modules → lessons in the database, and lesson versions. A published
//! version never changes; publishing again makes a new one.

use serde::Deserialize;

use crate::domain::time::now;
use crate::identity::audit::Actor;
use crate::learning::lesson::LessonSource;
use crate::on_pool;
use crate::store::Store;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    pub code: String,
    pub target_group: String,
    pub title: String,
    pub summary: String,
    #[serde(rename = "course")]
    pub courses: Vec<Course>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Course {
    pub code: String,
    pub title: String,
    pub summary: String,
    #[serde(default)]
    pub sequential: bool,
    #[serde(rename = "module")]
    pub modules: Vec<Module>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Module {
    pub code: String,
    pub title: String,
    pub lessons: Vec<String>,
}

impl Course {
    pub fn lessons(&self) -> impl Iterator<Item = &String> {
        self.modules.iter().flat_map(|m| m.lessons.iter())
    }
}

/// A stored lesson version, as the pages need it.
#[derive(Clone, Debug)]
pub struct Version {
    pub slug: String,
    pub version: i64,
    pub source: LessonSource,
    pub audio_key: Option<String>,
    pub audio_recorded: bool,
    pub framework_version: String,
}

type VersionRow = (String, i64, String, Option<String>, bool, String);

fn version_from(row: VersionRow) -> Option<Version> {
    let (slug, version, source, audio_key, audio_recorded, framework_version) = row;
    let source = serde_json::from_str(&source)
        .inspect_err(|e| tracing::error!(error = %e, slug, "a stored lesson version does not parse"))
        .ok()?;
    Some(Version { slug, version, source, audio_key, audio_recorded, framework_version })
}

const VERSION_COLUMNS: &str = "v.slug, v.version, v.source, v.audio_key, v.audio_recorded, v.framework_version";

/// Every program with its courses, modules and lesson order.
pub async fn structure(store: &Store) -> sqlx::Result<Vec<Program>> {
    type Rows = (
        Vec<(String, String, String, String)>,
        Vec<(String, String, String, String, bool)>,
        Vec<(String, String, String)>,
        Vec<(String, String)>,
    );
    let (programs, courses, modules, links): Rows = on_pool!(store, pool => (
        sqlx::query_as("SELECT code, target_group, title, summary FROM program ORDER BY position, code").fetch_all(pool).await?,
        sqlx::query_as("SELECT code, program_code, title, summary, sequential FROM course ORDER BY position, code").fetch_all(pool).await?,
        sqlx::query_as("SELECT code, course_code, title FROM course_module ORDER BY position, code").fetch_all(pool).await?,
        sqlx::query_as("SELECT module_code, lesson_slug FROM module_lesson ORDER BY position, lesson_slug").fetch_all(pool).await?,
    ));
    Ok(programs
        .into_iter()
        .map(|(code, target_group, title, summary)| Program {
            courses: courses
                .iter()
                .filter(|c| c.1 == code)
                .map(|(course, _, title, summary, sequential)| Course {
                    code: course.clone(),
                    title: title.clone(),
                    summary: summary.clone(),
                    sequential: *sequential,
                    modules: modules
                        .iter()
                        .filter(|m| &m.1 == course)
                        .map(|(module, _, title)| Module {
                            code: module.clone(),
                            title: title.clone(),
                            lessons: links.iter().filter(|l| &l.0 == module).map(|l| l.1.clone()).collect(),
                        })
                        .collect(),
                })
                .collect(),
            code,
            target_group,
            title,
            summary,
        })
        .collect())
}

/// The published version of every published lesson.
pub async fn published(store: &Store) -> sqlx::Result<Vec<Version>> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM lesson l JOIN lesson_version v ON v.slug = l.slug AND v.version = l.published_version"
    );
    let rows: Vec<VersionRow> =
        on_pool!(store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await?);
    Ok(rows.into_iter().filter_map(version_from).collect())
}

pub async fn version(store: &Store, slug: &str, version: i64) -> sqlx::Result<Option<Version>> {
    let sql = format!("SELECT {VERSION_COLUMNS} FROM lesson_version v WHERE v.slug = $1 AND v.version = $2");
    let row: Option<VersionRow> = on_pool!(store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(slug).bind(version).fetch_optional(pool).await?);
    Ok(row.and_then(version_from))
}

pub async fn latest_version(store: &Store, slug: &str) -> sqlx::Result<Option<Version>> {
    let sql =
        format!("SELECT {VERSION_COLUMNS} FROM lesson_version v WHERE v.slug = $1 ORDER BY v.version DESC LIMIT 1");
    let row: Option<VersionRow> = on_pool!(store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(slug).fetch_optional(pool).await?);
    Ok(row.and_then(version_from))
}

/// What a new version needs besides its source.
pub struct Publish<'a> {
    pub source: &'a LessonSource,
    pub framework_version: &'a str,
    pub audio_key: Option<&'a str>,
    pub audio_recorded: bool,
    pub by: Option<&'a str>,
}

pub fn source_hash(source: &LessonSource) -> String {
    let json = serde_json::to_string(source).expect("a lesson serialises");
    crate::crypto::short_hash(json.as_bytes())
}

/// Writes a lesson's new version and publishes it, inside the caller's transaction; an unchanged
/// source re-publishes the latest version instead of making a copy. Returns the version number.
#[macro_export]
macro_rules! publish_in_tx {
    ($tx:expr, $p:expr) => {{
        let p: &$crate::learning::content::Publish = $p;
        let at = $crate::domain::time::now();
        let hash = $crate::learning::content::source_hash(p.source);
        sqlx::query(
            "INSERT INTO lesson (slug, published_version, draft, created_at, updated_at) VALUES ($1, NULL, NULL, $2, $2) \
             ON CONFLICT (slug) DO NOTHING",
        )
        .bind(&p.source.slug)
        .bind(at)
        .execute(&mut *$tx)
        .await?;
        let latest: Option<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT version, source_hash, audio_key FROM lesson_version WHERE slug = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(&p.source.slug)
        .fetch_optional(&mut *$tx)
        .await?;
        let version = match latest {
            Some((version, ref h, ref audio)) if *h == hash && (p.audio_key.is_none() || audio.as_deref() == p.audio_key) => version,
            other => {
                let version = other.map_or(1, |(v, _, _)| v + 1);
                sqlx::query(
                    "INSERT INTO lesson_version (slug, version, framework_version, source, source_hash, audio_key, \
                     audio_recorded, published_at, published_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&p.source.slug)
                .bind(version)
                .bind(p.framework_version)
                .bind(serde_json::to_string(p.source).expect("a lesson serialises"))
                .bind(&hash)
                .bind(p.audio_key)
                .bind(p.audio_recorded)
                .bind(at)
                .bind(p.by)
                .execute(&mut *$tx)
                .await?;
                version
            }
        };
        sqlx::query("UPDATE lesson SET published_version = $1, draft = NULL, updated_at = $2 WHERE slug = $3")
            .bind(version)
            .bind(at)
            .bind(&p.source.slug)
            .execute(&mut *$tx)
            .await?;
        sqlx::query("UPDATE content_change SET counter = counter + 1 WHERE id = 1").execute(&mut *$tx).await?;
        version
    }};
}

/// Publishes one lesson in its own transaction (the editor's publish button).
pub async fn publish(store: &Store, publish: &Publish<'_>, actor: Actor<'_>) -> sqlx::Result<i64> {
    let version = on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let version = crate::publish_in_tx!(tx, publish);
        let detail = serde_json::json!({"lesson": publish.source.slug, "version": version, "recorded": publish.audio_recorded});
        crate::audit_write!(&mut *tx, actor.entry("lesson.publish", detail))?;
        tx.commit().await?;
        version
    });
    Ok(version)
}

/// Takes a lesson off the catalogue; the entry naming who did it is written only when it was shown.
pub async fn unpublish(store: &Store, slug: &str, actor: Actor<'_>) -> sqlx::Result<bool> {
    let changed = on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let n = sqlx::query("UPDATE lesson SET published_version = NULL, updated_at = $1 WHERE slug = $2 AND published_version IS NOT NULL")
            .bind(now()).bind(slug).execute(&mut *tx).await?.rows_affected();
        if n > 0 {
            crate::audit_write!(&mut *tx, actor.entry("lesson.unpublish", serde_json::json!({"lesson": slug})))?;
        }
        sqlx::query("UPDATE content_change SET counter = counter + 1 WHERE id = 1").execute(&mut *tx).await?;
        tx.commit().await?;
        n
    });
    Ok(changed > 0)
}

/// Lessons as the editor lists them: slug, published version, has a draft, title of the latest version or draft.
pub async fn editor_list(store: &Store) -> sqlx::Result<Vec<(String, Option<i64>, Option<String>, Option<String>)>> {
    on_pool!(store, pool => sqlx::query_as(
        "SELECT l.slug, l.published_version, l.draft, \
         (SELECT v.source FROM lesson_version v WHERE v.slug = l.slug ORDER BY v.version DESC LIMIT 1) \
         FROM lesson l ORDER BY l.slug"
    ).fetch_all(pool).await)
}

pub async fn draft(store: &Store, slug: &str) -> sqlx::Result<Option<(Option<String>, Option<i64>)>> {
    on_pool!(store, pool => sqlx::query_as("SELECT draft, published_version FROM lesson WHERE slug = $1")
        .bind(slug).fetch_optional(pool).await)
}

pub async fn save_draft(store: &Store, source: &LessonSource) -> sqlx::Result<()> {
    let json = serde_json::to_string(source).expect("a lesson serialises");
    let at = now();
    on_pool!(store, pool => sqlx::query(
        "INSERT INTO lesson (slug, published_version, draft, created_at, updated_at) VALUES ($1, NULL, $2, $3, $3) \
         ON CONFLICT (slug) DO UPDATE SET draft = excluded.draft, updated_at = excluded.updated_at"
    ).bind(&source.slug).bind(json).bind(at).execute(pool).await.map(|_| ()))?;
    Ok(())
}

pub async fn counter(store: &Store) -> sqlx::Result<i64> {
    on_pool!(store, pool => sqlx::query_scalar("SELECT counter FROM content_change WHERE id = 1").fetch_one(pool).await)
}
