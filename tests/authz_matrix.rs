//! Walks the one route table: every route × every role (and no login) × a resource inside and one
//! outside the role's commune. What the declaration allows must answer; what it refuses must answer
//! 401, 403, 404 or a redirect to the login page, and never show the people of the other commune.

use crate::common;

use common::web::{Browser, Page, account};
use common::*;
use hocvuso::app::table;
use hocvuso::domain::role::Role;
use hocvuso::web::access::{Access, Scope};
use hocvuso::web::routes::Route;
use reqwest::StatusCode;

/// The commune every scoped account works in, and another one.
const HOME: &str = "04792";
const AWAY: &str = "04795";

/// Who makes the requests: the role (none for a visitor), their browser, and their login to sign in again.
type Identity = (Option<Role>, Browser, Option<(String, String)>);

struct Samples {
    person: (i64, i64),
    account: (String, String),
}

fn expected(access: Access, role: Option<Role>, in_scope: bool) -> bool {
    match access {
        Access::Public => true,
        Access::SignedIn | Access::SignedInSetup => role.is_some(),
        // Outside content with basic credentials: never a browser session.
        Access::Client(_) => false,
        Access::Roles { roles, scope } => {
            let Some(role) = role.filter(|r| roles.contains(r)) else { return false };
            // Only the province administrator's grant covers the whole province in this fixture.
            let province = role == Role::QuanTriTinh;
            match scope {
                Scope::Anywhere => true,
                Scope::Province => province,
                Scope::Unit(_) | Scope::Person(_) | Scope::Account(_) | Scope::ErasureRequest(_) => {
                    in_scope || province
                }
            }
        }
    }
}

/// Two pending erasure requests, one per commune, made fresh because approving one consumes it.
fn fresh_requests(db: &TestDb, samples: &Samples) -> (i64, i64) {
    db.query("UPDATE erasure_request SET status = 'tu_choi' WHERE status = 'cho_duyet'");
    let make = |account: &str, commune: &str| {
        db.scalar(&format!(
            "INSERT INTO erasure_request (account_id, commune_code, requested_at, status) \
             VALUES ('{account}', '{commune}', 0, 'cho_duyet') RETURNING id"
        ))
    };
    (make(&samples.account.0, HOME), make(&samples.account.1, AWAY))
}

fn path_for(route: &Route, in_scope: bool, samples: &Samples, request: (i64, i64)) -> String {
    let pick = |pair: (String, String)| if in_scope { pair.0 } else { pair.1 };
    let mut path = route.path.to_owned();
    while let Some(start) = path.find('{') {
        let end = path[start..].find('}').unwrap() + start;
        let value = match &path[start + 1..end] {
            "code" | "unit" | "commune" => pick((HOME.into(), AWAY.into())),
            "person" => pick((samples.person.0.to_string(), samples.person.1.to_string())),
            "account" => pick(samples.account.clone()),
            "request" => pick((request.0.to_string(), request.1.to_string())),
            "slug" => "bai-mot".into(),
            "key" => "khong-co.svg".into(),
            "id" if route.path.contains("/cau-hoi/") => "t11-1".into(),
            "id" => "1".into(),
            "group" => "nguoi_dan".into(),
            "domain" => "4".into(),
            "number" | "list" => "1".into(),
            // The community tech teams made in each commune (issue 22).
            "team" => pick(("1".into(), "2".into())),
            // Issue 22, part B: the records `community_samples` makes, 1 in the home commune, 2 away.
            "class" | "session" | "market" => pick(("1".into(), "2".into())),
            "event" | "nomination" => "1".into(),
            "household" => pick(("HO-1".into(), "HO-9".into())),
            // Issue 22, corrections: a door-to-door visit of each commune's team (`visit_samples`).
            "visit" => pick(("mau-tham-trong".into(), "mau-tham-ngoai".into())),
            // Issue 21: a commune's quarterly report (a reporter is a unit or an agency code), a task and its agency.
            "reporter" => pick((HOME.into(), AWAY.into())),
            "quarter" => "2025Q4".into(),
            "format" => "pdf".into(),
            "task" => "IV.1.2".into(),
            "agency" => "mttq_doan_the".into(),
            other => panic!("the matrix has no sample value for path parameter {{{other}}} of {}: add one", route.path),
        };
        path.replace_range(start..=end, &value);
    }
    path
}

