//! The demo's movement: who learned, passed, was certified and confirmed on VNeID, and when, so that
//! every dashboard has something true to show.
//!
//! Written in bulk, not through the HTTP write paths (a graded sitting per learner would take many
//! minutes at 20,000 people), but never contradicting the rest of the database: a `learned_at` has
//! its completed progress rows, a pass has its graded sitting and a certificate signed with the
//! demo's key and stored by the certificates module's own `store_certificates_in_tx!`, a VNeID
//! confirmation has its delivered outbox row. VNeID level 2 and bank accounts are facts that no
//! other table backs: recorded as a staff entry or a team visit. The counters are then recomputed
//! with `tracking rebuild`.
//!
//! Each commune draws its propensity from the seed: a few ahead of the 80 % target, most in
//! between, some far behind. Dates run from January 2025 to the day before today.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use ed25519_dalek::SigningKey;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::certificates::credential::{self, Claim};
use crate::certificates::issue::NewCertificate;
use crate::config::Config;
use crate::domain::grading::{self, Grade, PassRule};
use crate::domain::person::{TargetGroup, TargetGroups};
use crate::learning::framework::{self, Framework, target_group_label};
use crate::on_pool;
use crate::store::Store;

/// What the movement wrote, for the demo's summary line.
#[derive(Debug, Default)]
pub struct Summary {
    pub learners: usize,
    pub passed: usize,
    pub confirmed: usize,
}

/// Rows per multi-row statement: under SQLite's 32,766 parameters with the widest row (13 columns).
const CHUNK: usize = 500;

fn day(y: i32, m: u32, d: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(2, 0, 0)).map_or(0, |t| t.and_utc().timestamp())
}

/// A commune's propensity in 0..1: the share of its adults who will have passed.
fn propensity(seed: u64, commune: &str) -> f64 {
    let salt = commune.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ salt);
    let kind: f64 = rng.random();
    if kind < 0.12 {
        rng.random_range(0.88..0.98)
    } else if kind < 0.27 {
        rng.random_range(0.03..0.30)
    } else {
        rng.random_range(0.40..0.80)
    }
}

struct Person {
    id: i64,
    commune: String,
    birth_year: i64,
    groups: TargetGroups,
    name: String,
}

/// The profile a person sits: their own group's, else the citizens'.
fn profile_of(groups: TargetGroups, framework: &Framework) -> &'static str {
    for (group, code) in [
        (TargetGroup::Official, "can_bo"),
        (TargetGroup::Student, "hoc_sinh_sinh_vien"),
        (TargetGroup::Worker, "nguoi_lao_dong"),
    ] {
        if groups.contains(group) && framework.profile(code).is_some() {
            return code;
        }
    }
    "nguoi_dan"
}

/// A graded paper of `framework`'s profile: mostly right when `pass`, mostly wrong otherwise.
fn graded(framework: &Framework, target_group: &str, pass: bool, rng: &mut ChaCha8Rng) -> Option<Grade> {
    let profile = framework.profile(target_group)?;
    let rule = PassRule {
        required: &profile.required,
        pass_share: profile.pass_share,
        min_share_per_competence: profile.min_share_per_competence,
    };
    let share = if pass { rng.random_range(0.8..1.0) } else { rng.random_range(0.2..0.55) };
    let given: Vec<(&str, bool)> = profile
        .required
        .iter()
        .flat_map(|c| (0..4).map(move |_| c.as_str()))
        .map(|c| (c, rng.random_bool(share)))
        .collect();
    let grade = grading::grade(&rule, &given);
    if grade.passed == pass {
        return Some(grade);
    }
    let given: Vec<(&str, bool)> =
        profile.required.iter().flat_map(|c| (0..4).map(move |_| (c.as_str(), pass))).collect();
    Some(grading::grade(&rule, &given))
}

struct Sitting {
    id: String,
    account_id: String,
    target_group: String,
    started_at: i64,
    grade: Grade,
    /// The learner's attempt number (two sittings may fall on one day).
    attempt: i64,
}

/// People whose movement is planned and written in one go: the plan of the whole province (4,000,000
/// people, some 2,000,000 signed certificates) would not fit in memory nor in one transaction.
const PEOPLE_PER_ROUND: i64 = 50_000;

/// What one round writes.
#[derive(Default)]
struct Plan {
    learners: usize,
    accounts: Vec<(String, i64, String, i64)>,
    progress: Vec<(String, String, i64, i64, i64)>,
    learned: Vec<(i64, i64)>,
    sittings: Vec<Sitting>,
    /// (sitting index, person, holder name, birth year)
    passes: Vec<(usize, i64, String, i64)>,
    level_bank: Vec<LevelBank>,
}

