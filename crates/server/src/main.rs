//! `wxlogin-server`: read configuration, connect, migrate, serve until SIGTERM or Ctrl-C.
//! `wxlogin-server openapi` prints the API's OpenAPI document instead, with no configuration.

use std::io::Write;
use std::process::ExitCode;

use secrecy::{ExposeSecret, SecretString};
use sqlx::Connection;
use tokio::net::TcpListener;
use wxlogin_server::config::Config;
use wxlogin_server::{
    build_state, connect_options, db, pool_options, serve, serve_metrics, spawn_pruning, telemetry,
    MIGRATOR,
};

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        println!("{}", wxlogin_server::openapi_json());
        return ExitCode::SUCCESS;
    }
    let loaded = load_env_file();
    let result = match loaded {
        Ok(()) => run().await,
        Err(message) => Err(message),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // One line, naming what is wrong and never a secret's value.
            eprintln!("wxlogin-server: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Reads the file `ENV_FILE` names, or else `./.env` when there is one. Never a `.env` found in a
/// parent directory, which may belong to someone else: one planted there could point
/// `WECHAT_API_BASE` at a host that then receives the app secret. Variables already set in the
/// environment win over the file's.
fn load_env_file() -> Result<(), String> {
    match std::env::var_os("ENV_FILE") {
        Some(path) => dotenvy::from_path(path).map_err(|err| {
            format!(
                "configuration error: ENV_FILE names a file that cannot be read: {}",
                env_file_problem(&err)
            )
        }),
        // A missing .env is normal in production; the environment alone then configures us.
        None => match dotenvy::from_path(".env") {
            Err(err) if !err.not_found() => Err(format!(
                "configuration error: ./.env cannot be read: {}",
                env_file_problem(&err)
            )),
            _ => Ok(()),
        },
    }
}

/// What is wrong with an env file, without quoting its lines: they hold secrets.
fn env_file_problem(err: &dotenvy::Error) -> String {
    match err {
        dotenvy::Error::LineParse(_, position) => {
            format!("it cannot be parsed (at character {position})")
        }
        dotenvy::Error::Io(err) => err.to_string(),
        _ => "it cannot be read".to_owned(),
    }
}

async fn run() -> Result<(), String> {
    let config = Config::from_env().map_err(|err| format!("configuration error: {err}"))?;
    let _log_writer = telemetry::init(config.log_format);
    if cfg!(feature = "bench-skip-session-check") && !config.listen_addr.ip().is_loopback() {
        return Err("this build skips session checks for benchmarking and only listens on loopback; LISTEN_ADDR must be a loopback address".into());
    }
    let connect = connect_options(config.database_url.expose_secret())
        .map_err(|_| "configuration error: DATABASE_URL is not a valid Postgres URL".to_owned())?;
    let db = pool_options(&config)
        .connect_with(db::connect_options(connect, config.database_pooler))
        .await
        .map_err(|err| format!("cannot connect to the database at DATABASE_URL: {err}"))?;
    match &config.database_migration_url {
        None => MIGRATOR.run(&db).await.map_err(migration_failed)?,
        Some(url) => migrate_over(url).await?,
    }
    let _pruning = spawn_pruning(&config, db.clone());
    let state =
        build_state(&config, db).map_err(|err| format!("cannot build the WeChat client: {err}"))?;
    let listener = TcpListener::bind(config.listen_addr)
        .await
        .map_err(|err| format!("cannot bind LISTEN_ADDR={}: {err}", config.listen_addr))?;
    let metrics_listener = match config.metrics_addr {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .map_err(|err| format!("cannot bind METRICS_ADDR={addr}: {err}"))?,
        ),
        None => None,
    };
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    // The first line says where the API is: scripts and tests wait for it.
    println!("wxlogin-server listening on http://{addr}");
    if let Some(metrics_listener) = metrics_listener {
        let addr = metrics_listener
            .local_addr()
            .map_err(|err| err.to_string())?;
        // Whoever started us may have stopped reading after the first line.
        let _ = writeln!(
            std::io::stdout(),
            "wxlogin-server metrics at http://{addr}/metrics"
        );
        // Ends with the process: a scrape cut short by shutdown loses nothing.
        let metrics = serve_metrics(metrics_listener, &state, config.connections);
        tokio::spawn(async move {
            if let Err(err) = metrics.await {
                tracing::error!(error = %err, "the metrics listener failed");
            }
        });
    }
    serve(listener, state, config.connections, shutdown_signal())
        .await
        .map_err(|err| format!("server error: {err}"))?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Runs the migrations over one connection of their own to `DATABASE_MIGRATION_URL` (Postgres
/// itself, when `DATABASE_URL` goes through a transaction pooler), closed once they are done.
async fn migrate_over(url: &SecretString) -> Result<(), String> {
    let connect = connect_options(url.expose_secret()).map_err(|_| {
        "configuration error: DATABASE_MIGRATION_URL is not a valid Postgres URL".to_owned()
    })?;
    let mut conn = sqlx::PgConnection::connect_with(&connect)
        .await
        .map_err(|err| {
            format!("cannot connect to the database at DATABASE_MIGRATION_URL: {err}")
        })?;
    let migrated = MIGRATOR.run(&mut conn).await;
    // A failure to say goodbye does not undo the migrations.
    let _ = conn.close().await;
    migrated.map_err(migration_failed)
}

fn migration_failed(err: sqlx::migrate::MigrateError) -> String {
    format!("database migration failed: {err}")
}

/// Completes on Ctrl-C or SIGTERM, whichever comes first.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
