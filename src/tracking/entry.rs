//! Staff record a person's VNeID level and digital bank account on the person's page (source
//! `staff`), audited, in one transaction with the counters; and the province sets a unit's target.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use crate::web::extract::{Form, Path};
use serde::Deserialize;

use super::counters::{self, Bind};
use super::facts::Source;
use crate::app::AppState;
use crate::audit_write;
use crate::domain::role::Role::{self, *};
use crate::domain::time::now;
use crate::identity::audit::{Actor, Entry};
use crate::on_pool;
use crate::store::Store;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::routes::Route;

/// Who records the facts: the person's commune officers and one-stop staff, and the province.
pub const RECORDERS: &[Role] = &[CanBoXa, HoTroMotCua, QuanTriTinh];

pub fn routes() -> Vec<Route> {
    vec![Route::post("/quan-ly/nguoi/{person}/so-hoa", Access::roles(RECORDERS, Scope::Person("person")), record)]
}

/// What the person's page shows of the facts the indicators count.
#[derive(Debug, Clone, Default)]
pub struct DigitalFacts {
    pub vneid_level: Option<i64>,
    pub vneid_source: &'static str,
    pub bank_account: Option<bool>,
    pub bank_source: &'static str,
    pub learned: bool,
    pub passed: bool,
    pub certified: bool,
    pub confirmed_on_vneid: bool,
}

type FactsRow = (Option<i64>, Option<String>, Option<i64>, Option<String>, Option<i64>, i64, i64, Option<i64>);

pub async fn digital_facts(store: &Store, person: i64) -> sqlx::Result<DigitalFacts> {
    const SELECT: &str = "SELECT CAST(vneid_level AS BIGINT), vneid_level_source, CAST(bank_account AS BIGINT), \
         bank_source, learned_at, CAST(passed_groups AS BIGINT), CAST(certified_groups AS BIGINT), vneid_confirmed_at \
         FROM person WHERE id = $1";
    let row: Option<FactsRow> =
        on_pool!(store, pool => sqlx::query_as(SELECT).bind(person).fetch_optional(pool).await)?;
    Ok(row
        .map(|(level, level_source, bank, bank_source, learned, passed, certified, confirmed)| DigitalFacts {
            vneid_level: level,
            vneid_source: Source::label_vi(level_source.as_deref().unwrap_or_default()),
            bank_account: bank.map(|b| b == 1),
            bank_source: Source::label_vi(bank_source.as_deref().unwrap_or_default()),
            learned: learned.is_some(),
            passed: passed != 0,
            certified: certified != 0,
            confirmed_on_vneid: confirmed.is_some(),
        })
        .unwrap_or_default())
}

#[derive(Deserialize)]
pub struct EntryForm {
    /// `""` leaves it as it is, `1` or `2`.
    #[serde(default)]
    muc_vneid: String,
    /// `""` leaves it as it is, `co` or `khong`.
    #[serde(default)]
    ngan_hang: String,
}

/// A staff entry, parsed: what to set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StaffEntry {
    pub vneid_level: Option<i64>,
    pub bank_account: Option<bool>,
}

impl StaffEntry {
    pub fn parse(level: &str, bank: &str) -> Result<Self, AppError> {
        let vneid_level = match level.trim() {
            "" => None,
            "1" => Some(1),
            "2" => Some(2),
            _ => {
                return Err(AppError::bad_request(
                    "invalid_vneid_level",
                    "Mức định danh VNeID phải là 1 hoặc 2. / The VNeID level must be 1 or 2.",
                ));
            }
        };
        let bank_account = match bank.trim() {
            "" => None,
            "co" => Some(true),
            "khong" => Some(false),
            _ => {
                return Err(AppError::bad_request(
                    "invalid_bank_account",
                    "Tài khoản ngân hàng số: chọn Có hoặc Không. / Digital bank account: choose yes or no.",
                ));
            }
        };
        Ok(Self { vneid_level, bank_account })
    }
}

