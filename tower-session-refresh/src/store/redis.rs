//! `RedisStore`: placeholder until the Redis store lands (issue 5).

/// Configuration of [`RedisStore`].
#[derive(Debug, Clone, Default)]
pub struct RedisStoreConfig {}

/// Sessions kept in Redis.
#[derive(Debug, Clone)]
pub struct RedisStore {}
