//! Page templates shared by every capability: the layout and the error page.
//! HTML is produced only through askama templates, which escape what they insert.

use askama::Template;

use crate::web::error::AppError;

pub use crate::web::access::Nav;

/// Renders a template. A template that fails to render is a bug: the request answers 500 and the
/// cause goes to the log (through `AppError::Internal`), never a 200 with half a page.
pub fn render(template: &impl Template) -> Result<String, AppError> {
    template.render().map_err(|e| AppError::Internal(anyhow::Error::new(e).context("a template failed to render")))
}

/// A page as a whole response: the rendered template, or the error page when it fails. For
/// handlers that answer with a `Response` rather than a `Result`.
pub fn page(template: &impl Template) -> axum::response::Response {
    page_with_status(axum::http::StatusCode::OK, template)
}

/// `page` with another status (a refused form shown again); a failed render is still a 500.
pub fn page_with_status(status: axum::http::StatusCode, template: &impl Template) -> axum::response::Response {
    use axum::response::IntoResponse;
    match render(template) {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(e) => crate::web::error::PageError(e).into_response(),
    }
}

/// The page shown when even the error page fails to render.
pub const BARE_ERROR_PAGE: &str =
    "<!doctype html><title>Lỗi</title><p>Lỗi hiển thị trang. / The page could not be shown.</p>";

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
    use askama::Template;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;

    /// A template whose filter fails, as a template with a bug would at run time.
    #[derive(Template)]
    #[template(source = "<p>{{ value|refuse }}</p>", ext = "html")]
    struct Broken {
        value: String,
    }

    mod filters {
        #[askama::filter_fn]
        pub fn refuse(_: impl std::fmt::Display, _: &dyn askama::Values) -> askama::Result<String> {
            Err(askama::Error::Custom("this filter always fails".into()))
        }
    }

    #[test]
    fn a_template_that_fails_is_a_500_with_its_cause_not_a_200() {
        let broken = Broken { value: "x".into() };
        let error = super::render(&broken).unwrap_err();
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let crate::web::error::AppError::Internal(cause) = error else { panic!("not an internal error: {error:?}") };
        // The cause (what gets logged) names what failed.
        assert!(format!("{cause:?}").contains("this filter always fails"), "{cause:?}");
        assert_eq!(super::page(&broken).status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            super::page_with_status(StatusCode::UNAUTHORIZED, &broken).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let shown = crate::web::error::PageError(super::render(&broken).unwrap_err()).into_response();
        assert_eq!(shown.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
    #[test]
    fn vietnamese_thousands() {
        assert_eq!(super::number_vi(4_020_000), "4.020.000");
        assert_eq!(super::number_vi(999), "999");
        assert_eq!(super::number_vi(-1234), "-1.234");
    }
}
