//! Who to visit next, for a commune's officers and teams: adults not yet passed, households where
//! nobody has learned, citizens 16+ without VNeID level 2 or a digital bank account; as pages (keyset
//! paged), XLSX and CSV for the teams; and the plan's structural rules per commune.
//!
//! Every list reads the fact columns of the person row (`migrations/*/0010_tracking.sql`) and filters
//! through [`UnitScope::predicate`]; every read is audited like the people list.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Response};
use serde::Deserialize;

use super::export::{Format, Table, download};
use crate::app::AppState;
use crate::domain::role::Role::{self, *};
use crate::identity::audit::{self, Entry};
use crate::store::Store;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Path, Query};
use crate::web::pages::{Nav, render};
use crate::web::routes::Route;
use crate::web::scope::{Columns, UnitScope};
use crate::{bind_scope, on_pool};

/// A commune's officers, its one-stop staff, its community teams, and the province's administrators.
pub const VISITORS: &[Role] = &[CanBoXa, HoTroMotCua, ToCongNgheSo, DaiSuSo, QuanTriTinh];
const PAGE_ROWS: i64 = 50;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/quan-ly/don-vi/{unit}/can-ho-tro", Access::roles(VISITORS, Scope::Unit("unit")), page),
        Route::get("/quan-ly/don-vi/{unit}/can-ho-tro.csv", Access::roles(VISITORS, Scope::Unit("unit")), export_csv),
        Route::get("/quan-ly/don-vi/{unit}/can-ho-tro.xlsx", Access::roles(VISITORS, Scope::Unit("unit")), export_xlsx),
        Route::get("/quan-ly/don-vi/{unit}/quy-dinh", Access::roles(VISITORS, Scope::Unit("unit")), rules),
    ]
}

/// The three lists.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum List {
    /// Adults (18+ on 31 December) who have passed no assessment.
    NotPassed,
    /// Everyone in a household none of whose members has learned a lesson.
    HouseholdsNoLearner,
    /// Citizens 16+ without VNeID level 2 or without a digital bank account.
    Digital,
}

impl List {
    fn parse(raw: Option<&str>) -> Result<Self, AppError> {
        match raw.unwrap_or("chua_dat") {
            "chua_dat" => Ok(Self::NotPassed),
            "ho_chua_hoc" => Ok(Self::HouseholdsNoLearner),
            "so_hoa" => Ok(Self::Digital),
            _ => Err(AppError::bad_request("unknown_list", "Không có danh sách này. / No such list.")),
        }
    }

    fn code(self) -> &'static str {
        match self {
            Self::NotPassed => "chua_dat",
            Self::HouseholdsNoLearner => "ho_chua_hoc",
            Self::Digital => "so_hoa",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::NotPassed => "Người từ 18 tuổi chưa đạt bài đánh giá",
            Self::HouseholdsNoLearner => "Hộ gia đình chưa có ai học",
            Self::Digital => "Công dân từ 16 tuổi chưa có VNeID mức 2 hoặc tài khoản ngân hàng số",
        }
    }
}

/// Row order, and so the keyset of the next page.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Order {
    /// Oldest first: (birth_year, id).
    Oldest,
    /// By village, oldest first within it: (village_code, birth_year, id).
    VillageOldest,
    /// By village and household: (village_code, household_code, id).
    Household,
}

/// Where the next page starts: the last row's keys.
#[derive(Clone, Debug, Default)]
struct Cursor {
    id: i64,
    birth_year: i64,
    village: String,
    household: String,
}

enum Value {
    Int(i64),
    Text(String),
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    full_name: Option<String>,
    birth_year: i64,
    village_code: String,
    village_name: Option<String>,
    household_code: String,
    phone: Option<String>,
    learned_at: Option<i64>,
    passed_groups: i64,
    certified_groups: i64,
    vneid_confirmed_at: Option<i64>,
    vneid_level: Option<i64>,
    bank_account: Option<i64>,
}

impl Row {
    /// By position, in the order of [`VILLAGE_NAME_JOIN`]: a commune's export maps tens of thousands of rows,
    /// and a lookup by name scans the column names for every field of every row.
    fn from_direct(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            full_name: r.get(1)?,
            birth_year: r.get(2)?,
            village_code: r.get(3)?,
            village_name: r.get(4)?,
            household_code: r.get(5)?,
            phone: r.get(6)?,
            learned_at: r.get(7)?,
            passed_groups: r.get(8)?,
            certified_groups: r.get(9)?,
            vneid_confirmed_at: r.get(10)?,
            vneid_level: r.get(11)?,
            bank_account: r.get(12)?,
        })
    }
}

