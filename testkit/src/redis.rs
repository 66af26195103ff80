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

/// A Redis Cluster of this test's own: 3 masters and 3 replicas on free loopback ports,
/// no persistence, its config files in a temporary directory; every node is killed (and
/// the directory removed) when dropped.
///
/// Failure detection is tuned for tests (`cluster-node-timeout` 1 s): a killed master is
/// replaced by its replica within a few seconds.
pub struct OwnCluster {
    dir: std::path::PathBuf,
    nodes: Vec<ClusterNode>,
}

struct ClusterNode {
    port: u16,
    child: Option<Child>,
}

impl OwnCluster {
    /// The number of nodes (3 masters + 3 replicas).
    pub const NODES: usize = 6;

    /// Starts six nodes, creates the cluster (`redis-cli --cluster create …
    /// --cluster-replicas 1`), and waits until every node reports `cluster_state:ok` and
    /// every replica is in sync with its master.
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(crate::model_store::unique_tag("tsr-cluster"));
        std::fs::create_dir_all(&dir).expect("cluster temp dir");
        let mut cluster = Self {
            dir,
            nodes: Vec::with_capacity(Self::NODES),
        };
        for _ in 0..Self::NODES {
            let port = OwnRedis::free_port();
            let bus = OwnRedis::free_port();
            let child = Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--cluster-port",
                    &bus.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    &format!("nodes-{port}.conf"),
                    "--cluster-node-timeout",
                    "1000",
                    "--cluster-replica-validity-factor",
                    "0",
                    "--dir",
                    &cluster.dir.to_string_lossy(),
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
                .expect("start redis-server (cluster node)");
            cluster.nodes.push(ClusterNode {
                port,
                child: Some(child),
            });
        }
        for node in &cluster.nodes {
            wait_until(Duration::from_secs(10), "cluster node answers", || {
                ping(node.port)
            });
        }
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for node in &cluster.nodes {
            create.arg(format!("127.0.0.1:{}", node.port));
        }
        let output = create
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .expect("redis-cli --cluster create");
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        cluster.wait_healthy(Duration::from_secs(30));
        cluster
    }

    /// Seed URLs of every node started (`redis://127.0.0.1:PORT`), killed ones included.
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("redis://127.0.0.1:{}", n.port))
            .collect()
    }

    /// The ports of the nodes still running.
    pub fn live_ports(&self) -> Vec<u16> {
        self.nodes
            .iter()
            .filter(|n| n.child.is_some())
            .map(|n| n.port)
            .collect()
    }

    /// The hash slot of `key` (`CLUSTER KEYSLOT`, asked of a live node).
    pub fn slot_of(&self, key: &str) -> u16 {
        let port = self.live_ports()[0];
        query(port, redis::cmd("CLUSTER").arg("KEYSLOT").arg(key)).expect("CLUSTER KEYSLOT")
    }

    /// The port of the master serving `slot`, as a live node sees it now.
    pub fn master_of_slot(&self, slot: u16) -> Option<u16> {
        let port = *self.live_ports().first()?;
        let nodes: String = query(port, redis::cmd("CLUSTER").arg("NODES")).ok()?;
        parse_nodes(&nodes)
            .into_iter()
            .find(|n| n.master && !n.failed && n.slots.iter().any(|r| r.contains(&slot)))
            .map(|n| n.port)
    }

    /// The port of a live replica of the master serving `slot`.
    pub fn replica_of_slot(&self, slot: u16) -> Option<u16> {
        let master = self.master_of_slot(slot)?;
        let live = self.live_ports();
        live.iter().copied().find(|&p| {
            query::<String>(p, redis::cmd("INFO").arg("replication")).is_ok_and(|info| {
                info.lines()
                    .any(|l| l.trim() == format!("master_port:{master}"))
            })
        })
    }

    /// Sends `signal` (`STOP`, `CONT`) to the node on `port`.
    pub fn signal(&self, port: u16, signal: &str) {
        let node = self
            .nodes
            .iter()
            .find(|n| n.port == port)
            .and_then(|n| n.child.as_ref())
            .expect("a running node of ours");
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(node.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Every key matching `pattern` on every live master (`SCAN`).
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for port in self.live_ports() {
            let Ok(info) = query::<String>(port, redis::cmd("INFO").arg("replication")) else {
                continue;
            };
            if !info.contains("role:master") {
                continue;
            }
            let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).expect("client");
            let mut connection = client.get_connection().expect("connect to node");
            let found: Vec<String> = {
                use ::redis::Commands;
                connection
                    .scan_match::<_, String>(pattern)
                    .expect("scan")
                    .filter_map(Result::ok)
                    .collect()
            };
            keys.extend(found);
        }
        keys
    }

    /// Kills (`SIGKILL`) the master serving `key`'s slot; its port.
    pub fn kill_master_of(&mut self, key: &str) -> u16 {
        let slot = self.slot_of(key);
        let port = self.master_of_slot(slot).expect("a master serves the slot");
        let node = self
            .nodes
            .iter_mut()
            .find(|n| n.port == port)
            .expect("the master is one of ours");
        if let Some(mut child) = node.child.take() {
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
        }
        port
    }

    /// Waits until every live node reports `cluster_state:ok` and `slot` is served by a
    /// live master (after [`kill_master_of`](Self::kill_master_of): its replica,
    /// promoted); that master's port.
    pub fn wait_for_failover(&self, slot: u16, within: Duration) -> u16 {
        let live = self.live_ports();
        let mut master = None;
        wait_until(within, "failover", || {
            master = self.master_of_slot(slot).filter(|p| live.contains(p));
            master.is_some() && live.iter().all(|&p| cluster_ok(p))
        });
        master.expect("a live master")
    }

    /// Waits until every live node reports `cluster_state:ok` and every live master has its
    /// replicas online and caught up.
    fn wait_healthy(&self, within: Duration) {
        let live = self.live_ports();
        wait_until(within, "cluster healthy with replicas in sync", || {
            live.iter().all(|&p| cluster_ok(p))
                && live.iter().all(|&p| {
                    let Ok(info) = query::<String>(p, redis::cmd("INFO").arg("replication")) else {
                        return false;
                    };
                    if info.contains("role:master") {
                        info.lines().any(|l| l.trim() == "connected_slaves:1")
                            && info.contains("state=online")
                    } else {
                        info.lines().any(|l| l.trim() == "master_link_status:up")
                    }
                })
        });
    }
}

