//! `/api/auth/*`: tokens (login, refresh, logout), the sessions list, the server's WeChat
//! session_key for the signed-in user, and token introspection for the team's other services.

mod introspect;
mod session_key;
mod sessions;
pub(super) mod tokens;

use crate::http::openapi::ApiRouter;

/// Also recorded with a consent to the privacy policy.
pub(super) use tokens::user_agent;
pub use tokens::{LOGIN_ROUTE, REFRESH_ROUTE};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .merge(tokens::router())
        .merge(sessions::router())
        .merge(session_key::router())
        .merge(introspect::router())
}
