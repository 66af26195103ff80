//! The connection pool, migrations, and error mapping shared by the session store and the
//! key store.

use std::{fmt, str::FromStr, time::Duration};

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use tokio_postgres::NoTls;
use tower_session_refresh::store::{StoreError, StoreErrorKind};

/// The newest schema migration this version knows.
pub(crate) const SCHEMA_VERSION: i32 = 2;

/// The migrations, in order; `__SCHEMA__` stands for the quoted schema name.
const MIGRATIONS: [(i32, &str); 2] = [
    (1, include_str!("migrations/0001_sessions.sql")),
    (2, include_str!("migrations/0002_session_data.sql")),
];

/// Connection settings shared by [`PostgresStore`](crate::PostgresStore) and
/// [`PostgresKeyStore`](crate::PostgresKeyStore).
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    /// The schema the tables and functions live in (default `tower_sessions`): lowercase
    /// ASCII letters, digits and `_`, not starting with a digit, at most 63 bytes.
    /// [`PostgresStore::migrate`](crate::PostgresStore::migrate) creates it.
    pub schema: String,
    /// Connections kept open at most (default 16).
    pub pool_size: usize,
    /// How long one operation may take, waiting for a pooled connection included, before
    /// it fails with [`StoreErrorKind::Timeout`] (default 1 s).
    pub response_timeout: Duration,
    /// How long opening a connection may take (default 1 s).
    pub connection_timeout: Duration,
    /// How many expired sessions one sweep statement deletes at most (default 1000), so
    /// that a sweep never holds many row locks or a long transaction.
    pub sweep_batch: u32,
    /// Whether the first operation of a store runs the migrations (default `true`), once
    /// per store and pool, retried by later operations while PostgreSQL cannot be reached.
    /// Turn it off when migrations run some other way (and the database user the auth
    /// processes use may not create tables).
    pub auto_migrate: bool,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            schema: "tower_sessions".to_owned(),
            pool_size: 16,
            response_timeout: Duration::from_secs(1),
            connection_timeout: Duration::from_secs(1),
            sweep_batch: 1000,
            auto_migrate: true,
        }
    }
}

impl PostgresConfig {
    /// The default configuration in schema `schema`.
    pub fn new(schema: impl Into<String>) -> Self {
        Self {
            schema: schema.into(),
            ..Self::default()
        }
    }
}

/// A pool on one database and schema.
pub(crate) struct Database {
    pool: Pool,
    pub(crate) config: PostgresConfig,
    /// `"schema"`, ready to splice into SQL.
    pub(crate) schema: String,
    /// Set once the migrations ran through this pool.
    migrated: tokio::sync::OnceCell<()>,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password: leave it out.
        let status = self.pool.status();
        f.debug_struct("Database")
            .field("schema", &self.config.schema)
            .field("connections", &status.size)
            .finish()
    }
}

