# wxlogin developer commands. Needs only Rust and Node 20+; run through npm:
#   npx --yes rust-just@1 dev     run the server against a fake WeChat, with a local Postgres
#   npx --yes rust-just@1 test    every test: Rust (against Postgres) and the mini program
# `npx --yes rust-just@1 --list` shows all recipes.
#
# Recipes that need a database run under scripts/with-db.js: it uses DATABASE_URL when set
# (environment or .env), and otherwise starts an embedded Postgres kept in .pgdata/.

set shell := ["bash", "-euo", "pipefail", "-c"]

just := quote(just_executable())
with_db := "node scripts/with-db.js"

# List the recipes.
default:
    @{{ just }} --list

# Install the tools the other recipes use (wasm target, wasm-bindgen-cli, sqlx-cli, npm packages).
bootstrap:
    @bash scripts/bootstrap.sh

# Run wxlogin locally: fake WeChat (unless WECHAT_APPID and WECHAT_SECRET are set) and the server.
dev: bootstrap miniprogram
    @{{ with_db }} {{ just }} _migrate node scripts/dev.js

# Run every test (Rust against Postgres, then the mini program); fails if any fails.
test: bootstrap
    @{{ with_db }} {{ just }} _migrate {{ just }} _test-all

[private]
_test-all:
    cargo test --workspace --no-fail-fast
    node --test miniprogram/test/
    {{ just }} miniprogram-check

# Build the mini program's generated files (wasm module and glue).
miniprogram:
    node scripts/build-miniprogram.js

# Fail when the committed mini program build is stale or a WXML file does not compile.
miniprogram-check:
    node scripts/build-miniprogram.js --check

# Run the benchmarks: the server under wrk (needs wrk), then the wasm core against plain JS.
bench: bootstrap
    {{ with_db }} bash scripts/bench.sh
    node miniprogram/bench/expiry.js

# Format all Rust code.
fmt:
    cargo fmt --all

# Formatting and clippy; builds from the committed .sqlx/ data, so no database is needed.
lint:
    cargo fmt --all --check
    SQLX_OFFLINE=true cargo clippy --workspace --all-targets -- -D warnings

# Regenerate .sqlx/ (commit it) after changing a query or a migration.
sqlx-prepare: bootstrap
    @{{ with_db }} {{ just }} _migrate cargo sqlx prepare --workspace

# Fail when .sqlx/ does not match the queries and migrations.
sqlx-check: bootstrap
    @{{ with_db }} {{ just }} _migrate cargo sqlx prepare --workspace --check

# Drop and recreate the dev database with all migrations (after editing an applied migration).
db-reset: bootstrap
    @{{ with_db }} cargo sqlx database reset -y

# Apply the migrations, then run the given command. The sqlx macros check queries against this
# database when the code compiles, so its schema must be current first.
[positional-arguments]
[private]
_migrate +cmd:
    @cargo sqlx migrate run
    @"$@"
