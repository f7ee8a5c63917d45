//! `hocvuso content import DIR`: programs, courses, modules, lessons and their media, from files.
//! Everything is checked first; any problem is reported by file and line and nothing is written.
//! Then media and synthesised speech go to the media store, and one transaction writes the rest.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use anyhow::Context;

use crate::learning::content::{Program, Publish};
use crate::learning::framework::{self, Framework, TARGET_GROUPS, describe_toml_error};
use crate::learning::lesson::{self, LessonSource, valid_slug};
use crate::learning::media::{Media, sniff};
use crate::learning::{audio, content};
use crate::on_pool;
use crate::store::Store;

/// One problem, named by its file and line.
#[derive(Debug, Clone, PartialEq)]
pub struct FileProblem {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

#[derive(Debug, Default)]
pub struct Summary {
    pub programs: usize,
    pub lessons: usize,
    pub new_versions: usize,
    pub media: usize,
    pub items: usize,
    pub new_item_versions: usize,
}

struct Loaded {
    programs: Vec<Program>,
    /// Each lesson with its program folder (its media paths are relative to it).
    lessons: Vec<(PathBuf, LessonSource)>,
    /// Media files by their path as written in lessons, per program folder.
    media: HashMap<PathBuf, Vec<u8>>,
    items: Vec<crate::assessment::item::Item>,
}

pub async fn run(store: &Store, media: &Media, dir: &Path) -> anyhow::Result<Result<Summary, Vec<FileProblem>>> {
    crate::store::framework::ensure_builtin(store).await?;
    let framework = framework::current(store).await?;
    let known: HashSet<String> = content::published(store).await?.into_iter().map(|v| v.slug).collect();
    let loaded = match load(dir, &framework, &known)? {
        Ok(loaded) => loaded,
        Err(problems) => return Ok(Err(problems)),
    };
    let mut keys = HashMap::new();
    for (path, bytes) in loaded.media {
        let key = media.put(store, bytes).await.map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        keys.insert(path, key);
    }
    let mut lessons = Vec::with_capacity(loaded.lessons.len());
    for (program_dir, mut lesson) in loaded.lessons {
        lesson.map_media(&|src| keys.get(&program_dir.join(src)).map(|k| format!("/media/{k}")));
        lessons.push(lesson);
    }
    let audio_keys = synthesise_all(store, media, &lessons).await?;
    let mut summary = Summary {
        programs: loaded.programs.len(),
        lessons: lessons.len(),
        media: keys.len(),
        items: loaded.items.len(),
        ..Default::default()
    };
    (summary.new_versions, summary.new_item_versions) =
        write(store, &framework, &loaded.programs, &lessons, &audio_keys, &loaded.items).await?;
    Ok(Ok(summary))
}

/// Two at a time: the machine's two cores, and espeak-ng is single-threaded.
async fn synthesise_all(store: &Store, media: &Media, lessons: &[LessonSource]) -> anyhow::Result<Vec<String>> {
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(2));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, lesson) in lessons.iter().enumerate() {
        let (store, media, text, permits) = (store.clone(), media.clone(), lesson.spoken_text(), permits.clone());
        let slug = lesson.slug.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire().await;
            let key =
                audio::speech(&media, &store, &text).await.with_context(|| format!("speech for lesson {slug}"))?;
            anyhow::Ok((i, key))
        });
    }
    let mut keys = vec![String::new(); lessons.len()];
    while let Some(done) = tasks.join_next().await {
        let (i, key) = done??;
        keys[i] = key;
    }
    Ok(keys)
}

