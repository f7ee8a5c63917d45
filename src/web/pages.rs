//! Page templates shared by every capability: the layout and the error page.
//! HTML is produced only through askama templates, which escape what they insert.

use askama::Template;

pub use crate::web::access::Nav;

/// Renders a template; a template that fails to render is a bug, shown as a short plain page.
pub fn render(template: &impl Template) -> String {
    template.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "template failed to render");
        "<!doctype html><title>Lỗi</title><p>Lỗi hiển thị trang. / The page could not be shown.</p>".into()
    })
}

/// Thousands separated with dots, as Vietnamese writes numbers: 1.234.567.
pub fn number_vi(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub message: String,
    pub nav: Nav,
}

#[cfg(test)]
mod tests {
    #[test]
    fn vietnamese_thousands() {
        assert_eq!(super::number_vi(4_020_000), "4.020.000");
        assert_eq!(super::number_vi(999), "999");
        assert_eq!(super::number_vi(-1234), "-1.234");
    }
}
