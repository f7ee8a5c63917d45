//! The HTML pages of the registry: the tree, province → commune → village.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Redirect};

use crate::app::AppState;
use crate::store::units::{self, UnitRow};
use crate::web::access::Ctx;
use crate::web::error::PageError;
use crate::web::extract::Path;
use crate::web::pages::{Nav, number_vi, render};

pub async fn province() -> Redirect {
    Redirect::permanent("/don-vi/25")
}

struct ChildRow {
    code: String,
    name: String,
    kind: &'static str,
    people: String,
    households: String,
}

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    nav: Nav,
    name: String,
    level: String,
    people: String,
    households: String,
    crumbs: Vec<(String, String)>,
    child_label: &'static str,
    children: Vec<ChildRow>,
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "phuong" => "Phường",
        "xa" => "Xã",
        "thon" => "Thôn",
        "ban" => "Bản",
        "xom" => "Xóm",
        "to_dan_pho" => "Tổ dân phố",
        _ => "Tỉnh",
    }
}

pub async fn unit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Result<Html<String>, PageError> {
    let (unit, children) = crate::registry::api::load_unit(&state, &code).await?;
    let mut crumbs = Vec::new();
    let mut parent = unit.parent_code.clone();
    while let Some(code) = parent {
        let Some(up): Option<UnitRow> = units::get(&state.store, &code).await? else { break };
        parent = up.parent_code.clone();
        crumbs.insert(0, (up.code, up.name));
    }
    let child_label = match unit.level.as_str() {
        "tinh" => "xã, phường",
        _ => "thôn, tổ dân phố",
    };
    Ok(Html(render(&UnitPage {
        nav: ctx.nav(),
        name: unit.name,
        level: unit.level,
        people: number_vi(unit.people_count),
        households: number_vi(unit.household_count),
        crumbs,
        child_label,
        children: children
            .into_iter()
            .map(|c| ChildRow {
                kind: kind_label(&c.kind),
                people: number_vi(c.people_count),
                households: number_vi(c.household_count),
                code: c.code,
                name: c.name,
            })
            .collect(),
    })?))
}
