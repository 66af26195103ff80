//! A bounded cache of verified tokens: sharded, direct-mapped, keyed by a seeded hash of the
//! token's tail (its signature), confirmed by comparing the whole token in constant time.
//!
//! Only verified tokens are inserted, and their signature bytes cannot be chosen without the
//! signing key, so the slot hash needs no cryptographic strength: a seeded multiply-xor of
//! the last 16 bytes spreads them (SipHash over the tail cost ten times as much per lookup).

use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use std::collections::hash_map::RandomState;

use super::AccessTokenClaims;

const SHARDS: usize = 16;
/// Bytes of the token's end fed to the hash: inside the signature, unpredictable without the key.
const TAIL: usize = 16;

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
    /// Random per cache, so slot placement differs between processes.
    seed: [u64; 2],
    slots_per_shard: usize,
    shards: Box<[Mutex<Vec<Option<Entry>>>]>,
}

/// Constant-time equality of two byte strings of the same length (no early exit on
/// content): a branch-free OR of XORs, which the compiler vectorises.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    subtle::ConstantTimeEq::ct_eq(&diff, &0).into()
}

impl TokenCache {
    pub(super) fn new(capacity: usize) -> Self {
        let slots_per_shard = capacity.div_ceil(SHARDS).max(1);
        let shards = (0..SHARDS)
            .map(|_| Mutex::new((0..slots_per_shard).map(|_| None).collect()))
            .collect();
        let random = || RandomState::new().hash_one(0u8);
        Self {
            seed: [random(), random() | 1],
            slots_per_shard,
            shards,
        }
    }

    fn index(&self, token: &str) -> (usize, usize) {
        let bytes = token.as_bytes();
        let tail = &bytes[bytes.len().saturating_sub(TAIL)..];
        let mut words = [0u8; TAIL];
        words[..tail.len()].copy_from_slice(tail);
        let (lo, hi) = words.split_at(8);
        let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or_default());
        let h = (word(lo) ^ self.seed[0])
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29)
            ^ (word(hi) ^ (bytes.len() as u64)).wrapping_mul(self.seed[1]);
        let h = h ^ (h >> 32);
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
