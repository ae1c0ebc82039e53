//! One of two instances is killed with SIGKILL under load.
//!
//! Both instances share one database and serve logins, refreshes and `GET /api/me` until
//! instance A is killed. Checked: instance B answers every request throughout; the tokens A
//! issued (access and refresh) work on B; and every 200 either gave is in the database whole,
//! with no session lacking its refresh token and no user lacking a session.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::{Answer, Api};
use crate::cluster::Cluster;
use crate::ledger::{self, Promise};
use crate::stats::Samples;
use crate::{check, process};

const BEFORE: Duration = Duration::from_secs(3);
const AFTER: Duration = Duration::from_secs(5);

struct Issued {
    promise: Promise,
    /// Whether this pair came from a refresh that answered: a refresh cut off by the kill may
    /// have used the login's refresh token up without the client ever learning its successor.
    settled: bool,
}

pub async fn run() -> Result<(), String> {
    let cluster = Cluster::start().await?;
    let wechat = process::fake_wechat(Duration::ZERO).await?;
    let settings = [("RATE_LIMIT_LOGIN", "off"), ("RATE_LIMIT_REFRESH", "off")];
    let log_a = std::env::temp_dir().join("wxlogin-loadgen-crash-a.log");
    let log_b = std::env::temp_dir().join("wxlogin-loadgen-crash-b.log");
    let url = cluster.url("wxlogin");
    let mut a = process::server(&url, &wechat, &settings, &log_a.to_string_lossy()).await?;
    let b = process::server(&url, &wechat, &settings, &log_b.to_string_lossy()).await?;
    let started = Instant::now();
    let stop_a = Arc::new(AtomicBool::new(false));
    let stop_b = Arc::new(AtomicBool::new(false));

    let mut tasks = Vec::new();
    for (name, server, stop) in [("A", &a, &stop_a), ("B", &b, &stop_b)] {
        for n in 0..3 {
            let api = Api::new(&server.base_url);
            let stop = stop.clone();
            tasks.push(tokio::spawn(async move {
                worker(api, name, n, started, stop).await
            }));
        }
    }

    tokio::time::sleep(BEFORE).await;
    a.kill_hard().await;
    let killed_at = started.elapsed();
    stop_a.store(true, Ordering::Relaxed);
    tokio::time::sleep(AFTER).await;
    stop_b.store(true, Ordering::Relaxed);

    let (mut samples, mut issued_by_a, mut issued) = (Samples::default(), Vec::new(), Vec::new());
    for (n, task) in tasks.into_iter().enumerate() {
        let (s, tokens) = task.await.map_err(|e| e.to_string())?;
        samples.extend(s);
        if n < 3 {
            issued_by_a.extend(tokens);
        } else {
            issued.extend(tokens);
        }
    }
    println!(
        "{}",
        samples.report(&format!(
            "crash: two instances on one database, A killed with SIGKILL at {:.1} s",
            killed_at.as_secs_f64()
        ))
    );

    let b_failures = samples
        .0
        .iter()
        .filter(|s| s.endpoint.starts_with("B ") && s.status != 200)
        .count();
    let b_total = samples
        .0
        .iter()
        .filter(|s| s.endpoint.starts_with("B "))
        .count();
    println!("  instance B: {b_total} answers, {b_failures} not 200");
    check(b_failures == 0, || {
        format!("instance B failed {b_failures} requests")
    })?;

    // What A issued works on B: every access token, and each worker's last refresh token.
    let on_b = Api::new(&b.base_url);
    let mut refreshed = 0;
    for tokens in &issued_by_a {
        let me = on_b.me(&tokens.promise.access_token).await;
        check(me.status == 200, || {
            format!("a token issued by A got {} on B", me.status)
        })?;
    }
    for tokens in issued_by_a.iter().rev().filter(|t| t.settled).take(3) {
        let answer = on_b.refresh(&tokens.promise.refresh_token, None).await;
        if answer.status == 200 {
            refreshed += 1;
        }
    }
    println!(
        "  {} access tokens issued by A verified on B; {refreshed} of A's last refresh tokens rotated on B",
        issued_by_a.len()
    );
    check(refreshed == 3.min(issued_by_a.len()), || {
        "A's refresh tokens did not work on B".to_owned()
    })?;

    issued.extend(issued_by_a);
    let promises: Vec<Promise> = issued.into_iter().map(|issued| issued.promise).collect();
    ledger::verify(&url, &promises).await?;
    Ok(())
}

/// Logs in, reads /api/me a few times and refreshes, over and over, until told to stop; returns
/// what it saw and the tokens of every 200.
async fn worker(
    api: Api,
    instance: &'static str,
    n: usize,
    started: Instant,
    stop: Arc<AtomicBool>,
) -> (Samples, Vec<Issued>) {
    let endpoint = |path: &str| -> &'static str {
        match (instance, path) {
            ("A", "login") => "A POST /api/auth/login",
            ("A", "me") => "A GET /api/me",
            ("A", _) => "A POST /api/auth/refresh",
            (_, "login") => "B POST /api/auth/login",
            (_, "me") => "B GET /api/me",
            _ => "B POST /api/auth/refresh",
        }
    };
    let (mut samples, mut issued) = (Samples::default(), Vec::new());
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let login = api.login(&format!("crash{instance}{n}-{i}"), None).await;
        samples.record(started, endpoint("login"), &login);
        let Some(mut tokens) = issued_from(&login) else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        for _ in 0..3 {
            samples.record(
                started,
                endpoint("me"),
                &api.me(&tokens.promise.access_token).await,
            );
        }
        let refresh = api.refresh(&tokens.promise.refresh_token, None).await;
        samples.record(started, endpoint("refresh"), &refresh);
        match issued_from(&refresh) {
            Some(next) => tokens = next,
            None => tokens.settled = false,
        }
        issued.push(tokens);
    }
    (samples, issued)
}

fn issued_from(answer: &Answer) -> Option<Issued> {
    Some(Issued {
        promise: Promise::of(answer)?,
        settled: true,
    })
}
