//! The OpenAPI document as tests read it, and the check that every error answer a test sees is
//! one the document lists for its route.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde_json::Value;

/// The methods an operation can have, as the document spells them.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The document `wxlogin-server openapi` prints and `/openapi.json` serves.
pub static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(&wxlogin_server::openapi_json()).expect("the document is JSON")
});

/// Every `(METHOD, path)` the document describes.
pub fn documented_routes() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in DOCUMENT["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

/// Every operation of the document, with its method and path.
pub fn operations() -> Vec<(String, String, &'static Value)> {
    let mut all = Vec::new();
    for (path, item) in DOCUMENT["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                all.push((method.to_uppercase(), path.clone(), operation));
            }
        }
    }
    all
}

/// The document's path template that `path` (no query) falls under, if any: `{name}` stands for
/// one non-empty segment, as in the router.
pub fn template_of(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    DOCUMENT["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .find(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(part, segment)| {
                    part == segment || (part.starts_with('{') && !segment.is_empty())
                })
        })
        .map(String::as_str)
}

/// The error codes the document lists for `method` on `template` at `status`.
pub fn documented_codes(method: &str, template: &str, status: u16) -> Vec<String> {
    let response =
        &DOCUMENT["paths"][template][method.to_lowercase()]["responses"][status.to_string()];
    response["content"]["application/json"]["examples"]
        .as_object()
        .map(|examples| examples.keys().cloned().collect())
        .unwrap_or_default()
}

/// Fails when `code` at `status`, answered to `method` (when known) on `path`, is not among the
/// errors the document lists for that route. Answers the router gives outside any route (an
/// unknown path, a method a path does not take) are not a route's, and are not checked.
pub fn assert_error_documented(method: Option<&str>, path: &str, status: u16, code: &str) {
    let path = path.split('?').next().unwrap_or(path);
    let Some(template) = template_of(path) else {
        return;
    };
    if code == "method_not_allowed" {
        return;
    }
    let methods: Vec<String> = match method {
        // HEAD is answered by the GET route.
        Some(method) if method.eq_ignore_ascii_case("head") => vec!["GET".to_owned()],
        Some(method) => vec![method.to_uppercase()],
        // The HTTP tier's replies do not say how they were asked: any method of the path will do.
        None => METHODS
            .iter()
            .filter(|m| DOCUMENT["paths"][template].get(**m).is_some())
            .map(|m| m.to_uppercase())
            .collect(),
    };
    let documented = methods.iter().any(|method| {
        documented_codes(method, template, status)
            .iter()
            .any(|c| c == code)
    });
    assert!(
        documented,
        "{status} `{code}` on {} {template} is not in the OpenAPI document; add it to the \
         route's errors!(...)",
        methods.join("|")
    );
}
