//! The lazily opened, reconnecting Redis connection shared by [`RedisStore`](crate::RedisStore)
//! and the key store ([`RedisKeyStore`](crate::RedisKeyStore)), and the mapping of Redis errors to
//! [`StoreError`].

use std::time::Duration;

use ::redis::{
    aio::{ConnectionManager, ConnectionManagerConfig},
    Client, ErrorKind, RedisError,
};
use tokio::sync::OnceCell;

use tower_session_refresh::store::{StoreError, StoreErrorKind};

/// A `ConnectionManager` opened on first use: a Redis that is down when the process starts
/// gives [`StoreError`]s (and a new attempt on the next call), not a failed start-up.
pub(crate) struct LazyConnection {
    client: Client,
    manager_config: ConnectionManagerConfig,
    connection: OnceCell<ConnectionManager>,
    connection_timeout: Duration,
}

impl LazyConnection {
    /// Checks `url` and `prefix` (no `{`/`}`: they would break the hash tags) and prepares
    /// the connection; nothing is sent yet.
    pub(crate) fn open(
        url: &str,
        prefix: &str,
        response_timeout: Duration,
        connection_timeout: Duration,
        retries: usize,
    ) -> Result<Self, StoreError> {
        if prefix.contains(['{', '}']) {
            return Err(StoreError::new(
                StoreErrorKind::Unavailable,
                "redis key prefix must not contain '{' or '}'",
            ));
        }
        let client =
            Client::open(url).map_err(|e| StoreError::new(StoreErrorKind::Unavailable, e))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(response_timeout))
            .set_connection_timeout(Some(connection_timeout))
            .set_number_of_retries(retries)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        Ok(Self {
            client,
            manager_config,
            connection: OnceCell::new(),
            connection_timeout,
        })
    }

    /// Whether a connection has been opened (for `Debug` output).
    pub(crate) fn is_open(&self) -> bool {
        self.connection.initialized()
    }

    /// The connection, opening it (within the connection timeout) if needed.
    pub(crate) async fn get(&self) -> Result<ConnectionManager, StoreError> {
        if let Some(connection) = self.connection.get() {
            return Ok(connection.clone());
        }
        let init = self.connection.get_or_try_init(|| {
            ConnectionManager::new_with_config(self.client.clone(), self.manager_config.clone())
        });
        match tokio::time::timeout(self.connection_timeout, init).await {
            Ok(Ok(connection)) => Ok(connection.clone()),
            Ok(Err(e)) => Err(store_error(e)),
            Err(_) => Err(StoreError::new(
                StoreErrorKind::Timeout,
                "connecting to redis timed out",
            )),
        }
    }
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
