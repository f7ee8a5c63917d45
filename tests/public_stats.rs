//! Public statistics (issue 20 §3): the home page, `/thong-ke`, the open data and the anonymous answers of the
//! indicators API show only figures that passed the disclosure control, built once for the whole province, and no
//! hidden figure can be worked out from what they publish together.

use crate::common;

use std::collections::HashMap;

use common::web::{Browser, account, serve};
use common::*;
use hocvuso::domain::disclosure::{self, Cell, Figure, Row, Tree};
use reqwest::StatusCode;

/// Adults only (born 1980–1999): commune 04792 in three villages (20, 15 and 12 people), 04795 with 30 in one, and
/// 04828 with 4 people, under 10. Two people per household. The first `passed` of each village passed.
fn population() -> String {
    let villages: [(&str, &str, usize, usize); 5] = [
        ("04792", "Thôn Một", 20, 12),
        ("04792", "Thôn Hai", 15, 3),
        ("04792", "Thôn Ba", 12, 1),
        ("04795", "Tổ Một", 30, 11),
        ("04828", "Tổ Chín", 4, 2),
    ];
    let mut rows = String::new();
    let mut serial = 0;
    for (v, (commune, village, people, _)) in villages.iter().enumerate() {
        for i in 0..*people {
            serial += 1;
            let year = 80 + serial % 20;
            rows.push_str(&format!(
                "0250{year}{serial:06},{},1/1/19{year},Nam,{commune},{village},HO-{v}-{},Kinh,nguoi_dan,,,\n",
                name(serial),
                i / 2
            ));
        }
    }
    rows
}

fn passed_names() -> Vec<String> {
    let counts = [(20, 12), (15, 3), (12, 1), (30, 11), (4, 2)];
    let mut names = Vec::new();
    let mut serial = 0;
    for (people, passed) in counts {
        for i in 0..people {
            serial += 1;
            if i < passed {
                names.push(name(serial));
            }
        }
    }
    names
}

/// A name without digits (the import refuses them), one per serial number below 100.
fn name(serial: usize) -> String {
    const GIVEN: [&str; 10] = ["An", "Bình", "Châu", "Dũng", "Giang", "Hoa", "Khánh", "Lan", "Minh", "Nam"];
    format!("Nguyễn {} {}", GIVEN[serial / 10 % 10], GIVEN[serial % 10])
}

fn parent_of(code: &str) -> Option<String> {
    match code.rsplit_once('-') {
        Some((parent, _)) => Some(parent.to_owned()),
        None if code == "25" => None,
        None => Some("25".to_owned()),
    }
}

