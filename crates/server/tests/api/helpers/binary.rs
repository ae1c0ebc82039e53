//! The `wxlogin-server` binary itself, run as a deployment would run it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use sqlx::PgPool;

use super::config::required_env;

pub const BINARY: &str = env!("CARGO_BIN_EXE_wxlogin-server");

/// A new empty directory under the system's temporary directory.
pub fn empty_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wxlogin-config-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary in `dir` with exactly `env`; returns its exit code and what it wrote to
/// stderr.
pub fn run_in(dir: &Path, env: &[(&str, String)]) -> (Option<i32>, String) {
    let output = Command::new(BINARY)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(dir)
        .output()
        .expect("run the server binary");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs the binary with exactly `env`, in a directory with no `.env` in it.
pub fn run_with(env: &[(&str, String)]) -> (Option<i32>, String) {
    run_in(&empty_dir(), env)
}

/// [`required_env`] with `variable` taken out and, when given, set to `value` instead.
pub fn env_with(variable: &'static str, value: Option<&str>) -> Vec<(&'static str, String)> {
    let mut env = required_env();
    env.retain(|(name, _)| *name != variable);
    env.extend(value.map(|value| (variable, value.to_owned())));
    env
}

/// A URL for the per-test database, built from the URL the test run was given.
pub fn database_url_of(db: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for tests");
    let mut url = reqwest::Url::parse(&base).unwrap();
    url.set_path(db.connect_options().get_database().unwrap());
    url.to_string()
}

/// Starts the binary with exactly `env` (which should listen on a free port) in an empty
/// directory; returns it and its base URL once it says it listens. Its stderr goes to `stderr`.
pub fn start_listening(env: &[(&str, String)], stderr: Stdio) -> (Child, String) {
    let mut server = Command::new(BINARY)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(empty_dir())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut banner = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let base_url = banner
        .trim()
        .strip_prefix("wxlogin-server listening on ")
        .unwrap_or_else(|| panic!("the server did not start: {banner:?}"))
        .to_owned();
    (server, base_url)
}
