//! The audit log: who did what to whom, when, from where. People appear by internal id only.
//! The database refuses to change or delete its rows (triggers in both migrations).

use serde::Serialize;

use crate::store::Store;
use crate::web::scope::{Columns, UnitScope};
use crate::{audit_write, bind_scope, on_pool};

/// The stable action codes, with what the auditor reads.
pub const ACTIONS: &[(&str, &str)] = &[
    ("login", "Đăng nhập"),
    ("login.failed", "Đăng nhập thất bại"),
    ("logout", "Đăng xuất"),
    ("logout.all", "Đăng xuất mọi nơi"),
    ("password.change", "Đổi mật khẩu"),
    ("password.reset", "Quản trị đặt lại mật khẩu"),
    ("account.create", "Tạo tài khoản"),
    ("account.confirm", "Xác nhận người tự đăng ký"),
    ("person.read", "Xem hồ sơ một người"),
    ("person.list", "Liệt kê, tìm kiếm người"),
    ("person.update", "Sửa hồ sơ"),
    ("person.export", "Xuất danh sách"),
    ("data.download", "Tải dữ liệu cá nhân"),
    ("erasure.request", "Yêu cầu xóa dữ liệu"),
    ("erasure.approve", "Duyệt xóa dữ liệu"),
    ("erasure.reject", "Từ chối xóa dữ liệu"),
    ("consent", "Đồng ý chính sách"),
    ("audit.search", "Tra cứu nhật ký"),
    ("certificate.revoke", "Thu hồi chứng nhận"),
    ("certificate.retry", "Gửi lại xác nhận VNeID"),
    ("account.search", "Quản trị tìm tài khoản"),
    ("news.create", "Viết tin tức, thông báo"),
    ("news.publish", "Đăng tin tức, thông báo"),
    ("news.withdraw", "Gỡ tin tức, thông báo"),
    ("lesson.publish", "Đăng bài học"),
    ("lesson.unpublish", "Ẩn bài học"),
    ("item.save", "Lưu câu hỏi"),
    ("item.deactivate", "Đưa câu hỏi ra khỏi đề"),
    ("item.activate", "Đưa câu hỏi trở lại đề"),
    ("exam.update", "Sửa cài đặt bài kiểm tra"),
    ("framework.import", "Nhập khung năng lực"),
    ("person.digital_facts", "Ghi nhận mức VNeID, tài khoản ngân hàng số"),
    ("indicator.target", "Đặt chỉ tiêu cho đơn vị"),
    ("indicator.snapshot", "Chụp số liệu chỉ tiêu theo quý"),
    ("team.create", "Lập tổ công nghệ số"),
    ("team.member", "Thêm thành viên tổ công nghệ số"),
    ("team.village", "Giao thôn cho tổ công nghệ số"),
    ("visit.record", "Ghi lượt thăm hộ"),
    ("visit.list", "Xem lượt thăm hộ của tổ"),
    ("mentee.assign", "Giao người học cho Đại sứ số"),
    ("mentoring.session", "Ghi buổi hướng dẫn của Đại sứ số"),
    ("one_stop.hours", "Ghi giờ trực hỗ trợ một cửa"),
    ("one_stop.help", "Ghi người dân được hỗ trợ thủ tục"),
    // Issue 22, part B: classes, events, digital families, 4T markets, volunteers.
    ("class.create", "Mở lớp học cộng đồng"),
    ("class.session", "Mở buổi học cộng đồng"),
    ("class.attend", "Điểm danh buổi học"),
    ("class.read", "Xem danh sách điểm danh"),
    ("event.create", "Tạo sự kiện"),
    ("event.register", "Đăng ký sự kiện"),
    ("event.checkin", "Điểm danh sự kiện"),
    ("household.read", "Xem thành viên hộ"),
    ("household.head", "Đặt chủ hộ"),
    ("family.consent", "Đồng ý chia sẻ tiến độ với chủ hộ"),
    ("family.revoke", "Thôi chia sẻ tiến độ với chủ hộ"),
    ("family.read", "Chủ hộ xem tiến độ thành viên"),
    ("market.create", "Thêm chợ 4T"),
    ("market.trader", "Đăng ký tiểu thương"),
    ("market.module", "Ghi nhận học phần 4T"),
    ("market.read", "Xem danh sách tiểu thương"),
    ("volunteer.create", "Đăng ký tình nguyện viên"),
    ("volunteer.activity", "Ghi hoạt động tình nguyện"),
    ("volunteer.read", "Xem danh sách tình nguyện viên"),
    ("nomination.create", "Đề nghị khen thưởng"),
    ("nomination.decide", "Duyệt đề nghị khen thưởng"),
];

pub fn action_label(code: &str) -> &str {
    ACTIONS.iter().find(|(c, _)| *c == code).map_or(code, |(_, label)| label)
}

pub const INSERT_AUDIT: &str = "INSERT INTO audit_log (at, account_id, action, person_id, unit_code, detail, address) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// One entry. `detail` holds filters and counts, never a name or a citizen number.
#[derive(Debug, Default)]
pub struct Entry<'a> {
    pub account_id: Option<&'a str>,
    pub action: &'static str,
    pub person_id: Option<i64>,
    pub unit_code: Option<&'a str>,
    pub detail: Option<serde_json::Value>,
    pub address: Option<&'a str>,
}

impl Entry<'_> {
    pub fn detail_text(&self) -> Option<String> {
        self.detail.as_ref().map(|d| d.to_string())
    }
}

/// Who makes a change and from where: the entry the change writes in its own transaction.
/// `account_id` is an account id, or `cli` for a command run on the server.
#[derive(Clone, Copy, Debug)]
pub struct Actor<'a> {
    pub account_id: &'a str,
    pub address: Option<&'a str>,
}

