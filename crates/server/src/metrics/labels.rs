//! Label values that need more than a `&'static str`: each from a bounded set, and cheap to make
//! on every request.

use std::fmt::Write;

use axum::extract::MatchedPath;
use axum::http::Method;
use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};

/// An HTTP method, or `OTHER` for any method outside the standard ones: a client may send any
/// token as a method, and each must not become a series of its own.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
    Other,
}

impl HttpMethod {
    pub fn of(method: &Method) -> Self {
        match *method {
            Method::GET => Self::Get,
            Method::HEAD => Self::Head,
            Method::POST => Self::Post,
            Method::PUT => Self::Put,
            Method::PATCH => Self::Patch,
            Method::DELETE => Self::Delete,
            Method::OPTIONS => Self::Options,
            _ => Self::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Options => "OPTIONS",
            Self::Other => "OTHER",
        }
    }
}

impl EncodeLabelValue for HttpMethod {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> std::fmt::Result {
        encoder.write_str(self.as_str())
    }
}

/// The route template a request matched (`/avatars/{id}`), or `unmatched` for one that matched
/// none: never the raw path, whose variety is the client's to choose.
#[derive(Clone, Debug)]
pub struct Route(Option<MatchedPath>);

impl Route {
    /// Label of requests that matched no route.
    pub const UNMATCHED: &'static str = "unmatched";

    pub fn new(matched: Option<&MatchedPath>) -> Self {
        Self(matched.cloned())
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref().map_or(Self::UNMATCHED, MatchedPath::as_str)
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Route {}

impl std::hash::Hash for Route {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> std::fmt::Result {
        encoder.write_str(self.as_str())
    }
}

/// How a WeChat call ended, in the words of the `result` label.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum WechatResult {
    Ok,
    /// WeChat answered this non-zero `errcode`.
    Errcode(i64),
    /// No answer within `WECHAT_TIMEOUT_MS`.
    Timeout,
    /// An HTTP status other than 200.
    HttpError,
    /// A 200 whose body was not the JSON the call expects.
    BadBody,
    /// No connection to WeChat.
    Unreachable,
    /// Every slot for a WeChat call was taken; none was sent.
    Saturated,
}

impl std::fmt::Display for WechatResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ok => f.write_str("ok"),
            Self::Errcode(errcode) => write!(f, "{errcode}"),
            Self::Timeout => f.write_str("timeout"),
            Self::HttpError => f.write_str("http_error"),
            Self::BadBody => f.write_str("bad_body"),
            Self::Unreachable => f.write_str("unreachable"),
            Self::Saturated => f.write_str("saturated"),
        }
    }
}

impl EncodeLabelValue for WechatResult {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> std::fmt::Result {
        write!(encoder, "{self}")
    }
}
