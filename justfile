# wxlogin developer commands. Needs only Rust and Node 20+; run through npm:
#   npx --yes rust-just@1 dev     run the server against a fake WeChat, with a local Postgres
#   npx --yes rust-just@1 test    every test: Rust (against Postgres) and the mini program
# `npx --yes rust-just@1 --list` shows all recipes.
#
# Recipes that need a database run under scripts/with-db.js: it uses DATABASE_URL when set
# (environment or .env), and otherwise starts an embedded Postgres kept in .pgdata/.

set shell := ["bash", "-euo", "pipefail", "-c"]
set ignore-comments := true

just := quote(just_executable())
with_db := "node scripts/with-db.js"

# The sqlx macros check queries against the committed .sqlx/ data, so that building needs neither
# a migrated database nor sqlx-cli (the server migrates its database when it starts). After
# changing a query, `just sqlx-prepare` updates .sqlx/; SQLX_OFFLINE=false checks against
# DATABASE_URL instead.
export SQLX_OFFLINE := env("SQLX_OFFLINE", "true")

# How the mini program's Node tests report: dots and the failures; `spec` lists every test.
test_reporter := env("TEST_REPORTER", "dot")

# List the recipes.
default:
    @{{ just }} --list

# Install what `dev` and `test` need beyond Rust and Node (npm packages, among them Postgres).
bootstrap:
    @bash scripts/bootstrap.sh

# Run wxlogin locally: fake WeChat (unless WECHAT_APPID and WECHAT_SECRET are set) and the server.
dev: bootstrap
    @node scripts/build-miniprogram.js --if-stale
    # At a terminal, the servers run as its foreground job: Ctrl-C reaches them and not just,
    # so a clean stop exits 0 instead of being reported as an interrupted recipe. (The `exit`
    # keeps bash from exec'ing the command in its own place, which would leave it in just's group.)
    @if [ -t 0 ]; then set -m; fi; {{ with_db }} node scripts/dev.js; exit $?

# Run every test (Rust against Postgres, then the mini program); fails if any fails.
test: bootstrap
    @{{ with_db }} {{ just }} _test-all

[private]
_test-all:
    cargo test --workspace --no-fail-fast
    # The OpenAPI document, as the binary prints it, through Redocly's validator (redocly.yaml).
    @{{ just }} openapi-lint
    node --test --test-reporter={{ test_reporter }} miniprogram/test/
    node scripts/build-miniprogram.js --check --if-stale
    # docs/integrate.md's examples (Node, Python; Go and Java where installed) against a live wxlogin.
    node examples/run.js
    # Pages served by wxlogin, in headless Chromium against a live wxlogin (skipped, saying why,
    # where no Chromium is installed; CI installs it and skips none).
    node --test --test-reporter={{ test_reporter }} --test-concurrency=1 web-tests/

# Build the images wxlogin:<version> and wxlogin-fake-wechat:<version> (static musl binaries, FROM scratch).
image: bootstrap
    @bash scripts/image.sh

# Log in once through the images (podman, Postgres, the fake WeChat); validate compose.yaml and deploy/kubernetes/.
deploy-check: bootstrap
    @if command -v podman >/dev/null || [ "${CI:-}" = true ]; then {{ just }} image; fi
    @{{ with_db }} node scripts/image-check.js
    @bash scripts/validate-deploy-files.sh

# Write the API's OpenAPI 3.1 document to target/openapi.json and check it with Redocly's validator.
openapi-lint: bootstrap
    @mkdir -p target
    cargo run --quiet -p wxlogin-server -- openapi > target/openapi.json
    REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx --no-install redocly lint --format=summary target/openapi.json

# Build the mini program's generated files (wasm module and glue; installs the wasm tools).
miniprogram:
    @bash scripts/bootstrap.sh wasm
    node scripts/build-miniprogram.js

# Rebuild the mini program and fail when the committed build differs or a WXML file does not compile.
miniprogram-check:
    @bash scripts/bootstrap.sh wasm
    node scripts/build-miniprogram.js --check

# Benchmark on a Postgres with production durability (needs wrk), then the wasm core against JS.
bench: bootstrap
    {{ with_db }} --durable bash scripts/bench.sh
    node miniprogram/bench/expiry.js

# Each scenario starts a Postgres cluster of its own and fails when a guarantee does not hold.
# Failure scenarios on release builds: a WeChat taking 3 s, Postgres stopped, an instance killed.
faults: bootstrap _release
    target/release/wxlogin-loadgen flood
    target/release/wxlogin-loadgen outage
    target/release/wxlogin-loadgen crash

# Mixed load against a release build for `duration` (90s, 3m, 1h; also SOAK_DURATION), then its figures.
soak duration=env("SOAK_DURATION", "10m"): bootstrap _release
    SOAK_DURATION={{ duration }} target/release/wxlogin-loadgen soak

[private]
_release:
    cargo build --release -p wxlogin-server -p fake-wechat -p wxlogin-loadgen

# Format all Rust code.
fmt:
    cargo fmt --all

# Formatting and clippy; builds from the committed .sqlx/ data, so no database is needed.
lint: bootstrap
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Regenerate .sqlx/ (commit it) after changing a query or a migration.
sqlx-prepare: bootstrap _sqlx-cli
    @{{ with_db }} {{ just }} _migrate cargo sqlx prepare --workspace

# Fail when .sqlx/ does not match the queries and migrations.
sqlx-check: bootstrap _sqlx-cli
    @{{ with_db }} {{ just }} _migrate cargo sqlx prepare --workspace --check

# Drop and recreate the dev database with all migrations (after editing an applied migration).
db-reset: bootstrap _sqlx-cli
    @{{ with_db }} cargo sqlx database reset -y

[private]
_sqlx-cli:
    @bash scripts/bootstrap.sh sqlx

# Apply the migrations, then run the given command: `cargo sqlx prepare` checks the queries
# against this database, so its schema must be current first.
[positional-arguments]
[private]
_migrate +cmd:
    @cargo sqlx migrate run
    @"$@"