async fn write(
    store: &Store,
    framework: &Framework,
    programs: &[Program],
    lessons: &[LessonSource],
    audio_keys: &[String],
    items: &[crate::assessment::item::Item],
) -> anyhow::Result<(usize, usize)> {
    let (mut new_versions, mut new_item_versions) = (0, 0);
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        for (lesson, audio_key) in lessons.iter().zip(audio_keys) {
            let before: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM lesson_version WHERE slug = $1")
                .bind(&lesson.slug).fetch_one(&mut *tx).await?;
            let publish = Publish {
                source: lesson,
                framework_version: &framework.version,
                audio_key: Some(audio_key),
                audio_recorded: false,
                by: None,
            };
            let version = crate::publish_in_tx!(tx, &publish);
            if Some(version) != before {
                new_versions += 1;
            }
        }
        for (position, program) in programs.iter().enumerate() {
            sqlx::query(
                "INSERT INTO program (code, target_group, title, summary, position) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (code) DO UPDATE SET target_group = excluded.target_group, title = excluded.title, \
                 summary = excluded.summary, position = excluded.position",
            )
            .bind(&program.code).bind(&program.target_group).bind(&program.title).bind(&program.summary)
            .bind(position as i64).execute(&mut *tx).await?;
            // The file is the whole truth about its program: courses and modules it no longer lists go.
            sqlx::query("DELETE FROM module_lesson WHERE module_code IN (SELECT m.code FROM course_module m \
                         JOIN course c ON c.code = m.course_code WHERE c.program_code = $1)")
                .bind(&program.code).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM course_module WHERE course_code IN (SELECT code FROM course WHERE program_code = $1)")
                .bind(&program.code).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM course WHERE program_code = $1").bind(&program.code).execute(&mut *tx).await?;
            for (c, course) in program.courses.iter().enumerate() {
                sqlx::query("INSERT INTO course (code, program_code, title, summary, sequential, position) \
                             VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(&course.code).bind(&program.code).bind(&course.title).bind(&course.summary)
                    .bind(course.sequential).bind(c as i64).execute(&mut *tx).await?;
                for (m, module) in course.modules.iter().enumerate() {
                    sqlx::query("INSERT INTO course_module (code, course_code, title, position) VALUES ($1, $2, $3, $4)")
                        .bind(&module.code).bind(&course.code).bind(&module.title).bind(m as i64)
                        .execute(&mut *tx).await?;
                    for (l, slug) in module.lessons.iter().enumerate() {
                        sqlx::query("INSERT INTO module_lesson (module_code, lesson_slug, position) VALUES ($1, $2, $3)")
                            .bind(&module.code).bind(slug).bind(l as i64).execute(&mut *tx).await?;
                    }
                }
            }
        }
        for item in items {
            let before: Option<i64> = sqlx::query_scalar("SELECT version FROM item WHERE id = $1")
                .bind(&item.id).fetch_optional(&mut *tx).await?;
            if Some(crate::save_item_in_tx!(tx, item)) != before {
                new_item_versions += 1;
            }
        }
        sqlx::query("UPDATE content_change SET counter = counter + 1 WHERE id = 1").execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok((new_versions, new_item_versions))
}

/// Reads and checks every file; either all of it is good or every problem is returned.
fn load(
    dir: &Path,
    framework: &Framework,
    known: &HashSet<String>,
) -> anyhow::Result<Result<Loaded, Vec<FileProblem>>> {
    let mut problems = Vec::new();
    let mut programs = Vec::new();
    let mut lessons: BTreeMap<String, (PathBuf, LessonSource)> = BTreeMap::new();
    let mut media = HashMap::new();
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("program.toml").is_file())
        .collect();
    folders.sort();
    if folders.is_empty() {
        problems.push(FileProblem {
            file: dir.to_owned(),
            line: 0,
            message: "không có thư mục chương trình nào (…/program.toml) / no program folder found".into(),
        });
    }
    for folder in &folders {
        if let Some(program) = load_program(folder, &mut problems) {
            programs.push(program);
        }
        let lessons_dir = folder.join("lessons");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&lessons_dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "md"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        for file in files {
            let mut report =
                |line: usize, message: String| problems.push(FileProblem { file: file.clone(), line, message });
            let slug = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
            let text = match std::fs::read_to_string(&file) {
                Ok(text) => text,
                Err(e) => {
                    report(0, format!("không đọc được tệp (UTF-8?): {e} / cannot read the file"));
                    continue;
                }
            };
            let (lesson, first_line) = match lesson::parse_file(&slug, &text) {
                Ok(parsed) => parsed,
                Err(found) => {
                    found.into_iter().for_each(|p| report(p.line, p.message));
                    continue;
                }
            };
            let found = std::cell::RefCell::new(Vec::new());
            let media_ok = |src: &str| {
                let Some(path) = media_path(folder, src) else { return false };
                let Ok(bytes) = std::fs::read(&path) else { return false };
                let fits = sniff(&bytes).map(|(kind, _, _)| bytes.len() <= kind.limit()).unwrap_or(false);
                if fits {
                    found.borrow_mut().push((path, bytes));
                }
                fits
            };
            for p in lesson.check(framework, first_line, &media_ok) {
                report(p.line, p.message);
            }
            media.extend(found.into_inner());
            if let Some((other, _)) = lessons.get(&slug) {
                report(1, format!("mã bài {slug} trùng với {} / duplicate lesson slug", other.display()));
            }
            lessons.insert(slug, (file.clone(), lesson));
        }
    }
    check_structure(&programs, &lessons, known, &mut problems);
    let items = match crate::assessment::bank::load(dir, framework)? {
        Ok(items) => items,
        Err(found) => {
            problems.extend(found);
            Vec::new()
        }
    };
    if problems.is_empty() {
        // A lesson file sits in <program>/lessons/.
        let lessons = lessons
            .into_values()
            .map(|(file, l)| (file.parent().and_then(Path::parent).unwrap_or(dir).to_owned(), l))
            .collect();
        Ok(Ok(Loaded { programs, lessons, media, items }))
    } else {
        Ok(Err(problems))
    }
}