/// The columns of every list and the table they come from; the village's name is each backend's
/// own way to it, [`VILLAGE_NAME_JOIN`] or [`VILLAGE_NAME_LOOKUP`].
macro_rules! columns {
    ($village_name:expr, $from:expr) => {
        concat!(
            "SELECT p.id, p.full_name, CAST(p.birth_year AS BIGINT) AS birth_year, p.village_code, ",
            $village_name,
            " AS village_name, p.household_code, p.phone, p.learned_at, ",
            "CAST(p.passed_groups AS BIGINT) AS passed_groups, CAST(p.certified_groups AS BIGINT) AS certified_groups, ",
            "p.vneid_confirmed_at, CAST(p.vneid_level AS BIGINT) AS vneid_level, ",
            "CAST(p.bank_account AS BIGINT) AS bank_account FROM ",
            $from
        )
    };
}

/// SQLite: a join, which it runs as a lookup by `unit`'s key per row. As a scalar subquery each
/// row paid for a subquery's call: a commune's CSV of 24,760 rows went from 104 to 155 ms.
const VILLAGE_NAME_JOIN: &str = columns!("u.name", "person p LEFT JOIN unit u ON u.code = p.village_code ");

/// PostgreSQL: a lookup run on the rows kept, after the sort and the limit. It estimated the households
/// list's anti-join at one row, and for "one row" it joined `unit` by reading the whole table for
/// each of the thousands of rows there were (1.5 s at 2,000,000 people; 86 ms with the lookup).
/// BENCHMARKS.md, "The commune's three lists".
const VILLAGE_NAME_LOOKUP: &str = columns!("(SELECT u.name FROM unit u WHERE u.code = p.village_code)", "person p ");

/// One page (or, with `limit` unbounded, all) of a list, in `scope`.
async fn fetch(
    state: &AppState,
    scope: &UnitScope,
    list: List,
    order: Order,
    year: i32,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<Row>, AppError> {
    let mut binds: Vec<Value> = Vec::new();
    let next = |value: Value, binds: &mut Vec<Value>| -> String {
        binds.push(value);
        format!("${}", binds.len())
    };
    // Erased people are out of every list: there is nobody left to visit.
    let mut terms: Vec<String> = vec!["p.erased_at IS NULL".into()];
    match list {
        List::NotPassed => {
            // 18 or more on 31 December of `year`: born in `year - 18` or before.
            terms.push(format!("p.birth_year <= {}", next(Value::Int(i64::from(year) - 18), &mut binds)));
            terms.push("p.passed_groups = 0".into());
        }
        List::HouseholdsNoLearner => terms.push(
            "NOT EXISTS (SELECT 1 FROM person m WHERE m.village_code = p.village_code \
             AND m.household_code = p.household_code AND m.commune_code = p.commune_code AND m.learned_at IS NOT NULL)"
                .into(),
        ),
        List::Digital => {
            terms.push(format!("p.birth_year <= {}", next(Value::Int(i64::from(year) - 16), &mut binds)));
            terms.push(
                "(p.vneid_level IS NULL OR p.vneid_level < 2 OR p.bank_account IS NULL OR p.bank_account = 0)".into(),
            );
        }
    }
    let (keys, order_by) = match order {
        Order::Oldest => ("(p.birth_year, p.id)", "p.birth_year, p.id"),
        Order::VillageOldest => ("(p.village_code, p.birth_year, p.id)", "p.village_code, p.birth_year, p.id"),
        Order::Household => ("(p.village_code, p.household_code, p.id)", "p.village_code, p.household_code, p.id"),
    };
    if let Some(c) = after {
        let values = match order {
            Order::Oldest => vec![next(Value::Int(c.birth_year), &mut binds), next(Value::Int(c.id), &mut binds)],
            Order::VillageOldest => vec![
                next(Value::Text(c.village.clone()), &mut binds),
                next(Value::Int(c.birth_year), &mut binds),
                next(Value::Int(c.id), &mut binds),
            ],
            Order::Household => vec![
                next(Value::Text(c.village.clone()), &mut binds),
                next(Value::Text(c.household.clone()), &mut binds),
                next(Value::Int(c.id), &mut binds),
            ],
        };
        terms.push(format!("{keys} > ({})", values.join(", ")));
    }
    let limit_at = next(Value::Int(limit), &mut binds);
    let within = scope.predicate(
        Columns { village: Some("p.village_code"), organisation: Some("p.organisation_code"), ..Columns::default() },
        binds.len() + 1,
    );
    terms.push(within.sql.clone());
    let columns = match &state.store {
        Store::Sqlite(_) => VILLAGE_NAME_JOIN,
        Store::Postgres(_) => VILLAGE_NAME_LOOKUP,
    };
    let sql = format!("{columns}WHERE {} ORDER BY {order_by} LIMIT {limit_at}", terms.join(" AND "));
    let rows = match &state.store {
        Store::Sqlite(sqlite) => {
            // A commune's export is tens of thousands of rows: read where SQLite is, on a blocking
            // thread, rather than each row handed over from sqlx's worker (BENCHMARKS.md, "export").
            let direct = sqlite.direct.clone();
            let values: Vec<rusqlite::types::Value> = binds
                .into_iter()
                .map(|v| match v {
                    Value::Int(i) => rusqlite::types::Value::Integer(i),
                    Value::Text(s) => rusqlite::types::Value::Text(s),
                })
                .chain(within.binds.into_iter().map(rusqlite::types::Value::Text))
                .collect();
            tokio::task::spawn_blocking(move || direct.all_numbered(&sql, &values, Row::from_direct))
                .await
                .map_err(|e| AppError::Internal(e.into()))??
        }
        Store::Postgres(pool) => {
            let mut query = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql));
            for value in &binds {
                query = match value {
                    Value::Int(i) => query.bind(*i),
                    Value::Text(s) => query.bind(s.clone()),
                };
            }
            bind_scope!(query, within).fetch_all(pool).await?
        }
    };
    Ok(rows)
}