/// What stays the same across rounds: one random stream, so the movement depends on the seed alone.
struct Planner {
    seed: u64,
    rng: ChaCha8Rng,
    framework: Framework,
    lessons: Vec<(String, i64)>,
    /// Demo accounts made before, by person: the one its person learns with.
    existing: std::collections::HashMap<i64, String>,
    propensities: BTreeMap<String, f64>,
    start: i64,
    last: i64,
}

impl Planner {
    /// A date after `from`, earlier dates more likely: the movement started strong in 2025.
    fn when(&mut self, from: i64) -> i64 {
        let u: f64 = self.rng.random();
        from + ((self.last - from) as f64 * u.powf(1.4)) as i64
    }

    fn source(&mut self) -> &'static str {
        if self.rng.random_bool(0.6) { "team_visit" } else { "staff" }
    }

    fn plan(&mut self, people: &[Person]) -> Plan {
        let mut plan = Plan::default();
        for person in people {
            let seed = self.seed;
            let p =
                *self.propensities.entry(person.commune.clone()).or_insert_with(|| propensity(seed, &person.commune));
            let adult = person.birth_year <= 2025 - 18;
            // Those who pass have learned; some more learned and have not passed (yet).
            let passes_now = self.rng.random_bool(if adult { p } else { p * 0.8 });
            let learns = passes_now || self.rng.random_bool((p * 0.5).min(1.0));
            if person.birth_year <= 2025 - 16 {
                let level = self.rng.random_bool((p + 0.1).min(0.97)).then(|| {
                    let source = self.source();
                    (2, source, self.when(self.start))
                });
                let bank = self.rng.random_bool((p + 0.05).min(0.95)).then(|| {
                    let source = self.source();
                    (source, self.when(self.start))
                });
                if level.is_some() || bank.is_some() {
                    plan.level_bank.push((person.id, level, bank));
                }
            }
            if learns {
                self.learn(person, passes_now, &mut plan);
            }
        }
        plan
    }

    fn learn(&mut self, person: &Person, passes_now: bool, plan: &mut Plan) {
        plan.learners += 1;
        let first_lesson = self.when(self.start);
        let (last, rng) = (self.last, &mut self.rng);
        let account_id = match self.existing.get(&person.id) {
            Some(id) => id.clone(),
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                plan.accounts.push((id.clone(), person.id, person.commune.clone(), first_lesson));
                id
            }
        };
        let mut at = first_lesson;
        if !self.lessons.is_empty() {
            let n = rng.random_range(1..=self.lessons.len().min(6));
            let offset = rng.random_range(0..self.lessons.len());
            for k in 0..n {
                let (slug, version) = &self.lessons[(offset + k) % self.lessons.len()];
                plan.progress.push((account_id.clone(), slug.clone(), *version, at, rng.random_range(240..1500)));
                at = (at + rng.random_range(3_600..5 * 86_400)).min(last);
            }
            plan.learned.push((person.id, first_lesson));
        }
        let target_group = profile_of(person.groups, &self.framework);
        let mut failed_on = None;
        if rng.random_bool(if passes_now { 0.25 } else { 0.3 }) {
            at = (at + rng.random_range(3_600..7 * 86_400)).min(last);
            if let Some(grade) = graded(&self.framework, target_group, false, rng) {
                plan.sittings.push(Sitting {
                    id: uuid::Uuid::new_v4().to_string(),
                    account_id: account_id.clone(),
                    target_group: target_group.to_owned(),
                    started_at: at,
                    grade,
                    attempt: 1,
                });
                failed_on = Some(crate::domain::time::day_start(at));
            }
        }
        if passes_now {
            at = (at + rng.random_range(86_400..20 * 86_400)).min(last);
            if let Some(grade) = graded(&self.framework, target_group, true, rng) {
                plan.sittings.push(Sitting {
                    id: uuid::Uuid::new_v4().to_string(),
                    account_id,
                    target_group: target_group.to_owned(),
                    started_at: at,
                    grade,
                    attempt: if failed_on == Some(crate::domain::time::day_start(at)) { 2 } else { 1 },
                });
                plan.passes.push((plan.sittings.len() - 1, person.id, person.name.clone(), person.birth_year));
            }
        }
    }
}

