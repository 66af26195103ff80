//! A bounded cache of verified tokens: set-associative (16 ways per set, one lock per set),
//! placed by a seeded hash of the token's tail (its signature), confirmed by comparing the
//! whole token in constant time.
//!
//! Only verified tokens are inserted, and their signature bytes cannot be chosen without the
//! signing key, so the placement hash needs no cryptographic strength: a seeded multiply-xor
//! of the last 16 bytes spreads them. What makes a hit safe is the whole-token comparison, not
//! the hash: a token that differs from the cached one in any byte misses and is verified.
//!
//! A set holds 16 entries, so tokens that share a set do not evict each other until the set
//! is full (a direct-mapped cache loses a token whenever two share a slot). When a set is
//! full, the victim is, in order: an entry whose token has expired or whose key generation is
//! stale, else one not hit since the set last evicted (scanning from a position taken from
//! the new token's hash), else that position. Hits only set a bit; nothing moves.

use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use std::collections::hash_map::RandomState;

use super::AccessTokenClaims;

/// Entries per set.
const WAYS: usize = 16;
/// Bytes of the token's end fed to the hash: inside the signature, unpredictable without the key.
const TAIL: usize = 16;

struct Entry {
    token: Box<str>,
    claims: Arc<AccessTokenClaims>,
    /// `exp + leeway` in nanoseconds since the epoch: the entry is dead after this.
    deadline: u64,
    generation: u64,
}

impl Entry {
    fn is_dead(&self, now: u64, generation: u64) -> bool {
        now > self.deadline || self.generation != generation
    }
}

#[derive(Default)]
struct Set {
    /// Low 32 bits of each entry's hash, checked before its token is compared.
    tags: [u32; WAYS],
    /// Bit `i`: way `i` was hit since this set last evicted an entry.
    recent: u16,
    ways: [Option<Entry>; WAYS],
}

pub(super) enum Lookup {
    Hit(Arc<AccessTokenClaims>),
    Expired,
    Miss,
}