impl<'a> Actor<'a> {
    /// A command run on the server by whoever can run it there (the OS account is not recorded: it
    /// is not an identity the platform knows).
    pub const CLI: Actor<'static> = Actor { account_id: "cli", address: None };

    pub fn entry(&self, action: &'static str, detail: serde_json::Value) -> Entry<'a> {
        Entry {
            account_id: Some(self.account_id),
            action,
            detail: Some(detail),
            address: self.address,
            ..Default::default()
        }
    }
}

pub async fn record(store: &Store, entry: Entry<'_>) -> sqlx::Result<()> {
    on_pool!(store, pool => audit_write!(pool, entry).map(|r| r.rows_affected()))?;
    Ok(())
}

/// The repeats of one entry within a minute share a row (`repeat_key`) whose `repeats` goes up.
const UPSERT_REPEATED: &str = "INSERT INTO audit_log (at, account_id, action, person_id, unit_code, detail, address, \
     repeat_key, repeats) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1) \
     ON CONFLICT (repeat_key) DO UPDATE SET repeats = audit_log.repeats + 1";

/// Records an entry that may come in floods (failed logins): the same action, detail, account and
/// address within one minute is one row with a count, so the log grows with minutes, not attempts.
pub async fn record_repeated(store: &Store, entry: Entry<'_>) -> sqlx::Result<()> {
    let at = crate::domain::time::now();
    let detail = entry.detail_text();
    let repeat_key = format!(
        "{}|{}|{}|{}|{}",
        entry.action,
        entry.address.unwrap_or("-"),
        entry.account_id.unwrap_or("-"),
        detail.as_deref().unwrap_or("-"),
        at.div_euclid(60)
    );
    on_pool!(store, pool => sqlx::query(UPSERT_REPEATED)
        .bind(at)
        .bind(entry.account_id)
        .bind(entry.action)
        .bind(entry.person_id)
        .bind(entry.unit_code)
        .bind(&detail)
        .bind(entry.address)
        .bind(&repeat_key)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Writes the entry with any executor: a pool, or a transaction the caller holds so that a change
/// and its record stand or fall together.
#[macro_export]
macro_rules! audit_write {
    ($executor:expr, $entry:expr) => {{
        let entry = $entry;
        sqlx::query($crate::identity::audit::INSERT_AUDIT)
            .bind($crate::domain::time::now())
            .bind(entry.account_id)
            .bind(entry.action)
            .bind(entry.person_id)
            .bind(entry.unit_code)
            .bind(entry.detail_text())
            .bind(entry.address)
            .execute($executor)
            .await
    }};
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub account_id: Option<String>,
    pub action: String,
    pub person_id: Option<i64>,
    pub unit_code: Option<String>,
    pub detail: Option<String>,
    pub address: Option<String>,
    /// How many times the entry happened within its minute (failed logins; 1 for everything else).
    pub repeats: i64,
}

/// What an auditor searches by; every field optional.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Filter {
    pub action: Option<String>,
    pub account: Option<String>,
    pub person: Option<i64>,
    /// Days as YYYY-MM-DD, inclusive, in Vietnam's time.
    pub from: Option<String>,
    pub to: Option<String>,
}

pub const PAGE_ROWS: i64 = 200;

/// Entries matching the filter, newest first, limited to the scope: the province sees everything, a
/// commune the entries about its people, about its units, or by its staff.
pub async fn search(store: &Store, filter: &Filter, scope: &UnitScope) -> sqlx::Result<Vec<AuditRow>> {
    let day_start =
        |day: &str| chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok().map(crate::domain::time::start_of);
    let from = filter.from.as_deref().and_then(day_start).unwrap_or(i64::MIN);
    let to = filter.to.as_deref().and_then(day_start).map_or(i64::MAX, |t| t + 86_400);
    let action = filter.action.as_deref().filter(|a| !a.is_empty());
    let account = filter.account.as_deref().map(str::trim).filter(|a| !a.is_empty());
    let about_person = scope.predicate(
        Columns { commune: Some("p.commune_code"), village: Some("p.village_code"), ..Columns::default() },
        7,
    );
    let about_unit =
        scope.predicate(Columns { unit: Some("a.unit_code"), ..Columns::default() }, 7 + about_person.binds.len());
    let by_staff = scope.predicate(
        Columns { unit: Some("g.unit_code"), ..Columns::default() },
        7 + about_person.binds.len() + about_unit.binds.len(),
    );
    let sql = format!(
        "SELECT a.id, a.at, a.account_id, a.action, a.person_id, a.unit_code, a.detail, a.address, a.repeats \
         FROM audit_log a \
         LEFT JOIN person p ON p.id = a.person_id \
         WHERE a.at >= $1 AND a.at < $2 \
           AND ($3 IS NULL OR a.action = $3) AND ($4 IS NULL OR a.account_id = $4) AND ($5 IS NULL OR a.person_id = $5) \
           AND ({} OR {} OR a.account_id IN (SELECT g.account_id FROM role_grant g WHERE {})) \
         ORDER BY a.id DESC LIMIT $6",
        about_person.sql, about_unit.sql, by_staff.sql
    );
    on_pool!(store, pool => {
        let query = sqlx::query_as::<_, AuditRow>(sqlx::AssertSqlSafe(sql.clone()))
            .bind(from)
            .bind(to)
            .bind(action)
            .bind(account)
            .bind(filter.person)
            .bind(PAGE_ROWS);
        let query = bind_scope!(query, about_person);
        let query = bind_scope!(query, about_unit);
        bind_scope!(query, by_staff).fetch_all(pool).await
    })
}

/// A Unix time shown in Vietnam's time zone (UTC+7, no daylight saving).
pub fn format_time(at: i64) -> String {
    crate::domain::time::datetime_vi(at)
}
