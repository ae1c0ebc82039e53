//! The user as the API shows it: no appid, no session_key, nothing internal.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::state::AppState;
use crate::storage::users::User;

/// The user as every route that answers one shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub openid: String,
    pub unionid: Option<String>,
    pub nickname: Option<String>,
    pub avatar_url: Option<String>,
    /// WeChat's purePhoneNumber: the number without its country code.
    pub phone: Option<String>,
    /// The country calling code of `phone`, without a plus ("86").
    pub phone_country_code: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Whether the user has yet to accept the current privacy policy version.
    pub consent_required: bool,
}

impl UserView {
    /// `user` as shown, given the privacy policy version in force.
    pub fn new(user: User, policy_version: &str) -> Self {
        Self {
            consent_required: user.privacy_consent_version.as_deref() != Some(policy_version),
            id: user.id,
            openid: user.openid,
            unionid: user.unionid,
            nickname: user.nickname,
            avatar_url: user.avatar_url,
            phone: user.phone,
            phone_country_code: user.phone_country_code,
            created_at: user.created_at,
        }
    }
}

impl AppState {
    /// `user` as this server shows it.
    pub fn view(&self, user: User) -> UserView {
        UserView::new(user, &self.privacy_policy_version)
    }
}