impl Database {
    /// A pool for `url` (`postgres://user[:password]@host:port/db`, or the key=value form
    /// `tokio-postgres` reads); connects on first use.
    pub(crate) fn open(url: &str, config: PostgresConfig) -> Result<Self, StoreError> {
        validate_schema(&config.schema)?;
        if config.pool_size == 0 {
            return Err(invalid("pool_size must be at least 1"));
        }
        if config.sweep_batch == 0 {
            return Err(invalid("sweep_batch must be at least 1"));
        }
        let mut pg = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, e))?;
        pg.connect_timeout(config.connection_timeout);
        if pg.get_application_name().is_none() {
            pg.application_name("tower-session-postgres");
        }
        let manager = Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                // A connection the server closed (restart, outage) is dropped at checkout.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(config.response_timeout))
            .create_timeout(Some(config.connection_timeout))
            .recycle_timeout(Some(config.connection_timeout))
            .build()
            .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, e))?;
        Ok(Self {
            pool,
            schema: format!("\"{}\"", config.schema),
            config,
            migrated: tokio::sync::OnceCell::new(),
        })
    }

    /// A pooled connection, the migrations run first if
    /// [`auto_migrate`](PostgresConfig::auto_migrate) is on.
    pub(crate) async fn client(&self) -> Result<Object, StoreError> {
        if self.config.auto_migrate && self.migrated.get().is_none() {
            // Concurrent first operations wait for one migration; a failure is retried.
            self.migrated
                .get_or_try_init(|| self.run_migrations())
                .await?;
        }
        self.pooled().await
    }

    async fn pooled(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(pool_error)
    }

    /// Runs `operation` under the response timeout.
    pub(crate) async fn run<T>(
        &self,
        operation: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.config.response_timeout, operation).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::new(
                StoreErrorKind::Timeout,
                "postgres operation timed out",
            )),
        }
    }

    /// `sql` with the schema spliced in.
    pub(crate) fn sql(&self, sql: &str) -> String {
        sql.replace("__SCHEMA__", &self.schema)
    }

    /// Creates the schema and applies the migrations it lacks, in one transaction under an
    /// advisory lock, so that processes starting together migrate once. Idempotent.
    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        self.run_migrations().await?;
        let _ = self.migrated.set(());
        Ok(())
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        // Migrations may take longer than one operation: bounded by the connection timeout
        // plus a generous allowance for DDL.
        let deadline = self.config.response_timeout.max(Duration::from_secs(30));
        let work = async {
            let mut client = self.pooled().await?;
            let tx = client.transaction().await.map_err(pg_error)?;
            let lock_key = format!("tower-session-postgres:{}", self.config.schema);
            tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&lock_key])
                .await
                .map_err(pg_error)?;
            tx.batch_execute(&self.sql(
                "CREATE SCHEMA IF NOT EXISTS __SCHEMA__;
                 CREATE TABLE IF NOT EXISTS __SCHEMA__.tsr_migrations (
                     version    integer     PRIMARY KEY,
                     applied_at timestamptz NOT NULL DEFAULT now());",
            ))
            .await
            .map_err(pg_error)?;
            let row = tx
                .query_one(
                    &self.sql("SELECT coalesce(max(version), 0) FROM __SCHEMA__.tsr_migrations"),
                    &[],
                )
                .await
                .map_err(pg_error)?;
            let current: i32 = row.try_get(0).map_err(pg_error)?;
            if current > SCHEMA_VERSION {
                // Roll back now rather than on drop, which only queues the rollback.
                tx.rollback().await.map_err(pg_error)?;
                return Err(StoreError::new(
                    StoreErrorKind::Corrupt,
                    format!(
                        "schema {} is at migration {current}, newer than this version ({SCHEMA_VERSION})",
                        self.config.schema
                    ),
                ));
            }
            for (version, sql) in MIGRATIONS {
                if version <= current {
                    continue;
                }
                tx.batch_execute(&self.sql(sql)).await.map_err(pg_error)?;
                tx.execute(
                    &self.sql("INSERT INTO __SCHEMA__.tsr_migrations (version) VALUES ($1)"),
                    &[&version],
                )
                .await
                .map_err(pg_error)?;
                tracing::info!(schema = %self.config.schema, version, "applied session store migration");
            }
            tx.commit().await.map_err(pg_error)
        };
        match tokio::time::timeout(deadline, work).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::new(
                StoreErrorKind::Timeout,
                "postgres migration timed out",
            )),
        }
    }
}

fn validate_schema(schema: &str) -> Result<(), StoreError> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && !schema.starts_with(|c: char| c.is_ascii_digit())
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "schema must be 1 to 63 of a-z, 0-9 and _, not starting with a digit",
        ))
    }
}

fn invalid(what: &'static str) -> StoreError {
    StoreError::new(StoreErrorKind::Unavailable, what)
}

/// A driver error: the server could not be reached or refused the statement (503).
pub(crate) fn pg_error(e: tokio_postgres::Error) -> StoreError {
    tracing::debug!(error = %e, "postgres session store statement failed");
    StoreError::new(StoreErrorKind::Unavailable, e)
}

fn pool_error(e: PoolError) -> StoreError {
    tracing::debug!(error = %e, "postgres connection unavailable");
    match e {
        PoolError::Timeout(_) => StoreError::new(StoreErrorKind::Timeout, e),
        other => StoreError::new(StoreErrorKind::Unavailable, other),
    }
}

pub(crate) fn corrupt(what: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
    StoreError::new(StoreErrorKind::Corrupt, what)
}
