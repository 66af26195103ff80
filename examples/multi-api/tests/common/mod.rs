//! Helpers for the demo's black-box tests: the demo binary on a free port (its stderr
//! kept) and raw HTTP/1.1 requests over loopback TCP. A redis-server of the test's own is
//! `tower_session_testkit::redis::OwnRedis`.
#![allow(dead_code, missing_docs, unreachable_pub, clippy::unwrap_used)]

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    sync::{mpsc, Arc, Mutex},
    time::Duration,
};

/// A child process, killed (and reaped) on drop, so a failed assertion leaves nothing.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The running demo: its port, and everything it wrote to stderr so far.
pub struct Demo {
    _child: Killed,
    pub port: u16,
    stderr: Arc<Mutex<String>>,
}

impl Demo {
    /// Starts the demo on a free port with `args` (and `RUST_LOG=warn`).
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_multi-api-demo"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start multi-api-demo");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let child = Killed(child);
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                let mut sink = sink.lock().expect("lock");
                sink.push_str(&line);
                sink.push('\n');
            }
        });
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no `listening on` line; stderr: {}", log.lock().unwrap()));
        let port = line
            .trim()
            .strip_prefix("listening on http://127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Self {
            _child: child,
            port,
            stderr: log,
        }
    }

    /// What the demo logged so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("lock").clone()
    }

    /// Waits up to five seconds until what the demo logged satisfies `done` (its stderr
    /// is read by another thread, so a line logged just now may not be here yet); what
    /// it logged.
    pub fn wait_for_stderr(&self, done: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.stderr();
            if done(&log) || std::time::Instant::now() >= deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// One request to `host` (the port is added); see [`request`].
    pub fn request(
        &self,
        method: &str,
        host: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        request(self.port, method, host, path, headers, body)
    }

    /// Signs `user` in, in header mode; the (access, refresh) tokens.
    pub fn sign_in(&self, user: &str) -> (String, String) {
        let reply = self.request(
            "POST",
            "api.example.test",
            "/auth/demo/signin",
            &[
                ("content-type", "application/json"),
                ("st-auth-mode", "header"),
            ],
            &format!(r#"{{"userId":"{user}"}}"#),
        );
        assert_eq!(reply.status, 200, "sign-in: {reply:?}");
        (
            reply.header("st-access-token").expect("access").to_owned(),
            reply
                .header("st-refresh-token")
                .expect("refresh")
                .to_owned(),
        )
    }

    /// A header-mode refresh with `refresh_token`.
    pub fn refresh(&self, refresh_token: &str) -> Reply {
        self.request(
            "POST",
            "api.example.test",
            "/auth/session/refresh",
            &[
                ("authorization", &format!("Bearer {refresh_token}")),
                ("st-auth-mode", "header"),
                ("rid", "session"),
            ],
            "",
        )
    }
}

/// A response, read to the end.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Reply {
    /// The first header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers(name).into_iter().next()
    }

    /// Every header `name`, in order.
    pub fn headers(&self, name: &str) -> Vec<&str> {
        self.head
            .lines()
            .skip(1)
            .filter_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
            })
            .collect()
    }

    /// The JSON body's `message`.
    pub fn message(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// One HTTP/1.1 request (`Connection: close`) to 127.0.0.1:`port`, `Host: host:port`.
pub fn request(
    port: u16,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    raw(port, req.as_bytes())
}

/// Sends `bytes` as they are and reads the answer until the server closes.
pub fn raw(port: u16, bytes: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // A server that closes at once may refuse the write; the empty answer says so.
    let _ = stream.write_all(bytes);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}
