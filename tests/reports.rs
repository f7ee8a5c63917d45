//! Quarterly reports (issue 21) through the CLI and HTTP on both databases: the files read by
//! independent readers (openpyxl for XLSX, Python's csv for CSV, pdftotext for PDF) with numbers
//! computed here by hand; DHIS2-style approval order; an approved report's files byte-identical after
//! the data change; scope (a commune submits only its own report, an agency updates only its tasks);
//! the responsibility matrix and the rankings.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::web::{Browser, account, serve};
use common::*;
use reqwest::StatusCode;

/// Four adults of 04792 and two of 04795 (the dashboards' population, without children).
const PEOPLE: &str = "\
025090123456,Nguyễn Văn An,7/3/1990,Nam,04792,Thôn Đông,HO-1,Kinh,nguoi_dan,,,
025192654321,Trần Thị Bình,1992-11-20,Nữ,04792,thôn đông,HO-1,Kinh,nguoi_dan,,,
017085777777,Bùi Văn Dũng,15/6/1985,Nam,04792,Xóm Mới,HO-2,Mường,nguoi_dan|can_bo,,,
025207123123,Hà Văn Giang,31/12/2007,Nam,04792,Xóm Mới,HO-2,Kinh,nguoi_dan,,,
025088123456,Lê Văn Em,2/2/1988,Nam,04795,Tổ 5,HO-9,Kinh,nguoi_dan,,,
025189123457,Lê Thị Phúc,3/3/1989,Nữ,04795,Tổ 5,HO-9,Kinh,nguoi_dan,,,
";

fn import(db: &TestDb) {
    let file = db.write("people.csv", people_file(PEOPLE));
    assert_exit(&db.cli(&["import", "people", path_str(&file)]), 0);
    assert_exit(&db.cli(&["tracking", "rebuild"]), 0);
}

fn pass(db: &TestDb, name: &str) {
    db.query(&format!(
        "UPDATE person SET passed_groups = 2, certified_groups = 2, certified_at = 1 WHERE id = {}",
        person_id(db, name)
    ));
    assert_exit(&db.cli(&["tracking", "rebuild"]), 0);
}

/// A Python with openpyxl, in a virtualenv under the target directory (made the first time).
fn python() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    let venv = target.join("openpyxl-venv");
    let python = venv.join("bin/python");
    let ready = Command::new(&python).args(["-c", "import openpyxl"]).status().is_ok_and(|s| s.success());
    if !ready {
        assert!(Command::new("python3").args(["-m", "venv"]).arg(&venv).status().unwrap().success());
        let pip = venv.join("bin/pip");
        let ok = Command::new(pip).args(["install", "--quiet", "--disable-pip-version-check", "openpyxl"]).status();
        assert!(ok.is_ok_and(|s| s.success()), "pip install openpyxl failed");
    }
    python
}