pub(super) struct TokenCache {
    /// Random per cache, so placement differs between processes.
    seed: [u64; 2],
    sets: Box<[Mutex<Set>]>,
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

/// Nanoseconds since the epoch, saturating (year 2554).
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl TokenCache {
    /// A cache of at least `capacity` entries (rounded up to whole sets).
    pub(super) fn new(capacity: usize) -> Self {
        let sets = capacity.div_ceil(WAYS).max(1);
        let random = || RandomState::new().hash_one(0u8);
        Self {
            seed: [random(), random() | 1],
            sets: (0..sets).map(|_| Mutex::new(Set::default())).collect(),
        }
    }

    fn hash(&self, token: &str) -> u64 {
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
        h ^ (h >> 32)
    }

    /// The set for hash `h` (multiply-high: uniform over any number of sets), and its tag.
    fn locate(&self, h: u64) -> (&Mutex<Set>, u32) {
        #[allow(clippy::cast_possible_truncation)]
        let index = ((u128::from(h) * self.sets.len() as u128) >> 64) as usize;
        #[allow(clippy::cast_possible_truncation)]
        let tag = h as u32;
        (&self.sets[index], tag)
    }

    pub(super) fn get(&self, token: &str, now: Duration, generation: u64) -> Lookup {
        let (set, tag) = self.locate(self.hash(token));
        let mut set = set.lock().unwrap_or_else(PoisonError::into_inner);
        let set = &mut *set;
        for way in 0..WAYS {
            if set.tags[way] != tag {
                continue;
            }
            let Some(e) = &set.ways[way] else {
                continue;
            };
            if !ct_eq(e.token.as_bytes(), token.as_bytes()) {
                continue;
            }
            if e.generation != generation {
                set.ways[way] = None;
                return Lookup::Miss;
            }
            if nanos(now) > e.deadline {
                set.ways[way] = None;
                return Lookup::Expired;
            }
            set.recent |= 1 << way;
            return Lookup::Hit(Arc::clone(&e.claims));
        }
        Lookup::Miss
    }

    pub(super) fn insert(
        &self,
        token: &str,
        claims: &Arc<AccessTokenClaims>,
        deadline: Duration,
        now: Duration,
        generation: u64,
    ) {
        let h = self.hash(token);
        let (set, tag) = self.locate(h);
        let now = nanos(now);
        let entry = Entry {
            token: token.into(),
            claims: Arc::clone(claims),
            deadline: nanos(deadline),
            generation,
        };
        // The evicted entry is dropped after the lock is released.
        let evicted;
        {
            let mut set = set.lock().unwrap_or_else(PoisonError::into_inner);
            let set = &mut *set;
            #[allow(clippy::cast_possible_truncation)]
            let start = (h >> 60) as usize % WAYS;
            let way = Self::victim(set, tag, token, start, now, generation);
            set.tags[way] = tag;
            set.recent &= !(1 << way);
            evicted = set.ways[way].replace(entry);
        }
        drop(evicted);
    }

    /// The way a new entry goes to: the same token's (another thread verified it too), an
    /// empty or dead one, one not hit since the last eviction, else `start`.
    fn victim(set: &mut Set, tag: u32, token: &str, start: usize, now: u64, gen: u64) -> usize {
        let mut free = None;
        for way in 0..WAYS {
            match &set.ways[way] {
                None => free = free.or(Some(way)),
                Some(e) => {
                    if set.tags[way] == tag && ct_eq(e.token.as_bytes(), token.as_bytes()) {
                        return way;
                    }
                    if free.is_none() && e.is_dead(now, gen) {
                        free = Some(way);
                    }
                }
            }
        }
        if let Some(way) = free {
            return way;
        }
        for i in 0..WAYS {
            let way = (start + i) % WAYS;
            if set.recent & (1 << way) == 0 {
                return way;
            }
        }
        // Every entry was hit since the last eviction: start a new round.
        set.recent = 0;
        start
    }

    pub(super) fn capacity(&self) -> usize {
        self.sets.len() * WAYS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sub: &str) -> Arc<AccessTokenClaims> {
        Arc::new(AccessTokenClaims::new(sub, "h", "r", 0, 100))
    }

    const NOW: Duration = Duration::from_secs(50);
    const EXP: Duration = Duration::from_secs(100);

    fn hit(cache: &TokenCache, token: &str, generation: u64) -> Option<String> {
        match cache.get(token, NOW, generation) {
            Lookup::Hit(c) => Some(c.sub.clone()),
            _ => None,
        }
    }

    #[test]
    fn an_entry_takes_at_most_48_bytes_up_front() {
        // 40 bytes of entry, 4 of tag, the set's lock and bits shared by 16 entries.
        assert!(std::mem::size_of::<Mutex<Set>>() <= 48 * WAYS);
    }

    #[test]
    fn capacity_is_rounded_up_to_whole_sets() {
        assert_eq!(TokenCache::new(1).capacity(), WAYS);
        assert_eq!(TokenCache::new(4096).capacity(), 4096);
        assert_eq!(TokenCache::new(4097).capacity(), 4096 + WAYS);
    }

    #[test]
    fn a_full_set_evicts_one_entry_and_keeps_the_rest() {
        // One set: every token lands in it.
        let cache = TokenCache::new(WAYS);
        let tokens: Vec<String> = (0..WAYS + 1).map(|i| format!("tok-{i:04}")).collect();
        for t in &tokens[..WAYS] {
            cache.insert(t, &claims(t), EXP, NOW, 1);
        }
        for t in &tokens[..WAYS] {
            assert_eq!(hit(&cache, t, 1).as_deref(), Some(t.as_str()));
        }
        cache.insert(&tokens[WAYS], &claims(&tokens[WAYS]), EXP, NOW, 1);
        let kept = tokens
            .iter()
            .filter(|t| hit(&cache, t, 1).is_some())
            .count();
        assert_eq!(kept, WAYS, "one entry made room, the others stayed");
        assert!(hit(&cache, &tokens[WAYS], 1).is_some());
    }

    #[test]
    fn dead_entries_are_evicted_first() {
        let cache = TokenCache::new(WAYS);
        let tokens: Vec<String> = (0..WAYS).map(|i| format!("tok-{i:04}")).collect();
        for (i, t) in tokens.iter().enumerate() {
            // token 3 expires before NOW
            let deadline = if i == 3 { Duration::from_secs(10) } else { EXP };
            cache.insert(t, &claims(t), deadline, Duration::ZERO, 1);
        }
        // every live entry was hit recently; the dead one is still the victim
        for t in &tokens {
            let _ = hit(&cache, t, 1);
        }
        cache.insert("newcomer", &claims("newcomer"), EXP, NOW, 1);
        for (i, t) in tokens.iter().enumerate() {
            assert_eq!(hit(&cache, t, 1).is_some(), i != 3, "token {i}");
        }
        assert!(hit(&cache, "newcomer", 1).is_some());
    }

    #[test]
    fn entries_die_at_their_deadline_and_with_their_generation() {
        let cache = TokenCache::new(64);
        cache.insert("a", &claims("a"), EXP, NOW, 7);
        assert!(matches!(cache.get("a", EXP, 7), Lookup::Hit(_)));
        assert!(matches!(
            cache.get("a", EXP + Duration::from_nanos(1), 7),
            Lookup::Expired
        ));
        assert!(matches!(cache.get("a", NOW, 7), Lookup::Miss), "removed");
        cache.insert("b", &claims("b"), EXP, NOW, 7);
        assert!(matches!(cache.get("b", NOW, 8), Lookup::Miss));
        assert!(matches!(cache.get("b", NOW, 7), Lookup::Miss), "removed");
    }

    #[test]
    fn reinserting_a_token_replaces_its_entry() {
        let cache = TokenCache::new(WAYS);
        for i in 0..WAYS - 1 {
            let t = format!("tok-{i:04}");
            cache.insert(&t, &claims(&t), EXP, NOW, 1);
        }
        cache.insert("same", &claims("first"), EXP, NOW, 1);
        cache.insert("same", &claims("second"), EXP, NOW, 1);
        assert_eq!(hit(&cache, "same", 1).as_deref(), Some("second"));
        let kept = (0..WAYS - 1)
            .filter(|i| hit(&cache, &format!("tok-{i:04}"), 1).is_some())
            .count();
        assert_eq!(
            kept,
            WAYS - 1,
            "the second insert took no other entry's place"
        );
    }
}
