//! `RedisStore`: sessions in Redis, shared by any number of auth processes and machines.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use ::redis::{RedisError, Script, Value};
use serde_json::{Map, Value as Json};
use tower_session_refresh::store::{
    NewSession, Presented, PromoteOutcome, RotateOutcome, SessionInfo, SessionStore, StoreError,
    StoreErrorKind, StoreFuture, MAX_CHILDREN,
};

use crate::connection::{store_error, Connection, LazyConnection, ReplicaWait, Target};

/// The session layout version written in field `v`.
const LAYOUT_VERSION: &str = "2";

/// The layout before the family secret (a bounded `retired` list): refused, see
/// [`RedisStore`].
const OLD_LAYOUT_VERSION: &str = "1";

/// The fields [`parse_info`] reads, in its order.
const INFO_FIELDS: [&str; 7] = ["v", "u", "t", "p", "e", "k", "d"];

/// Configuration of [`RedisStore`].
///
/// ```
/// use std::time::Duration;
/// use tower_session_redis::RedisStoreConfig;
///
/// let config = RedisStoreConfig {
///     prefix: "myapp:sessions:".into(),
///     response_timeout: Duration::from_millis(300),
///     ..RedisStoreConfig::default()
/// };
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct RedisStoreConfig {
    /// Prepended to every key (default `tsr:`); must not contain `{` or `}`.
    pub prefix: String,
    /// How long one command may take before it fails with
    /// [`StoreErrorKind::Timeout`] (default 500 ms).
    pub response_timeout: Duration,
    /// How long connecting may take (default 1 s).
    pub connection_timeout: Duration,
    /// How far past a rotated session's expiry its user-index score is set, so that most
    /// rotations need no index write (default 1 day). Larger: fewer index writes; dead
    /// members linger (unlisted) that much longer.
    pub index_slack: Duration,
    /// Whether every acknowledged write waits for replicas (`WAIT`); default
    /// [`WaitForReplicas::Auto`]: on for a cluster, off for a single node. See
    /// [`RedisStore`], *Durability*.
    pub wait_for_replicas: WaitForReplicas,
    /// How many connections (each multiplexed) the store spreads its operations over,
    /// round-robin (default 4, at least 1). A `WAIT` holds up every later command on its
    /// connection until the replicas answer, so with replica waits on, one connection
    /// would queue every write to a master behind the previous write's `WAIT`; with
    /// several, that many wait side by side. On a cluster each connection has a socket
    /// per node.
    pub connections: usize,
}

/// Whether a store waits for replicas after each acknowledged write: `WAIT n timeout` on
/// the master that took it, over the socket that carried it.
///
/// ```
/// use std::time::Duration;
/// use tower_session_redis::{ReplicaWait, RedisStoreConfig, WaitForReplicas};
///
/// // A single primary with replicas (e.g. behind Sentinel): wait for one, 50 ms at most.
/// let config = RedisStoreConfig {
///     wait_for_replicas: WaitForReplicas::Wait(ReplicaWait {
///         replicas: 1,
///         timeout: Duration::from_millis(50),
///     }),
///     ..RedisStoreConfig::default()
/// };
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitForReplicas {
    /// [`ReplicaWait::DEFAULT`] (`WAIT 1 100`) on a cluster, nothing on a single node.
    #[default]
    Auto,
    /// Never wait (a write is acknowledged once its master has it).
    Never,
    /// Always wait like this.
    Wait(ReplicaWait),
}

impl WaitForReplicas {
    /// What a store on a cluster (`cluster` true) or a single node does.
    pub(crate) fn resolve(self, cluster: bool) -> Option<ReplicaWait> {
        match self {
            Self::Auto if cluster => Some(ReplicaWait::DEFAULT),
            Self::Auto | Self::Never => None,
            Self::Wait(wait) => Some(wait),
        }
    }

    /// Checks a `Wait` against the response timeout it must fit in.
    pub(crate) fn check(self, response_timeout: Duration) -> Result<(), StoreError> {
        if let Self::Wait(wait) = self {
            if wait.replicas == 0 {
                return Err(StoreError::new(
                    StoreErrorKind::Unavailable,
                    "wait_for_replicas: replicas must be at least 1 (use WaitForReplicas::Never)",
                ));
            }
            if wait.timeout.is_zero() || wait.timeout >= response_timeout {
                return Err(StoreError::new(
                    StoreErrorKind::Unavailable,
                    "wait_for_replicas: timeout must be at least 1 ms and below the response timeout",
                ));
            }
        }
        Ok(())
    }
}

