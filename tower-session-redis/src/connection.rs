//! The lazily opened, reconnecting Redis connection shared by [`RedisStore`](crate::RedisStore)
//! and the key store ([`RedisKeyStore`](crate::RedisKeyStore)), single node or (feature
//! `cluster`) Redis Cluster, and the mapping of Redis errors to [`StoreError`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ::redis::{
    aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig},
    Client, Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, Value,
};
use tokio::sync::OnceCell;

use tower_session_refresh::store::{StoreError, StoreErrorKind};

/// How a store waits for replicas after each acknowledged write (`WAIT replicas timeout`
/// on the master that took the write). See [`RedisStoreConfig::wait_for_replicas`](crate::RedisStoreConfig::wait_for_replicas).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaWait {
    /// How many replicas must have the write (`WAIT`'s first argument); at least 1.
    pub replicas: u32,
    /// How long the master waits for them (`WAIT`'s second argument); at least 1 ms
    /// (`WAIT … 0` would block forever) and below the store's response timeout.
    pub timeout: Duration,
}

impl ReplicaWait {
    /// `WAIT 1 100`: one replica, 100 ms (the cluster default).
    pub const DEFAULT: Self = Self {
        replicas: 1,
        timeout: Duration::from_millis(100),
    };
}

/// Where a store connects: one server, or the seed nodes of a cluster.
#[derive(Clone)]
pub(crate) enum Target {
    /// One server (or a primary behind a proxy).
    Single(Client),
    /// A Redis Cluster, reached through any of its seed nodes.
    #[cfg(feature = "cluster")]
    Cluster(Box<::redis::cluster::ClusterClient>),
}

impl Target {
    /// One server at `url`.
    pub(crate) fn single(url: &str) -> Result<Self, StoreError> {
        Client::open(url)
            .map(Self::Single)
            .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, e))
    }

    /// A cluster reached through `nodes` (`redis://host:port` each), with these timeouts
    /// and retries on `MOVED`/`ASK`/connection errors.
    #[cfg(feature = "cluster")]
    pub(crate) fn cluster<I, S>(
        nodes: I,
        response_timeout: Duration,
        connection_timeout: Duration,
    ) -> Result<Self, StoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let nodes: Vec<String> = nodes.into_iter().map(|n| n.as_ref().to_owned()).collect();
        if nodes.is_empty() {
            return Err(StoreError::new(
                StoreErrorKind::Unavailable,
                "a redis cluster needs at least one seed node",
            ));
        }
        for node in &nodes {
            // The URL check of the single-node client (the cluster builder only checks
            // on build, with a less precise message).
            Client::open(node.as_str())
                .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, e))?;
        }
        ::redis::cluster::ClusterClientBuilder::new(nodes)
            .response_timeout(response_timeout)
            .connection_timeout(connection_timeout)
            // Few, short retries: a request is bounded by the store's response timeout
            // anyway, and during a failover a quick 503 beats a long hang.
            .retries(3)
            .min_retry_wait(20)
            .max_retry_wait(200)
            .build()
            .map(|client| Self::Cluster(Box::new(client)))
            .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, e))
    }

    /// Whether this is a cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        match self {
            Self::Single(_) => false,
            #[cfg(feature = "cluster")]
            Self::Cluster(_) => true,
        }
    }
}

/// An open connection: a reconnecting single-node [`ConnectionManager`], or a cluster
/// connection (which follows `MOVED`/`ASK` and refreshes its slot map after a failover).
/// Cheap to clone; clones share the sockets.
#[derive(Clone)]
pub(crate) enum Connection {
    Single(ConnectionManager),
    #[cfg(feature = "cluster")]
    Cluster(::redis::cluster_async::ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            #[cfg(feature = "cluster")]
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            #[cfg(feature = "cluster")]
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            #[cfg(feature = "cluster")]
            Self::Cluster(c) => c.get_db(),
        }
    }
}

impl Connection {
    /// Whether commands on keys of different slots must go separately.
    pub(crate) fn is_cluster(&self) -> bool {
        match self {
            Self::Single(_) => false,
            #[cfg(feature = "cluster")]
            Self::Cluster(_) => true,
        }
    }