/// Every cell of every sheet, as openpyxl reads them: `sheet\trow\tvalue` per line.
fn xlsx_cells(file: &Path) -> String {
    let script = "import sys, openpyxl\n\
        wb = openpyxl.load_workbook(sys.argv[1])\n\
        for ws in wb.worksheets:\n\
        \x20   for row in ws.iter_rows(values_only=True):\n\
        \x20       print(ws.title + '\\t' + '\\t'.join('' if v is None else repr(v) for v in row))\n";
    let out = Command::new(python()).args(["-c", script]).arg(file).output().unwrap();
    assert!(out.status.success(), "openpyxl: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The CSV's rows as Python's csv module reads them, joined by tabs.
fn csv_rows(file: &Path) -> String {
    let script = "import sys, csv\n\
        with open(sys.argv[1], encoding='utf-8-sig', newline='') as f:\n\
        \x20   for row in csv.reader(f):\n\
        \x20       print('\\t'.join(row))\n";
    let out = Command::new("python3").args(["-c", script]).arg(file).output().unwrap();
    assert!(out.status.success(), "csv: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn pdf_text(file: &Path) -> String {
    let out =
        Command::new("pdftotext").args(["-layout"]).arg(file).arg("-").output().expect("pdftotext (poppler-utils)");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().replace('\u{a0}', " ")
}

fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no line with {needle} in:\n{text}"))
}

#[tokio::test]
async fn report_files_carry_the_hand_computed_figures() {
    for db in TestDb::all() {
        import(&db);
        // End of Q3: nobody passed. End of Q4: Dũng passed.
        assert_exit(&db.cli(&["tracking", "snapshot", "--quarter", "2025Q3"]), 0);
        pass(&db, "Bùi Văn Dũng");
        assert_exit(&db.cli(&["tracking", "snapshot", "--quarter", "2025Q4"]), 0);
        // Data after the quarter's end does not change its report (it reads the snapshot).
        pass(&db, "Lê Văn Em");

        // The province: adults 6, 1 passed = 16,67 %; target 80 % of 6 = 4.8 → 5, 4 missing;
        // the quarter before 0 %: +16,67 points.
        let xlsx = db.write("p.xlsx", "");
        assert_exit(
            &db.cli(&["report", "quarterly", "--quarter", "2025Q4", "--format", "xlsx", "--out", path_str(&xlsx)]),
            0,
        );
        let cells = xlsx_cells(&xlsx);
        let row = line_with(&cells, "'nguoi_truong_thanh_ky_nang_so'");
        assert!(row.starts_with("Chỉ tiêu\t"), "{row}");
        let values: Vec<&str> = row.split('\t').collect();
        assert_eq!(
            &values[3..11],
            ["1", "6", "16.67", "80", "4", "0", "16.67", "'Chưa đạt'"],
            "{}: {row}",
            db.backend()
        );
        // The lagging communes: 04795 (2 adults, none passed at the quarter's end) before 04792.
        let lag = cells.lines().filter(|l| l.starts_with("Chậm tiến độ\t")).collect::<Vec<_>>();
        assert!(lag.len() >= 3, "{cells}");
        assert!(lag[1].contains("'04795'") && lag[2].contains("'04792'"), "{lag:?}");
        // The task matrix: every task of tasks.toml, a suy_luan lead waiting for confirmation.
        assert!(cells.contains("'Chủ trì (chờ xác nhận)'"), "{cells}");
        assert!(
            cells.contains(
                "Mô hình\t'Mỗi xã, phường tổ chức buổi học cộng đồng hằng tuần'\t'IV.5.4.a'\t'Chưa có dữ liệu'"
            ),
            "{cells}"
        );

        let csv = db.write("p.csv", "");
        assert_exit(
            &db.cli(&["report", "quarterly", "--quarter", "2025Q4", "--format", "csv", "--out", path_str(&csv)]),
            0,
        );
        let rows = csv_rows(&csv);
        assert!(rows.starts_with("Phần\tMã\tNội dung\tĐạt\tTổng số"), "{rows}");
        let row = line_with(&rows, "\tnguoi_truong_thanh_ky_nang_so\t");
        let values: Vec<&str> = row.split('\t').collect();
        assert_eq!(&values[3..11], ["1", "6", "16.67", "80.00", "4", "0.00", "16.67", "Chưa đạt"], "{row}");

        let pdf = db.write("p.pdf", "");
        assert_exit(
            &db.cli(&["report", "quarterly", "--quarter", "2025Q4", "--format", "pdf", "--out", path_str(&pdf)]),
            0,
        );
        let text = pdf_text(&pdf);
        assert!(text.contains("Báo cáo quý 4/2025"), "{text}");
        assert!(text.contains("Chỉ tiêu so với mục tiêu năm 2025"), "{text}");
        let line = line_with(&text, "1/6");
        assert!(line.contains("16,7 %") && line.contains("+16,7 điểm"), "{line}");
        assert!(text.contains("Ma trận trách nhiệm") && text.contains("Chưa có dữ liệu"), "{text}");
        assert!(text.contains("Các xã, phường chậm tiến độ nhất"), "{text}");

        // A commune's report: its villages lag, the tasks are the province's.
        assert_exit(
            &db.cli(&[
                "report",
                "quarterly",
                "--quarter",
                "2025Q4",
                "--unit",
                "04792",
                "--format",
                "pdf",
                "--out",
                path_str(&pdf),
            ]),
            0,
        );
        let text = pdf_text(&pdf);
        let line = line_with(&text, "1/4");
        assert!(line.contains("25,0 %") && line.contains("+25,0 điểm"), "{line}");
        assert!(text.contains("Các thôn, tổ dân phố chậm tiến độ nhất"), "{text}");
        // An agency's: no counted figures, its tasks only.
        assert_exit(
            &db.cli(&[
                "report",
                "quarterly",
                "--quarter",
                "2025Q4",
                "--unit",
                "so_gddt",
                "--format",
                "csv",
                "--out",
                path_str(&csv),
            ]),
            0,
        );
        let rows = csv_rows(&csv);
        assert!(rows.contains("chưa có dữ liệu") && rows.contains("IV.3.1") && !rows.contains("IV.1.3\t"), "{rows}");

        // Bad input: exit 2 or 1 with a message, nothing panics.
        for args in [
            ["report", "quarterly", "--quarter", "2025Q5", "--format", "pdf", "--out", "x"],
            ["report", "quarterly", "--quarter", "2025Q4", "--format", "doc", "--out", "x"],
        ] {
            let out = db.cli(&args);
            assert!(!out.status.success() && !stderr(&out).contains("panicked"), "{}", stderr(&out));
        }
    }
}

async fn submit(b: &Browser, reporter: &str, action: &str) -> StatusCode {
    let csrf = b.csrf().await;
    b.post(&format!("/quan-ly/bao-cao/{reporter}/2025Q4"), &[("csrf", &csrf), ("hanh_dong", action)]).await.status
}

/// Posts a file to an evidence upload form as the page does (multipart, the token in the address).
async fn attach(b: &Browser, path: &str, file: Vec<u8>) -> StatusCode {
    let csrf = b.csrf().await;
    let form = reqwest::multipart::Form::new()
        .text("quy", "2025Q4")
        .part("tep", reqwest::multipart::Part::bytes(file).file_name("minh-chung.pdf"));
    b.client.post(format!("{}{path}?csrf={csrf}", b.base)).multipart(form).send().await.unwrap().status()
}

async fn bytes(b: &Browser, path: &str) -> Vec<u8> {
    let r = b.client.get(format!("{}{path}", b.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn approval_goes_up_in_order_and_locks_the_files() {
    for db in TestDb::all() {
        import(&db);
        db.query("INSERT INTO organisation (code, name, kind, commune_code) VALUES ('SO-GDDT', 'Sở Giáo dục và Đào tạo', 'co_quan', '04792')");
        let xa = account(&db, "xa.dong", "can_bo_xa", "04792", None).await;
        let xa2 = account(&db, "xa.tay", "can_bo_xa", "04795", None).await;
        let tinh = account(&db, "tinh.duyet", "quan_tri_tinh", "25", None).await;
        let nganh = account(&db, "so.gddt", "can_bo_nganh", "25", Some("SO-GDDT")).await;
        let base = serve(&db, db.config()).await;
        let (commune, other, province, agency) =
            (Browser::new(&base), Browser::new(&base), Browser::new(&base), Browser::new(&base));
        commune.login("xa.dong", &xa).await;
        other.login("xa.tay", &xa2).await;
        province.login("tinh.duyet", &tinh).await;
        agency.login("so.gddt", &nganh).await;

        // Each sees its own reports; another commune's is not there.
        let list = commune.get("/quan-ly/bao-cao?quy=2025Q4").await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert!(list.body.contains("/quan-ly/bao-cao/04792/2025Q4") && !list.body.contains("/quan-ly/bao-cao/04795/"));
        assert_eq!(commune.get("/quan-ly/bao-cao/04795/2025Q4").await.status, StatusCode::NOT_FOUND);
        assert_eq!(commune.get("/quan-ly/bao-cao/25/2025Q4").await.status, StatusCode::NOT_FOUND);
        assert_eq!(commune.get("/quan-ly/bao-cao/04792/2025Q9").await.status, StatusCode::BAD_REQUEST);
        assert_eq!(commune.get("/quan-ly/bao-cao/04792/2025Q4/tai/doc").await.status, StatusCode::NOT_FOUND);
        // The rankings print every commune's exact figures: not for one commune's staff.
        assert_ne!(commune.get("/quan-ly/xep-hang?quy=2025Q4").await.status, StatusCode::OK);
        assert_ne!(commune.get("/quan-ly/xep-hang.csv?quy=2025Q4").await.status, StatusCode::OK);
        // A commune submits only its own report.
        assert_eq!(submit(&other, "04792", "gui").await, StatusCode::NOT_FOUND);
        assert_eq!(submit(&commune, "04792", "gui").await, StatusCode::SEE_OTHER);
        assert_eq!(submit(&commune, "04792", "gui").await, StatusCode::CONFLICT);
        // … and does not approve it.
        assert_eq!(submit(&commune, "04792", "duyet").await, StatusCode::FORBIDDEN);
        assert_eq!(submit(&other, "04795", "gui").await, StatusCode::SEE_OTHER);

        // The agency updates its own task, not another agency's, and submits.
        let matrix = agency.get("/quan-ly/nhiem-vu?quy=2025Q4").await;
        assert_eq!(matrix.status, StatusCode::OK, "{}", matrix.body);
        assert!(matrix.body.contains("action=\"/quan-ly/nhiem-vu/IV.3.1/so_gddt\""), "{}", matrix.body);
        assert!(!matrix.body.contains("action=\"/quan-ly/nhiem-vu/IV.1.1/ban_tgdv\""));
        let csrf = matrix.csrf();
        let form = |status: &'static str, progress: &'static str| {
            [
                ("csrf", csrf.clone()),
                ("quy", "2025Q4".into()),
                ("trang_thai", status.into()),
                ("tien_do", progress.into()),
                ("minh_chung", "Công văn 12/SGDĐT".into()),
            ]
        };
        let post = |path: &'static str, f: [(&'static str, String); 5]| {
            let agency = &agency;
            async move {
                let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
                agency.post(path, &f).await.status
            }
        };
        assert_eq!(post("/quan-ly/nhiem-vu/IV.3.1/so_gddt", form("dang_thuc_hien", "60")).await, StatusCode::SEE_OTHER);
        assert_eq!(post("/quan-ly/nhiem-vu/IV.1.1/ban_tgdv", form("hoan_thanh", "100")).await, StatusCode::FORBIDDEN);
        assert_eq!(
            post("/quan-ly/nhiem-vu/IV.3.1/so_gddt", form("dang_thuc_hien", "150")).await,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(post("/quan-ly/nhiem-vu/IV.9.9/so_gddt", form("dang_thuc_hien", "10")).await, StatusCode::NOT_FOUND);
        assert_eq!(db.scalar("SELECT count(*) FROM task_update WHERE agency_code = 'so_gddt' AND progress = 60"), 1);

        // Evidence files: a PDF attached to the agency's own update, read back by the agency and the
        // province only, never through the public media route; a file of another type is refused.
        let pdf = b"%PDF-1.4\n% minh chung\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec();
        let evidence = "/quan-ly/nhiem-vu/IV.3.1/so_gddt/minh-chung";
        assert_eq!(
            attach(&agency, "/quan-ly/nhiem-vu/IV.1.1/ban_tgdv/minh-chung", pdf.clone()).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(attach(&agency, evidence, b"plain text, not evidence".to_vec()).await, StatusCode::BAD_REQUEST);
        assert_eq!(attach(&agency, evidence, pdf.clone()).await, StatusCode::SEE_OTHER);
        let key = db.query("SELECT evidence_key FROM task_update WHERE agency_code = 'so_gddt'").trim().to_owned();
        assert!(key.starts_with("evidence/") && key.ends_with(".pdf"), "{key}");
        assert_eq!(db.scalar("SELECT count(*) FROM audit_log WHERE action = 'task.evidence'"), 1);
        let matrix = agency.get("/quan-ly/nhiem-vu?quy=2025Q4").await;
        assert!(matrix.body.contains(&format!("href=\"{evidence}?quy=2025Q4\"")), "{}", matrix.body);
        for reader in [&agency, &province] {
            let r = reader.client.get(format!("{base}{evidence}?quy=2025Q4")).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(r.headers()["content-type"], "application/pdf");
            assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
            assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);
        }
        assert_eq!(commune.get(&format!("{evidence}?quy=2025Q4")).await.status, StatusCode::NOT_FOUND);
        let public = reqwest::get(format!("{base}/media/{}", key.trim_start_matches("evidence/"))).await.unwrap();
        assert_eq!(public.status(), StatusCode::NOT_FOUND, "an evidence file is not public media");
        assert_eq!(submit(&agency, "so_gddt", "gui").await, StatusCode::SEE_OTHER);
        let sent = String::from_utf8(bytes(&agency, "/quan-ly/bao-cao/so_gddt/2025Q4/tai/csv").await).unwrap();
        assert!(sent.contains("Tệp minh chứng đính kèm (PDF, mã"), "the report names the attached file: {sent}");

        // The province's own report waits for those below.
        assert_eq!(submit(&province, "25", "gui").await, StatusCode::SEE_OTHER);
        assert_eq!(submit(&province, "25", "duyet").await, StatusCode::CONFLICT);
        assert_eq!(submit(&province, "04792", "duyet").await, StatusCode::SEE_OTHER);
        assert_eq!(submit(&province, "so_gddt", "duyet").await, StatusCode::SEE_OTHER);
        assert_eq!(attach(&agency, evidence, pdf.clone()).await, StatusCode::CONFLICT, "approved: locked");
        assert_eq!(submit(&province, "25", "duyet").await, StatusCode::CONFLICT, "04795 is still submitted");
        assert_eq!(submit(&province, "04795", "duyet").await, StatusCode::SEE_OTHER);

        // An approved report's files, then the data change: the same bytes, and the page counts the change.
        let paths = [
            "/quan-ly/bao-cao/04792/2025Q4/tai/pdf",
            "/quan-ly/bao-cao/04792/2025Q4/tai/xlsx",
            "/quan-ly/bao-cao/04792/2025Q4/tai/csv",
        ];
        let mut before = Vec::new();
        for p in paths {
            before.push(bytes(&commune, p).await);
        }
        let open = bytes(&other, "/quan-ly/bao-cao/04795/2025Q4/tai/csv").await;
        pass(&db, "Bùi Văn Dũng");
        pass(&db, "Lê Văn Em");
        for (p, b) in paths.iter().zip(&before) {
            assert!(bytes(&commune, p).await == *b, "{}: {p} changed after approval", db.backend());
        }
        let csv = db.write("a.csv", "");
        assert_exit(
            &db.cli(&[
                "report",
                "quarterly",
                "--quarter",
                "2025Q4",
                "--unit",
                "04792",
                "--format",
                "csv",
                "--out",
                path_str(&csv),
            ]),
            0,
        );
        assert_eq!(std::fs::read(&csv).unwrap(), before[2]);
        let page = commune.get("/quan-ly/bao-cao/04792/2025Q4").await;
        // Adults' and public sector's numerators moved (2 figures), VNeID level… only those counted.
        assert!(page.body.contains("Đã duyệt") && page.body.contains("số liệu đã thay đổi"), "{}", page.body);
        let n: usize = page
            .body
            .split("<strong>")
            .nth(2)
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(n >= 2, "{}", page.body);
        // 04795 was approved too, so its file stays; an agency report is locked for task updates.
        assert!(bytes(&other, "/quan-ly/bao-cao/04795/2025Q4/tai/csv").await == open);
        assert_eq!(post("/quan-ly/nhiem-vu/IV.3.1/so_gddt", form("hoan_thanh", "100")).await, StatusCode::CONFLICT);

        // Everything below approved: the province's report is approved; below it can no longer be returned.
        assert_eq!(submit(&province, "25", "duyet").await, StatusCode::SEE_OTHER);
        assert_eq!(submit(&province, "04792", "tra_lai").await, StatusCode::CONFLICT);
        // The province un-approves its own, then may return the commune's, which is unlocked.
        assert_eq!(submit(&province, "25", "tra_lai").await, StatusCode::SEE_OTHER);
        assert_eq!(submit(&province, "04792", "tra_lai").await, StatusCode::SEE_OTHER);
        assert!(bytes(&commune, paths[2]).await != before[2], "a returned report is made from today's figures");
        assert_eq!(submit(&commune, "04792", "gui").await, StatusCode::SEE_OTHER);

        // Every step is in the audit log.
        assert!(db.scalar("SELECT count(*) FROM audit_log WHERE action = 'report.approve'") >= 4);
        assert_eq!(db.scalar("SELECT count(*) FROM audit_log WHERE action = 'task.update'"), 1);
    }
}

#[tokio::test]
async fn matrix_and_rankings_show_their_figures() {
    for db in TestDb::all() {
        import(&db);
        assert_exit(&db.cli(&["tracking", "snapshot", "--quarter", "2025Q3"]), 0);
        pass(&db, "Bùi Văn Dũng");
        assert_exit(&db.cli(&["tracking", "snapshot", "--quarter", "2025Q4"]), 0);
        let tinh = account(&db, "tinh.xem", "quan_tri_tinh", "25", None).await;
        let base = serve(&db, db.config()).await;
        let province = Browser::new(&base);
        province.login("tinh.xem", &tinh).await;

        let matrix = province.get("/quan-ly/nhiem-vu?quy=2025Q4").await;
        assert_eq!(matrix.status, StatusCode::OK);
        // Nobody updated anything and 25/12/2025 has passed: every part overdue.
        assert!(matrix.body.contains("Quá hạn, chưa cập nhật") && matrix.body.contains("Chủ trì (chờ xác nhận)"));
        // The province confirms an inferred lead (IV.1.2 is suy_luan).
        let csrf = matrix.csrf();
        let r = province.post("/quan-ly/nhiem-vu/IV.1.2/xac-nhan", &[("csrf", &csrf), ("quy", "2025Q4")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let matrix = province.get("/quan-ly/nhiem-vu?quy=2025Q4").await;
        assert!(!matrix.body.contains("action=\"/quan-ly/nhiem-vu/IV.1.2/xac-nhan\""));
        assert_eq!(
            province.post("/quan-ly/nhiem-vu/IV.1.1/xac-nhan", &[("csrf", &csrf)]).await.status,
            StatusCode::NOT_FOUND
        );

        // 04792: adults 1/4 (target 80 %: 0,3125), public sector 1/1 (target 80 %: 1), VNeID 0/4,
        // identity 0/4, households 0/2 …: the page prints A, C and the score; the CSV its inputs.
        let ranking = province.get("/quan-ly/xep-hang?quy=2025Q4").await;
        assert_eq!(ranking.status, StatusCode::OK, "{}", ranking.body);
        assert!(ranking.body.contains("70,0 × A + 30,0 × C"), "{}", ranking.body);
        let inputs = province.get("/quan-ly/xep-hang.csv?quy=2025Q4").await;
        assert_eq!(inputs.status, StatusCode::OK);
        // Recompute 04792's score from the CSV, as a reader would.
        let (mut a, mut c, mut n) = (0.0, 0.0, 0.0);
        for line in inputs.body.lines().filter(|l| l.starts_with("04792,")) {
            let f: Vec<&str> = line.split(',').collect();
            let Ok(value) = f[5].parse::<f64>() else { continue };
            let target: f64 = f[6].parse().unwrap();
            let before: f64 = f[7].parse().unwrap_or(value);
            n += 1.0;
            a += if target == 0.0 { 1.0 } else { (value / target).min(1.0) };
            c += (value - before).clamp(0.0, 10.0) / 10.0;
        }
        let score = 70.0 * a / n + 30.0 * c / n;
        let expected = format!("{score:.1}").replace('.', ",");
        let row = ranking.body.split("<tr>").find(|r| r.contains("(04792)")).unwrap();
        assert!(row.contains(&format!("<td class=\"num\">{expected}</td>")), "{expected}: {row}");
    }
}