/// Writes the movement of every person in the registry, `PEOPLE_PER_ROUND` people at a time (each
/// round its own transactions). `today` bounds every date.
pub async fn run(config: &Config, store: &Store, seed: u64, today: i64) -> anyhow::Result<Summary> {
    let key = config.require_data_key()?;
    let keys = crate::crypto::Keys::new(&key);
    let signer = crate::certificates::keys::Signers::default().current(store, &keys.signing).await?;
    let framework = framework::current(store).await?;
    let lessons: Vec<(String, i64)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT slug, CAST(published_version AS BIGINT) FROM lesson WHERE published_version IS NOT NULL ORDER BY slug")
        .fetch_all(pool).await?);
    let existing = on_pool!(store, pool => sqlx::query_as::<_, (i64, String)>(
        "SELECT person_id, id FROM account WHERE person_id IS NOT NULL")
        .fetch_all(pool).await?)
    .into_iter()
    .collect();
    let start = day(2025, 1, 6);
    let mut planner = Planner {
        seed,
        rng: ChaCha8Rng::seed_from_u64(seed.wrapping_add(0x5eed)),
        framework,
        lessons,
        existing,
        propensities: BTreeMap::new(),
        start,
        last: (today - 86_400).max(start + 86_400),
    };
    let mut summary = Summary::default();
    let mut after = 0_i64;
    loop {
        let rows: Vec<(i64, String, i64, i64, Option<String>)> = on_pool!(store, pool => sqlx::query_as(
            "SELECT id, commune_code, CAST(birth_year AS BIGINT), CAST(target_groups AS BIGINT), full_name FROM person \
             WHERE erased_at IS NULL AND id > $1 ORDER BY id LIMIT $2")
            .bind(after).bind(PEOPLE_PER_ROUND).fetch_all(pool).await?);
        let Some(last) = rows.last() else { break };
        after = last.0;
        let people: Vec<Person> = rows
            .into_iter()
            .map(|(id, commune, birth_year, groups, name)| Person {
                id,
                commune,
                birth_year,
                groups: TargetGroups::from_bits(groups),
                name: name.unwrap_or_default(),
            })
            .collect();
        let plan = planner.plan(&people);
        summary.learners += plan.learners;
        summary.passed += plan.passes.len();
        write_learning(store, &plan.accounts, &plan.progress, &plan.learned, &plan.sittings, &planner.framework)
            .await?;
        write_level_bank(store, &plan.level_bank).await?;
        summary.confirmed += write_certificates(
            config,
            store,
            &planner.framework,
            &signer,
            &plan.sittings,
            &plan.passes,
            today,
            &mut planner.rng,
        )
        .await?;
        tracing::info!(up_to_person = after, learners = summary.learners, "demo movement written");
    }
    crate::tracking::rebuild::all(store).await?;
    store
        .refresh_statistics(&["person", "progress", "sitting", "certificate", "vneid_outbox", "indicator_count"])
        .await?;
    Ok(summary)
}