/// Sets the facts of one person (not erased) from `source`, moves the counters, writes the audit
/// entry: all in one transaction. Returns whether the person was found.
pub async fn set_digital_facts(
    store: &Store,
    person: i64,
    entry: StaffEntry,
    source: Source,
    actor: Actor<'_>,
) -> sqlx::Result<bool> {
    const LEVEL: &str = "UPDATE person SET vneid_level = $1, vneid_level_source = $2, vneid_level_at = $3 \
         WHERE id = $4 AND erased_at IS NULL";
    const BANK: &str = "UPDATE person SET bank_account = $1, bank_source = $2, bank_at = $3 \
         WHERE id = $4 AND erased_at IS NULL";
    let at = now();
    on_pool!(store, pool => {
        let mut tx = pool.begin_with(store.begin_write()).await?;
        let mut conn: super::Conn = (&mut *tx).into();
        let mut found = false;
        if let Some(level) = entry.vneid_level {
            let binds = [Bind::Int(level), Bind::Text(source.code()), Bind::Int(at), Bind::Int(person)];
            found |= counters::change(&mut conn, &[person], LEVEL, &binds).await? > 0;
        }
        if let Some(bank) = entry.bank_account {
            let binds = [Bind::Int(i64::from(bank)), Bind::Text(source.code()), Bind::Int(at), Bind::Int(person)];
            found |= counters::change(&mut conn, &[person], BANK, &binds).await? > 0;
        }
        if found {
            audit_write!(&mut *tx, Entry {
                person_id: Some(person),
                ..actor.entry("person.digital_facts", serde_json::json!({
                    "vneid_level": entry.vneid_level, "bank_account": entry.bank_account, "source": source.code(),
                }))
            })?;
        }
        tx.commit().await?;
        Ok(found)
    })
}

/// `POST /quan-ly/nguoi/{person}/so-hoa`: the person's VNeID level and digital bank account, as
/// the commune's staff found them.
pub async fn record(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(person): Path<i64>,
    Form(form): Form<EntryForm>,
) -> Result<Response, PageError> {
    let entry = StaffEntry::parse(&form.muc_vneid, &form.ngan_hang)?;
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    if entry != StaffEntry::default() && !set_digital_facts(&state.store, person, entry, Source::Staff, actor).await? {
        return Err(AppError::hidden().into());
    }
    Ok(Redirect::to(&format!("/quan-ly/nguoi/{person}")).into_response())
}

/// A VNeID login tells the person's identity level: recorded (source `vneid_login`) when it differs
/// from what is known, with the counters, in one transaction. Accounts outside the registry have
/// no person and nothing to count.
pub async fn vneid_login(store: &Store, account_id: &str, level: i16) -> sqlx::Result<()> {
    const PERSON: &str = "SELECT a.person_id FROM account a JOIN person p ON p.id = a.person_id \
         WHERE a.id = $1 AND p.erased_at IS NULL AND (p.vneid_level IS NULL OR p.vneid_level <> $2)";
    const SET: &str = "UPDATE person SET vneid_level = $1, vneid_level_source = 'vneid_login', vneid_level_at = $2 \
         WHERE id = $3";
    let level = i64::from(level);
    on_pool!(store, pool => {
        let mut tx = pool.begin_with(store.begin_write()).await?;
        let person: Option<i64> =
            sqlx::query_scalar(PERSON).bind(account_id).bind(level).fetch_optional(&mut *tx).await?;
        if let Some(person) = person {
            let mut conn: super::Conn = (&mut *tx).into();
            counters::change(&mut conn, &[person], SET, &[Bind::Int(level), Bind::Int(now()), Bind::Int(person)])
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// The province's target for one unit, year and indicator (`None` goes back to the plan's),
/// audited in the same transaction. The caller checks the actor is the province's administrator.
pub async fn set_target(
    store: &Store,
    unit: &str,
    year: i32,
    indicator: &str,
    target: Option<f64>,
    actor: Actor<'_>,
) -> Result<(), AppError> {
    let known = crate::domain::indicators::targets().indicator(indicator).and_then(|i| i.target(year)).is_some();
    if !known {
        return Err(AppError::bad_request("unknown_indicator", "Không có chỉ tiêu này. / No such indicator."));
    }
    if target.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
        return Err(AppError::bad_request("invalid_target", "Chỉ tiêu phải từ 0 đến 1. / A target is 0..1."));
    }
    const SET: &str = "INSERT INTO indicator_target (unit_code, year, indicator, target, set_by, set_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (unit_code, year, indicator) DO UPDATE SET \
         target = excluded.target, set_by = excluded.set_by, set_at = excluded.set_at";
    const CLEAR: &str = "DELETE FROM indicator_target WHERE unit_code = $1 AND year = $2 AND indicator = $3";
    let by = (actor.account_id != Actor::CLI.account_id).then_some(actor.account_id);
    on_pool!(store, pool => {
        let mut tx = pool.begin_with(store.begin_write()).await?;
        match target {
            Some(t) => sqlx::query(SET).bind(unit).bind(i64::from(year)).bind(indicator).bind(t).bind(by)
                .bind(now()).execute(&mut *tx).await?,
            None => sqlx::query(CLEAR).bind(unit).bind(i64::from(year)).bind(indicator).execute(&mut *tx).await?,
        };
        audit_write!(&mut *tx, Entry {
            unit_code: Some(unit),
            ..actor.entry("indicator.target", serde_json::json!({
                "year": year, "indicator": indicator, "target": target,
            }))
        })?;
        tx.commit().await?;
    });
    Ok(())
}
