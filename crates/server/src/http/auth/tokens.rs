//! `/api/auth/login`, `/refresh`, `/logout` and `/logout-all`: trading a `wx.login()` code for
//! tokens, renewing them, and ending sessions.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::domain::{is_bidi_control, RefreshToken, WechatCode};
use crate::error::ApiError;
use crate::http::client_ip::ClientIp;
use crate::http::openapi::{errors, ApiRouter};
use crate::http::rate_limit::{Login, Refresh, Within};
use crate::http::user_view::UserView;
use crate::http::{ApiJson, AuthUser};
use crate::state::AppState;
use crate::storage::login::{LoginIdentity, NewSession};
use crate::storage::sessions::{Rotation, Successor};
use crate::tokens::{IssuedToken, TokenSubject};

/// Enough to tell devices apart in the sessions list; longer user agents are cut.
const MAX_USER_AGENT_CHARS: usize = 256;

/// The routes whose answers are counted as logins and refreshes (`http/observe.rs`): the paths
/// of the `login` and `refresh` annotations below.
pub const LOGIN_ROUTE: &str = "/api/auth/login";
pub const REFRESH_ROUTE: &str = "/api/auth/refresh";

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(logout_all))
}

#[derive(Deserialize, ToSchema)]
struct LoginRequest {
    /// The code `wx.login()` gave the mini program; WeChat accepts it once, within 5 minutes.
    code: String,
}

/// What a login answers; scan-to-login hands a browser the same.
#[derive(Serialize, ToSchema)]
pub(crate) struct LoginResponse {
    #[serde(flatten)]
    pub(crate) tokens: TokenPair,
    pub(crate) user: UserView,
    /// Whether this login created the user.
    pub(crate) new_user: bool,
}

/// An access token and the refresh token that renews it.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenPair {
    /// For `Authorization: Bearer`; a JWT the team's services can verify with the key set.
    access_token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: u64,
    /// Trades for a new pair once, at `/api/auth/refresh`.
    refresh_token: String,
    /// Seconds until the refresh token expires.
    refresh_expires_in: u64,
}

errors!(LoginErrors:
    "rate_limited", "invalid_request", "payload_too_large", "request_timeout", "invalid_code",
    "user_blocked", "upstream_busy", "upstream_error", "server_misconfigured", "unavailable");

/// Trades a `wx.login()` code for a session and its tokens.
///
/// Order matters: nothing is written and no token is signed until WeChat has vouched for the
/// code, so every error path leaves no user behind and hands out nothing.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", security(()),
    request_body = LoginRequest,
    responses((status = 200, description = "The tokens of a new session, and its user",
        body = LoginResponse), LoginErrors))]
async fn login(
    _: Within<Login>,
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    headers: HeaderMap,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let code = WechatCode::parse(request.code)?;
    let session = state.wechat.code_to_session(&code).await?;
    // Before anything is written: a sign-up WeChat ranks too risky leaves no user behind.
    let risk_rank = state
        .signup_risk
        .assess(
            &state.db,
            &state.wechat,
            &state.platform_tokens,
            &session.openid,
            client_ip,
        )
        .await?;
    let appid = state.wechat.appid();
    let sealed = state
        .session_keys
        .seal(&session.session_key, appid, &session.openid);
    let session_id = Uuid::new_v4();
    let refresh_token = RefreshToken::generate();
    let now = OffsetDateTime::now_utc();
    let record = state
        .sessions
        .open(&LoginIdentity {
            appid,
            openid: &session.openid,
            unionid: session.unionid.as_deref(),
            sealed_session_key: &sealed,
            risk_rank,
            session: NewSession {
                id: session_id,
                user_agent: user_agent(&headers).as_deref(),
                refresh_token_hash: &refresh_token.hash(),
                expires_at: refresh_expiry(&state, now)?,
            },
        })
        .await?;
    crate::http::record_user(record.user.id);
    let subject = TokenSubject {
        user_id: record.user.id,
        session_id,
    };
    Ok(Json(LoginResponse {
        tokens: token_pair(&state, subject, refresh_token, now)?,
        user: state.view(record.user),
        new_user: record.new_user,
    }))
}

#[derive(Deserialize, ToSchema)]
struct RefreshRequest {
    refresh_token: String,
}

errors!(RefreshErrors:
    "rate_limited", "invalid_request", "payload_too_large", "request_timeout", "invalid_token",
    "token_reused", "unavailable");

/// Rotates a refresh token: the presented one is used up, a new pair comes back.
///
/// A refresh token presented again after its grace period ends its session (401
/// `token_reused`): one of the two holders is not the user.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", security(()),
    request_body = RefreshRequest,
    responses((status = 200, description = "A new pair", body = TokenPair), RefreshErrors))]
