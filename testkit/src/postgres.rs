//! PostgreSQL for tests: a unique schema on the shared server (127.0.0.1:5432, trust,
//! database `test`, user `postgres`; or `POSTGRES_URL`), dropped when the test ends; and a
//! `postgres` server of the test's own (`initdb` + `pg_ctl` in a temp dir) for outages.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// The URL of the shared PostgreSQL: `POSTGRES_URL`, else
/// `postgres://postgres@127.0.0.1:5432/test`.
pub fn shared_url() -> String {
    std::env::var("POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Runs one SQL statement on `url`, on a thread and runtime of its own (usable from `Drop`
/// and from inside another runtime).
pub fn execute(url: &str, sql: &str) -> Result<(), String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            client.batch_execute(&sql).await.map_err(|e| e.to_string())
        })
    })
    .join()
    .map_err(|_| "sql thread panicked".to_owned())?
}

/// A schema name of one test on the shared PostgreSQL, unique to this process and test;
/// the schema (if anything created it) is dropped with everything in it when the value is
/// dropped.
pub struct TestSchema(String);

impl TestSchema {
    /// `tsr_{what}_{pid}_{n}` (`what`: lowercase letters, digits, `_`).
    pub fn new(what: &str) -> Self {
        let tag = crate::model_store::unique_tag(&format!("tsr_{what}"));
        Self(tag.replace('-', "_"))
    }

    /// The schema name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let _ = execute(
            &shared_url(),
            // Bounded: a connection the test left in a transaction must not hang it.
            &format!(
                "SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                self.0
            ),
        );
    }
}

/// A database of one test on the shared PostgreSQL (for processes that take only a URL,
/// such as the demo), created now and dropped, connections and all, when the value is
/// dropped.
pub struct TestDatabase {
    name: String,
}

impl TestDatabase {
    /// `tsr_{what}_{pid}_{n}`, created empty.
    pub fn new(what: &str) -> Self {
        let name = crate::model_store::unique_tag(&format!("tsr_{what}")).replace('-', "_");
        execute(&shared_url(), &format!("CREATE DATABASE \"{name}\"")).expect("create database");
        Self { name }
    }

    /// The database's URL on the shared server.
    pub fn url(&self) -> String {
        let base = shared_url();
        let server = base.rsplit_once('/').map_or(base.as_str(), |(s, _)| s);
        format!("{server}/{}", self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = execute(
            &shared_url(),
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        );
    }
}

/// The directory of the PostgreSQL server binaries (`initdb`, `pg_ctl`, `postgres`): on
/// `PATH`, else the newest `/usr/lib/postgresql/*/bin` (Debian keeps them there).
pub fn bin_dir() -> PathBuf {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("pg_ctl").exists() {
            return dir;
        }
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    dirs.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop().expect("a PostgreSQL version with pg_ctl")
}

/// A PostgreSQL server this test owns: a fresh cluster in a temp dir on a free port,
/// trust auth, database `test`; stopped and deleted when dropped.
pub struct OwnPostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

impl OwnPostgres {
    /// `initdb` a new cluster and start it.
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let dir = std::env::temp_dir().join(crate::model_store::unique_tag("tsr-own-postgres"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let server = Self {
            bin: bin_dir(),
            dir,
            port,
        };
        // initdb refuses to run as root: run the server as user `postgres` then.
        server.run_tool(
            "initdb",
            &[
                "-D",
                server.data().to_str().expect("utf-8 path"),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
        );
        server.pg_ctl_start();
        server.wait_ready();
        server.psql_admin("CREATE DATABASE test");
        server
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn as_root() -> bool {
        Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false)
    }

    /// Runs `tool` from the server binaries (as `postgres` when we are root).
    fn run_tool(&self, tool: &str, args: &[&str]) {
        let path = self.bin.join(tool);
        let status = if Self::as_root() {
            let _ = Command::new("chown")
                .args(["-R", "postgres", self.dir.to_str().expect("utf-8 path")])
                .status();
            let mut line = vec![path.to_str().expect("utf-8 path").to_owned()];
            line.extend(args.iter().map(|a| (*a).to_owned()));
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .args(&line)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
        } else {
            Command::new(&path)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
        };
        let status = status.unwrap_or_else(|e| panic!("run {tool}: {e}"));
        assert!(status.success(), "{tool} {args:?} failed: {status}");
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.dir.to_str().expect("utf-8 path")
        );
        let log = self.dir.join("server.log");
        self.run_tool(
            "pg_ctl",
            &[
                "-D",
                self.data().to_str().expect("utf-8 path"),
                "-l",
                log.to_str().expect("utf-8 path"),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while execute(&self.admin_url(), "SELECT 1").is_err() {
            assert!(Instant::now() < deadline, "own postgres did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn psql_admin(&self, sql: &str) {
        execute(&self.admin_url(), sql).expect("admin sql");
    }

    /// `postgres://postgres@127.0.0.1:PORT/test`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/test", self.port)
    }

    /// Stops the server (`pg_ctl stop -m immediate`: connections drop at once).
    pub fn stop(&self) {
        self.run_tool(
            "pg_ctl",
            &[
                "-D",
                self.data().to_str().expect("utf-8 path"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }

    /// Starts it again on the same port, with the same data.
    pub fn restart(&self) {
        self.pg_ctl_start();
        self.wait_ready();
    }

    /// The directory the cluster lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = Command::new(self.bin.join("pg_ctl"))
            .args(["-D", data.to_str().unwrap_or(""), "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if Self::as_root() {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .args(["-D", data.to_str().unwrap_or(""), "-m", "immediate", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
