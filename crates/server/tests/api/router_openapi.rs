//! Fast tier: the OpenAPI document describes exactly the routes the router serves, and says true
//! things about them.
//!
//! How the served routes are found, so that no route can be missed: nothing here lists them by
//! hand. The paths come from the router itself (`TestRouter::routed_paths` reads axum's path
//! table), and each path is asked with every method; a method is served unless the answer is
//! the router's own 405 `method_not_allowed`. A route added in any way at all, through
//! `routes!` or past it, therefore shows up here, and must be in the document. The other way
//! round, every documented operation must be served.
//!
//! Beyond this test, every error answer of every test in this suite is checked against the
//! document (`helpers/openapi.rs`, called from `TestRouter::send` and `Reply::read`).

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::binary::{empty_dir, BINARY};
use crate::helpers::openapi::{documented_routes, operations, DOCUMENT};
use crate::helpers::router::{request, RequestExt, TestRouter};

/// Served but not in the document, each for a reason: these describe the API, or are a page
/// that uses it, rather than being part of it.
const NOT_IN_DOCUMENT: &[(&str, &str)] = &[
    // The document itself.
    ("GET", "/openapi.json"),
    // The page that shows it, and its script and style.
    ("GET", "/docs"),
    ("GET", "/docs/init.js"),
    ("GET", "/docs/swagger-ui-bundle.js"),
    ("GET", "/docs/swagger-ui.css"),
    // The scan-to-login page, a web page that uses the API like /docs does, and its script and
    // style.
    ("GET", "/login"),
    ("GET", "/login/login.js"),
    ("GET", "/login/login.css"),
];

/// Every method a route could take. HEAD is left out: axum answers it wherever GET is.
const PROBED_METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// A value for each path parameter, so a probe reaches the route.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "00000000-0000-4000-8000-000000000000"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `(METHOD, path template)` of every route the router serves.
async fn served_routes(app: &TestRouter) -> BTreeSet<(String, String)> {
    let mut served = BTreeSet::new();
    for path in app.routed_paths() {
        for method in PROBED_METHODS {
            let reply = app.send(request(method, &concrete(&path)).empty()).await;
            let refused = reply.status == 405
                && serde_json::from_slice::<Value>(&reply.body)
                    .is_ok_and(|body| body["error"]["code"] == "method_not_allowed");
            if !refused {
                served.insert((method.to_owned(), path.clone()));
            }
        }
    }
    served
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_document_describes_every_route_served_and_only_those(db: PgPool) {
    let app = TestRouter::new(db);
    let served = served_routes(&app).await;
    assert!(
        served.contains(&("POST".to_owned(), "/api/auth/login".to_owned())),
        "the router's routes were found: {served:?}"
    );
    let outside: BTreeSet<(String, String)> = NOT_IN_DOCUMENT
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();
    let documented = documented_routes();

    let undocumented: Vec<_> = served
        .difference(&documented)
        .filter(|r| !outside.contains(r))
        .collect();
    assert!(
        undocumented.is_empty(),
        "served but missing from the OpenAPI document (add #[utoipa::path] and routes!, see \
         docs/architecture.md): {undocumented:?}"
    );
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        unserved.is_empty(),
        "in the OpenAPI document but not served: {unserved:?}"
    );
    let gone: Vec<_> = outside.difference(&served).collect();
    assert!(
        gone.is_empty(),
        "NOT_IN_DOCUMENT names routes no longer served: {gone:?}"
    );
}

/// What `/openapi.json` serves is what `wxlogin-server openapi` prints, with no configuration
/// and no database, which is how `just openapi-lint` gets the document it validates.
#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn openapi_json_serves_the_document_the_binary_prints(db: PgPool) {
    let app = TestRouter::new(db);
    let reply = app.send(request("GET", "/openapi.json").empty()).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), "application/json");
    assert_eq!(DOCUMENT["openapi"], "3.1.0");

    let printed = Command::new(BINARY)
        .arg("openapi")
        .env_clear()
        .current_dir(empty_dir())
        .output()
        .expect("run the server binary");
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let printed: Value = serde_json::from_slice(&printed.stdout).expect("the binary prints JSON");
    assert_eq!(reply.json(), printed);
    assert_eq!(printed, *DOCUMENT);
}

