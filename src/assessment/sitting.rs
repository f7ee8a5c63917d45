//! A sitting: one learner taking one exam. The server owns the clock (a deadline fixed at the
//! start), each answer is saved as it is given and acknowledged once durable, a learner has one
//! sitting at a time and comes back to it after a dropped connection, and submitting grades at once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use futures::future::BoxFuture;
use rand::SeedableRng;
use sqlx::QueryBuilder;

use crate::app::AppState;
use crate::assessment::bank;
use crate::assessment::exam::{self, PaperItem};
use crate::assessment::item::Response;
use crate::certificates::issue as certify;
use crate::domain::grading::{self, Grade, PassRule};
use crate::domain::time::now;
use crate::learning::framework;
use crate::on_pool;
use crate::store::Store;
use crate::store::batch::Batcher;
use crate::web::error::AppError;

/// Attempts per day count calendar days in Vietnam.
use crate::domain::time::day_start;

/// What never changes once a sitting starts (and so is cached).
#[derive(Clone, Debug)]
pub struct Paper {
    pub id: String,
    pub account_id: String,
    pub target_group: String,
    pub framework_version: String,
    pub started_at: i64,
    pub deadline: i64,
    pub items: Vec<PaperItem>,
}

#[derive(Clone, Debug)]
pub struct Sitting {
    pub paper: Arc<Paper>,
    pub submitted_at: Option<i64>,
    pub grade: Option<Grade>,
}

impl Sitting {
    pub fn open(&self, at: i64) -> bool {
        self.submitted_at.is_none() && at <= self.paper.deadline
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    account_id: String,
    target_group: String,
    framework_version: String,
    started_at: i64,
    deadline: i64,
    paper: String,
    submitted_at: Option<i64>,
    result: Option<String>,
}

impl Row {
    fn into_sitting(self) -> Option<Sitting> {
        let items: Vec<PaperItem> = serde_json::from_str(&self.paper).ok()?;
        Some(Sitting {
            paper: Arc::new(Paper {
                id: self.id,
                account_id: self.account_id,
                target_group: self.target_group,
                framework_version: self.framework_version,
                started_at: self.started_at,
                deadline: self.deadline,
                items,
            }),
            submitted_at: self.submitted_at,
            grade: self.result.and_then(|r| serde_json::from_str(&r).ok()),
        })
    }
}

crate::direct_row!(Row {
    id,
    account_id,
    target_group,
    framework_version,
    started_at,
    deadline,
    paper,
    submitted_at,
    result
});

macro_rules! sitting_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, account_id, target_group, framework_version, started_at, deadline, paper, submitted_at, \
             result FROM sitting",
            $rest
        )
    };
}

const LOAD: &str = sitting_select!(" WHERE id = $1");

/// A sitting by id; every finish reads it, so SQLite answers on the calling thread.
pub async fn load(store: &Store, id: &str) -> sqlx::Result<Option<Sitting>> {
    let row: Option<Row> = match store {
        Store::Sqlite(sqlite) => sqlite.direct.optional(LOAD, &[("$1", &id)], Row::from_direct)?,
        Store::Postgres(pool) => sqlx::query_as(LOAD).bind(id).fetch_optional(pool).await?,
    };
    Ok(row.and_then(Row::into_sitting))
}

pub async fn open_of(store: &Store, account_id: &str) -> sqlx::Result<Option<Sitting>> {
    let row: Option<Row> = on_pool!(store, pool => sqlx::query_as(sitting_select!(" WHERE account_id = $1 AND submitted_at IS NULL"))
        .bind(account_id).fetch_optional(pool).await?);
    Ok(row.and_then(Row::into_sitting))
}

/// A learner's sittings, newest first.
pub async fn of(store: &Store, account_id: &str) -> sqlx::Result<Vec<Sitting>> {
    let rows: Vec<Row> = on_pool!(store, pool => sqlx::query_as(sitting_select!(" WHERE account_id = $1 ORDER BY started_at DESC LIMIT 50"))
        .bind(account_id).fetch_all(pool).await?);
    Ok(rows.into_iter().filter_map(Row::into_sitting).collect())
}

