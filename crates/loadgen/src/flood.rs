//! A slow WeChat under a flood of logins: WeChat answers after 3 s, 500 logins arrive at once.
//!
//! Each instance makes at most `WECHAT_MAX_IN_FLIGHT` (64) WeChat calls at once and a login waits
//! at most a second for a slot, so every login must end in 200 or 503 `upstream_busy`, memory must
//! stay within a few MB of where it started, and `GET /api/me`, which needs no WeChat, must keep
//! answering with p99 under 50 ms throughout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;

use crate::client::Api;
use crate::cluster::Cluster;
use crate::stats::{ms, percentile, Samples};
use crate::{check, process};

const LOGINS: usize = 500;
const WECHAT_DELAY: Duration = Duration::from_secs(3);
const ME_P99_TARGET: Duration = Duration::from_millis(50);
/// Growth of resident memory during the flood that still counts as bounded.
const MEMORY_BOUND_KIB: u64 = 64 * 1024;

pub async fn run() -> Result<(), String> {
    let cluster = Cluster::start().await?;
    let wechat = process::fake_wechat(WECHAT_DELAY).await?;
    let log = std::env::temp_dir().join("wxlogin-loadgen-flood.log");
    // 500 logins from one address is what the rate limit is for; this scenario is about WeChat.
    let server = process::server(
        &cluster.url("wxlogin"),
        &wechat,
        &[("RATE_LIMIT_LOGIN", "off")],
        &log.to_string_lossy(),
    )
    .await?;
    let api = Api::new(&server.base_url);
    let signed_in = api.login("flood-reader", None).await;
    let token = signed_in
        .text("access_token")
        .ok_or("the first login failed")?;
    let started = Instant::now();
    let (baseline, _) = server.memory_kib();

    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (api, token, done) = (api.clone(), token.clone(), done.clone());
            tokio::spawn(async move {
                let mut samples = Samples::default();
                while !done.load(Ordering::Relaxed) {
                    samples.record(started, "GET /api/me", &api.me(&token).await);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                samples
            })
        })
        .collect();
    let peak = {
        let done = done.clone();
        let pid = server.pid();
        tokio::spawn(async move {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(rss_kib(pid));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            peak
        })
    };
    // Let the readers run alone for a moment, so the report shows before and during.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let flood_started = Instant::now();
    let logins = join_all((0..LOGINS).map(|n| {
        let api = api.clone();
        async move { api.login(&format!("flood{n}"), None).await }
    }))
    .await;
    let flood_took = flood_started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    done.store(true, Ordering::Relaxed);

    let mut samples = Samples::default();
    for login in &logins {
        samples.record(started, "POST /api/auth/login", login);
    }
    for reader in readers {
        samples.extend(reader.await.map_err(|err| err.to_string())?);
    }
    let peak = peak.await.map_err(|err| err.to_string())?;
    let (after, _) = server.memory_kib();
    let during: Vec<Duration> = samples
        .0
        .iter()
        .filter(|s| s.endpoint == "GET /api/me" && s.at >= flood_started - started)
        .filter(|s| s.at <= flood_started - started + flood_took)
        .map(|s| s.latency)
        .collect();
    let ok = logins.iter().filter(|a| a.status == 200).count();
    let busy = logins
        .iter()
        .filter(|a| a.status == 503 && a.error_code() == "upstream_busy")
        .count();

    println!(
        "{}",
        samples.report(&format!(
            "flood: {LOGINS} concurrent logins, WeChat answering after {} s, WECHAT_MAX_IN_FLIGHT 64",
            WECHAT_DELAY.as_secs()
        ))
    );
    println!(
        "  logins: {ok} × 200, {busy} × 503 upstream_busy, all done in {:.1} s",
        flood_took.as_secs_f64()
    );
    println!(
        "  GET /api/me during the flood: {} requests, p99 {:.1} ms (target < {} ms)",
        during.len(),
        ms(percentile(&during, 0.99)),
        ME_P99_TARGET.as_millis()
    );
    println!(
        "  server RSS: {} MB before, {} MB at peak, {} MB after",
        baseline / 1024,
        peak / 1024,
        after / 1024
    );
    println!("  server log: {}", log.display());

    check(ok + busy == LOGINS, || {
        format!(
            "{} logins ended otherwise than 200 or 503 upstream_busy",
            LOGINS - ok - busy
        )
    })?;
    check(ok >= 64, || format!("only {ok} logins got a WeChat slot"))?;
    check(
        !during.is_empty() && percentile(&during, 0.99) < ME_P99_TARGET,
        || "GET /api/me p99 during the flood missed its target".to_owned(),
    )?;
    check(peak.saturating_sub(baseline) < MEMORY_BOUND_KIB, || {
        format!("RSS grew by {} MB", peak.saturating_sub(baseline) / 1024)
    })?;
    let db = sqlx::PgPool::connect(&cluster.url("wxlogin"))
        .await
        .map_err(|e| e.to_string())?;
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db)
        .await
        .map_err(|e| e.to_string())?;
    check(users == ok as i64 + 1, || {
        format!("{users} users for {ok} successful logins and the reader")
    })
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}
