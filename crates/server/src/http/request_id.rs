//! Which `x-request-id` a request goes by: the client's when well-formed, else a new one.
//!
//! The id reaches every log line of the request and the response header, so the client's own is
//! kept only when it is 1 to [`MAX_LEN`] visible ASCII characters: nothing that could break a log
//! line, forge another, or fill a disk.

use axum::http::{HeaderMap, Request};

use super::REQUEST_ID;

/// The longest request id taken from a client.
pub const MAX_LEN: usize = 128;

/// Drops an `x-request-id` that is not well-formed, or sent more than once, so that
/// `SetRequestIdLayer` (which keeps any id present) makes a new one instead.
pub(super) fn drop_ill_formed<B>(mut request: Request<B>) -> Request<B> {
    if !well_formed(request.headers()) {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

fn well_formed(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(&REQUEST_ID).iter();
    match (values.next(), values.next()) {
        (None, _) => true,
        (Some(id), None) => {
            let id = id.as_bytes();
            (1..=MAX_LEN).contains(&id.len()) && id.iter().all(|byte| byte.is_ascii_graphic())
        }
        (Some(_), Some(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn kept(values: &[&[u8]]) -> bool {
        let mut request = Request::new(());
        for value in values {
            request
                .headers_mut()
                .append(&REQUEST_ID, HeaderValue::from_bytes(value).unwrap());
        }
        drop_ill_formed(request).headers().contains_key(&REQUEST_ID)
    }

    #[test]
    fn only_one_short_visible_ascii_id_is_kept() {
        assert!(kept(&[b"abc-123_XYZ.:/~"]));
        assert!(kept(&["x".repeat(MAX_LEN).as_bytes()]));
        assert!(!kept(&["x".repeat(MAX_LEN + 1).as_bytes()]));
        assert!(!kept(&[b"has space"]));
        assert!(!kept(&[b"tab\there"]));
        assert!(!kept(&["caf\u{e9}".as_bytes()]));
        assert!(!kept(&[b""]));
        assert!(!kept(&[b"one", b"two"]));
    }
}
