//! Staff pages over people: a unit's list and search, one person's record, a change, an export.
//! Every one of them is written to the audit log; scope is enforced by the route table.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::audit_write;
use crate::domain::person::{TargetGroups, parse_phone};
use crate::domain::role::Role::{self, *};
use crate::identity::audit::{self, Entry};
use crate::registry::import::report::neutralise_formula;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path, Query};
use crate::web::pages::{Nav, render};
use crate::web::routes::Route;
use crate::web::scope::{Columns, UnitScope};
use crate::{bind_scope, on_pool};

/// Who reads a unit's people: its commune officers and one-stop staff, and the province's administrators.
pub const READERS: &[Role] = &[CanBoXa, HoTroMotCua, QuanTriTinh];
/// Agency officers also read the record of their agency's people.
const RECORD_READERS: &[Role] = &[CanBoXa, HoTroMotCua, QuanTriTinh, CanBoNganh];
const EXPORTERS: &[Role] = &[CanBoXa, QuanTriTinh];
const PAGE_ROWS: i64 = 50;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/quan-ly/don-vi/{unit}/nguoi", Access::roles(READERS, Scope::Unit("unit")), list),
        Route::get("/quan-ly/don-vi/{unit}/nguoi.csv", Access::roles(EXPORTERS, Scope::Unit("unit")), export),
        Route::get("/quan-ly/nguoi/{person}", Access::roles(RECORD_READERS, Scope::Person("person")), show),
        Route::post("/quan-ly/nguoi/{person}", Access::roles(READERS, Scope::Person("person")), update),
    ]
}

#[derive(sqlx::FromRow)]
struct ListRow {
    id: i64,
    full_name: Option<String>,
    birth_year: i64,
    sex: String,
    village_code: String,
    household_code: String,
    target_groups: i64,
    phone: Option<String>,
    learned_at: Option<i64>,
    passed_groups: i64,
    certified_groups: i64,
    vneid_confirmed_at: Option<i64>,
}

/// The learning status comes from the person row's fact columns: no extra query per row.
const LIST_COLUMNS: &str = "SELECT id, full_name, CAST(birth_year AS BIGINT) AS birth_year, sex, village_code, \
     household_code, CAST(target_groups AS BIGINT) AS target_groups, phone, learned_at, \
     CAST(passed_groups AS BIGINT) AS passed_groups, CAST(certified_groups AS BIGINT) AS certified_groups, \
     vneid_confirmed_at FROM person ";

/// The people in `scope` whose name contains `q` (without regard to case or diacritics, the same on
/// both backends: "nguyen van" finds "Nguyễn Văn"), from id `after` on. People are found through their
/// village (`person_village` index), so a commune's list reads that commune's rows only.
async fn people_of(
    state: &AppState,
    scope: &UnitScope,
    q: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<ListRow>, AppError> {
    let within = scope.predicate(
        // A commune grant by the person's commune (their household's, the village's parent), so that
        // `person_commune_id` gives the commune's people in id order (migration 0019).
        Columns {
            village: Some("village_code"),
            commune: Some("commune_code"),
            organisation: Some("organisation_code"),
            ..Columns::default()
        },
        4,
    );
    let sql = format!(
        "{LIST_COLUMNS}WHERE {} AND ($1 = '' OR name_folded LIKE '%' || $1 || '%' ESCAPE '\\') \
         AND id > $2 ORDER BY id LIMIT $3",
        within.sql
    );
    let pattern = crate::domain::text::like_contains(q);
    let rows = on_pool!(&state.store, pool => bind_scope!(sqlx::query_as::<_, ListRow>(sqlx::AssertSqlSafe(sql))
        .bind(pattern).bind(after).bind(limit), within).fetch_all(pool).await)?;
    Ok(rows)
}

async fn unit_name(state: &AppState, code: &str) -> Result<String, AppError> {
    crate::store::units::get(&state.store, code).await?.map(|u| u.name).ok_or_else(AppError::hidden)
}

fn groups_text(bits: i64) -> String {
    TargetGroups::from_bits(bits).iter().map(|g| g.label_vi()).collect::<Vec<_>>().join(", ")
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    sau: Option<i64>,
}

struct Line {
    id: i64,
    name: String,
    birth_year: i64,
    sex: &'static str,
    village: String,
    household: String,
    groups: String,
    status: crate::tracking::visit::Status,
}

#[derive(Template)]
#[template(path = "registry/people.html")]
struct PeoplePage {
    nav: Nav,
    unit: String,
    unit_name: String,
    q: String,
    lines: Vec<Line>,
    /// The next page's address, its query encoded (a name may hold `&`, `#` or spaces).
    next: Option<String>,
    can_export: bool,
    can_visit: bool,
}

impl PeoplePage {
    fn yes_no(&self, value: &bool) -> &'static str {
        crate::tracking::visit::Status::yes_no(*value)
    }
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Html<String>, PageError> {
    let user = &staff.user;
    let unit_name = unit_name(&state, &unit).await?;
    let q = crate::domain::text::clean(query.q.as_deref().unwrap_or_default());
    let mut rows = people_of(&state, &staff.scope, &q, query.sau.unwrap_or(0), PAGE_ROWS + 1).await?;
    let next_after = (rows.len() as i64 > PAGE_ROWS).then(|| rows[PAGE_ROWS as usize - 1].id);
    rows.truncate(PAGE_ROWS as usize);
    audit::record(
        &state.store,
        Entry {
            account_id: Some(user.id()),
            action: "person.list",
            unit_code: Some(&unit),
            detail: Some(serde_json::json!({"name_contains": !q.is_empty(), "after": query.sau, "rows": rows.len()})),
            address: ctx.address(),
            ..Default::default()
        },
    )
    .await?;
    let lines = rows
        .into_iter()
        .map(|r| Line {
            id: r.id,
            name: r.full_name.unwrap_or_else(|| "(đã xóa theo yêu cầu)".into()),
            birth_year: r.birth_year,
            sex: if r.sex == "nam" { "Nam" } else { "Nữ" },
            village: r.village_code,
            household: r.household_code,
            groups: groups_text(r.target_groups),
            status: crate::tracking::visit::Status::of(
                r.learned_at,
                r.passed_groups,
                r.certified_groups,
                r.vneid_confirmed_at,
            ),
        })
        .collect();
    let can_visit = user.scope(crate::tracking::visit::VISITORS).covers_unit(&unit);
    let can_export = user.scope(EXPORTERS).covers_unit(&unit);
    let next = next_after.map(|after| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &q)
            .append_pair("sau", &after.to_string())
            .finish();
        format!("/quan-ly/don-vi/{unit}/nguoi?{query}")
    });
    Ok(Html(render(&PeoplePage { nav: ctx.nav(), unit, unit_name, q, lines, next, can_export, can_visit })?))
}

