//! [`PostgresKeyStore`]: the managed key set in one PostgreSQL row.

use std::sync::Arc;

use tower_session_refresh::keystore::{KeyStore, KeyStoreFuture, StoredKeySet};
use tower_session_refresh::store::StoreError;

use crate::db::{corrupt, pg_error, Database, PostgresConfig};

/// A [`KeyStore`] in PostgreSQL: the one row of table `tsr_key_set` in the configured
/// schema (columns `version` and `key_set`, the JSON of [`StoredKeySet::to_json`],
/// **private keys included**: whoever can read that table, its replicas and its backups
/// can sign access tokens; grant it to the auth processes only). Writes are one statement
/// each (`INSERT … ON CONFLICT DO NOTHING` for the first set, `UPDATE … WHERE version = $`
/// afterwards), so concurrent processes never create or rotate twice.
///
/// The table is created by [`PostgresStore::migrate`](crate::PostgresStore::migrate) or
/// [`PostgresKeyStore::migrate`] (the same migrations). Connects lazily; while PostgreSQL is
/// down, operations fail (and
/// [`ManagedKeys`](tower_session_refresh::keystore::ManagedKeys) retries) until it is back.
/// Clone is cheap.
#[derive(Clone, Debug)]
pub struct PostgresKeyStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Arc<Database>,
    load: String,
    insert: String,
    update: String,
}

impl PostgresKeyStore {
    /// A key store for the database at `url` with its own pool, connecting on first use.
    /// Fails only for an invalid URL or configuration. See also
    /// [`PostgresStore::key_store`](crate::PostgresStore::key_store), which shares the
    /// session store's pool.
    pub fn new(url: &str, config: PostgresConfig) -> Result<Self, StoreError> {
        Ok(Self::from_database(Arc::new(Database::open(url, config)?)))
    }

    pub(crate) fn from_database(db: Arc<Database>) -> Self {
        Self {
            inner: Arc::new(Inner {
                load: db.sql("SELECT version, key_set FROM __SCHEMA__.tsr_key_set WHERE id = 1"),
                insert: db.sql(
                    "INSERT INTO __SCHEMA__.tsr_key_set (id, version, key_set) VALUES (1, $1, $2)
                     ON CONFLICT (id) DO NOTHING",
                ),
                update: db.sql(
                    "UPDATE __SCHEMA__.tsr_key_set SET version = $1, key_set = $2
                     WHERE id = 1 AND version = $3",
                ),
                db,
            }),
        }
    }

    /// Runs the migrations (the same as [`PostgresStore::migrate`](crate::PostgresStore::migrate)).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.inner.db.migrate().await
    }

    async fn load_inner(&self) -> Result<Option<StoredKeySet>, StoreError> {
        let db = &self.inner.db;
        let rows = db
            .run(async {
                let client = db.client().await?;
                let statement = client
                    .prepare_cached(&self.inner.load)
                    .await
                    .map_err(pg_error)?;
                client.query(&statement, &[]).await.map_err(pg_error)
            })
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let version: i64 = row.try_get(0).map_err(pg_error)?;
        let json: String = row.try_get(1).map_err(pg_error)?;
        let mut set = StoredKeySet::from_json(&json)?;
        set.version = u64::try_from(version).map_err(|_| corrupt("negative key set version"))?;
        Ok(Some(set))
    }

    async fn put_inner(
        &self,
        expected: Option<u64>,
        new: &StoredKeySet,
    ) -> Result<bool, StoreError> {
        let db = &self.inner.db;
        let version =
            i64::try_from(new.version).map_err(|_| corrupt("key set version too large"))?;
        let json = new.to_json();
        let written = db
            .run(async {
                let client = db.client().await?;
                match expected {
                    None => {
                        let statement = client
                            .prepare_cached(&self.inner.insert)
                            .await
                            .map_err(pg_error)?;
                        client.execute(&statement, &[&version, &json]).await
                    }
                    Some(expected) => {
                        // A stored version can never be past i64::MAX: nothing matches.
                        let Ok(expected) = i64::try_from(expected) else {
                            return Ok(0);
                        };
                        let statement = client
                            .prepare_cached(&self.inner.update)
                            .await
                            .map_err(pg_error)?;
                        client
                            .execute(&statement, &[&version, &json, &expected])
                            .await
                    }
                }
                .map_err(pg_error)
            })
            .await?;
        Ok(written == 1)
    }
}

impl KeyStore for PostgresKeyStore {
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