fn what_is_missing(list: List, r: &Row) -> String {
    match list {
        List::NotPassed => "Chưa đạt bài đánh giá".into(),
        List::HouseholdsNoLearner => "Hộ chưa có ai học".into(),
        List::Digital => {
            let mut missing = Vec::new();
            if r.vneid_level.is_none_or(|l| l < 2) {
                missing.push("VNeID mức 2");
            }
            if r.bank_account != Some(1) {
                missing.push("tài khoản ngân hàng số");
            }
            format!("Chưa có {}", missing.join(", "))
        }
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    danh_sach: Option<String>,
    theo: Option<String>,
    nam: Option<i32>,
    sau: Option<i64>,
    sau_nam: Option<i64>,
    sau_thon: Option<String>,
    sau_ho: Option<String>,
}

impl ListQuery {
    fn list(&self) -> Result<List, AppError> {
        List::parse(self.danh_sach.as_deref())
    }

    fn order(&self, list: List) -> Order {
        match (list, self.theo.as_deref()) {
            (List::HouseholdsNoLearner, _) => Order::Household,
            (List::NotPassed, Some("thon")) => Order::VillageOldest,
            (List::NotPassed, _) => Order::Oldest,
            (List::Digital, _) => Order::VillageOldest,
        }
    }

    /// The year whose 31 December ages are taken: the one asked for within the plan's years, else this year.
    fn year(&self) -> i32 {
        use chrono::Datelike;
        self.nam.filter(|y| (2020..=2100).contains(y)).unwrap_or_else(|| crate::domain::time::today().year())
    }

    fn cursor(&self) -> Option<Cursor> {
        self.sau.map(|id| Cursor {
            id,
            birth_year: self.sau_nam.unwrap_or(0),
            village: self.sau_thon.clone().unwrap_or_default(),
            household: self.sau_ho.clone().unwrap_or_default(),
        })
    }
}

/// One person's learning status as short words, from the person row's facts.
pub struct Status {
    pub learned: bool,
    pub passed: bool,
    pub certified: bool,
    pub confirmed: bool,
}

impl Status {
    pub fn of(learned_at: Option<i64>, passed_groups: i64, certified_groups: i64, confirmed_at: Option<i64>) -> Self {
        Self {
            learned: learned_at.is_some(),
            passed: passed_groups != 0,
            certified: certified_groups != 0,
            confirmed: confirmed_at.is_some(),
        }
    }

    pub fn learned_vi(&self) -> &'static str {
        if self.learned { "Đã học" } else { "Chưa học" }
    }

    pub fn yes_no(value: bool) -> &'static str {
        if value { "Có" } else { "Chưa" }
    }
}

