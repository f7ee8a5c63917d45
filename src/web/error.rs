//! One error type for every handler: a stable snake_case code, the right status, a message in
//! Vietnamese and English. The cause of a 500 goes to the log, never to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("không tìm thấy / not found")]
    NotFound { code: &'static str, message: String },
    #[error("yêu cầu không hợp lệ / bad request")]
    BadRequest { code: &'static str, message: String },
    #[error("cần đăng nhập / sign-in required")]
    Unauthorized,
    #[error("không được phép / forbidden")]
    Forbidden { code: &'static str, message: String },
    #[error("xung đột / conflict")]
    Conflict { code: &'static str, message: String },
    #[error("quá nhiều yêu cầu / too many requests")]
    TooMany { code: &'static str, message: String },
    /// A client error of another status (413, 415, 422, …), e.g. a request the extractors refuse.
    #[error("yêu cầu không được chấp nhận / request refused")]
    Status { status: StatusCode, code: &'static str, message: String },
    #[error("cơ sở dữ liệu không trả lời / the database does not answer")]
    Unavailable,
    #[error("lỗi máy chủ / internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => Self::Unavailable,
            other => Self::Internal(other.into()),
        }
    }
}

/// Every API error: a stable code and a message in Vietnamese and English.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: &'static str,
    pub message: String,
}

impl AppError {
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::NotFound { code, message: message.into() }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { code, message: message.into() }
    }

    pub fn forbidden() -> Self {
        Self::Forbidden {
            code: "forbidden",
            message: "Tài khoản của bạn không có quyền xem trang này. / Your account may not see this page.".into(),
        }
    }

    /// Out of scope answers like absent, so nobody learns what exists beyond their units.
    pub fn hidden() -> Self {
        Self::not_found("not_found", "Không tìm thấy. / Not found.")
    }

    pub fn csrf() -> Self {
        Self::Forbidden {
            code: "csrf_failed",
            message: "Biểu mẫu đã hết hạn hoặc không hợp lệ; xin tải lại trang và gửi lại. \
                      / The form expired or is not valid; reload the page and send it again."
                .into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Status { status, .. } => *status,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn body(&self) -> ErrorBody {
        match self {
            Self::NotFound { code, message }
            | Self::BadRequest { code, message }
            | Self::Forbidden { code, message }
            | Self::TooMany { code, message }
            | Self::Conflict { code, message }
            | Self::Status { code, message, .. } => ErrorBody {
                error: code,
                message: message.clone(),
            },
            Self::Unauthorized => ErrorBody {
                error: "unauthorized",
                message: "Cần đăng nhập. / Sign in first.".into(),
            },
            Self::Unavailable => ErrorBody {
                error: "database_unavailable",
                message: "Cơ sở dữ liệu tạm thời không trả lời, xin thử lại sau. / The database is not answering; try again later.".into(),
            },
            Self::Internal(_) => ErrorBody {
                error: "internal_error",
                message: "Đã có lỗi ở máy chủ; lỗi đã được ghi lại. / Something went wrong on the server; it has been logged.".into(),
            },
        }
    }

    fn log(&self) {
        match self {
            Self::Internal(cause) => tracing::error!(error = ?cause, "request failed"),
            Self::Unavailable => tracing::warn!("database unavailable"),
            _ => {}
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        (self.status(), Json(self.body())).into_response()
    }
}

/// The same error shown as a page, for the HTML side of the site.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.log();
        let body = self.0.body();
        let page = crate::web::pages::ErrorPage {
            status: self.0.status().as_u16(),
            message: body.message,
            nav: Default::default(),
        };
        let html = crate::web::pages::render(&page).unwrap_or_else(|e| {
            e.log();
            crate::web::pages::BARE_ERROR_PAGE.to_owned()
        });
        (self.0.status(), Html(html)).into_response()
    }
}
