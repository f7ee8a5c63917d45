//! The community pages of a unit that the account's roles open (linked from the staff home).

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use super::classes::unit_name;
use crate::app::AppState;
use crate::domain::role::Role::{self, *};
use crate::web::access::{Ctx, Staff};
use crate::web::error::PageError;
use crate::web::extract::Path;
use crate::web::pages::{Nav, render};

/// Everyone who works on at least one of part B's pages.
pub const HUB_STAFF: &[Role] = &[CanBoXa, HoTroMotCua, ToCongNgheSo, DaiSuSo, QuanTriTinh];

#[derive(Template)]
#[template(path = "community/hub.html")]
struct HubPage {
    nav: Nav,
    unit_name: String,
    links: Vec<(String, &'static str)>,
}

/// `GET /quan-ly/don-vi/{unit}/cong-dong`: the community pages of a unit that the account's roles open.
pub async fn hub(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
) -> Result<Html<String>, PageError> {
    let unit_name = unit_name(&state, &unit).await?;
    let holds = |roles: &[Role]| staff.user.holds(roles).next().is_some();
    let pages: [(&[Role], &str, &'static str); 6] = [
        (super::classes::CLASS_STAFF, "lop-hoc", "Lớp học cộng đồng hằng tuần và điểm danh"),
        (super::events::EVENT_STAFF, "su-kien", "Sự kiện, Ngày hội toàn dân học tập số 10/10"),
        (super::families::FAMILY_STAFF, "gia-dinh-so", "Gia đình số: các hộ và thành viên đã học"),
        (super::markets::MARKET_STAFF, "cho", "Chương trình chợ 4T: chợ, tiểu thương, học phần"),
        (super::volunteers::VOLUNTEER_STAFF, "tinh-nguyen", "Tình nguyện viên: giờ, lớp, hộ đã giúp"),
        (super::volunteers_recognition::NOMINATORS, "khen-thuong", "Đề nghị khen thưởng"),
    ];
    let links = pages
        .into_iter()
        .filter(|(roles, _, _)| holds(roles))
        .map(|(_, path, label)| (format!("/quan-ly/don-vi/{unit}/{path}"), label))
        .collect();
    Ok(Html(render(&HubPage { nav: ctx.nav(), unit_name, links })?))
}