/// The bearer scheme is stated where a token is needed, and is true: each such route refuses a
/// request without one. Every route states its security, so a public one says so.
#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn routes_say_truly_whether_they_need_a_token(db: PgPool) {
    let app = TestRouter::new(db);
    let schemes = DOCUMENT["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["basic"]["scheme"], "basic");
    let mut behind_a_token = 0;
    for (method, path, operation) in operations() {
        let security = operation["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path} states its security"));
        let bearer = security.iter().any(|s| s.get("bearer").is_some());
        if bearer {
            behind_a_token += 1;
            assert!(
                operation["responses"]["401"]["content"]["application/json"]["examples"]
                    .get("invalid_token")
                    .is_some(),
                "{method} {path} takes a token, so it lists 401 `invalid_token`"
            );
            app.send(request(&method, &concrete(&path)).json("{}"))
                .await
                .assert_error(401, "invalid_token");
        }
    }
    assert!(behind_a_token >= 10, "{behind_a_token} routes need a token");
}

/// Every error answer is the shared `ErrorBody`, its examples' codes are listed in
/// docs/error-codes.json with that very status, and every route has a success answer, a
/// summary, a tag and an operation id of its own.
#[test]
fn every_operation_lists_its_answers_and_errors_by_code() {
    let listed: Vec<Value> =
        serde_json::from_str(include_str!("../../../../docs/error-codes.json")).unwrap();
    let status_of = |code: &str| {
        listed
            .iter()
            .find(|entry| entry["code"] == code)
            .and_then(|entry| entry["status"].as_u64())
            .unwrap_or_else(|| panic!("{code} is in docs/error-codes.json"))
    };
    let mut operation_ids = BTreeSet::new();
    for (method, path, operation) in operations() {
        let name = format!("{method} {path}");
        assert!(
            operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{name}: summary"
        );
        assert!(operation["tags"][0].is_string(), "{name}: tag");
        let id = operation["operationId"].as_str().expect("operationId");
        assert!(
            operation_ids.insert(id.to_owned()),
            "{name}: operationId {id} is unique"
        );
        let responses = operation["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|s| s.starts_with('2') || s == "304"),
            "{name}: success"
        );
        assert!(
            responses.contains_key("500"),
            "{name}: every route can fail with `internal`"
        );
        for (status, response) in responses.iter().filter(|(s, _)| s.as_str() >= "400") {
            let content = &response["content"]["application/json"];
            assert_eq!(
                content["schema"]["$ref"], "#/components/schemas/ErrorBody",
                "{name} {status}"
            );
            let examples = content["examples"].as_object().expect("examples");
            assert!(!examples.is_empty(), "{name} {status} shows its codes");
            for (code, example) in examples {
                assert_eq!(status_of(code).to_string(), *status, "{name}: {code}");
                assert_eq!(example["value"]["error"]["code"], code.as_str(), "{name}");
                let description = response["description"].as_str().unwrap();
                assert!(
                    description.contains(&format!("`{code}`")),
                    "{name}: {code} described"
                );
            }
        }
    }
}

/// `/docs` and its files: their types, and a policy that lets the page load from this origin
/// alone. The page's relative links must name the files served here.
#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_reference_page_and_its_files_are_served_from_here_alone(db: PgPool) {
    let app = TestRouter::new(db);
    let page = app.send(request("GET", "/docs").empty()).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    let policy = page.header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    let html = page.text();
    for (file, content_type, at_least) in [
        ("docs/init.js", "text/javascript; charset=utf-8", 100),
        (
            "docs/swagger-ui-bundle.js",
            "text/javascript; charset=utf-8",
            500_000,
        ),
        ("docs/swagger-ui.css", "text/css; charset=utf-8", 50_000),
    ] {
        assert!(
            html.contains(&format!("\"{file}\"")),
            "the page loads {file}"
        );
        let asset = app.send(request("GET", &format!("/{file}")).empty()).await;
        assert_eq!(asset.status, 200, "{file}");
        assert_eq!(asset.header("content-type"), content_type, "{file}");
        assert_eq!(asset.header("x-content-type-options"), "nosniff", "{file}");
        assert!(
            asset.body.len() >= at_least,
            "{file} is {} bytes",
            asset.body.len()
        );
        assert!(!asset.text().contains("https://petstore"),);
    }
}
