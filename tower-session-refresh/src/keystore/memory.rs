//! [`MemoryKeyStore`]: the key set in this process's memory.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use super::{KeyStore, KeyStoreFuture, StoredKeySet};

/// A [`KeyStore`] in memory, for one auth process (keys are lost on restart, so tokens
/// issued before a restart stop verifying; use the Redis store for that). Clones share the
/// same set.
#[derive(Clone, Default)]
pub struct MemoryKeyStore {
    set: Arc<Mutex<Option<StoredKeySet>>>,
}

impl fmt::Debug for MemoryKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guard = self.set.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("MemoryKeyStore")
            .field("version", &guard.as_ref().map(|s| s.version))
            .finish_non_exhaustive()
    }
}

impl MemoryKeyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl KeyStore for MemoryKeyStore {
    fn load(&self) -> KeyStoreFuture<'_, Option<StoredKeySet>> {
        let set = self
            .set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Box::pin(std::future::ready(Ok(set)))
    }

    fn put_if_version<'a>(
        &'a self,
        expected: Option<u64>,
        new: &'a StoredKeySet,
    ) -> KeyStoreFuture<'a, bool> {
        let mut guard = self.set.lock().unwrap_or_else(PoisonError::into_inner);
        let written = if guard.as_ref().map(|s| s.version) == expected {
            *guard = Some(new.clone());
            true
        } else {
            false
        };
        Box::pin(std::future::ready(Ok(written)))
    }
}
