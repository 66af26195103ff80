//! [`RedisKeyStore`]: the key set in one Redis hash, shared by every auth process.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ::redis::{RedisError, Script};

use tower_session_refresh::keystore::{KeyStore, KeyStoreFuture, StoredKeySet};
use tower_session_refresh::store::{StoreError, StoreErrorKind};

use crate::connection::{store_error, Connection, LazyConnection, ReplicaWait, Target};
use crate::WaitForReplicas;

/// Compare-and-set on the hash's `version` field ("" = the hash must not exist).
const PUT_IF_VERSION: &str = r"
local current = redis.call('HGET', KEYS[1], 'version')
if (current or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'set', ARGV[3])
return 1
";

/// Configuration of [`RedisKeyStore`].
#[derive(Debug, Clone)]
pub struct RedisKeyStoreConfig {
    /// Prepended to the key (default `tsr:`, the session store's default: the key set is
    /// then `tsr:keys`); must not contain `{` or `}`.
    pub prefix: String,
    /// How long one command may take (default 500 ms).
    pub response_timeout: Duration,
    /// How long connecting may take (default 1 s).
    pub connection_timeout: Duration,
    /// Whether a written key set waits for replicas (`WAIT`); default
    /// [`WaitForReplicas::Auto`]: on for a cluster, off for a single node. A key set lost
    /// with its master is not a sign-out (the processes still hold it, and write it again
    /// at the next rotation), but a lost rotation makes processes disagree on the newest
    /// key until then.
    pub wait_for_replicas: WaitForReplicas,
}

impl Default for RedisKeyStoreConfig {
    fn default() -> Self {
        Self {
            prefix: "tsr:".to_owned(),
            response_timeout: Duration::from_millis(500),
            connection_timeout: Duration::from_secs(1),
            wait_for_replicas: WaitForReplicas::Auto,
        }
    }
}

impl RedisKeyStoreConfig {
    /// The default configuration with another prefix.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            ..Self::default()
        }
    }
}

/// A [`KeyStore`] in Redis: the hash `{prefix}keys` with fields `version` and `set` (the
/// JSON of [`StoredKeySet::to_json`], **private keys included**: see the module docs for
/// who can read them). Writes are one Lua script (compare `version`, then set both fields),
/// so concurrent processes never create or rotate twice.
///
/// Connects lazily and reconnects through the `redis` crate's `ConnectionManager`: a Redis
/// that is down when the process starts makes operations fail (and
/// [`ManagedKeys`](tower_session_refresh::keystore::ManagedKeys) retry) until it is back. Clone is cheap.
#[derive(Clone)]
pub struct RedisKeyStore {
    inner: Arc<Inner>,
}

struct Inner {
    connection: LazyConnection,
    config: RedisKeyStoreConfig,
    key: String,
    put: Script,
    wait: Option<ReplicaWait>,
}

impl fmt::Debug for RedisKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisKeyStore")
            .field("key", &self.inner.key)
            .field("connected", &self.inner.connection.is_open())
            .finish()
    }
}

impl RedisKeyStore {
    /// A store for the Redis at `url` (`redis://[user:password@]host:port[/db]`) that
    /// connects on first use. Fails only for an invalid URL or prefix.
    pub fn new(url: &str, config: RedisKeyStoreConfig) -> Result<Self, StoreError> {
        Self::with_target(Target::single(url)?, config)
    }

    /// A store on the Redis Cluster reached through the seed `nodes`
    /// (`redis://host:port` each), connecting on first use. The key set is one key, so
    /// one slot.
    #[cfg(feature = "cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cluster")))]
    pub fn cluster<I, S>(nodes: I, config: RedisKeyStoreConfig) -> Result<Self, StoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let target = Target::cluster(nodes, config.response_timeout, config.connection_timeout)?;
        Self::with_target(target, config)
    }

    pub(crate) fn with_target(
        target: Target,
        config: RedisKeyStoreConfig,
    ) -> Result<Self, StoreError> {
        config.wait_for_replicas.check(config.response_timeout)?;
        let wait = config.wait_for_replicas.resolve(target.is_cluster());
        let connection = LazyConnection::open(
            target,
            &config.prefix,
            config.response_timeout,
            config.connection_timeout,
            2,
            // Key sets change rarely: one connection.
            1,
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                connection,
                key: format!("{}keys", config.prefix),
                config,
                put: Script::new(PUT_IF_VERSION),
                wait,
            }),
        })
    }

    /// The Redis key holding the key set (`{prefix}keys`).
    pub fn key(&self) -> &str {
        &self.inner.key
    }

    async fn connection(&self) -> Result<Connection, StoreError> {
        self.inner.connection.get().await
    }

    async fn run<T>(
        &self,
        command: impl std::future::Future<Output = Result<T, RedisError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.inner.config.response_timeout, command).await {
            Ok(result) => result.map_err(store_error),
            Err(_) => Err(StoreError::new(
                StoreErrorKind::Timeout,
                "redis command timed out",
            )),
        }
    }

    async fn load_inner(&self) -> Result<Option<StoredKeySet>, StoreError> {
        let mut connection = self.connection().await?;
        let (version, json): (Option<String>, Option<String>) = self
            .run(
                ::redis::cmd("HMGET")
                    .arg(&self.inner.key)
                    .arg("version")
                    .arg("set")
                    .query_async(&mut connection),
            )
            .await?;
        let (Some(version), Some(json)) = (version, json) else {
            return Ok(None);
        };
        let version: u64 = version.parse().map_err(|_| {
            StoreError::new(StoreErrorKind::Corrupt, "key set version is not a number")
        })?;
        let mut set = StoredKeySet::from_json(&json)?;
        set.version = version;
        Ok(Some(set))
    }

    async fn put_inner(
        &self,
        expected: Option<u64>,
        new: &StoredKeySet,
    ) -> Result<bool, StoreError> {
        let mut connection = self.connection().await?;
        let expected = expected.map(|v| v.to_string()).unwrap_or_default();
        let written: i64 = self
            .run(
                self.inner
                    .put
                    .key(&self.inner.key)
                    .arg(expected)
                    .arg(new.version.to_string())
                    .arg(new.to_json())
                    .invoke_async(&mut connection),
            )
            .await?;
        if written == 1 {
            if let Some(wait) = self.inner.wait {
                let acknowledged = self
                    .run(connection.wait_replicas(&self.inner.key, wait))
                    .await?;
                if acknowledged < i64::from(wait.replicas) {
                    tracing::warn!(
                        acknowledged,
                        wanted = wait.replicas,
                        "key set written with fewer replicas than configured"
                    );
                }
            }
        }
        Ok(written == 1)
    }
}

impl KeyStore for RedisKeyStore {
    fn load(&self) -> KeyStoreFuture<'_, Option<StoredKeySet>> {
        Box::pin(self.load_inner())
    }

    fn put_if_version<'a>(
        &'a self,
        expected: Option<u64>,
        new: &'a StoredKeySet,
    ) -> KeyStoreFuture<'a, bool> {
        Box::pin(self.put_inner(expected, new))
    }
}
