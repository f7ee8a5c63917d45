//! Movement tracking: the counters kept by the write paths always equal a rebuild from the person
//! rows (property test, both databases), and a small hand-made population gives, through the JSON
//! API, the figures computed here by hand.

use crate::common;

use common::web::{Browser, account, serve};
use common::*;
use hocvuso::identity::audit::Actor;
use hocvuso::on_pool;
use hocvuso::store::Store;
use hocvuso::tracking::counters::{self, Bind};
use hocvuso::tracking::entry::{StaffEntry, set_digital_facts};
use hocvuso::tracking::facts::Source;
use hocvuso::tracking::{Conn, rebuild};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use reqwest::StatusCode;

/// Six people of commune 04792 in two households, ages chosen around the 31-December edges:
/// Giang is born 31/12/2007 (18 in 2025), Hoa 1/1/2008 (17 in 2025, 18 in 2026).
const PEOPLE: &str = "\
025090123456,Nguyễn Văn An,7/3/1990,Nam,04792,Thôn Đông,HO-1,Kinh,nguoi_dan,,,
025192654321,Trần Thị Bình,1992-11-20,Nữ,04792,thôn đông,HO-1,Kinh,nguoi_dan,,,
025312000001,Nguyễn Minh Châu,1/9/2012,Nữ,04792,Thôn Đông,HO-1,Kinh,hoc_sinh_sinh_vien,,thcs,
017085777777,Bùi Văn Dũng,15/6/1985,Nam,04792,Xóm Mới,HO-2,Mường,nguoi_dan|can_bo,,,
025207123123,Hà Văn Giang,31/12/2007,Nam,04792,Xóm Mới,HO-2,Kinh,nguoi_dan,,,
025308000002,Hà Thị Hoa,1/1/2008,Nữ,04792,Xóm Mới,HO-2,Kinh,nguoi_dan,,,
";

fn import(db: &TestDb, name: &str, rows: &str) {
    let file = db.write(name, people_file(rows));
    assert_exit(&db.cli(&["import", "people", path_str(&file)]), 0);
}

/// Runs one fact change the way the write paths do: read, change, settle, in one transaction.
async fn direct(store: &Store, id: i64, sql: &str) {
    on_pool!(store, pool => {
        let mut tx = pool.begin().await.unwrap();
        let mut conn: Conn = (&mut *tx).into();
        counters::change(&mut conn, &[id], sql, &[Bind::Int(id)]).await.unwrap();
        tx.commit().await.unwrap();
    });
}

#[derive(Debug, Clone)]
enum Step {
    /// A roster import moving the person to the other village (and household) of 04792.
    Move(usize),
    /// A roster import moving the person to another commune (04795).
    MoveAway(usize),
    Learn(usize),
    /// Passed and certified in a profile (bit).
    Certify(usize, i64),
    Revoke(usize),
    ConfirmVneid(usize),
    Staff(usize, Option<i64>, Option<bool>),
    Erase(usize),
    /// A roster import giving the person an organisation (index into [`ORGANISATIONS`]), or none.
    Employ(usize, usize),
}

/// An agency of 04792 and a cooperative of 04795: people of 04792 work in both.
const ORGANISATIONS: [&str; 3] = ["", "UBND-04792", "HTX-04795"];
const ORGANISATION_FILE: &str = "ma_to_chuc,ten,loai,ma_xa\nUBND-04792,UBND Phường Tân Hòa,co_quan,04792\nHTX-04795,HTX Chè Xanh,hop_tac_xa,04795\n";

fn step() -> impl Strategy<Value = Step> {
    let who = 0..6usize;
    prop_oneof![
        1 => who.clone().prop_map(Step::Move),
        1 => who.clone().prop_map(Step::MoveAway),
        2 => who.clone().prop_map(Step::Learn),
        2 => (who.clone(), prop::sample::select(vec![1i64, 2, 4, 8])).prop_map(|(p, b)| Step::Certify(p, b)),
        1 => who.clone().prop_map(Step::Revoke),
        1 => who.clone().prop_map(Step::ConfirmVneid),
        2 => (who.clone(), prop::option::of(1..=2i64), prop::option::of(any::<bool>()))
            .prop_map(|(p, l, b)| Step::Staff(p, l, b)),
        1 => who.clone().prop_map(Step::Erase),
        2 => (who, 0..ORGANISATIONS.len()).prop_map(|(p, o)| Step::Employ(p, o)),
    ]
}

