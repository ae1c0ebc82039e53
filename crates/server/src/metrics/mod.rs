//! wxlogin's Prometheus metrics: the registry, every metric in it, and its text exposition.
//!
//! Each concern records in one place: the request layer (`http/observe.rs`) the HTTP, login and
//! refresh counts, the WeChat client's call wrapper every WeChat call, the bearer-token check
//! every refused token; the database pool is read when scraped. Labels come only from bounded
//! sets (route templates, known methods, status codes, error codes, WeChat's errcodes), never
//! from a raw path, a token, a user or anything else a client can vary at will.
//!
//! Each server instance has its own registry, so several in one process (as in the tests) never
//! mix their counts. The exposition is served on its own listener (`METRICS_ADDR`), never on the
//! public port.

mod labels;
mod pool;

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use sqlx::PgPool;

pub use labels::{HttpMethod, Route, WechatResult};

/// The `Content-Type` of [`Metrics::render`]'s answer: Prometheus's text format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds, in seconds, of the request latency buckets: from well under the `/api/me`
/// target to the slowest a login waiting on WeChat may take.
const HTTP_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Upper bounds, in seconds, of the WeChat call latency buckets, up to the longest
/// `WECHAT_TIMEOUT_MS` worth setting.
const WECHAT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: HttpMethod,
    route: Route,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: HttpMethod,
    route: Route,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WechatCallLabels {
    api: &'static str,
    result: WechatResult,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WechatApiLabels {
    api: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Cheap to clone: every clone records into the same registry.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    logins: Family<OutcomeLabels, Counter>,
    refreshes: Family<OutcomeLabels, Counter>,
    http_requests: Family<RequestLabels, Counter>,
    http_durations: Histograms<RouteLabels>,
    wechat_calls: Family<WechatCallLabels, Counter>,
    wechat_durations: Histograms<WechatApiLabels>,
    token_rejections: Family<ReasonLabels, Counter>,
}

impl Metrics {
    /// A registry of its own, with the pool `db` read at every scrape.
    pub fn new(db: PgPool) -> Self {
        let mut registry = Registry::default();
        let logins = Family::<OutcomeLabels, Counter>::default();
        let refreshes = Family::<OutcomeLabels, Counter>::default();
        let http_requests = Family::<RequestLabels, Counter>::default();
        let http_durations: Histograms<RouteLabels> =
            Family::new_with_constructor(|| Histogram::new(HTTP_BUCKETS));
        let wechat_calls = Family::<WechatCallLabels, Counter>::default();
        let wechat_durations: Histograms<WechatApiLabels> =
            Family::new_with_constructor(|| Histogram::new(WECHAT_BUCKETS));
        let token_rejections = Family::<ReasonLabels, Counter>::default();
        let build_info = Family::<BuildLabels, Gauge>::default();

        // Counters are exposed with the `_total` suffix appended.
        registry.register(
            "wxlogin_logins",
            "Logins answered, by outcome: ok or the error code the client got",
            logins.clone(),
        );
        registry.register(
            "wxlogin_refreshes",
            "Refresh token rotations answered, by outcome: ok or the error code the client got",
            refreshes.clone(),
        );
        registry.register(
            "wxlogin_http_requests",
            "HTTP requests answered, by method, route template and status",
            http_requests.clone(),
        );
        registry.register(
            "wxlogin_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            http_durations.clone(),
        );
        registry.register(
            "wxlogin_wechat_calls",
            "Calls to WeChat's API, by API and result: ok, WeChat's errcode, timeout, http_error, bad_body, unreachable or saturated",
            wechat_calls.clone(),
        );
        registry.register(
            "wxlogin_wechat_call_duration_seconds",
            "Time WeChat took to answer a call, by API",
            wechat_durations.clone(),
        );
        registry.register(
            "wxlogin_token_rejections",
            "Access tokens refused, by reason",
            token_rejections.clone(),
        );
        registry.register(
            "wxlogin_build_info",
            "The running build; always 1",
            build_info.clone(),
        );
        registry.register_collector(Box::new(pool::PoolConnections(db)));

        build_info
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        // The series a dashboard rates from its first increment on.
        for family in [&logins, &refreshes] {
            drop(family.get_or_create(&OutcomeLabels { outcome: "ok" }));
        }

        Self(Arc::new(Inner {
            registry,
            logins,
            refreshes,
            http_requests,
            http_durations,
            wechat_calls,
            wechat_durations,
            token_rejections,
        }))
    }

    /// Every metric, in Prometheus's text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.0.registry)
            .expect("writing to a String cannot fail");
        text
    }

    pub fn http_request(&self, method: HttpMethod, route: &Route, status: u16, took: Duration) {
        // Cloning a route label only counts a reference: no allocation per request.
        self.0
            .http_durations
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        self.0
            .http_requests
            .get_or_create(&RequestLabels {
                method,
                route: route.clone(),
                status,
            })
            .inc();
    }

    /// A login answered with `outcome`: `ok` or the error code the client got.
    pub fn login(&self, outcome: &'static str) {
        self.0
            .logins
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// A refresh answered with `outcome`: `ok` or the error code the client got.
    pub fn refresh(&self, outcome: &'static str) {
        self.0
            .refreshes
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// A call to WeChat's `api`; `took` is `None` when none was sent.
    pub fn wechat_call(&self, api: &'static str, result: WechatResult, took: Option<Duration>) {
        self.0
            .wechat_calls
            .get_or_create(&WechatCallLabels { api, result })
            .inc();
        if let Some(took) = took {
            self.0
                .wechat_durations
                .get_or_create(&WechatApiLabels { api })
                .observe(took.as_secs_f64());
        }
    }

    pub fn token_rejected(&self, reason: &'static str) {
        self.0
            .token_rejections
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }
}
