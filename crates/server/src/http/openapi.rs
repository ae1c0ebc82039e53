//! The OpenAPI 3.1 document of the API, served at `/openapi.json`, and what the routes'
//! annotations share: the error answers, the security schemes, the tags.
//!
//! Each module's `router()` is an [`ApiRouter`], which takes a handler only through
//! `.routes(routes!(handler))`, reading its path and method from the handler's
//! `#[utoipa::path]`. The routes served and the document are therefore built from the same
//! annotations, and `tests/api/router_openapi.rs` fails when the router serves a route the
//! document lacks, or the other way round.
//!
//! A route's error answers are declared next to it with [`errors!`], by code; the status, the
//! message and the examples come from [`ApiError`] itself.

use std::collections::BTreeMap;

use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, LicenseBuilder, OpenApi, OpenApiBuilder, Ref, RefOr,
};
use utoipa::PartialSchema;
use utoipa_axum::router::OpenApiRouter;

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// What every module's `router()` returns: routes that carry their own documentation.
pub type ApiRouter = OpenApiRouter<AppState>;

/// The security scheme of the routes that take an access token (`AuthUser`).
pub const BEARER: &str = "bearer";
/// The security scheme of token introspection (`INTROSPECTION_CLIENTS`).
pub const BASIC: &str = "basic";

/// The tags routes are grouped by, with what each holds.
const TAGS: &[(&str, &str)] = &[
    (
        "auth",
        "Logging in with a wx.login() code, tokens, sessions and the WeChat session_key",
    ),
    ("me", "The signed-in user and the profile they fill in"),
    (
        "wechat",
        "Data the mini program got from WeChat, decrypted with the user's session_key",
    ),
    (
        "public",
        "Avatars and the keys that verify access tokens: no token needed",
    ),
    ("health", "Probes for orchestrators and load balancers"),
    (
        "qr-login",
        "Scan-to-login: a browser shows a mini-program code, the user scans and confirms it in \
         the mini program, and the browser receives tokens of a session of its own",
    ),
    (
        "wechat-push",
        "WeChat's message push (消息推送), called by WeChat itself and vouched for by its signature",
    ),
];

/// The start of the document, before the routes add their paths.
pub fn base() -> OpenApi {
    let mut api = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("wxlogin")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Login for WeChat mini programs: trade a `wx.login()` code for wxlogin's \
                     own tokens, and manage the user's profile and sessions.\n\n\
                     Every error is answered as `{\"error\": {\"code\", \"message\"}}` \
                     (`ErrorBody`). Clients switch on the stable `code`; each route lists the \
                     codes it can answer with, under their status. Any path answers 404 \
                     `not_found` when unknown and 405 `method_not_allowed` for a method it \
                     does not take.",
                ))
                .license(Some(
                    LicenseBuilder::new()
                        .name("MIT OR Apache-2.0")
                        .identifier(Some("MIT OR Apache-2.0"))
                        .build(),
                ))
                .build(),
        )
        // Relative: the API is wherever this document was fetched from.
        .servers(Some([ServerBuilder::new().url("/").build()]))
        .tags(Some(TAGS.iter().map(|(name, description)| {
            TagBuilder::new()
                .name(*name)
                .description(Some(*description))
                .build()
        })))
        .build();
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "The `access_token` of a login or refresh. A token that is missing, \
                     malformed, expired or of an ended session is answered 401 `invalid_token`.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        BASIC,
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Basic)
                .description(Some(
                    "A client id and secret of `INTROSPECTION_CLIENTS`, for the team's services.",
                ))
                .build(),
        ),
    );
    components
        .schemas
        .insert("ErrorBody".to_owned(), ErrorBody::schema());
    api
}