impl std::fmt::Debug for OwnCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnCluster")
            .field("live_ports", &self.live_ports())
            .finish()
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One line of `CLUSTER NODES`.
struct NodeLine {
    port: u16,
    master: bool,
    failed: bool,
    slots: Vec<std::ops::RangeInclusive<u16>>,
}

fn parse_nodes(text: &str) -> Vec<NodeLine> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let address = fields.get(1)?;
            let port = address
                .split('@')
                .next()?
                .rsplit(':')
                .next()?
                .parse()
                .ok()?;
            let flags = fields.get(2)?;
            let slots = fields
                .iter()
                .skip(8)
                .filter(|s| !s.starts_with('['))
                .filter_map(|s| match s.split_once('-') {
                    Some((a, b)) => Some(a.parse().ok()?..=b.parse().ok()?),
                    None => {
                        let one = s.parse().ok()?;
                        Some(one..=one)
                    }
                })
                .collect();
            Some(NodeLine {
                port,
                master: flags.contains("master"),
                failed: flags.contains("fail"),
                slots,
            })
        })
        .collect()
}

fn query<T: redis::FromRedisValue>(port: u16, cmd: &redis::Cmd) -> redis::RedisResult<T> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    let mut connection = client.get_connection_with_timeout(Duration::from_secs(1))?;
    cmd.query(&mut connection)
}

fn ping(port: u16) -> bool {
    query::<String>(port, &redis::cmd("PING")).is_ok()
}

fn cluster_ok(port: u16) -> bool {
    query::<String>(port, redis::cmd("CLUSTER").arg("INFO"))
        .is_ok_and(|info| info.lines().any(|l| l.trim() == "cluster_state:ok"))
}

fn wait_until(within: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
