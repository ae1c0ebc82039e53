//! Finds the files of the API reference page that `/docs` embeds: Swagger UI, from npm's
//! `swagger-ui-dist` as `npm ci` (`just bootstrap`) installs it at the repository root, or from
//! the directory `SWAGGER_UI_DIST` names. Nothing is downloaded here.

use std::path::PathBuf;

/// What `src/http/docs.rs` includes.
const FILES: &[&str] = &["swagger-ui-bundle.js", "swagger-ui.css", "package.json"];

fn main() {
    println!("cargo:rerun-if-env-changed=SWAGGER_UI_DIST");
    let dist = match std::env::var_os("SWAGGER_UI_DIST") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"))
            .join("../../node_modules/swagger-ui-dist"),
    };
    for file in FILES {
        let path = dist.join(file);
        if !path.is_file() {
            panic!(
                "\n\nwxlogin-server embeds Swagger UI (npm's swagger-ui-dist) for its /docs page, \
                 and {} is missing.\nInstall the npm packages first: `npx --yes rust-just@1 \
                 bootstrap` (or `npm ci`) at the repository root.\n\n",
                path.display()
            );
        }
        println!("cargo:rerun-if-changed={}", path.display());
    }
    let dist = dist.canonicalize().expect("the directory exists");
    println!("cargo:rustc-env=SWAGGER_UI_DIST={}", dist.display());
}
