//! The binary behind PgBouncer in transaction pooling mode (Debian's `pgbouncer` package), with
//! `DATABASE_POOLER=transaction` and the migrations over `DATABASE_MIGRATION_URL`: logins,
//! phone numbers (WeChat's access token, refreshed under its lock), `/api/me`, refreshes and
//! logouts, many at once over fewer server connections than clients, so that consecutive
//! transactions of one client land on different server connections.
//!
//! Skipped, saying so, where `pgbouncer` is not installed; in CI (`CI=true`) that fails instead.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_wechat::{FakeWechat, FakeWechatConfig};
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::binary::{database_url_of, empty_dir, env_with, start_listening};
use crate::helpers::config::{APPID, WECHAT_SECRET};
use crate::helpers::wechat::china;

const USERS: usize = 50;
const IN_FLIGHT: usize = 10;
/// Server connections PgBouncer opens to Postgres, against the server's 8 client connections.
const SERVER_CONNECTIONS: usize = 3;

#[sqlx::test(migrations = false)]
async fn logins_refreshes_and_logouts_work_through_pgbouncer_in_transaction_mode(db: PgPool) {
    let Some(pgbouncer) = pgbouncer_binary() else {
        return;
    };
    let direct = database_url_of(&db);
    let bouncer = PgBouncer::start(&pgbouncer, &direct);
    let fake = FakeWechat::start(FakeWechatConfig::new(APPID, WECHAT_SECRET)).await;
    let mut env = env_with("DATABASE_URL", Some(&bouncer.url_for(&direct)));
    env.extend([
        ("DATABASE_POOLER", "transaction".to_owned()),
        ("DATABASE_MIGRATION_URL", direct.clone()),
        ("LISTEN_ADDR", "127.0.0.1:0".to_owned()),
        ("WECHAT_API_BASE", fake.base_url()),
        ("RATE_LIMIT_LOGIN", "off".to_owned()),
        ("RATE_LIMIT_REFRESH", "off".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]);
    let server = ServerProcess::start(&env);

    let http = reqwest::Client::new();
    let failures: Vec<String> = stream::iter(0..USERS)
        .map(|i| session_round_trip(&http, &server.base_url, &fake, i))
        .buffer_unordered(IN_FLIGHT)
        .filter_map(|outcome| async move { outcome.err() })
        .collect()
        .await;
    assert!(
        failures.is_empty(),
        "{} failed: {failures:#?}\npgbouncer's log:\n{}",
        failures.len(),
        bouncer.log()
    );

    // Every write was committed, not merely answered.
    let (users, sessions, revoked, phones): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM sessions),
                (SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL),
                (SELECT count(*) FROM users WHERE phone IS NOT NULL)",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!((users, sessions, revoked, phones), (50, 50, 50, 50));
    assert_eq!(
        fake.stable_token_calls(),
        1,
        "one access token, shared by every request"
    );
    drop(server);
    drop(bouncer);
}

/// One user's day: log in, bind a phone number, read /api/me, refresh, read /api/me with the new
/// token, log out, and be refused afterwards.
async fn session_round_trip(
    http: &reqwest::Client,
    base_url: &str,
    fake: &FakeWechat,
    i: usize,
) -> Result<(), String> {
    let openid = format!("openid-pgbouncer-{i}");
    let login = call(
        http.post(format!("{base_url}/api/auth/login"))
            .json(&json!({ "code": fake.issue_code(&openid) })),
        200,
    )
    .await?;
    let access = login["access_token"].as_str().ok_or("no access_token")?;
    let refresh = login["refresh_token"].as_str().ok_or("no refresh_token")?;
    let phone = format!("1380000{i:04}");
    let bound = call(
        http.post(format!("{base_url}/api/me/phone"))
            .bearer_auth(access)
            .json(&json!({ "code": fake.issue_phone_code(&openid, china(&phone)) })),
        200,
    )
    .await?;
    if !bound.to_string().contains(&phone) {
        return Err(format!("phone {phone} not in {bound}"));
    }
    let me = call(
        http.get(format!("{base_url}/api/me")).bearer_auth(access),
        200,
    )
    .await?;
    let user_id = me["id"].as_str().ok_or("no user id")?.to_owned();
    let renewed = call(
        http.post(format!("{base_url}/api/auth/refresh"))
            .json(&json!({ "refresh_token": refresh })),
        200,
    )
    .await?;
    let access = renewed["access_token"].as_str().ok_or("no renewed token")?;
    let me = call(
        http.get(format!("{base_url}/api/me")).bearer_auth(access),
        200,
    )
    .await?;
    if me["id"] != user_id {
        return Err(format!("refreshed /api/me is {me}, not user {user_id}"));
    }
    call(
        http.post(format!("{base_url}/api/auth/logout"))
            .bearer_auth(access),
        204,
    )
    .await?;
    call(
        http.get(format!("{base_url}/api/me")).bearer_auth(access),
        401,
    )
    .await?;
    Ok(())
}