/// The person's CSV line with the village and household swapped for the other ones.
fn moved_line(db: &TestDb, index: usize) -> String {
    let line = PEOPLE.lines().nth(index).unwrap();
    let village_now = db.query(&format!(
        "SELECT u.name FROM person p JOIN unit u ON u.code = p.village_code WHERE p.id = (SELECT min(id) FROM person) + {index}"
    ));
    let (village, household) = if village_now.trim().eq_ignore_ascii_case("thôn đông") {
        ("Xóm Mới", "HO-2")
    } else {
        ("Thôn Đông", "HO-1")
    };
    let mut fields: Vec<&str> = line.split(',').collect();
    fields[5] = village;
    fields[6] = household;
    fields.join(",") + "\n"
}

async fn apply(db: &TestDb, store: &Store, ids: &[i64], s: &Step) {
    match s {
        Step::Move(p) => import(db, "move.csv", &moved_line(db, *p)),
        Step::MoveAway(p) => {
            let mut fields: Vec<&str> = PEOPLE.lines().nth(*p).unwrap().split(',').collect();
            fields[4] = "04795";
            fields[5] = "Tổ 5";
            fields[6] = "HO-9";
            import(db, "away.csv", &(fields.join(",") + "\n"))
        }
        Step::Learn(p) => {
            direct(store, ids[*p], "UPDATE person SET learned_at = 1 WHERE id = $1 AND learned_at IS NULL").await
        }
        Step::Certify(p, bit) => {
            let sql = format!(
                "UPDATE person SET passed_groups = passed_groups | {bit}, certified_groups = certified_groups | {bit} WHERE id = $1"
            );
            direct(store, ids[*p], &sql).await
        }
        Step::Revoke(p) => direct(store, ids[*p], "UPDATE person SET certified_groups = 0 WHERE id = $1").await,
        Step::ConfirmVneid(p) => {
            direct(
                store,
                ids[*p],
                "UPDATE person SET vneid_confirmed_at = COALESCE(vneid_confirmed_at, 5) WHERE id = $1",
            )
            .await
        }
        Step::Employ(p, o) => {
            let mut fields: Vec<&str> = PEOPLE.lines().nth(*p).unwrap().split(',').collect();
            // A cooperative's worker counts among enterprise workers; an agency's among the public sector.
            // A pupil (with a school level) keeps her groups: she only goes to the organisation.
            fields[8] = match *o {
                _ if !fields[10].is_empty() => fields[8],
                1 => "nguoi_dan|can_bo",
                2 => "nguoi_dan|nguoi_lao_dong",
                _ => fields[8],
            };
            fields[11] = ORGANISATIONS[*o];
            import(db, "employ.csv", &(fields.join(",") + "\n"))
        }
        Step::Staff(p, level, bank) => {
            let entry = StaffEntry { vneid_level: *level, bank_account: *bank };
            set_digital_facts(store, ids[*p], entry, Source::Staff, Actor::CLI).await.unwrap();
        }
        Step::Erase(p) => {
            let before = rebuild::snapshot(store).await.unwrap();
            // What approving an erasure does to the person row.
            direct(
                store,
                ids[*p],
                "UPDATE person SET cccd_hash = NULL, cccd_enc = NULL, full_name = NULL, \
                birth_date = NULL, phone = NULL, erased_at = CURRENT_TIMESTAMP WHERE id = $1",
            )
            .await;
            assert_eq!(rebuild::snapshot(store).await.unwrap(), before, "an erasure changes no counter");
        }
    }
}