#[tokio::test]
async fn public_figures_hide_small_units_and_cannot_be_undone() {
    for db in TestDb::all() {
        let file = db.write("people.csv", people_file(&population()));
        assert_exit(&db.cli(&["import", "people", path_str(&file)]), 0);
        let names = passed_names().iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
        db.query(&format!("UPDATE person SET passed_groups = 1 WHERE full_name IN ({names})"));
        assert_exit(&db.cli(&["tracking", "rebuild"]), 0);
        let password = account(&db, "canbo.tn", "can_bo_xa", "04828", None).await;
        let base = serve(&db, db.config()).await;
        let anonymous = Browser::new(&base);

        // Open data, JSON: the small commune and its village hidden, with a complement; nothing recoverable.
        let page = anonymous.get("/thong-ke/du-lieu-mo.json?nam=2025").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.headers["link"].to_str().unwrap().contains("rel=\"license\""));
        let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
        assert_eq!(json["licence"], "CC-BY-4.0");
        assert!(json["source"].as_str().unwrap().contains("Phú Thọ"));
        let rows = json["rows"].as_array().unwrap();
        let adults = |unit: &str| {
            rows.iter()
                .find(|r| r["unit_code"] == unit && r["indicator"] == "nguoi_truong_thanh_ky_nang_so")
                .unwrap_or_else(|| panic!("{unit}"))
        };
        for unit in ["04828", "04828-001"] {
            let row = adults(unit);
            assert_eq!(row["suppressed"], true, "{row}");
            assert!(row["numerator"].is_null() && row["denominator"].is_null() && row["value"].is_null(), "{row}");
        }
        for r in rows.iter().filter(|r| r["unit_code"].as_str().unwrap().starts_with("04828")) {
            assert!(r["numerator"].is_null() || r["denominator"] == 0, "a small unit's figure is published: {r}");
        }
        assert_eq!(adults("25")["denominator"], 81);
        assert_eq!(adults("25")["numerator"], 29);
        assert_eq!(adults("04792")["denominator"], 47);
        assert_eq!(adults("04792-001")["numerator"], 12);
        assert_eq!(adults("04792-003")["suppressed"], true);
        assert!(rows.iter().filter(|r| r["suppressed"] == true && r["level"] == "xa").count() >= 2);

        // The independent check, per population: the exact counters as the tree, the published JSON as the table.
        let exact: HashMap<(String, String), (u64, u64)> = db
            .query("SELECT unit_code || ',' || indicator || ',' || numerator || ',' || denominator FROM indicator_count WHERE year = 2025")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.trim().split(',').collect();
                ((f[0].to_owned(), f[1].to_owned()), (f[2].parse().unwrap(), f[3].parse().unwrap()))
            })
            .collect();
        let populations: [&[&str]; 5] = [
            &["can_bo_ky_nang_so"],
            &["hoc_sinh_sinh_vien_ky_nang_so"],
            &["nguoi_truong_thanh_ky_nang_so", "xac_nhan_vneid"],
            &["nguoi_lao_dong_dn_ky_nang_so"],
            &["danh_tinh_so"],
        ];
        for indicators in populations {
            let of = |code: &str| rows.iter().filter(move |r| r["indicator"] == code).collect::<Vec<_>>();
            let units: Vec<String> =
                of(indicators[0]).iter().map(|r| r["unit_code"].as_str().unwrap().to_owned()).collect();
            let position: HashMap<&str, usize> = units.iter().enumerate().map(|(i, u)| (u.as_str(), i)).collect();
            let mut cells = Vec::new();
            let mut published = Vec::new();
            for (i, unit) in units.iter().enumerate() {
                let mut values = Vec::new();
                let mut figures = Vec::new();
                for code in indicators {
                    let (n, d) = exact.get(&(unit.clone(), (*code).to_owned())).copied().unwrap_or((0, 0));
                    values.extend([d, n]);
                    let row = of(code)[i];
                    assert_eq!(row["unit_code"], unit.as_str());
                    for (key, exact) in [("denominator", d), ("numerator", n)] {
                        figures.push(match row[key].as_u64() {
                            Some(shown) => {
                                assert_eq!(shown, exact, "{row}");
                                Figure::Published(shown)
                            }
                            None => Figure::Suppressed,
                        });
                    }
                }
                let parent = parent_of(unit).map(|p| position[p.as_str()]);
                let suppressed = figures.contains(&Figure::Suppressed);
                cells.push(Cell { code: unit.clone(), parent, values });
                published.push(Row { code: unit.clone(), suppressed, figures });
            }
            let tree = Tree::new(cells).expect("the published rows add up along the tree");
            let found = disclosure::recoverable(&tree, &disclosure::Published { rows: published });
            assert!(found.iter().all(|f| !f), "{}: a hidden figure can be worked out ({indicators:?})", db.backend());
        }

        // Open data, CSV: the documented header, the same rows, empty cells where hidden, the licence in the headers.
        let page = anonymous.get("/thong-ke/du-lieu-mo.csv?nam=2025").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.headers["link"].to_str().unwrap().contains("creativecommons.org/licenses/by/4.0"));
        assert!(page.headers["content-disposition"].to_str().unwrap().contains("CC-BY-4.0"));
        let body = page.body.strip_prefix('\u{feff}').expect("a byte-order mark");
        let mut reader = csv::Reader::from_reader(body.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(header, hocvuso::portal::open_data::COLUMNS);
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), rows.len());
        let small = records.iter().find(|r| &r[0] == "04828" && &r[4] == "nguoi_truong_thanh_ky_nang_so").unwrap();
        assert_eq!((&small[5], &small[6], &small[7], &small[9]), ("", "", "", "true"));
        let province = records.iter().find(|r| &r[0] == "25" && &r[4] == "nguoi_truong_thanh_ky_nang_so").unwrap();
        assert_eq!((&province[5], &province[6], &province[7], &province[8]), ("29", "81", "0.3580", "0.8"));

        // Pages: the province against its target on the home page (the current year, 2026: target 100 %).
        let home = anonymous.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.body.len() < 50_000, "{}", home.body.len());
        assert!(home.body.contains("đạt 35,8 % (29 / 81), mục tiêu 100 %, còn thiếu 52 người"), "{}", home.body);
        assert!(home.body.contains("Cần giúp đỡ?"));
        let stats = anonymous.get("/thong-ke?nam=2025").await;
        assert_eq!(stats.status, StatusCode::OK);
        assert!(stats.body.contains(disclosure::FOOTNOTE_VI), "{}", stats.body);
        let line = stats.body.lines().find(|l| l.contains("Phường Thống Nhất")).expect("the small commune's row");
        assert!(!line.contains('%'), "{line}");
        assert!(stats.body.contains("đạt 35,8 % (29 / 81), mục tiêu 80 %, còn thiếu 36 người"));
        let small = anonymous.get("/thong-ke/04828?nam=2025").await;
        assert_eq!(small.status, StatusCode::OK);
        assert!(small.body.contains("Số liệu được ẩn") && !small.body.contains("(2 / 4)"), "{}", small.body);
        let commune = anonymous.get("/thong-ke/04792?nam=2025").await;
        assert!(commune.body.contains("Thôn Một") && commune.body.contains("(16 / 47)"), "{}", commune.body);
        assert_eq!(anonymous.get("/thong-ke/04792-001").await.status, StatusCode::NOT_FOUND);
        assert_eq!(anonymous.get("/thong-ke?nam=2030").await.status, StatusCode::BAD_REQUEST);
        let bad = anonymous.get("/thong-ke/du-lieu-mo.json?nam=abc").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);

        // The indicators API: anonymous callers get the public figures, the commune's officer the exact ones.
        let public = anonymous.get("/api/v1/units/04828/indicators?year=2025").await;
        let public: serde_json::Value = serde_json::from_str(&public.body).unwrap();
        assert_eq!(public["exact"], false);
        let officer = Browser::new(&base);
        officer.login("canbo.tn", &password).await;
        let exact = officer.get("/api/v1/units/04828/indicators?year=2025").await;
        let exact: serde_json::Value = serde_json::from_str(&exact.body).unwrap();
        assert_eq!(exact["exact"], true, "{exact}");
        let pick = |json: &serde_json::Value| {
            json["indicators"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["code"] == "nguoi_truong_thanh_ky_nang_so")
                .cloned()
                .unwrap()
        };
        assert_eq!(pick(&public)["suppressed"], true);
        assert!(pick(&public)["numerator"].is_null());
        assert_eq!((pick(&exact)["numerator"].as_i64(), pick(&exact)["denominator"].as_i64()), (Some(2), Some(4)));
        assert_eq!(pick(&exact)["suppressed"], false);
        // The open data are in the API document.
        let doc = anonymous.get("/api/v1/openapi.json").await;
        assert!(doc.body.contains("/thong-ke/du-lieu-mo.json") && doc.body.contains("/thong-ke/du-lieu-mo.csv"));
    }
}