/// A class with a session and a market in each commune (id 1 at home, 2 away), a province-wide
/// event and a nomination of the home commune.
fn community_samples(db: &TestDb) {
    for sql in [
        "INSERT INTO community_class (id, commune_code, title, place, schedule, teacher, audience, created_at) \
         VALUES (2, '04795', 'Lớp', 'Nhà văn hóa', 'Thứ Bảy', 'Tổ', 'moi_nguoi', 0)",
        "INSERT INTO class_session (id, class_id, commune_code, held_on, week_of, created_at) \
         VALUES (2, 2, '04795', '2026-12-05', '2026-11-30', 0)",
        "INSERT INTO market (id, commune_code, name, place, created_at) VALUES (2, '04795', 'Chợ', 'Tổ', 0)",
        "INSERT INTO community_class (id, commune_code, title, place, schedule, teacher, audience, created_at) \
         VALUES (1, '04792', 'Lớp', 'Nhà văn hóa', 'Thứ Bảy', 'Tổ', 'moi_nguoi', 0)",
        "INSERT INTO class_session (id, class_id, commune_code, held_on, week_of, created_at) \
         VALUES (1, 1, '04792', '2026-12-05', '2026-11-30', 0)",
        "INSERT INTO community_event (id, unit_code, kind, title, held_on, place, created_at) \
         VALUES (1, '25', 'ngay_hoi_10_10', 'Ngày hội', '2099-10-10', 'Các xã', 0)",
        "INSERT INTO market (id, commune_code, name, place, created_at) VALUES (1, '04792', 'Chợ', 'Thôn', 0)",
        "INSERT INTO nomination (id, commune_code, kind, collective, achievement, evidence, proposed_at) \
         VALUES (1, '04792', 'tap_the', 'Chi đoàn', 'Thành tích', 'Minh chứng', 0)",
    ] {
        db.query(sql);
    }
}

/// A visit of each commune's team (team 1 at home, 2 away), to a household of that commune.
fn visit_samples(db: &TestDb) {
    for (id, team, commune, household) in [("mau-tham-trong", 1, HOME, "HO-1"), ("mau-tham-ngoai", 2, AWAY, "HO-9")] {
        db.query(&format!(
            "INSERT INTO team_visit (id, team_id, commune_code, village_code, household_code, visited_on, done, \
             content_hash, recorded_by, recorded_at) SELECT '{id}', {team}, '{commune}', min(village_code), '{household}', \
             '2025-06-02', 0, 'mau', (SELECT min(id) FROM account), 0 FROM person \
             WHERE commune_code = '{commune}' AND household_code = '{household}'"
        ));
    }
}

fn refused(page: &Page) -> bool {
    matches!(page.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND)
        || (page.status == StatusCode::SEE_OTHER
            && page.location.as_deref().is_some_and(|l| l.starts_with("/dang-nhap")))
}