/// Papers of open sittings, kept so that saving an answer reads nothing.
#[derive(Default)]
pub struct Papers {
    papers: RwLock<HashMap<String, Arc<Paper>>>,
}

/// More open papers than this and the cache starts again (each is a few kilobytes).
const PAPERS_KEPT: usize = 200_000;

impl Papers {
    pub async fn get(&self, store: &Store, id: &str) -> sqlx::Result<Option<Arc<Paper>>> {
        if let Some(paper) = self.papers.read().expect("papers").get(id) {
            return Ok(Some(paper.clone()));
        }
        let Some(sitting) = load(store, id).await? else { return Ok(None) };
        self.keep(sitting.paper.clone());
        Ok(Some(sitting.paper))
    }

    fn keep(&self, paper: Arc<Paper>) {
        let mut papers = self.papers.write().expect("papers");
        if papers.len() >= PAPERS_KEPT {
            papers.clear();
        }
        papers.insert(paper.id.clone(), paper);
    }

    pub fn forget(&self, id: &str) {
        self.papers.write().expect("papers").remove(id);
    }
}

#[derive(Debug)]
pub enum StartError {
    /// Already at the day's limit.
    NoAttemptsLeft(i64),
    /// The bank has no item for these required competences.
    BankTooSmall(Vec<String>),
    UnknownExam,
}

/// Starts a sitting, or returns the learner's open one.
pub async fn start(state: &AppState, account_id: &str, target_group: &str) -> Result<Sitting, AppError> {
    let at = now();
    if let Some(open) = open_of(&state.store, account_id).await? {
        if open.open(at) {
            return Ok(open);
        }
        finish(state, &open.paper.id).await?;
    }
    let drawn = draw(state, account_id, target_group, at).await?;
    insert(state, drawn).await
}

/// A paper drawn for a learner and not yet a sitting: inserting it takes the day's next attempt.
pub struct Drawn {
    paper: Paper,
    /// The items drawn, sorted: their exposure counters are taken in this order.
    item_ids: Vec<String>,
    attempts_per_day: i64,
}

async fn attempts_today(store: &Store, account_id: &str, since: i64) -> sqlx::Result<i64> {
    on_pool!(store, pool => sqlx::query_scalar("SELECT COUNT(*) FROM sitting WHERE account_id = $1 AND started_at >= $2")
        .bind(account_id).bind(since).fetch_one(pool).await)
}

/// Draws a paper. The day's count is looked at here only to refuse early; the rule itself is held
/// by `insert`, which another start may have overtaken meanwhile.
pub async fn draw(state: &AppState, account_id: &str, target_group: &str, at: i64) -> Result<Drawn, AppError> {
    let exam = exam::get(&state.store, target_group).await?;
    let framework = framework::current(&state.store).await?;
    let (Some(exam), Some(profile)) = (exam, framework.profile(target_group)) else {
        return Err(start_error(StartError::UnknownExam));
    };
    if attempts_today(&state.store, account_id, day_start(at)).await? >= exam.attempts_per_day {
        return Err(start_error(StartError::NoAttemptsLeft(exam.attempts_per_day)));
    }
    let entries = bank::entries(&state.store).await?;
    let mut rng = rand_chacha::ChaCha12Rng::from_os_rng();
    let drawn = exam::draw(&entries, &profile.required, i64::from(profile.min_level), exam.items as usize, &mut rng)
        .map_err(|missing| start_error(StartError::BankTooSmall(missing)))?;
    let mut items = Vec::with_capacity(drawn.len());
    for entry in &drawn {
        let item =
            state.items.get(&state.store, &entry.id, entry.version).await?.ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("item {} v{} is missing", entry.id, entry.version))
            })?;
        items.push(PaperItem {
            id: entry.id.clone(),
            version: entry.version,
            competence: entry.competence.clone(),
            order: exam::shuffled(item.task.shuffled_len(), &mut rng),
        });
    }
    let mut item_ids: Vec<String> = drawn.iter().map(|e| e.id.clone()).collect();
    item_ids.sort_unstable();
    // Time-ordered (UUIDv7): the sittings running at once, their answers and their certificates'
    // sitting index entries sit on neighbouring B-tree pages, so a group commit writes fewer pages.
    // The id is not a secret and shows when the sitting started: every route that takes it
    // checks that the sitting is the signed-in learner's own.
    let paper = Paper {
        id: uuid::Uuid::now_v7().to_string(),
        account_id: account_id.to_owned(),
        target_group: target_group.to_owned(),
        framework_version: framework.version.clone(),
        started_at: at,
        deadline: at + exam.minutes * 60,
        items,
    };
    Ok(Drawn { paper, item_ids, attempts_per_day: exam.attempts_per_day })
}