impl Default for RedisStoreConfig {
    fn default() -> Self {
        Self {
            prefix: "tsr:".to_owned(),
            response_timeout: Duration::from_millis(500),
            connection_timeout: Duration::from_secs(1),
            index_slack: Duration::from_secs(24 * 60 * 60),
            wait_for_replicas: WaitForReplicas::Auto,
            connections: 4,
        }
    }
}

impl RedisStoreConfig {
    /// The default configuration with key prefix `prefix`.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            ..Self::default()
        }
    }
}

/// Sessions in Redis, shared by any number of auth processes and machines.
///
/// Requires **Redis 6.2 or newer** (tested with 7.0; the scripts themselves only use
/// commands Redis has had since 4.0, but older servers are not supported). Every
/// check-and-write of one session (rotation, promotion, theft detection, revocation, payload update) runs as one
/// Lua script on the server, loaded once and called by SHA (`EVALSHA`, with an automatic
/// `SCRIPT LOAD` on `NOSCRIPT`), so two processes refreshing one session at the same moment
/// behave exactly like one process refreshing it twice.
///
/// # Key layout
///
/// With the configured [`prefix`](RedisStoreConfig::prefix) `P` (default `tsr:`):
///
/// | key | type | content | TTL |
/// |---|---|---|---|
/// | `P` `s:{` handle `}` | hash | one session (below) | the refresh token's expiry, moved on every rotation |
/// | `P` `u:{` user id `}` | sorted set | member: session handle; score: a time (ms) at or after which that session is certainly expired | the largest score |
///
/// The braces are Redis Cluster hash tags: every key of one session lives in the slot of
/// its handle, which is all a refresh token carries, and each user index lives in the slot
/// of its user. The prefix must not contain `{` or `}`.
///
/// *Why not one slot per user* (user id as the hash tag of both keys, so one script could
/// update session and index together): the refresh route knows only the handle (the
/// refresh token starts with `<handle>.`), so the handle would have to carry the user's
/// tag, which puts a user-derived value into every token and cookie and lets the store
/// dictate how handles are made. And the index would gain nothing a refresh needs: with
/// the score slack below, a refresh does not touch it at all. The price of two slots is
/// that the index is advisory (next section); it is never trusted for authorisation.
///
/// The session hash holds no secrets, only SHA-256 hex of refresh tokens and of the
/// session's family secret; its size does not grow with the number of rotations:
///
/// | field | meaning |
/// |---|---|
/// | `v` | layout version, `2` (see below for `1`); any other version is refused as [`StoreErrorKind::Corrupt`] |
/// | `u` | user id |
/// | `t` | tenant id |
/// | `p` | access-token payload, JSON object (absent: none) |
/// | `f` | hash of the family secret every refresh token of the session carries |
/// | `h` | hash of the head (current, promoted) refresh token |
/// | `g` | generation of the head (decimal; 0 at creation) |
/// | `c` | JSON array of the head's unused children, all of generation `g` + 1 (at most [`MAX_CHILDREN`]) |
/// | `e` | expiry, ms since the Unix epoch |
/// | `x` | the score this session has in its user index (never below `e`) |
/// | `k` | creation time, ms since the Unix epoch (absent in sessions written before it was kept: read as the epoch) |
/// | `d` | server-side session data, JSON object (absent: empty) |
///
/// Layout `1` (before 0.1 was released: a bounded list of retired hashes, refresh tokens
/// without generation and family) is not read: rotation and promotion refuse such a
/// session as unauthorised and log a warning (its refresh tokens have the old two-part
/// format, which the refresh service refuses as malformed, so its user signs in again);
/// [`get`](SessionStore::get) and [`list`](SessionStore::list) do not return it; revocation
/// deletes it; otherwise it expires with its refresh token.
///
/// # Round trips, and the user index
///
/// A refresh is **one round trip** (one `EVALSHA` on the session key; plus the `WAIT` of
/// *Durability* below when replica waits are on), except when it moves
/// the expiry past the session's index score `x`: the script then raises `x` to the new
/// expiry plus [`index_slack`](RedisStoreConfig::index_slack) and the store writes the new
/// score to the user index (a second round trip, to the user's slot). With the default
/// slack of one day, a session refreshed every hour costs one index write a day. A
/// detected theft costs a second round trip too (the revoked session leaves its index).
///
/// Because the index lives in another slot, it is updated by separate commands after the
/// atomic script: it is advisory. A score is always at or after its session's expiry, so
/// members whose score has passed are dropped (`ZREMRANGEBYSCORE`) on every index write and
/// read, and the index key itself expires with its last member: it never grows without
/// bound. [`list`](SessionStore::list) reads the session keys and returns only live
/// sessions of that user; [`revoke_all`](SessionStore::revoke_all) revokes each member
/// with a script that checks the owner. A session is added to its index *before* its key is
/// written, so a failure between the two leaves a dead index member, never an unindexed
/// session. If the index write after a rotation fails, the rotation stands, a warning is
/// logged, and the next score raise (within the slack) repairs it.
///
/// Times are the auth process's clock (passed to the scripts); key TTLs use the Redis
/// server's clock, so keep them in sync.
///
/// # Failures
///
/// Redis errors become [`StoreError`]s ([`Unavailable`](StoreErrorKind::Unavailable),
/// [`Timeout`](StoreErrorKind::Timeout), or [`Corrupt`](StoreErrorKind::Corrupt) for data
/// this version cannot read), which the server answers with 503. Every command is bounded
/// by [`response_timeout`](RedisStoreConfig::response_timeout), connecting by
/// [`connection_timeout`](RedisStoreConfig::connection_timeout). The connection is a
/// reconnecting `ConnectionManager` (on a cluster, the cluster connection): after an outage the same store serves again once
/// Redis is back. Access tokens are verified without the store, so protected APIs keep
/// serving while Redis is down.
///
/// Operations that need several round trips bound each one, not the whole operation:
/// create (index, then session), revoke (session, then index), list (index, then one
/// pipelined read of the sessions, then index cleanup), revoke-all (index, then one
/// script call per session of the user, then index cleanup).
///
/// # Redis Cluster (feature `cluster`)
///
/// `RedisStore::cluster` speaks to a Redis Cluster (the `redis` crate's async cluster
/// connection, which follows `MOVED`/`ASK` and refreshes its slot map after a failover).
/// Every script and command touches one key, so one slot; [`list`](SessionStore::list) and
/// [`revoke_all`](SessionStore::revoke_all), which reach sessions in many slots, send one
/// command per session (to the master of each, all in flight at once) instead of one
/// pipeline.
///
/// # Durability: waiting for a replica
///
/// A write acknowledged by a master and lost with it (killed before it replicated) would
/// leave a client holding a refresh token the promoted replica never saw: a false sign-out.
/// With [`wait_for_replicas`](RedisStoreConfig::wait_for_replicas) on (the default for a
/// cluster: [`ReplicaWait::DEFAULT`], `WAIT 1 100`), every acknowledged write (create,
/// rotation, promotion, theft revocation, revocation, payload update) is followed by
/// `WAIT` on the master owning the key, over the socket that carried the write, and only
/// then answered.
///
/// * Fewer replicas than asked (none attached, as right after a failover, or lagging past
///   the timeout): the write is acknowledged with a `tracing` warning. Failing it instead
///   would turn the loss of one node into an outage of every session on the promoted
///   master until its replica is back, and the write is no less durable than without
///   `WAIT`.
/// * `WAIT` failing (its master gone): a store error (503). The client keeps its previous
///   token, which the store accepts whether the write survived or not.
/// * Cost: one more round trip per write plus the replication delay; while a master has
///   no replica, each write on it takes the full `WAIT` timeout. Reads and refused tokens
///   do not wait. A `WAIT` also holds up the later commands on its connection, hence
///   several [`connections`](RedisStoreConfig::connections).
///
/// On a single node [`WaitForReplicas::Auto`] does not wait; set
/// [`WaitForReplicas::Wait`] for a primary with replicas (Sentinel).
///
/// Clones share the same connections ([`connections`](RedisStoreConfig::connections)).
///
/// ```no_run
/// use tower_session_redis::{RedisStore, RedisStoreConfig};
///
/// # async fn run() -> Result<(), tower_session_refresh::store::StoreError> {
/// // Fails if Redis cannot be reached now:
/// let store = RedisStore::connect("redis://127.0.0.1:6379", RedisStoreConfig::default()).await?;
/// // Never fails for an unreachable Redis: connects on first use, answering
/// // `StoreError` (503) until Redis is there.
/// let lazy = RedisStore::lazy("redis://127.0.0.1:6379", RedisStoreConfig::default())?;
/// # let _ = (store, lazy);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    connection: LazyConnection,
    config: RedisStoreConfig,
    scripts: Scripts,
    /// The resolved [`RedisStoreConfig::wait_for_replicas`].
    wait: Option<ReplicaWait>,
    // Kept for `key_store`: the signing keys go to the same Redis, under the same prefix.
    target: Target,
}

