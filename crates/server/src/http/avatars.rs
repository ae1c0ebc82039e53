//! `GET /avatars/{id}`: the avatars users uploaded through `/api/me/avatar`.
//!
//! Served with the type read from the image's magic bytes at upload, `nosniff`, and a content
//! security policy that forbids everything and sandboxes the document, so an upload can never
//! become a page or a script, not even an image with HTML appended that a browser is talked into
//! rendering. Reads go through [`crate::services::avatar_reads`], which keeps them from taking
//! the whole database pool.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::openapi::{errors, ApiRouter};
use crate::state::AppState;

/// An avatar's URL changes with every upload, so what is served under one never changes.
const AVATAR_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";
/// Nothing may load, run or navigate from an avatar, should it ever be rendered as a document.
const AVATAR_CSP: &str = "default-src 'none'; sandbox";

pub fn router() -> ApiRouter {
    ApiRouter::new().routes(routes!(avatar))
}

/// An image's bytes.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub(crate) struct ImageBytes(Vec<u8>);

errors!(AvatarErrors: "not_found", "unavailable");

/// An uploaded avatar, as the `avatar_url` of a user names it.
///
/// What an id serves never changes, so it may be cached for a year; a client that sends its
/// `ETag` in `If-None-Match` gets 304.
#[utoipa::path(get, path = "/avatars/{id}", tag = "public", security(()),
    params(("id" = Uuid, Path, description = "The avatar's id; any other text is 404 `not_found`")),
    responses(
        (status = 200, description = "The image, with the type its bytes show",
            content(
                (ImageBytes = "image/png"),
                (ImageBytes = "image/jpeg"),
                (ImageBytes = "image/webp"),
            )),
        (status = 304, description = "The avatar the `If-None-Match` names is still this one"),
        AvatarErrors,
    ))]
async fn avatar(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound)?;
    let etag = format!("\"{id}\"");
    let cache_headers = [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(AVATAR_CACHE_CONTROL),
        ),
        (
            header::ETAG,
            HeaderValue::from_str(&etag).expect("a quoted uuid is a valid header value"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(AVATAR_CSP),
        ),
    ];
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag));
    // What is served under an id never changes, so a client that names it already has it, as
    // long as it still exists: no need to read the image to say so.
    if matches {
        if !state.avatar_reads.exists(id).await? {
            return Err(ApiError::NotFound);
        }
        return Ok((StatusCode::NOT_MODIFIED, cache_headers).into_response());
    }
    let avatar = state
        .avatar_reads
        .find(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let content_type = HeaderValue::from_str(&avatar.content_type).map_err(ApiError::internal)?;
    Ok((
        cache_headers,
        [(header::CONTENT_TYPE, content_type)],
        Body::from(avatar.bytes),
    )
        .into_response())
}