/// Counts the day's attempts and takes the next one in the statement that inserts the sitting.
/// The attempt number is unique per learner and day (index `sitting_attempt`), so two starts that
/// counted the same attempts cannot both land, on any backend and across servers; the day's limit
/// is in the same statement, so a start that counted before another finished still sees it.
const INSERT_SITTING: &str = "INSERT INTO sitting (id, account_id, target_group, framework_version, started_at, \
     deadline, paper, attempt_day, attempt_no) \
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, c.n + 1 FROM (SELECT COUNT(*) AS n FROM sitting \
     WHERE account_id = $2 AND started_at >= $8) c WHERE c.n < $9 ON CONFLICT DO NOTHING";

/// The drawn items' exposure counters, in one statement: their rows are locked in one order for
/// every sitting (PostgreSQL: `ORDER BY id FOR UPDATE` in the inner select), so concurrent starts
/// never deadlock, and a start holds the locks for one round trip instead of one per item (the
/// exam's start was the slowest request of the peak day on PostgreSQL, BENCHMARKS.md). SQLite has
/// one writer and no row locks.
const EXPOSURE: &str = "UPDATE item SET exposure = exposure + 1 WHERE id IN (SELECT id FROM item WHERE id IN (";

/// How many times a start tries again when another start of the same learner took its attempt number.
const INSERT_TRIES: usize = 3;