struct Scripts {
    rotate: Script,
    promote: Script,
    revoke: Script,
    update_field: Script,
    create: Script,
    index_add: Script,
    index_sweep: Script,
}

impl Scripts {
    fn new() -> Self {
        Self {
            rotate: Script::new(include_str!("rotate.lua")),
            promote: Script::new(include_str!("promote.lua")),
            revoke: Script::new(include_str!("revoke.lua")),
            update_field: Script::new(include_str!("update_field.lua")),
            create: Script::new(include_str!("create.lua")),
            index_add: Script::new(include_str!("index_add.lua")),
            index_sweep: Script::new(include_str!("index_sweep.lua")),
        }
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: leave it out.
        f.debug_struct("RedisStore")
            .field("prefix", &self.inner.config.prefix)
            .field("connected", &self.inner.connection.is_open())
            .finish()
    }
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://[user:password@]host:port[/db]`), failing
    /// if it cannot be reached within the connection timeout.
    pub async fn connect(url: &str, config: RedisStoreConfig) -> Result<Self, StoreError> {
        let store = Self::lazy(url, config)?;
        store.connection().await?;
        Ok(store)
    }

    /// A store for the Redis at `url` that connects on first use. It fails only for an
    /// invalid URL or prefix; while Redis cannot be reached every operation answers
    /// [`StoreError`], and the next operation tries to connect again.
    pub fn lazy(url: &str, config: RedisStoreConfig) -> Result<Self, StoreError> {
        Self::with_target(Target::single(url)?, config)
    }

