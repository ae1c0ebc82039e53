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
        // Unless `env` says otherwise: the default port would clash between tests run at once.
        .env("METRICS_ADDR", "off")
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

/// The binary, serving on loopback ports of its own choosing, its stderr kept in a file.
pub struct RunningServer {
    child: Child,
    pub base_url: String,
    pub metrics_url: String,
    stderr: PathBuf,
}

impl RunningServer {
    /// Starts the binary on `db` with [`required_env`] and `env` on top, serving its API and its
    /// metrics on ports it picks; returns once it has said where both are.
    pub fn start(db: &PgPool, env: &[(&'static str, String)]) -> Self {
        let dir = empty_dir();
        let stderr = dir.join("stderr.log");
        let mut all = required_env();
        all.extend([
            ("DATABASE_URL", database_url_of(db)),
            ("LISTEN_ADDR", "127.0.0.1:0".to_owned()),
            ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
        ]);
        all.extend(env.iter().cloned());
        let mut child = Command::new(BINARY)
            .env_clear()
            .envs(all.iter().map(|(k, v)| (k, v)))
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("run the server binary");
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut url_after = |prefix: &str| {
            let line = stdout
                .next()
                .unwrap_or_else(|| panic!("the server exited: {}", read(&stderr)))
                .unwrap();
            line.strip_prefix(prefix)
                .unwrap_or_else(|| panic!("unexpected line {line:?}"))
                .to_owned()
        };
        let base_url = url_after("wxlogin-server listening on ");
        let metrics_url = url_after("wxlogin-server metrics at ");
        Self {
            child,
            base_url,
            metrics_url,
            stderr,
        }
    }

    /// Everything the server has logged so far. The server writes its lines from a thread of
    /// its own, a moment after the request they belong to was answered, so this waits until
    /// the log has stopped growing.
    pub fn stderr(&self) -> String {
        let mut logged = read(&self.stderr);
        for _ in 0..50 {
            std::thread::sleep(std::time::Duration::from_millis(20));
            let now = read(&self.stderr);
            if now == logged {
                break;
            }
            logged = now;
        }
        logged
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