/// Inserts a drawn paper as the learner's sitting, within the day's limit; when another start won
/// at the same moment, that one's open sitting is the learner's.
pub async fn insert(state: &AppState, drawn: Drawn) -> Result<Sitting, AppError> {
    let paper = drawn.paper;
    let since = day_start(paper.started_at);
    let paper_json = serde_json::to_string(&paper.items).expect("a paper serialises");
    let lock = if matches!(state.store, Store::Postgres(_)) { " ORDER BY id FOR UPDATE" } else { "" };
    for _ in 0..INSERT_TRIES {
        let inserted = on_pool!(&state.store, pool => {
            let mut tx = pool.begin().await?;
            let inserted = sqlx::query(INSERT_SITTING)
                .bind(&paper.id).bind(&paper.account_id).bind(&paper.target_group).bind(&paper.framework_version)
                .bind(paper.started_at).bind(paper.deadline).bind(&paper_json).bind(since).bind(drawn.attempts_per_day)
                .execute(&mut *tx).await?.rows_affected();
            if inserted > 0 {
                if !drawn.item_ids.is_empty() {
                    let mut update = QueryBuilder::new(EXPOSURE);
                    let mut ids = update.separated(", ");
                    for id in &drawn.item_ids {
                        ids.push_bind(id);
                    }
                    update.push(")").push(lock).push(")");
                    update.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            inserted
        });
        if inserted > 0 {
            let paper = Arc::new(paper);
            state.papers.keep(paper.clone());
            return Ok(Sitting { paper, submitted_at: None, grade: None });
        }
        // Two starts at once: the other one won; that is the learner's sitting.
        if let Some(open) = open_of(&state.store, &paper.account_id).await? {
            return Ok(open);
        }
        if attempts_today(&state.store, &paper.account_id, since).await? >= drawn.attempts_per_day {
            return Err(start_error(StartError::NoAttemptsLeft(drawn.attempts_per_day)));
        }
    }
    Err(AppError::Conflict {
        code: "sitting_busy",
        message: "Bài kiểm tra đang được bắt đầu ở nơi khác; xin thử lại. / Another start is under way; try again."
            .into(),
    })
}

fn start_error(e: StartError) -> AppError {
    match e {
        StartError::NoAttemptsLeft(n) => AppError::TooMany {
            code: "no_attempts_left",
            message: format!(
                "Hôm nay bạn đã làm đủ {n} lần cho phép. Hãy ôn lại bài và quay lại vào ngày mai. \
                 / You have used today's {n} attempts; come back tomorrow."
            ),
        },
        StartError::BankTooSmall(missing) => AppError::Conflict {
            code: "bank_too_small",
            message: format!(
                "Ngân hàng câu hỏi chưa có câu nào cho năng lực {}; xin báo quản trị viên. \
                 / The question bank has no item for competence {}.",
                missing.join(", "),
                missing.join(", ")
            ),
        },
        StartError::UnknownExam => AppError::not_found("exam_not_found", "Không có bài kiểm tra này. / No such exam."),
    }
}

/// One answer to save: already graded against the item.
pub struct AnswerJob {
    pub sitting_id: String,
    pub position: i64,
    pub response: String,
    pub correct: bool,
    pub at: i64,
}

/// Group-committed answers: `true` when saved, `false` when the sitting no longer takes answers.
pub type Answers = Batcher<AnswerJob, bool>;

pub fn start_answers(store: Store) -> Answers {
    Batcher::start(store, 512, "answers", write_answers)
}

/// The sitting must be open at the time of the answer, checked by the database in the same write;
/// on PostgreSQL the sitting row is share-locked so a submission in flight waits for it (rows are
/// taken in sitting id order, as the finishing writer takes them).
const SAVE_ANSWER: &str = "INSERT INTO answer (sitting_id, position, response, correct, answered_at) \
    SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM sitting WHERE id = $1 AND submitted_at IS NULL \
    AND deadline >= $5{lock}) ON CONFLICT (sitting_id, position) DO UPDATE SET response = excluded.response, \
    correct = excluded.correct, answered_at = excluded.answered_at";

fn write_answers<'a>(store: &'a Store, jobs: &'a [AnswerJob]) -> BoxFuture<'a, sqlx::Result<Vec<bool>>> {
    Box::pin(async move {
        let lock = if matches!(store, Store::Postgres(_)) { " FOR SHARE" } else { "" };
        let sql = SAVE_ANSWER.replace("{lock}", lock);
        let mut saved = vec![false; jobs.len()];
        on_pool!(store, pool => {
            let mut tx = pool.begin().await?;
            for i in by_sitting(jobs, |j| &j.sitting_id) {
                let job = &jobs[i];
                let n = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(&job.sitting_id).bind(job.position).bind(&job.response).bind(job.correct).bind(job.at)
                    .execute(&mut *tx).await?.rows_affected();
                saved[i] = n > 0;
            }
            tx.commit().await?;
        });
        Ok(saved)
    })
}

/// The saved answers of a sitting, by position.
pub async fn answers(store: &Store, sitting_id: &str) -> sqlx::Result<HashMap<i64, (Response, bool)>> {
    let rows: Vec<(i64, String, bool)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT position, response, correct FROM answer WHERE sitting_id = $1")
        .bind(sitting_id).fetch_all(pool).await?);
    Ok(rows
        .into_iter()
        .filter_map(|(p, r, c)| serde_json::from_str::<Response>(&r).ok().map(|r| (p, (r, c))))
        .collect())
}

/// The holder as the certificate names them: person id, registry name, display name, login, birth
/// year, the account's sealed citizen number (for someone not in the registry), and whether they
/// already hold a valid certificate for the profile.
type Holder = (Option<i64>, Option<String>, Option<String>, Option<String>, Option<i64>, Option<Vec<u8>>, bool);

/// The answers a grade was computed from: (position, right) in position order.
type Seen = Vec<(i64, bool)>;

/// A graded sitting to record: the grade, the answers it counted and, on a pass, its certificate.
pub struct FinishJob {
    pub sitting_id: String,
    pub at: i64,
    pub seen: Seen,
    pub grade: Grade,
    pub certificate: Option<Certified>,
}

/// A signed certificate with the person it belongs to and whether VNeID must confirm it.
pub struct Certified {
    pub certificate: certify::NewCertificate,
    pub person_id: Option<i64>,
    pub confirm: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finished {
    Recorded,
    /// Another request finished it first.
    AlreadyFinished,
    /// An answer landed after the grade was computed: grade again.
    Stale,
}

/// Group-committed finishes: many sittings graded (and certificates issued) per transaction.
pub type Finishes = Batcher<FinishJob, Finished>;

pub fn start_finishes(store: Store) -> Finishes {
    Batcher::start(store, 256, "finished sittings", write_finishes)
}

/// How many times a finish grades again when answers keep landing under it.
const FINISH_TRIES: usize = 5;

/// Ends a sitting (the learner submitted, or its time ran out): grades it and, on a pass, issues
/// the certificate, its confirmation for VNeID and the person's facts, all in one transaction.
/// Finishing a finished sitting changes nothing.
pub async fn finish(state: &AppState, id: &str) -> Result<(), AppError> {
    for _ in 0..FINISH_TRIES {
        let Some(sitting) = load(&state.store, id).await? else { return Err(AppError::hidden()) };
        if sitting.submitted_at.is_some() {
            break;
        }
        // Graded and signed outside the transaction, so that signing runs in parallel and the
        // writer only checks that nothing changed since.
        let job = grade_and_sign(state, &sitting.paper).await?;
        match state.finishes.write(job).await.map_err(|e| AppError::Internal(anyhow::anyhow!(e)))? {
            Finished::Recorded | Finished::AlreadyFinished => {
                state.papers.forget(id);
                return Ok(());
            }
            Finished::Stale => continue,
        }
    }
    state.papers.forget(id);
    let still_open = load(&state.store, id).await?.is_some_and(|s| s.submitted_at.is_none());
    if still_open {
        return Err(AppError::Conflict {
            code: "sitting_busy",
            message: "Bài làm đang nhận câu trả lời; xin nộp lại. / Answers are still arriving; submit again.".into(),
        });
    }
    Ok(())
}

/// Grades a paper with its saved answers and, on a pass, signs its certificate.
async fn grade_and_sign(state: &AppState, paper: &Paper) -> Result<FinishJob, AppError> {
    let at = now().min(paper.deadline);
    let framework = state
        .frameworks
        .get(&state.store, &paper.framework_version)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("framework {} is missing", paper.framework_version)))?;
    let profile = framework
        .profile(&paper.target_group)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no profile for {}", paper.target_group)))?;
    let rule = PassRule {
        required: &profile.required,
        pass_share: profile.pass_share,
        min_share_per_competence: profile.min_share_per_competence,
    };
    let seen = seen(&state.store, &paper.id).await?;
    let right: HashMap<i64, bool> = seen.iter().copied().collect();
    let given: Vec<(&str, bool)> = paper
        .items
        .iter()
        .enumerate()
        .map(|(p, item)| (item.competence.as_str(), right.get(&(p as i64)).copied().unwrap_or(false)))
        .collect();
    let grade = grading::grade(&rule, &given);
    // One valid certificate per profile: a holder who passes again has practised, and nothing more
    // is issued or sent to VNeID (checked again in the transaction that records the grade).
    let holder =
        if grade.passed { Some(holder(&state.store, &paper.account_id, &paper.target_group).await?) } else { None };
    let certificate = if let Some((person_id, full_name, display_name, login, birth_year, citizen, false)) = holder {
        // Without a registry person the birth year is in the citizen number VNeID gave at login.
        let birth_year = birth_year.or_else(|| {
            let id = state.keys.citizen.decrypt(&citizen?)?;
            Some(i64::from(id.birth_year()))
        });
        let name = full_name.or(display_name).or(login).unwrap_or_default();
        let signer = state.signers.current(&state.store, &state.keys.signing).await?;
        let issue = certify::Issue {
            paper,
            grade: &grade,
            framework: &framework,
            min_level: profile.min_level,
            holder_name: &name,
            at,
        };
        // Every adult's certificate is confirmed on VNeID; a minor's (18 not reached in the year of the
        // pass) is not sent. An account with no birth year anywhere has no citizen number either.
        let confirm = birth_year.is_none_or(|y| certify::year_of(at) - y >= 18);
        Some(Certified { certificate: certify::credential(state, &issue, &signer), person_id, confirm })
    } else {
        None
    };
    Ok(FinishJob { sitting_id: paper.id.clone(), at, seen, grade, certificate })
}