#[test]
fn counters_equal_a_rebuild_after_every_change() {
    for db in TestDb::all() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let orgs = db.write("orgs.csv", ORGANISATION_FILE);
        assert_exit(&db.cli(&["import", "organisations", path_str(&orgs)]), 0);
        import(&db, "people.csv", PEOPLE);
        let store = rt.block_on(db.store());
        let ids: Vec<i64> =
            db.query("SELECT id FROM person ORDER BY id").lines().map(|l| l.trim().parse().unwrap()).collect();
        assert_eq!(ids.len(), 6);
        // The import counted them.
        let kept = rt.block_on(rebuild::snapshot(&store)).unwrap();
        assert!(!kept.is_empty(), "{}: an import leaves counters", db.backend());
        let mut runner = TestRunner::new(ProptestConfig { cases: 24, failure_persistence: None, ..Default::default() });
        runner
            .run(&prop::collection::vec(step(), 1..6), |steps| {
                for s in &steps {
                    // Imports re-run the roster only through the CLI, which moves people back and forth.
                    rt.block_on(apply(&db, &store, &ids, s));
                    let kept = rt.block_on(rebuild::snapshot(&store)).unwrap();
                    rt.block_on(rebuild::all(&store)).unwrap();
                    let rebuilt = rt.block_on(rebuild::snapshot(&store)).unwrap();
                    prop_assert_eq!(&kept, &rebuilt, "{}: after {:?} of {:?}", db.backend(), s, steps);
                }
                Ok(())
            })
            .unwrap();
        // And the command agrees with the function.
        let before = rt.block_on(rebuild::snapshot(&store)).unwrap();
        assert_exit(&db.cli(&["tracking", "rebuild"]), 0);
        assert_eq!(rt.block_on(rebuild::snapshot(&store)).unwrap(), before);
        rt.block_on(store.close());
    }
}

fn figure<'a>(json: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    json["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("{code} in {json}"))
}

fn nums(f: &serde_json::Value) -> (i64, i64, i64) {
    (f["numerator"].as_i64().unwrap(), f["denominator"].as_i64().unwrap(), f["gap"].as_i64().unwrap())
}

