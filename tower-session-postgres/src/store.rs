//! `PostgresStore`: sessions in PostgreSQL, shared by any number of auth processes.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::{Map, Value as Json};
use tokio_postgres::Row;
use tower_session_refresh::store::{
    Clock, NewSession, Presented, PromoteOutcome, RotateOutcome, SessionInfo, SessionStore,
    StoreError, StoreFuture, MAX_CHILDREN,
};

use crate::db::{corrupt, pg_error, Database, PostgresConfig};
use crate::PostgresKeyStore;

/// The columns [`parse_info`] reads, in its order.
const INFO_COLUMNS: &str =
    "handle, user_id, tenant_id, payload, expires_at, time_created, session_data";

/// Sessions in PostgreSQL, shared by any number of auth processes and machines.
///
/// Requires **PostgreSQL 12 or newer** (tested with 15); uses only the `plpgsql` language
/// every installation has. Built on `tokio-postgres` with a `deadpool-postgres` pool.
///
/// # Schema
///
/// Everything lives in the configured [`schema`](PostgresConfig::schema) (default
/// `tower_sessions`), created by [`migrate`](Self::migrate) (which [`connect`](Self::connect)
/// runs, and [`lazy`](Self::lazy) before its first operation unless
/// [`auto_migrate`](PostgresConfig::auto_migrate) is off): table `tsr_sessions`, one row per session
/// (handle, user id, tenant id, payload as JSON text, the hash of the family secret, the
/// hash and generation of the head refresh token, the head's unused children as a `text[]`
/// of at most [`MAX_CHILDREN`] hashes, and the expiry in ms since the Unix epoch), indexed by
/// user and by expiry; table `tsr_key_set` for [`PostgresKeyStore`]; table `tsr_migrations`
/// with the applied migration versions; and the functions `tsr_rotate`, `tsr_rotate_with_data` and `tsr_promote`. Each row also keeps the creation time and the server-side session data (migration 2).
/// A row holds no secrets, only SHA-256 hex of refresh tokens and of the family secret, and
/// its size does not grow with the number of rotations.
///
/// # Atomicity and round trips
///
/// A rotation (theft detection and revocation included) and a promotion are one call of a
/// PL/pgSQL function, which locks the session row (`SELECT … FOR UPDATE`) and updates or
/// deletes it in the statement's own transaction: **one round trip**, and two processes
/// rotating one session at the same moment run one after the other, exactly like one
/// process rotating it twice. Every other operation is one statement. Revoke-all is one
/// `DELETE … WHERE user_id`, so unlike the Redis store there is no advisory index.
///
/// Times are the auth process's clock (passed as parameters), so keep the auth processes'
/// clocks in sync. Expired rows are invisible to every operation at once and are deleted
/// when touched, or by [`sweep_expired`](Self::sweep_expired) (run it periodically, e.g.
/// with [`spawn_sweeper`](Self::spawn_sweeper)), in batches of at most
/// [`sweep_batch`](PostgresConfig::sweep_batch) rows.
///
/// # Failures
///
/// Driver and pool errors become [`StoreError`]s
/// ([`Unavailable`](tower_session_refresh::store::StoreErrorKind::Unavailable),
/// [`Timeout`](tower_session_refresh::store::StoreErrorKind::Timeout), or
/// [`Corrupt`](tower_session_refresh::store::StoreErrorKind::Corrupt) for rows this version
/// cannot read), which the server answers with 503, clearing nothing. Each operation is
/// bounded by [`response_timeout`](PostgresConfig::response_timeout). Connections the server
/// closed are dropped from the pool, so after an outage the same store serves again once
/// PostgreSQL is back.
///
/// Connections are plain TCP (no TLS): run it on a private network or loopback.
///
/// Clones share one pool.
///
/// ```no_run
/// use tower_session_postgres::{PostgresConfig, PostgresStore};
///
/// # async fn run() -> Result<(), tower_session_refresh::store::StoreError> {
/// // Connects and migrates now; fails if PostgreSQL cannot be reached:
/// let store = PostgresStore::connect("postgres://auth@127.0.0.1:5432/app", PostgresConfig::default()).await?;
/// // Deletes expired sessions every minute, in bounded batches.
/// let _sweeper = store.spawn_sweeper(std::time::Duration::from_secs(60));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Arc<Database>,
    clock: Clock,
    sql: Statements,
}

/// The statements, with the schema spliced in once.
struct Statements {
    create: String,
    get: String,
    rotate: String,
    promote: String,
    revoke: String,
    revoke_all: String,
    list: String,
    update_payload: String,
    update_session_data: String,
    sweep: String,
}

