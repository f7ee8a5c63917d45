use std::time::Instant;

use anyhow::bail;

use crate::config::{Config, DataKey, KeySource};
use crate::crypto::CitizenCipher;
use crate::on_pool;
use crate::registry::generate;
use crate::registry::import::progress::Progress;
use crate::registry::import::source::Table;
use crate::registry::import::{self, Options};
use crate::store::Store;
use crate::store::units::count_people;

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub people: u64,
    pub seed: u64,
    pub reset: bool,
    pub serve: bool,
    /// The curriculum folder to import (skipped when it does not exist).
    pub content: std::path::PathBuf,
}

/// Prepares a database with the real tree and a synthetic population, then serves it.
pub async fn run(mut config: Config, options: DemoOptions) -> anyhow::Result<()> {
    if config.data_key.is_none()
        && let KeySource::Missing(path) = &config.key_source
    {
        let key = DataKey::create_file(path)?;
        eprintln!(
            "đã tạo khóa dữ liệu mới tại {} (quyền 0600); giữ tệp này, mất nó là mất số định danh đã mã hóa \
             / created a new data key at {} (mode 0600); keep it: without it the encrypted citizen numbers are lost",
            path.display(),
            path.display()
        );
        config.key_source = KeySource::File(path.clone());
        config.data_key = Some(key);
    }
    let key = config.require_data_key()?;
    let store = super::open_store(&config).await?;
    let existing = count_people(&store).await?;
    if existing > 0 {
        if !options.reset {
            bail!(
                "cơ sở dữ liệu {} đã có {existing} người; dùng --reset để xóa và tạo lại \
                 / the database already holds {existing} people; use --reset to wipe and recreate it",
                config.database_url
            );
        }
        eprintln!("xóa dữ liệu cũ / wiping the registry ({existing} people)");
        wipe(&store).await?;
    }
    let started = Instant::now();
    let quiet = Options::default();
    let villages =
        generate::villages(options.seed).into_iter().map(|v| vec![v.commune_code, v.code, v.name, v.kind.to_owned()]);
    let table = Table::from_rows(&generate::UNITS_HEADER, &import::units::COLUMNS, villages)?;
    ensure_clean(import::units::import(&store, table, &quiet).await?)?;
    let orgs = generate::organisations(options.seed)
        .into_iter()
        .map(|o| vec![o.code, o.name, o.kind.to_owned(), o.commune_code]);
    let table = Table::from_rows(&generate::ORGANISATIONS_HEADER, &import::organisations::COLUMNS, orgs)?;
    ensure_clean(import::organisations::import(&store, table, &quiet).await?)?;
    let people = generate::People::new(options.people, options.seed).map(Vec::from);
    let table = Table::from_rows(&generate::PEOPLE_HEADER, &import::people::COLUMNS, people)?;
    let outcome =
        import::people(store, &config.database_url, CitizenCipher::new(&key), table, &quiet, Progress::for_stderr())
            .await?;
    ensure_clean(outcome)?;
    let store = super::open_store(&config).await?;
    eprintln!(
        "đã tạo {} người ở 148 xã, phường trong {:.1} giây / created {} people in {:.1} s",
        options.people,
        started.elapsed().as_secs_f64(),
        options.people,
        started.elapsed().as_secs_f64()
    );
    demo_content(&config, &store, &options.content).await?;
    let (commune, accounts) = super::user::demo_accounts(&store).await?;
    let started = Instant::now();
    let moved = super::demo_movement::run(&config, &store, options.seed, crate::domain::time::now()).await?;
    eprintln!(
        "phong trào: {} người đã học, {} người đạt và có chứng nhận, {} được xác nhận trên VNeID ({:.1} giây) \
         / movement: {} learned, {} passed and certified, {} confirmed on VNeID ({:.1} s)",
        moved.learners,
        moved.passed,
        moved.confirmed,
        started.elapsed().as_secs_f64(),
        moved.learners,
        moved.passed,
        moved.confirmed,
        started.elapsed().as_secs_f64()
    );
    let community = super::demo_community::run(&store, &commune).await?;
    eprintln!(
        "cộng đồng: {} lượt thăm hộ, {} người học của Đại sứ số, {} lượt hỗ trợ một cửa \
         / community: {} visits, {} mentees, {} one-stop helps",
        community.visits, community.mentees, community.helps, community.visits, community.mentees, community.helps
    );
    let classes = super::demo_classes::run(&store, &commune, options.seed).await?;
    eprintln!(
        "cộng đồng: {} lớp học, {} buổi, {} lượt điểm danh, {} tiểu thương, {} tình nguyện viên \
         / community: {} classes, {} sessions, {} attendances, {} traders, {} volunteers",
        classes.classes,
        classes.sessions,
        classes.attendances,
        classes.traders,
        classes.volunteers,
        classes.classes,
        classes.sessions,
        classes.attendances,
        classes.traders,
        classes.volunteers
    );
    let commune_name = crate::domain::unit::commune(&commune).map_or("", |c| c.name.as_str());
    eprintln!(
        "\ntài khoản thử, mỗi vai trò một tài khoản, ở {commune_name} ({commune}) / demo accounts, one per role, in {commune}:"
    );
    for (role, login, password) in &accounts {
        eprintln!("  {:<16} {:<24} mật khẩu / password: {password}", role.code(), login);
    }
    eprintln!();
    if !options.serve {
        store.close().await;
        return Ok(());
    }
    super::serve::run(config, store).await
}

