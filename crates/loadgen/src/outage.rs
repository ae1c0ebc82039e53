//! Postgres goes away under load and comes back.
//!
//! Logins, refreshes and `GET /api/me` run continuously against one instance on a cluster of the
//! scenario's own; the cluster is stopped hard for a few seconds, then started again. Checked:
//! while it is down, requests that need it answer 503 `unavailable` within
//! `DATABASE_ACQUIRE_TIMEOUT` and never 500, `/readyz` is 503 and `/healthz` 200; once it is back
//! the server recovers by itself within 5 s; and the database holds everything every 200
//! promised: each login's user, session and refresh token, each refresh's new token, and no
//! session without a refresh token. Tokens issued before the outage work after it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::{Answer, Api};
use crate::cluster::Cluster;
use crate::ledger::{self, Promise};
use crate::stats::{ms, Samples};
use crate::{check, process};

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// An answer slower than the acquire timeout by more than this counts as a hang.
const SLACK: Duration = Duration::from_millis(1500);
const RECOVERY_TARGET: Duration = Duration::from_secs(5);
const BEFORE: Duration = Duration::from_secs(3);
const DOWN: Duration = Duration::from_secs(5);
const AFTER: Duration = Duration::from_secs(7);

pub async fn run() -> Result<(), String> {
    let cluster = Arc::new(Cluster::start().await?);
    let wechat = process::fake_wechat(Duration::ZERO).await?;
    let log = std::env::temp_dir().join("wxlogin-loadgen-outage.log");
    let server = process::server(
        &cluster.url("wxlogin"),
        &wechat,
        &[
            ("DATABASE_ACQUIRE_TIMEOUT", "3"),
            ("RATE_LIMIT_LOGIN", "off"),
            ("RATE_LIMIT_REFRESH", "off"),
        ],
        &log.to_string_lossy(),
    )
    .await?;
    let api = Api::new(&server.base_url);
    let mut readers = Vec::new();
    for n in 0..4 {
        let answer = api.login(&format!("reader{n}"), None).await;
        readers.push(
            answer
                .text("access_token")
                .ok_or("a reader's login failed")?,
        );
    }
    let started = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();

    for n in 0..3 {
        let (api, done) = (api.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let (mut samples, mut promises) = (Samples::default(), Vec::new());
            let mut i = 0;
            while !done.load(Ordering::Relaxed) {
                i += 1;
                let answer = api.login(&format!("outage{n}-{i}"), None).await;
                samples.record(started, "POST /api/auth/login", &answer);
                promises.extend(promised(&answer, None));
                pace(&answer).await;
            }
            (samples, promises)
        }));
    }
    for token in readers.clone() {
        let (api, done) = (api.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Samples::default();
            while !done.load(Ordering::Relaxed) {
                let answer = api.me(&token).await;
                samples.record(started, "GET /api/me", &answer);
                pace(&answer).await;
            }
            (samples, Vec::new())
        }));
    }
    {
        let (api, done) = (api.clone(), done.clone());
        let first = api.login("refresher", None).await;
        let mut current = promised(&first, None).ok_or("the refresher's login failed")?;
        tasks.push(tokio::spawn(async move {
            let (mut samples, mut promises) = (Samples::default(), Vec::new());
            while !done.load(Ordering::Relaxed) {
                let answer = api.refresh(&current.refresh_token, None).await;
                samples.record(started, "POST /api/auth/refresh", &answer);
                if let Some(next) = promised(&answer, Some(&current)) {
                    promises.push(next.clone());
                    current = next;
                }
                pace(&answer).await;
            }
            (samples, promises)
        }));
    }
    for path in ["/readyz", "/healthz"] {
        let (api, done) = (api.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Samples::default();
            while !done.load(Ordering::Relaxed) {
                let answer = api.get(path).await;
                samples.record(
                    started,
                    if path == "/readyz" {
                        "GET /readyz"
                    } else {
                        "GET /healthz"
                    },
                    &answer,
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (samples, Vec::new())
        }));
    }

    tokio::time::sleep(BEFORE).await;
    let stop = {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || cluster.stop_hard())
    };
    stop.await.map_err(|e| e.to_string())??;
    let down_at = started.elapsed();
    tokio::time::sleep(DOWN).await;
    let restart_at = started.elapsed();
    let start = {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || cluster.start_again())
    };
    // Postgres accepts connections before `pg_ctl start` has noticed; recovery is counted from
    // the first connection that succeeds.
    let up_at = loop {
        use sqlx::Connection;
        if sqlx::PgConnection::connect(&cluster.url("wxlogin"))
            .await
            .is_ok()
        {
            break started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    start.await.map_err(|e| e.to_string())??;
    tokio::time::sleep(AFTER).await;
    done.store(true, Ordering::Relaxed);

    let (mut samples, mut promises) = (Samples::default(), Vec::new());
    for task in tasks {
        let (s, p) = task.await.map_err(|e| e.to_string())?;
        samples.extend(s);
        promises.extend(p);
    }

    println!(
        "{}",
        samples.report(&format!(
            "outage: Postgres stopped hard at {:.1} s, started again at {:.1} s, accepting at {:.1} s; DATABASE_ACQUIRE_TIMEOUT 3 s",
            down_at.as_secs_f64(),
            restart_at.as_secs_f64(),
            up_at.as_secs_f64()
        ))
    );
    println!("  server log: {}", log.display());

    // While it was down: requests sent after it stopped that ended before it accepted again,
    // less the time this scenario may have taken to notice (it polls).
    let noticed = up_at.saturating_sub(Duration::from_millis(200));
    let while_down = |s: &&crate::stats::Sample| s.at >= down_at && s.at + s.latency <= noticed;
    let down: Vec<_> = samples.0.iter().filter(while_down).collect();
    let unavailable = down
        .iter()
        .filter(|s| s.status == 503 && s.error == "unavailable")
        .count();
    let cached = down
        .iter()
        .filter(|s| s.endpoint == "GET /api/me" && s.status == 200)
        .count();
    println!(
        "  while down: {} answers, {unavailable} × 503 unavailable, {cached} × 200 for /api/me from the session cache",
        down.len()
    );
    for sample in &down {
        let fine = match sample.endpoint {
            "GET /healthz" => sample.status == 200,
            "GET /readyz" => sample.status == 503,
            "GET /api/me" => {
                sample.status == 200 || (sample.status == 503 && sample.error == "unavailable")
            }
            _ => sample.status == 503 && sample.error == "unavailable",
        };
        check(fine, || {
            format!(
                "{} answered {} {} while Postgres was down",
                sample.endpoint, sample.status, sample.error
            )
        })?;
    }
    let internal = samples
        .0
        .iter()
        .filter(|s| s.status >= 500 && s.error != "unavailable")
        .count();
    check(internal == 0, || {
        format!("{internal} answers were 5xx other than 503 unavailable")
    })?;
    let slowest = samples
        .0
        .iter()
        .map(|s| s.latency)
        .max()
        .unwrap_or_default();
    println!(
        "  slowest answer: {:.0} ms (limit {} ms)",
        ms(slowest),
        (ACQUIRE_TIMEOUT + SLACK).as_millis()
    );
    check(slowest <= ACQUIRE_TIMEOUT + SLACK, || {
        "an answer took longer than the acquire timeout".to_owned()
    })?;

    // Recovery: the first login sent after Postgres was back that succeeded, and /readyz.
    let recovered = |endpoint: &str| {
        samples
            .0
            .iter()
            .filter(|s| s.endpoint == endpoint && s.at >= up_at && s.status == 200)
            .map(|s| s.at + s.latency - up_at)
            .min()
    };
    let login_back =
        recovered("POST /api/auth/login").ok_or("no login succeeded after the outage")?;
    let ready_back = recovered("GET /readyz").ok_or("/readyz never became ready again")?;
    println!(
        "  recovery after Postgres was back: first login 200 after {:.0} ms, /readyz 200 after {:.0} ms (target < {} s)",
        ms(login_back),
        ms(ready_back),
        RECOVERY_TARGET.as_secs()
    );
    check(
        login_back < RECOVERY_TARGET && ready_back < RECOVERY_TARGET,
        || "the server took too long to recover".to_owned(),
    )?;

    // Nothing lost, nothing half-written.
    ledger::verify(&cluster.url("wxlogin"), &promises).await?;

    // Tokens issued before the outage still verify after it.
    for token in &readers {
        let answer = api.me(token).await;
        check(answer.status == 200, || {
            format!("a token from before the outage got {}", answer.status)
        })?;
    }
    println!(
        "  {} access tokens issued before the outage verified after it",
        readers.len()
    );
    Ok(())
}

/// What a 200 answer promised; a refresh must keep the user and session of `from`.
fn promised(answer: &Answer, from: Option<&Promise>) -> Option<Promise> {
    let promise = Promise::of(answer)?;
    match from {
        Some(from)
            if (&from.session_id, &from.user_id) != (&promise.session_id, &promise.user_id) =>
        {
            None
        }
        _ => Some(promise),
    }
}

/// A steady pace, slower while the server is failing so that the outage is not a busy loop.
async fn pace(answer: &Answer) {
    let pause = if answer.status == 200 { 10 } else { 100 };
    tokio::time::sleep(Duration::from_millis(pause)).await;
}
