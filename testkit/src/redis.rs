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