    /// A store on the Redis Cluster reached through the seed `nodes`
    /// (`redis://[user:password@]host:port` each; one reachable node is enough, the others
    /// are found from it), connecting on first use. Fails only for an invalid URL, prefix
    /// or configuration, or no node at all.
    ///
    /// Waits for one replica after every acknowledged write unless configured otherwise
    /// ([`RedisStoreConfig::wait_for_replicas`]); see *Durability* in [`RedisStore`].
    ///
    /// ```no_run
    /// use tower_session_redis::{RedisStore, RedisStoreConfig};
    ///
    /// # fn main() -> Result<(), tower_session_refresh::store::StoreError> {
    /// let store = RedisStore::cluster(
    ///     ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"],
    ///     RedisStoreConfig::new("myapp:"),
    /// )?;
    /// # let _ = store;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cluster")))]
    pub fn cluster<I, S>(nodes: I, config: RedisStoreConfig) -> Result<Self, StoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let target = Target::cluster(nodes, config.response_timeout, config.connection_timeout)?;
        Self::with_target(target, config)
    }

    /// Like [`cluster`](Self::cluster), failing if no node can be reached within the
    /// connection timeout.
    #[cfg(feature = "cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cluster")))]
    pub async fn connect_cluster<I, S>(
        nodes: I,
        config: RedisStoreConfig,
    ) -> Result<Self, StoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let store = Self::cluster(nodes, config)?;
        store.connection().await?;
        Ok(store)
    }

    fn with_target(target: Target, config: RedisStoreConfig) -> Result<Self, StoreError> {
        config.wait_for_replicas.check(config.response_timeout)?;
        let connection = LazyConnection::open(
            target.clone(),
            &config.prefix,
            config.response_timeout,
            config.connection_timeout,
            3,
            config.connections,
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                connection,
                wait: config.wait_for_replicas.resolve(target.is_cluster()),
                config,
                scripts: Scripts::new(),
                target,
            }),
        })
    }

    /// Whether this store speaks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.inner.connection.is_cluster()
    }

    /// The replica wait after each acknowledged write, if any (the resolved
    /// [`RedisStoreConfig::wait_for_replicas`]).
    pub fn replica_wait(&self) -> Option<ReplicaWait> {
        self.inner.wait
    }

    /// The configuration this store runs with.
    pub fn config(&self) -> &RedisStoreConfig {
        &self.inner.config
    }

    /// The key of session `handle`.
    pub fn session_key(&self, handle: &str) -> String {
        format!("{}s:{{{handle}}}", self.inner.config.prefix)
    }

    /// The key of the session index of `user_id`.
    pub fn user_key(&self, user_id: &str) -> String {
        format!("{}u:{{{user_id}}}", self.inner.config.prefix)
    }

    async fn connection(&self) -> Result<Connection, StoreError> {
        self.inner.connection.get().await
    }

    /// After an acknowledged write to `key`: waits for the configured replicas (nothing
    /// when none is configured). Fewer replicas than asked (none attached, or lagging
    /// past the timeout) is logged and accepted: the write stands on its master. An error
    /// of the `WAIT` itself (the master gone) is a store error: the write may or may not
    /// survive, and the caller's retry of the same request is safe either way.
    async fn wait_replicas(
        &self,
        connection: &mut Connection,
        key: &str,
    ) -> Result<(), StoreError> {
        let Some(wait) = self.inner.wait else {
            return Ok(());
        };
        let acknowledged = self.run(connection.wait_replicas(key, wait)).await?;
        if acknowledged < i64::from(wait.replicas) {
            tracing::warn!(
                acknowledged,
                wanted = wait.replicas,
                timeout_ms = u64::try_from(wait.timeout.as_millis()).unwrap_or(u64::MAX),
                "redis write acknowledged by fewer replicas than configured; it would be lost \
                 with its master"
            );
        }
        Ok(())
    }

    /// Runs one command (or script call) under the response timeout.
    async fn run<T, F>(&self, command: F) -> Result<T, StoreError>
    where
        F: std::future::Future<Output = Result<T, RedisError>>,
    {
        match tokio::time::timeout(self.inner.config.response_timeout, command).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "redis session store command failed");
                Err(store_error(e))
            }
            Err(_) => Err(StoreError::new(
                StoreErrorKind::Timeout,
                "redis command timed out",
            )),
        }
    }

    async fn index_add(
        &self,
        connection: &mut Connection,
        user_id: &str,
        handle: &str,
        score: u64,
    ) -> Result<(), StoreError> {
        let key = self.user_key(user_id);
        let now = millis(SystemTime::now());
        let mut call = self.inner.scripts.index_add.key(&key);
        call.arg(handle).arg(score).arg(now);
        self.run(call.invoke_async::<Value>(connection)).await?;
        Ok(())
    }

    /// Removes `handles` from the index of `user_id`; failures only delay the cleanup.
    async fn index_remove(&self, connection: &mut Connection, user_id: &str, handles: &[String]) {
        if handles.is_empty() {
            return;
        }
        let mut cmd = ::redis::cmd("ZREM");
        cmd.arg(self.user_key(user_id)).arg(handles);
        if let Err(e) = self.run(cmd.query_async::<Value>(connection)).await {
            tracing::debug!(error = %e, "user index cleanup failed; expiry will drop the members");
        }
    }

    async fn index_members(
        &self,
        connection: &mut Connection,
        user_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let key = self.user_key(user_id);
        let mut call = self.inner.scripts.index_sweep.key(&key);
        call.arg(millis(SystemTime::now()));
        self.run(call.invoke_async::<Vec<String>>(connection)).await
    }

    async fn do_create(&self, session: NewSession) -> Result<(), StoreError> {
        let mut connection = self.connection().await?;
        let expires = millis(session.expires_at);
        // Index first: a failure in between leaves a dead member, not an unindexed session.
        self.index_add(&mut connection, &session.user_id, &session.handle, expires)
            .await?;
        let key = self.session_key(&session.handle);
        let mut fields: Vec<(&str, String)> = vec![
            ("v", LAYOUT_VERSION.to_owned()),
            ("u", session.user_id.clone()),
            ("t", session.tenant_id.clone()),
            ("f", session.family_hash.clone()),
            ("h", session.refresh_hash.clone()),
            ("g", "0".to_owned()),
            ("c", "[]".to_owned()),
            ("e", expires.to_string()),
            ("x", expires.to_string()),
            ("k", millis(SystemTime::now()).to_string()),
        ];
        if !session.session_data.is_empty() {
            fields.push(("d", encode_payload(&session.session_data)?));
        }
        if let Some(payload) = &session.payload {
            fields.push(("p", encode_payload(payload)?));
        }
        let mut call = self.inner.scripts.create.key(&key);
        call.arg(expires);
        for (name, value) in &fields {
            call.arg(*name).arg(value);
        }
        self.run(call.invoke_async::<Value>(&mut connection))
            .await?;
        self.wait_replicas(&mut connection, &key).await
    }

    async fn do_get(&self, handle: &str) -> Result<Option<SessionInfo>, StoreError> {
        let mut connection = self.connection().await?;
        let mut cmd = ::redis::cmd("HMGET");
        cmd.arg(self.session_key(handle)).arg(&INFO_FIELDS[..]);
        let fields: Vec<Option<String>> = self.run(cmd.query_async(&mut connection)).await?;
        parse_info(handle, fields, SystemTime::now())
    }

    async fn do_rotate(
        &self,
        handle: &str,
        presented: Presented<'_>,
        new_child: &str,
        expires_at: SystemTime,
    ) -> Result<RotateOutcome, StoreError> {
        let mut connection = self.connection().await?;
        let key = self.session_key(handle);
        let expires = millis(expires_at);
        let horizon = expires.saturating_add(millis_of(self.inner.config.index_slack));
        let mut call = self.inner.scripts.rotate.key(&key);
        call.arg(presented.hash)
            .arg(presented.generation)
            .arg(presented.family_hash)
            .arg(new_child)
            .arg(expires)
            .arg(millis(SystemTime::now()))
            .arg(MAX_CHILDREN)
            .arg(horizon);
        let reply: Vec<Value> = self.run(call.invoke_async(&mut connection)).await?;
        let mut reply = reply.into_iter();
        match code(reply.next())? {
            0 | 1 => Ok(RotateOutcome::Unauthorised),
            4 => {
                warn_old_layout(handle);
                Ok(RotateOutcome::Unauthorised)
            }
            2 => {
                let user_id = string(reply.next())?;
                self.wait_replicas(&mut connection, &key).await?;
                self.index_remove(&mut connection, &user_id, &[handle.to_owned()])
                    .await;
                Ok(RotateOutcome::Theft { user_id })
            }
            3 => {
                let user_id = string(reply.next())?;
                let tenant_id = string(reply.next())?;
                let payload = optional_string(reply.next())?
                    .map(|p| decode_payload(&p))
                    .transpose()?;
                let extend_index = code(reply.next())? == 1;
                let time_created = created_at(optional_string(reply.next())?.as_deref());
                let session_data = optional_string(reply.next())?
                    .map(|d| decode_payload(&d))
                    .transpose()?
                    .unwrap_or_default();
                self.wait_replicas(&mut connection, &key).await?;
                if extend_index {
                    if let Err(e) = self
                        .index_add(&mut connection, &user_id, handle, horizon)
                        .await
                    {
                        tracing::warn!(
                            error = %e,
                            "session rotated but its user index could not be extended"
                        );
                    }
                }
                Ok(RotateOutcome::Rotated {
                    session: SessionInfo {
                        handle: handle.to_owned(),
                        user_id,
                        tenant_id,
                        payload,
                        expires_at,
                        time_created,
                        session_data,
                    },
                    parent_hash: presented.hash.to_owned(),
                })
            }
            _ => Err(corrupt("unexpected rotate reply")),
        }
    }

    async fn do_promote(
        &self,
        handle: &str,
        parent: &str,
        child: &str,
    ) -> Result<PromoteOutcome, StoreError> {
        let mut connection = self.connection().await?;
        let key = self.session_key(handle);
        let mut call = self.inner.scripts.promote.key(&key);
        call.arg(parent).arg(child).arg(millis(SystemTime::now()));
        let reply: Vec<Value> = self.run(call.invoke_async(&mut connection)).await?;
        match code(reply.into_iter().next())? {
            0 => Ok(PromoteOutcome::Unauthorised),
            1 => {
                self.wait_replicas(&mut connection, &key).await?;
                Ok(PromoteOutcome::Promoted)
            }
            2 => Ok(PromoteOutcome::AlreadyPromoted),
            3 => Ok(PromoteOutcome::Deferred),
            4 => Ok(PromoteOutcome::Stale),
            5 => {
                warn_old_layout(handle);
                Ok(PromoteOutcome::Unauthorised)
            }
            _ => Err(corrupt("unexpected promote reply")),
        }
    }

    /// Revokes `handle` (only if it belongs to `owner`, when given); the user it belonged to.
    async fn revoke_one(
        &self,
        connection: &mut Connection,
        handle: &str,
        owner: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let key = self.session_key(handle);
        let mut call = self.inner.scripts.revoke.key(&key);
        call.arg(millis(SystemTime::now()))
            .arg(if owner.is_some() { "1" } else { "0" })
            .arg(owner.unwrap_or(""));
        let reply: Vec<Value> = self.run(call.invoke_async(connection)).await?;
        let mut reply = reply.into_iter();
        match code(reply.next())? {
            0 => Ok(None),
            1 => {
                let user_id = string(reply.next())?;
                self.wait_replicas(connection, &key).await?;
                Ok(Some(user_id))
            }
            _ => Err(corrupt("unexpected revoke reply")),
        }
    }

    async fn do_revoke(&self, handle: &str) -> Result<bool, StoreError> {
        let mut connection = self.connection().await?;
        match self.revoke_one(&mut connection, handle, None).await? {
            Some(user_id) => {
                self.index_remove(&mut connection, &user_id, &[handle.to_owned()])
                    .await;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn do_revoke_all(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let mut connection = self.connection().await?;
        let handles = self.index_members(&mut connection, user_id).await?;
        let mut revoked = Vec::with_capacity(handles.len());
        for handle in &handles {
            if self
                .revoke_one(&mut connection, handle, Some(user_id))
                .await?
                .is_some()
            {
                revoked.push(handle.clone());
            }
        }
        self.index_remove(&mut connection, user_id, &handles).await;
        Ok(revoked)
    }

    async fn do_list(&self, user_id: &str) -> Result<Vec<SessionInfo>, StoreError> {
        let mut connection = self.connection().await?;
        let handles = self.index_members(&mut connection, user_id).await?;
        if handles.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<Vec<Option<String>>> = if connection.is_cluster() {
            // Each session key has a slot of its own: one HMGET each, all in flight at
            // once (the cluster connection pipelines them per node).
            let reads = handles.iter().map(|handle| {
                let mut connection = connection.clone();
                let mut cmd = ::redis::cmd("HMGET");
                cmd.arg(self.session_key(handle)).arg(&INFO_FIELDS[..]);
                async move { self.run(cmd.query_async(&mut connection)).await }
            });
            futures_util::future::try_join_all(reads).await?
        } else {
            let mut pipe = ::redis::pipe();
            for handle in &handles {
                pipe.cmd("HMGET")
                    .arg(self.session_key(handle))
                    .arg(&INFO_FIELDS[..]);
            }
            self.run(pipe.query_async(&mut connection)).await?
        };
        let now = SystemTime::now();
        let mut sessions = Vec::with_capacity(handles.len());
        let mut dead = Vec::new();
        for (handle, fields) in handles.into_iter().zip(rows) {
            match parse_info(&handle, fields, now)? {
                Some(info) if info.user_id == user_id => sessions.push(info),
                _ => dead.push(handle),
            }
        }
        self.index_remove(&mut connection, user_id, &dead).await;
        sessions.sort_by(|a, b| a.handle.cmp(&b.handle));
        Ok(sessions)
    }

    /// Replaces the session's payload (`field` `p`) or its session data (`d`).
    async fn update_field(
        &self,
        handle: &str,
        field: &'static str,
        value: Map<String, Json>,
    ) -> Result<bool, StoreError> {
        let mut connection = self.connection().await?;
        let key = self.session_key(handle);
        let mut call = self.inner.scripts.update_field.key(&key);
        call.arg(encode_payload(&value)?)
            .arg(millis(SystemTime::now()))
            .arg(field);
        let reply: i64 = self.run(call.invoke_async(&mut connection)).await?;
        if reply == 1 {
            self.wait_replicas(&mut connection, &key).await?;
        }
        Ok(reply == 1)
    }
}

impl RedisStore {
    /// A [`RedisKeyStore`](crate::RedisKeyStore) on the same Redis (or cluster) with the same
    /// prefix, timeouts and replica wait (the key set is `{prefix}keys`): where `SharedSession` keeps its signing
    /// keys when given this store. Connects on first use.
    pub fn key_store(&self) -> Result<crate::RedisKeyStore, StoreError> {
        let config = &self.inner.config;
        crate::RedisKeyStore::with_target(
            self.inner.target.clone(),
            crate::RedisKeyStoreConfig {
                prefix: config.prefix.clone(),
                response_timeout: config.response_timeout,
                connection_timeout: config.connection_timeout,
                wait_for_replicas: config.wait_for_replicas,
            },
        )
    }
}

impl SessionStore for RedisStore {
    fn key_store(&self) -> Option<Arc<dyn tower_session_refresh::keystore::KeyStore>> {
        match RedisStore::key_store(self) {
            Ok(keys) => Some(Arc::new(keys)),
            // Cannot happen: the URL and prefix were accepted by `lazy` already.
            Err(error) => {
                tracing::warn!(%error, "no key store on this Redis store");
                None
            }
        }
    }

    fn create(&self, session: NewSession) -> StoreFuture<'_, ()> {
        Box::pin(self.do_create(session))
    }

    fn get<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, Option<SessionInfo>> {
        Box::pin(self.do_get(handle))
    }

    fn rotate<'a>(
        &'a self,
        handle: &'a str,
        presented: Presented<'a>,
        new_child: &'a str,
        expires_at: SystemTime,
    ) -> StoreFuture<'a, RotateOutcome> {
        Box::pin(self.do_rotate(handle, presented, new_child, expires_at))
    }

    fn promote<'a>(
        &'a self,
        handle: &'a str,
        parent: &'a str,
        child: &'a str,
    ) -> StoreFuture<'a, PromoteOutcome> {
        Box::pin(self.do_promote(handle, parent, child))
    }

    fn revoke<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(self.do_revoke(handle))
    }

    fn revoke_all<'a>(&'a self, user_id: &'a str) -> StoreFuture<'a, Vec<String>> {
        Box::pin(self.do_revoke_all(user_id))
    }

    fn list<'a>(&'a self, user_id: &'a str) -> StoreFuture<'a, Vec<SessionInfo>> {
        Box::pin(self.do_list(user_id))
    }

    fn update_payload<'a>(
        &'a self,
        handle: &'a str,
        payload: Map<String, Json>,
    ) -> StoreFuture<'a, bool> {
        Box::pin(self.update_field(handle, "p", payload))
    }

    fn update_session_data<'a>(
        &'a self,
        handle: &'a str,
        data: Map<String, Json>,
    ) -> StoreFuture<'a, bool> {
        Box::pin(self.update_field(handle, "d", data))
    }
}