#[tokio::test]
async fn a_hand_made_population_gives_hand_computed_figures() {
    for db in TestDb::all() {
        import(&db, "people.csv", PEOPLE);
        let id = |name: &str| person_id(&db, name);
        // Dũng passed and holds the public-sector certificate, confirmed on VNeID; An learned a lesson.
        db.query(&format!(
            "UPDATE person SET passed_groups = 2, certified_groups = 2, certified_at = 1, vneid_confirmed_at = 2 WHERE id = {}",
            id("Bùi Văn Dũng")
        ));
        db.query(&format!("UPDATE person SET learned_at = 3 WHERE id = {}", id("Nguyễn Văn An")));
        assert_exit(&db.cli(&["tracking", "rebuild"]), 0);

        let password = account(&db, "canbo", "can_bo_xa", "04792", None).await;
        let base = serve(&db, db.config()).await;
        let officer = Browser::new(&base);
        officer.login("canbo", &password).await;
        // Staff entries through the person's page: Bình level 2 with a bank account, Giang level 2 only.
        for (name, level, bank) in [("Trần Thị Bình", "2", "co"), ("Hà Văn Giang", "2", "")] {
            let path = format!("/quan-ly/nguoi/{}", id(name));
            let csrf = officer.get(&path).await.csrf();
            let page = officer
                .post(&format!("{path}/so-hoa"), &[("muc_vneid", level), ("ngan_hang", bank), ("csrf", &csrf)])
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}: {}", db.backend(), page.body);
        }
        let shown = officer.get(&format!("/quan-ly/nguoi/{}", id("Trần Thị Bình"))).await;
        assert!(shown.body.contains("Mức 2 (Cán bộ ghi nhận)"), "{}", shown.body);
        assert_eq!(db.scalar("SELECT count(*) FROM audit_log WHERE action = 'person.digital_facts'"), 2);
        // A bad value is refused, nothing written.
        let path = format!("/quan-ly/nguoi/{}", id("Hà Thị Hoa"));
        let csrf = officer.get(&path).await.csrf();
        let page =
            officer.post(&format!("{path}/so-hoa"), &[("muc_vneid", "7"), ("ngan_hang", ""), ("csrf", &csrf)]).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);

        let admin_password = account(&db, "tinh", "quan_tri_tinh", "25", None).await;
        let admin = Browser::new(&base);
        admin.login("tinh", &admin_password).await;
        // The commune officer reads the commune; the province administrator the province.
        for (reader, unit) in [(&officer, "04792"), (&admin, "25")] {
            let page = reader.get(&format!("/api/v1/units/{unit}/indicators?year=2025")).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
            assert_eq!(json["unit"], unit);
            assert_eq!(json["year"], 2025);
            assert_eq!(json["indicators"].as_array().unwrap().len(), 7);
            // Public sector: Dũng, certified. 1/1, target 80 %: nobody missing.
            assert_eq!(nums(figure(&json, "can_bo_ky_nang_so")), (1, 1, 0));
            assert_eq!(figure(&json, "can_bo_ky_nang_so")["value"], 1.0);
            // Students 2025 (secondary and up): Châu (thcs), not certified. Gap 1.
            assert_eq!(nums(figure(&json, "hoc_sinh_sinh_vien_ky_nang_so")), (0, 1, 1));
            // Adults on 31/12/2025: An, Bình, Dũng, Giang (not Hoa, not Châu). Dũng passed.
            // 80 % of 4 = 3.2 → 4 people; 4 − 1 = 3 missing.
            assert_eq!(nums(figure(&json, "nguoi_truong_thanh_ky_nang_so")), (1, 4, 3));
            assert_eq!(figure(&json, "nguoi_truong_thanh_ky_nang_so")["value"], 0.25);
            // Confirmed on VNeID: Dũng. 70 % of 4 = 2.8 → 3; 3 − 1 = 2.
            assert_eq!(nums(figure(&json, "xac_nhan_vneid")), (1, 4, 2));
            // No enterprise workers: value null, no gap.
            assert_eq!(nums(figure(&json, "nguoi_lao_dong_dn_ky_nang_so")), (0, 0, 0));
            assert!(figure(&json, "nguoi_lao_dong_dn_ky_nang_so")["value"].is_null());
            // 16 and over: the adults and Hoa (17). Only Bình has level 2 and a bank account.
            assert_eq!(nums(figure(&json, "danh_tinh_so")), (1, 5, 4));
            // Households HO-1 (An learned) and HO-2 (nobody).
            assert_eq!(nums(figure(&json, "gia_dinh_so")), (1, 2, 1));
            assert_eq!(
                figure(&json, "gia_dinh_so")["name"],
                "Hộ gia đình có ít nhất một thành viên tham gia học tập, có kỹ năng số"
            );
        }
        // The province overrides the commune's 2025 target for adults: 50 % of 4 = 2, one missing.
        let store = db.store().await;
        let actor = Actor { account_id: "cli", address: None };
        hocvuso::tracking::entry::set_target(&store, "04792", 2025, "nguoi_truong_thanh_ky_nang_so", Some(0.5), actor)
            .await
            .unwrap();
        store.close().await;
        let page = officer.get("/api/v1/units/04792/indicators?year=2025").await;
        let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
        assert_eq!(nums(figure(&json, "nguoi_truong_thanh_ky_nang_so")), (1, 4, 1));
        assert_eq!(figure(&json, "nguoi_truong_thanh_ky_nang_so")["target"], 0.5);
        assert_eq!(db.scalar("SELECT count(*) FROM audit_log WHERE action = 'indicator.target'"), 1);
        // 2026: Hoa turns 18; the target for adults is 100 %.
        let page = officer.get("/api/v1/units/04792/indicators?year=2026").await;
        let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
        assert_eq!(nums(figure(&json, "nguoi_truong_thanh_ky_nang_so")), (1, 5, 4));
        // A year without targets, an unknown commune, an anonymous caller, another commune.
        let page = officer.get("/api/v1/units/04792/indicators?year=2030").await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.body.contains("\"invalid_year\""), "{}", page.body);
        let page = officer.get("/api/v1/units/04792/indicators?year=abc").await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        // Anonymous callers, and staff outside the unit, get the public figures (issue 20 §3): six people are
        // fewer than 10, so the commune's figures are all hidden, never the exact ones read above.
        let anonymous = Browser::new(&base);
        for (reader, unit) in [(&anonymous, "04792"), (&officer, "04795"), (&officer, "25")] {
            let page = reader.get(&format!("/api/v1/units/{unit}/indicators?year=2025")).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
            assert_eq!(json["exact"], false, "{unit}");
            assert_eq!(json["indicators"].as_array().unwrap().len(), 7);
        }
        let page = anonymous.get("/api/v1/units/04792/indicators?year=2025").await;
        let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
        let adults = figure(&json, "nguoi_truong_thanh_ky_nang_so");
        assert_eq!(adults["suppressed"], true);
        assert!(adults["numerator"].is_null() && adults["denominator"].is_null() && adults["gap"].is_null());
        let page = admin.get("/api/v1/units/99999/indicators?year=2025").await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.body);
        // The API document describes it.
        let doc = anonymous.get("/api/v1/openapi.json").await;
        assert!(doc.body.contains("/api/v1/units/{code}/indicators"), "{}", doc.body);
        assert!(doc.body.contains("IndicatorsJson"));
        // The kept counters still equal a rebuild after the HTTP entries.
        let store = db.store().await;
        let kept = rebuild::snapshot(&store).await.unwrap();
        rebuild::all(&store).await.unwrap();
        assert_eq!(rebuild::snapshot(&store).await.unwrap(), kept);
        store.close().await;
    }
}

