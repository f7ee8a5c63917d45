//! Renders a certificate as a one-page A4 (landscape) PDF through the document engine
//! ([`crate::documents`]): the layout is the Typst template `certificate.typ`, the QR code pointing
//! to the verification page an SVG image in it.
//!
//! [`render`] never panics: every field is cleaned and bounded here (the template shrinks long
//! text, then cuts it); a verification URL too long for a QR code leaves a notice in its place.

use serde_json::json;

use crate::documents::{self, DocumentError, clean};

/// What the PDF shows. All text is Vietnamese (with diacritics), already NFC.
pub struct PdfCertificate<'a> {
    pub holder_name: &'a str,
    pub title: &'a str,
    pub profile: &'a str,
    pub level: u8,
    pub share_percent: u32,
    /// (code, Vietnamese name, percent)
    pub competences: &'a [(String, String, u32)],
    pub issued_on: &'a str,
    pub issuer: &'a str,
    pub certificate_id: &'a str,
    /// Encoded in the QR code and printed under it.
    pub verify_url: &'a str,
    pub key_id: &'a str,
}

const TEMPLATE: &str = include_str!("certificate.typ");
/// Longest input kept from any one field (characters); more cannot be shown.
const MAX_FIELD_CHARS: usize = 600;
/// Competence rows drawn at most (more are summarised in one line).
const MAX_ROWS: usize = 24;

/// Renders the certificate; the bytes are a complete PDF file.
pub fn render(c: &PdfCertificate) -> Result<Vec<u8>, DocumentError> {
    let url = clean(c.verify_url, MAX_FIELD_CHARS);
    let qr = documents::qr::svg(&url);
    let rows: Vec<_> = c
        .competences
        .iter()
        .take(MAX_ROWS)
        .map(|(code, name, pct)| {
            json!({
                "code": clean(code, 12),
                "name": clean(name, 160),
                "percent": (*pct).min(100),
                "percent_text": format!("{pct}%"),
            })
        })
        .collect();
    let data = json!({
        "holder": clean(c.holder_name, 120),
        "title": clean(c.title, 160),
        "profile_line": format!("Đối tượng: {} — Bậc {}", clean(c.profile, 160), c.level),
        "share": format!("{}%", c.share_percent),
        "competences": rows,
        "more": c.competences.len().saturating_sub(MAX_ROWS),
        "issued_on": clean(c.issued_on, 40),
        "issuer": clean(c.issuer, 200),
        "certificate_id": clean(c.certificate_id, 80),
        "key_id": clean(c.key_id, 80),
        "url_lines": url_lines(&url),
        "has_qr": qr.is_some(),
    });
    let mut files = Vec::new();
    if let Some(svg) = qr {
        files.push(("qr.svg", svg));
    }
    documents::pdf(&documents::Document { template: TEMPLATE, data: &data, files, ident: c.certificate_id })
}