#[tokio::test]
async fn every_route_answers_every_role_as_declared() {
    for db in TestDb::all() {
        seed_people(&db);
        let imported = db.cli(&["content", "import", &fixture("content")]);
        assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
        community_samples(&db);
        let mut logins = Vec::new();
        for role in Role::ALL {
            let unit = if role == Role::QuanTriTinh { "25" } else { HOME };
            let login = format!("r.{}", role.code().replace('_', "-"));
            logins.push((role, login.clone(), account(&db, &login, role.code(), unit, None).await));
        }
        db.query(&format!(
            "INSERT INTO tech_team (id, commune_code, name, created_at) VALUES (1, '{HOME}', 'Tổ 1', 0), (2, '{AWAY}', 'Tổ 2', 0)"
        ));
        visit_samples(&db);
        account(&db, "hv.trong", "hoc_vien", HOME, None).await;
        account(&db, "hv.ngoai", "hoc_vien", AWAY, None).await;
        let id_of =
            |login: &str| db.query(&format!("SELECT id FROM account WHERE login = '{login}'")).trim().to_owned();
        let samples = Samples {
            person: (person_id(&db, "Nguyễn Văn An"), person_id(&db, "Lê Văn Em")),
            account: (id_of("hv.trong"), id_of("hv.ngoai")),
        };
        let base = common::web::serve(&db, db.config()).await;

        let mut identities: Vec<Identity> = vec![(None, Browser::new(&base), None)];
        for (role, login, password) in &logins {
            let browser = Browser::new(&base);
            browser.login(login, password).await;
            identities.push((Some(*role), browser, Some((login.clone(), password.clone()))));
        }

        let routes = table();
        assert!(routes.len() > 20, "the table holds every route");
        let mut checked = 0;
        let mut request = fresh_requests(&db, &samples);
        for route in &routes {
            for (role, browser, credentials) in &identities {
                for in_scope in [true, false] {
                    if route.path.contains("{request}") {
                        request = fresh_requests(&db, &samples);
                    }
                    let path = path_for(route, in_scope, &samples, request);
                    let page = if route.method == reqwest::Method::GET {
                        browser.get(&path).await
                    } else {
                        let csrf = if role.is_some() {
                            browser.get("/tai-khoan/mat-khau").await.csrf()
                        } else {
                            browser.csrf().await
                        };
                        browser.post(&path, &[("csrf", &csrf)]).await
                    };
                    let who = role.map_or("không đăng nhập", |r| r.code());
                    let allow = expected(route.access, *role, in_scope);
                    let what = format!(
                        "{} {path} as {who} ({}) on {}",
                        route.method,
                        if in_scope { "in scope" } else { "out of scope" },
                        db.backend()
                    );
                    assert_ne!(page.status, StatusCode::INTERNAL_SERVER_ERROR, "{what}: {}", page.body);
                    if allow {
                        assert!(
                            !refused(&page)
                                // A public or own-resource route may not find the sample resource.
                                // So may a role held anywhere, whose handler filters by the grants.
                                || (page.status == StatusCode::NOT_FOUND
                                    && matches!(
                                        route.access,
                                        Access::Public
                                            | Access::SignedIn
                                            | Access::Roles { scope: Scope::Anywhere, .. }
                                    )),
                            "{what} must be allowed, got {} {:?}",
                            page.status,
                            page.location
                        );
                    } else {
                        assert!(refused(&page), "{what} must be refused, got {}: {}", page.status, page.body);
                        assert!(
                            !page.body.contains("Lê Văn Em") && !page.body.contains("Nguyễn Văn An"),
                            "{what} leaked a name"
                        );
                    }
                    if allow && path.starts_with("/dang-xuat") {
                        let (login, password) = credentials.as_ref().unwrap();
                        browser.login(login, password).await;
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, routes.len() * identities.len() * 2);
    }
}

/// What a commune's staff see in the lists, exports and searches their roles allow: the rows of
/// their commune, never the other's. Each list is seeded with a row of each commune, so a list that
/// forgot its scope shows the other commune's marker.
#[tokio::test]
async fn in_scope_lists_hold_only_their_units_rows() {
    for db in TestDb::all() {
        seed_people(&db);
        let insert_account = |id: &str, name: &str, commune: &str| {
            db.query(&format!(
                "INSERT INTO account (id, display_name, home_commune, self_registered, created_at) \
                 VALUES ('{id}', '{name}', '{commune}', TRUE, 0)"
            ));
        };
        insert_account("tudangkytrong0000000000000000000", "Người Tự Đăng Ký Trong", HOME);
        insert_account("tudangkyngoai0000000000000000000", "Người Tự Đăng Ký Ngoài", AWAY);
        db.query(&format!(
            "INSERT INTO erasure_request (account_id, commune_code, requested_at, status) VALUES \
             ('tudangkytrong0000000000000000000', '{HOME}', 0, 'cho_duyet'), \
             ('tudangkyngoai0000000000000000000', '{AWAY}', 0, 'cho_duyet')"
        ));
        let now = chrono_now();
        db.query(&format!(
            "INSERT INTO audit_log (at, action, unit_code, detail) VALUES \
             ({now}, 'person.list', '{HOME}-001', '{{\"dau\":\"DAU-TRONG\"}}'), \
             ({now}, 'person.list', '{AWAY}', '{{\"dau\":\"DAU-NGOAI\"}}')"
        ));
        let base = common::web::serve(&db, db.config()).await;
        let lists: &[(Role, &str, &str, &str)] = &[
            (Role::CanBoXa, "/quan-ly/don-vi/04792/nguoi", "Nguyễn Văn An", "Lê Văn Em"),
            (Role::CanBoXa, "/quan-ly/don-vi/04792/nguoi?q=V%C4%83n", "Nguyễn Văn An", "Lê Văn Em"),
            (Role::CanBoXa, "/quan-ly/don-vi/04792/nguoi.csv", "Nguyễn Văn An", "Lê Văn Em"),
            (Role::HoTroMotCua, "/quan-ly/don-vi/04792/nguoi", "Nguyễn Văn An", "Lê Văn Em"),
            (Role::CanBoXa, "/quan-ly/tu-dang-ky", "Người Tự Đăng Ký Trong", "Người Tự Đăng Ký Ngoài"),
            (Role::CanBoXa, "/quan-ly/xoa-du-lieu", "tudangkytrong", "tudangkyngoai"),
            (Role::KiemToan, "/kiem-toan", "DAU-TRONG", "DAU-NGOAI"),
        ];
        let mut browsers: Vec<(Role, Browser)> = Vec::new();
        for (role, path, ours, theirs) in lists {
            if !browsers.iter().any(|(r, _)| r == role) {
                let login = format!("pham-vi.{}", role.code().replace('_', "-"));
                let password = account(&db, &login, role.code(), HOME, None).await;
                let browser = Browser::new(&base);
                browser.login(&login, &password).await;
                browsers.push((*role, browser));
            }
            let browser = &browsers.iter().find(|(r, _)| r == role).unwrap().1;
            let page = browser.get(path).await;
            let what = format!("{path} as {} of {HOME} on {}", role.code(), db.backend());
            assert_eq!(page.status, StatusCode::OK, "{what}: {}", page.body);
            assert!(page.body.contains(ours), "{what} must list its own commune's row {ours}");
            assert!(!page.body.contains(theirs), "{what} must not list the other commune's row {theirs}");
        }
        // The province sees both.
        let password = account(&db, "pham-vi.tinh", "quan_tri_tinh", "25", None).await;
        let browser = Browser::new(&base);
        browser.login("pham-vi.tinh", &password).await;
        let page = browser.get("/quan-ly/tu-dang-ky").await;
        assert!(page.body.contains("Người Tự Đăng Ký Trong") && page.body.contains("Người Tự Đăng Ký Ngoài"));
        let page = browser.get("/quan-ly/xoa-du-lieu").await;
        assert!(page.body.contains("tudangkytrong") && page.body.contains("tudangkyngoai"));
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}