/// The error answers of a route that can fail with `codes`, grouped by status: each says which
/// codes it carries, and shows an example of each. Every route can also answer 500 `internal`
/// (a bug, or a handler that panicked), so that one is always added.
pub fn error_responses(codes: &[&str]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<ApiError>> = BTreeMap::new();
    for code in codes.iter().copied().chain(["internal"]) {
        let error = sample(code);
        let errors = by_status.entry(error.status().as_u16()).or_default();
        if errors.iter().all(|known| known.code() != code) {
            errors.push(error);
        }
    }
    by_status
        .into_iter()
        .map(|(status, errors)| {
            let description = errors
                .iter()
                .map(|error| format!("`{}`: {}", error.code(), error))
                .collect::<Vec<_>>()
                .join("\n\n");
            let examples = errors.iter().map(|error| {
                let value = serde_json::to_value(ErrorBody::of(error)).expect("an error is JSON");
                (
                    error.code(),
                    ExampleBuilder::new().value(Some(value)).build(),
                )
            });
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .examples_from_iter(examples)
                .build();
            let response = ResponseBuilder::new()
                .description(description)
                .content("application/json", content)
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}

/// An error with this code, as a route would answer it; its message is the one clients see, or
/// for the codes whose message depends on the case, a typical one.
///
/// Panics on a code `ApiError` does not have: a route declaring one fails every test that builds
/// the router, and the unit test below tries every code of `docs/error-codes.json`.
fn sample(code: &str) -> ApiError {
    let error = match code {
        "invalid_request" => ApiError::InvalidRequest(
            "`code` must not be empty (the message names the field)".into(),
        ),
        "invalid_code" => ApiError::InvalidCode,
        "user_blocked" => ApiError::UserBlocked,
        "rate_limited" => ApiError::RateLimited {
            retry_after: std::time::Duration::from_secs(1),
            reason: "too many requests; retry after the seconds Retry-After says",
        },
        "upstream_busy" => ApiError::UpstreamBusy,
        "upstream_error" => ApiError::UpstreamError,
        "server_misconfigured" => ApiError::ServerMisconfigured,
        "invalid_token" => ApiError::InvalidToken,
        "token_reused" => ApiError::TokenReused,
        "invalid_client" => ApiError::InvalidClient,
        "unavailable" => ApiError::Unavailable,
        "not_found" => ApiError::NotFound,
        "method_not_allowed" => ApiError::MethodNotAllowed,
        "payload_too_large" => ApiError::PayloadTooLarge,
        "request_timeout" => ApiError::RequestTimeout,
        "invalid_phone_code" => ApiError::InvalidPhoneCode,
        "wechat_token_unavailable" => ApiError::WechatTokenUnavailable,
        "session_key_stale" => ApiError::SessionKeyStale,
        "invalid_encrypted_data" => {
            ApiError::InvalidEncryptedData("the data does not decrypt with this iv".into())
        }
        "unsupported_media_type" => {
            ApiError::UnsupportedMediaType("an avatar must be a PNG, JPEG or WebP image".into())
        }
        "content_rejected" => ApiError::ContentRejected { label: 20003 },
        "invalid_signature" => ApiError::InvalidSignature,
        "ticket_taken" => ApiError::TicketTaken,
        "ticket_not_scanned" => ApiError::TicketNotScanned,
        "ticket_expired" => ApiError::TicketExpired,
        "ticket_used" => ApiError::TicketUsed,
        "qr_page_unpublished" => ApiError::QrPageUnpublished,
        "qr_scene_invalid" => ApiError::QrSceneInvalid,
        "mini_program_session_required" => ApiError::MiniProgramSessionRequired,
        "internal" => ApiError::internal("cause not sent"),
        unknown => panic!("no ApiError has the code {unknown:?}"),
    };
    assert_eq!(error.code(), code, "the sample of {code}");
    error
}

/// Declares the error answers of one route, for its `#[utoipa::path(responses(...))]`:
/// `errors!(LoginErrors: "invalid_request", "invalid_code");` then
/// `responses((status = 200, ...), LoginErrors)`.
macro_rules! errors {
    ($name:ident: $($code:literal),* $(,)?) => {
        struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
            > {
                $crate::http::openapi::error_responses(&[$($code),*])
            }
        }
    };
}
pub(crate) use errors;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_code_has_a_sample_with_its_status() {
        let listed: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../../../../docs/error-codes.json")).unwrap();
        for entry in listed {
            let code = entry["code"].as_str().unwrap();
            assert_eq!(
                u64::from(sample(code).status().as_u16()),
                entry["status"].as_u64().unwrap(),
                "{code}"
            );
        }
    }

    #[test]
    fn error_answers_are_grouped_by_status_with_every_code_shown() {
        let responses = error_responses(&["invalid_token", "token_reused", "unavailable"]);
        assert_eq!(
            responses.keys().collect::<Vec<_>>(),
            ["401", "500", "503"],
            "internal is always there"
        );
        let unauthorized = serde_json::to_value(&responses["401"]).unwrap();
        let examples = &unauthorized["content"]["application/json"]["examples"];
        assert_eq!(
            examples["token_reused"]["value"]["error"]["code"],
            "token_reused"
        );
        assert_eq!(
            examples["invalid_token"]["value"]["error"]["code"],
            "invalid_token"
        );
        let description = unauthorized["description"].as_str().unwrap();
        assert!(description.contains("`invalid_token`") && description.contains("`token_reused`"));
    }
}