/// The URL cut into lines of at most 40 characters, after `/`, `?`, `&`, `=` or `#` where it can
/// (no line ends with `-`: text extractors take that for a hyphenation), four lines at most.
fn url_lines(url: &str) -> Vec<String> {
    const WIDTH: usize = 40;
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut part = String::new();
    let flush_part = |cur: &mut String, part: &mut String, lines: &mut Vec<String>| {
        if cur.chars().count() + part.chars().count() > WIDTH && !cur.is_empty() {
            lines.push(std::mem::take(cur));
        }
        for ch in part.drain(..) {
            if cur.chars().count() >= WIDTH {
                let carry = if cur.len() > 1 && cur.ends_with('-') { cur.pop() } else { None };
                lines.push(std::mem::take(cur));
                cur.extend(carry);
            }
            cur.push(ch);
        }
    };
    for ch in url.chars() {
        part.push(ch);
        if matches!(ch, '/' | '?' | '&' | '=' | '#') {
            flush_part(&mut cur, &mut part, &mut lines);
        }
    }
    flush_part(&mut cur, &mut part, &mut lines);
    if !cur.is_empty() {
        lines.push(cur);
    }
    if lines.len() > 4 {
        lines.truncate(4);
        if let Some(last) = lines.last_mut() {
            last.push('…');
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn competences() -> Vec<(String, String, u32)> {
        let names = [
            "Duyệt, tìm kiếm và lọc dữ liệu, thông tin và nội dung số",
            "Đánh giá dữ liệu, thông tin và nội dung số",
            "Quản lý dữ liệu, thông tin và nội dung số",
            "Tương tác thông qua các công nghệ số",
            "Chia sẻ thông qua các công nghệ số",
            "Tham gia với tư cách công dân thông qua các công nghệ số",
            "Hợp tác thông qua các công nghệ số",
            "Quy tắc ứng xử trên mạng",
            "Quản lý danh tính số",
            "Phát triển nội dung số",
            "Bảo vệ thiết bị và dữ liệu cá nhân, quyền riêng tư",
            "Bảo vệ sức khỏe, tinh thần và môi trường",
            "Giải quyết các vấn đề kỹ thuật",
        ];
        let codes = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.1", "4.1", "4.2", "5.1"];
        codes
            .iter()
            .zip(names)
            .enumerate()
            .map(|(i, (c, n))| (c.to_string(), n.to_string(), [100, 83, 67, 50, 100, 92][i % 6]))
            .collect()
    }

    fn sample<'a>(name: &'a str, comps: &'a [(String, String, u32)]) -> PdfCertificate<'a> {
        PdfCertificate {
            holder_name: name,
            title: "Chứng nhận đạt chuẩn kỹ năng số cơ bản",
            profile: "Người dân",
            level: 2,
            share_percent: 83,
            competences: comps,
            issued_on: "25/11/2026",
            issuer: "Ủy ban nhân dân tỉnh Phú Thọ — Phong trào Bình dân học vụ số",
            certificate_id: "3f2b9c1e-7a4d-4e8b-9c2f-1d5e6a7b8c9d",
            verify_url: "https://hocvuso.phutho.gov.vn/verify/3f2b9c1e-7a4d-4e8b-9c2f-1d5e6a7b8c9d",
            key_id: "k-1a2b3c4d",
        }
    }

    #[test]
    fn renders_sample() {
        let comps = competences();
        let pdf = render(&sample("Tòng Thị Phương Thảo Nguyễn Hoàng Yến Nhi", &comps)).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        assert!(pdf.len() < 150 * 1024, "PDF is {} bytes", pdf.len());
        // Fonts are embedded.
        assert!(pdf.windows(8).any(|w| w == b"FontFile"));
    }

    #[test]
    fn empty_list_and_huge_inputs_do_not_panic() {
        let long_name: String = "Nguyễn Thị Lan ".chars().cycle().take(300).collect();
        let pdf = render(&sample(&long_name, &[])).unwrap();
        assert!(pdf.starts_with(b"%PDF"));

        let one_word: String = "ữ".repeat(300);
        let many: Vec<(String, String, u32)> =
            (0..200).map(|i| (format!("{i}.{i}.{i}"), long_name.clone(), i * 7)).collect();
        let weird = "\u{0}\t\n\u{202E}😀 中文 e\u{0301}";
        let cert = PdfCertificate {
            holder_name: &one_word,
            title: &long_name,
            profile: weird,
            level: u8::MAX,
            share_percent: u32::MAX,
            competences: &many,
            issued_on: "",
            issuer: &long_name,
            certificate_id: &one_word,
            verify_url: &"x".repeat(5000),
            key_id: "",
        };
        assert!(render(&cert).unwrap().starts_with(b"%PDF"));

        let empty = PdfCertificate {
            holder_name: "",
            title: "",
            profile: "",
            level: 0,
            share_percent: 0,
            competences: &[],
            issued_on: "",
            issuer: "",
            certificate_id: "",
            verify_url: "",
            key_id: "",
        };
        assert!(render(&empty).unwrap().starts_with(b"%PDF"));
    }
}
