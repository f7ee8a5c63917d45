//! Community classes, events and digital families (issue 22, part B), over HTTP on both databases:
//! attendance by QR pass and by citizen number; refusals of an expired or forged pass, an unknown
//! person, a person outside the class's commune; the unit scope; the weekly-class and 10/10 rules
//! fed from real records; the digital-family rule through a lesson completed and an erasure, both over
//! HTTP; consent.

use crate::common;

use base64::Engine;
use common::web::{Browser, account, serve};
use common::*;
use reqwest::StatusCode;

/// Commune 04792: Cả (HO-A), Già and Đạt (HO-B). Commune 04795: Em.
const PEOPLE: &str = "\
025207000001,Đỗ Văn Cả,31/12/2007,Nam,04792,Thôn Đông,HO-A,Kinh,nguoi_dan,,,
025050000003,Lý Văn Già,1/1/1950,Nam,04792,Xóm Mới,HO-B,Kinh,nguoi_dan,,,
025180000004,Mai Thị Đạt,1/1/1980,Nữ,04792,Xóm Mới,HO-B,Kinh,nguoi_dan,,,
025088123456,Lê Văn Em,2/2/1988,Nam,04795,Tổ 5,HO-9,Kinh,nguoi_dan,,,
";

fn seed(db: &TestDb) {
    let file = db.write("people.csv", people_file(PEOPLE));
    assert_exit(&db.cli(&["import", "people", path_str(&file)]), 0);
}

/// A signed-in learner whose account is the registry's person of this name.
async fn learner(db: &TestDb, base: &str, login: &str, unit: &str, name: &str) -> Browser {
    let password = account(db, login, "hoc_vien", unit, None).await;
    db.query(&format!(
        "UPDATE account SET person_id = (SELECT id FROM person WHERE full_name = '{name}') WHERE login = '{login}'"
    ));
    let browser = Browser::new(base);
    browser.login(login, &password).await;
    browser
}

async fn staff(db: &TestDb, base: &str, login: &str, role: &str, unit: &str) -> Browser {
    let password = account(db, login, role, unit, None).await;
    let browser = Browser::new(base);
    browser.login(login, &password).await;
    browser
}

/// The pass shown on the learner's page, as text.
async fn pass_of(learner: &Browser) -> String {
    let page = learner.get("/tai-khoan/ma-diem-danh").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let start = page.body.find("<code class=\"wrap\">").expect("the pass as text") + "<code class=\"wrap\">".len();
    let end = start + page.body[start..].find("</code>").unwrap();
    page.body[start..end].to_owned()
}

/// The number at the end of a redirect's path.
fn id_at_end(page: &common::web::Page) -> String {
    let location = page.location.clone().unwrap_or_else(|| panic!("a redirect: {} {}", page.status, page.body));
    location.rsplit('/').next().unwrap().to_owned()
}

fn today() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive().to_string()
}

/// A pass made with the test key, for the given person and expiry (as the server makes them).
fn forged_pass(db: &TestDb, person: i64, expires: i64) -> String {
    let keys = hocvuso::crypto::Keys::new(&db.config().require_data_key().unwrap());
    let mut raw = Vec::new();
    raw.extend_from_slice(&person.to_be_bytes());
    raw.extend_from_slice(&expires.to_be_bytes());
    let tag = keys.pass_tag(&raw);
    raw.extend_from_slice(&tag);
    format!("HV1.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

fn rule_row<'a>(body: &'a str, code_ref: &str) -> &'a str {
    let at = body.find(&format!("<td>{code_ref}</td>")).unwrap_or_else(|| panic!("rule {code_ref}: {body}"));
    let end = at + body[at..].find("</tr>").unwrap();
    &body[at..end]
}

