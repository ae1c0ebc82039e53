//! `POST /api/me/avatar`: the file from `<button open-type="chooseAvatar">`, sent by
//! `wx.uploadFile`. It is served by [`crate::http::avatars`], and sent to WeChat's image check
//! once stored (see [`crate::services::content_checks`]).
//!
//! An avatar's type is decided by its magic bytes, never by its name or the client's content
//! type, so an upload can never become a page or a script.

use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::Json;
use utoipa::ToSchema;
use utoipa_axum::router::UtoipaMethodRouterExt;
use utoipa_axum::routes;

use crate::domain::Openid;
use crate::error::ApiError;
use crate::http::openapi::{errors, ApiRouter};
use crate::http::user_view::UserView;
use crate::http::AuthUser;
use crate::services::profile;
use crate::state::AppState;

/// The largest avatar accepted.
const MAX_AVATAR_BYTES: usize = 1024 * 1024;
/// Room for the multipart envelope and any form fields `wx.uploadFile` adds.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

pub fn router() -> ApiRouter {
    ApiRouter::new().routes(
        routes!(upload_avatar).layer(DefaultBodyLimit::max(MAX_AVATAR_BYTES + MULTIPART_OVERHEAD)),
    )
}

/// What `wx.uploadFile` sends: the image under the field `name` the app chose, next to any
/// `formData` text fields.
#[derive(ToSchema)]
#[allow(dead_code)]
struct AvatarUpload {
    /// The image: PNG, JPEG or WebP, told by its bytes; at most 1 MiB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

errors!(AvatarUploadErrors:
    "invalid_request", "payload_too_large", "request_timeout", "unsupported_media_type",
    "invalid_token", "unavailable");

/// Replaces the user's avatar with the uploaded image.
///
/// The user's new `avatar_url` serves it.
#[utoipa::path(post, path = "/api/me/avatar", tag = "me", security(("bearer" = [])),
    request_body(content = AvatarUpload, content_type = "multipart/form-data"),
    responses((status = 200, description = "The user, with the new `avatar_url`", body = UserView),
        AvatarUploadErrors))]
async fn upload_avatar(
    State(state): State<AppState>,
    auth: AuthUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<UserView>, ApiError> {
    let mut multipart = multipart.map_err(|_| {
        ApiError::InvalidRequest("expected a multipart/form-data upload with the image".into())
    })?;
    let bytes = loop {
        let field = multipart.next_field().await.map_err(ApiError::from)?;
        let Some(field) = field else {
            return Err(ApiError::InvalidRequest(
                "the upload carries no file; send the image as a file field".into(),
            ));
        };
        // wx.uploadFile sends the file under the `name` the app chose, next to any `formData`
        // text fields: the file is the part with a file name.
        if field.file_name().is_some() {
            break read_limited(field).await?;
        }
    };
    if bytes.is_empty() {
        return Err(ApiError::InvalidRequest(
            "the uploaded file is empty".into(),
        ));
    }
    let content_type = image_type(&bytes).ok_or_else(|| {
        ApiError::UnsupportedMediaType("an avatar must be a PNG, JPEG or WebP image".into())
    })?;
    let (user, avatar_id) = profile::replace_avatar(&state.db, auth.user_id, content_type, &bytes)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    let openid = Openid::parse(user.openid.clone()).map_err(ApiError::internal)?;
    state
        .content_checks
        .submit_avatar(
            &state.db,
            &state.wechat,
            &state.platform_tokens,
            user.id,
            &openid,
            avatar_id,
        )
        .await;
    Ok(Json(state.view(user)))
}

/// Reads a file part, stopping as soon as it passes the limit instead of buffering it all.
async fn read_limited(mut field: Field<'_>) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(ApiError::from)? {
        if bytes.len() + chunk.len() > MAX_AVATAR_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The image type, by magic bytes.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::image_type;

    #[test]
    fn images_are_told_by_magic_bytes() {
        assert_eq!(
            image_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some("image/png")
        );
        assert_eq!(
            image_type(b"\xff\xd8\xff\xe0\0\x10JFIF"),
            Some("image/jpeg")
        );
        assert_eq!(image_type(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(image_type(b"GIF89a"), None);
        assert_eq!(image_type(b"<svg xmlns="), None);
        assert_eq!(image_type(b"\x89PNG"), None);
        assert_eq!(image_type(b""), None);
    }
}
