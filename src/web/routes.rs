//! The one route table. The router is built from it alone, and a route can only be declared with
//! the access it needs, so no handler is reachable without a declaration (see `tests/authz_matrix.rs`).

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, post, put};

use crate::app::AppState;
use crate::web::access::{Access, guard};

pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<AppState>,
}

impl Route {
    pub fn get<H, T>(path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self { method: Method::GET, path, access, handler: get(handler) }
    }

    pub fn post<H, T>(path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self { method: Method::POST, path, access, handler: post(handler) }
    }

    pub fn put<H, T>(path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self { method: Method::PUT, path, access, handler: put(handler) }
    }

    pub fn delete<H, T>(path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self { method: Method::DELETE, path, access, handler: delete(handler) }
    }

    /// A POST that takes a file: its own body limit instead of the site's small one.
    pub fn upload<H, T>(path: &'static str, access: Access, handler: H, limit: usize) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self { method: Method::POST, path, access, handler: post(handler).layer(DefaultBodyLimit::max(limit)) }
    }
}

/// The router: each route wrapped in the guard that enforces its declaration. The guard wraps
/// only the declared method (`route_layer`): a request with another method gets axum's 405 with
/// `Allow`, not the guard's answer (a CSRF 403 for a TRACE).
pub fn build(state: &AppState, table: Vec<Route>) -> Router<AppState> {
    table.into_iter().fold(Router::new(), |router, route| {
        let declared = route.access;
        let layer = axum::middleware::from_fn_with_state((state.clone(), declared), guard);
        router.route(route.path, route.handler.route_layer(layer))
    })
}