    /// `WAIT replicas timeout` on the master that owns `key` (on a single node: on the
    /// server), over the same socket that carried the write; the number of replicas that
    /// acknowledged every write sent on that socket so far.
    pub(crate) async fn wait_replicas(
        &mut self,
        key: &str,
        wait: ReplicaWait,
    ) -> Result<i64, RedisError> {
        #[cfg(not(feature = "cluster"))]
        let _ = key; // one server: no routing by key
        let mut cmd = ::redis::cmd("WAIT");
        cmd.arg(wait.replicas).arg(
            u64::try_from(wait.timeout.as_millis())
                .unwrap_or(u64::MAX)
                .max(1),
        );
        match self {
            Self::Single(c) => cmd.query_async(c).await,
            #[cfg(feature = "cluster")]
            Self::Cluster(c) => {
                use ::redis::cluster_routing::{
                    Route, RoutingInfo, SingleNodeRoutingInfo, Slot, SlotAddr,
                };
                let route = Route::with_slot(Slot::for_key(key), SlotAddr::Master);
                let value = c
                    .route_command(
                        cmd,
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route)),
                    )
                    .await?;
                ::redis::from_redis_value(value).map_err(Into::into)
            }
        }
    }
}

/// A connection opened on first use: a Redis that is down when the process starts
/// gives [`StoreError`]s (and a new attempt on the next call), not a failed start-up.
pub(crate) struct LazyConnection {
    target: Target,
    manager_config: ConnectionManagerConfig,
    /// Used round-robin (see `RedisStoreConfig::connections`), all opened together on first
    /// use: opening one later, while a node is unresponsive, could fail where the open ones
    /// still serve.
    connections: OnceCell<Box<[Connection]>>,
    size: usize,
    next: AtomicUsize,
    connection_timeout: Duration,
}

impl LazyConnection {
    /// Checks `prefix` (no `{`/`}`: they would break the hash tags) and prepares the
    /// connection to `target`; nothing is sent yet.
    pub(crate) fn open(
        target: Target,
        prefix: &str,
        response_timeout: Duration,
        connection_timeout: Duration,
        retries: usize,
        connections: usize,
    ) -> Result<Self, StoreError> {
        check_prefix(prefix)?;
        if connections == 0 {
            return Err(StoreError::new(
                StoreErrorKind::Unavailable,
                "connections must be at least 1",
            ));
        }
        let manager_config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(response_timeout))
            .set_connection_timeout(Some(connection_timeout))
            .set_number_of_retries(retries)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        Ok(Self {
            target,
            manager_config,
            connections: OnceCell::new(),
            size: connections,
            next: AtomicUsize::new(0),
            connection_timeout,
        })
    }

    /// Whether a connection has been opened (for `Debug` output).
    pub(crate) fn is_open(&self) -> bool {
        self.connections.initialized()
    }

    /// Whether this connects to a cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        self.target.is_cluster()
    }

    /// The next connection of the round, opening them all (within the connection timeout)
    /// if needed. An operation keeps the one it got for all its commands (a `WAIT` covers
    /// the writes of its own connection only).
    pub(crate) async fn get(&self) -> Result<Connection, StoreError> {
        let pick = |all: &[Connection]| match all {
            [one] => one.clone(),
            all => all[self.next.fetch_add(1, Ordering::Relaxed) % all.len()].clone(),
        };
        if let Some(all) = self.connections.get() {
            return Ok(pick(all));
        }
        let init = self.connections.get_or_try_init(|| async {
            let opened =
                futures_util::future::try_join_all((0..self.size).map(|_| self.open_one())).await?;
            Ok::<_, RedisError>(opened.into_boxed_slice())
        });
        match tokio::time::timeout(self.connection_timeout, init).await {
            Ok(Ok(all)) => Ok(pick(all)),
            Ok(Err(e)) => Err(store_error(e)),
            Err(_) => Err(StoreError::new(
                StoreErrorKind::Timeout,
                "connecting to redis timed out",
            )),
        }
    }

    async fn open_one(&self) -> Result<Connection, RedisError> {
        match &self.target {
            Target::Single(client) => {
                ConnectionManager::new_with_config(client.clone(), self.manager_config.clone())
                    .await
                    .map(Connection::Single)
            }
            #[cfg(feature = "cluster")]
            Target::Cluster(client) => client.get_async_connection().await.map(Connection::Cluster),
        }
    }
}

/// Refuses a key prefix with `{` or `}` (they would change the hash tags).
pub(crate) fn check_prefix(prefix: &str) -> Result<(), StoreError> {
    if prefix.contains(['{', '}']) {
        return Err(StoreError::new(
            StoreErrorKind::Unavailable,
            "redis key prefix must not contain '{' or '}'",
        ));
    }
    Ok(())
}

/// A Redis error as a store error: timeouts, unreadable data, everything else unavailable.
pub(crate) fn store_error(e: RedisError) -> StoreError {
    let kind = if e.is_timeout() {
        StoreErrorKind::Timeout
    } else if matches!(e.code(), Some("TSR_CORRUPT" | "WRONGTYPE"))
        || matches!(e.kind(), ErrorKind::Parse | ErrorKind::UnexpectedReturnType)
    {
        StoreErrorKind::Corrupt
    } else {
        StoreErrorKind::Unavailable
    };
    StoreError::new(kind, e)
}