/// (numerator, denominator) of one counter row; (0, 0) when there is none.
fn counter(db: &TestDb, unit: &str, year: i32, indicator: &str) -> (i64, i64) {
    let row = db.query(&format!(
        "SELECT numerator, denominator FROM indicator_count WHERE unit_code = '{unit}' AND year = {year} \
         AND indicator = '{indicator}'"
    ));
    let mut parts = row.trim().split('|').filter(|p| !p.is_empty()).map(|p| p.trim().parse::<i64>().unwrap());
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

async fn assert_kept_equals_rebuild(db: &TestDb, when: &str) {
    let store = db.store().await;
    let kept = rebuild::snapshot(&store).await.unwrap();
    rebuild::all(&store).await.unwrap();
    assert_eq!(rebuild::snapshot(&store).await.unwrap(), kept, "{}: {when}", db.backend());
    store.close().await;
}

fn field(page: &common::web::Page, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.body.find(&marker).unwrap_or_else(|| panic!("no field {name} in {}", page.body)) + marker.len();
    page.body[start..].split('"').next().unwrap().to_owned()
}

/// The real write paths end to end: a lesson completed, an exam passed with its certificate, the
/// certificate revoked from the command line.
#[tokio::test]
async fn a_lesson_a_pass_and_a_revocation_move_the_counters() {
    for db in TestDb::all() {
        import(&db, "people.csv", PEOPLE);
        common::exam::import_fixture(&db);
        let base = serve(&db, db.config()).await;
        let browser = common::exam::learner(&db, &base, "an.hv").await;
        let an = person_id(&db, "Nguyễn Văn An");
        db.query(&format!("UPDATE account SET person_id = {an} WHERE login = 'an.hv'"));
        assert_eq!(counter(&db, "04792", 2025, "gia_dinh_so"), (0, 2));

        let checks = browser.get("/bai-hoc/bai-mot?phan=2").await;
        let answer = [
            ("csrf", field(&checks, "csrf")),
            ("su_kien", field(&checks, "su_kien")),
            ("phien_ban", field(&checks, "phien_ban")),
            ("c0", "0".into()),
            ("c1", "0".into()),
        ];
        let form: Vec<(&str, &str)> = answer.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let result = browser.post("/bai-hoc/bai-mot/tra-loi", &form).await;
        assert_eq!(result.status, StatusCode::OK, "{}", result.body);
        // An's household has a learner now, in the village, the commune and the province.
        assert_eq!(counter(&db, "04792", 2025, "gia_dinh_so"), (1, 2), "{}", db.backend());
        assert_eq!(counter(&db, "25", 2026, "gia_dinh_so"), (1, 2));
        assert_kept_equals_rebuild(&db, "after a lesson").await;

        let (_, result) = common::exam::take(&browser, 0).await;
        let certificate = common::exam::certificate_of(&result);
        assert_eq!(counter(&db, "04792", 2025, "nguoi_truong_thanh_ky_nang_so"), (1, 4), "{}", db.backend());
        assert_eq!(db.scalar(&format!("SELECT certified_groups FROM person WHERE id = {an}")), 1);
        assert_kept_equals_rebuild(&db, "after a certificate").await;

        assert_exit(&db.cli(&["certificates", "revoke", &certificate, "--reason", "thi hộ"]), 0);
        assert_eq!(db.scalar(&format!("SELECT certified_groups FROM person WHERE id = {an}")), 0);
        // The pass stands; only the certificate is gone.
        assert_eq!(counter(&db, "04792", 2025, "nguoi_truong_thanh_ky_nang_so"), (1, 4));
        assert_kept_equals_rebuild(&db, "after a revocation").await;
    }
}