struct Line {
    id: i64,
    name: String,
    birth_year: i64,
    village: String,
    household: String,
    status: Status,
    missing: String,
    heading: Option<String>,
}

#[derive(Template)]
#[template(path = "tracking/visit.html")]
struct VisitPage {
    nav: Nav,
    unit: String,
    unit_name: String,
    list: &'static str,
    title: &'static str,
    by_village: bool,
    year: i32,
    lines: Vec<Line>,
    next: Option<String>,
    /// Whether the viewer may open a person's record (the teams see the list, not the record).
    link_records: bool,
}

impl VisitPage {
    fn yes_no(&self, value: &bool) -> &'static str {
        Status::yes_no(*value)
    }
}

#[derive(Template)]
#[template(path = "tracking/visit_choose.html")]
struct ChooseCommune {
    nav: Nav,
    unit_name: String,
    list: &'static str,
    year: i32,
    communes: Vec<(String, String)>,
}

async fn unit_name(state: &AppState, code: &str) -> Result<String, AppError> {
    crate::store::units::get(&state.store, code).await?.map(|u| u.name).ok_or_else(AppError::hidden)
}

async fn record(
    state: &AppState,
    ctx: &Ctx,
    staff: &Staff,
    action: &'static str,
    unit: &str,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    audit::record(
        &state.store,
        Entry {
            account_id: Some(staff.user.id()),
            action,
            unit_code: Some(unit),
            detail: Some(detail),
            address: ctx.address(),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Html<String>, PageError> {
    let unit_name = unit_name(&state, &unit).await?;
    let list = query.list()?;
    let order = query.order(list);
    let year = query.year();
    // The province's millions would be sorted for every page: the lists are a commune's (or a village's).
    if unit == crate::domain::unit::PROVINCE_CODE {
        let communes = crate::store::units::children(&state.store, &unit)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .map(|u| (u.code, u.name))
            .collect();
        return Ok(Html(render(&ChooseCommune { nav: ctx.nav(), unit_name, list: list.code(), year, communes })?));
    }
    let cursor = query.cursor();
    let mut rows = fetch(&state, &staff.scope, list, order, year, cursor.as_ref(), PAGE_ROWS + 1).await?;
    let more = rows.len() as i64 > PAGE_ROWS;
    rows.truncate(PAGE_ROWS as usize);
    record(
        &state,
        &ctx,
        &staff,
        "person.list",
        &unit,
        serde_json::json!({"list": list.code(), "after": query.sau, "rows": rows.len()}),
    )
    .await?;
    let next = more.then(|| rows.last()).flatten().map(|last| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("danh_sach", list.code()).append_pair("nam", &year.to_string());
        if order == Order::VillageOldest && list == List::NotPassed {
            q.append_pair("theo", "thon");
        }
        q.append_pair("sau", &last.id.to_string())
            .append_pair("sau_nam", &last.birth_year.to_string())
            .append_pair("sau_thon", &last.village_code)
            .append_pair("sau_ho", &last.household_code);
        format!("/quan-ly/don-vi/{unit}/can-ho-tro?{}", q.finish())
    });
    // A heading row where a village (or, for households, a household) begins, when the list is grouped.
    let group_of = |r: &Row| -> Option<String> {
        let village = r.village_name.clone().unwrap_or_else(|| r.village_code.clone());
        match order {
            Order::Oldest => None,
            Order::VillageOldest => Some(village),
            Order::Household => Some(format!("{village} — hộ {}", r.household_code)),
        }
    };
    let mut previous: Option<String> = None;
    let lines = rows
        .iter()
        .map(|r| {
            let group = group_of(r);
            let heading = if group != previous { group.clone() } else { None };
            previous = group;
            Line {
                id: r.id,
                name: r.full_name.clone().unwrap_or_default(),
                birth_year: r.birth_year,
                village: r.village_name.clone().unwrap_or_else(|| r.village_code.clone()),
                household: r.household_code.clone(),
                status: Status::of(r.learned_at, r.passed_groups, r.certified_groups, r.vneid_confirmed_at),
                missing: what_is_missing(list, r),
                heading,
            }
        })
        .collect();
    let link_records = staff.user.scope(crate::registry::people::READERS).covers_unit(&unit);
    let page = VisitPage {
        nav: ctx.nav(),
        link_records,
        unit,
        unit_name,
        list: list.code(),
        title: list.title(),
        by_village: order == Order::VillageOldest && list == List::NotPassed,
        year,
        lines,
        next,
    };
    Ok(Html(render(&page)?))
}

const EXPORT_HEADER: [&str; 6] = ["Họ tên", "Năm sinh", "Thôn", "Hộ", "Điện thoại", "Còn thiếu"];

/// All rows of a list as a download: a commune at most (the province's millions would not fit in
/// one response), without citizen numbers.
async fn export(
    state: &AppState,
    ctx: &Ctx,
    staff: &Staff,
    unit: &str,
    query: &ListQuery,
    format: Format,
) -> Result<Response, AppError> {
    unit_name(state, unit).await?;
    if unit == crate::domain::unit::PROVINCE_CODE {
        return Err(AppError::bad_request(
            "export_per_commune",
            "Xin xuất danh sách theo từng xã, phường. / Export one commune at a time.",
        ));
    }
    let list = query.list()?;
    let rows = fetch(state, &staff.scope, list, query.order(list), query.year(), None, i64::MAX).await?;
    record(
        state,
        ctx,
        staff,
        "person.export",
        unit,
        serde_json::json!({"list": list.code(), "rows": rows.len(), "format": format.code()}),
    )
    .await?;
    let rows = rows
        .iter()
        .map(|r| {
            vec![
                r.full_name.clone().unwrap_or_default(),
                r.birth_year.to_string(),
                r.village_name.clone().unwrap_or_else(|| r.village_code.clone()),
                r.household_code.clone(),
                r.phone.clone().unwrap_or_default(),
                what_is_missing(list, r),
            ]
        })
        .collect();
    let table = Table { header: &EXPORT_HEADER, rows, numbers: &[1] };
    download(format, &format!("can-ho-tro-{}-{unit}", list.code()), table).await
}

/// The list as CSV.
pub async fn export_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    Ok(export(&state, &ctx, &staff, &unit, &query, Format::Csv).await?)
}

/// The list as an XLSX workbook.
pub async fn export_xlsx(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    Ok(export(&state, &ctx, &staff, &unit, &query, Format::Xlsx).await?)
}

struct RuleLine {
    name: String,
    seed_ref: String,
    /// "Đạt", "Chưa đạt" or "Chưa có dữ liệu".
    status: &'static str,
    detail: String,
}

#[derive(Template)]
#[template(path = "tracking/rules.html")]
struct RulesPage {
    nav: Nav,
    unit: String,
    unit_name: String,
    rules: Vec<RuleLine>,
}

const NO_DATA: &str = "Chưa có dữ liệu";

/// Accounts holding the one-stop support role over the commune or one of its villages.
async fn one_stop_staff(store: &Store, commune: &str) -> Result<i64, AppError> {
    let within = UnitScope::unit(commune).predicate(Columns { unit: Some("g.unit_code"), ..Columns::default() }, 1);
    let sql = format!(
        "SELECT COUNT(DISTINCT g.account_id) FROM role_grant g WHERE g.role = 'ho_tro_mot_cua' AND {}",
        within.sql
    );
    let count: i64 = on_pool!(store, pool =>
        bind_scope!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)), within).fetch_one(pool).await)?;
    Ok(count)
}

