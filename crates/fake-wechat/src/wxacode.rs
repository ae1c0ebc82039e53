//! `POST /wxa/getwxacodeunlimit`: the mini-program code a scan-to-login page shows.
//!
//! Like WeChat it checks the access token, the scene (1 to 32 visible characters from the set
//! WeChat allows) and, when `check_path` is true (WeChat's default), that `page` is a page of the
//! published mini program; errors are JSON with HTTP 200, success is the PNG itself labelled
//! `image/png`. WeChat draws a round "sun code"; the fake draws a plain QR code that encodes
//! `page?scene=<scene, URL-encoded>`, which is what the scanned page receives, so a test can read
//! it back.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use qrcode::{Color, QrCode};
use serde::Deserialize;
use serde_json::Value;

use crate::jscode2session::serve_fault;
use crate::{reply, Shared};

const ERR_DATA_FORMAT: i64 = 47001;
const ERR_INVALID_ARGS: i64 = 40097;
const ERR_INVALID_SCENE: i64 = 40169;
const ERR_INVALID_PAGE: i64 = 41030;

const MAX_SCENE_CHARS: usize = 32;
/// The punctuation a scene may hold besides ASCII letters and digits.
const SCENE_PUNCTUATION: &str = "!#$&'()*+,/:;=?@-._~";
/// WeChat's default and bounds for the image's width in pixels.
const DEFAULT_WIDTH: u32 = 430;
const MIN_WIDTH: u32 = 280;
const MAX_WIDTH: u32 = 1280;
/// Modules of light margin around the code, as the QR standard asks.
const QUIET_ZONE: usize = 4;

/// One call as the fake understood it, for tests to inspect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WxacodeRequest {
    pub scene: String,
    pub page: String,
    pub check_path: bool,
    pub env_version: String,
    pub width: u32,
}

#[derive(Deserialize)]
pub(crate) struct TokenParam {
    access_token: Option<String>,
}

pub(crate) async fn unlimited(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<TokenParam>,
    body: String,
) -> Response {
    if let Some(fault) = shared.wxacode_faults.next_call() {
        return serve_fault(fault).await;
    }
    let answer = draw(&shared, params.access_token.as_deref(), &body);
    match answer {
        Ok(png) => (StatusCode::OK, [(header::CONTENT_TYPE, "image/png")], png).into_response(),
        Err(errcode) => reply::error(errcode),
    }
}

/// Checks a call and draws its code, or says which errcode WeChat would answer.
fn draw(shared: &Shared, token: Option<&str>, body: &str) -> Result<Vec<u8>, i64> {
    shared.tokens.lock().unwrap().check(token)?;
    let request = parse(body)?;
    shared
        .wxacode_requests
        .lock()
        .unwrap()
        .push(request.clone());
    if !is_valid_scene(&request.scene) {
        return Err(ERR_INVALID_SCENE);
    }
    let page = if request.page.is_empty() {
        // WeChat opens the home page, the first one listed, when no page is given.
        shared.config.pages.first().cloned().unwrap_or_default()
    } else {
        request.page.clone()
    };
    if request.check_path && !shared.config.pages.contains(&page) {
        return Err(ERR_INVALID_PAGE);
    }
    let content = format!("{page}?scene={}", url_encode(&request.scene));
    Ok(qr_png(&content, request.width))
}

fn parse(body: &str) -> Result<WxacodeRequest, i64> {
    let json: Value = serde_json::from_str(body).map_err(|_| ERR_DATA_FORMAT)?;
    let text = |name: &str| json.get(name).and_then(Value::as_str).map(str::to_owned);
    let env_version = text("env_version").unwrap_or_else(|| "release".to_owned());
    if !matches!(env_version.as_str(), "release" | "trial" | "develop") {
        return Err(ERR_INVALID_ARGS);
    }
    let width = json
        .get("width")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_WIDTH, |w| {
            u32::try_from(w)
                .unwrap_or(MAX_WIDTH)
                .clamp(MIN_WIDTH, MAX_WIDTH)
        });
    Ok(WxacodeRequest {
        scene: text("scene").unwrap_or_default(),
        page: text("page").unwrap_or_default(),
        check_path: json
            .get("check_path")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        env_version,
        width,
    })
}

fn is_valid_scene(scene: &str) -> bool {
    (1..=MAX_SCENE_CHARS).contains(&scene.chars().count())
        && scene
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SCENE_PUNCTUATION.contains(c))
}

/// Percent-encodes everything but RFC 3986's unreserved characters, as WeChat hands a scene to
/// the page.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A greyscale PNG about `width` pixels wide of a QR code holding `content`.
fn qr_png(content: &str, width: u32) -> Vec<u8> {
    let code = QrCode::new(content.as_bytes()).expect("a scene and a page fit in a QR code");
    let modules = code.width();
    let colors = code.to_colors();
    let side_modules = modules + 2 * QUIET_ZONE;
    let scale = (width as usize / side_modules).max(1);
    let side = side_modules * scale;
    let mut pixels = vec![255u8; side * side];
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = (x / scale, y / scale);
            let inside = (QUIET_ZONE..QUIET_ZONE + modules).contains(&mx)
                && (QUIET_ZONE..QUIET_ZONE + modules).contains(&my);
            if inside && colors[(my - QUIET_ZONE) * modules + (mx - QUIET_ZONE)] == Color::Dark {
                pixels[y * side + x] = 0;
            }
        }
    }
    let side = u32::try_from(side).expect("at most a few thousand pixels");
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("writing to memory");
    writer.write_image_data(&pixels).expect("writing to memory");
    writer.finish().expect("writing to memory");
    png
}

/// The page paths of a mini program's `app.json`, its home page first.
pub fn pages_of_app_json(app_json: &str) -> Result<Vec<String>, String> {
    let json: Value = serde_json::from_str(app_json).map_err(|err| err.to_string())?;
    let pages = json
        .get("pages")
        .and_then(Value::as_array)
        .ok_or("app.json has no `pages` list")?;
    pages
        .iter()
        .map(|page| {
            page.as_str()
                .map(str::to_owned)
                .ok_or_else(|| "a page of app.json is not a string".to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenes_are_checked_like_wechat_does() {
        assert!(is_valid_scene("abc123"));
        assert!(is_valid_scene(&"a".repeat(32)));
        assert!(is_valid_scene("id=1&x=~!*()'"));
        assert!(!is_valid_scene(""));
        assert!(!is_valid_scene(&"a".repeat(33)));
        assert!(!is_valid_scene("a b"));
        assert!(!is_valid_scene("票"));
        assert!(!is_valid_scene("a%20"));
    }

    #[test]
    fn scenes_are_url_encoded_in_the_code() {
        assert_eq!(url_encode("Ab1-._~"), "Ab1-._~");
        assert_eq!(url_encode("a=1&b"), "a%3D1%26b");
    }

    #[test]
    fn the_repository_app_json_lists_its_pages() {
        let pages =
            pages_of_app_json(include_str!("../../../miniprogram/app.json")).expect("app.json");
        assert!(pages.contains(&"pages/login/index".to_owned()));
        assert!(pages_of_app_json("{}").is_err());
    }

    #[test]
    fn the_png_is_a_png_of_about_the_width_asked() {
        let png = qr_png("pages/a/index?scene=abc", 430);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let info = decoder.read_info().unwrap().info().clone();
        assert!(info.width <= 430 && info.width >= 280, "{}", info.width);
        assert_eq!(info.width, info.height);
    }
}