#[tokio::test]
async fn attendance_by_pass_and_by_citizen_number_with_clear_refusals() {
    for db in TestDb::all() {
        seed(&db);
        let what = db.backend();
        let base = serve(&db, db.config()).await;
        let officer = staff(&db, &base, "canbo", "can_bo_xa", "04792").await;
        let other = staff(&db, &base, "canbo2", "can_bo_xa", "04795").await;
        let dat = learner(&db, &base, "hv.dat", "04792", "Mai Thị Đạt").await;
        let em = learner(&db, &base, "hv.em", "04795", "Lê Văn Em").await;

        let rules = officer.get("/quan-ly/don-vi/04792/quy-dinh").await;
        assert!(rule_row(&rules.body, "IV.5.4.a").contains("Chưa có dữ liệu"), "{what}: {}", rules.body);

        let list = officer.get("/quan-ly/don-vi/04792/lop-hoc").await;
        let csrf = list.csrf();
        let created = officer
            .post(
                "/quan-ly/don-vi/04792/lop-hoc",
                &[
                    ("csrf", &csrf),
                    ("ten", "Cài đặt VNeID cho người cao tuổi"),
                    ("bai_hoc", "cai-dat-vneid"),
                    ("dia_diem", "Nhà văn hóa Thôn Đông"),
                    ("lich", "Sáng thứ Bảy, 8 giờ"),
                    ("giang_vien", "Tổ công nghệ số"),
                    ("doi_tuong", "nguoi_cao_tuoi"),
                ],
            )
            .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{what}: {}", created.body);
        let class = id_at_end(&created);
        let opened = officer
            .post(&format!("/quan-ly/don-vi/04792/lop-hoc/{class}/buoi"), &[("csrf", &csrf), ("ngay", &today())])
            .await;
        assert_eq!(opened.status, StatusCode::SEE_OTHER, "{what}: {}", opened.body);
        let session = id_at_end(&opened);
        let at = format!("/quan-ly/don-vi/04792/lop-hoc/{class}/buoi/{session}");
        let attend = |input: String| {
            let officer = &officer;
            let at = at.clone();
            let csrf = csrf.clone();
            async move { officer.post(&at, &[("csrf", &csrf), ("ma", &input)]).await }
        };

        // The pass names nobody by citizen number.
        let pass = pass_of(&dat).await;
        assert!(!pass.contains("025180000004"), "{what}");
        let page = dat.get("/tai-khoan/ma-diem-danh").await;
        assert!(!page.body.contains("025180000004") && page.body.contains("data:image/svg+xml"), "{what}");

        let ok = attend(pass.clone()).await;
        assert_eq!(ok.status, StatusCode::OK, "{what}: {}", ok.body);
        assert!(ok.body.contains("Đã điểm danh: Mai Thị Đạt"), "{what}: {}", ok.body);
        let again = attend(pass.clone()).await;
        assert!(again.body.contains("đã được điểm danh ở buổi này rồi"), "{what}: {}", again.body);
        let by_number = attend("025207000001".into()).await;
        assert!(by_number.body.contains("Đã điểm danh: Đỗ Văn Cả"), "{what}: {}", by_number.body);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM class_attendance"), 2, "{what}");
        assert_eq!(db.scalar("SELECT COUNT(*) FROM class_attendance WHERE method = 'qr'"), 1, "{what}");

        // Refusals, each with its status and a message that says why; nothing recorded.
        let dat_id = person_id(&db, "Mai Thị Đạt");
        let now = chrono::Utc::now().timestamp();
        let expired = attend(forged_pass(&db, dat_id, now - 1)).await;
        assert_eq!(expired.status, StatusCode::BAD_REQUEST, "{what}");
        assert!(expired.body.contains("Mã QR đã hết hạn"), "{what}: {}", expired.body);
        let mut tampered = forged_pass(&db, dat_id, now + 600);
        tampered.replace_range(6..7, if &tampered[6..7] == "A" { "B" } else { "A" });
        let forged = attend(tampered).await;
        assert_eq!(forged.status, StatusCode::BAD_REQUEST, "{what}");
        assert!(forged.body.contains("Mã QR không hợp lệ"), "{what}: {}", forged.body);
        let unknown = attend("025099999999".into()).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{what}: {}", unknown.body);
        assert!(unknown.body.contains("Không tìm thấy người này"), "{what}");
        let nobody = attend(forged_pass(&db, 999_999, now + 600)).await;
        assert_eq!(nobody.status, StatusCode::NOT_FOUND, "{what}");
        let outside = attend(pass_of(&em).await).await;
        assert_eq!(outside.status, StatusCode::FORBIDDEN, "{what}: {}", outside.body);
        assert!(outside.body.contains("không thuộc xã, phường của lớp học"), "{what}: {}", outside.body);
        let outside_by_number = attend("025088123456".into()).await;
        assert_eq!(outside_by_number.status, StatusCode::FORBIDDEN, "{what}");
        assert_eq!(db.scalar("SELECT COUNT(*) FROM class_attendance"), 2, "{what}");

        // Scope: another commune's officer sees neither the class nor its session, by either path.
        assert_eq!(other.get(&at).await.status, StatusCode::NOT_FOUND, "{what}");
        let through_theirs = format!("/quan-ly/don-vi/04795/lop-hoc/{class}/buoi/{session}");
        assert_eq!(other.get(&through_theirs).await.status, StatusCode::NOT_FOUND, "{what}");
        let theirs = other.get("/quan-ly/don-vi/04795/lop-hoc").await;
        assert!(!theirs.body.contains("Cài đặt VNeID cho người cao tuổi"), "{what}");
        let csrf2 = theirs.csrf();
        let sneaked = other.post(&through_theirs, &[("csrf", &csrf2), ("ma", "025088123456")]).await;
        assert_eq!(sneaked.status, StatusCode::NOT_FOUND, "{what}");
        // A learner is no staff.
        assert_eq!(dat.get(&at).await.status, StatusCode::FORBIDDEN, "{what}");

        // The weekly rule now has data: a session this week.
        let rules = officer.get("/quan-ly/don-vi/04792/quy-dinh").await;
        let row = rule_row(&rules.body, "IV.5.4.a");
        assert!(row.contains("Đạt") && !row.contains("Chưa") && row.contains(": 1 buổi học"), "{what}: {row}");
        let theirs = other.get("/quan-ly/don-vi/04795/quy-dinh").await;
        assert!(rule_row(&theirs.body, "IV.5.4.a").contains("Chưa có dữ liệu"), "{what}");

        // Audited by person id, with no citizen number.
        assert_eq!(db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'class.attend'"), 2, "{what}");
        let details = db.query("SELECT detail FROM audit_log WHERE action LIKE 'class.%'");
        assert!(!details.contains("0252") && !details.contains("Đạt"), "{what}: {details}");
    }
}

#[tokio::test]
async fn the_october_day_registers_checks_in_and_counts_by_commune() {
    for db in TestDb::all() {
        seed(&db);
        let what = db.backend();
        let base = serve(&db, db.config()).await;
        let officer = staff(&db, &base, "canbo", "can_bo_xa", "04792").await;
        let dat = learner(&db, &base, "hv.dat", "04792", "Mai Thị Đạt").await;
        let em = learner(&db, &base, "hv.em", "04795", "Lê Văn Em").await;

        let rules = officer.get("/quan-ly/don-vi/04792/quy-dinh").await;
        assert!(rule_row(&rules.body, "IV.1.4").contains("Chưa có dữ liệu"), "{what}");
        let csrf = officer.get("/quan-ly/don-vi/04792/su-kien").await.csrf();
        let created = officer
            .post(
                "/quan-ly/don-vi/04792/su-kien",
                &[
                    ("csrf", &csrf),
                    ("loai", "ngay_hoi_10_10"),
                    ("ten", "Ngày hội toàn dân học tập số"),
                    ("ngay", &today()),
                    ("dia_diem", "Sân UBND xã"),
                ],
            )
            .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{what}: {}", created.body);
        let event = id_at_end(&created);

        // The learner of the commune sees it and registers; the other commune's learner does not see it.
        let mine = dat.get("/su-kien").await;
        assert!(mine.body.contains("Ngày hội toàn dân học tập số"), "{what}: {}", mine.body);
        let registered = dat.post(&format!("/su-kien/{event}/dang-ky"), &[("csrf", &mine.csrf())]).await;
        assert_eq!(registered.status, StatusCode::SEE_OTHER, "{what}: {}", registered.body);
        assert!(dat.get("/su-kien").await.body.contains("Đã đăng ký"), "{what}");
        let theirs = em.get("/su-kien").await;
        assert!(!theirs.body.contains("Ngày hội toàn dân học tập số"), "{what}");
        let refused = em.post(&format!("/su-kien/{event}/dang-ky"), &[("csrf", &theirs.csrf())]).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{what}");

        let at = format!("/quan-ly/don-vi/04792/su-kien/{event}");
        let checked = officer.post(&at, &[("csrf", &csrf), ("ma", &pass_of(&dat).await)]).await;
        assert!(checked.body.contains("Đã điểm danh: Mai Thị Đạt"), "{what}: {}", checked.body);
        // At the door, by citizen number, without registering first.
        let walk_in = officer.post(&at, &[("csrf", &csrf), ("ma", "025050000003")]).await;
        assert!(walk_in.body.contains("Đã điểm danh: Lý Văn Già"), "{what}");
        let outside = officer.post(&at, &[("csrf", &csrf), ("ma", &pass_of(&em).await)]).await;
        assert_eq!(outside.status, StatusCode::FORBIDDEN, "{what}");
        assert!(outside.body.contains("không thuộc xã, phường tổ chức sự kiện"), "{what}");
        let page = officer.get(&at).await;
        assert!(page.body.contains("<strong>2</strong> có mặt"), "{what}: {}", page.body);
        assert!(page.body.contains("<td class=\"num\">2</td><td class=\"num\">2</td>"), "{what}: by commune");

        let rules = officer.get("/quan-ly/don-vi/04792/quy-dinh").await;
        let row = rule_row(&rules.body, "IV.1.4");
        assert!(row.contains("Đạt") && row.contains("2 người của xã"), "{what}: {row}");
    }
}

/// The value of a form field of the page.
fn field(page: &common::web::Page, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.body.find(&marker).unwrap_or_else(|| panic!("no field {name} in {}", page.body)) + marker.len();
    page.body[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_household_is_a_digital_family_while_a_member_who_learned_is_held() {
    for db in TestDb::all() {
        seed(&db);
        let imported = db.cli(&["content", "import", &fixture("content")]);
        assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
        let what = db.backend();
        let base = serve(&db, db.config()).await;
        let officer = staff(&db, &base, "canbo", "can_bo_xa", "04792").await;
        let other = staff(&db, &base, "canbo2", "can_bo_xa", "04795").await;
        let dat = learner(&db, &base, "hv.dat", "04792", "Mai Thị Đạt").await;
        let gia = learner(&db, &base, "hv.gia", "04792", "Lý Văn Già").await;

        let household = officer.get("/quan-ly/don-vi/04792/ho/HO-B").await;
        assert_eq!(household.status, StatusCode::OK, "{what}: {}", household.body);
        assert!(household.body.contains("Chưa là gia đình số"), "{what}");
        assert_eq!(other.get("/quan-ly/don-vi/04795/ho/HO-B").await.status, StatusCode::NOT_FOUND, "{what}");
        assert_eq!(other.get("/quan-ly/don-vi/04792/ho/HO-B").await.status, StatusCode::NOT_FOUND, "{what}");

        // Đạt completes a lesson: she answers its checks, as a learner does.
        let checks = dat.get("/bai-hoc/bai-mot?phan=2").await;
        assert_eq!(checks.status, StatusCode::OK, "{what}: {}", checks.body);
        let answer = [
            ("csrf", field(&checks, "csrf")),
            ("su_kien", field(&checks, "su_kien")),
            ("phien_ban", field(&checks, "phien_ban")),
            ("c0", "0".into()),
            ("c1", "0".into()),
        ];
        let form: Vec<(&str, &str)> = answer.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let done = dat.post("/bai-hoc/bai-mot/tra-loi", &form).await;
        assert_eq!(done.status, StatusCode::OK, "{what}: {}", done.body);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM person WHERE learned_at IS NOT NULL"), 1, "{what}");
        let household = officer.get("/quan-ly/don-vi/04792/ho/HO-B").await;
        assert!(
            household.body.contains("<strong>Gia đình số</strong>: Mai Thị Đạt đã học"),
            "{what}: {}",
            household.body
        );
        assert!(dat.get("/tai-khoan/gia-dinh").await.body.contains("là <strong>gia đình số</strong>"), "{what}");
        let list = officer.get("/quan-ly/don-vi/04792/gia-dinh-so").await;
        assert!(list.body.contains("<strong>1/2</strong> hộ"), "{what}: {}", list.body);

        // The head sees an adult member's progress only while the member consents.
        let gia_id = person_id(&db, "Lý Văn Già").to_string();
        let csrf = household.csrf();
        let set = officer.post("/quan-ly/don-vi/04792/ho/HO-B/chu-ho", &[("csrf", &csrf), ("chu_ho", &gia_id)]).await;
        assert_eq!(set.status, StatusCode::SEE_OTHER, "{what}: {}", set.body);
        let seen = gia.get("/tai-khoan/gia-dinh").await;
        assert!(seen.body.contains("Chưa đồng ý chia sẻ"), "{what}: {}", seen.body);
        let form = dat.get("/tai-khoan/gia-dinh").await;
        let given = dat.post("/tai-khoan/gia-dinh/chia-se", &[("csrf", &form.csrf()), ("dong_y", "co")]).await;
        assert_eq!(given.status, StatusCode::SEE_OTHER, "{what}");
        let seen = gia.get("/tai-khoan/gia-dinh").await;
        assert!(!seen.body.contains("Chưa đồng ý chia sẻ") && seen.body.contains("Đã học"), "{what}: {}", seen.body);
        let revoked = dat.post("/tai-khoan/gia-dinh/chia-se", &[("csrf", &form.csrf()), ("dong_y", "khong")]).await;
        assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{what}");
        assert!(gia.get("/tai-khoan/gia-dinh").await.body.contains("Chưa đồng ý chia sẻ"), "{what}");
        assert_eq!(db.scalar("SELECT COUNT(*) FROM audit_log WHERE action IN ('family.consent', 'family.revoke')"), 2);

        // Đạt's data is erased: the household stops being a digital family on its page, and names nobody.
        let mine = dat.get("/tai-khoan/du-lieu").await;
        let asked = dat.post("/tai-khoan/xoa-du-lieu", &[("csrf", &mine.csrf())]).await;
        assert_eq!(asked.status, StatusCode::SEE_OTHER, "{what}: {}", asked.body);
        let request = db.scalar("SELECT id FROM erasure_request");
        let approved = officer.post(&format!("/quan-ly/xoa-du-lieu/{request}/duyet"), &[("csrf", &csrf)]).await;
        assert_eq!(approved.status, StatusCode::SEE_OTHER, "{what}: {}", approved.body);
        let household = officer.get("/quan-ly/don-vi/04792/ho/HO-B").await;
        assert!(household.body.contains("Chưa là gia đình số"), "{what}: {}", household.body);
        assert!(!household.body.contains("Mai Thị Đạt"), "{what}");
        // The counts keep her learning (erasure keeps the aggregates).
        assert_eq!(db.scalar("SELECT COUNT(*) FROM person WHERE learned_at IS NOT NULL"), 1, "{what}");
    }
}

#[tokio::test]
async fn markets_volunteers_and_recognition_with_the_province_approving() {
    for db in TestDb::all() {
        seed(&db);
        let what = db.backend();
        let base = serve(&db, db.config()).await;
        let officer = staff(&db, &base, "canbo", "can_bo_xa", "04792").await;
        let other = staff(&db, &base, "canbo2", "can_bo_xa", "04795").await;
        let province = staff(&db, &base, "tinh", "quan_tri_tinh", "25").await;
        let dat = learner(&db, &base, "hv.dat", "04792", "Mai Thị Đạt").await;

        let csrf = officer.get("/quan-ly/don-vi/04792/cho").await.csrf();
        let created = officer
            .post("/quan-ly/don-vi/04792/cho", &[("csrf", &csrf), ("ten", "Chợ Trung tâm"), ("dia_diem", "Thôn Đông")])
            .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{what}: {}", created.body);
        let market = format!("/quan-ly/don-vi/04792/cho/{}", id_at_end(&created));
        let trader = |cccd: &'static str| {
            let (officer, market, csrf) = (&officer, market.clone(), csrf.clone());
            async move {
                officer
                    .post(&format!("{market}/tieu-thuong"), &[("csrf", &csrf), ("cccd", cccd), ("quay", "Quầy 12")])
                    .await
            }
        };
        assert_eq!(trader("025180000004").await.status, StatusCode::SEE_OTHER, "{what}");
        assert_eq!(trader("025088123456").await.status, StatusCode::FORBIDDEN, "{what}: Em lives in 04795");
        assert_eq!(other.get(&market).await.status, StatusCode::NOT_FOUND, "{what}");

        let dat_id = person_id(&db, "Mai Thị Đạt").to_string();
        let recorded = officer
            .post(
                &format!("{market}/hoc-phan"),
                &[("csrf", &csrf), ("nguoi", &dat_id), ("hoc_phan", "thanh_toan_khong_tien_mat")],
            )
            .await;
        assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{what}: {}", recorded.body);
        let page = officer.get(&market).await;
        assert_eq!(page.body.matches("<td>Đã xong</td>").count(), 1, "{what}: {}", page.body);
        assert!(page.body.contains("<strong>25%</strong>"), "{what}");
        // A completed lesson tagged with the e-commerce module counts without the trainer.
        db.query("INSERT INTO lesson (slug, created_at, updated_at) VALUES ('ban-hang-online', 0, 0)");
        db.query(
            "INSERT INTO market_module_lesson (module, lesson_slug) VALUES ('thuong_mai_dien_tu', 'ban-hang-online')",
        );
        db.query(
            "INSERT INTO progress (account_id, lesson_slug, version, position, seconds, started_at, completed_at, updated_at) \
             SELECT id, 'ban-hang-online', 1, 3, 300, 1, 2, 2 FROM account WHERE login = 'hv.dat'",
        );
        let page = officer.get(&market).await;
        assert_eq!(page.body.matches("<td>Đã xong</td>").count(), 2, "{what}");
        assert!(page.body.contains("<strong>50%</strong>"), "{what}");

        // Volunteers: hours, classes, households.
        let added = officer
            .post(
                "/quan-ly/don-vi/04792/tinh-nguyen",
                &[("csrf", &csrf), ("cccd", "025207000001"), ("to_chuc", "doan_thanh_nien")],
            )
            .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{what}: {}", added.body);
        let volunteer = db.scalar("SELECT id FROM volunteer").to_string();
        let logged = officer
            .post(
                "/quan-ly/don-vi/04792/tinh-nguyen/hoat-dong",
                &[
                    ("csrf", &csrf),
                    ("tinh_nguyen_vien", &volunteer),
                    ("ngay", &today()),
                    ("so_gio", "2,5"),
                    ("so_lop", "1"),
                    ("so_ho", "3"),
                ],
            )
            .await;
        assert_eq!(logged.status, StatusCode::SEE_OTHER, "{what}: {}", logged.body);
        let list = officer.get("/quan-ly/don-vi/04792/tinh-nguyen").await;
        assert!(
            list.body.contains("Đỗ Văn Cả") && list.body.contains("<td class=\"num\">2,5</td>"),
            "{what}: {}",
            list.body
        );
        let csrf2 = other.get("/quan-ly/don-vi/04795/tinh-nguyen").await.csrf();
        let sneaked = other
            .post(
                "/quan-ly/don-vi/04795/tinh-nguyen/hoat-dong",
                &[("csrf", &csrf2), ("tinh_nguyen_vien", &volunteer), ("ngay", &today()), ("so_gio", "1")],
            )
            .await;
        assert_eq!(sneaked.status, StatusCode::NOT_FOUND, "{what}: another commune's volunteer");

        // Recognition: the commune proposes, the province decides once.
        let proposed = officer
            .post(
                "/quan-ly/don-vi/04792/khen-thuong",
                &[
                    ("csrf", &csrf),
                    ("loai", "ca_nhan"),
                    ("cccd", "025207000001"),
                    ("thanh_tich", "Dạy 12 lớp học cộng đồng"),
                    ("minh_chung", "Sổ điểm danh các buổi học"),
                ],
            )
            .await;
        assert_eq!(proposed.status, StatusCode::SEE_OTHER, "{what}: {}", proposed.body);
        assert_eq!(officer.get("/quan-ly/khen-thuong").await.status, StatusCode::FORBIDDEN, "{what}");
        let queue = province.get("/quan-ly/khen-thuong").await;
        assert!(queue.body.contains("Đỗ Văn Cả") && queue.body.contains("Chờ tỉnh duyệt"), "{what}: {}", queue.body);
        let nomination = db.scalar("SELECT id FROM nomination");
        let pcsrf = queue.csrf();
        let at = format!("/quan-ly/khen-thuong/{nomination}");
        let approved = province.post(&at, &[("csrf", &pcsrf), ("quyet_dinh", "duyet")]).await;
        assert_eq!(approved.status, StatusCode::SEE_OTHER, "{what}");
        assert!(officer.get("/quan-ly/don-vi/04792/khen-thuong").await.body.contains("Đã duyệt"), "{what}");
        let again = province.post(&at, &[("csrf", &pcsrf), ("quyet_dinh", "tu_choi")]).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{what}");

        // The trader's own download holds these records.
        let data = dat.get("/tai-khoan/du-lieu.json").await;
        assert!(
            data.body.contains("Chợ Trung tâm") && data.body.contains("thanh_toan_khong_tien_mat"),
            "{what}: {}",
            data.body
        );
    }
}