const SEEN: &str = "SELECT position, correct FROM answer WHERE sitting_id = $1 ORDER BY position";

/// The answers a grade counts, read before grading (on SQLite on the calling thread).
async fn seen(store: &Store, sitting_id: &str) -> sqlx::Result<Seen> {
    match store {
        Store::Sqlite(sqlite) => sqlite.direct.all(SEEN, &[("$1", &sitting_id)], |r| r.try_into()),
        Store::Postgres(pool) => sqlx::query_as(SEEN).bind(sitting_id).fetch_all(pool).await,
    }
}

const HOLDER: &str = "SELECT a.person_id, p.full_name, a.display_name, a.login, CAST(p.birth_year AS BIGINT), \
                      a.cccd_enc, EXISTS (SELECT 1 FROM certificate c WHERE c.account_id = a.id \
                      AND c.target_group = $2 AND c.revoked_at IS NULL AND c.withdrawn_at IS NULL) \
                      FROM account a LEFT JOIN person p ON p.id = a.person_id WHERE a.id = $1";

async fn holder(store: &Store, account_id: &str, target_group: &str) -> sqlx::Result<Holder> {
    let found = match store {
        Store::Sqlite(sqlite) => {
            sqlite.direct.optional(HOLDER, &[("$1", &account_id), ("$2", &target_group)], |r| r.try_into())?
        }
        Store::Postgres(pool) => {
            sqlx::query_as(HOLDER).bind(account_id).bind(target_group).fetch_optional(pool).await?
        }
    };
    found.ok_or(sqlx::Error::RowNotFound)
}

