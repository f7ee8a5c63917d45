//! Writes a sample certificate PDF to the path given (to compare renderings with `pdftoppm`).

fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "chung-nhan-mau.pdf".into());
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
    let comps: Vec<(String, String, u32)> = codes
        .iter()
        .zip(names)
        .enumerate()
        .map(|(i, (c, n))| (c.to_string(), n.to_string(), [100, 83, 67, 50, 100, 92][i % 6]))
        .collect();
    let cert = hocvuso::certificates::pdf::PdfCertificate {
        holder_name: "Tòng Thị Phương Thảo",
        title: "Chứng nhận đạt chuẩn kỹ năng số cơ bản",
        profile: "Người dân",
        level: 2,
        share_percent: 83,
        competences: &comps,
        issued_on: "25/11/2026",
        issuer: "Ủy ban nhân dân tỉnh Phú Thọ — Phong trào Bình dân học vụ số",
        certificate_id: "3f2b9c1e-7a4d-4e8b-9c2f-1d5e6a7b8c9d",
        verify_url: "https://hocvuso.phutho.gov.vn/verify/3f2b9c1e-7a4d-4e8b-9c2f-1d5e6a7b8c9d",
        key_id: "k-1a2b3c4d",
    };
    let bytes = hocvuso::certificates::pdf::render(&cert).expect("the certificate renders");
    std::fs::write(&out, bytes).expect("write the PDF");
}