/// For the province: how many of its communes have one-stop support staff, of how many.
async fn communes_with_one_stop_staff(store: &Store) -> Result<(i64, i64), AppError> {
    const SQL: &str = "SELECT COUNT(DISTINCT substr(unit_code, 1, 5)) FROM role_grant \
         WHERE role = 'ho_tro_mot_cua' AND unit_code <> $1";
    let with: i64 = on_pool!(store, pool =>
        sqlx::query_scalar::<_, i64>(SQL).bind(crate::domain::unit::PROVINCE_CODE).fetch_one(pool).await)?;
    let all = crate::store::units::communes(store).await?.len() as i64;
    Ok((with, all))
}

async fn one_stop_line(store: &Store, unit: &str, min: i64) -> Result<(&'static str, String), AppError> {
    let verdict = |ok: bool| if ok { "Đạt" } else { "Chưa đạt" };
    match crate::domain::role::commune_of(unit) {
        Some(commune) if unit != crate::domain::unit::PROVINCE_CODE => {
            let count = one_stop_staff(store, commune).await?;
            Ok((verdict(count >= min), format!("{count} tài khoản hỗ trợ một cửa của xã (cần ít nhất {min})")))
        }
        _ => {
            let (with, all) = communes_with_one_stop_staff(store).await?;
            Ok((verdict(all > 0 && with >= all), format!("{with}/{all} xã, phường có nhân sự hỗ trợ một cửa")))
        }
    }
}