/// Records finished sittings in one transaction, with a handful of statements for the whole group:
/// the sittings still open are claimed at once (on PostgreSQL locked, in id order as the answer
/// writer takes them, so an answer in flight is either counted or refused and two writers never
/// wait on each other in a cycle), their answers read again at once, and every grade and
/// certificate written with one statement each.
fn write_finishes<'a>(store: &'a Store, jobs: &'a [FinishJob]) -> BoxFuture<'a, sqlx::Result<Vec<Finished>>> {
    Box::pin(async move {
        let lock = if matches!(store, Store::Postgres(_)) { " FOR UPDATE" } else { "" };
        let order = by_sitting(jobs, |j| &j.sitting_id);
        let mut outcomes = vec![Finished::AlreadyFinished; jobs.len()];
        on_pool!(store, pool => {
            let mut tx = pool.begin_with(store.begin_write()).await?;
            let mut claim = sqlx::QueryBuilder::new("SELECT id FROM sitting WHERE submitted_at IS NULL AND id IN (");
            let mut ids = claim.separated(", ");
            for &i in &order {
                ids.push_bind(&jobs[i].sitting_id);
            }
            claim.push(") ORDER BY id").push(lock);
            let mut open: std::collections::HashSet<String> =
                claim.build_query_scalar().fetch_all(&mut *tx).await?.into_iter().collect();
            let mut now_seen: HashMap<String, Seen> = HashMap::new();
            if !open.is_empty() {
                let mut answers = sqlx::QueryBuilder::new(
                    "SELECT sitting_id, position, correct FROM answer WHERE sitting_id IN (");
                let mut ids = answers.separated(", ");
                for id in &open {
                    ids.push_bind(id);
                }
                answers.push(") ORDER BY sitting_id, position");
                let rows: Vec<(String, i64, bool)> = answers.build_query_as().fetch_all(&mut *tx).await?;
                for (sitting, position, correct) in rows {
                    now_seen.entry(sitting).or_default().push((position, correct));
                }
            }
            let mut recorded = Vec::new();
            for &i in &order {
                let job = &jobs[i];
                // A second finish of the same sitting in this group finds it already claimed.
                if !open.remove(&job.sitting_id) {
                    continue;
                }
                if now_seen.get(&job.sitting_id).map_or(&[][..], Vec::as_slice) != job.seen.as_slice() {
                    outcomes[i] = Finished::Stale;
                    continue;
                }
                outcomes[i] = Finished::Recorded;
                recorded.push(job);
            }
            if !recorded.is_empty() {
                // The dialects share `UPDATE ... FROM (VALUES ...)` when the values are cast and the
                // columns keep their default names.
                let mut grades = sqlx::QueryBuilder::new(
                    "UPDATE sitting SET submitted_at = v.column2, score = v.column3, total = v.column4, \
                     passed = v.column5, result = v.column6 FROM (VALUES ");
                let mut values = grades.separated(", ");
                for job in &recorded {
                    let grade = &job.grade;
                    values.push("(CAST(").push_bind_unseparated(&job.sitting_id)
                        .push_unseparated(" AS TEXT), CAST(").push_bind_unseparated(job.at)
                        .push_unseparated(" AS BIGINT), CAST(").push_bind_unseparated(i64::from(grade.right))
                        .push_unseparated(" AS BIGINT), CAST(").push_bind_unseparated(i64::from(grade.total))
                        .push_unseparated(" AS BIGINT), CAST(").push_bind_unseparated(grade.passed)
                        .push_unseparated(" AS BOOLEAN), CAST(")
                        .push_bind_unseparated(serde_json::to_string(grade).expect("a grade serialises"))
                        .push_unseparated(" AS TEXT))");
                }
                grades.push(") AS v WHERE sitting.id = v.column1");
                grades.build().execute(&mut *tx).await?;
                let mut certs: Vec<(&certify::NewCertificate, Option<i64>, bool)> = recorded
                    .iter()
                    .filter_map(|job| job.certificate.as_ref())
                    .map(|c| (&c.certificate, c.person_id, c.confirm))
                    .collect();
                if !certs.is_empty() {
                    // A profile certified since the grade was computed gets no second certificate.
                    let mut held = sqlx::QueryBuilder::new(
                        "SELECT account_id, target_group FROM certificate WHERE revoked_at IS NULL \
                         AND withdrawn_at IS NULL AND account_id IN (");
                    let mut ids = held.separated(", ");
                    for (cert, _, _) in &certs {
                        ids.push_bind(&cert.account_id);
                    }
                    held.push(")");
                    let held: std::collections::HashSet<(String, String)> =
                        held.build_query_as().fetch_all(&mut *tx).await?.into_iter().collect();
                    certs.retain(|(cert, _, _)| !held.contains(&(cert.account_id.clone(), cert.target_group.clone())));
                }
                crate::store_certificates_in_tx!(tx, &certs);
            }
            tx.commit().await?;
        });
        Ok(outcomes)
    })
}

/// Positions of `jobs` ordered by sitting id, arrival order kept within a sitting: both writers lock
/// sitting rows in this order.
fn by_sitting<J>(jobs: &[J], sitting: impl Fn(&J) -> &String) -> Vec<usize> {
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by(|a, b| sitting(&jobs[*a]).cmp(sitting(&jobs[*b])));
    order
}
