//! What every request handler shares.

use std::ops::Deref;
use std::sync::Arc;

use sqlx::PgPool;

use crate::sealing::SessionKeySealer;
use crate::tokens::AccessTokens;
use crate::wechat::WechatClient;

/// Cheap to clone: axum clones the state for every request.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

pub struct Services {
    pub db: PgPool,
    pub wechat: WechatClient,
    pub tokens: AccessTokens,
    pub sealer: SessionKeySealer,
}

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}