/// Sends `request`; its JSON body (null when empty) if the status is `expected`.
async fn call(request: reqwest::RequestBuilder, expected: u16) -> Result<Value, String> {
    let response = request.send().await.map_err(|err| err.to_string())?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(|err| err.to_string())?;
    if status != expected {
        return Err(format!("{status} (expected {expected}): {body}"));
    }
    Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Debian's `pgbouncer`, or `None` (having said why) where it is missing outside CI.
fn pgbouncer_binary() -> Option<PathBuf> {
    let found = [
        "/usr/sbin/pgbouncer",
        "/usr/bin/pgbouncer",
        "/usr/local/bin/pgbouncer",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|path| path.exists());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "pgbouncer is not installed, and CI must run the PgBouncer test (apt-get install pgbouncer)"
        );
        eprintln!(
            "skipped: the PgBouncer transaction-pooling test needs Debian's pgbouncer \
             (apt-get install pgbouncer), which is not installed"
        );
    }
    found
}

/// A PgBouncer of its own in transaction pooling mode, on a free loopback port, in front of the
/// test run's Postgres. Stopped when dropped.
struct PgBouncer {
    port: u16,
    process: Child,
    /// What PgBouncer logged, shown when the test fails.
    log: PathBuf,
}

impl PgBouncer {
    fn start(binary: &Path, direct_url: &str) -> Self {
        let url = reqwest::Url::parse(direct_url).unwrap();
        let dir = empty_dir();
        let port = free_port();
        // The server login's password, where the test database has one (the embedded Postgres
        // does): PgBouncer uses the one in the database line only together with `user=`, and
        // otherwise the auth file's, so it goes in both.
        let password = url.password().unwrap_or_default().to_owned();
        let server_login = match password.as_str() {
            "" => String::new(),
            password => format!(" user={} password={password}", url.username()),
        };
        let config = format!(
            "[databases]\n\
             * = host={host} port={pg_port}{server_login}\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = trust\n\
             auth_file = {dir}/users.txt\n\
             pool_mode = transaction\n\
             default_pool_size = {SERVER_CONNECTIONS}\n\
             max_client_conn = 100\n",
            host = url.host_str().unwrap(),
            pg_port = url.port().unwrap_or(5432),
            dir = dir.display(),
        );
        std::fs::write(dir.join("pgbouncer.ini"), config).unwrap();
        std::fs::write(
            dir.join("users.txt"),
            format!("\"{}\" \"{password}\"\n", url.username()),
        )
        .unwrap();
        let mut command = Command::new(binary);
        // PgBouncer refuses to run as root; CI runs as root.
        if nix_is_root() {
            command.args(["-u", "nobody"]);
        }
        let process = command
            .arg(dir.join("pgbouncer.ini"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("pgbouncer.log")).unwrap())
            .spawn()
            .expect("start pgbouncer");
        let bouncer = Self {
            port,
            process,
            log: dir.join("pgbouncer.log"),
        };
        bouncer.wait_until_listening();
        bouncer
    }

    /// `direct_url` with PgBouncer's address instead of Postgres'.
    fn url_for(&self, direct_url: &str) -> String {
        let mut url = reqwest::Url::parse(direct_url).unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(self.port)).unwrap();
        url.to_string()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_until_listening(&self) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                Instant::now() < deadline,
                "pgbouncer did not listen within 10 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// The server binary, stopped with SIGTERM when dropped.
struct ServerProcess {
    base_url: String,
    process: Child,
}

impl ServerProcess {
    fn start(env: &[(&str, String)]) -> Self {
        let (process, base_url) = start_listening(env, Stdio::inherit());
        Self { base_url, process }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.process.id().to_string()])
            .status();
        let _ = self.process.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}