/// The creation time in field `k` (ms); the epoch for a session written without it.
fn created_at(raw: Option<&str>) -> SystemTime {
    let ms = raw.and_then(|k| k.parse::<u64>().ok()).unwrap_or(0);
    UNIX_EPOCH + Duration::from_millis(ms)
}

fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, millis_of)
}

fn millis_of(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn warn_old_layout(handle: &str) {
    tracing::warn!(
        session_handle = handle,
        "session of store layout 1 (written before the refresh-token family secret) refused; \
         its user must sign in again"
    );
}

fn corrupt(what: &'static str) -> StoreError {
    StoreError::new(StoreErrorKind::Corrupt, what)
}

fn encode_payload(payload: &Map<String, Json>) -> Result<String, StoreError> {
    serde_json::to_string(payload).map_err(|e| StoreError::new(StoreErrorKind::Corrupt, e))
}

fn decode_payload(raw: &str) -> Result<Map<String, Json>, StoreError> {
    serde_json::from_str(raw).map_err(|e| StoreError::new(StoreErrorKind::Corrupt, e))
}

fn code(value: Option<Value>) -> Result<i64, StoreError> {
    match value {
        Some(Value::Int(n)) => Ok(n),
        _ => Err(corrupt("unexpected script reply")),
    }
}

fn optional_string(value: Option<Value>) -> Result<Option<String>, StoreError> {
    match value {
        Some(Value::Nil) | None => Ok(None),
        Some(v) => ::redis::from_redis_value(v)
            .map(Some)
            .map_err(|e| StoreError::new(StoreErrorKind::Corrupt, e)),
    }
}

fn string(value: Option<Value>) -> Result<String, StoreError> {
    optional_string(value)?.ok_or_else(|| corrupt("missing field in script reply"))
}

/// A [`SessionInfo`] from the [`INFO_FIELDS`] of a session hash; `None` if the session
/// does not exist or has expired by `now`.
fn parse_info(
    handle: &str,
    fields: Vec<Option<String>>,
    now: SystemTime,
) -> Result<Option<SessionInfo>, StoreError> {
    let mut fields = fields.into_iter();
    let (Some(version), user, tenant, payload, expires, created, data) = (
        fields.next().flatten(),
        fields.next().flatten(),
        fields.next().flatten(),
        fields.next().flatten(),
        fields.next().flatten(),
        fields.next().flatten(),
        fields.next().flatten(),
    ) else {
        return Ok(None);
    };
    if version == OLD_LAYOUT_VERSION {
        tracing::debug!(
            session_handle = handle,
            "session of store layout 1 is not read"
        );
        return Ok(None);
    }
    if version != LAYOUT_VERSION {
        return Err(corrupt("unknown session layout version"));
    }
    let (Some(user_id), Some(tenant_id), Some(expires)) =
        (user, tenant, expires.and_then(|e| e.parse::<u64>().ok()))
    else {
        return Err(corrupt("malformed session"));
    };
    let expires_at = UNIX_EPOCH + Duration::from_millis(expires);
    if expires_at <= now {
        return Ok(None);
    }
    let payload = payload.map(|p| decode_payload(&p)).transpose()?;
    let session_data = data
        .map(|d| decode_payload(&d))
        .transpose()?
        .unwrap_or_default();
    Ok(Some(SessionInfo {
        handle: handle.to_owned(),
        user_id,
        tenant_id,
        payload,
        expires_at,
        time_created: created_at(created.as_deref()),
        session_data,
    }))
}
