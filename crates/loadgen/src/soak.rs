//! A soak: mixed load against one release instance for `SOAK_DURATION` (default 10m).
//!
//! Virtual users log in (each from an address of its own, named in `X-Forwarded-For` to a
//! server that trusts this machine as its proxy, so the rate limits apply per user and their
//! table grows as it would in production), read `/api/me`, refresh, read again and log out, over
//! and over. Printed at the end: requests by status, p50/p99 per endpoint, the server's peak and
//! final RSS, its open file descriptors and its database connections, sampled throughout.
//! Memory and descriptors must be flat after the warm-up: the run fails if they kept growing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::Api;
use crate::cluster::Cluster;
use crate::stats::Samples;
use crate::{check, process};

const WORKERS: usize = 16;
/// Distinct users, each with an address of its own.
const USERS: u32 = 50_000;
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

struct Reading {
    at: Duration,
    rss_kib: u64,
    fds: usize,
    connections: i64,
}

pub async fn run() -> Result<(), String> {
    let duration = duration_from_env()?;
    let cluster = Cluster::start().await?;
    let wechat = process::fake_wechat(Duration::ZERO).await?;
    let log = std::env::temp_dir().join("wxlogin-loadgen-soak.log");
    let server = process::server(
        &cluster.url("wxlogin"),
        &wechat,
        &[("TRUSTED_PROXIES", "127.0.0.1")],
        &log.to_string_lossy(),
    )
    .await?;
    let db = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&cluster.url("postgres"))
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "soak: {WORKERS} virtual users at a time over {USERS} users for {} s against {}",
        duration.as_secs(),
        server.base_url
    );

    let started = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (api, done) = (Api::new(&server.base_url), done.clone());
            tokio::spawn(async move { virtual_users(api, started, done).await })
        })
        .collect();

    let mut readings = Vec::new();
    while started.elapsed() < duration {
        let next = (SAMPLE_EVERY * (readings.len() as u32 + 1)).min(duration);
        tokio::time::sleep(next.saturating_sub(started.elapsed())).await;
        let (rss_kib, _) = server.memory_kib();
        readings.push(Reading {
            at: started.elapsed(),
            rss_kib,
            fds: server.open_fds(),
            connections: process::db_connections(&db, "wxlogin").await,
        });
    }
    done.store(true, Ordering::Relaxed);
    let mut samples = Samples::default();
    for worker in workers {
        samples.extend(worker.await.map_err(|e| e.to_string())?);
    }
    // Once idle, what the instance holds on to.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (final_rss, peak_rss) = server.memory_kib();
    let final_fds = server.open_fds();
    let final_connections = process::db_connections(&db, "wxlogin").await;

    let total = samples.0.len();
    println!(
        "{}",
        samples.report(&format!(
            "soak: {total} requests in {:.0} s ({:.0}/s)",
            duration.as_secs_f64(),
            total as f64 / duration.as_secs_f64()
        ))
    );
    // Warm-up: the first fifth of the run, at least 30 s (pools fill, caches and tables grow).
    let warm = (duration / 5).max(Duration::from_secs(30)).min(duration);
    let after_warmup: Vec<&Reading> = readings.iter().filter(|r| r.at >= warm).collect();
    let first = after_warmup
        .first()
        .copied()
        .or(readings.first())
        .ok_or("no readings")?;
    let last = readings.last().ok_or("no readings")?;
    let max_rss = readings.iter().map(|r| r.rss_kib).max().unwrap_or(0);
    let (min_fds, max_fds) = (
        readings.iter().map(|r| r.fds).min().unwrap_or(0),
        readings.iter().map(|r| r.fds).max().unwrap_or(0),
    );
    let (min_conns, max_conns) = (
        readings.iter().map(|r| r.connections).min().unwrap_or(0),
        readings.iter().map(|r| r.connections).max().unwrap_or(0),
    );
    println!(
        "  server RSS: {} MB after warm-up ({:.0} s), {} MB at the last reading, peak {} MB (sampled {} MB), {} MB when idle at the end",
        first.rss_kib / 1024,
        first.at.as_secs_f64(),
        last.rss_kib / 1024,
        peak_rss / 1024,
        max_rss / 1024,
        final_rss / 1024
    );
    println!(
        "  open file descriptors: {} after warm-up, {min_fds}..{max_fds} during, {final_fds} at the end",
        first.fds
    );
    println!(
        "  database connections: {} after warm-up, {min_conns}..{max_conns} during, {final_connections} at the end",
        first.connections
    );
    let rss_series: Vec<String> = readings
        .iter()
        .step_by((readings.len() / 12).max(1))
        .map(|r| {
            format!(
                "{:.0}s:{}MB/{}fd",
                r.at.as_secs_f64(),
                r.rss_kib / 1024,
                r.fds
            )
        })
        .collect();
    println!("  over time: {}", rss_series.join(" "));
    println!("  server log: {}", log.display());

    let failures = samples
        .0
        .iter()
        .filter(|s| s.status == 0 || s.status >= 500)
        .count();
    check(failures == 0, || {
        format!("{failures} requests failed with 5xx or no answer")
    })?;
    // Flat: no more than a quarter (and 16 MB) above the post-warm-up level, in memory and fds.
    check(
        last.rss_kib <= first.rss_kib + (first.rss_kib / 4).max(16 * 1024),
        || "memory kept growing after the warm-up".to_owned(),
    )?;
    check(last.fds <= first.fds + first.fds / 4 + 8, || {
        "file descriptors kept growing after the warm-up".to_owned()
    })
}

/// One virtual user after another: log in, read, refresh, read, log out.
async fn virtual_users(api: Api, started: Instant, done: Arc<AtomicBool>) -> Samples {
    let mut samples = Samples::default();
    while !done.load(Ordering::Relaxed) {
        let user = rand::random::<u32>() % USERS;
        let ip = format!("198.18.{}.{}", user / 256 % 256, user % 256);
        let login = api.login(&format!("soak{user}"), Some(&ip)).await;
        samples.record(started, "POST /api/auth/login", &login);
        let (Some(mut access), Some(refresh_token)) =
            (login.text("access_token"), login.text("refresh_token"))
        else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        for _ in 0..4 {
            samples.record(started, "GET /api/me", &api.me(&access).await);
        }
        let refresh = api.refresh(&refresh_token, Some(&ip)).await;
        samples.record(started, "POST /api/auth/refresh", &refresh);
        if let Some(renewed) = refresh.text("access_token") {
            access = renewed;
        }
        samples.record(started, "GET /api/me", &api.me(&access).await);
        samples.record(started, "POST /api/auth/logout", &api.logout(&access).await);
    }
    samples
}

/// `SOAK_DURATION`: `90s`, `3m`, `1h` or plain seconds; 10 minutes when unset.
fn duration_from_env() -> Result<Duration, String> {
    let text = std::env::var("SOAK_DURATION").unwrap_or_else(|_| "10m".into());
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let number: u64 = number
        .parse()
        .map_err(|_| format!("SOAK_DURATION must be like 90s, 3m or 1h, got {text:?}"))?;
    let seconds = match unit {
        "" | "s" => number,
        "m" => number * 60,
        "h" => number * 3600,
        _ => {
            return Err(format!(
                "SOAK_DURATION must be like 90s, 3m or 1h, got {text:?}"
            ))
        }
    };
    match seconds {
        10.. => Ok(Duration::from_secs(seconds)),
        _ => Err("SOAK_DURATION must be at least 10 s".into()),
    }
}