impl Statements {
    fn new(db: &Database) -> Self {
        Self {
            create: db.sql(
                "INSERT INTO __SCHEMA__.tsr_sessions
                     (handle, user_id, tenant_id, payload, family_hash, head_hash, generation,
                      children, expires_at, time_created, session_data)
                 VALUES ($1, $2, $3, $4, $5, $6, 0, '{}', $7, $8, $9)
                 ON CONFLICT (handle) DO UPDATE SET
                     user_id = EXCLUDED.user_id, tenant_id = EXCLUDED.tenant_id,
                     payload = EXCLUDED.payload, family_hash = EXCLUDED.family_hash,
                     head_hash = EXCLUDED.head_hash, generation = 0, children = '{}',
                     expires_at = EXCLUDED.expires_at, time_created = EXCLUDED.time_created,
                     session_data = EXCLUDED.session_data",
            ),
            get: db.sql(&format!(
                "SELECT {INFO_COLUMNS} FROM __SCHEMA__.tsr_sessions
                 WHERE handle = $1 AND expires_at > $2"
            )),
            rotate: db.sql(
                "SELECT o_code, o_user, o_tenant, o_payload, o_created, o_data
                 FROM __SCHEMA__.tsr_rotate_with_data($1, $2, $3, $4, $5, $6, $7, $8)",
            ),
            promote: db.sql("SELECT __SCHEMA__.tsr_promote($1, $2, $3, $4)"),
            revoke: db.sql(
                "DELETE FROM __SCHEMA__.tsr_sessions WHERE handle = $1
                 RETURNING expires_at > $2",
            ),
            revoke_all: db.sql(
                "DELETE FROM __SCHEMA__.tsr_sessions WHERE user_id = $1
                 RETURNING handle, expires_at > $2",
            ),
            list: db.sql(&format!(
                "SELECT {INFO_COLUMNS} FROM __SCHEMA__.tsr_sessions
                 WHERE user_id = $1 AND expires_at > $2 ORDER BY handle"
            )),
            update_payload: db.sql(
                "UPDATE __SCHEMA__.tsr_sessions SET payload = $2
                 WHERE handle = $1 AND expires_at > $3",
            ),
            update_session_data: db.sql(
                "UPDATE __SCHEMA__.tsr_sessions SET session_data = $2
                 WHERE handle = $1 AND expires_at > $3",
            ),
            // SKIP LOCKED: a sweep never waits for (or blocks) a refresh in progress.
            sweep: db.sql(
                "DELETE FROM __SCHEMA__.tsr_sessions WHERE handle IN (
                     SELECT handle FROM __SCHEMA__.tsr_sessions WHERE expires_at <= $1
                     LIMIT $2 FOR UPDATE SKIP LOCKED)",
            ),
        }
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("db", &self.inner.db)
            .finish()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user[:password]@host:port/db`) and
    /// runs [`migrate`](Self::migrate), failing if PostgreSQL cannot be reached within the
    /// timeouts.
    pub async fn connect(url: &str, config: PostgresConfig) -> Result<Self, StoreError> {
        let store = Self::lazy(url, config)?;
        store.migrate().await?;
        Ok(store)
    }

    /// A store for the database at `url` that connects on first use, and migrates then
    /// too unless [`auto_migrate`](PostgresConfig::auto_migrate) is off. It fails only for
    /// an invalid URL or configuration; while PostgreSQL cannot be reached every operation
    /// answers [`StoreError`], and the next one tries again.
    pub fn lazy(url: &str, config: PostgresConfig) -> Result<Self, StoreError> {
        let db = Arc::new(Database::open(url, config)?);
        Ok(Self::from_database(db, Arc::new(SystemTime::now)))
    }

    fn from_database(db: Arc<Database>, clock: Clock) -> Self {
        let sql = Statements::new(&db);
        Self {
            inner: Arc::new(Inner { db, clock, sql }),
        }
    }

    /// This store reading the time from `clock` instead of the system clock (tests).
    pub fn with_clock(self, clock: Clock) -> Self {
        Self::from_database(self.inner.db.clone(), clock)
    }

    /// Creates the schema, tables and functions, or brings them up to this version's
    /// migration: idempotent, and safe when several processes start at once (one
    /// transaction under an advisory lock). Fails with
    /// [`Corrupt`](tower_session_refresh::store::StoreErrorKind::Corrupt) if the schema was
    /// migrated by a newer version.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.inner.db.migrate().await
    }

    /// A key store in the same schema, sharing this store's pool.
    pub fn key_store(&self) -> PostgresKeyStore {
        PostgresKeyStore::from_database(self.inner.db.clone())
    }

    /// The configuration this store runs with.
    pub fn config(&self) -> &PostgresConfig {
        &self.inner.db.config
    }

    /// Deletes expired sessions, at most [`sweep_batch`](PostgresConfig::sweep_batch) per
    /// statement, until a batch comes back short; returns how many it deleted. Rows locked
    /// by a refresh in progress are skipped (the next sweep takes them).
    pub async fn sweep_expired(&self) -> Result<u64, StoreError> {
        let batch = i64::from(self.inner.db.config.sweep_batch);
        let mut total = 0;
        loop {
            let now = millis(self.now());
            let deleted = self
                .inner
                .db
                .run(async {
                    let client = self.inner.db.client().await?;
                    let statement = client
                        .prepare_cached(&self.inner.sql.sweep)
                        .await
                        .map_err(pg_error)?;
                    client
                        .execute(&statement, &[&now, &batch])
                        .await
                        .map_err(pg_error)
                })
                .await?;
            total += deleted;
            if deleted < batch.unsigned_abs() {
                return Ok(total);
            }
            // Let refreshes in between batches.
            tokio::task::yield_now().await;
        }
    }

    /// Runs [`sweep_expired`](Self::sweep_expired) every `period` on the current Tokio
    /// runtime until the handle is aborted (or the runtime stops); failures are logged and
    /// retried at the next tick.
    pub fn spawn_sweeper(&self, period: Duration) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match store.sweep_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(deleted = n, "swept expired sessions"),
                    Err(e) => tracing::warn!(error = %e, "sweeping expired sessions failed"),
                }
            }
        })
    }

    fn now(&self) -> SystemTime {
        (self.inner.clock)()
    }

    /// Runs one prepared statement under the response timeout.
    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        self.inner
            .db
            .run(async {
                let client = self.inner.db.client().await?;
                let statement = client.prepare_cached(sql).await.map_err(pg_error)?;
                client.query(&statement, params).await.map_err(pg_error)
            })
            .await
    }

    async fn do_create(&self, session: NewSession) -> Result<(), StoreError> {
        let payload = session.payload.as_ref().map(encode_payload).transpose()?;
        let data = if session.session_data.is_empty() {
            None
        } else {
            Some(encode_payload(&session.session_data)?)
        };
        self.query(
            &self.inner.sql.create,
            &[
                &session.handle,
                &session.user_id,
                &session.tenant_id,
                &payload,
                &session.family_hash,
                &session.refresh_hash,
                &millis(session.expires_at),
                &millis(self.now()),
                &data,
            ],
        )
        .await?;
        Ok(())
    }

    async fn do_get(&self, handle: &str) -> Result<Option<SessionInfo>, StoreError> {
        let rows = self
            .query(&self.inner.sql.get, &[&handle, &millis(self.now())])
            .await?;
        rows.first().map(parse_info).transpose()
    }

    async fn do_rotate(
        &self,
        handle: &str,
        presented: Presented<'_>,
        new_child: &str,
        expires_at: SystemTime,
    ) -> Result<RotateOutcome, StoreError> {
        // A generation past i64::MAX is past any head's: the same answer as i64::MAX.
        let generation = i64::try_from(presented.generation).unwrap_or(i64::MAX);
        let max_children = i32::try_from(MAX_CHILDREN).unwrap_or(i32::MAX);
        let rows = self
            .query(
                &self.inner.sql.rotate,
                &[
                    &handle,
                    &presented.hash,
                    &generation,
                    &presented.family_hash,
                    &new_child,
                    &millis(expires_at),
                    &millis(self.now()),
                    &max_children,
                ],
            )
            .await?;
        let row = rows
            .first()
            .ok_or_else(|| corrupt("rotate returned no row"))?;
        let code: i32 = row.try_get(0).map_err(pg_error)?;
        let user: Option<String> = row.try_get(1).map_err(pg_error)?;
        match code {
            0 | 1 => Ok(RotateOutcome::Unauthorised),
            2 => Ok(RotateOutcome::Theft {
                user_id: user.ok_or_else(|| corrupt("theft without a user"))?,
            }),
            3 => {
                let tenant: Option<String> = row.try_get(2).map_err(pg_error)?;
                let payload: Option<String> = row.try_get(3).map_err(pg_error)?;
                let created: Option<i64> = row.try_get(4).map_err(pg_error)?;
                let data: Option<String> = row.try_get(5).map_err(pg_error)?;
                Ok(RotateOutcome::Rotated {
                    session: SessionInfo {
                        handle: handle.to_owned(),
                        user_id: user.ok_or_else(|| corrupt("rotated without a user"))?,
                        tenant_id: tenant.ok_or_else(|| corrupt("rotated without a tenant"))?,
                        payload: payload.as_deref().map(decode_payload).transpose()?,
                        expires_at,
                        time_created: from_millis(created.unwrap_or(0)),
                        session_data: decode_data(data.as_deref())?,
                    },
                    parent_hash: presented.hash.to_owned(),
                })
            }
            _ => Err(corrupt("unexpected rotate result")),
        }
    }

    async fn do_promote(
        &self,
        handle: &str,
        parent: &str,
        child: &str,
    ) -> Result<PromoteOutcome, StoreError> {
        let rows = self
            .query(
                &self.inner.sql.promote,
                &[&handle, &parent, &child, &millis(self.now())],
            )
            .await?;
        let row = rows
            .first()
            .ok_or_else(|| corrupt("promote returned no row"))?;
        match row.try_get::<_, i32>(0).map_err(pg_error)? {
            0 => Ok(PromoteOutcome::Unauthorised),
            1 => Ok(PromoteOutcome::Promoted),
            2 => Ok(PromoteOutcome::AlreadyPromoted),
            3 => Ok(PromoteOutcome::Deferred),
            4 => Ok(PromoteOutcome::Stale),
            _ => Err(corrupt("unexpected promote result")),
        }
    }

    async fn do_revoke(&self, handle: &str) -> Result<bool, StoreError> {
        let rows = self
            .query(&self.inner.sql.revoke, &[&handle, &millis(self.now())])
            .await?;
        // Deleted either way; only a live session counts as revoked.
        match rows.first() {
            Some(row) => row.try_get::<_, bool>(0).map_err(pg_error),
            None => Ok(false),
        }
    }

    async fn do_revoke_all(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let rows = self
            .query(&self.inner.sql.revoke_all, &[&user_id, &millis(self.now())])
            .await?;
        let mut revoked = Vec::with_capacity(rows.len());
        for row in &rows {
            if row.try_get::<_, bool>(1).map_err(pg_error)? {
                revoked.push(row.try_get::<_, String>(0).map_err(pg_error)?);
            }
        }
        revoked.sort();
        Ok(revoked)
    }

    async fn do_list(&self, user_id: &str) -> Result<Vec<SessionInfo>, StoreError> {
        let rows = self
            .query(&self.inner.sql.list, &[&user_id, &millis(self.now())])
            .await?;
        rows.iter().map(parse_info).collect()
    }

    /// Runs one of the two update statements (payload, session data) on a live session:
    /// `$1` handle, `$2` the JSON object, `$3` now (ms).
    async fn update_json(
        &self,
        sql: &str,
        handle: &str,
        value: Map<String, Json>,
    ) -> Result<bool, StoreError> {
        let value = encode_payload(&value)?;
        let updated = self
            .inner
            .db
            .run(async {
                let client = self.inner.db.client().await?;
                let statement = client.prepare_cached(sql).await.map_err(pg_error)?;
                client
                    .execute(&statement, &[&handle, &value, &millis(self.now())])
                    .await
                    .map_err(pg_error)
            })
            .await?;
        Ok(updated == 1)
    }
}

impl SessionStore for PostgresStore {
    /// The signing keys in the same database and schema ([`PostgresStore::key_store`]):
    /// where `SharedSession` keeps its keys when given this store.
    fn key_store(&self) -> Option<Arc<dyn tower_session_refresh::keystore::KeyStore>> {
        Some(Arc::new(PostgresStore::key_store(self)))
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
        Box::pin(self.update_json(&self.inner.sql.update_payload, handle, payload))
    }

    fn update_session_data<'a>(
        &'a self,
        handle: &'a str,
        data: Map<String, Json>,
    ) -> StoreFuture<'a, bool> {
        Box::pin(self.update_json(&self.inner.sql.update_session_data, handle, data))
    }
}

fn from_millis(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs())
}

/// Session data from its column (`NULL`: empty).
fn decode_data(raw: Option<&str>) -> Result<Map<String, Json>, StoreError> {
    raw.map(decode_payload)
        .transpose()
        .map(Option::unwrap_or_default)
}

/// Ms since the Unix epoch, as PostgreSQL's `bigint` (saturating).
fn millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn encode_payload(payload: &Map<String, Json>) -> Result<String, StoreError> {
    serde_json::to_string(payload).map_err(corrupt)
}

fn decode_payload(raw: &str) -> Result<Map<String, Json>, StoreError> {
    serde_json::from_str(raw).map_err(corrupt)
}

/// A [`SessionInfo`] from a row of [`INFO_COLUMNS`].
fn parse_info(row: &Row) -> Result<SessionInfo, StoreError> {
    let payload: Option<String> = row.try_get(3).map_err(pg_error)?;
    let expires: i64 = row.try_get(4).map_err(pg_error)?;
    Ok(SessionInfo {
        handle: row.try_get(0).map_err(pg_error)?,
        user_id: row.try_get(1).map_err(pg_error)?,
        tenant_id: row.try_get(2).map_err(pg_error)?,
        payload: payload.as_deref().map(decode_payload).transpose()?,
        expires_at: UNIX_EPOCH + Duration::from_millis(expires.unsigned_abs()),
        time_created: from_millis(row.try_get(5).map_err(pg_error)?),
        session_data: decode_data(
            row.try_get::<_, Option<String>>(6)
                .map_err(pg_error)?
                .as_deref(),
        )?,
    })
}