/// The unit's people as CSV for a spreadsheet, without citizen numbers.
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
) -> Result<Response, PageError> {
    let user = &staff.user;
    unit_name(&state, &unit).await?;
    // A commune holds tens of thousands of people; the province's millions would not fit in one response.
    if unit == crate::domain::unit::PROVINCE_CODE {
        return Err(AppError::bad_request(
            "export_per_commune",
            "Xin xuất danh sách theo từng xã, phường. / Export one commune at a time.",
        )
        .into());
    }
    let rows = people_of(&state, &staff.scope, "", 0, i64::MAX).await?;
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let mut write = || -> csv::Result<()> {
        out.write_record(["ma_nguoi", "ho_ten", "nam_sinh", "gioi_tinh", "thon", "ma_ho", "doi_tuong", "dien_thoai"])?;
        for r in &rows {
            out.write_record([
                r.id.to_string(),
                neutralise_formula(r.full_name.as_deref().unwrap_or_default()),
                r.birth_year.to_string(),
                r.sex.clone(),
                r.village_code.clone(),
                neutralise_formula(&r.household_code),
                TargetGroups::from_bits(r.target_groups).iter().map(|g| g.code()).collect::<Vec<_>>().join("|"),
                r.phone.clone().unwrap_or_default(),
            ])?;
        }
        Ok(())
    };
    write().map_err(|e| AppError::Internal(e.into()))?;
    let body = out.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    audit::record(
        &state.store,
        Entry {
            account_id: Some(user.id()),
            action: "person.export",
            unit_code: Some(&unit),
            detail: Some(serde_json::json!({"rows": rows.len(), "format": "csv"})),
            address: ctx.address(),
            ..Default::default()
        },
    )
    .await?;
    let disposition = format!("attachment; filename=\"nguoi-{unit}.csv\"");
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

/// One person's whole row, as staff and the person themselves see it.
#[derive(sqlx::FromRow)]
pub struct PersonRecord {
    pub id: i64,
    pub cccd_enc: Option<Vec<u8>>,
    pub full_name: Option<String>,
    pub birth_date: Option<String>,
    pub birth_year: i64,
    pub sex: String,
    pub ethnicity: Option<String>,
    pub phone: Option<String>,
    pub commune_code: String,
    pub village_code: String,
    pub household_code: String,
    pub target_groups: i64,
    pub school_level: Option<String>,
    pub organisation_code: Option<String>,
}

/// The date as text on both databases.
const PERSON_RECORD: &str = "SELECT id, cccd_enc, full_name, CAST(birth_date AS TEXT) AS birth_date, \
     CAST(birth_year AS BIGINT) AS birth_year, sex, ethnicity, phone, commune_code, village_code, household_code, \
     CAST(target_groups AS BIGINT) AS target_groups, school_level, organisation_code FROM person WHERE id = $1";

pub async fn find_record(store: &crate::store::Store, person: i64) -> sqlx::Result<Option<PersonRecord>> {
    on_pool!(store, pool => sqlx::query_as::<_, PersonRecord>(PERSON_RECORD).bind(person).fetch_optional(pool).await)
}

#[derive(Template)]
#[template(path = "registry/person.html")]
struct PersonPage {
    nav: Nav,
    id: i64,
    cccd_tail: String,
    name: String,
    birth_date: String,
    birth_year: i64,
    sex: &'static str,
    ethnicity: String,
    phone: String,
    commune: String,
    village: String,
    household: String,
    groups: String,
    school_level: String,
    organisation: String,
    erased: bool,
    can_edit: bool,
    error: Option<String>,
    /// Learning status and the facts of "one citizen, one digital identity".
    digital: crate::tracking::entry::DigitalFacts,
}

async fn load_record(state: &AppState, person: i64) -> Result<PersonRecord, AppError> {
    find_record(&state.store, person).await?.ok_or_else(AppError::hidden)
}

fn person_page(
    state: &AppState,
    ctx: &Ctx,
    r: PersonRecord,
    error: Option<String>,
    digital: crate::tracking::entry::DigitalFacts,
) -> PersonPage {
    let place = crate::domain::role::Place { unit_code: Some(r.village_code.clone()), organisation_code: None };
    // Staff see only the last digits: enough to tell two people apart, not to use the number.
    let cccd_tail = r
        .cccd_enc
        .as_deref()
        .and_then(|b| state.keys.citizen.decrypt(b))
        .map(|c| format!("••••••••{}", &c.expose()[8..]))
        .unwrap_or_default();
    PersonPage {
        nav: ctx.nav(),
        id: r.id,
        cccd_tail,
        erased: r.full_name.is_none(),
        name: r.full_name.unwrap_or_else(|| "(đã xóa theo yêu cầu)".into()),
        birth_date: r.birth_date.unwrap_or_default(),
        birth_year: r.birth_year,
        sex: if r.sex == "nam" { "Nam" } else { "Nữ" },
        ethnicity: r.ethnicity.unwrap_or_default(),
        phone: r.phone.unwrap_or_default(),
        commune: r.commune_code,
        village: r.village_code,
        household: r.household_code,
        groups: groups_text(r.target_groups),
        school_level: r.school_level.unwrap_or_default(),
        organisation: r.organisation_code.unwrap_or_default(),
        can_edit: ctx.user.as_ref().is_some_and(|u| u.covers(READERS, &place)),
        error,
        digital,
    }
}

pub async fn show(State(state): State<AppState>, ctx: Ctx, Path(person): Path<i64>) -> Result<Html<String>, PageError> {
    let user = ctx.user()?;
    let record = load_record(&state, person).await?;
    audit::record(
        &state.store,
        Entry {
            account_id: Some(user.id()),
            action: "person.read",
            person_id: Some(person),
            unit_code: Some(&record.village_code),
            address: ctx.address(),
            ..Default::default()
        },
    )
    .await?;
    let digital = crate::tracking::entry::digital_facts(&state.store, person).await?;
    Ok(Html(render(&person_page(&state, &ctx, record, None, digital))?))
}

#[derive(Deserialize)]
pub struct UpdateForm {
    dien_thoai: String,
}

/// Changes the phone number; the change and its audit entry are one transaction.
pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(person): Path<i64>,
    Form(form): Form<UpdateForm>,
) -> Result<Response, PageError> {
    let user = ctx.user()?;
    let raw = form.dien_thoai.trim();
    let phone = match raw {
        "" => None,
        raw => match parse_phone(raw) {
            Ok(phone) => Some(phone),
            Err(e) => {
                let record = load_record(&state, person).await?;
                let digital = crate::tracking::entry::digital_facts(&state.store, person).await?;
                let page = person_page(&state, &ctx, record, Some(format!("{} / {}", e.vi, e.en)), digital);
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(&page)?)).into_response());
            }
        },
    };
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        sqlx::query("UPDATE person SET phone = $1, updated_at = CURRENT_TIMESTAMP WHERE id = $2 AND erased_at IS NULL")
            .bind(&phone).bind(person).execute(&mut *tx).await.map_err(AppError::from)?;
        audit_write!(&mut *tx, Entry {
            account_id: Some(user.id()),
            action: "person.update",
            person_id: Some(person),
            detail: Some(serde_json::json!({"fields": ["dien_thoai"]})),
            address: ctx.address(),
            ..Default::default()
        }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&format!("/quan-ly/nguoi/{person}")).into_response())
}