fn ensure_clean(outcome: import::Outcome) -> anyhow::Result<()> {
    if let Some(first) = outcome.bad.first() {
        bail!(
            "the generator produced a bad row ({} of them), first: row {}, {}: {}",
            outcome.bad.len(),
            first.line,
            first.column,
            first.en
        );
    }
    Ok(())
}

/// Empties the registry and the accounts in one transaction (the built-in tree stays, and so does the
/// audit log, which nothing may delete).
async fn wipe(store: &Store) -> anyhow::Result<()> {
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        for sql in super::demo_classes::WIPE {
            sqlx::query(*sql).execute(&mut *tx).await?;
        }
        for sql in [
            // Community models (issue 22, part A).
            "DELETE FROM team_visit_person",
            "DELETE FROM team_visit",
            "DELETE FROM tech_team_village",
            "DELETE FROM tech_team_member",
            "DELETE FROM tech_team",
            "DELETE FROM mentoring_session",
            "DELETE FROM mentee",
            "DELETE FROM one_stop_help",
            "DELETE FROM one_stop_desk",
            "DELETE FROM vneid_outbox",
            "DELETE FROM answer",
            "DELETE FROM certificate",
            "DELETE FROM sitting",
            "DELETE FROM progress",
            "DELETE FROM news",
            "DELETE FROM session",
            "DELETE FROM consent",
            "DELETE FROM erasure_request",
            "DELETE FROM role_grant",
            "DELETE FROM oidc_login",
            "DELETE FROM account",
            "DELETE FROM indicator_count",
            "DELETE FROM organisation_indicator_count",
            "DELETE FROM indicator_snapshot",
            "DELETE FROM indicator_target",
            "DELETE FROM person_history",
            "DELETE FROM person",
            "DELETE FROM household",
            "DELETE FROM organisation",
            "DELETE FROM unit WHERE level = 'thon'",
            "UPDATE unit SET people_count = 0, household_count = 0",
        ] {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

async fn demo_content(config: &Config, store: &Store, dir: &std::path::Path) -> anyhow::Result<()> {
    if !dir.join("nguoi_dan").is_dir() {
        eprintln!(
            "không thấy thư mục nội dung {} (bỏ qua) / no content folder {} (skipped)",
            dir.display(),
            dir.display()
        );
        return Ok(());
    }
    eprintln!(
        "nhập bài học từ {}; lần đầu đọc giọng nói cho mọi bài mất vài phút / importing lessons from {}; \
         synthesising every lesson's audio takes a few minutes the first time",
        dir.display(),
        dir.display()
    );
    let media = crate::learning::media::Media::open(&config.media_url)?;
    match crate::learning::import::run(store, &media, dir).await? {
        Ok(summary) => eprintln!("đã nhập {} bài học / imported {} lessons", summary.lessons, summary.lessons),
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            bail!("nội dung có lỗi / the content has problems");
        }
    }
    // The assistant's built-in FAQ (issue 23); entries already there stay as the editors left them.
    let framework = crate::learning::framework::current(store).await?;
    let added = crate::assistant::faq::import(
        store,
        &crate::assistant::faq::builtin(&framework)?,
        crate::identity::audit::Actor::CLI,
    )
    .await?;
    eprintln!("đã thêm {added} mục hỏi đáp của trợ lý / added {added} assistant FAQ entries");
    Ok(())
}
