//! A bounded cache of verified tokens: sharded, direct-mapped, keyed by a keyed hash of the
//! token's tail (its signature), confirmed by comparing the whole token.

use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use std::collections::hash_map::RandomState;

use super::AccessTokenClaims;

const SHARDS: usize = 16;
/// Bytes of the token's end fed to the hash: inside the signature, unpredictable without the key.
const TAIL: usize = 32;

struct Entry {
    token: Box<str>,
    claims: Arc<AccessTokenClaims>,
    /// `exp + leeway`, since the epoch: the entry is dead after this.
    deadline: Duration,
    generation: u64,
}

pub(super) enum Lookup {
    Hit(Arc<AccessTokenClaims>),
    Expired,
    Miss,
}

pub(super) struct TokenCache {
    hasher: RandomState,
    slots_per_shard: usize,
    shards: Box<[Mutex<Vec<Option<Entry>>>]>,
}

/// Constant-time equality of two equal-length byte strings (no early exit on content).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut acc = 0u64;
    let (ac, ar) = (a.chunks_exact(8), a.chunks_exact(8).remainder());
    let bc = b.chunks_exact(8);
    let br = bc.remainder();
    for (x, y) in ac.zip(bc) {
        let mut xb = [0u8; 8];
        let mut yb = [0u8; 8];
        xb.copy_from_slice(x);
        yb.copy_from_slice(y);
        acc |= u64::from_ne_bytes(xb) ^ u64::from_ne_bytes(yb);
    }
    for (x, y) in ar.iter().zip(br) {
        acc |= u64::from(x ^ y);
    }
    subtle::ConstantTimeEq::ct_eq(&acc, &0).into()
}

impl TokenCache {
    pub(super) fn new(capacity: usize) -> Self {
        let slots_per_shard = capacity.div_ceil(SHARDS).max(1);
        let shards = (0..SHARDS)
            .map(|_| Mutex::new((0..slots_per_shard).map(|_| None).collect()))
            .collect();
        Self {
            hasher: RandomState::new(),
            slots_per_shard,
            shards,
        }
    }

    fn index(&self, token: &str) -> (usize, usize) {
        let bytes = token.as_bytes();
        let mut h = self.hasher.build_hasher();
        h.write(&bytes[bytes.len().saturating_sub(TAIL)..]);
        h.write_usize(bytes.len());
        let h = h.finish();
        #[allow(clippy::cast_possible_truncation)]
        let h = h as usize;
        (h % SHARDS, (h / SHARDS) % self.slots_per_shard)
    }

    pub(super) fn get(&self, token: &str, now: Duration, generation: u64) -> Lookup {
        let (shard, slot) = self.index(token);
        let mut guard = self.shards[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = guard.get_mut(slot) else {
            return Lookup::Miss;
        };
        let Some(e) = entry.as_ref() else {
            return Lookup::Miss;
        };
        if !ct_eq(e.token.as_bytes(), token.as_bytes()) {
            return Lookup::Miss;
        }
        if e.generation != generation {
            *entry = None;
            return Lookup::Miss;
        }
        if now > e.deadline {
            *entry = None;
            return Lookup::Expired;
        }
        Lookup::Hit(Arc::clone(&e.claims))
    }

    pub(super) fn insert(
        &self,
        token: &str,
        claims: &Arc<AccessTokenClaims>,
        deadline: Duration,
        generation: u64,
    ) {
        let (shard, slot) = self.index(token);
        let mut guard = self.shards[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = guard.get_mut(slot) {
            *entry = Some(Entry {
                token: token.into(),
                claims: Arc::clone(claims),
                deadline,
                generation,
            });
        }
    }

    pub(super) fn capacity(&self) -> usize {
        self.slots_per_shard * SHARDS
    }
}
