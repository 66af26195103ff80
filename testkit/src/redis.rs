//! A `redis-server` of the test's own, on a free port: for outages, restarts and stalls
//! that the shared Redis on 6379 must not see.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    sync::Mutex,
    time::{Duration, Instant},
};

/// A Redis server this test owns, on a free port; killed when dropped.
pub struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    /// A port nothing listens on, never handed to another test of this binary (a port
    /// is only bound once its test starts the server).
    fn free_port() -> u16 {
        static TAKEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
        let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let port = TcpListener::bind("127.0.0.1:0")
                .expect("bind")
                .local_addr()
                .expect("addr")
                .port();
            if !taken.contains(&port) {
                taken.push(port);
                return port;
            }
        }
    }

    /// A server on a port of its own, not started yet.
    pub fn new() -> Self {
        Self {
            port: Self::free_port(),
            child: None,
        }
    }

    /// The port the server listens on, once started.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server and waits until it answers (and is this test's own).
    pub fn start(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let pid = child.id();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(client) = redis::Client::open(self.url()) {
                if let Ok(mut connection) = client.get_connection() {
                    if let Ok(info) = redis::cmd("INFO")
                        .arg("server")
                        .query::<String>(&mut connection)
                    {
                        // Ours, not another server that already held the port.
                        assert!(
                            info.lines()
                                .any(|l| l.trim() == format!("process_id:{pid}")),
                            "port {} is served by another redis-server",
                            self.port
                        );
                        return;
                    }
                }
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `signal` (`STOP`, `CONT`) to this test's own server.
    pub fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("server running");
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Stops the server (it can be started again on the same port).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Default for OwnRedis {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The URL of the shared Redis the tests use: `REDIS_URL`, else `redis://127.0.0.1:6379`.
pub fn shared_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A key prefix of one test on the shared Redis ([`shared_url`]), unique to this process
/// and this test; every key under it is deleted when the value is dropped.
pub struct KeyPrefix(String);

impl KeyPrefix {
    /// `tsr-{what}-{pid}-{n}:`, unique in this process.
    pub fn new(what: &str) -> Self {
        Self(format!(
            "{}:",
            crate::model_store::unique_tag(&format!("tsr-{what}"))
        ))
    }

    /// The prefix, ending in `:`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Drop for KeyPrefix {
    fn drop(&mut self) {
        use ::redis::Commands;
        let Ok(client) = ::redis::Client::open(shared_url().as_str()) else {
            return;
        };
        let Ok(mut c) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = match c.scan_match::<_, String>(format!("{}*", self.0)) {
            Ok(iter) => iter.filter_map(Result::ok).collect(),
            Err(_) => return,
        };
        for chunk in keys.chunks(500) {
            let _: Result<(), _> = c.del(chunk);
        }
    }
}