/// Mentors of the unit with fewer than `min` mentees (from the community models' query), named.
async fn mentor_line(store: &Store, unit: &str, min: i64) -> Result<(&'static str, String), AppError> {
    let (below, total) = crate::community::ambassadors::below_minimum(store, &UnitScope::unit(unit), min).await?;
    if total == 0 {
        return Ok((NO_DATA, "Chưa có Đại sứ số nào".into()));
    }
    if below.is_empty() {
        return Ok(("Đạt", format!("{total} Đại sứ số, ai cũng hướng dẫn từ {min} người học trở lên")));
    }
    let names: Vec<String> = below.iter().map(|m| format!("{} ({} người học)", m.name, m.mentees)).collect();
    Ok(("Chưa đạt", format!("{}/{total} Đại sứ số hướng dẫn dưới {min} người học: {}", below.len(), names.join(", "))))
}

/// One structural rule of the plan for one unit, as pages and reports show it.
pub struct RuleStatus {
    pub name: String,
    pub seed_ref: String,
    /// "Đạt", "Chưa đạt" or "Chưa có dữ liệu".
    pub status: &'static str,
    pub detail: String,
}

/// The plan's structural rules (the community models) for the province or one commune. A rule with
/// nothing recorded says so ("Chưa có dữ liệu") rather than show a compliance it cannot know. Reports read it too.
pub async fn rule_statuses(store: &Store, unit: &str) -> Result<Vec<RuleStatus>, AppError> {
    let mut lines = Vec::new();
    for rule in &crate::domain::indicators::targets().rules {
        let (status, detail) = if rule.code == "ho_tro_mot_cua" {
            let min = rule.parameters.get("min_per_commune").and_then(toml::Value::as_integer).unwrap_or(1);
            one_stop_line(store, unit, min).await?
        } else if rule.code == "dai_su_so_mentee" {
            let min = rule.parameters.get("min_per_mentor").and_then(toml::Value::as_integer).unwrap_or(5);
            mentor_line(store, unit, min).await?
        } else if rule.code == "hoc_cong_dong_hang_tuan" {
            // Issue 22 (part B): the weekly classes and the 10/10 day, from their records.
            let min =
                rule.parameters.get("min_sessions_per_week_per_commune").and_then(toml::Value::as_integer).unwrap_or(1);
            crate::community::classes_rules::weekly_class_line(store, unit, min)
                .await?
                .unwrap_or((NO_DATA, String::new()))
        } else if rule.code == "ngay_hoi_10_10" {
            crate::community::classes_rules::october_day_line(store, unit).await?.unwrap_or((NO_DATA, String::new()))
        } else {
            (NO_DATA, String::new())
        };
        lines.push(RuleStatus { name: rule.name_vi.clone(), seed_ref: rule.seed_ref.clone(), status, detail });
    }
    Ok(lines)
}

/// The plan's structural rules for one commune.
pub async fn rules(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(unit): Path<String>,
) -> Result<Html<String>, PageError> {
    let unit_name = unit_name(&state, &unit).await?;
    let rules = rule_statuses(&state.store, &unit)
        .await?
        .into_iter()
        .map(|r| RuleLine { name: r.name, seed_ref: r.seed_ref, status: r.status, detail: r.detail })
        .collect();
    Ok(Html(render(&RulesPage { nav: ctx.nav(), unit, unit_name, rules })?))
}
