//! Which WeChat API a call is for, and the record every call leaves: a metric and a log line.
//!
//! The line names the API, the result and the latency, never the URL: it carries the app secret
//! or the access token. It is logged inside the span of the request that made the call, so it
//! carries that request's id.

use std::time::Duration;

use super::WechatError;
use crate::metrics::{Metrics, WechatResult};

/// The WeChat APIs this server calls.
#[derive(Debug, Clone, Copy)]
pub(super) enum WechatApi {
    Jscode2session,
    StableToken,
    GetUserPhoneNumber,
    CheckSession,
    ResetUserSessionKey,
    MsgSecCheck,
    MediaCheckAsync,
    GetUserRiskRank,
    GetWxacodeUnlimit,
}

impl WechatApi {
    /// The path under `WECHAT_API_BASE`.
    pub(super) fn path(self) -> &'static str {
        match self {
            Self::Jscode2session => "/sns/jscode2session",
            Self::StableToken => "/cgi-bin/stable_token",
            Self::GetUserPhoneNumber => "/wxa/business/getuserphonenumber",
            Self::CheckSession => "/wxa/checksession",
            Self::ResetUserSessionKey => "/wxa/resetusersessionkey",
            Self::MsgSecCheck => "/wxa/msg_sec_check",
            Self::MediaCheckAsync => "/wxa/media_check_async",
            Self::GetUserRiskRank => "/wxa/getuserriskrank",
            Self::GetWxacodeUnlimit => "/wxa/getwxacodeunlimit",
        }
    }

    /// The name in the `api` label and in log lines: the path's last segment.
    pub(super) fn name(self) -> &'static str {
        let path = self.path();
        &path[path.rfind('/').map_or(0, |slash| slash + 1)..]
    }
}

/// Records a call to `api` that ended with `outcome` after `took`, or that was never sent
/// (`took` is `None`) because every slot was taken.
pub(super) fn record<T>(
    metrics: &Metrics,
    api: WechatApi,
    outcome: &Result<T, WechatError>,
    took: Option<Duration>,
) {
    let result = result_of(outcome);
    let latency_ms = took.map_or(0.0, crate::telemetry::millis);
    tracing::info!(api = api.name(), %result, latency_ms, "WeChat call");
    metrics.wechat_call(api.name(), result, took);
}

/// What WeChat answered, as the `result` label says it: WeChat's own errcode where it sent one.
fn result_of<T>(outcome: &Result<T, WechatError>) -> WechatResult {
    match outcome {
        Ok(_) => WechatResult::Ok,
        Err(err) => match err {
            WechatError::InvalidCode(errcode)
            | WechatError::BadCredentials { errcode, .. }
            | WechatError::Other { errcode, .. } => WechatResult::Errcode(*errcode),
            WechatError::UserBlocked => WechatResult::Errcode(40226),
            WechatError::RateLimited => WechatResult::Errcode(45011),
            WechatError::Busy { .. } => WechatResult::Errcode(-1),
            WechatError::HttpStatus(_) => WechatResult::HttpError,
            WechatError::Malformed(_) => WechatResult::BadBody,
            WechatError::Timeout => WechatResult::Timeout,
            WechatError::Transport(_) => WechatResult::Unreachable,
            WechatError::Saturated => WechatResult::Saturated,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_names_are_the_last_path_segment() {
        let names = [
            WechatApi::Jscode2session,
            WechatApi::StableToken,
            WechatApi::GetUserPhoneNumber,
            WechatApi::CheckSession,
            WechatApi::ResetUserSessionKey,
            WechatApi::MsgSecCheck,
            WechatApi::MediaCheckAsync,
            WechatApi::GetUserRiskRank,
            WechatApi::GetWxacodeUnlimit,
        ]
        .map(WechatApi::name);
        assert_eq!(
            names,
            [
                "jscode2session",
                "stable_token",
                "getuserphonenumber",
                "checksession",
                "resetusersessionkey",
                "msg_sec_check",
                "media_check_async",
                "getuserriskrank",
                "getwxacodeunlimit",
            ]
        );
    }

    #[test]
    fn results_keep_wechats_errcode() {
        let result = |err| result_of::<()>(&Err(err)).to_string();
        assert_eq!(result(WechatError::InvalidCode(40163)), "40163");
        assert_eq!(result(WechatError::UserBlocked), "40226");
        assert_eq!(result(WechatError::RateLimited), "45011");
        assert_eq!(result(WechatError::Busy { attempts: 1 }), "-1");
        assert_eq!(result(WechatError::HttpStatus(502)), "http_error");
        assert_eq!(result(WechatError::Malformed("x".into())), "bad_body");
        assert_eq!(result(WechatError::Timeout), "timeout");
        assert_eq!(result(WechatError::Saturated), "saturated");
        assert_eq!(result_of(&Ok(())).to_string(), "ok");
    }
}