/// A media path stays inside its program folder.
fn media_path(folder: &Path, src: &str) -> Option<PathBuf> {
    let relative = Path::new(src);
    let inside = relative.components().all(|c| matches!(c, Component::Normal(_)));
    inside.then(|| folder.join(relative))
}

fn load_program(folder: &Path, problems: &mut Vec<FileProblem>) -> Option<Program> {
    let file = folder.join("program.toml");
    let mut report = |line: usize, message: String| problems.push(FileProblem { file: file.clone(), line, message });
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let program: Program = match toml::from_str(&text) {
        Ok(p) => p,
        Err(e) => {
            let line = e.span().map_or(0, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            report(line, describe_toml_error(&text, &e));
            return None;
        }
    };
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).map_or(1, |i| i + 1);
    let folder_name = folder.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if program.code != folder_name {
        report(
            line_of("code"),
            format!("code = \"{}\" phải trùng tên thư mục {folder_name} / must equal the folder name", program.code),
        );
    }
    if !TARGET_GROUPS.iter().any(|(c, _)| *c == program.target_group) {
        report(line_of("target_group"), format!("đối tượng không có: {} / unknown target group", program.target_group));
    }
    for course in &program.courses {
        for code in std::iter::once(&course.code).chain(course.modules.iter().map(|m| &m.code)) {
            if !valid_slug(code) {
                report(line_of(code), format!("mã {code} chỉ gồm a-z, 0-9 và - / codes are a-z, 0-9 and -"));
            }
        }
    }
    Some(program)
}

fn check_structure(
    programs: &[Program],
    lessons: &BTreeMap<String, (PathBuf, LessonSource)>,
    known: &HashSet<String>,
    problems: &mut Vec<FileProblem>,
) {
    let mut codes = HashSet::new();
    let mut listed = HashSet::new();
    for program in programs {
        let file = PathBuf::from(&program.code).join("program.toml");
        for course in &program.courses {
            for code in std::iter::once(&course.code).chain(course.modules.iter().map(|m| &m.code)) {
                if !codes.insert(code.clone()) {
                    problems.push(FileProblem {
                        file: file.clone(),
                        line: 0,
                        message: format!("mã {code} dùng hai lần / code {code} used twice"),
                    });
                }
            }
            for slug in course.lessons() {
                listed.insert(slug.clone());
                if !lessons.contains_key(slug) && !known.contains(slug) {
                    problems.push(FileProblem {
                        file: file.clone(),
                        line: 0,
                        message: format!(
                            "khóa {} nêu bài không có: {slug} / the course lists a missing lesson",
                            course.code
                        ),
                    });
                }
            }
        }
    }
    for (slug, (file, _)) in lessons {
        if !listed.contains(slug) {
            problems.push(FileProblem {
                file: file.clone(),
                line: 1,
                message: format!("bài {slug} không nằm trong mô-đun nào của program.toml / the lesson is in no module"),
            });
        }
    }
}
