//! The processes under test: release binaries started with their environment, their address
//! read from the line they print once listening, their memory and descriptors read from /proc.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const APPID: &str = "wxloadgenappid000";
pub const SECRET: &str = "loadgen-secret";

pub struct Process {
    pub child: Child,
    pub base_url: String,
}

impl Process {
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// Resident memory now and at its peak, in KiB.
    pub fn memory_kib(&self) -> (u64, u64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|fds| fds.count())
            .unwrap_or(0)
    }

    /// SIGKILL: no shutdown, no flush, as the OOM killer or a lost machine would.
    pub async fn kill_hard(&mut self) {
        let _ = self.child.kill().await;
    }
}

fn bin_dir() -> PathBuf {
    std::env::var("LOADGEN_BIN_DIR").map_or_else(|_| PathBuf::from("target/release"), PathBuf::from)
}

/// Starts `binary` with `env`; its stderr goes to `log` (or nowhere), and the address it prints
/// first (`... listening on http://ADDR`) becomes its base URL.
pub async fn spawn(
    binary: &str,
    env: &[(&str, String)],
    log: Option<&str>,
) -> Result<Process, String> {
    let path = bin_dir().join(binary);
    let stderr = match log {
        Some(file) => {
            Stdio::from(std::fs::File::create(file).map_err(|err| format!("{file}: {err}"))?)
        }
        None => Stdio::null(),
    };
    let mut child = Command::new(&path)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env(
            "RUST_LOG",
            std::env::var("LOADGEN_RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| {
            format!(
                "{}: {err} (build it with `cargo build --release`)",
                path.display()
            )
        })?;
    let stdout = child.stdout.take().expect("piped");
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .map_err(|_| format!("{binary} did not start listening within 60 s"))?
        .map_err(|err| err.to_string())?
        .ok_or_else(|| format!("{binary} exited before listening"))?;
    let base_url = first
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .ok_or_else(|| format!("{binary} said {first:?}"))?
        .to_owned();
    // Keep reading so that a chatty process never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Process { child, base_url })
}

/// The fake WeChat in dev mode: any code `label:anything` logs in as a user named by `label`.
pub async fn fake_wechat(login_delay: Duration) -> Result<Process, String> {
    spawn(
        "fake-wechat",
        &[
            ("FAKE_WECHAT_ADDR", "127.0.0.1:0".into()),
            ("FAKE_WECHAT_APPID", APPID.into()),
            ("FAKE_WECHAT_SECRET", SECRET.into()),
            ("FAKE_WECHAT_DEV", "1".into()),
            (
                "FAKE_WECHAT_LOGIN_DELAY_MS",
                login_delay.as_millis().to_string(),
            ),
        ],
        None,
    )
    .await
}

/// A wxlogin server on `database_url` talking to `wechat`, with `extra` settings on top.
pub async fn server(
    database_url: &str,
    wechat: &Process,
    extra: &[(&str, &str)],
    log: &str,
) -> Result<Process, String> {
    let mut env = vec![
        ("DATABASE_URL", database_url.to_owned()),
        ("LISTEN_ADDR", "127.0.0.1:0".into()),
        // Several servers run at once: each serves its metrics on a port of its own.
        ("METRICS_ADDR", "127.0.0.1:0".into()),
        ("WECHAT_APPID", APPID.into()),
        ("WECHAT_SECRET", SECRET.into()),
        ("WECHAT_API_BASE", wechat.base_url.clone()),
        (
            "JWT_SECRET",
            "loadgen-only-signing-key-0123456789abcdef".into(),
        ),
        (
            "SESSION_KEY_SECRET",
            "loadgen-only-sealing-key-0123456789abcdef".into(),
        ),
    ];
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    spawn("wxlogin-server", &env, Some(log)).await
}

/// How many connections the servers hold to `database`, as Postgres counts them.
pub async fn db_connections(db: &sqlx::PgPool, database: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(database)
    .fetch_one(db)
    .await
    .unwrap_or(-1)
}