async fn refresh(
    _: Within<Refresh>,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    if request.refresh_token.is_empty() {
        return Err(ApiError::InvalidRequest(
            "`refresh_token` must not be empty".into(),
        ));
    }
    // A string we could never have issued is as unknown as a forgotten one.
    let presented =
        RefreshToken::parse(&request.refresh_token).ok_or(ApiError::InvalidRefreshToken)?;
    let successor = RefreshToken::generate();
    let now = OffsetDateTime::now_utc();
    let rotation = state
        .sessions
        .rotate(
            &presented.hash(),
            Successor {
                hash: &successor.hash(),
                expires_at: refresh_expiry(&state, now)?,
            },
        )
        .await?;
    match rotation {
        Rotation::Rotated {
            user_id,
            session_id,
        } => {
            crate::http::record_user(user_id);
            let subject = TokenSubject {
                user_id,
                session_id,
            };
            Ok(Json(token_pair(&state, subject, successor, now)?))
        }
        Rotation::Refused => Err(ApiError::InvalidRefreshToken),
        Rotation::OverBudget { retry_after } => Err(ApiError::RateLimited {
            retry_after,
            reason: "this session refreshes too often; retry later",
        }),
        Rotation::Reused { .. } => {
            tracing::warn!("a used refresh token came back; its session is revoked");
            Err(ApiError::TokenReused)
        }
    }
}

errors!(LogoutErrors: "invalid_token", "unavailable");

/// Ends the session the token belongs to.
///
/// Its refresh token stops working, and its access tokens are refused at once here and within
/// the session cache TTL everywhere else.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "The session has ended"), LogoutErrors))]
async fn logout(State(state): State<AppState>, auth: AuthUser) -> Result<StatusCode, ApiError> {
    state
        .sessions
        .revoke(auth.session_id, auth.user_id, "logout")
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the user, on every device.
#[utoipa::path(post, path = "/api/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Every session of the user has ended"), LogoutErrors))]
async fn logout_all(State(state): State<AppState>, auth: AuthUser) -> Result<StatusCode, ApiError> {
    state
        .sessions
        .revoke_all(auth.user_id, "logout-all")
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// When a refresh token issued at `now` runs out. Configuration bounds the lifetime; should it
/// ever not, the request fails instead of the server panicking on a date past the calendar.
fn refresh_expiry(state: &AppState, now: OffsetDateTime) -> Result<OffsetDateTime, ApiError> {
    time::Duration::try_from(state.refresh_token_ttl)
        .ok()
        .and_then(|ttl| now.checked_add(ttl))
        .ok_or_else(|| ApiError::internal("REFRESH_TOKEN_TTL overflows the calendar"))
}

fn token_pair(
    state: &AppState,
    subject: TokenSubject,
    refresh_token: RefreshToken,
    now: OffsetDateTime,
) -> Result<TokenPair, ApiError> {
    let access = state
        .tokens
        .issue(subject, now.unix_timestamp())
        .map_err(ApiError::internal)?;
    Ok(TokenPair::new(access, refresh_token, state))
}

impl TokenPair {
    /// The pair of a signed access token and its session's new refresh token.
    pub(crate) fn new(access: IssuedToken, refresh_token: RefreshToken, state: &AppState) -> Self {
        Self {
            access_token: access.token,
            token_type: "Bearer",
            expires_in: access.expires_in,
            refresh_token: refresh_token.reveal(),
            refresh_expires_in: state.refresh_token_ttl.as_secs(),
        }
    }
}

/// The device's User-Agent, for display only. Header bytes need not be ASCII (phones put model
/// names in them), so they are read as UTF-8 leniently rather than dropped. Control and
/// bidirectional control characters are dropped: the sessions list must show a device as what
/// it says, not reordered into something else.
pub(crate) fn user_agent(headers: &HeaderMap) -> Option<String> {
    let raw = String::from_utf8_lossy(headers.get(header::USER_AGENT)?.as_bytes());
    let agent: String = raw
        .chars()
        .filter(|&c| !c.is_control() && !is_bidi_control(c))
        .take(MAX_USER_AGENT_CHARS)
        .collect();
    let agent = agent.trim();
    (!agent.is_empty()).then(|| agent.to_owned())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn agent_of(value: &[u8]) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(header::USER_AGENT, HeaderValue::from_bytes(value).unwrap());
        user_agent(&headers)
    }

    #[test]
    fn user_agents_keep_their_text_without_direction_controls() {
        let spoof =
            "Mozilla/5.0 (iPhone) \u{202E}gpj.exe\u{202C} \u{2066}x\u{2069}\u{061C}\u{200F}";
        assert_eq!(
            agent_of(spoof.as_bytes()).as_deref(),
            Some("Mozilla/5.0 (iPhone) gpj.exe x")
        );
        assert_eq!(
            agent_of("Mozilla/5.0 (Linux; 小米 13)".as_bytes()).as_deref(),
            Some("Mozilla/5.0 (Linux; 小米 13)")
        );
        assert_eq!(agent_of("\u{202E}".as_bytes()), None);
        assert_eq!(agent_of(b"  "), None);
    }
}