async fn write_learning(
    store: &Store,
    accounts: &[(String, i64, String, i64)],
    progress: &[(String, String, i64, i64, i64)],
    learned: &[(i64, i64)],
    sittings: &[Sitting],
    framework: &Framework,
) -> anyhow::Result<()> {
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        // No identity level: a VNeID login would have recorded the person's VNeID level as a fact.
        for chunk in accounts.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO account (id, person_id, home_commune, identity_level, self_registered, created_at) ");
            q.push_values(chunk, |mut row, (id, person, commune, at)| {
                row.push_bind(id).push_bind(*person).push_bind(commune).push_bind(None::<i64>).push_bind(false).push_bind(*at);
            });
            q.build().execute(&mut *tx).await?;
        }
        for chunk in progress.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO progress (account_id, lesson_slug, version, position, seconds, score, started_at, \
                 completed_at, updated_at) ");
            q.push_values(chunk, |mut row, (account, slug, version, at, seconds)| {
                row.push_bind(account).push_bind(slug).push_bind(*version).push_bind(0_i64).push_bind(*seconds)
                    .push_bind(100_i64).push_bind(*at - *seconds).push_bind(*at).push_bind(*at);
            });
            q.build().execute(&mut *tx).await?;
        }
        for (person, at) in learned {
            sqlx::query("UPDATE person SET learned_at = $1 WHERE id = $2").bind(*at).bind(*person).execute(&mut *tx).await?;
        }
        for chunk in sittings.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO sitting (id, account_id, target_group, framework_version, started_at, deadline, paper, \
                 submitted_at, score, total, passed, result, attempt_day, attempt_no) ");
            q.push_values(chunk, |mut row, s| {
                let submitted = s.started_at + 900 + i64::from(s.grade.total) * 20;
                row.push_bind(&s.id).push_bind(&s.account_id).push_bind(&s.target_group)
                    .push_bind(&framework.version).push_bind(s.started_at).push_bind(s.started_at + 2_700)
                    .push_bind("[]").push_bind(submitted).push_bind(i64::from(s.grade.right))
                    .push_bind(i64::from(s.grade.total)).push_bind(s.grade.passed)
                    .push_bind(serde_json::to_string(&s.grade).expect("a grade serialises"))
                    .push_bind(crate::domain::time::day_start(s.started_at)).push_bind(s.attempt);
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

type LevelBank = (i64, Option<(i64, &'static str, i64)>, Option<(&'static str, i64)>);

async fn write_level_bank(store: &Store, rows: &[LevelBank]) -> anyhow::Result<()> {
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        for (person, level, bank) in rows {
            if let Some((level, source, at)) = level {
                sqlx::query("UPDATE person SET vneid_level = $1, vneid_level_source = $2, vneid_level_at = $3 WHERE id = $4")
                    .bind(*level).bind(*source).bind(*at).bind(*person).execute(&mut *tx).await?;
            }
            if let Some((source, at)) = bank {
                sqlx::query("UPDATE person SET bank_account = 1, bank_source = $1, bank_at = $2 WHERE id = $3")
                    .bind(*source).bind(*at).bind(*person).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Certificates of the passed sittings, signed and stored by the certificates module; adults'
/// confirmations delivered to VNeID a few hours to days later (those not yet due stay pending).
#[allow(clippy::too_many_arguments)]
async fn write_certificates(
    config: &Config,
    store: &Store,
    framework: &Framework,
    signer: &(String, Arc<SigningKey>),
    sittings: &[Sitting],
    passes: &[(usize, i64, String, i64)],
    today: i64,
    rng: &mut ChaCha8Rng,
) -> anyhow::Result<usize> {
    let public_url = &config.public_url;
    let certs: Vec<(NewCertificate, Option<i64>, bool)> = passes
        .iter()
        .map(|(s, person, name, birth_year)| {
            let sitting = &sittings[*s];
            let min_level = framework.profile(&sitting.target_group).map_or(1, |p| p.min_level);
            let issued_at = sitting.started_at + 900 + i64::from(sitting.grade.total) * 20;
            let id = uuid::Uuid::new_v4().to_string();
            let name_of = |code: &str| framework.competence(code).map(|c| c.name_vi.clone()).unwrap_or_default();
            let claim = Claim {
                id: &id,
                holder_name: name,
                target_group: &sitting.target_group,
                profile_label: target_group_label(&sitting.target_group),
                level: min_level,
                grade: &sitting.grade,
                competence_name: &name_of,
                framework_version: &framework.version,
                issued_at,
            };
            let document = credential::build(public_url, &claim);
            let adult = crate::certificates::issue::year_of(issued_at) - birth_year >= 18;
            let cert = NewCertificate {
                id,
                sitting_id: sitting.id.clone(),
                account_id: sitting.account_id.clone(),
                target_group: sitting.target_group.clone(),
                holder_name: name.clone(),
                level: i64::from(min_level),
                share: i64::from(sitting.grade.percent()),
                issued_at,
                kid: signer.0.clone(),
                document,
                public_url: public_url.clone(),
                key: signer.1.clone(),
            };
            (cert, Some(*person), adult)
        })
        .collect();
    // Delivered a few hours to three days after issue; not yet when that is after today.
    let mut delivered: Vec<(String, i64, i64)> = Vec::new();
    for (cert, person, confirm) in &certs {
        let at = cert.issued_at + rng.random_range(3_600..3 * 86_400);
        if *confirm && at < today {
            delivered.push((cert.id.clone(), person.unwrap_or_default(), at));
        }
    }
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        for chunk in certs.chunks(CHUNK) {
            let refs: Vec<(&NewCertificate, Option<i64>, bool)> = chunk.iter().map(|(c, p, f)| (c, *p, *f)).collect();
            crate::store_certificates_in_tx!(tx, &refs);
        }
        for (cert, person, at) in &delivered {
            sqlx::query("UPDATE vneid_outbox SET state = 'delivered', attempts = 1, delivered_at = $1, \
                         reference = $2 WHERE certificate_id = $3")
                .bind(*at).bind(format!("DEMO-{}", &cert[..8])).bind(cert).execute(&mut *tx).await?;
            sqlx::query("UPDATE person SET vneid_confirmed_at = $1 WHERE id = $2 AND vneid_confirmed_at IS NULL")
                .bind(*at).bind(*person).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(delivered.len())
}
